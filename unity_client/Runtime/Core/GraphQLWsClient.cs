// graphql-transport-ws client: one socket, many subscriptions, reconnect with resume.
//
// Threading: callbacks run on the continuation context of RunAsync. Started from Unity's main
// thread they therefore run on the main thread (UnitySynchronizationContext); in a console
// program they run on the thread pool. That is why no ConfigureAwait(false) is used here.
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace HoloMate.Core
{
    public enum GraphQLWsState { Idle, Connecting, Connected, WaitingToReconnect, Failed, Stopped }

    /// <summary>The connection ended in a way reconnecting cannot fix (see <see cref="CloseAction"/>).</summary>
    public sealed class GraphQLWsException : Exception
    {
        public readonly int CloseCode;
        public readonly CloseAction Action;
        public bool IsAuthError { get { return Action == CloseAction.FatalAuth; } }

        public GraphQLWsException(int closeCode, CloseAction action, string reason)
            : base("GraphQL socket closed with " + closeCode + (string.IsNullOrEmpty(reason) ? "" : " (" + reason + ")"))
        {
            CloseCode = closeCode;
            Action = action;
        }
    }

    public sealed class GraphQLWsOptions
    {
        public TimeSpan AckTimeout = TimeSpan.FromSeconds(10);
        /// <summary>The server never pings on this protocol, so the client does, to find dead connections.</summary>
        public TimeSpan PingInterval = TimeSpan.FromSeconds(15);
        /// <summary>Silence (no message at all) beyond PingInterval + PongTimeout drops the socket.</summary>
        public TimeSpan PongTimeout = TimeSpan.FromSeconds(10);
        public BackoffPolicy Backoff = new BackoffPolicy();
        public Func<IWsTransport> TransportFactory = () => new ClientWebSocketTransport();
        /// <summary>Waits between reconnects; injectable so tests can record the schedule instead of sleeping.</summary>
        public Func<TimeSpan, CancellationToken, Task> Delay = (d, ct) => Task.Delay(d, ct);
    }

    /// <summary>One active subscription; survives reconnects.</summary>
    public sealed class GraphQLSubscription
    {
        public readonly string Id;
        public readonly string Query;
        readonly Dictionary<string, object> _variables;
        internal readonly Action<Dictionary<string, object>> OnNext;
        internal readonly Action<List<object>> OnError;
        internal readonly Action OnComplete;
        internal readonly Func<Dictionary<string, object>, string> CursorOf;
        internal int SentOnConnection = -1;
        readonly GraphQLWsClient _client;

        /// <summary>Cursor of the last event delivered; sent as variables["after"] after a reconnect.</summary>
        public string LastCursor { get; internal set; }
        public bool IsActive { get; internal set; }

        /// <summary>A query or mutation (ExecuteAsync): answered once, never sent again after a reconnect.</summary>
        internal bool OneShot;

        internal GraphQLSubscription(GraphQLWsClient client, string id, string query, Dictionary<string, object> variables,
            Action<Dictionary<string, object>> onNext, Action<List<object>> onError, Action onComplete,
            Func<Dictionary<string, object>, string> cursorOf)
        {
            _client = client;
            Id = id;
            Query = query;
            _variables = variables != null ? new Dictionary<string, object>(variables) : new Dictionary<string, object>();
            OnNext = onNext;
            OnError = onError;
            OnComplete = onComplete;
            CursorOf = cursorOf;
            LastCursor = Json.Str(_variables, "after");
            IsActive = true;
        }

        /// <summary>Variables for the next `subscribe`: the caller's, with "after" set to the resume point.</summary>
        public Dictionary<string, object> VariablesForSubscribe()
        {
            var v = new Dictionary<string, object>(_variables);
            if (CursorOf != null && LastCursor != null) v["after"] = LastCursor;
            return v;
        }

        public void Unsubscribe() { _client.Unsubscribe(this); }
    }

    public sealed class GraphQLWsClient
    {
        readonly Uri _endpoint;
        readonly Func<string> _token;
        readonly GraphQLWsOptions _options;
        readonly object _lock = new object();
        readonly Dictionary<string, GraphQLSubscription> _subscriptions = new Dictionary<string, GraphQLSubscription>();
        readonly SemaphoreSlim _sendLock = new SemaphoreSlim(1, 1);
        int _nextId;
        int _connectionNumber;
        IWsTransport _live;      // set only while acknowledged
        long _lastReceivedTicks;

        public GraphQLWsState State { get; private set; }
        public event Action<GraphQLWsState> StateChanged;
        /// <summary>(attempt starting at 1, delay, close code that caused it)</summary>
        public event Action<int, TimeSpan, int> Reconnecting;
        /// <summary>A subscribe message went out (first time or resubscribe after a reconnect).</summary>
        public event Action<GraphQLSubscription> SubscribeSent;
        /// <summary>An exception thrown by a subscriber callback; it is reported, not allowed to kill the socket.</summary>
        public event Action<Exception> CallbackError;

        public GraphQLWsClient(Uri endpoint, Func<string> bearerToken, GraphQLWsOptions options = null)
        {
            _endpoint = endpoint;
            _token = bearerToken ?? (() => null);
            _options = options ?? new GraphQLWsOptions();
        }

        public GraphQLSubscription Subscribe(string query, Dictionary<string, object> variables,
            Action<Dictionary<string, object>> onNext, Action<List<object>> onError = null, Action onComplete = null,
            Func<Dictionary<string, object>, string> cursorOf = null)
        {
            return Subscribe(query, variables, onNext, onError, onComplete, cursorOf, false);
        }

        GraphQLSubscription Subscribe(string query, Dictionary<string, object> variables,
            Action<Dictionary<string, object>> onNext, Action<List<object>> onError, Action onComplete,
            Func<Dictionary<string, object>, string> cursorOf, bool oneShot)
        {
            GraphQLSubscription sub;
            lock (_lock)
            {
                string id = (++_nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
                sub = new GraphQLSubscription(this, id, query, variables, onNext, onError, onComplete, cursorOf);
                sub.OneShot = oneShot;
                _subscriptions[id] = sub;
            }
            IWsTransport live = _live;
            if (live != null) FireAndForget(SendSubscribeAsync(live, sub, _connectionNumber));
            return sub;
        }

        /// <summary>
        /// Runs a query or mutation over the socket and completes with its payload (`data`, and
        /// `errors` when the server refused it: read them with <see cref="GraphQLWsClient.Errors"/>).
        /// Sent when the socket is acknowledged; fails if the connection drops before the answer,
        /// because a mutation is not safe to repeat.
        /// </summary>
        public Task<Dictionary<string, object>> ExecuteAsync(string query, Dictionary<string, object> variables)
        {
            var answer = new TaskCompletionSource<Dictionary<string, object>>(TaskCreationOptions.RunContinuationsAsynchronously);
            Subscribe(query, variables,
                payload => { answer.TrySetResult(payload); },
                errors => answer.TrySetResult(Json.O("errors", errors)),
                () => answer.TrySetException(new InvalidOperationException("completed without an answer")),
                null, true);
            return answer.Task;
        }

        /// <summary>The first error's message and extensions.code in a payload, or null when it has none.</summary>
        public static string Errors(Dictionary<string, object> payload)
        {
            var errors = Json.List(payload, "errors");
            if (errors == null || errors.Count == 0) return null;
            var first = errors[0] as Dictionary<string, object>;
            return Json.Str(Json.Obj(first, "extensions"), "code", "ERROR") + ": " + Json.Str(first, "message", "");
        }

        internal void Unsubscribe(GraphQLSubscription sub)
        {
            lock (_lock)
            {
                if (!sub.IsActive) return;
                sub.IsActive = false;
                _subscriptions.Remove(sub.Id);
            }
            IWsTransport live = _live;
            if (live != null) FireAndForget(SendAsync(live, GraphQLWsProtocol.CompleteMessage(sub.Id), CancellationToken.None));
        }

        /// <summary>
        /// Connects and keeps connecting until <paramref name="ct"/> is cancelled (returns normally) or the
        /// server closes with a code that reconnecting cannot fix (throws <see cref="GraphQLWsException"/>).
        /// </summary>
        public async Task RunAsync(CancellationToken ct)
        {
            int attempt = 0;
            while (true)
            {
                if (ct.IsCancellationRequested) { SetState(GraphQLWsState.Stopped); return; }
                ConnectionEnd end = await RunOneConnectionAsync(ct);
                if (ct.IsCancellationRequested) { SetState(GraphQLWsState.Stopped); return; }

                CloseAction action = GraphQLWsCloseCodes.Classify(end.Code);
                if (action != CloseAction.Reconnect)
                {
                    SetState(GraphQLWsState.Failed);
                    throw new GraphQLWsException(end.Code, action, end.Reason);
                }
                // A connection the server accepted was healthy: start the backoff over.
                if (end.Acknowledged) attempt = 0;
                TimeSpan delay = _options.Backoff.DelayFor(attempt);
                attempt++;
                SetState(GraphQLWsState.WaitingToReconnect);
                var handler = Reconnecting;
                if (handler != null) handler(attempt, delay, end.Code);
                try { await _options.Delay(delay, ct); }
                catch (OperationCanceledException) { SetState(GraphQLWsState.Stopped); return; }
            }
        }

        struct ConnectionEnd
        {
            public int Code;
            public string Reason;
            public bool Acknowledged;
        }

        async Task<ConnectionEnd> RunOneConnectionAsync(CancellationToken ct)
        {
            SetState(GraphQLWsState.Connecting);
            var end = new ConnectionEnd { Code = GraphQLWsCloseCodes.Abnormal };
            IWsTransport transport = _options.TransportFactory();
            var keepAliveCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            try
            {
                try
                {
                    await transport.ConnectAsync(_endpoint, GraphQLWsProtocol.SubProtocol, ct);
                }
                catch (Exception e)
                {
                    if (ct.IsCancellationRequested) return end;
                    end.Reason = "connect failed: " + e.Message;
                    return end;
                }
                if (transport.NegotiatedSubProtocol != null && transport.NegotiatedSubProtocol != GraphQLWsProtocol.SubProtocol)
                {
                    end.Code = GraphQLWsCloseCodes.SubprotocolNotAcceptable;
                    end.Reason = "server chose subprotocol " + transport.NegotiatedSubProtocol;
                    return end;
                }

                await SendAsync(transport, GraphQLWsProtocol.ConnectionInitMessage(_token()), ct);
                WsReceived? closedBeforeAck = await WaitForAckAsync(transport, ct);
                if (closedBeforeAck.HasValue)
                {
                    end.Code = closedBeforeAck.Value.CloseCode;
                    end.Reason = closedBeforeAck.Value.CloseReason;
                    return end;
                }

                end.Acknowledged = true;
                int connection;
                List<GraphQLSubscription> toResume;
                lock (_lock)
                {
                    connection = ++_connectionNumber;
                    _live = transport;
                    toResume = new List<GraphQLSubscription>(_subscriptions.Values);
                }
                SetState(GraphQLWsState.Connected);
                toResume.Sort((a, b) => int.Parse(a.Id).CompareTo(int.Parse(b.Id)));
                foreach (var sub in toResume)
                {
                    if (sub.OneShot && sub.SentOnConnection >= 0)
                    {
                        // Sent on a connection that dropped before its answer: not repeated.
                        if (Remove(sub.Id) != null && sub.OnComplete != null) Invoke(sub.OnComplete);
                        continue;
                    }
                    await SendSubscribeAsync(transport, sub, connection);
                }

                var keepAlive = KeepAliveAsync(transport, keepAliveCts.Token);
                FireAndForget(keepAlive);

                while (true)
                {
                    WsReceived msg = await transport.ReceiveAsync(ct);
                    if (msg.IsClose)
                    {
                        end.Code = msg.CloseCode;
                        end.Reason = msg.CloseReason;
                        return end;
                    }
                    Interlocked.Exchange(ref _lastReceivedTicks, DateTime.UtcNow.Ticks);
                    await HandleMessageAsync(transport, msg.Text, ct);
                }
            }
            catch (OperationCanceledException)
            {
                return end; // RunAsync sees the cancellation
            }
            finally
            {
                lock (_lock) { if (_live == transport) _live = null; }
                keepAliveCts.Cancel();
                keepAliveCts.Dispose();
                if (ct.IsCancellationRequested) await CloseQuietlyAsync(transport);
                transport.Dispose();
            }
        }

        /// <summary>Returns null once connection_ack arrived, or the close that came instead.</summary>
        async Task<WsReceived?> WaitForAckAsync(IWsTransport transport, CancellationToken ct)
        {
            var deadline = DateTime.UtcNow + _options.AckTimeout;
            while (true)
            {
                TimeSpan left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) left = TimeSpan.Zero;
                Task<WsReceived> receive = transport.ReceiveAsync(ct);
                Task first = await Task.WhenAny(receive, Task.Delay(left, ct));
                if (first != receive)
                {
                    ct.ThrowIfCancellationRequested();
                    transport.Abort();
                    FireAndForget(receive);
                    return WsReceived.Closed(GraphQLWsCloseCodes.ConnectionInitTimeout, "no connection_ack in time");
                }
                WsReceived msg = await receive;
                if (msg.IsClose) return msg;
                Dictionary<string, object> m = TryParse(msg.Text);
                string type = Json.Str(m, "type");
                if (type == GraphQLWsProtocol.ConnectionAck) { Interlocked.Exchange(ref _lastReceivedTicks, DateTime.UtcNow.Ticks); return null; }
                if (type == GraphQLWsProtocol.Ping) await SendAsync(transport, GraphQLWsProtocol.PongMessage(), ct);
                // Anything else before the ack is ignored.
            }
        }

        async Task HandleMessageAsync(IWsTransport transport, string text, CancellationToken ct)
        {
            Dictionary<string, object> m = TryParse(text);
            if (m == null) return;
            string type = Json.Str(m, "type");
            string id = Json.Str(m, "id");
            switch (type)
            {
                case GraphQLWsProtocol.Ping:
                    await SendAsync(transport, GraphQLWsProtocol.PongMessage(), ct);
                    return;
                case GraphQLWsProtocol.Next:
                {
                    GraphQLSubscription sub = Find(id);
                    if (sub == null) return;
                    var payload = Json.Obj(m, "payload") ?? new Dictionary<string, object>();
                    Invoke(() => sub.OnNext(payload));
                    // Move the resume point only after the event was handed over, so a reconnect
                    // can never skip an event that was not delivered.
                    if (sub.CursorOf != null)
                    {
                        string cursor = null;
                        try { cursor = sub.CursorOf(payload); } catch (Exception e) { ReportCallbackError(e); }
                        if (cursor != null) sub.LastCursor = cursor;
                    }
                    return;
                }
                case GraphQLWsProtocol.Error:
                {
                    GraphQLSubscription sub = Remove(id);
                    if (sub == null) return;
                    var errors = Json.List(m, "payload") ?? new List<object>();
                    if (sub.OnError != null) Invoke(() => sub.OnError(errors));
                    return;
                }
                case GraphQLWsProtocol.Complete:
                {
                    GraphQLSubscription sub = Remove(id);
                    if (sub != null && sub.OnComplete != null) Invoke(sub.OnComplete);
                    return;
                }
                default:
                    return; // pong, a repeated ack or an unknown type: nothing to do
            }
        }

        async Task KeepAliveAsync(IWsTransport transport, CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(_options.PingInterval, ct);
                var silence = TimeSpan.FromTicks(DateTime.UtcNow.Ticks - Interlocked.Read(ref _lastReceivedTicks));
                if (silence > _options.PingInterval + _options.PongTimeout)
                {
                    // Half-open connection: the receive loop would wait forever. Aborting makes it
                    // return a 1006 close, which leads to a reconnect.
                    transport.Abort();
                    return;
                }
                await SendAsync(transport, GraphQLWsProtocol.PingMessage(), ct);
            }
        }

        async Task SendSubscribeAsync(IWsTransport transport, GraphQLSubscription sub, int connection)
        {
            lock (_lock)
            {
                // Subscribe() and the resubscribe after an ack can race; send once per connection
                // (a second subscribe with the same id would get the socket closed with 4409).
                if (!sub.IsActive || sub.SentOnConnection == connection) return;
                sub.SentOnConnection = connection;
            }
            await SendAsync(transport, GraphQLWsProtocol.SubscribeMessage(sub.Id, sub.Query, sub.VariablesForSubscribe()), CancellationToken.None);
            var handler = SubscribeSent;
            if (handler != null) Invoke(() => handler(sub));
        }

        async Task SendAsync(IWsTransport transport, string text, CancellationToken ct)
        {
            // ClientWebSocket allows only one send at a time.
            await _sendLock.WaitAsync(ct);
            try { await transport.SendAsync(text, ct); }
            finally { _sendLock.Release(); }
        }

        GraphQLSubscription Find(string id)
        {
            lock (_lock)
            {
                GraphQLSubscription s;
                return id != null && _subscriptions.TryGetValue(id, out s) ? s : null;
            }
        }

        GraphQLSubscription Remove(string id)
        {
            lock (_lock)
            {
                GraphQLSubscription s;
                if (id == null || !_subscriptions.TryGetValue(id, out s)) return null;
                _subscriptions.Remove(id);
                s.IsActive = false;
                return s;
            }
        }

        static Dictionary<string, object> TryParse(string text)
        {
            try { return MiniJson.Parse(text) as Dictionary<string, object>; }
            catch (FormatException) { return null; }
        }

        void Invoke(Action a)
        {
            try { a(); } catch (Exception e) { ReportCallbackError(e); }
        }

        void ReportCallbackError(Exception e)
        {
            var handler = CallbackError;
            if (handler != null) handler(e);
        }

        void SetState(GraphQLWsState s)
        {
            if (State == s) return;
            State = s;
            var handler = StateChanged;
            if (handler != null) handler(s);
        }

        static async Task CloseQuietlyAsync(IWsTransport transport)
        {
            try
            {
                using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
                    await transport.CloseAsync(GraphQLWsCloseCodes.Normal, "client stopping", cts.Token);
            }
            catch (Exception) { }
        }

        static async void FireAndForget(Task t)
        {
            // Observes the task so its exception is not re-thrown as unobserved; send failures
            // show up as a closed socket in the receive loop anyway.
            try { await t; } catch (Exception) { }
        }
    }
}
