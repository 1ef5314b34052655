"""The typed GraphQL context: who calls, the shared app state, loaders for this request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from context.loaders import Loaders
from context.state import AppState
from services.auth.revocations import Closer
from services.errors import AppError
from services.identity import Viewer, require_person, require_viewer
from services.rate_limits import Rule


@dataclass(slots=True)
class Context:
    app: AppState
    request: Any
    response: Any
    request_id: str
    viewer: Viewer | None = None
    auth_error: AppError | None = None
    connection_params: dict[str, Any] = field(default_factory=dict)
    # How the view closes this WebSocket, as its protocol code does; None over HTTP.
    closer: Closer | None = None
    _loaders: Loaders | None = None

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.app.sessionmaker)
        return self._loaders

    def reset_loaders(self) -> None:
        """Drop cached loads: a socket's context lives for hours, each event needs fresh data."""
        self._loaders = None

    @property
    def client_key(self) -> str:
        """What per-IP limits count for this client (set by ``api.rate_limits.ClientLimits``)."""
        state = getattr(self.request, "scope", {}).get("state", {})
        return str(state.get("client_key", "-"))

    async def limit(self, rule: Rule) -> None:
        """Spend one unit of ``rule`` for this client's IP, or raise RATE_LIMITED."""
        if self.app.throttle is not None:
            await self.app.throttle.spend(rule, self.client_key)

    async def close_socket(self, code: int, reason: str) -> None:
        """End this WebSocket (an expired token, an unpaired device): one log line, and first a
        connection_error on the legacy protocol, whose clients ignore close codes."""
        if self.closer is not None:
            await self.closer(code, reason)

    @property
    def media_base_url(self) -> str:
        """Where signed media URLs start: the public URL, else the address the client called
        (http(s) for a WebSocket's ws(s))."""
        if self.app.public_base_url:
            return self.app.public_base_url.rstrip("/")
        url = getattr(self.request, "url", None)
        if url is None:
            return ""
        scheme = {"ws": "http", "wss": "https"}.get(url.scheme, url.scheme)
        return f"{scheme}://{url.netloc}"

    def person(self) -> Viewer:
        if self.auth_error is not None:
            raise self.auth_error
        return require_person(self.viewer)

    def any_viewer(self) -> Viewer:
        if self.auth_error is not None:
            raise self.auth_error
        return require_viewer(self.viewer)
