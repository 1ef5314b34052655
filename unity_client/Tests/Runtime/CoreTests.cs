// Headless checks of the Core runtime (no Unity, no network). Prints "N passed, N failed" last
// and exits non-zero on any failure.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using HoloMate.Core;

namespace HoloMate.Tests
{
    public static class CoreTests
    {
        static int _passed, _failed;

        static void Check(bool ok, string what)
        {
            if (ok) _passed++;
            else { _failed++; Console.WriteLine("FAIL " + what); }
        }

        static void Near(double actual, double expected, double tolerance, string what)
        {
            Check(Math.Abs(actual - expected) <= tolerance, what + " (expected " + expected + ", got " + actual + ")");
        }

        static void Throws<T>(Action a, string what) where T : Exception
        {
            try { a(); Check(false, what + " (no exception)"); }
            catch (T) { Check(true, what); }
            catch (Exception e) { Check(false, what + " (threw " + e.GetType().Name + ")"); }
        }

        public static int Main(string[] args) { return Run().GetAwaiter().GetResult(); }

        static async Task<int> Run()
        {
            var tests = new List<KeyValuePair<string, Func<Task>>>
            {
                T("MiniJson", () => { MiniJsonTests(); return Done; }),
                T("Protocol messages", () => { ProtocolMessageTests(); return Done; }),
                T("Close codes", () => { CloseCodeTests(); return Done; }),
                T("Backoff schedule", () => { BackoffTests(); return Done; }),
                T("Event parsing", () => { EventParsingTests(); return Done; }),
                T("Subscription query", () => { QueryTests(); return Done; }),
                T("Viseme timeline", () => { VisemeTimelineTests(); return Done; }),
                T("Emotion timeline", () => { EmotionTimelineTests(); return Done; }),
                T("Viseme mapper", () => { VisemeMapperTests(); return Done; }),
                T("Character manifest", CharacterManifestTests),
                T("Expression mixer", () => { ExpressionMixerTests(); return Done; }),
                T("Timeline validator", () => { ValidatorTests(); return Done; }),
                T("Reply router", () => { RouterTests(); return Done; }),
                T("Device commands", () => { CommandTests(); return Done; }),
                T("Audio chunk queue", AudioQueueTests),
                T("WS client resume", WsResumeTests),
                T("WS client backoff", WsBackoffTests),
                T("WS client fatal codes", WsFatalTests),
                T("WS client cancel", WsCancelTests),
                T("Pairing flow", PairingTests),
                T("Hologram session", SessionTests),
                T("Voice chunker", () => { VoiceChunkerTests(); return Done; }),
                T("Voice events", () => { VoiceEventTests(); return Done; }),
                T("Voice session protocol", VoiceSessionTests),
            };
            foreach (var t in tests)
            {
                int failedBefore = _failed;
                try
                {
                    var run = t.Value();
                    if (await Task.WhenAny(run, Task.Delay(10000)) != run) Check(false, t.Key + ": timed out");
                    else await run;
                }
                catch (Exception e) { Check(false, t.Key + ": threw " + e); }
                Console.WriteLine((_failed == failedBefore ? "ok   " : "FAIL ") + t.Key);
            }
            Console.WriteLine(_passed + " passed, " + _failed + " failed");
            return _failed == 0 ? 0 : 1;
        }

        static readonly Task Done = Task.FromResult(0);
        static KeyValuePair<string, Func<Task>> T(string name, Func<Task> f) { return new KeyValuePair<string, Func<Task>>(name, f); }

        // ------------------------------------------------------------------ Voice

        static short[] Decode(string b64)
        {
            byte[] b = Convert.FromBase64String(b64);
            var s = new short[b.Length / 2];
            for (int i = 0; i < s.Length; i++) s[i] = (short)(b[2 * i] | (b[2 * i + 1] << 8));
            return s;
        }

        /// <summary>Cycles of a sine's period counted by upward zero crossings.</summary>
        static int Crossings(List<short> x)
        {
            int n = 0;
            for (int i = 1; i < x.Count; i++) if (x[i - 1] < 0 && x[i] >= 0) n++;
            return n;
        }

        static List<short> Through(VoiceChunker chunker, float[] input, int channels, int block, out int chunks)
        {
            var all = new List<short>();
            chunks = 0;
            for (int at = 0; at < input.Length; at += block)
            {
                foreach (string c in chunker.AddFloats(input, at, Math.Min(block, input.Length - at)))
                {
                    short[] s = Decode(c);
                    Check(s.Length == 1600, "a chunk is 100 ms at 16 kHz (" + s.Length + ")");
                    all.AddRange(s);
                    chunks++;
                }
            }
            return all;
        }

        static float[] Sine(int rate, int channels, double hz, double seconds, double amp)
        {
            int frames = (int)(rate * seconds);
            var x = new float[frames * channels];
            for (int i = 0; i < frames; i++)
                for (int c = 0; c < channels; c++) x[i * channels + c] = (float)(amp * Math.Sin(2 * Math.PI * hz * i / rate));
            return x;
        }

        static void VoiceChunkerTests()
        {
            foreach (int rate in new[] { 48000, 44100, 22050, 16000, 8000 })
            {
                int chunks;
                // One second of a 440 Hz tone in odd-sized blocks, as a microphone's ring buffer gives them.
                var y = Through(new VoiceChunker(rate), Sine(rate, 1, 440, 1.0, 0.5), 1, 997, out chunks);
                Check(chunks == 10 || chunks == 9, rate + " Hz: one second is ~10 chunks (" + chunks + ")");
                int cycles = Crossings(y);
                Check(Math.Abs(cycles - 44 * chunks) <= 2, rate + " Hz: the tone keeps its pitch (" + cycles + " cycles in " + chunks + " chunks)");
                short peak = 0;
                foreach (short v in y) if (Math.Abs((int)v) > peak) peak = (short)Math.Abs((int)v);
                Check(peak > 14000 && peak < 17500, rate + " Hz: the tone keeps its level (" + peak + ")");
            }
            // Stereo is mixed to mono: opposite channels cancel.
            var stereo = new float[4800 * 2];
            for (int i = 0; i < 4800; i++) { stereo[2 * i] = 0.5f; stereo[2 * i + 1] = -0.5f; }
            int n;
            var mixed = Through(new VoiceChunker(48000, 2), stereo, 2, 960, out n);
            Check(n == 1 && mixed.TrueForAll(v => v == 0), "stereo mixed to mono");
            // Full scale and beyond are clipped; little-endian bytes.
            var c = new VoiceChunker(16000);
            var loud = new float[1600];
            for (int i = 0; i < loud.Length; i++) loud[i] = i % 2 == 0 ? 2f : -2f;
            var out1 = c.AddFloats(loud, 0, loud.Length);
            short[] s1 = Decode(out1[0]);
            Check(s1[0] == 32767 && s1[1] == -32768, "clipped to 16 bits");
            Check(VoiceChunker.Encode(new short[] { 0x1234 }, 1) == Convert.ToBase64String(new byte[] { 0x34, 0x12 }), "little-endian PCM16");
            // PCM16 input and a short last chunk on Flush.
            var p = new VoiceChunker(16000);
            Check(p.AddPcm16(new short[2000], 0, 2000).Count == 1, "PCM16 in: one full chunk");
            string rest = p.Flush();
            Check(rest != null && Decode(rest).Length == 400 && p.Flush() == null, "flush gives the rest once");
            Throws<ArgumentOutOfRangeException>(() => new VoiceChunker(0), "a zero rate is refused");
        }

