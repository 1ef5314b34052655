// Sets one Animator float parameter per emotion (named like the emotion: "joy", "sadness", ...)
// from the emotion timeline at the audio's reply clock. Parameters the controller lacks are skipped.
using HoloMate.Core;
using UnityEngine;

namespace HoloMate.Unity
{
    public sealed class EmotionDriver : MonoBehaviour
    {
        public Animator animator;
        public AudioChunkPlayer player;
        [Tooltip("Prefix of the Animator parameter names, e.g. \"emotion_\" for emotion_joy.")]
        public string parameterPrefix = "";

        /// <summary>Set by HologramBehaviour (the ReplyRouter's timeline).</summary>
        public EmotionTimeline Timeline;

        readonly float[] _weights = new float[EmotionNames.Count];
        int[] _hashes;

        void Start()
        {
            _hashes = new int[EmotionNames.Count];
            for (int i = 0; i < EmotionNames.Count; i++)
            {
                string name = parameterPrefix + ((Emotion)i).ToString();
                _hashes[i] = 0;
                foreach (var p in animator.parameters)
                    if (p.name == name && p.type == AnimatorControllerParameterType.Float) _hashes[i] = p.nameHash;
            }
        }

        void Update()
        {
            if (Timeline == null || _hashes == null) return;
            Timeline.WeightsAt(player.ReplyClockMs, _weights);
            for (int i = 0; i < _weights.Length; i++)
                if (_hashes[i] != 0) animator.SetFloat(_hashes[i], _weights[i]);
        }
    }
}
