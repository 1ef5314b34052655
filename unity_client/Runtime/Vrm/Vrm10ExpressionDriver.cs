// A VRM 1.0 character's mouth and face through UniVRM's expression API
// (Vrm10Instance.Runtime.Expression.SetWeight), so the model's own expression definitions decide
// which mesh blendshapes and materials move. Compiled only when the project has UniVRM's
// com.vrmc.vrm package (this assembly's versionDefines and defineConstraints).
// Blink and look-at are left to the model: no blink or look key is ever set here, and the
// expressions' overrideBlink / overrideLookAt / overrideMouth settings apply as the author made them.
// LateUpdate at the default execution order runs before Vrm10Instance's (DefaultExecutionOrder
// 11000), which applies the weights in the same frame.
#if HOLOMATE_UNIVRM10
using HoloMate.Unity;
using UniVRM10;
using UnityEngine;

namespace HoloMate.Client.Vrm
{
    public sealed class Vrm10ExpressionDriver : KeyedExpressionDriver<ExpressionKey>
    {
        [Tooltip("The loaded VRM 1.0 model (Vrm10Instance on its root).")]
        public Vrm10Instance vrm;

        /// <summary>A preset's name ("aa", "happy") is that preset; anything else a custom expression.</summary>
        protected override ExpressionKey KeyFor(string name)
        {
            return PresetOrCustom(name, false, ExpressionPreset.custom, ExpressionKey.CreateFromPreset, ExpressionKey.CreateCustom);
        }

        protected override void SetWeight(ExpressionKey key, float weight)
        {
            if (vrm != null) vrm.Runtime.Expression.SetWeight(key, weight);
        }
    }
}
#endif