        static void VoiceEventTests()
        {
            Func<string, Dictionary<string, object>> wrap = e => MiniJson.ParseObject("{\"data\":{\"conversationEvents\":" + e + "}}");
            var partial = VoiceEvents.Parse(wrap("{\"__typename\":\"VoicePartialTranscript\",\"sessionId\":\"vs1\",\"messageId\":\"msg_0\",\"text\":\"hello\",\"throughMs\":1200}"));
            Check(partial != null && partial.SessionId == "vs1" && partial.Text == "hello" && partial.AtMs == 1200, "partial transcript parsed");
            var final = VoiceEvents.Parse(wrap("{\"__typename\":\"VoiceFinalTranscript\",\"sessionId\":\"vs1\",\"messageId\":\"m9\",\"text\":\"hello there\",\"outcome\":\"MESSAGE\",\"detail\":\"\"}"));
            Check(final.Outcome == "MESSAGE" && final.MessageId == "m9", "final transcript parsed");
            var closed = VoiceEvents.Parse(wrap("{\"__typename\":\"VoiceSessionClosed\",\"sessionId\":\"vs1\",\"reason\":\"IDLE\",\"detail\":\"\"}"));
            Check(closed.Reason == "IDLE", "session closed parsed");
            Check(VoiceEvents.Parse(wrap("{\"__typename\":\"MessageDelta\",\"text\":\"x\"}")) == null, "other events are not voice events");
        }

        // ------------------------------------------------------------------ MiniJson

        static void MiniJsonTests()
        {
            var doc = MiniJson.ParseObject("{\"s\":\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\",\"i\":-42,\"big\":12345678901234,"
                + "\"d\":1.5e2,\"f\":-0.25,\"t\":true,\"n\":null,\"a\":[1,[2,{}],\"x\"],\"o\":{\"k\":false}}");
            Check(Json.Str(doc, "s") == "a\"b\\c/d\n\té\U0001F600", "string escapes and surrogate pair");
            Check(doc["i"] is long && (long)doc["i"] == -42, "negative integer is long");
            Check((long)doc["big"] == 12345678901234L, "large integer");
            Check(doc["d"] is double && (double)doc["d"] == 150.0, "exponent number is double");
            Check((double)doc["f"] == -0.25, "negative fraction");
            Check((bool)doc["t"] && doc.ContainsKey("n") && doc["n"] == null, "true and null");
            Check(Json.List(doc, "a").Count == 3 && Json.List(doc, "a")[1] is List<object>, "nested array");
            Check(Json.Bool(Json.Obj(doc, "o"), "k", true) == false, "nested object");

            string again = MiniJson.Serialize(doc);
            var doc2 = MiniJson.ParseObject(again);
            Check(MiniJson.Serialize(doc2) == again, "serialize/parse/serialize is stable");
            Check(Json.Str(doc2, "s") == Json.Str(doc, "s"), "string survives round trip");
            Check(MiniJson.Serialize("\u0001\u2028") == "\"\\u0001\\u2028\"", "control characters escaped");
            Check(MiniJson.Serialize(0.1) == "0.1" && MiniJson.Serialize(3) == "3" && MiniJson.Serialize(1e300) == "1E+300", "number formats (invariant culture)");
            Check((double)MiniJson.Parse(MiniJson.Serialize(1e300)) == 1e300, "exponent round trip");
            Check(MiniJson.Serialize(new object[] { null, true, "x", new Dictionary<string, object>() }) == "[null,true,\"x\",{}]", "array writer");
            Check(MiniJson.Serialize(double.NaN) == "null", "NaN written as null");
            Check(MiniJson.Parse("  [ ]  ") is List<object>, "whitespace around empty array");

            Throws<FormatException>(() => MiniJson.Parse("{\"a\":1,}"), "trailing comma rejected");
            Throws<FormatException>(() => MiniJson.Parse("[1 2]"), "missing comma rejected");
            Throws<FormatException>(() => MiniJson.Parse("\"abc"), "unterminated string rejected");
            Throws<FormatException>(() => MiniJson.Parse("01"), "leading zero rejected");
            Throws<FormatException>(() => MiniJson.Parse("tru"), "bad literal rejected");
            Throws<FormatException>(() => MiniJson.Parse("{} x"), "trailing garbage rejected");
            Throws<FormatException>(() => MiniJson.Parse("\"\\x\""), "bad escape rejected");
            Throws<FormatException>(() => MiniJson.Parse(""), "empty input rejected");
        }

        // ------------------------------------------------------------------ protocol

        static void ProtocolMessageTests()
        {
            var init = MiniJson.ParseObject(GraphQLWsProtocol.ConnectionInitMessage("tok123"));
            Check(Json.Str(init, "type") == "connection_init", "connection_init type");
            Check(Json.Str(Json.Obj(init, "payload"), "authorization") == "Bearer tok123", "connection_init bearer payload");

            var sub = MiniJson.ParseObject(GraphQLWsProtocol.SubscribeMessage("7", "subscription { x }", Json.O("after", "c9")));
            Check(Json.Str(sub, "type") == "subscribe" && Json.Str(sub, "id") == "7", "subscribe type and id");
            Check(Json.Str(Json.Obj(sub, "payload"), "query") == "subscription { x }", "subscribe query");
            Check(Json.Str(Json.Obj(Json.Obj(sub, "payload"), "variables"), "after") == "c9", "subscribe variables");

            Check(GraphQLWsProtocol.PongMessage() == "{\"type\":\"pong\"}", "pong shape");
            Check(GraphQLWsProtocol.PingMessage() == "{\"type\":\"ping\"}", "ping shape");
            Check(GraphQLWsProtocol.CompleteMessage("3") == "{\"type\":\"complete\",\"id\":\"3\"}", "complete shape");
            Check(GraphQLWsProtocol.SubProtocol == "graphql-transport-ws", "subprotocol name");
        }

        static void CloseCodeTests()
        {
            Check(GraphQLWsCloseCodes.Classify(4401) == CloseAction.FatalAuth, "4401 is fatal auth");
            Check(GraphQLWsCloseCodes.Classify(4403) == CloseAction.FatalAuth, "4403 is fatal auth");
            Check(GraphQLWsCloseCodes.Classify(4400) == CloseAction.FatalProtocol, "4400 is fatal protocol");
            foreach (int code in new[] { 1000, 1001, 1006, 1011, 1012, 4408, 4409, 4429, 4500 })
                Check(GraphQLWsCloseCodes.Classify(code) == CloseAction.Reconnect, code + " reconnects");
        }

        static void BackoffTests()
        {
            var noJitter = new BackoffPolicy(() => 0.0);
            var expected = new[] { 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000 };
            for (int i = 0; i < expected.Length; i++) Near(noJitter.DelayFor(i).TotalMilliseconds, expected[i], 0.001, "backoff attempt " + i);
            var fullJitter = new BackoffPolicy(() => 0.999999);
            Near(fullJitter.DelayFor(2).TotalMilliseconds, 2000 * 0.7, 0.01, "jitter takes off up to 30%");
            Near(noJitter.DelayFor(1000).TotalMilliseconds, 30000, 0.001, "huge attempt stays capped");
            var random = new BackoffPolicy();
            for (int i = 0; i < 50; i++)
            {
                double d = random.DelayFor(3).TotalMilliseconds;
                Check(d > 4000 * 0.7 - 0.001 && d <= 4000, "random jitter within [70%,100%]");
            }
        }

        // ------------------------------------------------------------------ events

        static Dictionary<string, object> Ev(string type, string cursor, params object[] kv)
        {
            var n = Json.O(kv);
            n["__typename"] = type;
            n["cursor"] = cursor;
            n["conversationId"] = "conv1";
            n["messageId"] = "m1";
            n["at"] = "2025-01-01T00:00:00Z";
            return n;
        }

        static Dictionary<string, object> Payload(Dictionary<string, object> ev)
        {
            return Json.O("data", Json.O("hologramEvents", ev));
        }

