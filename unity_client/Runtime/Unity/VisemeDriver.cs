// Sets the face's blendshapes from the viseme timeline at the audio's reply clock.
using HoloMate.Core;
using UnityEngine;

namespace HoloMate.Unity
{
    public sealed class VisemeDriver : MonoBehaviour
    {
        public enum Preset { Arkit, Vrm }

        public SkinnedMeshRenderer face;
        public AudioChunkPlayer player;
        [Tooltip("The character's viseme->blendshape map (JSON). Empty: use the preset.")]
        public TextAsset visemeMapJson;
        public Preset preset = Preset.Arkit;
        public float attackMs = 30f;
        public float releaseMs = 60f;

        /// <summary>Set by HologramBehaviour (the ReplyRouter's timeline).</summary>
        public VisemeTimeline Timeline;

        VisemeMapper _mapper;
        float[] _slots;

        void Start()
        {
            VisemeMap map = visemeMapJson != null ? VisemeMap.FromJson(visemeMapJson.text)
                : preset == Preset.Vrm ? VisemeMap.DefaultVrm() : VisemeMap.DefaultArkit();
            Mesh mesh = face.sharedMesh;
            _mapper = new VisemeMapper(map, mesh.GetBlendShapeIndex);
            _slots = new float[_mapper.BlendshapeIndices.Count];
            if (_mapper.MissingBlendshapes.Count > 0)
                Debug.LogWarning("VisemeDriver: " + face.name + " lacks blendshapes " + string.Join(", ", _mapper.MissingBlendshapes));
            if (map.UnknownVisemes.Count > 0)
                Debug.LogWarning("VisemeDriver: unknown visemes in map: " + string.Join(", ", map.UnknownVisemes));
        }

        // LateUpdate: after the Animator, so speech wins over any mouth animation in the clip.
        void LateUpdate()
        {
            if (Timeline == null || _mapper == null) return;
            Timeline.AttackMs = attackMs;
            Timeline.ReleaseMs = releaseMs;
            float[] visemes = Timeline.Sample(player.ReplyClockMs);
            _mapper.Apply(visemes, _slots);
            for (int i = 0; i < _slots.Length; i++)
                face.SetBlendShapeWeight(_mapper.BlendshapeIndices[i], _slots[i] * 100f); // Unity weights are 0..100
        }
    }
}
