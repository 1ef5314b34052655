// Hands-free: Unity's Microphone streamed to a voice session. Everything but reading the
// microphone lives in the Core (VoiceChunker: resampling and 100 ms PCM16 chunks; VoiceSession:
// the protocol; VoiceEvents: what the server heard), which the headless tests run.
//
// The session belongs to a person (startVoiceSession takes a person's access token), so give it
// the app's signed-in GraphQLWsClient. Echo: the server does not cancel it; on a hologram use the
// device's AEC (its DSP with the speaker as reference; Android: the VOICE_COMMUNICATION source),
// or the companion would interrupt itself. A device with only a speaker talks by text or uploads.
using System;
using System.Collections.Generic;
using HoloMate.Core;
using UnityEngine;
using UnityEngine.Events;

namespace HoloMate.Unity
{
    public sealed class VoiceMicrophone : MonoBehaviour
    {
        [Tooltip("Microphone device name; empty for the default.")]
        public string deviceName = "";
        public UnityEvent<string> onPartialTranscript;  // live captions while the person speaks
        public UnityEvent<string> onFinalTranscript;    // what became the person's message
        public UnityEvent<string> onStopped;            // reason: ENDED, IDLE, QUOTA_EXCEEDED, or a refusal

        /// <summary>The reply playing now and its heard position (barge-in); null when silent.</summary>
        public Func<VoicePlayback?> Playing = () => null;

        VoiceSession _session;
        VoiceChunker _chunker;
        AudioClip _clip;
        int _read;
        float[] _buffer = new float[0];

        public bool Talking { get { return _session != null; } }

        /// <summary>Opens the microphone and a voice session on the conversation.</summary>
        public async void StartTalking(GraphQLWsClient socket, string conversationId)
        {
            if (_session != null) return;
            string device = string.IsNullOrEmpty(deviceName) ? null : deviceName;
            int min, max;
            Microphone.GetDeviceCaps(device, out min, out max);
            // Ask for 16 kHz; a device that cannot gives its own rate and the Core resamples.
            int rate = max == 0 ? VoiceChunker.TargetRate : Mathf.Clamp(VoiceChunker.TargetRate, min, max);
            try
            {
                _session = await VoiceSession.StartAsync(socket, conversationId);
            }
            catch (Exception e)
            {
                onStopped.Invoke(e.Message);
                return;
            }
            _session.Failed += reason => Stop(reason, false);
            _clip = Microphone.Start(device, true, 2, rate);
            _chunker = new VoiceChunker(_clip.frequency, _clip.channels);
            _read = 0;
        }

        /// <summary>Feed it the app's conversationEvents payloads: captions and the session's end.</summary>
        public void HandleEvent(Dictionary<string, object> payload)
        {
            VoiceEvent e = VoiceEvents.Parse(payload);
            if (e == null || _session == null || e.SessionId != _session.Id) return;
            if (e.Type == "VoicePartialTranscript") onPartialTranscript.Invoke(e.Text);
            else if (e.Type == "VoiceFinalTranscript") onFinalTranscript.Invoke(e.Text);
            else if (e.Type == "VoiceSessionClosed") Stop(e.Reason, false);
        }

        public void StopTalking() { Stop("ENDED", true); }

        void Update()
        {
            if (_session == null || _clip == null) return;
            int at = Microphone.GetPosition(string.IsNullOrEmpty(deviceName) ? null : deviceName);
            if (at == _read) return;
            if (at < _read) { Read(_read, _clip.samples - _read); _read = 0; } // the ring wrapped
            Read(_read, at - _read);
            _read = at;
        }

        void Read(int from, int frames)
        {
            if (frames <= 0) return;
            int n = frames * _clip.channels;
            if (_buffer.Length != n) _buffer = new float[n];
            _clip.GetData(_buffer, from);
            foreach (string chunk in _chunker.AddFloats(_buffer, 0, n)) _session.SendChunk(chunk, Playing());
        }

        async void Stop(string reason, bool end)
        {
            VoiceSession session = _session;
            if (session == null) return;
            _session = null;
            Microphone.End(string.IsNullOrEmpty(deviceName) ? null : deviceName);
            _clip = null;
            onStopped.Invoke(reason);
            if (!end) return;
            try { await session.EndAsync(); }
            catch (Exception e) { Debug.LogException(e); }
        }

        void OnDestroy() { Stop("ENDED", true); }
    }
}
