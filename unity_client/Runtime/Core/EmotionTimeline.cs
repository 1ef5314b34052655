// Facial emotion of one reply on the reply's audio clock, with a short cross-fade so a change
// of emotion does not snap the face.
using System;
using System.Collections.Generic;

namespace HoloMate.Core
{
    public struct EmotionState
    {
        public Emotion Emotion;
        public float Intensity;
        /// <summary>The emotion fading out during a transition, and its remaining weight.</summary>
        public Emotion Previous;
        public float PreviousWeight;
    }

    public sealed class EmotionTimeline
    {
        public double TransitionMs = 250;
        readonly List<EmotionChanged> _changes = new List<EmotionChanged>(); // sorted by AtMs

        public void Reset() { _changes.Clear(); }

        public void Add(EmotionChanged e)
        {
            if (!e.IsKnown) return;
            int i = 0;
            while (i < _changes.Count && _changes[i].AtMs <= e.AtMs) i++;
            _changes.Insert(i, e);
        }

        public EmotionState At(double clockMs)
        {
            int current = -1;
            for (int i = 0; i < _changes.Count; i++) { if (_changes[i].AtMs <= clockMs) current = i; else break; }
            if (current < 0) return new EmotionState { Emotion = Emotion.neutral, Intensity = 0f, Previous = Emotion.neutral };

            var now = _changes[current];
            float blend = TransitionMs <= 0 ? 1f : (float)Math.Min(1.0, (clockMs - now.AtMs) / TransitionMs);
            var state = new EmotionState { Emotion = now.Emotion, Intensity = Clamp01(now.Intensity) * blend };
            if (current > 0 && blend < 1f)
            {
                state.Previous = _changes[current - 1].Emotion;
                state.PreviousWeight = Clamp01(_changes[current - 1].Intensity) * (1f - blend);
            }
            return state;
        }

        /// <summary>One weight per <see cref="Emotion"/> (index = enum value), for animator parameters.</summary>
        public void WeightsAt(double clockMs, float[] into)
        {
            Array.Clear(into, 0, EmotionNames.Count);
            EmotionState s = At(clockMs);
            into[(int)s.Previous] = Math.Max(into[(int)s.Previous], s.PreviousWeight);
            into[(int)s.Emotion] = Math.Max(into[(int)s.Emotion], s.Intensity);
        }

        static float Clamp01(float x) { return x < 0 ? 0 : (x > 1 ? 1 : x); }
    }
}
