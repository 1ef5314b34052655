"""What an operator's Prometheus and Grafana get: the rules and config pass promtool, every alert
fires on the failure it names in promtool's unit tests, every dashboard query parses and names
only series the server exports or the rules record, and a real Prometheus scraping a running
server records a turn's replies through the recording rules (the server's JSON log line for that
turn names its request, operation and hashed user)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from pipeline.ports import free_port
from tests.realtime.helpers import send, setup_conversation
from tests.support.prometheus import DEPLOY, RULES, prometheus, promtool
from tests.support.server import ROOT, live_server

DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
NAME = re.compile(r"\bholomate[_:][A-Za-z0-9_:]*")
RECORDED = re.compile(r"^\s*- record: (\S+)$", re.M)
EXPR = re.compile(r"^\s*expr: (?:\|\n((?:\s{10,}.*\n)+)|(.+)$)", re.M)


def dashboard_queries() -> list[tuple[str, str]]:
    queries = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            queries += [(f"{path.name}: {panel['title']}", t["expr"]) for t in panel["targets"]]
    return queries


def rule_queries() -> list[str]:
    return [" ".join((block or line).split()) for block, line in EXPR.findall(RULES.read_text())]


@pytest.mark.one_backend
def test_the_rules_and_config_pass_promtool_and_every_alert_fires_on_its_failure() -> None:
    checked = promtool("check", "config", str(DEPLOY / "prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "22 rules found" in checked.stdout  # the config loads the rules beside it
    tests = sorted(str(p) for p in (DEPLOY / "tests").glob("*.yml"))
    tested = promtool("test", "rules", *tests)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    alerts = set(re.findall(r"^\s*- alert: (\w+)$", RULES.read_text(), re.M))
    exercised = set(re.findall(r"alertname: (\w+)", "".join(Path(t).read_text() for t in tests)))
    assert len(alerts) == 11 and alerts <= exercised  # every alert has a unit test


@pytest.mark.one_backend
def test_every_dashboard_query_parses(tmp_path: Path) -> None:
    queries = dashboard_queries()
    assert len(DASHBOARDS) == 3 and len(queries) > 20
    # Grafana finds them: the provisioned data source's uid is the one every panel names.
    provisioned = (ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text()
    assert re.search(r"^\s+uid: prometheus$", provisioned, re.M)
    dashboards = [json.loads(p.read_text()) for p in DASHBOARDS]
    assert len({d["uid"] for d in dashboards}) == len(dashboards)
    for dashboard in dashboards:
        for panel in dashboard["panels"]:
            uids = {panel["datasource"]["uid"], *(t["datasource"]["uid"] for t in panel["targets"])}
            assert uids == {"prometheus"}, panel["title"]
    # promtool parses each one as the expression of a recording rule.
    rules = [{"record": f"dashboard:query_{i}", "expr": q} for i, (_, q) in enumerate(queries)]
    generated = tmp_path / "dashboards.rules.yml"
    generated.write_text(json.dumps({"groups": [{"name": "dashboards", "rules": rules}]}))
    checked = promtool("check", "rules", str(generated))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    broken = tmp_path / "broken.rules.yml"
    broken.write_text(json.dumps({"groups": [{"name": "x", "rules": [
        {"record": "x", "expr": "sum(rate(holomate_replies_total[5m])"}
    ]}]}))  # fmt: skip
    assert promtool("check", "rules", str(broken)).returncode != 0  # the check can fail


@pytest.mark.one_backend  # the figures are the app's; Redis's probe: test_turn_trace.py
def test_prometheus_scrapes_a_running_server_and_records_its_turns(
    database_url: str, clean_db: None, tmp_path: Path
) -> None:
    env = {
        "HOLOMATE_SPEECH_WORKERS": "0",
        "HOLOMATE_OFFLINE_LLM_WORD_DELAY_S": "0",
        "HOLOMATE_LOG_FORMAT": "json",
    }
    port = free_port()
    # Prometheus first: its first scrape waits ~5 s for target discovery, as the server starts.
    with (
        prometheus(f"127.0.0.1:{port}", tmp_path / "prometheus") as prom,
        live_server(database_url, tmp_path / "storage", port=port, **env) as server,
    ):
        world = setup_conversation(server)
        up = prom.wait_for('up{job="holomate"} == 1')
        assert up[0]["metric"]["instance"] == f"127.0.0.1:{port}"
        # A turn after the first scrape: its counters grow between two samples.
        send(server, world["token"], world["conversation"], "Hello, how are you?")
        # A body that is not JSON, an operation refused, a socket opened and closed.
        assert httpx.post(server.graphql_url, content=b"{", timeout=10).status_code == 400
        wrong = 'mutation { login(email: "ada@example.com", password: "wrong") { accessToken } }'
        assert httpx.post(server.graphql_url, json={"query": wrong}, timeout=10).json()["errors"]
        with connect(server.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")]):
            pass
        replies = prom.wait_for('holomate:replies:rate5m{status="complete"} > 0')
        assert float(replies[0]["value"][1]) > 0
        prom.wait_for('holomate_http_requests_total{route="/graphql",code="400"} == 1')
        prom.wait_for('holomate_graphql_operations_total{type="mutation",outcome="error"} == 1')
        prom.wait_for("holomate_websockets_closed_total == 1 and holomate_websockets_open == 0")
        database = prom.query('holomate_dependency_up{dependency="database"}')
        assert [r["value"][1] for r in database] == ["1"]
        exported = prom.names()
        assert server.log is not None
        output = server.log.read_text()
    # JSON logs without tracing: the turn's line names its request, operation and hashed user.
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    turn = next(
        line for line in lines if re.fullmatch(r"reply \d+ complete in \d+ ms", line["message"])
    )
    assert turn["operation"] == "mutation" and turn["logger"] == "holomate.replies"
    assert re.fullmatch("[0-9a-f]{16}", turn["request_id"]) and re.fullmatch(
        "[0-9a-f]{16}", turn["user"]
    )
    assert "trace_id" not in turn
    recorded = set(RECORDED.findall(RULES.read_text()))
    assert "holomate:replies:rate5m" in exported
    # Every name a dashboard or rule reads is one the server exports or a rule records.
    named = {n for _, q in dashboard_queries() for n in NAME.findall(q)}
    named |= {n for q in rule_queries() for n in NAME.findall(q)}
    assert named - exported - recorded == set(), sorted(exported)
