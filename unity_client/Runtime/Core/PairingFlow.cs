// Device pairing per RFC 8628 (OAuth device authorization grant), carried over GraphQL mutations:
// the device shows a short user code, the owner approves it in the app, the device polls.
using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace HoloMate.Core
{
    public sealed class PairingCode
    {
        public string DeviceCode;
        public string UserCode;
        public string VerificationUri;
        public int ExpiresInSeconds;
        public int IntervalSeconds;
    }

    public enum PairingOutcome { Approved, Denied, Expired }

    public sealed class PairingResult
    {
        public PairingOutcome Outcome;
        public string DeviceToken;
        public string DeviceId;
    }

    public sealed class DeviceInfo
    {
        public string Model = "holo-mate";
        public string Serial = "unknown";
        public List<string> Capabilities = new List<string> { "audio", "visemes", "emotions" };
    }

    public sealed class PairingFlow
    {
        /// <summary>RFC 8628 section 3.5: on slow_down the interval grows by 5 seconds.</summary>
        public const int SlowDownStepSeconds = 5;
        /// <summary>RFC 8628 section 3.2: 5 seconds when the server gives no interval.</summary>
        public const int DefaultIntervalSeconds = 5;

        readonly IGraphQLRequester _api;
        readonly Func<TimeSpan, CancellationToken, Task> _delay;

        /// <summary>Raised once per code, so the device can show it (and a test can read it).</summary>
        public event Action<PairingCode> CodeIssued;
        /// <summary>A poll failed for a transient reason (network); polling continues.</summary>
        public event Action<Exception> PollFailed;

        public PairingFlow(IGraphQLRequester api, Func<TimeSpan, CancellationToken, Task> delay = null)
        {
            _api = api;
            _delay = delay ?? ((d, ct) => Task.Delay(d, ct));
        }

        public async Task<PairingCode> RequestCodeAsync(DeviceInfo device, CancellationToken ct)
        {
            var vars = Json.O("model", device.Model, "serial", device.Serial, "capabilities", device.Capabilities);
            var data = await _api.ExecuteAsync(HologramQueries.RequestDevicePairing, vars, null, ct);
            var r = Json.Obj(data, "requestDevicePairing");
            if (r == null) throw new GraphQLRequestException("requestDevicePairing returned nothing", null, 0);
            var code = new PairingCode
            {
                DeviceCode = Json.Str(r, "deviceCode"),
                UserCode = Json.Str(r, "userCode"),
                VerificationUri = Json.Str(r, "verificationUri"),
                ExpiresInSeconds = Json.Int(r, "expiresIn", 600),
                IntervalSeconds = Json.Int(r, "interval", DefaultIntervalSeconds),
            };
            if (code.IntervalSeconds <= 0) code.IntervalSeconds = DefaultIntervalSeconds;
            var handler = CodeIssued;
            if (handler != null) handler(code);
            return code;
        }

        /// <summary>Polls until the owner approves or denies, or the code expires.</summary>
        public async Task<PairingResult> PollAsync(PairingCode code, CancellationToken ct)
        {
            int interval = code.IntervalSeconds;
            double waitedSeconds = 0;
            while (true)
            {
                // RFC 8628: wait the interval before each poll, including the first.
                await _delay(TimeSpan.FromSeconds(interval), ct);
                waitedSeconds += interval;

                string status;
                Dictionary<string, object> r;
                try
                {
                    var data = await _api.ExecuteAsync(HologramQueries.PollDevicePairing, Json.O("deviceCode", code.DeviceCode), null, ct);
                    r = Json.Obj(data, "pollDevicePairing");
                    status = Json.Str(r, "status");
                }
                catch (HttpRequestException e)
                {
                    // The network blipped; the code is still valid, so keep polling.
                    var handler = PollFailed;
                    if (handler != null) handler(e);
                    status = "PENDING";
                    r = null;
                }

                switch (status)
                {
                    case "APPROVED":
                        return new PairingResult { Outcome = PairingOutcome.Approved, DeviceToken = Json.Str(r, "deviceToken"), DeviceId = Json.Str(r, "deviceId") };
                    case "DENIED":
                        return new PairingResult { Outcome = PairingOutcome.Denied };
                    case "EXPIRED":
                        return new PairingResult { Outcome = PairingOutcome.Expired };
                    case "SLOW_DOWN":
                        interval += SlowDownStepSeconds;
                        break;
                    case "PENDING":
                        break;
                    default:
                        throw new GraphQLRequestException("pollDevicePairing: unexpected status '" + status + "'", null, 0);
                }
                // Stop on our own clock too, in case the server keeps answering PENDING.
                if (waitedSeconds >= code.ExpiresInSeconds) return new PairingResult { Outcome = PairingOutcome.Expired };
            }
        }

        /// <summary>Requests codes and polls until approved; an expired code is replaced by a new one.</summary>
        public async Task<PairingResult> PairAsync(DeviceInfo device, CancellationToken ct)
        {
            while (true)
            {
                PairingCode code = await RequestCodeAsync(device, ct);
                PairingResult result = await PollAsync(code, ct);
                if (result.Outcome != PairingOutcome.Expired) return result;
            }
        }
    }
}
