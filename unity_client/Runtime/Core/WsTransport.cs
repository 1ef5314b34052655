// The text-message socket the GraphQL client talks through. An interface so tests can replace
// the network with a scripted server and check reconnects and resumes deterministically.
using System;
using System.IO;
using System.Net.WebSockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace HoloMate.Core
{
    /// <summary>One received text message, or the close of the socket (Text == null).</summary>
    public struct WsReceived
    {
        public string Text;
        public int CloseCode;
        public string CloseReason;
        public bool IsClose { get { return Text == null; } }

        public static WsReceived Message(string text) { return new WsReceived { Text = text }; }
        public static WsReceived Closed(int code, string reason) { return new WsReceived { CloseCode = code, CloseReason = reason }; }
    }

    public interface IWsTransport : IDisposable
    {
        /// <summary>The subprotocol the server accepted (null if none).</summary>
        string NegotiatedSubProtocol { get; }
        Task ConnectAsync(Uri uri, string subProtocol, CancellationToken ct);
        Task SendAsync(string text, CancellationToken ct);
        /// <summary>Next whole text message; a close frame or a dropped connection returns IsClose.</summary>
        Task<WsReceived> ReceiveAsync(CancellationToken ct);
        Task CloseAsync(int code, string reason, CancellationToken ct);
        /// <summary>Drops the connection at once (used when the server stops answering pings).</summary>
        void Abort();
    }

    /// <summary><see cref="IWsTransport"/> over System.Net.WebSockets.ClientWebSocket.</summary>
    public sealed class ClientWebSocketTransport : IWsTransport
    {
        readonly ClientWebSocket _ws = new ClientWebSocket();
        readonly byte[] _buffer = new byte[16 * 1024];

        public string NegotiatedSubProtocol { get { return _ws.SubProtocol; } }

        public async Task ConnectAsync(Uri uri, string subProtocol, CancellationToken ct)
        {
            _ws.Options.AddSubProtocol(subProtocol);
            // Keep-alive is done at the GraphQL level (ping/pong), which also proves the server
            // process is responsive, not just the TCP connection.
            _ws.Options.KeepAliveInterval = TimeSpan.Zero;
            await _ws.ConnectAsync(uri, ct);
        }

        public async Task SendAsync(string text, CancellationToken ct)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            await _ws.SendAsync(new ArraySegment<byte>(bytes), WebSocketMessageType.Text, true, ct);
        }

        public async Task<WsReceived> ReceiveAsync(CancellationToken ct)
        {
            try
            {
                using (var message = new MemoryStream())
                {
                    while (true)
                    {
                        var result = await _ws.ReceiveAsync(new ArraySegment<byte>(_buffer), ct);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            int code = result.CloseStatus.HasValue ? (int)result.CloseStatus.Value : GraphQLWsCloseCodes.Abnormal;
                            // Complete the closing handshake; failures here do not matter any more.
                            try { await _ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None); }
                            catch (Exception) { }
                            return WsReceived.Closed(code, result.CloseStatusDescription);
                        }
                        message.Write(_buffer, 0, result.Count);
                        if (result.EndOfMessage) break;
                    }
                    return WsReceived.Message(Encoding.UTF8.GetString(message.ToArray()));
                }
            }
            catch (OperationCanceledException) { throw; }
            catch (Exception e)
            {
                if (ct.IsCancellationRequested) throw new OperationCanceledException(ct);
                // A reset TCP connection or an aborted socket: no close frame, i.e. 1006.
                return WsReceived.Closed(GraphQLWsCloseCodes.Abnormal, e.Message);
            }
        }

        public async Task CloseAsync(int code, string reason, CancellationToken ct)
        {
            if (_ws.State == WebSocketState.Open || _ws.State == WebSocketState.CloseReceived)
                await _ws.CloseAsync((WebSocketCloseStatus)code, reason, ct);
        }

        public void Abort() { _ws.Abort(); }
        public void Dispose() { _ws.Dispose(); }
    }
}
