// Routes the device command events (sent by the owner's app) to whatever implements them.
using System;

namespace HoloMate.Core
{
    public sealed class DeviceCommandHandler
    {
        public Action<string> CompanionSwitched;
        public Action<string, bool> PlayAnimation;      // name, loop
        public Action<float> VolumeChanged;             // 0..1
        public Action<bool> SleepChanged;               // asleep

        /// <summary>Returns true if the event was a device command.</summary>
        public bool Handle(HologramEvent e)
        {
            var companion = e as CompanionSwitched;
            if (companion != null) { Call(CompanionSwitched, companion.CompanionId); return true; }
            var anim = e as PlayAnimation;
            if (anim != null) { if (PlayAnimation != null) PlayAnimation(anim.Name, anim.Loop); return true; }
            var volume = e as VolumeChanged;
            if (volume != null) { Call(VolumeChanged, Math.Max(0f, Math.Min(1f, volume.Volume))); return true; }
            var sleep = e as SleepChanged;
            if (sleep != null) { Call(SleepChanged, sleep.Asleep); return true; }
            return false;
        }

        static void Call<T>(Action<T> a, T value) { if (a != null) a(value); }
    }
}
