// A VRM 1.0 character's mouth and face through UniVRM's expression API
// (Vrm10Instance.Runtime.Expression.SetWeight), so the model's own expression definitions decide
// which mesh blendshapes and materials move. Compiled only when the project has UniVRM's
// com.vrmc.vrm package (this assembly's versionDefines and defineConstraints).
// Blink and look-at are left to the model: no blink or look key is ever set here, and the
// expressions' overrideBlink / overrideLookAt / overrideMouth settings apply as the author made them.
#if HOLOMATE_UNIVRM10
using System;
using System.Collections.Generic;
using HoloMate.Core;
using HoloMate.Unity;
using UniVRM10;
using UnityEngine;

namespace HoloMate.Client.Vrm
{
    public sealed class Vrm10ExpressionDriver : ExpressionDriver
    {
        [Tooltip("The loaded VRM 1.0 model (Vrm10Instance on its root).")]
        public Vrm10Instance vrm;

        readonly Dictionary<string, ExpressionKey> _keys = new Dictionary<string, ExpressionKey>(StringComparer.Ordinal);

        protected override void OnMapsChanged(ExpressionMixer mixer)
        {
            _keys.Clear();
            foreach (string name in mixer.Names) _keys[name] = KeyOf(name);
        }

        /// <summary>A preset's name ("aa", "happy") is that preset; anything else a custom expression.</summary>
        public static ExpressionKey KeyOf(string name)
        {
            ExpressionPreset preset;
            if (Enum.TryParse(name, false, out preset) && preset != ExpressionPreset.custom && Enum.IsDefined(typeof(ExpressionPreset), preset))
                return ExpressionKey.CreateFromPreset(preset);
            return ExpressionKey.CreateCustom(name);
        }

        protected override void SetExpression(string name, float weight)
        {
            if (vrm == null) return;
            ExpressionKey key;
            if (!_keys.TryGetValue(name, out key)) key = KeyOf(name);
            vrm.Runtime.Expression.SetWeight(key, weight);
        }
    }
}
#endif
