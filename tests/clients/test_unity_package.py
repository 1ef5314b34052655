"""unity_client/ is a UPM package Unity can install by git URL (an immutable package).

Unity ignores a file of an immutable package that has no ``.meta`` beside it (its scripts would
silently not compile), resolves assembly references by asmdef name, and compiles an optional
assembly only when its define constraints hold. What Unity would refuse is checked here, without
Unity: the manifest, the meta files, the assembly definitions and the documentation's promises.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.one_backend  # files only

PACKAGE = Path(__file__).resolve().parents[2] / "unity_client"
GUID = re.compile(r"^guid: ([0-9a-f]{32})$", re.MULTILINE)
# Assemblies the package references that Unity or UniVRM provide.
EXTERNAL = {"UnityEngine.TestRunner", "UnityEditor.TestRunner", "VRM10", "VRM"}
UNIVRM = {"com.vrmc.vrm": "VRM10", "com.vrmc.univrm": "VRM"}


def visible(path: Path) -> bool:
    """What Unity imports: not hidden, not in (or named) a ``~`` folder, not the build output."""
    parts = path.relative_to(PACKAGE).parts
    return not any(p.startswith(".") or p.endswith("~") for p in parts)


def assets() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*") if visible(p) and p.suffix != ".meta")


def asmdefs() -> dict[str, dict[str, Any]]:
    found = {}
    for path in PACKAGE.rglob("*.asmdef"):
        if visible(path):
            data = json.loads(path.read_text())
            found[data["name"]] = data | {"dir": path.parent}
    return found


def test_the_manifest_names_the_package_its_unity_version_and_sample() -> None:
    manifest = json.loads((PACKAGE / "package.json").read_text())
    assert re.fullmatch(r"com\.[a-z0-9-]+\.[a-z0-9.-]+", manifest["name"])
    assert re.fullmatch(r"\d{4}\.\d", manifest["unity"])
    assert manifest["displayName"] and manifest["description"]
    for sample in manifest["samples"]:
        folder = PACKAGE / sample["path"]
        assert sample["path"].startswith("Samples~/") and folder.is_dir(), sample
        assert (folder / "README.md").is_file() and list(folder.glob("*.cs"))
    for name in ("CHANGELOG.md", "LICENSE.md", "Documentation~/index.md"):
        assert (PACKAGE / name).is_file(), name


def test_every_file_and_folder_unity_imports_has_one_meta_with_a_unique_guid() -> None:
    missing = [str(p.relative_to(PACKAGE)) for p in assets() if not Path(f"{p}.meta").exists()]
    assert missing == [], "add .meta files (fileFormatVersion 2, a new guid) for these"
    metas = [p for p in PACKAGE.rglob("*.meta") if visible(p)]
    orphans = [str(m) for m in metas if not m.with_suffix("").exists()]
    assert orphans == []
    guids = [GUID.findall(m.read_text()) for m in metas]
    assert all(len(g) == 1 for g in guids), "one guid line per meta"
    flat = [g[0] for g in guids]
    assert len(set(flat)) == len(flat), "guids must be unique"
    for meta in metas:
        text = meta.read_text()
        asset = meta.with_suffix("")
        if asset.is_dir():
            assert "folderAsset: yes" in text, meta
        elif asset.suffix == ".cs":
            assert "MonoImporter:" in text, meta
        elif asset.suffix == ".asmdef":
            assert "AssemblyDefinitionImporter:" in text, meta


def test_the_assemblies_reference_what_exists_and_the_core_never_the_engine() -> None:
    found = asmdefs()
    assert found["HoloMate.Core"]["noEngineReferences"] is True
    assert found["HoloMate.Core"]["references"] == []
    for name, data in found.items():
        unknown = set(data["references"]) - set(found) - EXTERNAL
        assert not unknown, f"{name} references {unknown}"
    # Every script belongs to an assembly definition (a package's loose scripts do not compile).
    for script in (p for p in assets() if p.suffix == ".cs"):
        owners = [d for d in found.values() if d["dir"] in (script.parent, *script.parents)]
        assert owners, f"{script} is outside every asmdef"
    # Core code never names UnityEngine.
    for script in (found["HoloMate.Core"]["dir"]).glob("*.cs"):
        assert "using UnityEngine" not in script.read_text(), script


@pytest.mark.parametrize("package", sorted(UNIVRM))
def test_a_vrm_assembly_compiles_only_when_its_univrm_package_is_present(package: str) -> None:
    """versionDefines sets the symbol from the UniVRM package; defineConstraints requires it, and
    the scripts are wrapped in it too (so a project without UniVRM never sees UniVRM's names)."""
    vrm = [d for d in asmdefs().values() if UNIVRM[package] in d["references"]]
    assert len(vrm) == 1, vrm
    data = vrm[0]
    defines = [v["define"] for v in data["versionDefines"] if v["name"] == package]
    assert len(defines) == 1 and data["defineConstraints"] == defines
    for script in data["dir"].glob("*.cs"):
        text = script.read_text()
        assert f"#if {defines[0]}" in text and text.rstrip().endswith("#endif"), script


def test_the_documentation_says_how_to_install_by_git_url_and_what_is_stand_in() -> None:
    docs = (PACKAGE / "Documentation~/index.md").read_text()
    assert ".git?path=/unity_client" in docs
    assert "com.vrmc.vrm" in docs and "com.vrmc.univrm" in docs
    assert "stand-ins" in docs  # honest about what the tests compile against
    changelog = (PACKAGE / "CHANGELOG.md").read_text()
    assert re.findall(r"^## (.*)$", changelog, flags=re.MULTILINE)[0] == "[Unreleased]"
