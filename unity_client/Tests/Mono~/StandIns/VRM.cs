// Stand-ins for the part of UniVRM's public API the VRM drivers call, with UniVRM's namespaces,
// names and signatures (read from vrm-c/UniVRM v0.131: Packages/VRM10/Runtime/Components/
// Expression/ExpressionKey.cs and ExpressionPreset.cs, Vrm10Instance.cs, Vrm10Runtime.cs,
// Vrm10RuntimeExpression.cs; Packages/VRM/Runtime/BlendShape/BlendShapeKey.cs,
// VRMBlendShapeProxy.cs, Format/glTF_VRM_BlendShape.cs). They record the weights set, so the test
// reads what a model would have been told; they are not UniVRM and apply nothing to a mesh.
using System;
using System.Collections.Generic;
using UnityEngine;

namespace VRM
{
    public enum BlendShapePreset
    {
        Unknown, Neutral, A, I, U, E, O, Blink, Joy, Angry, Sorrow, Fun,
        LookUp, LookDown, LookLeft, LookRight, Blink_L, Blink_R,
    }

    public readonly struct BlendShapeKey : IEquatable<BlendShapeKey>
    {
        public string Name { get; }
        public readonly BlendShapePreset Preset;

        BlendShapeKey(string name, BlendShapePreset preset) { Name = name; Preset = preset; }

        public static BlendShapeKey CreateFromPreset(BlendShapePreset preset) { return new BlendShapeKey(preset.ToString(), preset); }
        public static BlendShapeKey CreateUnknown(string name) { return new BlendShapeKey(name, BlendShapePreset.Unknown); }
        public bool Equals(BlendShapeKey other) { return Preset == other.Preset && Name == other.Name; }
        public override bool Equals(object obj) { return obj is BlendShapeKey && Equals((BlendShapeKey)obj); }
        public override int GetHashCode() { return Name.GetHashCode(); }
        public override string ToString() { return Preset == BlendShapePreset.Unknown ? "unknown:" + Name : Name; }
    }

    public class VRMBlendShapeProxy : MonoBehaviour
    {
        readonly Dictionary<BlendShapeKey, float> _accumulated = new Dictionary<BlendShapeKey, float>();
        /// <summary>Stand-in only: the values of the last Apply (what the clips would show).</summary>
        public readonly Dictionary<BlendShapeKey, float> Applied = new Dictionary<BlendShapeKey, float>();
        public int Applies;

        public void ImmediatelySetValue(BlendShapeKey key, float value) { Applied[key] = value; }
        public void AccumulateValue(BlendShapeKey key, float value) { _accumulated[key] = value; }
        public float GetValue(BlendShapeKey key) { float w; return Applied.TryGetValue(key, out w) ? w : 0f; }
        public void Apply()
        {
            foreach (var kv in _accumulated) Applied[kv.Key] = kv.Value;
            _accumulated.Clear();
            Applies++;
        }
    }
}
