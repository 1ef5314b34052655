// Base of the drivers that move a character through NAMED expressions (VRM 1.0's Expression API,
// VRM 0.x's BlendShapeProxy) rather than mesh blendshapes: the Core's ExpressionMixer computes
// every name's weight on the reply's audio clock, a subclass only hands them to its engine API.
// HologramBehaviour binds it to the reply timelines and gives it the server's manifest.
using System;
using System.Collections.Generic;
using HoloMate.Core;
using UnityEngine;

namespace HoloMate.Unity
{
    public abstract class ExpressionDriver : MonoBehaviour
    {
        public AudioChunkPlayer player;
        public float attackMs = 30f;
        public float releaseMs = 60f;

        VisemeTimeline _visemes;
        EmotionTimeline _emotions;
        ExpressionMixer _mixer;

        /// <summary>The reply timelines to follow (HologramBehaviour passes its ReplyRouter's).</summary>
        public void Bind(ReplyRouter router)
        {
            _visemes = router.Visemes;
            _emotions = router.Emotions;
        }

        /// <summary>The character's maps; a new manifest (another companion) replaces them.</summary>
        public void UseManifest(CharacterManifest manifest)
        {
            if (_mixer != null) foreach (string name in _mixer.Names) SetExpression(name, 0f);
            _mixer = new ExpressionMixer(manifest);
            OnMapsChanged(_mixer);
        }

        // LateUpdate: after the Animator, so speech wins over any face animation in the clip.
        void LateUpdate()
        {
            if (player != null) Drive(player.ReplyClockMs);
        }

        /// <summary>Sets every mapped expression for this point of the reply's audio (one call per frame).</summary>
        public void Drive(double replyClockMs)
        {
            if (_mixer == null || _visemes == null) return;
            _visemes.AttackMs = attackMs;
            _visemes.ReleaseMs = releaseMs;
            float[] weights = _mixer.Sample(_visemes, _emotions, replyClockMs);
            for (int i = 0; i < weights.Length; i++) SetExpression(_mixer.Names[i], weights[i]);
            Apply();
        }

        /// <summary>Called once per manifest with the names that will be driven (resolve keys here).</summary>
        protected virtual void OnMapsChanged(ExpressionMixer mixer) { }

        protected abstract void SetExpression(string name, float weight);

        /// <summary>After all names of a frame are set (VRM 0.x applies its accumulated values).</summary>
        protected virtual void Apply() { }
    }

    /// <summary>An ExpressionDriver whose engine API takes a key per name (UniVRM's ExpressionKey,
    /// BlendShapeKey): each name's key is made once per manifest.</summary>
    public abstract class KeyedExpressionDriver<TKey> : ExpressionDriver
    {
        readonly Dictionary<string, TKey> _keys = new Dictionary<string, TKey>(StringComparer.Ordinal);

        protected override void OnMapsChanged(ExpressionMixer mixer)
        {
            _keys.Clear();
            foreach (string name in mixer.Names) _keys[name] = KeyFor(name);
        }

        protected override void SetExpression(string name, float weight)
        {
            TKey key;
            if (!_keys.TryGetValue(name, out key)) key = KeyFor(name);
            SetWeight(key, weight);
        }

        protected abstract TKey KeyFor(string name);
        protected abstract void SetWeight(TKey key, float weight);

        /// <summary>The preset key when the name is a preset's (other than <paramref name="none"/>), else a custom one.</summary>
        protected static TKey PresetOrCustom<TPreset>(string name, bool ignoreCase, TPreset none,
            Func<TPreset, TKey> preset, Func<string, TKey> custom) where TPreset : struct
        {
            TPreset p;
            if (char.IsLetter(name, 0) && Enum.TryParse(name, ignoreCase, out p) && !p.Equals(none) && Enum.IsDefined(typeof(TPreset), p))
                return preset(p);
            return custom(name);
        }
    }
}