        static HologramEvent P(Dictionary<string, object> node)
        {
            // Through JSON text, as it arrives from the server.
            return HologramEventParser.FromPayload(MiniJson.ParseObject(MiniJson.Serialize(Payload(node))));
        }

        static Dictionary<string, object> Frame(string viseme, double start, double end, double weight = 1.0)
        {
            return Json.O("viseme", viseme, "startMs", start, "endMs", end, "weight", weight);
        }

        static void EventParsingTests()
        {
            var chunk = P(Ev("AudioChunk", "c5", "seq", 2, "url", "/audio/a.mp3", "mimeType", "audio/mpeg", "startMs", 1200, "durationMs", 800, "text", "Hi")) as AudioChunk;
            Check(chunk != null && chunk.Seq == 2 && chunk.StartMs == 1200 && chunk.DurationMs == 800 && chunk.EndMs == 2000, "AudioChunk fields");
            Check(chunk.Cursor == "c5" && chunk.ConversationId == "conv1" && chunk.MessageId == "m1" && chunk.TypeName == "AudioChunk", "common fields");

            var frames = P(Ev("VisemeFrames", "c4", "audioSeq", 2, "frames", new List<object> { Frame("aa", 0, 100, 0.9), Frame("zz", 100, 200) })) as VisemeFrames;
            Check(frames != null && frames.AudioSeq == 2 && frames.Frames.Count == 2, "VisemeFrames fields");
            Check(frames.Frames[0].IsKnown && frames.Frames[0].Viseme == Viseme.aa && Math.Abs(frames.Frames[0].Weight - 0.9f) < 1e-6, "known viseme");
            Check(!frames.Frames[1].IsKnown && frames.Frames[1].Name == "zz", "unknown viseme kept by name");

            var emo = P(Ev("EmotionChanged", "c3", "emotion", "joy", "intensity", 0.5, "atMs", 300)) as EmotionChanged;
            Check(emo != null && emo.IsKnown && emo.Emotion == Emotion.joy && emo.Intensity == 0.5f && emo.AtMs == 300, "EmotionChanged fields");
            var upper = P(Ev("EmotionChanged", "c3", "emotion", "SURPRISE", "intensity", 1, "atMs", 0)) as EmotionChanged;
            Check(upper.IsKnown && upper.Emotion == Emotion.surprise, "GraphQL upper-case enum accepted");

            var done = P(Ev("ReplyCompleted", "c9", "message", Json.O("id", "m1", "text", "Hello", "status", "COMPLETED"))) as ReplyCompleted;
            Check(done != null && done.Message.Text == "Hello" && done.Message.Status == "COMPLETED", "ReplyCompleted message");
            var posted = P(Ev("MessagePosted", "c1", "message", Json.O("id", "u1", "role", "USER", "text", "hey"))) as MessagePosted;
            Check(posted != null && posted.Message.Role == "USER", "MessagePosted");
            Check(P(Ev("MessageDelta", "c2", "seq", 0, "text", "He")) is MessageDelta, "MessageDelta");
            Check(((ReplyInterrupted)P(Ev("ReplyInterrupted", "c", "heardText", "Hel"))).HeardText == "Hel", "ReplyInterrupted");
            Check(((ReplyFailed)P(Ev("ReplyFailed", "c", "code", "TTS", "detail", "x"))).Code == "TTS", "ReplyFailed");
            Check(((PlayAnimation)P(Ev("PlayAnimation", "c", "name", "wave", "loop", true))).Loop, "PlayAnimation");
            Check(((VolumeChanged)P(Ev("VolumeChanged", "c", "volume", 0.25))).Volume == 0.25f, "VolumeChanged");
            Check(((SleepChanged)P(Ev("SleepChanged", "c", "asleep", true))).Asleep, "SleepChanged");
            Check(((CompanionSwitched)P(Ev("CompanionSwitched", "c", "companionId", "k2"))).CompanionId == "k2", "CompanionSwitched");
            Check(P(Ev("FutureThing", "c")) is UnknownEvent, "unknown member passes through");
            Check(HologramEventParser.CursorOf(Payload(Ev("ReplyStarted", "c77"))) == "c77", "cursor from payload");
            Check(HologramEventParser.FromPayload(Json.O("data", null)) == null, "empty payload gives no event");
        }

        static void QueryTests()
        {
            string q = HologramQueries.HologramEventsSubscription;
            Check(q.Contains("hologramEvents(after: $after)") && q.Contains("$after: String"), "after variable");
            Check(q.Contains("__typename"), "__typename requested");
            foreach (var member in new[] { "MessagePosted", "ReplyStarted", "MessageDelta", "AudioChunk", "VisemeFrames", "EmotionChanged",
                "ReplyCompleted", "ReplyInterrupted", "ReplyFailed", "CompanionSwitched", "PlayAnimation", "VolumeChanged", "SleepChanged" })
            {
                int at = q.IndexOf("... on " + member + " {", StringComparison.Ordinal);
                Check(at >= 0 && q.IndexOf("cursor", at, StringComparison.Ordinal) > at, "fragment with cursor for " + member);
            }
            Check(q.Count(c => c == '{') == q.Count(c => c == '}'), "balanced braces");
            Check(HologramQueries.RequestDevicePairing.Contains("requestDevicePairing(model: $model, serial: $serial, capabilities: $capabilities)"), "pairing mutation");
            Check(HologramQueries.PollDevicePairing.Contains("status deviceToken deviceId"), "poll mutation");
        }

        // ------------------------------------------------------------------ timelines

        static AudioChunk Chunk(int seq, double start, double duration, string messageId = "m1")
        {
            return new AudioChunk { Seq = seq, StartMs = start, DurationMs = duration, Url = "/a/" + seq + ".mp3", MessageId = messageId, TypeName = "AudioChunk" };
        }

        static VisemeFrames Frames(int seq, params object[] nameStartEnd)
        {
            var e = new VisemeFrames { AudioSeq = seq, MessageId = "m1", TypeName = "VisemeFrames" };
            for (int i = 0; i < nameStartEnd.Length; i += 3)
            {
                var f = new VisemeFrame { Name = (string)nameStartEnd[i], StartMs = Convert.ToDouble(nameStartEnd[i + 1]), EndMs = Convert.ToDouble(nameStartEnd[i + 2]) };
                f.IsKnown = VisemeNames.TryParse(f.Name, out f.Viseme);
                e.Frames.Add(f);
            }
            return e;
        }

        static float[] Run(VisemeTimeline t, double from, double to, double step = 10)
        {
            float[] w = null;
            for (double ms = from; ms <= to + 1e-9; ms += step) w = t.Sample(ms);
            return w;
        }

