// The VRM drivers, fed by a real server's manifest: the deviceManifest answer (to the Core's own
// HologramQueries.DeviceManifest, which --print-query prints) is read by the Core
// (CharacterManifest), one reply's events go through the ReplyRouter as they arrive from the
// server, and the driver is stepped along the audio clock as Unity's LateUpdate would. The UniVRM
// types are stand-ins (StandIns/VRM10.cs, VRM.cs) that record what the model would have been
// told: which expression keys, with which weights, at which audio times.
//   mono VrmDriverTests.exe --print-query
//   mono VrmDriverTests.exe --manifest data.json --expect VRM0|VRM1     (the answer's "data")
//   mono VrmDriverTests.exe --url http://host/graphql --token DEVICE_TOKEN --expect VRM0|VRM1
// Prints "N passed, N failed" last; exit 0 when none failed.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using HoloMate.Client.Vrm;
using HoloMate.Core;
using HoloMate.Unity;

namespace HoloMate.Tests
{
    public static class VrmDriverTests
    {
        static int _passed, _failed;

        static void Check(bool ok, string what)
        {
            if (ok) _passed++;
            else { _failed++; Console.WriteLine("FAIL " + what); }
        }

        static void Near(float actual, double expected, double tolerance, string what)
        {
            Check(Math.Abs(actual - expected) <= tolerance, what + " (expected " + expected + ", got " + actual + ")");
        }

        public static int Main(string[] args)
        {
            if (args.Contains("--print-query")) { Console.Write(HologramQueries.DeviceManifest); return 0; }
            string url = Arg(args, "--url"), token = Arg(args, "--token"), file = Arg(args, "--manifest"), expect = Arg(args, "--expect");
            if ((file == null && (url == null || token == null)) || expect == null)
            {
                Console.Error.WriteLine("usage: VrmDriverTests.exe (--manifest DATA.json | --url URL --token DEVICE_TOKEN) --expect VRM0|VRM1");
                return 2;
            }
            CharacterManifest manifest = file != null
                ? CharacterManifest.FromData(MiniJson.ParseObject(System.IO.File.ReadAllText(file)))
                : CharacterManifest.LoadAsync(new GraphQLHttpClient(new Uri(url)), token, CancellationToken.None).GetAwaiter().GetResult();
            Check(manifest.VrmVersion.ToString() == expect, "the manifest's vrmVersion is " + expect + " (" + manifest.VrmVersion + ")");
            if (manifest.VrmVersion == VrmVersion.VRM1) Vrm10(manifest);
            else Vrm0(manifest);
            Console.WriteLine(_passed + " passed, " + _failed + " failed");
            return _failed == 0 ? 0 : 1;
        }

        static string Arg(string[] args, string name)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }

        // ---------------------------------------------------------------- one reply

        /// <summary>
        /// Two audio chunks (0-300 ms, 300-500 ms). Chunk 0 says "aa" from 50 to 250 ms, chunk 1
        /// "oh" from 0 to 200 ms of its own audio (300-500 on the reply clock); joy (0.6) from the
        /// start, sadness (0.8) from 300 ms, affection (custom "Blush" on the character) from 600 ms.
        /// Frames come before their chunk, as the server sends them; all as JSON text.
        /// </summary>
        static ReplyRouter PlayOneReply()
        {
            var router = new ReplyRouter();
            Action<string> ev = json => router.Handle(HologramEventParser.FromPayload(MiniJson.ParseObject(
                "{\"data\":{\"hologramEvents\":" + json.Replace('\'', '"') + "}}")));
            const string M = "'cursor':'c','conversationId':'k','messageId':'m1','at':'2026-11-30T00:00:00Z'";
            ev("{'__typename':'ReplyStarted'," + M + "}");
            ev("{'__typename':'EmotionChanged'," + M + ",'emotion':'JOY','intensity':0.6,'atMs':0}");
            ev("{'__typename':'VisemeFrames'," + M + ",'audioSeq':0,'frames':["
                + "{'viseme':'sil','startMs':0,'endMs':50,'weight':1},{'viseme':'aa','startMs':50,'endMs':250,'weight':1},"
                + "{'viseme':'sil','startMs':250,'endMs':300,'weight':1}]}");
            ev("{'__typename':'AudioChunk'," + M + ",'seq':0,'url':'/a/0.mp3','mimeType':'audio/mpeg','startMs':0,'durationMs':300,'text':'Hi'}");
            ev("{'__typename':'VisemeFrames'," + M + ",'audioSeq':1,'frames':[{'viseme':'oh','startMs':0,'endMs':200,'weight':1}]}");
            ev("{'__typename':'AudioChunk'," + M + ",'seq':1,'url':'/a/1.mp3','mimeType':'audio/mpeg','startMs':300,'durationMs':200,'text':'oh'}");
            ev("{'__typename':'EmotionChanged'," + M + ",'emotion':'SADNESS','intensity':0.8,'atMs':300}");
            ev("{'__typename':'EmotionChanged'," + M + ",'emotion':'AFFECTION','intensity':0.5,'atMs':600}");
            return router;
        }

