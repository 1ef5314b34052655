// Talking hands-free: a voice session on a conversation over the graphql-transport-ws socket the
// app holds (startVoiceSession, sendVoiceChunk with seq 0, 1, 2... about every 100 ms, each
// saying which reply is playing and how much of it was heard, endVoiceSession). The server
// decides when a turn ends and when speech over a playing reply interrupts it; what it heard
// arrives as conversationEvents (VoiceEvents.Parse). Echo: the server does not cancel it; use
// the device's AEC (Android VOICE_COMMUNICATION, iOS voiceChat, the hologram's DSP), or the
// companion would interrupt itself from its own speaker.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace HoloMate.Core
{
    /// <summary>The reply being played as a chunk is recorded (barge-in at the heard position).</summary>
    public struct VoicePlayback
    {
        public string MessageId;
        public int HeardUntilMs;
    }

    public sealed class VoiceSessionException : Exception
    {
        public VoiceSessionException(string message) : base(message) { }
    }

    public sealed class VoiceSession
    {
        public const string StartMutation =
            "mutation($c: ID!) { startVoiceSession(conversationId: $c) { id sampleRate maxChunkMs endSilenceMs bargeInMs } }";
        public const string ChunkMutation =
            "mutation($s: ID!, $q: Int!, $a: String!, $p: VoicePlaybackInput) "
            + "{ sendVoiceChunk(sessionId: $s, seq: $q, audio: $a, playing: $p) { seq receivedMs } }";
        public const string EndMutation = "mutation($s: ID!) { endVoiceSession(sessionId: $s) { id } }";

        readonly GraphQLWsClient _ws;
        int _seq;
        bool _closed;

        public string Id { get; private set; }
        public int SampleRate { get; private set; }
        public int MaxChunkMs { get; private set; }
        /// <summary>Chunks sent so far (the next seq).</summary>
        public int Sent { get { return _seq; } }
        /// <summary>A chunk was refused (code: message); the session is over for this client.</summary>
        public event Action<string> Failed;

        VoiceSession(GraphQLWsClient ws) { _ws = ws; }

        public static async Task<VoiceSession> StartAsync(GraphQLWsClient ws, string conversationId)
        {
            var answer = await ws.ExecuteAsync(StartMutation, Json.O("c", conversationId));
            string error = GraphQLWsClient.Errors(answer);
            if (error != null) throw new VoiceSessionException(error);
            var started = Json.Obj(Json.Obj(answer, "data"), "startVoiceSession");
            return new VoiceSession(ws)
            {
                Id = Json.Str(started, "id"),
                SampleRate = Json.Int(started, "sampleRate", VoiceChunker.TargetRate),
                MaxChunkMs = Json.Int(started, "maxChunkMs", 500),
            };
        }

        /// <summary>
        /// Sends one chunk (base64 PCM16 from VoiceChunker) without waiting for its answer: chunks
        /// pipeline on the socket in order. A refusal raises Failed and stops further chunks.
        /// </summary>
        public Task<Dictionary<string, object>> SendChunk(string audio, VoicePlayback? playing)
        {
            if (_closed) return Task.FromResult<Dictionary<string, object>>(null);
            var variables = Json.O("s", Id, "q", _seq++, "a", audio);
            if (playing.HasValue)
                variables["p"] = Json.O("messageId", playing.Value.MessageId, "heardUntilMs", playing.Value.HeardUntilMs);
            Task<Dictionary<string, object>> sent = _ws.ExecuteAsync(ChunkMutation, variables);
            sent.ContinueWith(t =>
            {
                string error = t.IsFaulted ? t.Exception.GetBaseException().Message : GraphQLWsClient.Errors(t.Result);
                if (error == null || _closed) return;
                _closed = true;
                var handler = Failed;
                if (handler != null) handler(error);
            }, Callbacks());
            return sent;
        }

        /// <summary>Failed is raised on the caller's context (Unity's main thread) when it has one.</summary>
        static TaskScheduler Callbacks()
        {
            return SynchronizationContext.Current != null ? TaskScheduler.FromCurrentSynchronizationContext() : TaskScheduler.Default;
        }

        /// <summary>Ends the session: a turn under way is still transcribed and answered.</summary>
        public async Task EndAsync()
        {
            _closed = true;
            var answer = await _ws.ExecuteAsync(EndMutation, Json.O("s", Id));
            string error = GraphQLWsClient.Errors(answer);
            if (error != null && !error.StartsWith("NOT_FOUND", StringComparison.Ordinal)) throw new VoiceSessionException(error);
        }
    }

    /// <summary>What the server heard, from a conversationEvents payload.</summary>
    public sealed class VoiceEvent
    {
        public string Type;       // VoiceSpeechStarted, VoicePartialTranscript, VoiceTurnEnded, VoiceFinalTranscript, VoiceSessionClosed
        public string SessionId;
        public string MessageId;  // the person's message (VoiceFinalTranscript with outcome MESSAGE)
        public string Text;       // partial or final transcript
        public string Outcome;    // MESSAGE, NO_SPEECH, BACKCHANNEL, REFUSED, STT_FAILED
        public string Reason;     // VoiceSessionClosed: ENDED, IDLE, QUOTA_EXCEEDED, SERVER_STOPPING
        public string Detail;
        public int AtMs;          // speech start, partial's throughMs, or the turn's endMs
    }

    public static class VoiceEvents
    {
        /// <summary>The fragments to put in a conversationEvents selection.</summary>
        public const string Selection =
            "... on VoiceSpeechStarted { sessionId atMs } "
            + "... on VoicePartialTranscript { sessionId text throughMs } "
            + "... on VoiceTurnEnded { sessionId endMs } "
            + "... on VoiceFinalTranscript { sessionId text outcome detail } "
            + "... on VoiceSessionClosed { sessionId reason detail }";

        /// <summary>The voice event in a conversationEvents payload (null for any other event).</summary>
        public static VoiceEvent Parse(Dictionary<string, object> payload)
        {
            var e = Json.Obj(Json.Obj(payload, "data"), "conversationEvents");
            string type = Json.Str(e, "__typename");
            if (type == null || !type.StartsWith("Voice", StringComparison.Ordinal)) return null;
            var v = new VoiceEvent
            {
                Type = type,
                SessionId = Json.Str(e, "sessionId"),
                MessageId = Json.Str(e, "messageId"),
                Text = Json.Str(e, "text", ""),
                Outcome = Json.Str(e, "outcome"),
                Reason = Json.Str(e, "reason"),
                Detail = Json.Str(e, "detail", ""),
            };
            if (type == "VoiceSpeechStarted") v.AtMs = Json.Int(e, "atMs");
            else if (type == "VoicePartialTranscript") v.AtMs = Json.Int(e, "throughMs");
            else if (type == "VoiceTurnEnded") v.AtMs = Json.Int(e, "endMs");
            return v;
        }
    }
}
