"""compose.yaml: the whole stack an operator starts with one command, checked without an engine.

The structure is checked here against the compose specification's JSON schema (compose-spec.json:
compose-spec/compose-spec's schema/compose-spec.json at 170098b, Apache-2.0) and the rules the
stack relies on; `docker compose config` runs too where the compose CLI exists.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from api.cli import main as holomate
from tests.deploy.files import ROOT, load_yaml, server_built_from, unknown_settings

pytestmark = pytest.mark.one_backend

COMPOSE = ROOT / "compose.yaml"
# What an operator puts in .env; the stack refuses to start without them.
SECRETS = {
    "HOLOMATE_SECRET_KEY": "an-operators-random-secret-of-at-least-32-chars",
    "POSTGRES_PASSWORD": "postgres-password",
    "S3_SECRET_KEY": "s3-secret-key",
    "HOLOMATE_STRIPE_API_KEY": "sk_test_key",
    "HOLOMATE_STRIPE_WEBHOOK_SECRET": "whsec_secret",
    "HOLOMATE_STRIPE_PRICE_PLUS": "price_plus",
    "HOLOMATE_STRIPE_PRICE_PRO": "price_pro",
}
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::(?P<op>[-?])(?P<arg>[^}]*))?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc: dict[str, Any] = load_yaml(COMPOSE)[0]
    return doc


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``."""

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if env.get(name):
            return env[name]
        if op == "?":
            raise KeyError(name)
        return arg or ""

    return VARIABLE.sub(substitute, value).replace("$$", "$")


def server_env(compose: dict[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    raw: dict[str, str] = compose["services"]["api"]["environment"]
    return {name: interpolate(str(value), env) for name, value in raw.items()}


def test_the_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads((Path(__file__).parent / "compose-spec.json").read_text())
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(compose)
    ]
    assert errors == []


def test_every_service_is_built_here_or_runs_a_pinned_image(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if "build" in service:
            assert service["build"]["context"] == "."
            assert (ROOT / "Dockerfile").read_text().count(f" AS {service['build']['target']}\n")
            continue
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image}"


def test_services_wait_for_what_they_need(compose: dict[str, Any]) -> None:
    """Long-running services have healthchecks; one-shot jobs (migrations, the bucket) gate the
    services that need them by completing successfully."""
    services = compose["services"]
    one_shots = {name for name, s in services.items() if s.get("restart") == "no"}
    assert one_shots == {"migrate", "storage-bucket"}
    for name, service in services.items():
        if name not in one_shots:
            assert "healthcheck" in service, f"{name} has no healthcheck"
        for needed, how in service.get("depends_on", {}).items():
            assert needed in services, f"{name} depends on a missing {needed}"
            if needed in one_shots:
                assert how["condition"] == "service_completed_successfully", f"{name}->{needed}"
            elif how["condition"] == "service_healthy":
                assert "healthcheck" in services[needed]
    gated = {n for s in services.values() for n in s.get("depends_on", {}) if n in one_shots}
    assert gated == one_shots


def test_migrations_run_once_before_the_api_starts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    command = services["migrate"]["command"]
    assert command == ["holomate", "db", "upgrade"]
    with pytest.raises(SystemExit) as exit_:  # the CLI has that command
        holomate([*command[1:], "--help"])
    assert exit_.value.code == 0
    assert services["migrate"]["image"] == services["api"]["image"]
    api = services["api"]
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert api["environment"]["HOLOMATE_MIGRATE_ON_START"] == "false"


def test_the_api_runs_several_workers_sharing_events_through_redis(
    compose: dict[str, Any],
) -> None:
    command = compose["services"]["api"]["command"]
    assert int(command[command.index("--workers") + 1]) > 1
    assert server_env(compose, SECRETS)["HOLOMATE_BROADCAST_URL"] == "redis://redis:6379/0"


def test_redis_keeps_an_append_only_file_on_a_volume(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    assert "redis-data:/data" in redis["volumes"]


def test_every_volume_is_declared_or_a_file_of_the_repository(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used = set()
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{source} is missing"
            else:
                used.add(source)
    assert used == declared


def test_the_server_image_gets_only_real_settings(compose: dict[str, Any]) -> None:
    assert unknown_settings(compose["services"]["api"]["environment"]) == []


def test_the_server_starts_with_the_stack_settings(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = server_built_from(server_env(compose, SECRETS), monkeypatch)
    assert settings.env == "production"
    assert settings.database_url.startswith("postgresql+asyncpg://holomate:postgres-password@")
    assert settings.storage == "s3" and settings.s3_bucket == "holomate"
    assert settings.cors_origins == ["http://localhost:3000"]
    assert settings.metrics_bind == "0.0.0.0:9100"


def test_the_stack_refuses_to_start_without_its_secrets(compose: dict[str, Any]) -> None:
    required = set(re.findall(r"\$\{(\w+):\?", COMPOSE.read_text()))
    assert required == set(SECRETS)
    for missing in SECRETS:
        env = {name: value for name, value in SECRETS.items() if name != missing}
        with pytest.raises(KeyError, match=missing):
            for service in compose["services"].values():
                for value in (service.get("environment") or {}).values():
                    interpolate(str(value), env)


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """A service's bind mounts: container path -> repository path."""
    found = {}
    for volume in service["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            found[target] = source
    return found


def test_prometheus_scrapes_the_api_and_loads_the_rules(compose: dict[str, Any]) -> None:
    services = compose["services"]
    mounted = mounts(services["prometheus"])
    config_path = next(t for t in mounted if t.endswith("prometheus.yml"))
    config = load_yaml(ROOT / mounted[config_path])[0]
    (job,) = config["scrape_configs"]
    (target,) = [t for c in job["static_configs"] for t in c["targets"]]
    host, port = target.split(":")
    assert server_env(compose, SECRETS)["HOLOMATE_METRICS_BIND"] == f"0.0.0.0:{port}"
    assert host == "api"
    config_dir = Path(config_path).parent
    for pattern in config["rule_files"]:
        rules = config_dir / pattern  # relative to the configuration file, as Prometheus reads it
        assert mounted[str(rules.parent)] == "./deploy/prometheus/rules"
        assert list((ROOT / "deploy/prometheus/rules").glob(rules.name))


def test_grafana_provisions_prometheus_and_the_dashboards(compose: dict[str, Any]) -> None:
    mounted = mounts(compose["services"]["grafana"])
    provisioning = ROOT / mounted["/etc/grafana/provisioning"]
    (datasources,) = load_yaml(provisioning / "datasources/prometheus.yml")
    assert [d["url"] for d in datasources["datasources"]] == ["http://prometheus:9090"]
    (providers,) = load_yaml(provisioning / "dashboards/holomate.yml")
    (path,) = [p["options"]["path"] for p in providers["providers"]]
    assert list((ROOT / mounted[path]).glob("*.json"))


def _compose_cli() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
    return docker if probe.returncode == 0 else None


def test_docker_compose_accepts_the_file() -> None:
    docker = _compose_cli()
    if docker is None:
        pytest.skip("no `docker compose` CLI here (the docker client has no compose plugin)")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **SECRETS},
    )
    assert result.returncode == 0, result.stderr
