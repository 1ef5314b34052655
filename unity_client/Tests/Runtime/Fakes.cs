// Test doubles: an in-memory WebSocket whose "server" is a script, and a canned GraphQL API.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using HoloMate.Core;

namespace HoloMate.Tests
{
    /// <summary>One fake socket. The test's server script sees each client message and pushes replies.</summary>
    public sealed class FakeTransport : IWsTransport
    {
        readonly ConcurrentQueue<WsReceived> _inbox = new ConcurrentQueue<WsReceived>();
        readonly SemaphoreSlim _available = new SemaphoreSlim(0);
        readonly Action<FakeTransport, Dictionary<string, object>> _server;
        public readonly List<Dictionary<string, object>> Sent = new List<Dictionary<string, object>>();
        public bool FailConnect;
        public int Number;

        public FakeTransport(int number, Action<FakeTransport, Dictionary<string, object>> server) { Number = number; _server = server; }

        public string NegotiatedSubProtocol { get { return GraphQLWsProtocol.SubProtocol; } }

        public Task ConnectAsync(Uri uri, string subProtocol, CancellationToken ct)
        {
            if (FailConnect) throw new System.Net.WebSockets.WebSocketException("connection refused");
            return Task.FromResult(0);
        }

        public Task SendAsync(string text, CancellationToken ct)
        {
            var msg = MiniJson.ParseObject(text);
            lock (Sent) Sent.Add(msg);
            _server(this, msg);
            return Task.FromResult(0);
        }

        public void Push(Dictionary<string, object> message) { Push(WsReceived.Message(MiniJson.Serialize(message))); }
        public void Close(int code) { Push(WsReceived.Closed(code, "test close " + code)); }
        void Push(WsReceived r) { _inbox.Enqueue(r); _available.Release(); }

        public async Task<WsReceived> ReceiveAsync(CancellationToken ct)
        {
            await _available.WaitAsync(ct);
            WsReceived r;
            _inbox.TryDequeue(out r);
            return r;
        }

        public Task CloseAsync(int code, string reason, CancellationToken ct) { return Task.FromResult(0); }
        public void Abort() { Close(GraphQLWsCloseCodes.Abnormal); }
        public void Dispose() { }
    }

    /// <summary>Answers GraphQL operations from a script; records what was asked.</summary>
    public sealed class FakeApi : IGraphQLRequester
    {
        public readonly List<KeyValuePair<string, Dictionary<string, object>>> Calls = new List<KeyValuePair<string, Dictionary<string, object>>>();
        readonly Func<string, Dictionary<string, object>, Dictionary<string, object>> _answer;

        public FakeApi(Func<string, Dictionary<string, object>, Dictionary<string, object>> answer) { _answer = answer; }

        public Task<Dictionary<string, object>> ExecuteAsync(string query, Dictionary<string, object> variables, string bearerToken, CancellationToken ct)
        {
            Calls.Add(new KeyValuePair<string, Dictionary<string, object>>(query, variables));
            return Task.FromResult(_answer(query, variables));
        }
    }
}
