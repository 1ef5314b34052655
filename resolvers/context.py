"""The typed GraphQL context: who calls, the shared app state, loaders for this request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resolvers.dataloaders import Loaders
from resolvers.state import AppState
from services.errors import AppError
from services.identity import Viewer, require_person, require_viewer


@dataclass(slots=True)
class Context:
    app: AppState
    request: Any
    response: Any
    request_id: str
    viewer: Viewer | None = None
    auth_error: AppError | None = None
    connection_params: dict[str, Any] = field(default_factory=dict)
    _loaders: Loaders | None = None

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(self.app.sessionmaker)
        return self._loaders

    def reset_loaders(self) -> None:
        """Drop cached loads: a socket's context lives for hours, each event needs fresh data."""
        self._loaders = None

    def person(self) -> Viewer:
        if self.auth_error is not None:
            raise self.auth_error
        return require_person(self.viewer)

    def any_viewer(self) -> Viewer:
        if self.auth_error is not None:
            raise self.auth_error
        return require_viewer(self.viewer)