        static void VisemeTimelineTests()
        {
            var t = new VisemeTimeline();
            // Frames arrive before their chunk, as the server sends them.
            t.AddFrames(Frames(0, "sil", 0, 50, "aa", 50, 250, "PP", 250, 300));
            t.AddFrames(Frames(1, "oh", 0, 200));
            float[] target = new float[15];
            t.TargetAt(100, target);
            Check(target[(int)Viseme.sil] == 1f && target[(int)Viseme.aa] == 0f, "frames without their chunk are not placed yet");
            t.AddChunk(Chunk(0, 0, 300));
            t.AddChunk(Chunk(1, 300, 200));

            t.TargetAt(100, target);
            Check(target[(int)Viseme.aa] == 1f && target[(int)Viseme.sil] == 0f, "target: aa inside aa frame");
            t.TargetAt(250, target);
            Check(target[(int)Viseme.PP] == 1f && target[(int)Viseme.aa] == 0f, "frame end is exclusive");
            t.TargetAt(350, target);
            Check(target[(int)Viseme.oh] == 1f, "second chunk frames offset by its startMs (300+50)");
            t.TargetAt(600, target);
            Check(target[(int)Viseme.sil] == 1f && target[(int)Viseme.oh] == 0f, "after the last chunk: sil");

            float[] w = Run(t, 0, 200);
            Check(w[(int)Viseme.aa] > 0.9f, "smoothed aa high late in the aa frame (" + w[(int)Viseme.aa] + ")");
            Check(w[(int)Viseme.sil] < 0.1f, "sil low while speaking");
            w = Run(t, 210, 310);
            Check(w[(int)Viseme.aa] < 0.5f, "aa released after its frame ended (" + w[(int)Viseme.aa] + ")");
            w = Run(t, 320, 420);
            Check(w[(int)Viseme.oh] > 0.9f, "oh attacks in chunk 1");
            w = Run(t, 390, 800);
            Check(w[(int)Viseme.sil] > 0.99f && w[(int)Viseme.oh] < 0.01f, "decays to sil after the reply audio ends");
            Near(t.EndMs, 500, 0, "timeline end");

            // One step after a long gap converges; a backwards clock snaps to the target.
            t.Sample(100);
            Check(t.Sample(100)[(int)Viseme.aa] == 1f, "clock jump backwards snaps to target");

            var weighted = new VisemeTimeline();
            var f = Frames(0, "E", 0, 100);
            f.Frames[0].Weight = 0.4f;
            weighted.AddFrames(f);
            weighted.AddChunk(Chunk(0, 0, 100));
            weighted.TargetAt(50, target);
            Check(Math.Abs(target[(int)Viseme.E] - 0.4f) < 1e-6 && Math.Abs(target[(int)Viseme.sil] - 0.6f) < 1e-6, "partial weight leaves the rest to sil");

            t.Reset();
            t.TargetAt(100, target);
            Check(target[(int)Viseme.sil] == 1f && t.Sample(100)[(int)Viseme.sil] == 1f, "reset returns to rest");
        }

        static void EmotionTimelineTests()
        {
            var t = new EmotionTimeline { TransitionMs = 200 };
            Check(t.At(0).Emotion == Emotion.neutral && t.At(0).Intensity == 0f, "neutral before any change");
            t.Add(new EmotionChanged { Emotion = Emotion.joy, IsKnown = true, Intensity = 0.8f, AtMs = 0 });
            t.Add(new EmotionChanged { Emotion = Emotion.sadness, IsKnown = true, Intensity = 1f, AtMs = 1000 });
            t.Add(new EmotionChanged { Name = "bogus", IsKnown = false, AtMs = 500 });
            Near(t.At(100).Intensity, 0.4, 1e-5, "joy fading in");
            Check(t.At(500).Emotion == Emotion.joy && Math.Abs(t.At(500).Intensity - 0.8f) < 1e-6, "unknown emotion ignored; joy held");
            var mid = t.At(1100);
            Check(mid.Emotion == Emotion.sadness && mid.Previous == Emotion.joy, "cross-fade joy -> sadness");
            Near(mid.Intensity, 0.5, 1e-5, "sadness half in");
            Near(mid.PreviousWeight, 0.4, 1e-5, "joy half out");
            var w = new float[9];
            t.WeightsAt(2000, w);
            Check(w[(int)Emotion.sadness] == 1f && w[(int)Emotion.joy] == 0f, "weights after the transition");
        }

        // ------------------------------------------------------------------ expressions

        const string ManifestJson = "{\"deviceManifest\":{\"companionId\":\"Companion_1\",\"character\":{\"name\":\"Mira\","
            + "\"url\":\"https://cdn.example.com/m.vrm\",\"format\":\"VRM\",\"vrmVersion\":\"VRM0\",\"visemeBlendshapes\":["
            + "{\"viseme\":\"sil\",\"blendshapes\":[]},{\"viseme\":\"aa\",\"blendshapes\":[{\"name\":\"A\",\"weight\":1}]},"
            + "{\"viseme\":\"kk\",\"blendshapes\":[{\"name\":\"I\",\"weight\":0.5},{\"name\":\"A\",\"weight\":0.2}]},"
            + "{\"viseme\":\"zz\",\"blendshapes\":[{\"name\":\"Z\",\"weight\":1}]}],"
            + "\"emotionAnimations\":[{\"emotion\":\"joy\",\"animation\":\"Joy\"},{\"emotion\":\"surprise\",\"animation\":\"Joy\"}]}}}";

        static async Task CharacterManifestTests()
        {
            var api = new FakeApi((q, v) => MiniJson.ParseObject(ManifestJson));
            CharacterManifest m = await CharacterManifest.LoadAsync(api, "dev-token", CancellationToken.None);
            Check(api.Calls.Count == 1 && api.Calls[0].Key == HologramQueries.DeviceManifest, "one deviceManifest query");
            Check(m.VrmVersion == VrmVersion.VRM0 && m.Format == "VRM" && m.Url == "https://cdn.example.com/m.vrm", "version, format and url");
            Check(m.Visemes.TargetsOf(Viseme.kk).Count == 2 && m.Visemes.TargetsOf(Viseme.kk)[1].Name == "A", "viseme targets in order");
            Check(m.Visemes.TargetsOf(Viseme.sil).Count == 0, "sil moves nothing");
            Check(m.Emotions[(int)Emotion.joy] == "Joy" && m.Emotions[(int)Emotion.sadness] == null, "emotion names; unmapped is null");
            var noVersion = CharacterManifest.FromData(MiniJson.ParseObject("{\"deviceManifest\":{\"character\":{\"name\":\"default\"}}}"));
            Check(noVersion.VrmVersion == VrmVersion.VRM1 && noVersion.Url == null, "an older server's manifest reads as VRM 1.0");
            Check(HologramQueries.DeviceManifest.Contains("vrmVersion") && HologramQueries.DeviceManifest.Contains("emotionAnimations { emotion animation }"), "manifest query fields");
        }

        static void ExpressionMixerTests()
        {
            var mixer = new ExpressionMixer(CharacterManifest.FromData(MiniJson.ParseObject(ManifestJson)));
            Check(string.Join(",", mixer.Names) == "I,A,Joy", "each name once, visemes (in viseme order) first (" + string.Join(",", mixer.Names) + ")");
            var visemes = new VisemeTimeline { AttackMs = 0, ReleaseMs = 0 };
            visemes.AddFrames(Frames(0, "aa", 0, 100, "kk", 100, 200));
            visemes.AddChunk(Chunk(0, 0, 200));
            var emotions = new EmotionTimeline { TransitionMs = 0 };
            emotions.Add(new EmotionChanged { Emotion = Emotion.surprise, IsKnown = true, Intensity = 0.3f, AtMs = 0 });
            emotions.Add(new EmotionChanged { Emotion = Emotion.joy, IsKnown = true, Intensity = 0.7f, AtMs = 150 });
            float[] w = mixer.Sample(visemes, emotions, 50);
            Check(w[1] == 1f && w[0] == 0f && Math.Abs(w[2] - 0.3f) < 1e-6, "aa opens A; surprise shows as its mapped Joy at 0.3");
            w = mixer.Sample(visemes, emotions, 120);
            Check(Math.Abs(w[1] - 0.2f) < 1e-6 && Math.Abs(w[0] - 0.5f) < 1e-6, "kk borrows I 0.5 and A 0.2");
            w = mixer.Sample(visemes, emotions, 160);
            Check(Math.Abs(w[2] - 0.7f) < 1e-6, "two emotions on one name: the current one's intensity");
            w = mixer.Sample(visemes, null, 400);
            Check(w[0] == 0f && w[1] == 0f && w[2] == 0f, "after the audio, without emotions: every name released to 0");
        }

