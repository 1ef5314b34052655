"""The ASGI app factory; its lifespan owns every resource (engine, hub, providers)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from api.client_ip import TrustedProxies
from api.dependency_probes import watch_dependencies
from api.graphql_schema import build_schema
from api.graphql_view import HoloGraphQL
from api.health import healthz, readyz
from api.logs import configure_logging
from api.media import media
from api.memory_providers import build_embedder, build_memory_model
from api.metrics import Metrics
from api.metrics_server import metrics_access, metrics_server
from api.middleware import BodySizeLimit, GraphQLSockets, RequestId
from api.operation_limits import Limits
from api.providers import build_providers, build_storage, build_tts, start_llm
from api.rate_limits import ClientLimits, RequestLimits, build_login_throttle, build_throttle
from api.request_json import JsonLimits
from api.request_metrics import RequestMetrics
from api.security_headers import STRICT_POLICY, SecurityHeaders, graphiql_policy
from api.settings import Settings, get_settings
from api.tracing import build_tracing
from api.trusted_documents import build_documents
from api.voice_sessions import build_voice_sessions
from api.webhooks import LOCAL_CHECKOUT_PATH, build_billing, local_checkout, stripe_webhook
from context.state import AppState
from pipeline.broadcast.factory import make_hub
from pipeline.broadcast.hub import EventHub
from pipeline.broadcast.log_base import EventLog
from pipeline.broadcast.log_sql import SqlEventLog
from pipeline.broadcast.log_sqlite import SqliteEventLog
from pipeline.ratelimit.base import RateLimiter
from pipeline.ratelimit.factory import make_rate_limiter
from pipeline.revocation.factory import make_revocation_store
from services import quotas
from services.auth.cache import VerifiedTokens
from services.auth.passwords import Passwords
from services.auth.policy import AuthPolicy
from services.auth.revocations import Revocations
from services.auth.tokens import TokenCodec
from services.devices.pairing import PairingConfig
from services.devices.presence import Presence
from services.devices.service import DeviceService
from services.memories.forming import MemoryForming
from services.privacy import DataExports
from services.replies import ReplyService
from services.reply_leases import ReplyLeases
from services.retention import run_periodically
from services.summaries import Summaries
from services.turn_context import ContextConfig
from services.voices import VoiceCatalog
from store.db import events_file, make_engine, make_sessionmaker, sqlite_file
from store.metadata import event_log
from store.migrate import upgrade_async

log = logging.getLogger("holomate")


GC_THRESHOLDS = (10_000, 50, 50)


def build_policy(settings: Settings, limiter: RateLimiter | None = None) -> AuthPolicy:
    verified = VerifiedTokens(settings.auth_cache_ttl_s)
    revocations = Revocations(
        store=make_revocation_store(settings.shared_state, settings.broadcast_namespace),
        verified=verified,
        record_ttl_s=settings.access_token_ttl_s,  # no access token outlives its entry
    )
    return AuthPolicy(
        passwords=Passwords(settings.password_time_cost, settings.password_memory_kib),
        codec=TokenCodec(settings.secret_key.get_secret_value()),
        access_ttl_s=settings.access_token_ttl_s,
        refresh_ttl_s=settings.refresh_token_ttl_s,
        device_ttl_s=settings.device_token_ttl_s,
        verified=verified,
        revocations=revocations,
        login_throttle=None if limiter is None else build_login_throttle(settings, limiter),
    )


def build_hub(settings: Settings, state: AppState) -> EventHub:
    """Redis fans out and logs across processes; otherwise the app's database keeps the
    replay log, so a reconnecting client resumes even after a restart."""
    if settings.broadcast_url.startswith(("redis://", "rediss://")):
        return make_hub(
            settings.broadcast_url,
            max_len=settings.event_log_max_len,
            queue_size=settings.subscriber_queue_size,
            namespace=settings.broadcast_namespace,
            append_wait_s=settings.event_log_append_wait_s,
        )
    log_ = _sql_event_log(settings, state)
    return make_hub(
        settings.broadcast_url,
        log=log_,
        queue_size=settings.subscriber_queue_size,
        namespace=settings.broadcast_namespace,
        append_wait_s=settings.event_log_append_wait_s,
    )


def _sql_event_log(settings: Settings, state: AppState) -> EventLog:
    """On a SQLite file the log gets a file of its own beside it (log_sqlite.py says why);
    on PostgreSQL it is a table of the database."""
    path = sqlite_file(settings.database_url)
    if path is None:
        return SqlEventLog(state.sessionmaker, settings.event_log_max_len, table=event_log)
    return SqliteEventLog(events_file(path), settings.event_log_max_len)


def build_devices(settings: Settings, state: AppState, hub: EventHub) -> DeviceService:
    config = PairingConfig(
        ttl_s=settings.pairing_ttl_s,
        interval_s=settings.pairing_interval_s,
        verification_uri=settings.pairing_verification_uri,
        max_failures=settings.pairing_max_failures,
        failure_window_s=settings.pairing_failure_window_s,
        device_token_ttl_s=settings.device_token_ttl_s,
    )
    return DeviceService(
        sessionmaker=state.sessionmaker,
        hub=hub,
        codec=state.policy.codec,
        verified=state.policy.verified,
        config=config,
        presence=Presence(state.sessionmaker, hub, settings.device_heartbeat_s),
        revocations=state.policy.revocations,
    )


def json_limits(settings: Settings) -> JsonLimits:
    return JsonLimits(max_depth=settings.max_json_depth, max_values=settings.max_json_values)


def operation_limits(settings: Settings) -> Limits:
    return Limits(
        max_cost=settings.max_query_cost,
        timeout_s=settings.operation_timeout_s,
        max_response_bytes=settings.max_response_bytes,
        json=json_limits(settings),
    )


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    tracing = build_tracing(settings)
    limiter = make_rate_limiter(settings.shared_state, settings.broadcast_namespace)
    state = AppState(
        sessionmaker=make_sessionmaker(engine),
        policy=build_policy(settings, limiter),
        introspection=settings.introspection_enabled,
        media_url_ttl_s=settings.media_url_ttl_s,
        public_base_url=settings.public_base_url,
    )
    state.throttle = build_throttle(settings, limiter)
    state.storage = storage = build_storage(settings)
    metrics = Metrics()
    private_metrics = metrics_server(settings, metrics, lambda: state.hub)
    state.exports = exports = DataExports(
        state.sessionmaker, storage, settings.media_url_ttl_s, settings.public_base_url
    )
    state.voices = VoiceCatalog(build_tts(settings))
    state.billing = billing = build_billing(settings)
    schema = build_schema(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_directives=settings.max_directives,
        introspection=settings.introspection_enabled,
        anonymous_introspection=settings.anonymous_introspection,
        limits=operation_limits(settings),
        log_key=settings.secret_key.get_secret_value().encode(),
        observe=metrics.observe_operation,
    )
    graphql = HoloGraphQL(
        state,
        schema=schema,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL],
        keep_alive=True,
        keep_alive_interval=15,
        connection_init_wait_timeout=timedelta(seconds=settings.ws_connection_init_timeout_s),
        max_ws_frame_bytes=settings.max_ws_frame_bytes,
        documents=(documents := build_documents(settings)),
        json_limits=json_limits(settings),
        multipart_uploads_enabled=True,
        max_subscriptions_per_connection=20,
        # Browsers send Origin on WebSocket handshakes; the web app's origins may subscribe.
        allowed_origins=settings.cors_origins,
    )
    metrics.watch_live(graphql.live_renderer)
    metrics.watch_stt(lambda: state.replies.providers.stt if state.replies else None)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        configure_logging(settings.log_level, settings.log_format)  # before anything logs
        if tracing is not None:
            tracing.start(engine)
        if settings.migrate_on_start and settings.is_sqlite:
            await upgrade_async(settings.database_url)
        app.state.holo = state
        app.state.settings = settings
        state.hub = build_hub(settings, state)
        await state.hub.start()
        watch_dependencies(metrics, settings, state)
        await state.policy.revocations.start(state.hub)
        if private_metrics is not None:
            await private_metrics.start()
        assert state.storage is not None
        embedder = build_embedder(settings)
        state.replies = ReplyService(
            sessionmaker=state.sessionmaker,
            hub=state.hub,
            providers=build_providers(settings, state.storage),
            on_turn=metrics.observe_turn,
            quota_check=quotas.check_can_send_message,
            voice_check=lambda session, user_id: quotas.check_can_use_voice(session, user_id, 0),
            voice_spend=quotas.spend_voice,
            voice_length_check=quotas.check_voice_message_length,
            leases=ReplyLeases(
                state.sessionmaker, settings.reply_lease_s, settings.reply_heartbeat_s
            ),
            context=ContextConfig(
                settings.llm_context_tokens, settings.llm_reply_tokens, embedder=embedder
            ),
        )
        summaries = Summaries(
            state.sessionmaker,
            state.replies.context,
            state.replies.providers.llm if settings.llm_summaries else None,
        )
        state.replies.after_turn.append(summaries.after_turn)
        forming = MemoryForming(
            state.sessionmaker, state.hub, build_memory_model(settings), embedder
        )
        state.replies.after_turn.append(forming.after_turn)
        state.replies.erased_here.append(graphql.live_renderer.forget)
        await start_llm(state.replies.providers.llm)  # the local model's server, if it is one
        await state.replies.start()
        state.on_user_erased = state.replies.user_erased
        state.voice_sessions = build_voice_sessions(
            settings, state.sessionmaker, state.replies, state.policy.revocations
        )
        state.devices = build_devices(settings, state, state.hub)
        sweeper = asyncio.create_task(state.devices.presence.run(), name="presence")
        housekeeping = asyncio.create_task(
            run_periodically(
                state.sessionmaker,
                storage,
                settings.audio_retention_days,
                settings.retention_interval_s,
            ),
            name="retention",
        )
        # Long-lived start-up objects (schema, models) leave the GC's view: shorter pauses.
        gc.collect()
        gc.freeze()
        # Each live event makes short-lived objects for every subscriber; at CPython's default
        # thresholds they trigger a full collection of every socket's objects every few events
        # (bench/fanout.py, 1000 subscribers: p99 90 ms with the defaults, 42 ms with these).
        gc.set_threshold(*GC_THRESHOLDS)
        try:
            yield
        finally:
            housekeeping.cancel()
            sweeper.cancel()
            # Awaited before the engine goes: a task cut off mid-query must hand its
            # connection back first, or disposing the pool waits on it forever.
            await asyncio.gather(housekeeping, sweeper, return_exceptions=True)
            await exports.aclose()
            if state.voice_sessions is not None:
                await state.voice_sessions.stop()  # before the replies and STT they use
            await state.replies.stop()
            await forming.aclose()
            await state.policy.revocations.stop()
            if private_metrics is not None:
                await private_metrics.stop()
            await state.hub.stop()
            await billing.provider.aclose()
            await limiter.aclose()
            await documents.store.aclose()
            await engine.dispose()
            if tracing is not None:
                tracing.stop()

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),  # what GraphQLSockets does not take (other mounts)
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics.endpoint(lambda: state.hub, metrics_access(settings))),
        Route("/media/{key:path}", media, methods=["GET", "HEAD"]),
        Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),
        Route(LOCAL_CHECKOUT_PATH, local_checkout, methods=["GET"]),
    ]
    middleware = [
        Middleware(RequestMetrics, metrics=metrics),  # outermost: every answer counts
        Middleware(
            SecurityHeaders,
            hsts=settings.env == "production",
            trusted_proxies=TrustedProxies(settings.trusted_proxies),
            graphiql_policy=(
                graphiql_policy(graphql.graphql_ide_html)
                if settings.graphiql_enabled
                else STRICT_POLICY
            ),
        ),
        Middleware(ClientLimits, state=state, trusted_proxies=settings.trusted_proxies),
        Middleware(GraphQLSockets, graphql=graphql, path="/graphql"),  # WebSockets, not routes
        Middleware(RequestId),
        Middleware(
            BodySizeLimit,
            max_bytes=settings.max_body_bytes,
            max_multipart_bytes=settings.max_upload_bytes,
        ),
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["authorization", "content-type", "accept"],
        ),
        Middleware(RequestLimits, state=state),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
