"""Security headers on every HTTP answer, with a Content-Security-Policy fit for each kind.

- JSON, errors, webhooks, metrics, redirects: nothing may load or frame them
  (``default-src 'none'; frame-ancestors 'none'``).
- The GraphiQL page: exactly the CDN origins and inline scripts of the page Strawberry serves
  (read from that HTML, hashed, so a Strawberry upgrade that changes them updates the policy),
  styles inline as well (GraphiQL injects ``<style>`` at run time), its own origin for queries
  and subscriptions.
- Media files: sandboxed, loading nothing (an audio file or export opened directly cannot run
  anything in our origin).

HSTS only in production and only over HTTPS: the server's own TLS, or ``X-Forwarded-Proto:
https`` from a proxy in HOLOMATE_TRUSTED_PROXIES (anyone else could claim it).
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser
from ipaddress import ip_address
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.client_ip import TrustedProxies

STRICT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
MEDIA_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"
HSTS = "max-age=63072000; includeSubDomains"  # two years, as hstspreload.org asks
COMMON = (
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
)


class SecurityHeaders:
    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts: bool,
        trusted_proxies: TrustedProxies | None = None,
        graphiql_policy: str = STRICT_POLICY,
        graphiql_path: str = "/graphql",
        media_prefix: str = "/media/",
    ) -> None:
        self.app = app
        self.hsts = hsts
        self.trusted = trusted_proxies or TrustedProxies()
        self.graphiql_policy = graphiql_policy
        self.graphiql_path = graphiql_path
        self.media_prefix = media_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        https = self.hsts and self.is_https(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON:
                    headers.setdefault(name, value)
                headers.setdefault("content-security-policy", self.policy_for(path, headers))
                if https:
                    headers.setdefault("strict-transport-security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def policy_for(self, path: str, headers: MutableHeaders) -> str:
        if path.startswith(self.media_prefix):
            return MEDIA_POLICY
        html = headers.get("content-type", "").startswith("text/html")
        if html and path.rstrip("/") == self.graphiql_path:
            return self.graphiql_policy
        return STRICT_POLICY

    def is_https(self, scope: Scope) -> bool:
        if scope.get("scheme") == "https":
            return True
        client = scope.get("client")
        try:
            peer = ip_address(client[0]) if client else None
        except ValueError:
            return False
        if peer is None or peer not in self.trusted:
            return False
        proto = [v for k, v in scope.get("headers", ()) if k == b"x-forwarded-proto"]
        # The last proxy (ours) writes the right-most value.
        last = b",".join(proto).decode("latin-1").split(",")[-1].strip().lower() if proto else ""
        return last == "https"


def graphiql_policy(html: str) -> str:
    """The CSP that lets exactly this page run: its script and style origins, its inline
    scripts by hash, and its own origin for requests (``'self'`` covers ws/wss too)."""
    page = _Resources()
    page.feed(html)
    page.close()
    scripts = sorted(page.script_origins) + [_sha256(s) for s in page.inline_scripts]
    styles = sorted(page.style_origins) + ["'unsafe-inline'"]
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(scripts),
            "style-src " + " ".join(styles),
            "img-src 'self' data:",
            "font-src data:",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


class _Resources(HTMLParser):
    """Where a page's scripts and stylesheets come from, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.script_origins: set[str] = set()
        self.style_origins: set[str] = set()
        self.inline_scripts: list[str] = []
        self._inline: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            if values.get("src"):
                self.script_origins.add(_origin(values["src"] or ""))
            else:
                self._inline = []
        elif tag == "link" and (values.get("rel") or "").lower() == "stylesheet":
            self.style_origins.add(_origin(values.get("href") or ""))

    def handle_data(self, data: str) -> None:
        if self._inline is not None:
            self._inline.append(data)

    def handle_entityref(self, name: str) -> None:
        self.handle_data(f"&{name};")  # a script's text is hashed as written

    def handle_charref(self, name: str) -> None:
        self.handle_data(f"&#{name};")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._inline is not None:
            self.inline_scripts.append("".join(self._inline))
            self._inline = None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme:
        return "'self'"
    return f"{parts.scheme}://{parts.netloc}"
