// What a hologram device does with the server: pair once (unless it already holds a token),
// then keep the hologramEvents subscription open and hand each event to the app.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace HoloMate.Core
{
    public sealed class HologramSessionConfig
    {
        /// <summary>HTTP GraphQL endpoint, e.g. http://host:8000/graphql.</summary>
        public Uri HttpEndpoint;
        /// <summary>WebSocket endpoint; derived from HttpEndpoint (http->ws, https->wss) when null.</summary>
        public Uri WebSocketEndpoint;
        public DeviceInfo Device = new DeviceInfo();
        public GraphQLWsOptions Socket = new GraphQLWsOptions();
        /// <summary>Wait between pairing polls; null = Task.Delay. Injectable for tests.</summary>
        public Func<TimeSpan, CancellationToken, Task> PairingDelay;

        public Uri ResolveWebSocketEndpoint()
        {
            if (WebSocketEndpoint != null) return WebSocketEndpoint;
            var b = new UriBuilder(HttpEndpoint);
            b.Scheme = HttpEndpoint.Scheme == "https" ? "wss" : "ws";
            return b.Uri;
        }
    }

    public sealed class HologramSession
    {
        readonly HologramSessionConfig _config;
        readonly IGraphQLRequester _api;
        GraphQLSubscription _subscription;

        public readonly PairingFlow Pairing;
        public string DeviceToken { get; private set; }
        public string DeviceId { get; private set; }
        /// <summary>Last event cursor; persist it to resume after an app restart.</summary>
        public string LastCursor { get { return _subscription != null ? _subscription.LastCursor : null; } }

        /// <summary>Pairing finished: store the token (e.g. PlayerPrefs) so the next start skips pairing.</summary>
        public event Action<PairingResult> Paired;
        public event Action<HologramEvent> EventReceived;
        /// <summary>The server rejected the device token (4401/4403 or pairing denied): clear it and pair again.</summary>
        public event Action<string> AuthFailed;
        /// <summary>GraphQL errors of the subscription itself (e.g. validation after a schema change).</summary>
        public event Action<List<object>> SubscriptionFailed;
        public event Action<GraphQLWsState> ConnectionStateChanged;
        /// <summary>The hologramEvents subscription was sent (again, after each reconnect), with its "after" cursor.</summary>
        public event Action<string> Subscribed;
        /// <summary>An exception thrown by an EventReceived handler.</summary>
        public event Action<Exception> HandlerError;
        /// <summary>
        /// The server no longer holds the events after the cursor (CURSOR_EXPIRED: its replay log was
        /// trimmed or lost). What the device shows may have missed events: drop the reply in flight and
        /// reload state (deviceManifest). The session then resubscribes from the newest events itself.
        /// </summary>
        public event Action CursorExpired;

        public HologramSession(HologramSessionConfig config, IGraphQLRequester api = null)
        {
            _config = config;
            _api = api ?? new GraphQLHttpClient(config.HttpEndpoint);
            Pairing = new PairingFlow(_api, config.PairingDelay);
        }

        /// <summary>
        /// Pairs if <paramref name="deviceToken"/> is null, then streams events until cancelled.
        /// Returns false when the token was refused or pairing was denied (AuthFailed was raised).
        /// Throws <see cref="GraphQLRequestException"/> when the server ends the event stream, and
        /// <see cref="GraphQLWsException"/> on a fatal protocol close.
        /// </summary>
        public async Task<bool> RunAsync(string deviceToken, string resumeAfter, CancellationToken ct)
        {
            if (string.IsNullOrEmpty(deviceToken))
            {
                PairingResult result = await Pairing.PairAsync(_config.Device, ct);
                if (result.Outcome != PairingOutcome.Approved)
                {
                    Raise(AuthFailed, "pairing " + result.Outcome.ToString().ToLowerInvariant());
                    return false;
                }
                DeviceId = result.DeviceId;
                deviceToken = result.DeviceToken;
                var paired = Paired;
                if (paired != null) paired(result);
            }
            DeviceToken = deviceToken;
            return await StreamEventsAsync(resumeAfter, ct);
        }

        async Task<bool> StreamEventsAsync(string resumeAfter, CancellationToken ct)
        {
            while (true)
            {
                bool? result = await StreamOnceAsync(resumeAfter, ct);
                if (result.HasValue) return result.Value;
                // CURSOR_EXPIRED: resuming cannot be made whole. Reload, then follow from now
                // (no cursor: the server starts at the newest event of every channel, race-free).
                resumeAfter = null;
                var h = CursorExpired;
                if (h != null) h();
            }
        }

        /// <summary>One subscription until it ends: null when it ended with CURSOR_EXPIRED.</summary>
        async Task<bool?> StreamOnceAsync(string resumeAfter, CancellationToken ct)
        {
            bool expired = false;
            var client = new GraphQLWsClient(_config.ResolveWebSocketEndpoint(), () => DeviceToken, _config.Socket);
            client.StateChanged += s => { var h = ConnectionStateChanged; if (h != null) h(s); };
            client.SubscribeSent += sub => { var h = Subscribed; if (h != null) h(sub.LastCursor); };
            client.CallbackError += e => { var h = HandlerError; if (h != null) h(e); };

            // The server ending the stream (error or complete) leaves an open socket with nothing to
            // listen to; stop the socket too and report it, so the caller can start over.
            using (var streamEnded = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                string endReason = null;
                var variables = new Dictionary<string, object>();
                variables["after"] = resumeAfter;
                _subscription = client.Subscribe(HologramQueries.HologramEventsSubscription, variables,
                    payload =>
                    {
                        if (IsCursorExpired(Json.List(payload, "errors")))
                        {
                            expired = true;
                            streamEnded.Cancel();
                            return;
                        }
                        OnNext(payload);
                    },
                    errors =>
                    {
                        if (IsCursorExpired(errors))
                        {
                            expired = true;
                            streamEnded.Cancel();
                            return;
                        }
                        endReason = "hologramEvents failed: " + MiniJson.Serialize(errors);
                        var h = SubscriptionFailed;
                        if (h != null) h(errors);
                        streamEnded.Cancel();
                    },
                    () => { endReason = "server completed hologramEvents"; streamEnded.Cancel(); },
                    HologramEventParser.CursorOf);
                try
                {
                    await client.RunAsync(streamEnded.Token);
                }
                catch (GraphQLWsException e)
                {
                    if (!e.IsAuthError) throw;
                    Raise(AuthFailed, e.Message);
                    return false;
                }
                if (expired && !ct.IsCancellationRequested) return null;
                if (endReason != null && !ct.IsCancellationRequested) throw new GraphQLRequestException(endReason, null, 0);
                return true;
            }
        }

        void OnNext(Dictionary<string, object> payload)
        {
            if (Json.List(payload, "errors") != null)
            {
                var h = SubscriptionFailed;
                if (h != null) h(Json.List(payload, "errors"));
            }
            HologramEvent e = HologramEventParser.FromPayload(payload);
            if (e == null) return;
            var handler = EventReceived;
            if (handler != null) handler(e);
        }

        /// <summary>Whether GraphQL errors say the cursor can no longer be resumed from.</summary>
        public static bool IsCursorExpired(List<object> errors)
        {
            if (errors == null) return false;
            foreach (object error in errors)
            {
                var extensions = Json.Obj(error as Dictionary<string, object>, "extensions");
                if (Json.Str(extensions, "code") == "CURSOR_EXPIRED") return true;
            }
            return false;
        }

        static void Raise(Action<string> handler, string message)
        {
            if (handler != null) handler(message);
        }
    }
}
