"""The web app's 3D character speaks with the server's VRM maps.

The conversation page turns visemes and emotions into VRM 1.0 expressions itself
(web/src/components/character3d/expressions.ts), as a hologram device does from its manifest
(services/devices/manifest.py): the two tables must say the same, or the web character and the
hologram move their mouths differently for one reply.
"""

from __future__ import annotations

import re

import pytest

from services.devices.manifest import VRM_EMOTIONS, VRM_VISEMES
from tests.clients.web import WEB

pytestmark = pytest.mark.one_backend

SOURCE = WEB / "src" / "components" / "character3d" / "expressions.ts"


def table(name: str) -> str:
    match = re.search(
        rf"const {name}: Record<string, \w+> = \{{(.*?)\n\}};", SOURCE.read_text(), re.S
    )
    assert match, f"{name} not found in {SOURCE}"
    return match.group(1)


def test_the_web_character_maps_visemes_as_the_server_does() -> None:
    web = {
        viseme: [(n, float(w)) for n, w in re.findall(r"(\w+): ([\d.]+)", weights)]
        for viseme, weights in re.findall(r"^\s+(\w+): \{(.*)\},$", table("VISEMES"), re.M)
    }
    server = {v: sorted(ws) for v, ws in VRM_VISEMES.items()}
    assert {v: sorted(ws) for v, ws in web.items()} == server


def test_the_web_character_maps_emotions_as_the_server_does() -> None:
    web = dict(re.findall(r'^\s+(\w+): "(\w+)",$', table("EMOTIONS"), re.M))
    assert web == VRM_EMOTIONS
