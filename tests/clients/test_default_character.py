"""The project's own 3D character: web/public/characters/default.vrm is what its script writes.

The model is generated (web/scripts/make-default-vrm.mjs), never downloaded: the checked-in file
must be the script's output, byte for byte, and a VRM 1.0 whose expressions move its face.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from services.devices.manifest import VRM_EMOTIONS, VRM_VISEMES
from tests.clients.web import WEB

pytestmark = pytest.mark.one_backend

MODEL = WEB / "public" / "characters" / "default.vrm"
# Every VRM 1.0 expression the server's manifest drives (neutral is the absence of the others),
# and the blink the web's idle animation uses.
EXPRESSIONS = (
    {name for weights in VRM_VISEMES.values() for name, _ in weights}
    | (set(VRM_EMOTIONS.values()) - {"neutral"})
    | {"blink"}
)


def gltf_json(glb: bytes) -> dict[str, Any]:
    magic, version, length = struct.unpack_from("<III", glb)
    assert (magic, version, length) == (0x46546C67, 2, len(glb))
    chunk_length, chunk_type = struct.unpack_from("<II", glb, 12)
    assert chunk_type == 0x4E4F534A  # JSON
    document: dict[str, Any] = json.loads(glb[20 : 20 + chunk_length])
    return document


def test_the_default_character_is_the_scripts_output(tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.fail("node is needed: run ./dev setup")
    out = tmp_path / "default.vrm"
    subprocess.run(
        ["node", "scripts/make-default-vrm.mjs", str(out)], cwd=WEB, check=True, timeout=60
    )
    assert out.read_bytes() == MODEL.read_bytes(), "run: node web/scripts/make-default-vrm.mjs"


def test_the_default_character_is_a_small_vrm_1_with_a_speaking_face() -> None:
    glb = MODEL.read_bytes()
    assert len(glb) < 200_000
    document = gltf_json(glb)
    vrm = document["extensions"]["VRMC_vrm"]
    assert vrm["specVersion"] == "1.0"
    assert vrm["meta"]["licenseUrl"] == "https://vrm.dev/licenses/1.0/"
    presets = vrm["expressions"]["preset"]
    assert EXPRESSIONS <= set(presets)
    for name in EXPRESSIONS:
        (bind,) = presets[name]["morphTargetBinds"]
        mesh = document["meshes"][document["nodes"][bind["node"]]["mesh"]]
        moved = [
            p["targets"][bind["index"]]["POSITION"]
            for p in mesh["primitives"]
            if "bufferView" in document["accessors"][p["targets"][bind["index"]]["POSITION"]]
        ]
        assert moved, f"{name} moves nothing"
        assert presets[name]["overrideMouth"] == "none"
