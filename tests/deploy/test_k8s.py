"""deploy/k8s: valid against the Kubernetes API schemas, and wired together as the app needs.

kubernetes-validate bundles the schemas (strict: an unknown field is an error), so this runs
offline; no cluster is involved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from tests.deploy.files import ROOT, load_yaml, server_built_from, unknown_settings

pytestmark = pytest.mark.one_backend

K8S = ROOT / "deploy/k8s"
# The oldest release still widely run, and the newest the bundled schemas know.
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


def manifests() -> list[tuple[Path, dict[str, Any]]]:
    kustomization = load_yaml(K8S / "kustomization.yaml")[0]
    return [(K8S / f, doc) for f in kustomization["resources"] for doc in load_yaml(K8S / f)]


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in manifests() if d["kind"] == kind}


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def test_kustomize_applies_every_manifest_of_the_folder() -> None:
    listed = {path for path, _ in manifests()}
    assert listed == set(K8S.glob("*.yaml")) - {K8S / "kustomization.yaml"}


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(version: str) -> None:
    for path, doc in manifests():
        kubernetes_validate.validate(doc, version, strict=True)  # raises, naming the field
        assert doc["kind"], path


def test_each_role_is_probed_on_the_routes_the_server_serves() -> None:
    deployments = by_kind("Deployment")
    assert set(deployments) == {"holomate-api", "holomate-web"}
    api = pod_spec(deployments["holomate-api"])["containers"][0]
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for name, deployment in deployments.items():
        spec = pod_spec(deployment)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        for container in spec["containers"]:
            assert {"readinessProbe", "livenessProbe"} <= set(container), name
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
            assert "memory" in container["resources"]["limits"], name


def test_services_budgets_and_the_ingress_reach_the_pods() -> None:
    deployments = by_kind("Deployment")
    labels = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in deployments.items()}
    services = by_kind("Service")
    for name, service in services.items():
        assert service["spec"]["selector"] == labels[name]
        ports = {p["name"] for c in pod_spec(deployments[name])["containers"] for p in c["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports
    budgets = by_kind("PodDisruptionBudget")
    assert {n: b["spec"]["selector"]["matchLabels"] for n, b in budgets.items()} == labels
    for budget in budgets.values():
        assert (
            budget["spec"]["minAvailable"]
            < deployments[budget["metadata"]["name"]]["spec"]["replicas"]
        )
    ingress = by_kind("Ingress")["holomate"]
    routes = {
        p["path"]: p["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert routes["/graphql"] == "holomate-api" and routes["/"] == "holomate-web"
    assert set(routes.values()) <= set(services)


def test_the_ingress_keeps_idle_websockets_open() -> None:
    annotations = by_kind("Ingress")["holomate"]["metadata"]["annotations"]
    for name in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[f"nginx.ingress.kubernetes.io/{name}"]) >= 3600


def test_the_migration_job_runs_the_server_image_with_its_configuration() -> None:
    job = pod_spec(by_kind("Job")["holomate-migrate"])["containers"][0]
    assert job["command"] == ["holomate", "db", "upgrade"]
    api = pod_spec(by_kind("Deployment")["holomate-api"])["containers"][0]
    assert (job["image"], job["envFrom"]) == (api["image"], api["envFrom"])


def test_the_server_starts_with_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only real settings (a misspelt one is silently ignored), with values the server starts
    with, given the keys deploy/README.md puts in the Secret."""
    config = by_kind("ConfigMap")["holomate-config"]["data"]
    assert unknown_settings(config) == []
    secret = {
        "HOLOMATE_SECRET_KEY": "an-operators-random-secret-of-at-least-32-chars",
        "HOLOMATE_DATABASE_URL": "postgresql+asyncpg://holomate:pw@postgres:5432/holomate",
        "HOLOMATE_STRIPE_API_KEY": "sk_test_key",
        "HOLOMATE_STRIPE_WEBHOOK_SECRET": "whsec_secret",
        "AWS_ACCESS_KEY_ID": "access-key",
        "AWS_SECRET_ACCESS_KEY": "secret-key",
    }
    settings = server_built_from({**config, **secret}, monkeypatch)
    assert settings.env == "production" and not settings.migrate_on_start
    assert settings.storage == "s3" and settings.trusted_proxies == ["10.0.0.0/8"]
