// A VRM 0.x character's mouth and face through UniVRM 0.x's VRMBlendShapeProxy, so the model's
// BlendShapeClips decide which mesh blendshapes and materials move. Compiled only when the project
// has UniVRM's com.vrmc.univrm package (this assembly's versionDefines and defineConstraints).
// Values are accumulated and applied once per frame (AccumulateValue + Apply, UniVRM's advice
// when several clips share blendshapes, as a vowel and Joy share the mouth). Blink is left to the
// model's own blinker: no Blink or LookAt clip is ever set here.
#if HOLOMATE_UNIVRM0
using HoloMate.Unity;
using UnityEngine;
using VRM;

namespace HoloMate.Client.Vrm
{
    public sealed class Vrm0ExpressionDriver : KeyedExpressionDriver<BlendShapeKey>
    {
        [Tooltip("The loaded VRM 0.x model's VRMBlendShapeProxy.")]
        public VRMBlendShapeProxy proxy;

        /// <summary>A preset's name ("A", "Joy"; any case) is that preset; anything else a custom clip.</summary>
        protected override BlendShapeKey KeyFor(string name)
        {
            return PresetOrCustom(name, true, BlendShapePreset.Unknown, BlendShapeKey.CreateFromPreset, BlendShapeKey.CreateUnknown);
        }

        protected override void SetWeight(BlendShapeKey key, float weight)
        {
            if (proxy != null) proxy.AccumulateValue(key, weight);
        }

        protected override void Apply()
        {
            if (proxy != null) proxy.Apply();
        }
    }
}
#endif
