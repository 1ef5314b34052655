"""The graphql-http server audit (GraphQL over HTTP spec): every check, warnings included."""

from __future__ import annotations

from tests.clients.node import last_json, run_node
from tests.support.server import LiveServer


def test_every_graphql_over_http_audit_passes(server: LiveServer) -> None:
    results = last_json(run_node("audit.mjs", server.graphql_url))
    not_ok = [f"{r['status']}: {r['name']} ({r['reason']})" for r in results if r["status"] != "ok"]
    print(f"\ngraphql-http audit: {len(results) - len(not_ok)} of {len(results)} ok")
    assert len(results) >= 50
    assert not_ok == []