        static void VisemeMapperTests()
        {
            var map = VisemeMap.FromJson("{\"aa\":\"jawOpen\",\"PP\":{\"name\":\"mouthClose\",\"weight\":0.8},"
                + "\"oh\":[{\"name\":\"jawOpen\",\"weight\":0.5},{\"name\":\"mouthFunnel\",\"weight\":0.6}],\"xx\":\"nope\",\"ou\":\"missingShape\"}");
            Check(map.UnknownVisemes.SequenceEqual(new[] { "xx" }), "unknown viseme keys reported");
            var mesh = new[] { "browUp", "jawOpen", "mouthClose", "mouthFunnel" };
            var mapper = new VisemeMapper(map, name => Array.IndexOf(mesh, name));
            Check(mapper.MissingBlendshapes.SequenceEqual(new[] { "missingShape" }), "missing blendshapes reported");
            Check(mapper.BlendshapeIndices.OrderBy(i => i).SequenceEqual(new[] { 1, 2, 3 }), "jawOpen shared by two visemes gets one slot");
            Func<string, int> slot = name => mapper.BlendshapeIndices.IndexOf(Array.IndexOf(mesh, name));

            var visemes = new float[15];
            var slots = new float[mapper.BlendshapeIndices.Count];
            visemes[(int)Viseme.oh] = 1f;
            mapper.Apply(visemes, slots);
            Check(slots[slot("jawOpen")] == 0.5f && slots[slot("mouthFunnel")] == 0.6f && slots[slot("mouthClose")] == 0f, "oh -> jawOpen 0.5 + mouthFunnel 0.6");
            visemes[(int)Viseme.aa] = 1f;
            mapper.Apply(visemes, slots);
            Check(slots[slot("jawOpen")] == 1f, "summed contributions clamp at 1");
            visemes = new float[15];
            visemes[(int)Viseme.PP] = 0.5f;
            mapper.Apply(visemes, slots);
            Check(Math.Abs(slots[slot("mouthClose")] - 0.4f) < 1e-6 && slots[slot("jawOpen")] == 0f, "weight scales the viseme");

            var arkit = VisemeMap.DefaultArkit();
            for (int v = 1; v < 15; v++) Check(arkit.TargetsOf((Viseme)v).Count > 0, "ARKit default maps " + (Viseme)v);
            Check(VisemeMap.DefaultVrm().TargetsOf(Viseme.aa)[0].Name == "aa", "VRM default aa");
        }

        static List<HologramEvent> GoodReply()
        {
            return new List<HologramEvent>
            {
                new ReplyStarted { MessageId = "m1" },
                Frames(0, "sil", 0, 40, "aa", 40, 300),
                Chunk(0, 0, 300),
                Frames(1, "oh", 0, 250),
                Chunk(1, 300, 250),
            };
        }

        static void ValidatorTests()
        {
            var ok = TimelineValidator.Validate(GoodReply());
            Check(ok.Ok && ok.Chunks == 2 && ok.Frames == 3 && ok.AudioMs == 550, "good reply validates: " + string.Join("; ", ok.Problems));

            var gap = GoodReply();
            gap[4] = Chunk(1, 350, 250);
            Check(TimelineValidator.Validate(gap).Problems.Any(p => p.Contains("not contiguous")), "gap between chunks detected");

            var outside = GoodReply();
            outside[3] = Frames(1, "oh", 0, 400);
            Check(TimelineValidator.Validate(outside).Problems.Any(p => p.Contains("outside chunk")), "frame past its chunk detected");

            var unknown = GoodReply();
            unknown[3] = Frames(1, "zz", 0, 100);
            Check(TimelineValidator.Validate(unknown).Problems.Any(p => p.Contains("unknown viseme")), "unknown viseme detected");

            var late = GoodReply();
            late.Reverse(3, 2);
            Check(TimelineValidator.Validate(late).Problems.Any(p => p.Contains("after its AudioChunk")), "frames after chunk detected");
        }

        static void RouterTests()
        {
            var router = new ReplyRouter();
            int resets = 0, chunks = 0;
            string text = null;
            router.ReplyReset = () => resets++;
            router.AudioChunkArrived = c => chunks++;
            router.TextChanged = s => text = s;
            router.Handle(new ReplyStarted { MessageId = "m1" });
            router.Handle(new MessageDelta { MessageId = "m1", Text = "Hel" });
            router.Handle(new MessageDelta { MessageId = "m1", Text = "lo" });
            foreach (var e in GoodReply().Skip(1)) router.Handle(e);
            var w = new float[15];
            router.Visemes.TargetAt(100, w);
            Check(text == "Hello" && chunks == 2 && w[(int)Viseme.aa] == 1f, "router feeds text, audio and visemes");
            router.Handle(new AudioChunk { MessageId = "m2", Seq = 0, DurationMs = 100 });
            router.Visemes.TargetAt(100, w);
            Check(resets == 2 && w[(int)Viseme.aa] == 0f, "events of a new message reset the old reply");
            router.Handle(new ReplyInterrupted { MessageId = "m2" });
            Check(resets == 3, "interruption resets");
        }

        static void CommandTests()
        {
            var h = new DeviceCommandHandler();
            string companion = null; string anim = null; bool loop = false; float volume = -1; bool? asleep = null;
            h.CompanionSwitched = id => companion = id;
            h.PlayAnimation = (n, l) => { anim = n; loop = l; };
            h.VolumeChanged = v => volume = v;
            h.SleepChanged = s => asleep = s;
            Check(h.Handle(new CompanionSwitched { CompanionId = "c2" }) && companion == "c2", "companion switched");
            Check(h.Handle(new PlayAnimation { Name = "wave", Loop = true }) && anim == "wave" && loop, "play animation");
            Check(h.Handle(new VolumeChanged { Volume = 1.7f }) && volume == 1f, "volume clamped");
            Check(h.Handle(new SleepChanged { Asleep = true }) && asleep == true, "sleep");
            Check(!h.Handle(new ReplyStarted()), "non-command not handled");
        }

        // ------------------------------------------------------------------ audio queue

        static async Task AudioQueueTests()
        {
            var downloads = new Dictionary<int, TaskCompletionSource<string>>();
            var queue = new AudioChunkQueue<string>((c, ct) =>
            {
                var tcs = new TaskCompletionSource<string>();
                downloads[c.Seq] = tcs;
                return tcs.Task;
            });
            QueuedChunk<string> next;
            // Seqs counted from 1 here; chunk 3 arrives first.
            queue.Enqueue(Chunk(3, 500, 200));
            queue.Enqueue(Chunk(1, 0, 300));
            queue.Enqueue(Chunk(2, 300, 200));
            queue.Enqueue(Chunk(2, 300, 200)); // redelivered after a resume
            Check(downloads.Count == 3, "each chunk downloaded once, all at once");
            downloads[3].SetResult("three");
            downloads[2].SetResult("two");
            await Task.Yield();
            Check(!queue.TryDequeue(out next), "waits for chunk 1 although 2 and 3 are ready");
            downloads[1].SetResult("one");
            await Task.Delay(10);
            var order = new List<string>();
            while (queue.TryDequeue(out next)) order.Add(next.Clip + "@" + next.Info.StartMs);
            Check(string.Join(",", order) == "one@0,two@300,three@500", "played in seq order: " + string.Join(",", order));

            Check(!queue.IsFinished, "not finished before ReplyCompleted");
            queue.MarkReplyComplete();
            Check(queue.IsFinished, "finished after ReplyCompleted and drain");

            var playing = new QueuedChunk<string> { Info = Chunk(4, 700, 200) };
            Near(playing.ClockAt(0.05), 750, 1e-9, "reply clock = chunk startMs + position");

            queue.Reset();
            queue.Enqueue(Chunk(0, 0, 100));
            queue.Enqueue(Chunk(1, 100, 100));
            downloads[1].SetException(new Exception("404"));
            downloads[0].SetResult("zero");
            await Task.Delay(10);
            order.Clear();
            while (queue.TryDequeue(out next)) order.Add(next.Failed ? "failed" : next.Clip);
            Check(string.Join(",", order) == "zero,failed", "0-based seqs and a failed download still keep order");

            var fetcher = new HttpAudioFetcher(new Uri("http://h:8000/graphql"));
            Check(fetcher.Resolve("/media/a.mp3").ToString() == "http://h:8000/media/a.mp3", "relative chunk url resolved against the server");
            Check(fetcher.Resolve("https://cdn/x.mp3").ToString() == "https://cdn/x.mp3", "absolute chunk url kept");
        }

