// Turns the 15 viseme weights into blendshape weights of a particular character rig.
// A character's map is JSON: each viseme names one blendshape, one blendshape with a weight, or
// several weighted blendshapes:
//   {"aa": "jawOpen", "PP": {"name": "mouthClose", "weight": 0.8},
//    "oh": [{"name": "jawOpen", "weight": 0.5}, {"name": "mouthFunnel", "weight": 0.6}]}
// Visemes missing from the map move nothing (sil usually maps to nothing: the rest pose).
using System;
using System.Collections.Generic;

namespace HoloMate.Core
{
    public struct BlendshapeTarget
    {
        public string Name;
        public float Weight;
        public BlendshapeTarget(string name, float weight) { Name = name; Weight = weight; }
    }

    public sealed class VisemeMap
    {
        readonly List<BlendshapeTarget>[] _targets = new List<BlendshapeTarget>[VisemeNames.Count];
        /// <summary>Viseme names in the JSON that are not one of the 15 (typos in a character file).</summary>
        public readonly List<string> UnknownVisemes = new List<string>();

        public VisemeMap()
        {
            for (int i = 0; i < _targets.Length; i++) _targets[i] = new List<BlendshapeTarget>();
        }

        public IList<BlendshapeTarget> TargetsOf(Viseme v) { return _targets[(int)v]; }

        public VisemeMap Add(Viseme v, string blendshape, float weight = 1f)
        {
            _targets[(int)v].Add(new BlendshapeTarget(blendshape, weight));
            return this;
        }

        public static VisemeMap FromJson(string json)
        {
            var map = new VisemeMap();
            foreach (var kv in MiniJson.ParseObject(json))
            {
                Viseme v;
                if (!VisemeNames.TryParse(kv.Key, out v)) { map.UnknownVisemes.Add(kv.Key); continue; }
                var list = kv.Value as List<object>;
                if (list != null) { foreach (object item in list) map.AddEntry(v, item); }
                else map.AddEntry(v, kv.Value);
            }
            return map;
        }

        void AddEntry(Viseme v, object entry)
        {
            var name = entry as string;
            if (name != null) { Add(v, name); return; }
            string n = Json.Str(entry, "name") ?? Json.Str(entry, "blendshape");
            if (n != null) Add(v, n, (float)Json.Num(entry, "weight", 1));
        }

        /// <summary>ARKit blendshape names (Apple's 52; most VRoid/VRM exports and Ready Player Me avatars carry them).</summary>
        public static VisemeMap DefaultArkit()
        {
            return new VisemeMap()
                .Add(Viseme.PP, "mouthClose", 0.6f).Add(Viseme.PP, "mouthPressLeft", 0.5f).Add(Viseme.PP, "mouthPressRight", 0.5f)
                .Add(Viseme.FF, "mouthRollLower", 0.6f).Add(Viseme.FF, "mouthUpperUpLeft", 0.3f).Add(Viseme.FF, "mouthUpperUpRight", 0.3f)
                .Add(Viseme.TH, "jawOpen", 0.2f).Add(Viseme.TH, "tongueOut", 0.4f)
                .Add(Viseme.DD, "jawOpen", 0.3f)
                .Add(Viseme.kk, "jawOpen", 0.35f)
                .Add(Viseme.CH, "jawOpen", 0.2f).Add(Viseme.CH, "mouthFunnel", 0.5f)
                .Add(Viseme.SS, "jawOpen", 0.1f).Add(Viseme.SS, "mouthStretchLeft", 0.4f).Add(Viseme.SS, "mouthStretchRight", 0.4f)
                .Add(Viseme.nn, "jawOpen", 0.2f)
                .Add(Viseme.RR, "jawOpen", 0.2f).Add(Viseme.RR, "mouthPucker", 0.4f)
                .Add(Viseme.aa, "jawOpen", 0.7f)
                .Add(Viseme.E, "jawOpen", 0.4f).Add(Viseme.E, "mouthStretchLeft", 0.4f).Add(Viseme.E, "mouthStretchRight", 0.4f)
                .Add(Viseme.ih, "jawOpen", 0.3f).Add(Viseme.ih, "mouthSmileLeft", 0.3f).Add(Viseme.ih, "mouthSmileRight", 0.3f)
                .Add(Viseme.oh, "jawOpen", 0.5f).Add(Viseme.oh, "mouthFunnel", 0.6f)
                .Add(Viseme.ou, "jawOpen", 0.2f).Add(Viseme.ou, "mouthPucker", 0.8f);
        }

