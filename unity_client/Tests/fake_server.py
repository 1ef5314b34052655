# Stand-in server for smoke-testing LiveHarness before the real server exists (NOT the real schema):
#   .venv/bin/python -m uvicorn fake_server:app --app-dir unity_client/Tests --port 8765
#   mono unity_client/bin/LiveHarness.exe --url http://127.0.0.1:8765/graphql
# It auto-approves pairing on the second poll and streams one fixed two-chunk reply.
import asyncio, typing, strawberry, enum
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute
from starlette.responses import Response

approved = {"v": False}

@strawberry.type
class Pairing:
    deviceCode: str; userCode: str; verificationUri: str; expiresIn: int; interval: int
@strawberry.type
class Poll:
    status: str; deviceToken: typing.Optional[str]; deviceId: typing.Optional[str]

def common(c): return dict(cursor=c, conversationId="conv", messageId="m1", at="2025-01-01T00:00:00Z")

@strawberry.type
class Msg:
    id: str; text: str; status: str; role: str = "ASSISTANT"
@strawberry.type
class ReplyStarted:
    cursor: str; conversationId: str; messageId: str; at: str
@strawberry.type
class MessageDelta:
    cursor: str; conversationId: str; messageId: str; at: str; seq: int; text: str
@strawberry.type
class AudioChunk:
    cursor: str; conversationId: str; messageId: str; at: str; seq: int; url: str; mimeType: str; startMs: int; durationMs: int; text: str
@strawberry.type
class Frame:
    viseme: str; startMs: int; endMs: int; weight: float
@strawberry.type
class VisemeFrames:
    cursor: str; conversationId: str; messageId: str; at: str; audioSeq: int; frames: typing.List[Frame]
@strawberry.type
class EmotionChanged:
    cursor: str; conversationId: str; messageId: str; at: str; emotion: str; intensity: float; atMs: int
@strawberry.type
class ReplyCompleted:
    cursor: str; conversationId: str; messageId: str; at: str; message: Msg
@strawberry.type
class MessagePosted:
    cursor: str; conversationId: str; messageId: str; at: str; message: Msg
@strawberry.type
class ReplyInterrupted:
    cursor: str; conversationId: str; messageId: str; at: str; heardText: str
@strawberry.type
class ReplyFailed:
    cursor: str; conversationId: str; messageId: str; at: str; code: str; detail: str
@strawberry.type
class CompanionSwitched:
    cursor: str; conversationId: str; messageId: str; at: str; companionId: str
@strawberry.type
class PlayAnimation:
    cursor: str; conversationId: str; messageId: str; at: str; name: str; loop: bool
@strawberry.type
class VolumeChanged:
    cursor: str; conversationId: str; messageId: str; at: str; volume: float
@strawberry.type
class SleepChanged:
    cursor: str; conversationId: str; messageId: str; at: str; asleep: bool

Ev = typing.Annotated[typing.Union[MessagePosted, ReplyStarted, MessageDelta, AudioChunk, VisemeFrames, EmotionChanged, ReplyCompleted, ReplyInterrupted, ReplyFailed, CompanionSwitched, PlayAnimation, VolumeChanged, SleepChanged], strawberry.union("HologramEvent")]

@strawberry.type
class Query:
    hello: str = "hi"

@strawberry.type
class Mutation:
    @strawberry.mutation
    def requestDevicePairing(self, model: str, serial: str, capabilities: typing.List[str]) -> Pairing:
        return Pairing(deviceCode="dc1", userCode="ABCD-1234", verificationUri="http://x/pair", expiresIn=60, interval=1)
    @strawberry.mutation
    def pollDevicePairing(self, deviceCode: str) -> Poll:
        approved["n"] = approved.get("n", 0) + 1
        if approved["n"] < 2: return Poll(status="PENDING", deviceToken=None, deviceId=None)
        return Poll(status="APPROVED", deviceToken="tok", deviceId="dev1")

@strawberry.type
class Subscription:
    @strawberry.subscription
    async def hologramEvents(self, info: strawberry.Info, after: typing.Optional[str] = None) -> typing.AsyncGenerator[Ev, None]:
        assert info.context["connection_params"].get("authorization") == "Bearer tok"
        await asyncio.sleep(0.3)
        yield ReplyStarted(**common("1"))
        yield MessageDelta(**common("2"), seq=0, text="Hello ")
        yield VisemeFrames(**common("3"), audioSeq=0, frames=[Frame(viseme="sil", startMs=0, endMs=50, weight=1.0), Frame(viseme="aa", startMs=50, endMs=300, weight=0.9), Frame(viseme="PP", startMs=300, endMs=400, weight=1.0)])
        yield EmotionChanged(**common("4"), emotion="joy", intensity=0.7, atMs=0)
        yield AudioChunk(**common("5"), seq=0, url="/audio/0.wav", mimeType="audio/wav", startMs=0, durationMs=400, text="Hello ")
        yield MessageDelta(**common("6"), seq=1, text="you")
        yield VisemeFrames(**common("7"), audioSeq=1, frames=[Frame(viseme="ou", startMs=0, endMs=250, weight=1.0)])
        yield AudioChunk(**common("8"), seq=1, url="/audio/1.wav", mimeType="audio/wav", startMs=400, durationMs=250, text="you")
        yield ReplyCompleted(**common("9"), message=Msg(id="m1", text="Hello you", status="COMPLETED"))
        await asyncio.sleep(30)

schema = strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription)
gql = GraphQL(schema, subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL])
async def audio(request): return Response(b"RIFF" + b"\0" * 100, media_type="audio/wav")
app = Starlette(routes=[Route("/graphql", gql, methods=["GET", "POST"]), WebSocketRoute("/graphql", gql), Route("/audio/{n}", audio)])