        // ------------------------------------------------------------------ websocket client

        sealed class Harness
        {
            public readonly List<FakeTransport> Transports = new List<FakeTransport>();
            public readonly List<TimeSpan> Delays = new List<TimeSpan>();
            public readonly GraphQLWsOptions Options = new GraphQLWsOptions();
            public Func<int, FakeTransport, Dictionary<string, object>, bool> Server; // connection number, socket, message
            public int FailFirstConnects;

            public Harness()
            {
                Options.Backoff = new BackoffPolicy(() => 0.0);
                Options.AckTimeout = TimeSpan.FromSeconds(2);
                Options.Delay = (d, ct) => { Delays.Add(d); return Task.FromResult(0); };
                Options.TransportFactory = () =>
                {
                    FakeTransport t = null;
                    t = new FakeTransport(Transports.Count + 1, (socket, msg) => Server(socket.Number, socket, msg));
                    t.FailConnect = Transports.Count < FailFirstConnects;
                    Transports.Add(t);
                    return t;
                };
            }
        }

        static bool Is(Dictionary<string, object> msg, string type) { return Json.Str(msg, "type") == type; }

        static async Task WsResumeTests()
        {
            var h = new Harness();
            var subscribeVars = new List<string>();
            bool pongSeen = false;
            h.Server = (n, s, msg) =>
            {
                if (Is(msg, "connection_init")) { s.Push(Json.O("type", "connection_ack")); if (n == 1) s.Push(Json.O("type", "ping")); }
                if (Is(msg, "pong")) pongSeen = true;
                if (Is(msg, "subscribe"))
                {
                    string id = Json.Str(msg, "id");
                    subscribeVars.Add(Json.Str(Json.Obj(Json.Obj(msg, "payload"), "variables"), "after") ?? "<null>");
                    if (n == 1)
                    {
                        s.Push(Json.O("type", "next", "id", id, "payload", Payload(Ev("ReplyStarted", "c1"))));
                        s.Push(Json.O("type", "next", "id", id, "payload", Payload(Ev("MessageDelta", "c2", "seq", 0, "text", "hi"))));
                        s.Close(1006);
                    }
                    else if (n == 2)
                    {
                        s.Push(Json.O("type", "next", "id", id, "payload", Payload(Ev("ReplyCompleted", "c3"))));
                        s.Close(1011);
                    }
                    else s.Close(4401);
                }
                return true;
            };
            var client = new GraphQLWsClient(new Uri("ws://test/graphql"), () => "tok", h.Options);
            var cursors = new List<string>();
            var reconnects = new List<int>();
            client.Reconnecting += (attempt, delay, code) => reconnects.Add(code);
            var sub = client.Subscribe(HologramQueries.HologramEventsSubscription, Json.O("after", null),
                p => cursors.Add(HologramEventParser.FromPayload(p).Cursor), null, null, HologramEventParser.CursorOf);

            GraphQLWsException error = null;
            try { await client.RunAsync(CancellationToken.None); }
            catch (GraphQLWsException e) { error = e; }

            Check(error != null && error.IsAuthError && error.CloseCode == 4401, "4401 ends RunAsync with an auth error");
            Check(string.Join(",", cursors) == "c1,c2,c3", "events delivered across reconnects: " + string.Join(",", cursors));
            Check(string.Join(",", subscribeVars) == "<null>,c2,c3", "resubscribe with after = last cursor: " + string.Join(",", subscribeVars));
            Check(sub.LastCursor == "c3", "subscription remembers its cursor");
            Check(pongSeen, "server ping answered with pong");
            Check(string.Join(",", reconnects) == "1006,1011", "reconnected after 1006 and 1011");
            Check(h.Delays.Count == 2 && h.Delays.All(d => d.TotalMilliseconds == 500), "acknowledged connections restart the backoff");
            var init = h.Transports[0].Sent[0];
            Check(Is(init, "connection_init") && Json.Str(Json.Obj(init, "payload"), "authorization") == "Bearer tok", "connection_init first, with the bearer token");
            var subscribe = h.Transports[0].Sent.First(m => Is(m, "subscribe"));
            Check(Json.Str(Json.Obj(subscribe, "payload"), "query") == HologramQueries.HologramEventsSubscription, "subscribe carries the query");
            Check(client.State == GraphQLWsState.Failed, "state failed after auth error");
        }

        static async Task VoiceSessionTests()
        {
            var h = new Harness();
            var chunks = new List<Dictionary<string, object>>(); // variables of every sendVoiceChunk sent
            int started = 0;
            h.Server = (n, s, msg) =>
            {
                if (Is(msg, "connection_init")) s.Push(Json.O("type", "connection_ack"));
                if (!Is(msg, "subscribe")) return true;
                string id = Json.Str(msg, "id");
                var payload = Json.Obj(msg, "payload");
                string query = Json.Str(payload, "query");
                var v = Json.Obj(payload, "variables");
                Dictionary<string, object> answer = null;
                if (query.Contains("startVoiceSession"))
                    answer = Json.O("data", Json.O("startVoiceSession", Json.O("id", "vs" + (++started), "sampleRate", 16000, "maxChunkMs", 500)));
                else if (query.Contains("sendVoiceChunk"))
                {
                    lock (chunks) chunks.Add(v);
                    int seq = Json.Int(v, "q");
                    if (seq == 2) { s.Close(1006); return true; } // the socket drops before the answer
                    answer = Json.Str(v, "s") == "vs2"
                        ? Json.O("data", null, "errors", new List<object> { Json.O("message", "Chunks must follow each other", "extensions", Json.O("code", "BAD_USER_INPUT", "reason", "SEQ_GAP")) })
                        : Json.O("data", Json.O("sendVoiceChunk", Json.O("seq", seq, "receivedMs", 100 * (seq + 1))));
                }
                else if (query.Contains("endVoiceSession")) answer = Json.O("data", Json.O("endVoiceSession", Json.O("id", "vs1")));
                if (answer != null)
                {
                    s.Push(Json.O("type", "next", "id", id, "payload", answer));
                    s.Push(Json.O("type", "complete", "id", id));
                }
                return true;
            };
            var client = new GraphQLWsClient(new Uri("ws://test/graphql"), () => "tok", h.Options);
            var cts = new CancellationTokenSource();
            Task running = client.RunAsync(cts.Token);
            var session = await VoiceSession.StartAsync(client, "conv1");
            Check(session.Id == "vs1" && session.SampleRate == 16000, "the session started over the socket");
            string failed = null;
            session.Failed += e => failed = e;
            var first = await session.SendChunk("AAA=", null);
            var second = await session.SendChunk("AAA=", new VoicePlayback { MessageId = "m7", HeardUntilMs = 1234 });
            Check(Json.Int(Json.Obj(Json.Obj(second, "data"), "sendVoiceChunk"), "receivedMs") == 200 && first != null, "chunks answered");
            Check(Json.Int(chunks[0], "q") == 0 && Json.Get(chunks[0], "p") == null && Json.Str(chunks[0], "s") == "vs1", "first chunk: seq 0, nothing playing");
            var playing = Json.Obj(chunks[1], "p");
            Check(Json.Int(chunks[1], "q") == 1 && Json.Str(playing, "messageId") == "m7" && Json.Int(playing, "heardUntilMs") == 1234, "second chunk: seq 1 and the heard position");
            bool dropped = false;
            try { await session.SendChunk("AAA=", null); }
            catch (InvalidOperationException) { dropped = true; }
            Check(dropped, "a chunk whose socket dropped fails instead of hanging");
            await Task.Delay(50);
            Check(failed != null, "a lost chunk ends the session for this client (the server would answer SEQ_GAP)");
            Check(await session.SendChunk("AAA=", null) == null, "no chunk after that");
            lock (chunks) Check(chunks.Count(c => Json.Int(c, "q") == 2) == 1 && chunks.Count == 3, "a mutation is not sent again after a reconnect");
            // A new session after the reconnect; the server refuses its chunk.
            var again = await VoiceSession.StartAsync(client, "conv1");
            string refused = null;
            again.Failed += e => refused = e;
            await again.SendChunk("AAA=", null);
            await Task.Delay(50);
            Check(again.Id == "vs2" && refused != null && refused.StartsWith("BAD_USER_INPUT"), "a refused chunk raises Failed with its code: " + refused);
            await again.EndAsync();
            cts.Cancel();
            await running;
        }

