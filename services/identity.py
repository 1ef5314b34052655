"""Who is calling: a person (access token) or one of their hologram devices (device token)."""

from __future__ import annotations

from dataclasses import dataclass

from services.errors import Forbidden, Unauthenticated


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: int
    expires_at: float
    device_id: int | None = None
    # The login (refresh-token family) or device the token belongs to: what logout ends.
    session_id: str = ""

    @property
    def is_device(self) -> bool:
        return self.device_id is not None


def require_person(viewer: Viewer | None) -> Viewer:
    """Account operations need a person; a device token is scoped to its stream only."""
    if viewer is None:
        raise Unauthenticated()
    if viewer.is_device:
        raise Forbidden("A device token cannot do this")
    return viewer


def require_viewer(viewer: Viewer | None) -> Viewer:
    if viewer is None:
        raise Unauthenticated()
    return viewer
