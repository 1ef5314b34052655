// Named expression weights (VRM expressions, or any rig's named clips) of one reply at a point of
// its audio clock: the mouth from the viseme timeline, the face from the emotion timeline, each
// through the character's maps. Every name either map mentions gets a weight each sample (0 when
// released), so an engine layer only copies them: it needs no state of its own.
// Blink and look-at are never named here: the model's own settings (VRM's overrideBlink and
// lookAt) keep owning them.
using System;
using System.Collections.Generic;

namespace HoloMate.Core
{
    public sealed class ExpressionMixer
    {
        struct Binding { public int Slot; public float Weight; }

        readonly List<Binding>[] _visemes = new List<Binding>[VisemeNames.Count];
        readonly int[] _emotionSlot = new int[EmotionNames.Count];
        readonly float[] _emotionWeights = new float[EmotionNames.Count];
        readonly float[] _weights;

        /// <summary>Expression names, one per slot of <see cref="Weights"/>.</summary>
        public readonly List<string> Names = new List<string>();
        /// <summary>Weight 0..1 of each name after the last <see cref="Sample"/>.</summary>
        public float[] Weights { get { return _weights; } }

        public ExpressionMixer(CharacterManifest manifest)
        {
            var slots = new Dictionary<string, int>(StringComparer.Ordinal);
            Func<string, int> slotOf = name =>
            {
                int slot;
                if (!slots.TryGetValue(name, out slot)) { slot = Names.Count; slots[name] = slot; Names.Add(name); }
                return slot;
            };
            for (int v = 0; v < VisemeNames.Count; v++)
            {
                _visemes[v] = new List<Binding>();
                foreach (var t in manifest.Visemes.TargetsOf((Viseme)v))
                    if (!string.IsNullOrEmpty(t.Name)) _visemes[v].Add(new Binding { Slot = slotOf(t.Name), Weight = t.Weight });
            }
            for (int e = 0; e < EmotionNames.Count; e++)
                _emotionSlot[e] = string.IsNullOrEmpty(manifest.Emotions[e]) ? -1 : slotOf(manifest.Emotions[e]);
            _weights = new float[Names.Count];
        }

        /// <summary>
        /// Weights at <paramref name="clockMs"/> of the reply's audio. The viseme timeline is smoothed
        /// by its own attack/release, so call this once per frame with a clock that moves forward.
        /// Mouth contributions add up (consonants borrow vowels) and are clamped; an emotion sets its
        /// expression to its intensity (cross-faded by the emotion timeline); a name used by both
        /// takes the larger.
        /// </summary>
        public float[] Sample(VisemeTimeline visemes, EmotionTimeline emotions, double clockMs)
        {
            Array.Clear(_weights, 0, _weights.Length);
            if (visemes != null)
            {
                float[] vw = visemes.Sample(clockMs);
                for (int v = 0; v < VisemeNames.Count; v++)
                {
                    if (vw[v] <= 0f) continue;
                    foreach (var b in _visemes[v]) _weights[b.Slot] += vw[v] * b.Weight;
                }
                for (int i = 0; i < _weights.Length; i++) if (_weights[i] > 1f) _weights[i] = 1f;
            }
            if (emotions != null)
            {
                emotions.WeightsAt(clockMs, _emotionWeights);
                for (int e = 0; e < EmotionNames.Count; e++)
                {
                    int slot = _emotionSlot[e];
                    if (slot >= 0 && _emotionWeights[e] > _weights[slot]) _weights[slot] = _emotionWeights[e];
                }
            }
            return _weights;
        }
    }
}
