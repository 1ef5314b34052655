// A VRM 0.x character's mouth and face through UniVRM 0.x's VRMBlendShapeProxy, so the model's
// BlendShapeClips decide which mesh blendshapes and materials move. Compiled only when the project
// has UniVRM's com.vrmc.univrm package (this assembly's versionDefines and defineConstraints).
// Values are accumulated and applied once per frame (AccumulateValue + Apply, UniVRM's advice
// when several clips share blendshapes, as a vowel and Joy share the mouth). Blink is left to the
// model's own blinker: no Blink or LookAt clip is ever set here.
#if HOLOMATE_UNIVRM0
using System;
using System.Collections.Generic;
using HoloMate.Core;
using HoloMate.Unity;
using UnityEngine;
using VRM;

namespace HoloMate.Client.Vrm
{
    public sealed class Vrm0ExpressionDriver : ExpressionDriver
    {
        [Tooltip("The loaded VRM 0.x model's VRMBlendShapeProxy.")]
        public VRMBlendShapeProxy proxy;

        readonly Dictionary<string, BlendShapeKey> _keys = new Dictionary<string, BlendShapeKey>(StringComparer.Ordinal);

        protected override void OnMapsChanged(ExpressionMixer mixer)
        {
            _keys.Clear();
            foreach (string name in mixer.Names) _keys[name] = KeyOf(name);
        }

        /// <summary>A preset's name ("A", "Joy"; any case) is that preset; anything else a custom clip.</summary>
        public static BlendShapeKey KeyOf(string name)
        {
            BlendShapePreset preset;
            if (Enum.TryParse(name, true, out preset) && preset != BlendShapePreset.Unknown && Enum.IsDefined(typeof(BlendShapePreset), preset))
                return BlendShapeKey.CreateFromPreset(preset);
            return BlendShapeKey.CreateUnknown(name);
        }

        protected override void SetExpression(string name, float weight)
        {
            if (proxy == null) return;
            BlendShapeKey key;
            if (!_keys.TryGetValue(name, out key)) key = KeyOf(name);
            proxy.AccumulateValue(key, weight);
        }

        protected override void Apply()
        {
            if (proxy != null) proxy.Apply();
        }
    }
}
#endif
