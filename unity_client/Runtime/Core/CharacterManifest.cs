// The character part of the server's deviceManifest: which model to load and how the 15 visemes
// and 9 emotions become that model's expressions. The server owns the defaults (VRM 1.0 presets
// "aa ih ou ee oh" / "happy angry sad relaxed surprised" for a VRM1 character, VRM 0.x presets
// "A I U E O" / "Joy Angry Sorrow Fun" for a VRM0 one, the character's own map on top), so the
// device never keeps a second copy of them.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace HoloMate.Core
{
    public enum VrmVersion { VRM1, VRM0 }

    public sealed class CharacterManifest
    {
        public string CompanionId;
        public string Name;
        /// <summary>The model file; null when no character is assigned (show the app's default).</summary>
        public string Url;
        /// <summary>"VRM" or "GLB".</summary>
        public string Format;
        public VrmVersion VrmVersion;
        /// <summary>Viseme to expression (VRM) or blendshape (GLB) names with weights.</summary>
        public VisemeMap Visemes = new VisemeMap();
        /// <summary>One expression or animation name per emotion (index = <see cref="Emotion"/>); null: none.</summary>
        public readonly string[] Emotions = new string[EmotionNames.Count];

        /// <summary>Reads the "data" of <see cref="HologramQueries.DeviceManifest"/>.</summary>
        public static CharacterManifest FromData(Dictionary<string, object> data)
        {
            var manifest = Json.Obj(data, "deviceManifest");
            var character = Json.Obj(manifest, "character");
            var m = new CharacterManifest
            {
                CompanionId = Json.Str(manifest, "companionId"),
                Name = Json.Str(character, "name"),
                Url = Json.Str(character, "url"),
                Format = Json.Str(character, "format", "VRM"),
                VrmVersion = Json.Str(character, "vrmVersion") == "VRM0" ? VrmVersion.VRM0 : VrmVersion.VRM1,
            };
            foreach (object entry in Json.List(character, "visemeBlendshapes") ?? new List<object>())
            {
                Viseme v;
                if (!VisemeNames.TryParse(Json.Str(entry, "viseme"), out v)) continue;
                foreach (object shape in Json.List(entry, "blendshapes") ?? new List<object>())
                    m.Visemes.Add(v, Json.Str(shape, "name"), (float)Json.Num(shape, "weight", 1));
            }
            foreach (object entry in Json.List(character, "emotionAnimations") ?? new List<object>())
            {
                Emotion e;
                if (EmotionNames.TryParse(Json.Str(entry, "emotion"), out e)) m.Emotions[(int)e] = Json.Str(entry, "animation");
            }
            return m;
        }

        public static async Task<CharacterManifest> LoadAsync(IGraphQLRequester api, string deviceToken, CancellationToken ct)
        {
            return FromData(await api.ExecuteAsync(HologramQueries.DeviceManifest, null, deviceToken, ct));
        }
    }
}
