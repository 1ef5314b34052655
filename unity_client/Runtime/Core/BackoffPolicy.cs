using System;

namespace HoloMate.Core
{
    /// <summary>
    /// Exponential reconnect delay with jitter. Jitter spreads the reconnects of many devices after a
    /// server restart so they do not all hit the server in the same instant.
    /// Delay(attempt) = min(Max, Base * Factor^attempt) * (1 - JitterFraction * random[0,1)).
    /// </summary>
    public sealed class BackoffPolicy
    {
        public TimeSpan Base = TimeSpan.FromMilliseconds(500);
        public TimeSpan Max = TimeSpan.FromSeconds(30);
        public double Factor = 2.0;
        public double JitterFraction = 0.3;

        readonly Func<double> _random;

        public BackoffPolicy() : this(null) { }

        /// <param name="random">Source of values in [0,1); injectable so tests get a fixed schedule.</param>
        public BackoffPolicy(Func<double> random)
        {
            if (random == null)
            {
                var rng = new Random();
                random = () => { lock (rng) return rng.NextDouble(); };
            }
            _random = random;
        }

        public TimeSpan DelayFor(int attempt)
        {
            if (attempt < 0) attempt = 0;
            double raw = Base.TotalMilliseconds * Math.Pow(Factor, Math.Min(attempt, 62));
            double capped = Math.Min(Max.TotalMilliseconds, raw);
            double jittered = capped * (1.0 - JitterFraction * _random());
            return TimeSpan.FromMilliseconds(jittered);
        }
    }
}
