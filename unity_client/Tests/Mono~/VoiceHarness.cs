// Talks to a live server hands-free, as the hologram's microphone would: reads a WAV (PCM16 or
// float32, any rate and channel count), turns it into 16 kHz chunks with VoiceChunker and streams
// them in real time through a VoiceSession on the same graphql-transport-ws socket that follows
// the conversation's events. Waits for the final transcript, the message it became and the whole
// reply; with --barge-in it then says the WAV again over the next reply while "playing" it (the
// heard position on the wall clock from its first audio chunk) and waits for ReplyInterrupted.
// Output lines (stdout): EVENT <__typename> ..., RESULT {json} last; exit 0 when ok, 1 otherwise.
using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using HoloMate.Core;

namespace HoloMate.Tests
{
    public static class VoiceHarness
    {
        const string Usage = "usage: VoiceHarness.exe --url http://host:port/graphql --token ACCESS_TOKEN "
            + "--conversation ID --wav speech.wav [--after CURSOR] [--timeout SECONDS] [--barge-in]";

        public static int Main(string[] args)
        {
            int code = Run(args).GetAwaiter().GetResult();
            Console.Out.Flush();
            Environment.Exit(code); // see LiveHarness: do not wait on a closing socket
            return code;
        }

        static readonly object Out = new object();
        static void Line(string s) { lock (Out) { Console.WriteLine(s); Console.Out.Flush(); } }

        const string EventsQuery = "subscription($id: ID!, $after: String) { conversationEvents(conversationId: $id, after: $after) { "
            + "__typename ... on EventBase { cursor messageId } "
            + "... on MessagePosted { message { id role text } } "
            + "... on MessageDelta { text } "
            + "... on AudioChunk { seq durationMs } "
            + "... on ReplyCompleted { message { id text status } } "
            + "... on ReplyInterrupted { heardText message { id text status } } "
            + VoiceEvents.Selection + " } }";

        sealed class Watch
        {
            public readonly object Lock = new object();
            public readonly List<string> Partials = new List<string>();
            public VoiceEvent Final;
            public string UserMessage;
            public string ReplyId;
            public int Deltas;
            public string ReplyText;
            public DateTime? FirstAudioAt;
            public int AudioMs;
            public string InterruptedId;
            public string HeardText;
            public string ClosedReason;
            public readonly List<string> Problems = new List<string>();
        }

