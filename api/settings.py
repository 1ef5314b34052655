"""Typed settings from ``HOLOMATE_*`` environment variables, cached and failing fast."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.ratelimit.limits_backend import parse_rate
from pipeline.tts.process_pool import default_workers as default_speech_workers

DEFAULT_SECRET = "dev-only-secret-change-me-dev-only-secret"  # noqa: S105 - refused in production
RATE_SETTINGS = {
    "rate_limit_ip",
    "rate_limit_account",
    "rate_limit_login",
    "rate_limit_register",
    "rate_limit_request_device_pairing",
    "rate_limit_poll_device_pairing",
    "rate_limit_refresh_token",
    "rate_limit_ws_connect",
    "rate_limit_ws_operations",
    "rate_limit_ws_voice_chunks",
    "login_failures_account_ip",
    "login_failures_ip",
    "login_failures_account",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOLOMATE_", env_nested_delimiter="__")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///var/holomate.db"
    broadcast_url: str = "memory://"
    broadcast_namespace: str = ""
    # Where state shared by every process lives (rate limits, revoked sessions): a redis:// URL,
    # or empty to follow HOLOMATE_BROADCAST_URL when that is Redis, else this process's memory.
    shared_state_url: str = ""
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    access_token_ttl_s: int = Field(default=15 * 60, gt=0)
    refresh_token_ttl_s: int = Field(default=30 * 24 * 3600, gt=0)
    # How long a process trusts a token it checked: an ended session is refused everywhere
    # after at most this long even if the hub's message is lost.
    auth_cache_ttl_s: float = Field(default=1.0, ge=0, le=1.0)
    device_token_ttl_s: int = Field(default=365 * 24 * 3600, gt=0)
    cors_origins: list[str] = Field(default_factory=lambda: ["http://localhost:3000"])
    # Unset: on, except with HOLOMATE_ENV=production (GraphiQL off; introspection for signed-in
    # accounts only). An explicit true or false always wins.
    graphiql: bool | None = None
    introspection: bool | None = None
    # Which documents run (services/trusted_documents.py). trusted: only those of the manifests
    # in HOLOMATE_TRUSTED_DOCUMENTS (comma-separated paths of {sha256: document} JSON files the
    # clients' builds emit), by hash or in full; open: any, and a client may register one by
    # hash (APQ). Unset: trusted with HOLOMATE_ENV=production, else open.
    documents: Literal["open", "trusted"] | None = None
    trusted_documents: str = ""
    # /metrics: with a token it needs `Authorization: Bearer <token>`; with a bind address
    # ("127.0.0.1:9100") it is served only there; in production with neither, it answers 404.
    metrics_token: SecretStr = SecretStr("")
    metrics_bind: str = ""
    max_body_bytes: int = 256 * 1024
    max_upload_bytes: int = 10 * 1024 * 1024
    max_query_depth: int = 12
    max_aliases: int = 15
    max_tokens: int = 2000
    max_directives: int = Field(default=50, gt=0)
    # Static cost of an operation (api/query_cost.py): fields it can answer, lists multiplied
    # by their page (the largest page when none is asked). Refused over it: QUERY_TOO_COMPLEX.
    max_query_cost: int = Field(default=5000, gt=0)
    operation_timeout_s: float = Field(default=10.0, gt=0)  # queries and mutations, not streams
    max_response_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    max_json_depth: int = Field(default=32, gt=0)  # a request's JSON (variables), in levels
    max_json_values: int = Field(default=10_000, gt=0)  # ... and in values
    # One WebSocket message; past it the socket closes 1009 (the clients send 3 KiB at most).
    max_ws_frame_bytes: int = Field(default=64 * 1024, gt=0)
    ws_connection_init_timeout_s: float = Field(default=10.0, gt=0)  # else 4408, both protocols
    password_time_cost: int = 2
    password_memory_kib: int = 19 * 1024
    # Rate limits, in the `limits` notation ("20/second;600/minute"; "" for none), counted in
    # HOLOMATE_SHARED_STATE_URL when that is Redis. The client IP is the socket peer, or the
    # right-most X-Forwarded-For address that is not one of these proxies (IPs or CIDRs).
    trusted_proxies: list[str] = Field(default_factory=list)
    rate_limit_ip: str = "30/second;900/minute"  # every HTTP request, per client IP
    rate_limit_account: str = "20/second;600/minute"  # every HTTP request with a token, per account
    rate_limit_login: str = "10/minute;60/hour"  # login attempts per IP
    rate_limit_register: str = "5/minute;20/hour"  # per IP
    rate_limit_request_device_pairing: str = "10/minute;60/hour"  # per IP
    rate_limit_poll_device_pairing: str = "120/minute"  # per IP (each device: pairing_interval_s)
    rate_limit_refresh_token: str = "30/minute"  # per IP
    rate_limit_ws_connect: str = "60/minute"  # WebSocket handshakes per IP
    rate_limit_ws_operations: str = "30/10seconds;300/hour"  # subscribe/start messages per socket
    # sendVoiceChunk operations per socket, instead of the budget above (10/s at 100 ms chunks)
    rate_limit_ws_voice_chunks: str = "30/second;40000/hour"
    # Failed logins: per (account, IP), per IP across accounts, and per account from every IP
    # (then only IPs the account was created, logged in or refreshed from within
    # login_known_ip_days may still try).
    login_failures_account_ip: str = "5/15minutes"
    login_failures_ip: str = "50/hour"
    login_failures_account: str = "100/hour"
    login_known_ip_days: int = Field(default=30, gt=0)
    # Blobs (reply audio, data exports, companion pictures and exported cards): "local" files
    # under storage_dir, served at /media behind HMAC-signed links; or "s3", a bucket of AWS S3 or
    # an S3-compatible store (s3_endpoint_url: MinIO, Ceph, R2...) under s3_prefix, handed out as
    # presigned URLs. Credentials: the standard AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or a
    # profile, an instance role). A reply waits on each audio chunk's upload: short timeouts.
    storage: Literal["local", "s3"] = "local"
    storage_dir: Path = Path("var/storage")
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = ""
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    s3_timeout_s: float = Field(default=5.0, gt=0)
    s3_max_attempts: int = Field(default=3, ge=1)
    media_url_ttl_s: int = 3600
    audio_retention_days: int = Field(default=0, ge=0)  # 0 keeps reply audio forever
    retention_interval_s: float = Field(default=3600.0, gt=0)
    public_base_url: str = ""
    llm_base_url: str = ""
    llm_api_key: SecretStr = SecretStr("")
    llm_model: str = "gpt-4o-mini"
    offline_llm_word_delay_s: float = Field(default=0.03, ge=0)
    # Who answers when HOLOMATE_LLM_BASE_URL is not set: auto (OpenAI when its key is set, else
    # the local model ./dev installs, the persona responder answering as a fallback when it
    # cannot run), local (the local model even with an OpenAI key), responder (the deterministic
    # persona responder: the test suite's choice).
    llm_engine: Literal["auto", "local", "responder"] = "auto"
    # The local model's server runs with HOLOMATE_LLM_CONTEXT_TOKENS as its context and
    # HOLOMATE_LLM_REPLY_TOKENS as its cap per reply (below).
    llm_local_threads: int = Field(default=2, ge=1)
    # An operator's own llama-server build and GGUF model instead of the packaged ones.
    llm_local_server: Path | None = None
    llm_local_model: Path | None = None
    llm_local_start_timeout_s: float = Field(default=60.0, gt=0)
    llm_local_dir: Path = Path("var/models")  # the F16 copy on CPUs without AVX-VNNI, the log
    # The model's context window in tokens, and how many of them a reply may take: the prompt
    # (persona, lorebook, memories, summary, history) is fitted into the rest (pipeline/context.py).
    # 2048 matches SmolLM2 served with a 2048-token context.
    llm_context_tokens: int = Field(default=2048, ge=512)
    llm_reply_tokens: int = Field(default=256, ge=16)
    # The configured model is capable enough to summarise conversations (a hosted one, not the
    # 135M default); otherwise summaries are extractive. Any failure falls back to extractive.
    llm_summaries: bool = False
    # Long-term memory (services/memories). memory_llm: a model on the LLM endpoint that honours
    # structured output (json_schema) forms memories; empty: the offline extractor does.
    memory_llm: str = ""
    # Semantic recall: an OpenAI-compatible /v1/embeddings endpoint (empty base URL: OpenAI's,
    # with this key or HOLOMATE_OPENAI_API_KEY); no model: full-text search alone.
    embeddings_model: str = ""
    embeddings_base_url: str = ""
    embeddings_api_key: SecretStr = SecretStr("")
    # whisper (faster-whisper, Whisper base; requirements-speech.txt): the embedded default, and
    # pocketsphinx in its place when it is not installed (a warning is logged); pocketsphinx is
    # the light fallback (~20 MB, ~0.3 s to load, but 4-8x the word errors).
    stt_provider: Literal["whisper", "pocketsphinx", "openai", "elevenlabs"] = "whisper"
    stt_model_dir: Path = Path("var/models/whisper-base")  # joined from its wheels on first use
    # Offline speech-to-text runs in this many worker processes (0: in the server's own
    # process, which stalls every other request while it decodes: for comparisons only).
    stt_workers: int = Field(default=1, ge=0)
    stt_queue: int = Field(default=4, ge=0)  # voice messages waiting for a worker; more: 429
    stt_timeout_s: float = Field(default=300.0, gt=0)  # decoding one voice message
    # Streamed voice sessions (services/voice_sessions): the silence that ends a turn, the voiced
    # time before speech is believed (shorter: a click), the voiced time over a playing reply
    # that interrupts it (shorter: a backchannel or a cough), speech between partial transcripts
    # (0: none), an idle session's timeout, the largest chunk, audio allowed ahead of real time.
    voice_end_silence_ms: int = Field(default=500, ge=100, le=5000)
    voice_min_speech_ms: int = Field(default=160, ge=20, le=2000)
    voice_barge_in_ms: int = Field(default=500, ge=20, le=5000)
    voice_partial_interval_ms: int = Field(default=1000, ge=0)
    # The reply's text is begun while the person pauses (false: only once their turn ends).
    voice_draft_replies: bool = True
    voice_idle_timeout_s: float = Field(default=10.0, gt=0)
    voice_max_chunk_ms: int = Field(default=500, ge=20, le=2000)
    voice_burst_ms: int = Field(default=2000, ge=0)
    voice_sessions_per_person: int = Field(default=2, ge=1)
    # Offline speech (espeak-ng) runs in this many worker processes (default: one per core but
    # the event loop's; 0: in a thread of the server's own process, for comparisons only).
    speech_workers: int = Field(default_factory=default_speech_workers, ge=0)
    speech_queue: int = Field(default=64, ge=0)  # sentences waiting for a worker; more: text-only
    speech_timeout_s: float = Field(default=10.0, gt=0)  # synthesising one sentence
    # The neural offline voice (Piper, requirements-speech.txt), when installed: offered to
    # voice profiles, never the default voice. Unset: offered except with HOLOMATE_ENV=production,
    # which opts in once the voice's terms are cleared (README: "The neural voice"). Its worker
    # processes (~350 MB each, started on its first sentence; 0: a thread of the server).
    piper_voice: bool | None = None
    piper_workers: int = Field(default=1, ge=0)
    openai_api_key: SecretStr = SecretStr("")
    openai_base_url: str = ""
    elevenlabs_api_key: SecretStr = SecretStr("")
    elevenlabs_base_url: str = ""
    stripe_api_key: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")
    stripe_base_url: str = ""
    billing_provider: Literal["local", "stripe"] = "local"  # local grants plans for free
    stripe_price_plus: str = ""
    stripe_price_pro: str = ""
    billing_grace_days: int = Field(default=7, ge=0)
    billing_return_url: str = "http://localhost:3000/billing"
    pairing_ttl_s: int = Field(default=600, gt=0)  # RFC 8628 expires_in
    pairing_interval_s: int = Field(default=5, gt=0)  # RFC 8628 interval between polls
    pairing_verification_uri: str = "https://holo-mate.app/pair"
    pairing_max_failures: int = Field(default=5, gt=0)  # wrong user codes per owner per window
    pairing_failure_window_s: int = Field(default=900, gt=0)
    device_heartbeat_s: float = Field(default=30.0, gt=0)  # lastSeenAt refresh while connected
    # A streaming reply's owner lease: renewed every heartbeat by the process producing it; once
    # expired (that process died), any process fails the reply as REPLY_OWNER_LOST.
    reply_heartbeat_s: float = Field(default=2.0, gt=0)
    reply_lease_s: float = Field(default=6.0, gt=0)
    event_log_max_len: int = 5000
    # A publish keeps trying this long while the replay log is unreachable (a Redis restart).
    event_log_append_wait_s: float = 5.0
    subscriber_queue_size: int = 1000
    migrate_on_start: bool = True
    log_level: str = "INFO"
    # Observability (README "Observability"). json: one JSON object a log line (request id,
    # trace id, hashed user, operation). An OTLP/HTTP collector ("http://collector:4318") turns
    # tracing on; empty: off, nothing instrumented. The ratio samples new traces (root spans).
    log_format: Literal["text", "json"] = "text"
    otlp_endpoint: str = ""
    otlp_service_name: str = "holomate"
    trace_sample_ratio: float = Field(default=1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _rate_limits_parse(self) -> Settings:
        for name, value in self.model_dump(include=RATE_SETTINGS).items():
            try:
                parse_rate(value)
            except ValueError as e:
                raise ValueError(f"HOLOMATE_{name.upper()}={value!r}: {e}") from e
        for proxy in self.trusted_proxies:
            ip_network(proxy, strict=False)  # raises ValueError naming the bad entry
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.env == "production":
            secret = self.secret_key.get_secret_value()
            if secret == DEFAULT_SECRET or len(secret) < 32:
                raise ValueError(
                    "HOLOMATE_SECRET_KEY must be set to a random value of at least 32 characters "
                    "when HOLOMATE_ENV=production"
                )
        return self

    @model_validator(mode="after")
    def _stt_needs_its_key(self) -> Settings:
        keys = {"openai": self.openai_api_key, "elevenlabs": self.elevenlabs_api_key}
        if self.stt_provider in keys and not keys[self.stt_provider].get_secret_value():
            raise ValueError(f"HOLOMATE_STT_PROVIDER={self.stt_provider} needs its API key")
        return self

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> Settings:
        if self.storage == "s3" and not self.s3_bucket:
            raise ValueError("HOLOMATE_STORAGE=s3 needs HOLOMATE_S3_BUCKET")
        return self

    @model_validator(mode="after")
    def _lease_outlives_heartbeats(self) -> Settings:
        if self.reply_lease_s < 2 * self.reply_heartbeat_s:
            raise ValueError(
                "HOLOMATE_REPLY_LEASE_S must be at least twice HOLOMATE_REPLY_HEARTBEAT_S"
            )
        return self

    @property
    def shared_state(self) -> str:
        """``redis://...`` when processes must share limits and revocations, else ``memory://``."""
        if self.shared_state_url:
            return self.shared_state_url
        if self.broadcast_url.startswith(("redis://", "rediss://")):
            return self.broadcast_url
        return "memory://"

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.env != "production"

    @property
    def documents_policy(self) -> Literal["open", "trusted"]:
        if self.documents is not None:
            return self.documents
        return "trusted" if self.env == "production" else "open"

    @property
    def trusted_document_paths(self) -> list[Path]:
        return [Path(p.strip()) for p in self.trusted_documents.split(",") if p.strip()]

    @property
    def piper_offered(self) -> bool:
        return self.piper_voice if self.piper_voice is not None else self.env != "production"

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection is not False

    @property
    def anonymous_introspection(self) -> bool:
        """Introspection without a token (with one it follows ``introspection_enabled``)."""
        if self.introspection is not None:
            return self.introspection
        return self.env != "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
