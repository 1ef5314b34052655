// Plays a reply's audio chunks back to back without gaps and exposes the reply clock (ms since
// the reply's audio started) read from the AudioSource playback position.
// Gapless: two AudioSources alternate; each chunk is scheduled on the DSP clock to start exactly
// when the previous one ends (AudioSource.PlayScheduled), so frame timing never adds gaps.
using System;
using System.Threading;
using System.Threading.Tasks;
using HoloMate.Core;
using UnityEngine;
using UnityEngine.Networking;

namespace HoloMate.Unity
{
    public sealed class AudioChunkPlayer : MonoBehaviour
    {
        [Tooltip("Seconds between a chunk being ready and its scheduled start when nothing is playing.")]
        public double startDelaySeconds = 0.05;

        /// <summary>Server base for relative chunk URLs; set by HologramBehaviour.</summary>
        public Uri BaseUri;

        AudioSource[] _sources;
        readonly QueuedChunk<AudioClip>[] _slotChunk = new QueuedChunk<AudioClip>[2];
        readonly double[] _slotDspStart = new double[2];
        int _nextSlot;
        double _nextStartDsp;
        double _heldClockMs;
        AudioChunkQueue<AudioClip> _queue;
        float _volume = 1f;

        /// <summary>Reply clock in ms; drives VisemeDriver and EmotionDriver.</summary>
        public double ReplyClockMs { get; private set; }

        void Awake()
        {
            _sources = new[] { gameObject.AddComponent<AudioSource>(), gameObject.AddComponent<AudioSource>() };
            foreach (var s in _sources) { s.playOnAwake = false; s.loop = false; }
            _queue = new AudioChunkQueue<AudioClip>(FetchClipAsync);
        }

        public void Enqueue(AudioChunk chunk) { _queue.Enqueue(chunk); }
        public void MarkReplyComplete() { _queue.MarkReplyComplete(); }

        /// <summary>New reply or interruption: silence now.</summary>
        public void ResetReply()
        {
            foreach (var s in _sources) { s.Stop(); s.clip = null; }
            for (int i = 0; i < 2; i++) _slotChunk[i] = null;
            _queue.Reset();
            _nextStartDsp = 0;
            _heldClockMs = 0;
            ReplyClockMs = 0;
        }

        public void SetVolume(float volume)
        {
            _volume = volume;
            foreach (var s in _sources) s.volume = volume;
        }

        void Update()
        {
            ScheduleReadyChunks();
            ReplyClockMs = ReadClock();
        }

        void ScheduleReadyChunks()
        {
            double now = AudioSettings.dspTime;
            // Keep at most one chunk waiting behind the playing one: the two sources.
            while (_slotChunk[_nextSlot] == null || now >= _slotDspStart[_nextSlot] + _slotChunk[_nextSlot].Info.DurationMs / 1000.0)
            {
                QueuedChunk<AudioClip> next;
                if (!_queue.TryDequeue(out next)) return;
                if (_nextStartDsp < now) _nextStartDsp = now + startDelaySeconds; // nothing queued: start fresh
                var source = _sources[_nextSlot];
                if (!next.Failed && next.Clip != null)
                {
                    source.clip = next.Clip;
                    source.volume = _volume;
                    source.PlayScheduled(_nextStartDsp);
                }
                _slotChunk[_nextSlot] = next;
                _slotDspStart[_nextSlot] = _nextStartDsp;
                // The server's duration, not the clip length, so the reply clock and the server's
                // startMs values stay the same timeline (a failed chunk becomes silence of that length).
                _nextStartDsp += next.Info.DurationMs / 1000.0;
                _nextSlot = 1 - _nextSlot;
            }
        }

        double ReadClock()
        {
            double now = AudioSettings.dspTime;
            int current = -1;
            for (int i = 0; i < 2; i++)
            {
                if (_slotChunk[i] == null || _slotDspStart[i] > now) continue;
                if (current < 0 || _slotDspStart[i] > _slotDspStart[current]) current = i;
            }
            if (current < 0) return _heldClockMs;
            var chunk = _slotChunk[current];
            var source = _sources[current];
            double seconds = source.isPlaying && source.clip != null
                ? source.timeSamples / (double)source.clip.frequency   // the audio's own position
                : now - _slotDspStart[current];                        // failed chunk or just ended
            seconds = Math.Min(seconds, chunk.Info.DurationMs / 1000.0);
            _heldClockMs = chunk.ClockAt(seconds);
            return _heldClockMs;
        }

        async Task<AudioClip> FetchClipAsync(AudioChunk chunk, CancellationToken ct)
        {
            var uri = BaseUri != null ? new Uri(BaseUri, chunk.Url) : new Uri(chunk.Url);
            using (var request = UnityWebRequestMultimedia.GetAudioClip(uri, AudioTypeOf(chunk.MimeType)))
            {
                var done = new TaskCompletionSource<bool>();
                request.SendWebRequest().completed += _ => done.TrySetResult(true);
                using (ct.Register(() => { request.Abort(); done.TrySetCanceled(); }))
                    await done.Task;
                if (request.result != UnityWebRequest.Result.Success) throw new Exception(request.error);
                return DownloadHandlerAudioClip.GetContent(request);
            }
        }

        static AudioType AudioTypeOf(string mime)
        {
            switch (mime)
            {
                case "audio/mpeg": case "audio/mp3": return AudioType.MPEG;
                case "audio/wav": case "audio/x-wav": case "audio/wave": return AudioType.WAV;
                case "audio/ogg": return AudioType.OGGVORBIS;
                default: return AudioType.UNKNOWN;
            }
        }
    }
}