        static async Task WsBackoffTests()
        {
            var h = new Harness { FailFirstConnects = 4 };
            h.Server = (n, s, msg) => { if (Is(msg, "connection_init")) s.Close(4403); return true; };
            var client = new GraphQLWsClient(new Uri("ws://test/graphql"), () => "tok", h.Options);
            GraphQLWsException error = null;
            try { await client.RunAsync(CancellationToken.None); }
            catch (GraphQLWsException e) { error = e; }
            Check(string.Join(",", h.Delays.Select(d => d.TotalMilliseconds)) == "500,1000,2000,4000", "exponential schedule while the server is down: " + string.Join(",", h.Delays.Select(d => d.TotalMilliseconds)));
            Check(error != null && error.CloseCode == 4403 && error.IsAuthError, "4403 before ack is an auth error, no reconnect");
            Check(h.Transports.Count == 5, "no further connection after 4403");
        }

        static async Task WsFatalTests()
        {
            var h = new Harness();
            h.Server = (n, s, msg) =>
            {
                if (Is(msg, "connection_init")) s.Push(Json.O("type", "connection_ack"));
                if (Is(msg, "subscribe")) s.Close(n == 1 ? 4429 : 4400);
                return true;
            };
            var client = new GraphQLWsClient(new Uri("ws://test/graphql"), () => "tok", h.Options);
            client.Subscribe("subscription { x }", null, p => { });
            GraphQLWsException error = null;
            try { await client.RunAsync(CancellationToken.None); }
            catch (GraphQLWsException e) { error = e; }
            Check(h.Transports.Count == 2, "4429 reconnects once");
            Check(error != null && error.Action == CloseAction.FatalProtocol && error.CloseCode == 4400, "4400 is a fatal protocol error");

            // Ack timeout: the server never acks -> the client gives up on the socket and retries.
            var h2 = new Harness();
            h2.Options.AckTimeout = TimeSpan.FromMilliseconds(50);
            h2.Server = (n, s, msg) => { if (Is(msg, "connection_init") && n == 2) s.Close(4401); return true; };
            var client2 = new GraphQLWsClient(new Uri("ws://test/graphql"), () => null, h2.Options);
            try { await client2.RunAsync(CancellationToken.None); } catch (GraphQLWsException) { }
            Check(h2.Transports.Count == 2 && h2.Delays.Count == 1, "missing connection_ack leads to a retry");
            Check(Json.Obj(h2.Transports[0].Sent[0], "payload").Count == 0, "no token, no authorization key");

            // Subscription error and complete messages end the subscription.
            var h3 = new Harness();
            var ended = new List<string>();
            h3.Server = (n, s, msg) =>
            {
                if (Is(msg, "connection_init")) s.Push(Json.O("type", "connection_ack"));
                if (Is(msg, "subscribe") && Json.Str(msg, "id") == "1") s.Push(Json.O("type", "error", "id", "1", "payload", new List<object> { Json.O("message", "bad field") }));
                if (Is(msg, "subscribe") && Json.Str(msg, "id") == "2") { s.Push(Json.O("type", "complete", "id", "2")); s.Close(4401); }
                return true;
            };
            var client3 = new GraphQLWsClient(new Uri("ws://test/graphql"), () => "t", h3.Options);
            var s1 = client3.Subscribe("subscription { a }", null, p => { }, errs => ended.Add("error:" + Json.Str(errs[0], "message")));
            var s2 = client3.Subscribe("subscription { b }", null, p => { }, null, () => ended.Add("complete"));
            try { await client3.RunAsync(CancellationToken.None); } catch (GraphQLWsException) { }
            Check(string.Join(",", ended) == "error:bad field,complete", "error and complete delivered: " + string.Join(",", ended));
            Check(!s1.IsActive && !s2.IsActive, "ended subscriptions are inactive");
        }

        static async Task WsCancelTests()
        {
            var h = new Harness();
            var acked = new TaskCompletionSource<bool>();
            h.Server = (n, s, msg) => { if (Is(msg, "connection_init")) s.Push(Json.O("type", "connection_ack")); return true; };
            var client = new GraphQLWsClient(new Uri("ws://test/graphql"), () => "t", h.Options);
            client.StateChanged += st => { if (st == GraphQLWsState.Connected) acked.TrySetResult(true); };
            var cts = new CancellationTokenSource();
            var run = client.RunAsync(cts.Token);
            await acked.Task;
            var sub = client.Subscribe("subscription { late }", null, p => { });
            await Task.Delay(20);
            Check(h.Transports[0].Sent.Any(m => Is(m, "subscribe") && Json.Str(m, "id") == sub.Id), "subscribe while connected is sent at once");
            sub.Unsubscribe();
            await Task.Delay(20);
            Check(h.Transports[0].Sent.Any(m => Is(m, "complete") && Json.Str(m, "id") == sub.Id), "unsubscribe sends complete");
            cts.Cancel();
            await run;
            Check(client.State == GraphQLWsState.Stopped, "cancel stops the client without an exception");
        }

        // ------------------------------------------------------------------ pairing and session

