"""Every HTTP answer carries security headers, with a Content-Security-Policy fit for what it
is: JSON and errors load nothing, the GraphiQL page loads exactly what it needs, media files
are sandboxed; HSTS only in production over HTTPS."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings
from tests.support.server import ROOT, LiveServer, free_port

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
JSON_POLICY = {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}


def policy(response: httpx.Response) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in response.headers["content-security-policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_common(response: httpx.Response) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (response.url, name, response.headers)
    assert "strict-transport-security" not in response.headers


def assert_loads_nothing(response: httpx.Response) -> None:
    assert_common(response)
    directives = policy(response)
    for name, values in JSON_POLICY.items():
        assert directives[name] == values, (response.url, directives)


async def test_api_answers_and_errors_load_nothing(http: httpx.AsyncClient) -> None:
    answers = [
        await http.post("/graphql", json={"query": "{ __typename }"}),
        await http.post("/graphql", json={"query": "{ me { id } }"}),  # an error
        await http.post(
            "/graphql", content=b"{not json", headers={"content-type": "application/json"}
        ),
        await http.get("/no/such/page"),
        await http.post(
            "/webhooks/stripe", content=b"{}", headers={"stripe-signature": "t=1,v1=0"}
        ),
        await http.get("/healthz"),
        await http.get("/metrics"),
        await http.options(
            "/graphql",
            headers={"origin": "http://localhost:3000", "access-control-request-method": "POST"},
        ),
    ]
    assert answers[3].status_code == 404
    for response in answers:
        assert_loads_nothing(response)


async def test_media_files_are_sandboxed(http: httpx.AsyncClient, app: Starlette) -> None:
    storage = app.state.holo.storage
    await storage.put("users/1/replies/1/0.wav", b"RIFF....WAVE", "audio/wav")
    audio = await http.get(storage.signed_url("users/1/replies/1/0.wav", 60))
    assert audio.status_code == 200
    refused = await http.get("/media/users/1/replies/1/0.wav?exp=1&sig=forged")
    assert refused.status_code == 403
    for response in (audio, refused):
        assert_common(response)
        directives = policy(response)
        assert directives["default-src"] == ["'none'"] and "sandbox" in directives
    assert audio.headers["x-content-type-options"] == "nosniff"  # once, not twice
    assert audio.headers.get_list("x-content-type-options") == ["nosniff"]


async def test_graphiql_may_load_exactly_the_scripts_of_its_page(http: httpx.AsyncClient) -> None:
    page = await http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert_common(page)
    directives = policy(page)
    assert directives["default-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    scripts = directives["script-src"]
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    sources = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", page.text)
    inline = re.findall(r"<script>(.*?)</script>", page.text, flags=re.S)
    stylesheets = re.findall(r"<link[^>]*\bhref=\"(https://[^\"]+)\"", page.text)
    assert sources and inline and stylesheets, "the page's shape changed: read it again"
    for url in sources:
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" in scripts, url
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts
    for url in stylesheets:
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" in directives["style-src"], url
    # Queries and the subscription socket go to the page's own origin.
    assert directives["connect-src"] == ["'self'"]


def test_graphiql_runs_under_its_policy_in_chromium(server: LiveServer) -> None:
    """The browser, not our reading of the policy, decides: every CDN file of the page may be
    requested, the inline script runs, and a script injected later is refused."""
    chromium, playwright = Path("/usr/bin/chromium"), ROOT / "web/node_modules/playwright-core"
    if not chromium.exists() or shutil.which("node") is None or not playwright.exists():
        pytest.fail("chromium, node and web/node_modules are needed: run ./dev setup")
    script = Path(__file__).with_name("graphiql_csp.mjs")
    run = subprocess.run(
        ["node", str(script), server.graphql_url, str(playwright)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    page = httpx.get(server.graphql_url, headers={"accept": "text/html"}).text
    wanted = re.findall(r"(?:src|href)=\"(https://unpkg\.com/[^\"]+)\"", page)
    assert sorted(seen["requested"]) == sorted(wanted)
    assert seen["violations"] == []
    assert "Cookies is not defined" in seen["errors"]  # the inline script ran (no CDN here)
    assert seen["probeBlocked"], "an injected inline script ran: the policy is not applied"


# ---- HSTS: production, over HTTPS only ---------------------------------------------------


@asynccontextmanager
async def production_app(settings: Settings, **changes: object) -> AsyncIterator[Starlette]:
    update = {
        "env": "production",
        "secret_key": SecretStr("a-production-secret-of-enough-length-0123456789"),
        "billing_provider": "stripe",
        "stripe_api_key": SecretStr("sk_test_unused"),
        "stripe_webhook_secret": SecretStr("whsec_unused"),
        "stripe_price_plus": "price_plus",
        "stripe_price_pro": "price_pro",
        "stripe_base_url": f"http://127.0.0.1:{free_port()}",
        **changes,
    }
    app = create_app(settings.model_copy(update=update))
    async with app.router.lifespan_context(app):
        yield app


async def hsts(app: Starlette, base_url: str, client: str, **headers: str) -> str | None:
    transport = httpx.ASGITransport(app=app, client=(client, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
        response = await http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    return response.headers.get("strict-transport-security")


async def test_hsts_only_in_production_over_https(settings: Settings, clean_db: None) -> None:
    proxied = {"x-forwarded-proto": "https"}
    async with production_app(settings, trusted_proxies=["10.0.0.0/8"]) as app:
        assert (await hsts(app, "https://api.example", "203.0.113.9") or "").startswith("max-age=")
        assert await hsts(app, "http://api.example", "203.0.113.9") is None
        assert await hsts(app, "http://api.example", "10.1.2.3", **proxied) is not None
        # Anyone but our proxy could claim HTTPS.
        assert await hsts(app, "http://api.example", "203.0.113.9", **proxied) is None
    development = create_app(settings)
    async with development.router.lifespan_context(development):
        assert await hsts(development, "https://localhost", "127.0.0.1") is None
