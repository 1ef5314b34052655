// Stand-ins for the part of UniVRM's public API the VRM drivers call, with UniVRM's namespaces,
// names and signatures (read from vrm-c/UniVRM v0.131: Packages/VRM10/Runtime/Components/
// Expression/ExpressionKey.cs and ExpressionPreset.cs, Vrm10Instance.cs, Vrm10Runtime.cs,
// Vrm10RuntimeExpression.cs; Packages/VRM/Runtime/BlendShape/BlendShapeKey.cs,
// VRMBlendShapeProxy.cs, Format/glTF_VRM_BlendShape.cs). They record the weights set, so the test
// reads what a model would have been told; they are not UniVRM and apply nothing to a mesh.
using System;
using System.Collections.Generic;
using UnityEngine;

namespace UniVRM10
{
    public enum ExpressionPreset
    {
        custom, happy, angry, sad, relaxed, surprised, aa, ih, ou, ee, oh,
        blink, blinkLeft, blinkRight, lookUp, lookDown, lookLeft, lookRight, neutral,
    }

    public readonly struct ExpressionKey : IEquatable<ExpressionKey>
    {
        public readonly ExpressionPreset Preset;
        public readonly string Name;

        public ExpressionKey(ExpressionPreset preset, string customName = null)
        {
            if (preset == ExpressionPreset.custom && string.IsNullOrEmpty(customName))
                throw new ArgumentException("name is required for ExpressionPreset.Custom");
            Preset = preset;
            Name = preset == ExpressionPreset.custom ? customName : preset.ToString();
        }

        public static ExpressionKey CreateCustom(string key) { return new ExpressionKey(ExpressionPreset.custom, key); }
        public static ExpressionKey CreateFromPreset(ExpressionPreset preset) { return new ExpressionKey(preset); }
        public bool Equals(ExpressionKey other) { return Preset == other.Preset && Name == other.Name; }
        public override bool Equals(object obj) { return obj is ExpressionKey && Equals((ExpressionKey)obj); }
        public override int GetHashCode() { return (Preset == ExpressionPreset.custom ? "Unknown_" + Name : Name).GetHashCode(); }
        public override string ToString() { return Preset == ExpressionPreset.custom ? "custom:" + Name : Name; }
    }

    public sealed class Vrm10RuntimeExpression
    {
        public readonly Dictionary<ExpressionKey, float> Set = new Dictionary<ExpressionKey, float>();
        public void SetWeight(ExpressionKey expressionKey, float weight) { Set[expressionKey] = weight; }
        public float GetWeight(ExpressionKey expressionKey) { float w; return Set.TryGetValue(expressionKey, out w) ? w : 0f; }
    }

    public class Vrm10Runtime
    {
        readonly Vrm10RuntimeExpression _expression = new Vrm10RuntimeExpression();
        public Vrm10RuntimeExpression Expression { get { return _expression; } }
    }

    public class Vrm10Instance : MonoBehaviour
    {
        readonly Vrm10Runtime _runtime = new Vrm10Runtime();
        public Vrm10Runtime Runtime { get { return _runtime; } }
    }
}
