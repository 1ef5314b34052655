// Every GraphQL document the device sends, in ONE place: when a server-side name changes, this
// file (and HologramEventParser's field names) is all that needs editing.
namespace HoloMate.Core
{
    public static class HologramQueries
    {
        /// <summary>Name of the subscription field; the parser reads data[EventsField].</summary>
        public const string EventsField = "hologramEvents";

        // Fields every reply event has; repeated in each inline fragment because a union has no
        // shared fields of its own.
        const string Common = "cursor conversationId messageId at";
        // Device commands belong to no conversation: they carry only their position and time.
        const string CommandCommon = "cursor at";

        public const string HologramEventsSubscription =
            "subscription HologramEvents($after: String) {\n" +
            "  " + EventsField + "(after: $after) {\n" +
            "    __typename\n" +
            "    ... on MessagePosted { " + Common + " message { id role text } }\n" +
            "    ... on ReplyStarted { " + Common + " }\n" +
            "    ... on MessageDelta { " + Common + " seq text }\n" +
            "    ... on AudioChunk { " + Common + " seq url mimeType startMs durationMs text }\n" +
            "    ... on VisemeFrames { " + Common + " audioSeq frames { viseme startMs endMs weight } }\n" +
            "    ... on EmotionChanged { " + Common + " emotion intensity atMs }\n" +
            "    ... on ReplyCompleted { " + Common + " message { id text status } }\n" +
            "    ... on ReplyInterrupted { " + Common + " heardText }\n" +
            "    ... on ReplyFailed { " + Common + " code detail }\n" +
            "    ... on CompanionSwitched { " + CommandCommon + " companionId }\n" +
            "    ... on PlayAnimation { " + CommandCommon + " name loop }\n" +
            "    ... on VolumeChanged { " + CommandCommon + " volume }\n" +
            "    ... on SleepChanged { " + CommandCommon + " asleep }\n" +
            "  }\n" +
            "}";

        public const string RequestDevicePairing =
            "mutation RequestDevicePairing($model: String!, $serial: String!, $capabilities: [String!]!) {\n" +
            "  requestDevicePairing(model: $model, serial: $serial, capabilities: $capabilities) {\n" +
            "    deviceCode userCode verificationUri expiresIn interval\n" +
            "  }\n" +
            "}";

        public const string PollDevicePairing =
            "mutation PollDevicePairing($deviceCode: String!) {\n" +
            "  pollDevicePairing(deviceCode: $deviceCode) { status deviceToken deviceId }\n" +
            "}";

        /// <summary>The assigned companion's character: read by CharacterManifest.FromData.</summary>
        public const string DeviceManifest =
            "query DeviceManifest {\n" +
            "  deviceManifest { companionId character { name url format vrmVersion\n" +
            "    visemeBlendshapes { viseme blendshapes { name weight } }\n" +
            "    emotionAnimations { emotion animation } } }\n" +
            "}";
    }
}
