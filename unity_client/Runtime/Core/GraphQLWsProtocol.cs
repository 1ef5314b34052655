// Message shapes and close codes of the `graphql-transport-ws` protocol
// (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md). Kept apart from the
// socket code so tests can check the exact JSON the client sends.
using System.Collections.Generic;

namespace HoloMate.Core
{
    public static class GraphQLWsProtocol
    {
        public const string SubProtocol = "graphql-transport-ws";

        public const string ConnectionInit = "connection_init";
        public const string ConnectionAck = "connection_ack";
        public const string Ping = "ping";
        public const string Pong = "pong";
        public const string Subscribe = "subscribe";
        public const string Next = "next";
        public const string Error = "error";
        public const string Complete = "complete";

        public static string ConnectionInitMessage(string bearerToken)
        {
            var payload = new Dictionary<string, object>();
            if (!string.IsNullOrEmpty(bearerToken)) payload["authorization"] = "Bearer " + bearerToken;
            return MiniJson.Serialize(Json.O("type", ConnectionInit, "payload", payload));
        }

        public static string SubscribeMessage(string id, string query, Dictionary<string, object> variables)
        {
            var payload = Json.O("query", query, "variables", variables ?? new Dictionary<string, object>());
            return MiniJson.Serialize(Json.O("type", Subscribe, "id", id, "payload", payload));
        }

        public static string CompleteMessage(string id)
        {
            return MiniJson.Serialize(Json.O("type", Complete, "id", id));
        }

        public static string PingMessage() { return MiniJson.Serialize(Json.O("type", Ping)); }
        public static string PongMessage() { return MiniJson.Serialize(Json.O("type", Pong)); }
    }

    /// <summary>What the client does after the socket closed with a given code.</summary>
    public enum CloseAction
    {
        Reconnect,
        /// <summary>Token missing, expired or revoked: reconnecting with it cannot succeed.</summary>
        FatalAuth,
        /// <summary>The server says our messages are wrong: reconnecting would repeat the mistake.</summary>
        FatalProtocol,
    }

    public static class GraphQLWsCloseCodes
    {
        public const int Normal = 1000;
        public const int GoingAway = 1001;
        public const int Abnormal = 1006;      // no close frame (network drop); also used locally
        public const int InternalError = 1011;
        public const int InternalServerError = 4500;
        public const int BadRequest = 4400;
        public const int Unauthorized = 4401;
        public const int Forbidden = 4403;
        public const int SubprotocolNotAcceptable = 4406;
        public const int ConnectionInitTimeout = 4408;
        public const int SubscriberAlreadyExists = 4409;
        public const int TooManyInitialisationRequests = 4429;

        public static CloseAction Classify(int code)
        {
            switch (code)
            {
                case Unauthorized:
                case Forbidden:
                    return CloseAction.FatalAuth;
                case BadRequest:
                case SubprotocolNotAcceptable:
                    return CloseAction.FatalProtocol;
                // 4409 (duplicate operation id) and 4429 (second connection_init) describe the state
                // of the closed socket only; a fresh socket starts clean, so retry (with backoff,
                // so a real bug cannot turn into a tight loop). 4408, 4500, 1001, 1006, 1011,
                // 1012, 1013 and a server-initiated 1000 (redeploy) are all transient for a
                // device that should stay online.
                default:
                    return CloseAction.Reconnect;
            }
        }
    }
}