        static async Task<int> Run(string[] args)
        {
            Dictionary<string, string> opt;
            try { opt = ParseArgs(args); }
            catch (ArgumentException e) { Console.Error.WriteLine(e.Message); Console.Error.WriteLine(Usage); return 2; }
            foreach (var required in new[] { "url", "token", "conversation", "wav" })
                if (!opt.ContainsKey(required)) { Console.Error.WriteLine(Usage); return 2; }

            var ws = new GraphQLWsClient(WsUri(new Uri(opt["url"])), () => opt["token"]);
            var watch = new Watch();
            var final = Signal(); var replied = Signal(); var interrupted = Signal(); var closed = Signal();
            string sessionId = null;
            var subscribed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            ws.SubscribeSent += s => subscribed.TrySetResult(true);
            ws.Subscribe(EventsQuery, Json.O("id", opt["conversation"], "after", Get(opt, "after", null)), payload =>
            {
                var e = Json.Obj(Json.Obj(payload, "data"), "conversationEvents");
                string type = Json.Str(e, "__typename");
                if (type == null) { lock (watch.Lock) watch.Problems.Add("event error: " + MiniJson.Serialize(payload)); return; }
                string messageId = Json.Str(e, "messageId");
                var voice = VoiceEvents.Parse(payload);
                Line("EVENT " + type + (voice != null ? " " + voice.Text + voice.Outcome + voice.Reason : ""));
                lock (watch.Lock)
                {
                    if (voice != null && voice.SessionId != sessionId) return; // another device's session
                    switch (type)
                    {
                        case "VoicePartialTranscript": watch.Partials.Add(voice.Text); break;
                        case "VoiceFinalTranscript": if (watch.Final == null) { watch.Final = voice; final.TrySetResult(true); } break;
                        case "VoiceSessionClosed": watch.ClosedReason = voice.Reason; closed.TrySetResult(true); break;
                        case "MessagePosted":
                        {
                            var m = Json.Obj(e, "message");
                            if (Json.Str(m, "role") == "USER" && watch.UserMessage == null) watch.UserMessage = Json.Str(m, "text");
                            break;
                        }
                        case "ReplyStarted":
                            if (watch.UserMessage != null && watch.ReplyId == null) watch.ReplyId = messageId;
                            break;
                        case "MessageDelta":
                            if (messageId == watch.ReplyId) watch.Deltas++;
                            break;
                        case "AudioChunk":
                            if (messageId != watch.ReplyId) break;
                            watch.AudioMs += Json.Int(e, "durationMs");
                            if (watch.FirstAudioAt == null) watch.FirstAudioAt = DateTime.UtcNow;
                            break;
                        case "ReplyCompleted":
                            if (messageId == watch.ReplyId && watch.ReplyText == null) { watch.ReplyText = Json.Str(Json.Obj(e, "message"), "text"); replied.TrySetResult(true); }
                            break;
                        case "ReplyInterrupted":
                            watch.InterruptedId = messageId; watch.HeardText = Json.Str(e, "heardText");
                            interrupted.TrySetResult(true);
                            if (messageId == watch.ReplyId && watch.ReplyText == null) { watch.ReplyText = watch.HeardText; replied.TrySetResult(true); }
                            break;
                    }
                }
            }, errors => { lock (watch.Lock) watch.Problems.Add("subscription refused: " + MiniJson.Serialize(errors)); },
            null, p => Json.Str(Json.Obj(Json.Obj(p, "data"), "conversationEvents"), "cursor"));

            var cts = new CancellationTokenSource(TimeSpan.FromSeconds(int.Parse(Get(opt, "timeout", "120"))));
            FireAndForget(ws.RunAsync(cts.Token));
            var summary = new Dictionary<string, object>();
            try
            {
                await Until(subscribed.Task, cts.Token, "the subscription was sent");
                await Task.Delay(300); // registered on the server before anything is said
                short[] pcm; int rate, channels;
                ReadWav(opt["wav"], out pcm, out rate, out channels);
                var voice = await VoiceSession.StartAsync(ws, opt["conversation"]);
                lock (watch.Lock) sessionId = voice.Id;
                voice.Failed += error => { lock (watch.Lock) watch.Problems.Add("chunk refused: " + error); };
                // A microphone streams all the time: silence between what is said.
                var mic = new Mic(voice, rate, channels);
                Task pumping = mic.RunAsync(cts.Token);
                var started = DateTime.UtcNow;
                await mic.Say(pcm);
                await Until(final.Task, cts.Token, "the final transcript");
                await Until(replied.Task, cts.Token, "the reply");
                summary["turnSeconds"] = (DateTime.UtcNow - started).TotalSeconds;
                summary["sourceRate"] = rate;
                lock (watch.Lock)
                {
                    summary["transcript"] = watch.Final.Text;
                    summary["outcome"] = watch.Final.Outcome;
                    summary["message"] = watch.UserMessage;
                    summary["deltas"] = watch.Deltas;
                    summary["reply"] = watch.ReplyText;
                }
                if (opt.ContainsKey("barge-in"))
                {
                    // Ask again and speak over the answer while it "plays" here.
                    lock (watch.Lock) { watch.ReplyId = null; watch.ReplyText = null; watch.UserMessage = null; watch.FirstAudioAt = null; watch.AudioMs = 0; watch.Final = null; }
                    final = Signal();
                    await mic.Say(pcm);
                    await Until(final.Task, cts.Token, "the second final transcript");
                    while (true)
                    {
                        lock (watch.Lock) if (watch.FirstAudioAt != null) break;
                        await Task.Delay(50, cts.Token);
                    }
                    mic.Playing = () =>
                    {
                        lock (watch.Lock)
                        {
                            if (watch.FirstAudioAt == null || watch.ReplyId == null) return null;
                            int heard = (int)(DateTime.UtcNow - watch.FirstAudioAt.Value).TotalMilliseconds;
                            if (heard >= watch.AudioMs && watch.ReplyText != null) return null; // it finished playing
                            return new VoicePlayback { MessageId = watch.ReplyId, HeardUntilMs = Math.Min(heard, watch.AudioMs) };
                        }
                    };
                    await Task.Delay(1000, cts.Token); // a second of it heard
                    await mic.Say(pcm);
                    await Until(interrupted.Task, cts.Token, "the reply interrupted by speech");
                    lock (watch.Lock)
                    {
                        summary["interruptedId"] = watch.InterruptedId;
                        summary["secondReplyId"] = watch.ReplyId;
                        summary["heardText"] = watch.HeardText;
                    }
                }
                mic.Stop();
                await pumping;
                summary["chunks"] = voice.Sent;
                await voice.EndAsync();
                await Until(closed.Task, cts.Token, "the session closed");
            }
            catch (Exception e)
            {
                lock (watch.Lock) watch.Problems.Add(e.GetBaseException().Message);
            }
            lock (watch.Lock)
            {
                summary["partials"] = watch.Partials.Count;
                summary["closed"] = watch.ClosedReason;
                summary["problems"] = watch.Problems;
                summary["ok"] = watch.Problems.Count == 0;
            }
            Line("RESULT " + MiniJson.Serialize(summary));
            cts.Cancel();
            return (bool)summary["ok"] ? 0 : 1;
        }

        /// <summary>
        /// A microphone at the WAV's rate: every 100 ms it hands the chunker a block of what is
        /// being said, or of silence, and sends the chunks it completes with the playing position.
        /// </summary>
        sealed class Mic
        {
            readonly VoiceSession _voice;
            readonly VoiceChunker _chunker;
            readonly int _block;
            readonly object _lock = new object();
            short[] _saying;
            int _at;
            TaskCompletionSource<bool> _said;
            volatile bool _stopped;
            public Func<VoicePlayback?> Playing = () => null;

