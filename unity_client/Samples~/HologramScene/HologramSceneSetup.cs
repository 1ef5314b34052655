// The Hologram scene sample: one component that wires a hologram device scene at Awake, so an
// empty scene plus this script and a character is a working device.
//   - an AudioChunkPlayer on the character's head (the reply's voice and its clock),
//   - a HologramBehaviour that pairs, follows hologramEvents and loads the character's manifest,
//   - an ExpressionDriver on the character for its mouth and face: Vrm10ExpressionDriver for a
//     VRM 1.0 model (UniVRM com.vrmc.vrm), Vrm0ExpressionDriver for a VRM 0.x one (UniVRM
//     com.vrmc.univrm); add it to the model and drag it in. Without one, only audio plays.
// The pairing code, the paired state and the reply's text go to a TextMesh (world-space text
// works on a hologram's transparent display without a Canvas).
using HoloMate.Core;
using HoloMate.Unity;
using UnityEngine;

namespace HoloMate.Samples
{
    public sealed class HologramSceneSetup : MonoBehaviour
    {
        [Tooltip("The Holo-Mate server's HTTP GraphQL endpoint.")]
        public string serverUrl = "http://127.0.0.1:8000/graphql";
        [Tooltip("Where the voice comes from: the character's head (an AudioChunkPlayer is added).")]
        public GameObject head;
        [Tooltip("The character's Vrm10ExpressionDriver or Vrm0ExpressionDriver (optional).")]
        public ExpressionDriver expressions;
        [Tooltip("Shows the pairing code, then the reply's text (optional).")]
        public TextMesh caption;

        HologramBehaviour _hologram;

        void Awake()
        {
            var player = head.GetComponent<AudioChunkPlayer>();
            if (player == null) player = head.AddComponent<AudioChunkPlayer>();
            if (expressions != null) expressions.player = player;

            // HologramBehaviour starts in its own Start(), after this Awake: wire it first.
            _hologram = gameObject.AddComponent<HologramBehaviour>();
            _hologram.serverUrl = serverUrl;
            _hologram.player = player;
            _hologram.expressionDriver = expressions;
            _hologram.onUserCode.AddListener(code => Show("Pair me: enter " + code));
            _hologram.onPaired.AddListener(() => Show("Paired"));
            _hologram.onReplyText.AddListener(Show);
            _hologram.ManifestLoaded += OnManifest;
        }

        void OnManifest(CharacterManifest manifest)
        {
            // The server names the model the companion wears. Loading it is UniVRM's job
            // (VRM 1.0: UniVRM10.Vrm10.LoadBytesAsync); this sample keeps the scene's model.
            Debug.Log("HoloMate: companion " + manifest.CompanionId + " wears " + (manifest.Url ?? "the default model")
                + " (" + manifest.Format + ", " + manifest.VrmVersion + ")");
        }

        void Show(string text)
        {
            if (caption != null) caption.text = text;
        }
    }
}
