// Fans the event stream out to the parts that play a reply: the viseme and emotion timelines,
// the audio queue, the text, and the device commands. One reply at a time: a new reply (or
// an interruption) resets the timelines so old mouth shapes never play over new audio.
using System;

namespace HoloMate.Core
{
    public sealed class ReplyRouter
    {
        public readonly VisemeTimeline Visemes;
        public readonly EmotionTimeline Emotions;
        public readonly DeviceCommandHandler Commands;
        string _currentMessageId;

        public Action<AudioChunk> AudioChunkArrived;   // enqueue into the player's AudioChunkQueue
        public Action ReplyReset;                      // stop audio, clear the queue
        public Action<string> TextChanged;             // the reply text so far
        public Action<ChatMessage> ReplyFinished;
        public Action<string> ReplyStopped;            // interrupted or failed, with a reason
        public Action<ChatMessage> MessagePosted;

        readonly System.Text.StringBuilder _text = new System.Text.StringBuilder();

        public ReplyRouter(VisemeTimeline visemes = null, EmotionTimeline emotions = null, DeviceCommandHandler commands = null)
        {
            Visemes = visemes ?? new VisemeTimeline();
            Emotions = emotions ?? new EmotionTimeline();
            Commands = commands ?? new DeviceCommandHandler();
        }

        public void Handle(HologramEvent e)
        {
            if (Commands.Handle(e)) return;

            var posted = e as MessagePosted;
            if (posted != null) { if (MessagePosted != null) MessagePosted(posted.Message); return; }

            // Timed events of a different message mean a new reply began (ReplyStarted may have
            // been missed across a reconnect).
            if (e is ReplyStarted || (IsReplyPart(e) && e.MessageId != _currentMessageId)) StartReply(e.MessageId);

            var delta = e as MessageDelta;
            if (delta != null) { _text.Append(delta.Text); if (TextChanged != null) TextChanged(_text.ToString()); return; }
            var frames = e as VisemeFrames;
            if (frames != null) { Visemes.AddFrames(frames); return; }
            var emotion = e as EmotionChanged;
            if (emotion != null) { Emotions.Add(emotion); return; }
            var chunk = e as AudioChunk;
            if (chunk != null) { Visemes.AddChunk(chunk); if (AudioChunkArrived != null) AudioChunkArrived(chunk); return; }
            var completed = e as ReplyCompleted;
            if (completed != null) { if (ReplyFinished != null) ReplyFinished(completed.Message); return; }
            var interrupted = e as ReplyInterrupted;
            if (interrupted != null) { StopReply("interrupted"); return; }
            var failed = e as ReplyFailed;
            if (failed != null) { StopReply("failed: " + failed.Code); return; }
        }

        static bool IsReplyPart(HologramEvent e)
        {
            return e is MessageDelta || e is VisemeFrames || e is EmotionChanged || e is AudioChunk;
        }

        void StartReply(string messageId)
        {
            _currentMessageId = messageId;
            _text.Length = 0;
            Visemes.Reset();
            Emotions.Reset();
            if (ReplyReset != null) ReplyReset();
        }

        void StopReply(string reason)
        {
            // Close the mouth and stop the sound now; the next reply starts clean.
            Visemes.Reset();
            Emotions.Reset();
            if (ReplyReset != null) ReplyReset();
            if (ReplyStopped != null) ReplyStopped(reason);
        }
    }
}
