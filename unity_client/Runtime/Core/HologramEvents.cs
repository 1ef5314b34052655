// The hologramEvents stream as typed C# objects. Each class mirrors one member of the GraphQL
// union; HologramEventParser turns a `next` payload into one of them.
using System.Collections.Generic;

namespace HoloMate.Core
{
    public abstract class HologramEvent
    {
        public string TypeName;
        public string Cursor;
        public string ConversationId;
        public string MessageId;
        /// <summary>Server timestamp as sent (ISO 8601); kept as text, nothing here needs it parsed.</summary>
        public string At;
    }

    public sealed class ChatMessage
    {
        public string Id;
        public string Role;
        public string Text;
        public string Status;
    }

    public sealed class MessagePosted : HologramEvent { public ChatMessage Message; }
    public sealed class ReplyStarted : HologramEvent { }
    public sealed class MessageDelta : HologramEvent { public int Seq; public string Text; }

    public sealed class AudioChunk : HologramEvent
    {
        public int Seq;
        public string Url;
        public string MimeType;
        /// <summary>Relative to the start of the reply's audio.</summary>
        public double StartMs;
        public double DurationMs;
        public string Text;
        public double EndMs { get { return StartMs + DurationMs; } }
    }

    public sealed class VisemeFrame
    {
        /// <summary>The name as received, so unknown names can be reported rather than silently lost.</summary>
        public string Name;
        public Viseme Viseme;
        public bool IsKnown;
        /// <summary>Relative to the start of the frame's audio chunk.</summary>
        public double StartMs;
        public double EndMs;
        public float Weight = 1f;
    }

    public sealed class VisemeFrames : HologramEvent
    {
        public int AudioSeq;
        public List<VisemeFrame> Frames = new List<VisemeFrame>();
    }

    public sealed class EmotionChanged : HologramEvent
    {
        public string Name;
        public Emotion Emotion;
        public bool IsKnown;
        public float Intensity;
        /// <summary>Relative to the start of the reply's audio (like AudioChunk.StartMs).</summary>
        public double AtMs;
    }

    public sealed class ReplyCompleted : HologramEvent { public ChatMessage Message; }
    public sealed class ReplyInterrupted : HologramEvent { public string HeardText; }
    public sealed class ReplyFailed : HologramEvent { public string Code; public string Detail; }

    public sealed class CompanionSwitched : HologramEvent { public string CompanionId; }
    public sealed class PlayAnimation : HologramEvent { public string Name; public bool Loop; }
    public sealed class VolumeChanged : HologramEvent { public float Volume; }
    public sealed class SleepChanged : HologramEvent { public bool Asleep; }

    /// <summary>A union member this client does not know yet (newer server); passed on, not dropped.</summary>
    public sealed class UnknownEvent : HologramEvent { public Dictionary<string, object> Raw; }

    public static class HologramEventParser
    {
        /// <summary>Parses a subscription `next` payload ({"data": {"hologramEvents": {...}}}). Null if it has no event.</summary>
        public static HologramEvent FromPayload(Dictionary<string, object> payload)
        {
            var node = Json.Obj(Json.Obj(payload, "data"), HologramQueries.EventsField);
            return node == null ? null : Parse(node);
        }

        /// <summary>The resume cursor of a `next` payload, for GraphQLWsClient's cursorOf.</summary>
        public static string CursorOf(Dictionary<string, object> payload)
        {
            return Json.Str(Json.Obj(Json.Obj(payload, "data"), HologramQueries.EventsField), "cursor");
        }

        public static HologramEvent Parse(Dictionary<string, object> n)
        {
            HologramEvent e = Build(Json.Str(n, "__typename"), n);
            e.TypeName = Json.Str(n, "__typename");
            e.Cursor = Json.Str(n, "cursor");
            e.ConversationId = Json.Str(n, "conversationId");
            e.MessageId = Json.Str(n, "messageId");
            e.At = Json.Str(n, "at");
            return e;
        }

        static HologramEvent Build(string type, Dictionary<string, object> n)
        {
            switch (type)
            {
                case "MessagePosted": return new MessagePosted { Message = ParseMessage(Json.Obj(n, "message")) };
                case "ReplyStarted": return new ReplyStarted();
                case "MessageDelta": return new MessageDelta { Seq = Json.Int(n, "seq"), Text = Json.Str(n, "text", "") };
                case "AudioChunk":
                    return new AudioChunk
                    {
                        Seq = Json.Int(n, "seq"),
                        Url = Json.Str(n, "url"),
                        MimeType = Json.Str(n, "mimeType"),
                        StartMs = Json.Num(n, "startMs"),
                        DurationMs = Json.Num(n, "durationMs"),
                        Text = Json.Str(n, "text", ""),
                    };
                case "VisemeFrames": return ParseVisemeFrames(n);
                case "EmotionChanged":
                {
                    var e = new EmotionChanged
                    {
                        Name = Json.Str(n, "emotion"),
                        Intensity = (float)Json.Num(n, "intensity", 1),
                        AtMs = Json.Num(n, "atMs"),
                    };
                    e.IsKnown = EmotionNames.TryParse(e.Name, out e.Emotion);
                    return e;
                }
                case "ReplyCompleted": return new ReplyCompleted { Message = ParseMessage(Json.Obj(n, "message")) };
                case "ReplyInterrupted": return new ReplyInterrupted { HeardText = Json.Str(n, "heardText", "") };
                case "ReplyFailed": return new ReplyFailed { Code = Json.Str(n, "code"), Detail = Json.Str(n, "detail") };
                case "CompanionSwitched": return new CompanionSwitched { CompanionId = Json.Str(n, "companionId") };
                case "PlayAnimation": return new PlayAnimation { Name = Json.Str(n, "name"), Loop = Json.Bool(n, "loop") };
                case "VolumeChanged": return new VolumeChanged { Volume = (float)Json.Num(n, "volume", 1) };
                case "SleepChanged": return new SleepChanged { Asleep = Json.Bool(n, "asleep") };
                default: return new UnknownEvent { Raw = n };
            }
        }

        static VisemeFrames ParseVisemeFrames(Dictionary<string, object> n)
        {
            var e = new VisemeFrames { AudioSeq = Json.Int(n, "audioSeq") };
            List<object> frames = Json.List(n, "frames");
            if (frames == null) return e;
            foreach (object f in frames)
            {
                var frame = new VisemeFrame
                {
                    Name = Json.Str(f, "viseme"),
                    StartMs = Json.Num(f, "startMs"),
                    EndMs = Json.Num(f, "endMs"),
                    Weight = (float)Json.Num(f, "weight", 1),
                };
                frame.IsKnown = VisemeNames.TryParse(frame.Name, out frame.Viseme);
                e.Frames.Add(frame);
            }
            return e;
        }

        static ChatMessage ParseMessage(Dictionary<string, object> m)
        {
            if (m == null) return null;
            return new ChatMessage { Id = Json.Str(m, "id"), Role = Json.Str(m, "role"), Text = Json.Str(m, "text"), Status = Json.Str(m, "status") };
        }
    }
}
