// Stand-ins for the UnityEngine API the package's Unity layer uses: the same namespaces, names and
// signatures, no engine behind them. They let Mono compile Runtime/Unity and the VRM drivers here
// (a wrong member name or type fails this build as it would fail Unity's) and let the VRM test call
// a driver directly. Not Unity: components are plain objects made with `new`, and nothing plays.
using System;
using System.Collections.Generic;

namespace UnityEngine
{
    public class Object { public string name = ""; }
    public class Component : Object
    {
        public GameObject gameObject = new GameObject();
        public T GetComponent<T>() where T : Component { return gameObject.GetComponent<T>(); }
    }
    public class Behaviour : Component { public bool enabled = true; }
    public class MonoBehaviour : Behaviour { }
    public sealed class GameObject : Object
    {
        readonly List<Component> _components = new List<Component>();
        public T AddComponent<T>() where T : Component, new() { var c = new T(); c.gameObject = this; _components.Add(c); return c; }
        public T GetComponent<T>() where T : Component { foreach (var c in _components) if (c is T) return (T)c; return null; }
    }

    [AttributeUsage(AttributeTargets.Field)] public sealed class TooltipAttribute : Attribute { public TooltipAttribute(string tooltip) { } }
    [AttributeUsage(AttributeTargets.Field, AllowMultiple = true)] public sealed class HeaderAttribute : Attribute { public HeaderAttribute(string header) { } }
    [AttributeUsage(AttributeTargets.Field)] public sealed class SerializeField : Attribute { }

    public static class Debug
    {
        public static readonly List<string> Logged = new List<string>();
        public static void Log(object message) { Logged.Add("" + message); }
        public static void LogWarning(object message) { Logged.Add("warning: " + message); }
        public static void LogException(Exception exception) { Logged.Add("exception: " + exception); }
    }

    public static class Mathf
    {
        public static int Clamp(int value, int min, int max) { return value < min ? min : value > max ? max : value; }
        public static float Clamp(float value, float min, float max) { return value < min ? min : value > max ? max : value; }
    }

    public class TextAsset : Object { public string text = ""; }
    public class TextMesh : Component { public string text = ""; }
    public class Mesh : Object { public int GetBlendShapeIndex(string blendShapeName) { return -1; } }
    public class Renderer : Component { }
    public class SkinnedMeshRenderer : Renderer
    {
        public Mesh sharedMesh = new Mesh();
        public void SetBlendShapeWeight(int index, float value) { }
    }

    public enum AnimatorControllerParameterType { Float = 1, Int = 3, Bool = 4, Trigger = 9 }
    public class AnimatorControllerParameter { public string name = ""; public AnimatorControllerParameterType type; public int nameHash; }
    public class Animator : Behaviour
    {
        public AnimatorControllerParameter[] parameters = new AnimatorControllerParameter[0];
        public void SetFloat(int id, float value) { }
        public void Play(string stateName) { }
    }

    public enum AudioType { UNKNOWN = 0, OGGVORBIS = 14, WAV = 20, MPEG = 13 }
    public class AudioClip : Object
    {
        public int frequency, channels, samples;
        public bool GetData(float[] data, int offsetSamples) { return true; }
    }
    public class AudioSource : Behaviour
    {
        public AudioClip clip;
        public bool playOnAwake, loop, isPlaying;
        public float volume = 1f;
        public int timeSamples;
        public void PlayScheduled(double time) { }
        public void Stop() { }
    }
    public static class AudioSettings { public static double dspTime; }

    public static class Microphone
    {
        public static void GetDeviceCaps(string deviceName, out int minFreq, out int maxFreq) { minFreq = 0; maxFreq = 0; }
        public static AudioClip Start(string deviceName, bool loop, int lengthSec, int frequency) { return new AudioClip { frequency = frequency, channels = 1, samples = lengthSec * frequency }; }
        public static int GetPosition(string deviceName) { return 0; }
        public static void End(string deviceName) { }
    }

    public static class PlayerPrefs
    {
        static readonly Dictionary<string, string> Values = new Dictionary<string, string>();
        public static void SetString(string key, string value) { Values[key] = value; }
        public static string GetString(string key, string defaultValue) { string v; return Values.TryGetValue(key, out v) ? v : defaultValue; }
        public static void DeleteKey(string key) { Values.Remove(key); }
        public static void Save() { }
    }

    public static class SystemInfo { public static string deviceUniqueIdentifier { get { return "stand-in"; } } }

    public class AsyncOperation { public event Action<AsyncOperation> completed { add { } remove { } } }
}

namespace UnityEngine.Events
{
    public delegate void UnityAction();
    public delegate void UnityAction<T0>(T0 arg0);
    public class UnityEvent
    {
        UnityAction _listeners;
        public void AddListener(UnityAction call) { _listeners += call; }
        public void Invoke() { if (_listeners != null) _listeners(); }
    }
    public class UnityEvent<T0>
    {
        UnityAction<T0> _listeners;
        public void AddListener(UnityAction<T0> call) { _listeners += call; }
        public void Invoke(T0 arg0) { if (_listeners != null) _listeners(arg0); }
    }
}

namespace UnityEngine.Networking
{
    public class UnityWebRequestAsyncOperation : AsyncOperation { }
    public class DownloadHandler { }
    public sealed class DownloadHandlerAudioClip : DownloadHandler
    {
        public static AudioClip GetContent(UnityWebRequest www) { return null; }
    }
    public class UnityWebRequest : IDisposable
    {
        public enum Result { InProgress, Success, ConnectionError, ProtocolError, DataProcessingError }
        public Result result;
        public string error;
        public UnityWebRequestAsyncOperation SendWebRequest() { return new UnityWebRequestAsyncOperation(); }
        public void Abort() { }
        public void Dispose() { }
    }
    public static class UnityWebRequestMultimedia
    {
        public static UnityWebRequest GetAudioClip(Uri uri, AudioType audioType) { return new UnityWebRequest(); }
    }
}
