using System;

namespace HoloMate.Core
{
    /// <summary>The 15 Oculus/Meta visemes, in the order the server's enum lists them.</summary>
    public enum Viseme { sil, PP, FF, TH, DD, kk, CH, SS, nn, RR, aa, E, ih, oh, ou }

    public enum Emotion { neutral, joy, sadness, anger, fear, surprise, disgust, affection, thinking }

    public static class VisemeNames
    {
        public const int Count = 15;

        /// <summary>Exact, case-sensitive match ("E" and "ih" differ only by case from other names in some rigs).</summary>
        public static bool TryParse(string name, out Viseme viseme)
        {
            viseme = Viseme.sil;
            if (string.IsNullOrEmpty(name)) return false;
            for (int i = 0; i < Count; i++)
            {
                if (string.Equals(((Viseme)i).ToString(), name, StringComparison.Ordinal)) { viseme = (Viseme)i; return true; }
            }
            // GraphQL enums are often upper-case (SIL, AA, KK); accept those too.
            for (int i = 0; i < Count; i++)
            {
                if (string.Equals(((Viseme)i).ToString(), name, StringComparison.OrdinalIgnoreCase)) { viseme = (Viseme)i; return true; }
            }
            return false;
        }
    }

    public static class EmotionNames
    {
        public const int Count = 9;

        public static bool TryParse(string name, out Emotion emotion)
        {
            emotion = Emotion.neutral;
            if (string.IsNullOrEmpty(name)) return false;
            for (int i = 0; i < Count; i++)
            {
                if (string.Equals(((Emotion)i).ToString(), name, StringComparison.OrdinalIgnoreCase)) { emotion = (Emotion)i; return true; }
            }
            return false;
        }
    }
}