        static async Task PairingTests()
        {
            var statuses = new Queue<string>(new[] { "PENDING", "SLOW_DOWN", "PENDING", "APPROVED" });
            var api = new FakeApi((q, v) =>
            {
                if (q.Contains("requestDevicePairing"))
                    return Json.O("requestDevicePairing", Json.O("deviceCode", "dc", "userCode", "ABCD-EFGH", "verificationUri", "https://x/pair", "expiresIn", 600L, "interval", 2L));
                string st = statuses.Dequeue();
                return Json.O("pollDevicePairing", Json.O("status", st, "deviceToken", st == "APPROVED" ? "devtok" : null, "deviceId", st == "APPROVED" ? "d1" : null));
            });
            var waits = new List<double>();
            var flow = new PairingFlow(api, (d, ct) => { waits.Add(d.TotalSeconds); return Task.FromResult(0); });
            string shown = null;
            flow.CodeIssued += c => shown = c.UserCode;
            var result = await flow.PairAsync(new DeviceInfo { Model = "HoloBox", Serial = "S1" }, CancellationToken.None);
            Check(shown == "ABCD-EFGH", "user code shown");
            Check(result.Outcome == PairingOutcome.Approved && result.DeviceToken == "devtok" && result.DeviceId == "d1", "approved with token");
            Check(string.Join(",", waits) == "2,2,7,7", "interval honoured, +5 s after SLOW_DOWN: " + string.Join(",", waits));
            var req = api.Calls[0].Value;
            Check(Json.Str(req, "model") == "HoloBox" && Json.Str(req, "serial") == "S1" && ((List<string>)req["capabilities"]).Count == 3, "pairing request variables");
            Check(Json.Str(api.Calls[1].Value, "deviceCode") == "dc", "poll sends the device code");

            // Expired codes are replaced; a denial ends pairing.
            int requests = 0;
            var statuses2 = new Queue<string>(new[] { "EXPIRED", "DENIED" });
            var api2 = new FakeApi((q, v) =>
            {
                if (q.Contains("requestDevicePairing")) { requests++; return Json.O("requestDevicePairing", Json.O("deviceCode", "dc" + requests, "userCode", "U" + requests, "expiresIn", 600L, "interval", 1L)); }
                return Json.O("pollDevicePairing", Json.O("status", statuses2.Dequeue()));
            });
            var flow2 = new PairingFlow(api2, (d, ct) => Task.FromResult(0));
            var denied = await flow2.PairAsync(new DeviceInfo(), CancellationToken.None);
            Check(requests == 2 && denied.Outcome == PairingOutcome.Denied, "expired code renewed, then denied");

            // Local expiry even if the server keeps saying PENDING.
            var api3 = new FakeApi((q, v) => q.Contains("requestDevicePairing")
                ? Json.O("requestDevicePairing", Json.O("deviceCode", "d", "userCode", "U", "expiresIn", 10L, "interval", 3L))
                : Json.O("pollDevicePairing", Json.O("status", "PENDING")));
            var flow3 = new PairingFlow(api3, (d, ct) => Task.FromResult(0));
            var code = await flow3.RequestCodeAsync(new DeviceInfo(), CancellationToken.None);
            var expired = await flow3.PollAsync(code, CancellationToken.None);
            Check(expired.Outcome == PairingOutcome.Expired && api3.Calls.Count == 1 + 4, "local expiry after expiresIn");
        }

        static async Task SessionTests()
        {
            var api = new FakeApi((q, v) => q.Contains("requestDevicePairing")
                ? Json.O("requestDevicePairing", Json.O("deviceCode", "dc", "userCode", "WXYZ", "expiresIn", 600L, "interval", 0L))
                : Json.O("pollDevicePairing", Json.O("status", "APPROVED", "deviceToken", "devtok", "deviceId", "dev1")));
            var h = new Harness();
            string authSeen = null;
            h.Server = (n, s, msg) =>
            {
                if (Is(msg, "connection_init")) { authSeen = Json.Str(Json.Obj(msg, "payload"), "authorization"); s.Push(Json.O("type", "connection_ack")); }
                if (Is(msg, "subscribe"))
                {
                    string id = Json.Str(msg, "id");
                    s.Push(Json.O("type", "next", "id", id, "payload", Payload(Ev("VolumeChanged", "k1", "volume", 0.5))));
                    s.Push(Json.O("type", "next", "id", id, "payload", Payload(Ev("SleepChanged", "k2", "asleep", true))));
                    s.Close(4401); // token revoked
                }
                return true;
            };
            var config = new HologramSessionConfig { HttpEndpoint = new Uri("http://srv:8000/graphql"), Socket = h.Options, PairingDelay = (d, ct) => Task.FromResult(0) };
            Check(config.ResolveWebSocketEndpoint().ToString() == "ws://srv:8000/graphql", "ws endpoint derived from http");
            Check(new HologramSessionConfig { HttpEndpoint = new Uri("https://srv/graphql") }.ResolveWebSocketEndpoint().Scheme == "wss", "https -> wss");
            var session = new HologramSession(config, api);
            var types = new List<string>();
            string authFailed = null;
            PairingResult paired = null;
            session.EventReceived += e => types.Add(e.TypeName);
            session.AuthFailed += m => authFailed = m;
            session.Paired += r => paired = r;
            bool ok = await session.RunAsync(null, null, CancellationToken.None);
            Check(paired != null && paired.DeviceToken == "devtok" && session.DeviceId == "dev1", "session paired");
            Check(authSeen == "Bearer devtok", "socket authorised with the device token");
            Check(string.Join(",", types) == "VolumeChanged,SleepChanged", "events dispatched");
            Check(!ok && authFailed != null && session.LastCursor == "k2", "revoked token surfaces AuthFailed; cursor kept");

            // A GraphQL error on the subscription ends the session with an exception (caller restarts).
            var h2 = new Harness();
            h2.Server = (n, s, msg) =>
            {
                if (Is(msg, "connection_init")) s.Push(Json.O("type", "connection_ack"));
                if (Is(msg, "subscribe")) s.Push(Json.O("type", "error", "id", Json.Str(msg, "id"), "payload", new List<object> { Json.O("message", "Cannot query field") }));
                return true;
            };
            var session2 = new HologramSession(new HologramSessionConfig { HttpEndpoint = new Uri("http://srv/graphql"), Socket = h2.Options }, api);
            string thrown = null;
            try { await session2.RunAsync("existing-token", "k9", CancellationToken.None); }
            catch (GraphQLRequestException e) { thrown = e.Message; }
            Check(thrown != null && thrown.Contains("Cannot query field"), "subscription error ends the session: " + thrown);
            var sub2 = h2.Transports[0].Sent.First(m => Is(m, "subscribe"));
            Check(Json.Str(Json.Obj(Json.Obj(sub2, "payload"), "variables"), "after") == "k9", "existing token skips pairing; resume cursor passed");

            // CURSOR_EXPIRED: the app is told to reload, and the session follows again from now.
            var h3 = new Harness();
            var afters = new List<string>();
            h3.Server = (n, s, msg) =>
            {
                if (Is(msg, "connection_init")) s.Push(Json.O("type", "connection_ack"));
                if (!Is(msg, "subscribe")) return true;
                string id = Json.Str(msg, "id");
                string after = Json.Str(Json.Obj(Json.Obj(msg, "payload"), "variables"), "after");
                afters.Add(after ?? "<null>");
                if (after != null)
                {
                    var expiredError = Json.O("message", "reload the history", "extensions", Json.O("code", "CURSOR_EXPIRED"));
                    s.Push(Json.O("type", "next", "id", id, "payload", Json.O("data", null, "errors", new List<object> { expiredError })));
                    s.Push(Json.O("type", "complete", "id", id));
                    return true;
                }
                s.Push(Json.O("type", "next", "id", id, "payload", Payload(Ev("VolumeChanged", "k7", "volume", 0.5))));
                s.Close(4401);
                return true;
            };
            var session3 = new HologramSession(new HologramSessionConfig { HttpEndpoint = new Uri("http://srv/graphql"), Socket = h3.Options }, api);
            int reloads = 0;
            var received = new List<string>();
            List<object> failed = null;
            session3.CursorExpired += () => reloads++;
            session3.EventReceived += e => received.Add(e.TypeName);
            session3.SubscriptionFailed += errors => failed = errors;
            bool ok3 = await session3.RunAsync("existing-token", "stale", CancellationToken.None);
            Check(string.Join(",", afters) == "stale,<null>", "resubscribed without a cursor: " + string.Join(",", afters));
            Check(reloads == 1 && failed == null, "CursorExpired raised once, not reported as a failure");
            Check(string.Join(",", received) == "VolumeChanged" && session3.LastCursor == "k7", "events flow again");
            Check(!ok3, "the session went on until the token was refused");
        }
    }
}
