// Checks that one reply's timing data is playable: the checks the LiveHarness runs against a
// real server, and that CoreTests run against hand-made replies.
using System;
using System.Collections.Generic;

namespace HoloMate.Core
{
    public sealed class TimelineReport
    {
        public readonly List<string> Problems = new List<string>();
        public int Chunks;
        public int Frames;
        public double AudioMs;
        public bool Ok { get { return Problems.Count == 0; } }
    }

    public static class TimelineValidator
    {
        /// <summary>Server times are whole milliseconds; allow that much rounding.</summary>
        public const double ToleranceMs = 2.0;

        /// <param name="events">One reply's events in arrival order.</param>
        public static TimelineReport Validate(IList<HologramEvent> events)
        {
            var report = new TimelineReport();
            var chunks = new List<AudioChunk>();
            var chunkArrival = new Dictionary<int, int>();
            var framesArrival = new Dictionary<int, int>();
            var framesBySeq = new Dictionary<int, VisemeFrames>();

            for (int i = 0; i < events.Count; i++)
            {
                var c = events[i] as AudioChunk;
                if (c != null)
                {
                    if (chunkArrival.ContainsKey(c.Seq)) report.Problems.Add("audio seq " + c.Seq + " sent twice");
                    chunkArrival[c.Seq] = i;
                    chunks.Add(c);
                }
                var f = events[i] as VisemeFrames;
                if (f != null)
                {
                    framesArrival[f.AudioSeq] = i;
                    framesBySeq[f.AudioSeq] = f;
                }
            }
            chunks.Sort((a, b) => a.Seq.CompareTo(b.Seq));
            report.Chunks = chunks.Count;

            for (int i = 0; i < chunks.Count; i++)
            {
                var c = chunks[i];
                if (c.DurationMs <= 0) report.Problems.Add("audio seq " + c.Seq + " has duration " + c.DurationMs);
                if (string.IsNullOrEmpty(c.Url)) report.Problems.Add("audio seq " + c.Seq + " has no url");
                if (i == 0 && Math.Abs(c.StartMs) > ToleranceMs) report.Problems.Add("first chunk starts at " + c.StartMs + " ms, not 0");
                if (i > 0)
                {
                    var prev = chunks[i - 1];
                    if (c.Seq != prev.Seq + 1) report.Problems.Add("audio seq gap: " + prev.Seq + " -> " + c.Seq);
                    if (Math.Abs(c.StartMs - prev.EndMs) > ToleranceMs)
                        report.Problems.Add("chunks not contiguous: seq " + prev.Seq + " ends at " + prev.EndMs + " ms, seq " + c.Seq + " starts at " + c.StartMs + " ms");
                }
                if (!framesBySeq.ContainsKey(c.Seq)) report.Problems.Add("audio seq " + c.Seq + " has no VisemeFrames");
                else if (framesArrival[c.Seq] > chunkArrival[c.Seq]) report.Problems.Add("VisemeFrames of seq " + c.Seq + " arrived after its AudioChunk");
            }
            if (chunks.Count > 0) report.AudioMs = chunks[chunks.Count - 1].EndMs;

            foreach (var kv in framesBySeq)
            {
                AudioChunk chunk = chunks.Find(c => c.Seq == kv.Key);
                if (chunk == null) { report.Problems.Add("VisemeFrames for unknown audio seq " + kv.Key); continue; }
                foreach (var f in kv.Value.Frames)
                {
                    report.Frames++;
                    string where = "seq " + kv.Key + " frame " + f.Name + " [" + f.StartMs + "," + f.EndMs + ")";
                    if (!f.IsKnown) report.Problems.Add("unknown viseme '" + f.Name + "' in seq " + kv.Key);
                    if (f.StartMs < -ToleranceMs || f.EndMs > chunk.DurationMs + ToleranceMs) report.Problems.Add(where + " outside chunk of " + chunk.DurationMs + " ms");
                    if (f.EndMs < f.StartMs) report.Problems.Add(where + " ends before it starts");
                    if (f.Weight < 0 || f.Weight > 1) report.Problems.Add(where + " weight " + f.Weight + " outside 0..1");
                }
            }
            return report;
        }
    }
}
