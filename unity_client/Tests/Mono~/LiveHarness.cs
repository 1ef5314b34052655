// Runs the real device flow against a server: pair (printing the user code for a test to
// approve), subscribe to hologramEvents, wait for one whole reply, then check the timing data
// the device would drive its mouth with. Output lines (stdout, one per line):
//   USER_CODE <code>            - approve this code through the API
//   PAIRED <deviceId>
//   SUBSCRIBED <after|->        - the subscribe message was sent (again after a reconnect)
//   EVENT <__typename> <cursor>
//   RESULT {json}               - last line; exit code 0 when ok, 1 otherwise, 2 for bad arguments
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using HoloMate.Core;

namespace HoloMate.Tests
{
    public static class LiveHarness
    {
        const string Usage = "usage: LiveHarness.exe --url http://host:port/graphql [--ws-url ws://host:port/graphql] "
            + "[--model M] [--serial S] [--token DEVICE_TOKEN] [--after CURSOR] [--timeout SECONDS] [--no-audio]";

        // Exit as soon as the result is out: Mono may otherwise linger (seen under load, >15 s)
        // on a socket still in its closing handshake, and the caller waits for the exit code.
        public static int Main(string[] args)
        {
            int code = Run(args).GetAwaiter().GetResult();
            Console.Out.Flush();
            Environment.Exit(code);
            return code;
        }

        static readonly object Out = new object();
        static void Line(string s) { lock (Out) { Console.WriteLine(s); Console.Out.Flush(); } }

        static async Task<int> Run(string[] args)
        {
            Dictionary<string, string> opt;
            try { opt = ParseArgs(args); }
            catch (ArgumentException e) { Console.Error.WriteLine(e.Message); Console.Error.WriteLine(Usage); return 2; }
            string url;
            if (!opt.TryGetValue("url", out url)) { Console.Error.WriteLine(Usage); return 2; }

            var httpEndpoint = new Uri(url);
            var config = new HologramSessionConfig
            {
                HttpEndpoint = httpEndpoint,
                WebSocketEndpoint = opt.ContainsKey("ws-url") ? new Uri(opt["ws-url"]) : null,
                Device = new DeviceInfo { Model = Get(opt, "model", "live-harness"), Serial = Get(opt, "serial", "HARNESS-" + Guid.NewGuid().ToString("N").Substring(0, 8)) },
            };
            int timeoutSeconds = int.Parse(Get(opt, "timeout", "120"));
            bool fetchAudio = !opt.ContainsKey("no-audio");

            var summary = new Dictionary<string, object>();
            var problems = new List<string>();
            var received = new List<HologramEvent>();
            var replyDone = new TaskCompletionSource<HologramEvent>();

            var session = new HologramSession(config);
            session.Pairing.CodeIssued += c => Line("USER_CODE " + c.UserCode);
            session.Paired += r => { Line("PAIRED " + r.DeviceId); summary["deviceId"] = r.DeviceId; };
            session.Subscribed += after => Line("SUBSCRIBED " + (after ?? "-"));
            session.ConnectionStateChanged += s => Console.Error.WriteLine("socket: " + s);
            session.HandlerError += e => Console.Error.WriteLine("handler error: " + e);
            session.SubscriptionFailed += errors => { problems.Add("subscription error: " + MiniJson.Serialize(errors)); replyDone.TrySetResult(null); };
            session.AuthFailed += m => { problems.Add("auth failed: " + m); replyDone.TrySetResult(null); };
            session.EventReceived += e =>
            {
                Line("EVENT " + e.TypeName + " " + (e.Cursor ?? "-"));
                lock (received) received.Add(e);
                if (e is ReplyCompleted || e is ReplyFailed || e is ReplyInterrupted) replyDone.TrySetResult(e);
            };

            var cts = new CancellationTokenSource();
            Task<bool> run = session.RunAsync(opt.ContainsKey("token") ? opt["token"] : null, Get(opt, "after", null), cts.Token);
            Task finished = await Task.WhenAny(replyDone.Task, run, Task.Delay(TimeSpan.FromSeconds(timeoutSeconds)));

            HologramEvent end = replyDone.Task.IsCompleted ? replyDone.Task.Result : null;
            if (finished == run && run.IsFaulted) problems.Add("session failed: " + run.Exception.GetBaseException().Message);
            else if (end == null && problems.Count == 0) problems.Add("timed out after " + timeoutSeconds + " s waiting for ReplyCompleted");
            else if (end is ReplyFailed) problems.Add("reply failed: " + ((ReplyFailed)end).Code + " " + ((ReplyFailed)end).Detail);
            else if (end is ReplyInterrupted) problems.Add("reply interrupted");

            if (end is ReplyCompleted)
                await CheckReply((ReplyCompleted)end, Snapshot(received), httpEndpoint, fetchAudio, summary, problems);

            cts.Cancel();
            try { await Task.WhenAny(run, Task.Delay(3000)); } catch (Exception) { }

            summary["ok"] = problems.Count == 0;
            summary["events"] = received.Count;
            summary["problems"] = problems;
            Line("RESULT " + MiniJson.Serialize(summary));
            return problems.Count == 0 ? 0 : 1;
        }

