// Queries and mutations over HTTP POST (application/json). Strawberry's legacy graphql-ws handler
// accepts no mutations, and a device has no socket before pairing, so HTTP is used for those.
using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace HoloMate.Core
{
    public sealed class GraphQLRequestException : Exception
    {
        /// <summary>The "errors" list of the response (may be empty for HTTP-level failures).</summary>
        public readonly List<object> Errors;
        public readonly int HttpStatus;

        public GraphQLRequestException(string message, List<object> errors, int httpStatus) : base(message)
        {
            Errors = errors ?? new List<object>();
            HttpStatus = httpStatus;
        }

        /// <summary>The first error's extensions.code, if the server set one.</summary>
        public string Code { get { return Errors.Count > 0 ? Json.Str(Json.Obj(Errors[0], "extensions"), "code") : null; } }
    }

    /// <summary>Anything that can run one GraphQL operation; an interface so the pairing flow can be tested offline.</summary>
    public interface IGraphQLRequester
    {
        /// <summary>Returns "data"; throws <see cref="GraphQLRequestException"/> when "errors" is present.</summary>
        Task<Dictionary<string, object>> ExecuteAsync(string query, Dictionary<string, object> variables, string bearerToken, CancellationToken ct);
    }

    public sealed class GraphQLHttpClient : IGraphQLRequester
    {
        readonly HttpClient _http;
        readonly Uri _endpoint;

        public GraphQLHttpClient(Uri endpoint, HttpClient http = null)
        {
            _endpoint = endpoint;
            _http = http ?? new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        }

        public async Task<Dictionary<string, object>> ExecuteAsync(string query, Dictionary<string, object> variables, string bearerToken, CancellationToken ct)
        {
            string body = MiniJson.Serialize(Json.O("query", query, "variables", variables ?? new Dictionary<string, object>()));
            using (var request = new HttpRequestMessage(HttpMethod.Post, _endpoint))
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                if (!string.IsNullOrEmpty(bearerToken))
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearerToken);
                using (HttpResponseMessage response = await _http.SendAsync(request, ct))
                {
                    string text = await response.Content.ReadAsStringAsync();
                    Dictionary<string, object> doc;
                    try { doc = MiniJson.ParseObject(text); }
                    catch (FormatException)
                    {
                        throw new GraphQLRequestException("HTTP " + (int)response.StatusCode + ": not a GraphQL response", null, (int)response.StatusCode);
                    }
                    List<object> errors = Json.List(doc, "errors");
                    if (errors != null && errors.Count > 0)
                    {
                        string first = Json.Str(errors[0], "message") ?? "GraphQL error";
                        throw new GraphQLRequestException(first, errors, (int)response.StatusCode);
                    }
                    var data = Json.Obj(doc, "data");
                    if (data == null) throw new GraphQLRequestException("HTTP " + (int)response.StatusCode + ": response has no data", null, (int)response.StatusCode);
                    return data;
                }
            }
        }
    }
}