        /// <summary>Steps the driver every 10 ms of audio up to each checkpoint and reads the weights there.</summary>
        static Dictionary<int, Dictionary<string, float>> Run(ExpressionDriver driver, Func<Dictionary<string, float>> read, params int[] checkpoints)
        {
            var seen = new Dictionary<int, Dictionary<string, float>>();
            for (int ms = 0; ms <= checkpoints.Max(); ms += 10)
            {
                driver.Drive(ms);
                if (checkpoints.Contains(ms)) seen[ms] = read();
            }
            return seen;
        }

        static float W(Dictionary<string, float> weights, string key)
        {
            float w;
            return weights.TryGetValue(key, out w) ? w : 0f;
        }

        /// <summary>The same story for both versions, in each one's names.</summary>
        static void Story(string version, Dictionary<int, Dictionary<string, float>> at, string aa, string oh, string[] vowels, string happy, string sad)
        {
            string v = version + ": ";
            Check(W(at[200], aa) > 0.9f, v + aa + " open mid-'aa' (200 ms: " + W(at[200], aa) + ")");
            foreach (string other in vowels.Where(x => x != aa))
                Check(W(at[200], other) < 0.01f, v + other + " shut mid-'aa' (" + W(at[200], other) + ")");
            Near(W(at[200], happy), 0.6 * 200 / 250, 0.01, v + happy + " fading in on the emotion timeline's 250 ms");
            Check(W(at[290], aa) < 0.5f, v + aa + " released after its frame (290 ms: " + W(at[290], aa) + ")");
            Near(W(at[290], happy), 0.6, 0.001, v + happy + " at the joy's intensity");
            Check(W(at[450], oh) > 0.9f && W(at[450], aa) < 0.05f, v + oh + " open in chunk 1 at 300 + its own 150 ms (" + W(at[450], oh) + ")");
            Near(W(at[450], sad), 0.8 * 150 / 250, 0.01, v + sad + " cross-fading in from 300 ms");
            Near(W(at[450], happy), 0.6 * (1 - 150.0 / 250), 0.01, v + happy + " cross-fading out");
            Check(vowels.All(x => W(at[700], x) < 0.05f), v + "the mouth closes after the reply's audio");
            Near(W(at[590], sad), 0.8, 0.001, v + sad + " held after the audio");
            Near(W(at[900], "Blush"), 0.5, 0.001, v + "the character's own expression for affection");
            Check(W(at[900], sad) < 0.001f, v + sad + " released once affection took over");
        }

        static readonly int[] Checkpoints = { 200, 290, 450, 590, 700, 900 };

        static void Vrm10(CharacterManifest manifest)
        {
            var vrm = new UniVRM10.Vrm10Instance();
            var driver = new Vrm10ExpressionDriver { vrm = vrm };
            driver.Bind(PlayOneReply());
            driver.UseManifest(manifest);
            var set = vrm.Runtime.Expression.Set;
            var at = Run(driver, () => set.ToDictionary(kv => kv.Key.Name, kv => kv.Value), Checkpoints);
            Story("VRM 1.0", at, "aa", "oh", new[] { "aa", "ih", "ou", "ee", "oh" }, "happy", "sad");
            foreach (string preset in new[] { "aa", "ih", "ou", "ee", "oh", "happy", "angry", "sad", "surprised", "neutral" })
                Check(set.Keys.Any(k => k.Preset.ToString() == preset && k.Name == preset), "VRM 1.0: the preset key " + preset + " is driven");
            Check(set.Keys.Any(k => k.Preset == UniVRM10.ExpressionPreset.custom && k.Name == "Blush"), "VRM 1.0: Blush is a custom key");
            Check(!set.Keys.Any(k => k.Preset.ToString().StartsWith("blink") || k.Preset.ToString().StartsWith("look")),
                "VRM 1.0: blink and look-at are never set (the model's own)");
        }

        static void Vrm0(CharacterManifest manifest)
        {
            var proxy = new VRM.VRMBlendShapeProxy();
            var driver = new Vrm0ExpressionDriver { proxy = proxy };
            driver.Bind(PlayOneReply());
            driver.UseManifest(manifest);
            var at = Run(driver, () => proxy.Applied.ToDictionary(kv => kv.Key.Name, kv => kv.Value), Checkpoints);
            Story("VRM 0.x", at, "A", "O", new[] { "A", "I", "U", "E", "O" }, "Joy", "Sorrow");
            foreach (string preset in new[] { "A", "I", "U", "E", "O", "Joy", "Angry", "Sorrow", "Neutral" })
                Check(proxy.Applied.Keys.Any(k => k.Preset.ToString() == preset), "VRM 0.x: the preset key " + preset + " is driven");
            Check(proxy.Applied.Keys.Any(k => k.Preset == VRM.BlendShapePreset.Unknown && k.Name == "Blush"), "VRM 0.x: Blush is a custom clip");
            Check(!proxy.Applied.Keys.Any(k => k.Preset.ToString().StartsWith("Blink") || k.Preset.ToString().StartsWith("Look")),
                "VRM 0.x: blink and look-at are never set (the model's own)");
            Check(proxy.Applies == 91, "VRM 0.x: one Apply per 10 ms frame from 0 to 900 ms (" + proxy.Applies + ")");
            Check(!proxy.Applied.Keys.Any(k => k.Name == "Fun"), "VRM 0.x: Fun, affection's default, replaced by the character's Blush");
        }
    }
}
