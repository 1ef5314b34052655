// Mouth shapes of one reply, placed on the reply's audio clock.
// The server sends each chunk's VisemeFrames (times relative to that chunk) before the chunk's
// AudioChunk (which carries the chunk's start on the reply clock), so frames are held per audio
// seq until their chunk is known. Driving this from the audio playback position, not from wall
// time, keeps the mouth in step with the sound even when playback stalls or starts late.
using System;
using System.Collections.Generic;

namespace HoloMate.Core
{
    public sealed class VisemeTimeline
    {
        /// <summary>Time constant (ms) of a weight rising towards its target. Short: mouths open fast.</summary>
        public double AttackMs = 30;
        /// <summary>Time constant (ms) of a weight falling; a bit longer so shapes blend instead of flicker.</summary>
        public double ReleaseMs = 60;
        /// <summary>Sample targets this far ahead of the clock to offset the smoothing lag (0 = exact timing).</summary>
        public double LeadMs = 0;

        readonly Dictionary<int, List<VisemeFrame>> _framesBySeq = new Dictionary<int, List<VisemeFrame>>();
        readonly List<AudioChunk> _chunks = new List<AudioChunk>(); // sorted by StartMs
        readonly float[] _target = new float[VisemeNames.Count];
        readonly float[] _smoothed = new float[VisemeNames.Count];
        double _lastClockMs = double.NaN;

        public VisemeTimeline() { Reset(); }

        /// <summary>Forget the reply (new reply, interruption); the mouth returns to rest.</summary>
        public void Reset()
        {
            _framesBySeq.Clear();
            _chunks.Clear();
            Array.Clear(_smoothed, 0, _smoothed.Length);
            _smoothed[(int)Viseme.sil] = 1f;
            _lastClockMs = double.NaN;
        }

        public void AddFrames(VisemeFrames e)
        {
            var list = new List<VisemeFrame>();
            foreach (var f in e.Frames) if (f.IsKnown) list.Add(f);
            list.Sort((a, b) => a.StartMs.CompareTo(b.StartMs));
            _framesBySeq[e.AudioSeq] = list;
        }

        public void AddChunk(AudioChunk chunk)
        {
            _chunks.RemoveAll(c => c.Seq == chunk.Seq);
            int i = 0;
            while (i < _chunks.Count && _chunks[i].StartMs <= chunk.StartMs) i++;
            _chunks.Insert(i, chunk);
        }

        /// <summary>End of the last known chunk on the reply clock.</summary>
        public double EndMs { get { return _chunks.Count == 0 ? 0 : _chunks[_chunks.Count - 1].EndMs; } }

        /// <summary>Unsmoothed weights at a reply-clock time; sil fills whatever the other shapes leave.</summary>
        public void TargetAt(double clockMs, float[] into)
        {
            Array.Clear(into, 0, VisemeNames.Count);
            AudioChunk chunk = ChunkAt(clockMs);
            List<VisemeFrame> frames;
            if (chunk != null && _framesBySeq.TryGetValue(chunk.Seq, out frames))
            {
                double local = clockMs - chunk.StartMs;
                foreach (var f in frames)
                {
                    if (f.StartMs > local) break;
                    if (local < f.EndMs)
                    {
                        int v = (int)f.Viseme;
                        if (f.Weight > into[v]) into[v] = Clamp01(f.Weight);
                    }
                }
            }
            float maxSpeech = 0f;
            for (int v = 1; v < VisemeNames.Count; v++) if (into[v] > maxSpeech) maxSpeech = into[v];
            into[(int)Viseme.sil] = Math.Max(into[(int)Viseme.sil], 1f - maxSpeech);
        }

        /// <summary>
        /// Smoothed weights (0..1, indexed by <see cref="Viseme"/>) at the audio clock. Call once per
        /// rendered frame with a non-decreasing clock; a backwards jump (seek, new reply) snaps.
        /// The returned array is reused between calls.
        /// </summary>
        public float[] Sample(double clockMs)
        {
            TargetAt(clockMs + LeadMs, _target);
            double dt = double.IsNaN(_lastClockMs) ? 0 : clockMs - _lastClockMs;
            bool snap = !double.IsNaN(_lastClockMs) && dt < 0;
            _lastClockMs = clockMs;
            for (int v = 0; v < VisemeNames.Count; v++)
            {
                if (snap) { _smoothed[v] = _target[v]; continue; }
                double tau = _target[v] > _smoothed[v] ? AttackMs : ReleaseMs;
                double k = tau <= 0 ? 1.0 : 1.0 - Math.Exp(-dt / tau);
                _smoothed[v] += (float)((_target[v] - _smoothed[v]) * k);
            }
            return _smoothed;
        }

        AudioChunk ChunkAt(double clockMs)
        {
            for (int i = _chunks.Count - 1; i >= 0; i--)
            {
                var c = _chunks[i];
                if (c.StartMs <= clockMs) return clockMs < c.EndMs ? c : null;
            }
            return null;
        }

        static float Clamp01(float x) { return x < 0 ? 0 : (x > 1 ? 1 : x); }
    }
}