            public Mic(VoiceSession voice, int rate, int channels)
            {
                _voice = voice;
                _chunker = new VoiceChunker(rate, channels);
                _block = rate * channels / 10;
            }

            /// <summary>Completes once all of it went out.</summary>
            public Task Say(short[] pcm)
            {
                lock (_lock)
                {
                    _saying = pcm;
                    _at = 0;
                    _said = Signal();
                    return _said.Task;
                }
            }

            public void Stop() { _stopped = true; }

            public async Task RunAsync(CancellationToken ct)
            {
                var clock = DateTime.UtcNow;
                var silence = new short[_block];
                for (long n = 1; !_stopped && !ct.IsCancellationRequested; n++)
                {
                    short[] source = silence;
                    int from = 0, count = _block;
                    TaskCompletionSource<bool> done = null;
                    lock (_lock)
                    {
                        if (_saying != null)
                        {
                            source = _saying; from = _at; count = Math.Min(_block, _saying.Length - _at);
                            _at += count;
                            if (_at >= _saying.Length) { _saying = null; done = _said; }
                        }
                    }
                    foreach (string chunk in _chunker.AddPcm16(source, from, count)) FireAndForget(_voice.SendChunk(chunk, Playing()));
                    if (done != null) done.TrySetResult(true);
                    var wait = clock.AddMilliseconds(n * VoiceChunker.ChunkMs) - DateTime.UtcNow;
                    if (wait > TimeSpan.Zero)
                    {
                        try { await Task.Delay(wait, ct); }
                        catch (OperationCanceledException) { return; }
                    }
                }
            }
        }

        /// <summary>RIFF WAVE, PCM16 or float32 (what espeak-ng and sox write).</summary>
        static void ReadWav(string path, out short[] pcm, out int rate, out int channels)
        {
            using (var r = new BinaryReader(File.OpenRead(path)))
            {
                if (new string(r.ReadChars(4)) != "RIFF") throw new InvalidDataException("not a RIFF file");
                r.ReadInt32();
                if (new string(r.ReadChars(4)) != "WAVE") throw new InvalidDataException("not a WAVE file");
                int format = 0, bits = 0; rate = 0; channels = 0;
                while (true)
                {
                    string id = new string(r.ReadChars(4));
                    int size = r.ReadInt32();
                    if (id == "fmt ")
                    {
                        format = r.ReadInt16(); channels = r.ReadInt16(); rate = r.ReadInt32();
                        r.ReadInt32(); r.ReadInt16(); bits = r.ReadInt16();
                        if (size > 16) r.ReadBytes(size - 16);
                    }
                    else if (id == "data")
                    {
                        if (size <= 0 || size > r.BaseStream.Length - r.BaseStream.Position) size = (int)(r.BaseStream.Length - r.BaseStream.Position);
                        byte[] data = r.ReadBytes(size);
                        if (format == 1 && bits == 16)
                        {
                            pcm = new short[data.Length / 2];
                            for (int i = 0; i < pcm.Length; i++) pcm[i] = (short)(data[2 * i] | (data[2 * i + 1] << 8));
                        }
                        else if (format == 3 && bits == 32)
                        {
                            pcm = new short[data.Length / 4];
                            for (int i = 0; i < pcm.Length; i++) pcm[i] = (short)(Math.Max(-1f, Math.Min(1f, BitConverter.ToSingle(data, 4 * i))) * 32767);
                        }
                        else throw new InvalidDataException("unsupported WAV format " + format + "/" + bits);
                        return;
                    }
                    else r.ReadBytes(size + (size & 1));
                }
            }
        }

        static TaskCompletionSource<bool> Signal() { return new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously); }

        static async Task Until(Task task, CancellationToken ct, string what)
        {
            var timeout = Task.Delay(Timeout.Infinite, ct);
            if (await Task.WhenAny(task, timeout) != task) throw new TimeoutException("timed out waiting for " + what);
            await task;
        }

        static void FireAndForget(Task t) { t.ContinueWith(x => { var ignored = x.Exception; }, TaskContinuationOptions.OnlyOnFaulted); }

        static Uri WsUri(Uri http)
        {
            var b = new UriBuilder(http) { Scheme = http.Scheme == "https" ? "wss" : "ws" };
            return b.Uri;
        }

        static Dictionary<string, string> ParseArgs(string[] args)
        {
            var flags = new HashSet<string> { "barge-in" };
            var d = new Dictionary<string, string>();
            for (int i = 0; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException("unexpected argument " + args[i]);
                string key = args[i].Substring(2);
                if (flags.Contains(key)) { d[key] = "true"; continue; }
                if (i + 1 >= args.Length) throw new ArgumentException("missing value for --" + key);
                d[key] = args[++i];
            }
            return d;
        }

        static string Get(Dictionary<string, string> d, string key, string fallback)
        {
            string v;
            return d.TryGetValue(key, out v) ? v : fallback;
        }
    }
}