        /// <summary>VRM's five vowel expressions (aa ih ou ee oh); consonants borrow the nearest vowel.</summary>
        public static VisemeMap DefaultVrm()
        {
            return new VisemeMap()
                .Add(Viseme.aa, "aa").Add(Viseme.E, "ee").Add(Viseme.ih, "ih").Add(Viseme.oh, "oh").Add(Viseme.ou, "ou")
                .Add(Viseme.PP, "aa", 0.05f).Add(Viseme.FF, "ih", 0.3f).Add(Viseme.TH, "aa", 0.2f)
                .Add(Viseme.DD, "aa", 0.3f).Add(Viseme.kk, "aa", 0.35f).Add(Viseme.CH, "ou", 0.4f)
                .Add(Viseme.SS, "ih", 0.4f).Add(Viseme.nn, "aa", 0.2f).Add(Viseme.RR, "ou", 0.4f);
        }
    }

    /// <summary>A <see cref="VisemeMap"/> resolved against one mesh's blendshape indices.</summary>
    public sealed class VisemeMapper
    {
        struct Binding { public int Slot; public float Weight; }

        readonly List<Binding>[] _bindings = new List<Binding>[VisemeNames.Count];
        /// <summary>Mesh blendshape index of each output slot.</summary>
        public readonly List<int> BlendshapeIndices = new List<int>();
        /// <summary>Blendshape names of the map the mesh does not have (the map belongs to another rig).</summary>
        public readonly List<string> MissingBlendshapes = new List<string>();

        /// <param name="indexOf">Mesh blendshape index for a name, or -1 (Unity: Mesh.GetBlendShapeIndex).</param>
        public VisemeMapper(VisemeMap map, Func<string, int> indexOf)
        {
            var slotOfIndex = new Dictionary<int, int>();
            for (int v = 0; v < VisemeNames.Count; v++)
            {
                _bindings[v] = new List<Binding>();
                foreach (var t in map.TargetsOf((Viseme)v))
                {
                    int index = indexOf(t.Name);
                    if (index < 0) { if (!MissingBlendshapes.Contains(t.Name)) MissingBlendshapes.Add(t.Name); continue; }
                    int slot;
                    if (!slotOfIndex.TryGetValue(index, out slot))
                    {
                        slot = BlendshapeIndices.Count;
                        slotOfIndex[index] = slot;
                        BlendshapeIndices.Add(index);
                    }
                    _bindings[v].Add(new Binding { Slot = slot, Weight = t.Weight });
                }
            }
        }

        /// <summary>
        /// Blendshape weights (0..1) per slot of <see cref="BlendshapeIndices"/>. Contributions add up
        /// (several visemes share jawOpen) and are clamped, so a blend never over-drives a shape.
        /// </summary>
        public void Apply(float[] visemeWeights, float[] slotWeights)
        {
            Array.Clear(slotWeights, 0, BlendshapeIndices.Count);
            for (int v = 0; v < VisemeNames.Count; v++)
            {
                float w = visemeWeights[v];
                if (w <= 0f) continue;
                foreach (var b in _bindings[v]) slotWeights[b.Slot] += w * b.Weight;
            }
            for (int i = 0; i < BlendshapeIndices.Count; i++) if (slotWeights[i] > 1f) slotWeights[i] = 1f;
        }
    }
}