        static List<HologramEvent> Snapshot(List<HologramEvent> events) { lock (events) return new List<HologramEvent>(events); }

        /// <summary>Validates the reply's timing data and plays it through the timelines as the device would.</summary>
        static async Task CheckReply(ReplyCompleted done, List<HologramEvent> all, Uri httpEndpoint, bool fetchAudio,
            Dictionary<string, object> summary, List<string> problems)
        {
            var reply = all.Where(e => e.MessageId == done.MessageId && !(e is MessagePosted)).ToList();
            summary["messageId"] = done.MessageId;
            summary["text"] = done.Message != null ? done.Message.Text : null;
            summary["eventTypes"] = reply.GroupBy(e => e.TypeName).ToDictionary(g => g.Key, g => (object)g.Count());

            TimelineReport report = TimelineValidator.Validate(reply);
            problems.AddRange(report.Problems);
            summary["chunks"] = report.Chunks;
            summary["frames"] = report.Frames;
            summary["audioMs"] = report.AudioMs;
            if (report.Chunks == 0) problems.Add("reply has no audio chunks");
            if (!reply.Any(e => e is ReplyStarted)) problems.Add("no ReplyStarted before the reply");

            var deltas = string.Concat(reply.OfType<MessageDelta>().OrderBy(d => d.Seq).Select(d => d.Text));
            if (done.Message != null && done.Message.Text != null && deltas != done.Message.Text)
                problems.Add("MessageDelta texts do not add up to the completed text");

            // Drive the timeline at 60 fps over the reply's audio, like VisemeDriver does.
            var router = new ReplyRouter();
            foreach (var e in reply) router.Handle(e);
            var used = new HashSet<string>();
            int speakingFrames = 0, totalFrames = 0;
            for (double ms = 0; ms <= report.AudioMs + 300; ms += 1000.0 / 60)
            {
                float[] w = router.Visemes.Sample(ms);
                totalFrames++;
                int top = 0;
                for (int v = 0; v < w.Length; v++)
                {
                    if (float.IsNaN(w[v]) || w[v] < -1e-4f || w[v] > 1.0001f) { problems.Add("weight out of range at " + ms + " ms"); break; }
                    if (w[v] > w[top]) top = v;
                }
                if (top != (int)Viseme.sil) { speakingFrames++; used.Add(((Viseme)top).ToString()); }
            }
            float[] last = router.Visemes.Sample(report.AudioMs + 1000);
            if (last[(int)Viseme.sil] < 0.95f) problems.Add("mouth does not return to sil after the audio");
            summary["visemesUsed"] = used.OrderBy(x => x).Cast<object>().ToList();
            summary["speakingFraction"] = totalFrames == 0 ? 0.0 : Math.Round((double)speakingFrames / totalFrames, 3);
            if (report.Frames > 0 && speakingFrames == 0) problems.Add("no speaking mouth shape was ever dominant");
            summary["emotions"] = reply.OfType<EmotionChanged>().Select(e => (object)(e.Name + "@" + e.AtMs)).ToList();

            if (fetchAudio)
            {
                var fetcher = new HttpAudioFetcher(httpEndpoint);
                long bytes = 0;
                foreach (var chunk in reply.OfType<AudioChunk>())
                {
                    try { bytes += (await fetcher.FetchAsync(chunk, CancellationToken.None)).Length; }
                    catch (Exception e) { problems.Add("audio seq " + chunk.Seq + " download failed: " + e.Message); }
                }
                summary["audioBytes"] = bytes;
            }
        }

        static Dictionary<string, string> ParseArgs(string[] args)
        {
            var flags = new HashSet<string> { "no-audio" };
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
