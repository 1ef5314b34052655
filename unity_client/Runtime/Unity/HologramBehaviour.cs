// The scene's entry point: pairs the device (once; the token is kept in PlayerPrefs), keeps the
// event stream open and hands events to the player and drivers, and loads the character's
// manifest (model URL, viseme and emotion maps) whenever the stream (re)starts or the companion
// changes.
// Started from Start(), all awaits resume on Unity's main thread (UnitySynchronizationContext),
// so every event handler below runs on the main thread and may touch Unity objects.
using System;
using System.Threading;
using HoloMate.Core;
using UnityEngine;
using UnityEngine.Events;

namespace HoloMate.Unity
{
    public sealed class HologramBehaviour : MonoBehaviour
    {
        const string TokenKey = "holomate.deviceToken";

        [Tooltip("HTTP GraphQL endpoint, e.g. https://api.example.com/graphql")]
        public string serverUrl = "http://127.0.0.1:8000/graphql";
        public string model = "holo-mate";
        public AudioChunkPlayer player;
        [Tooltip("Mesh blendshapes by name (optional).")]
        public VisemeDriver visemeDriver;
        [Tooltip("Animator float parameters per emotion (optional).")]
        public EmotionDriver emotionDriver;
        [Tooltip("Named expressions, e.g. Vrm10ExpressionDriver or Vrm0ExpressionDriver (optional).")]
        public ExpressionDriver expressionDriver;
        public Animator bodyAnimator;

        [Header("UI hooks")]
        // Made here too, not only by the Inspector, so a script can AddComponent and AddListener.
        public UnityEvent<string> onUserCode = new UnityEvent<string>();          // show "Enter ABCD-EFGH at <uri>"
        public UnityEvent onPaired = new UnityEvent();
        public UnityEvent<string> onReplyText = new UnityEvent<string>();         // subtitles
        public UnityEvent<string> onCompanionSwitched = new UnityEvent<string>(); // load another character
        public UnityEvent<bool> onSleepChanged = new UnityEvent<bool>();

        /// <summary>The character the server assigned (also handed to the expressionDriver); load its Url.</summary>
        public event Action<CharacterManifest> ManifestLoaded;

        readonly ReplyRouter _router = new ReplyRouter();
        bool _manifestStale = true;
        string _deviceToken;
        CancellationTokenSource _cts;
        string _lastCursor; // resume point across session restarts

        void Start()
        {
            if (visemeDriver != null) visemeDriver.Timeline = _router.Visemes;
            if (emotionDriver != null) emotionDriver.Timeline = _router.Emotions;
            if (expressionDriver != null) expressionDriver.Bind(_router);
            player.BaseUri = new Uri(serverUrl);

            _router.AudioChunkArrived = player.Enqueue;
            _router.ReplyReset = player.ResetReply;
            _router.ReplyFinished = m => player.MarkReplyComplete();
            _router.TextChanged = t => onReplyText.Invoke(t);
            _router.Commands.VolumeChanged = player.SetVolume;
            _router.Commands.PlayAnimation = (name, loop) => { if (bodyAnimator != null) bodyAnimator.Play(name); };
            _router.Commands.CompanionSwitched = id => { LoadManifest(); onCompanionSwitched.Invoke(id); };
            _router.Commands.SleepChanged = asleep => onSleepChanged.Invoke(asleep);

            _cts = new CancellationTokenSource();
            Run(_cts.Token);
        }

        async void Run(CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                var session = new HologramSession(new HologramSessionConfig
                {
                    HttpEndpoint = new Uri(serverUrl),
                    Device = new DeviceInfo { Model = model, Serial = SystemInfo.deviceUniqueIdentifier },
                });
                session.Pairing.CodeIssued += code => onUserCode.Invoke(code.UserCode + "  " + code.VerificationUri);
                session.Paired += r => { PlayerPrefs.SetString(TokenKey, r.DeviceToken); PlayerPrefs.Save(); onPaired.Invoke(); };
                session.EventReceived += _router.Handle;
                session.HandlerError += Debug.LogException;
                session.CursorExpired += () => _manifestStale = true;
                session.Subscribed += _ => { _deviceToken = session.DeviceToken; if (_manifestStale) LoadManifest(); };
                session.AuthFailed += reason => Debug.LogWarning("HoloMate: " + reason + "; pairing again");
                try
                {
                    bool authorised = await session.RunAsync(PlayerPrefs.GetString(TokenKey, null), _lastCursor, ct);
                    if (!authorised) { PlayerPrefs.DeleteKey(TokenKey); _lastCursor = null; } // revoked or denied: pair again
                }
                catch (OperationCanceledException) { return; }
                catch (Exception e)
                {
                    _lastCursor = session.LastCursor ?? _lastCursor;
                    Debug.LogException(e);
                    await System.Threading.Tasks.Task.Delay(TimeSpan.FromSeconds(5)); // e.g. server down during pairing
                }
            }
        }

        async void LoadManifest()
        {
            _manifestStale = false;
            if (_deviceToken == null) { _manifestStale = true; return; }
            try
            {
                var api = new GraphQLHttpClient(new Uri(serverUrl));
                var manifest = await CharacterManifest.LoadAsync(api, _deviceToken, _cts.Token);
                if (expressionDriver != null) expressionDriver.UseManifest(manifest);
                if (ManifestLoaded != null) ManifestLoaded(manifest);
            }
            catch (OperationCanceledException) { }
            catch (Exception e) { _manifestStale = true; Debug.LogException(e); } // tried again on the next (re)subscribe
        }

        void OnDestroy()
        {
            if (_cts != null) _cts.Cancel();
        }
    }
}
