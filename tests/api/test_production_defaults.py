"""HOLOMATE_ENV=production closes what development leaves open: GraphiQL, anonymous
introspection and a public /metrics, unless an operator explicitly opens them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import SecretStr

from api.app import create_app
from api.settings import Settings
from tests.devices.helpers import pair_in_process
from tests.support.graphql import GraphQLClient
from tests.support.server import free_port

SECRET = SecretStr("a-production-secret-of-enough-length-0123456789")
METRICS_TOKEN = "scrape-me-0123456789"
SCHEMA = "{ __schema { queryType { name } } }"
TYPE_IN_A_FRAGMENT = 'query { ...Peek } fragment Peek on Query { __type(name: "Query") { name } }'
REGISTER = """
mutation { register(email: "dev@example.com", password: "correct horse", displayName: "Dev") {
  accessToken } }
"""


def production(settings: Settings, **changes: Any) -> Settings:
    # Production also refuses the local billing provider: Stripe, never called in these tests.
    stripe = {
        "billing_provider": "stripe",
        "stripe_api_key": SecretStr("sk_test_unused"),
        "stripe_webhook_secret": SecretStr("whsec_unused"),
        "stripe_price_plus": "price_plus",
        "stripe_price_pro": "price_pro",
        "stripe_base_url": f"http://127.0.0.1:{free_port()}",
    }
    # These tests send ad-hoc documents: production's own default (trusted documents) has its test.
    update = {"env": "production", "secret_key": SECRET, "documents": "open", **stripe, **changes}
    return settings.model_copy(update=update)


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def graphiql_served(http: httpx.AsyncClient) -> bool:
    page = await http.get("/graphql", headers={"accept": "text/html"})
    return page.status_code == 200 and "graphiql" in page.text.lower()


async def test_production_serves_no_graphiql_and_no_schema_to_strangers(
    settings: Settings, clean_db: None
) -> None:
    async with serving(production(settings)) as http:
        api = GraphQLClient(http)
        assert not await graphiql_served(http)
        for query in (SCHEMA, TYPE_IN_A_FRAGMENT):
            error = await api.error(query)
            assert error["extensions"]["code"] == "UNAUTHENTICATED", error
        assert (await api.ok("{ __typename }"))["__typename"] == "Query"
        # An app developer who signed in sees the schema (GraphiQL elsewhere, codegen...).
        token = (await api.ok(REGISTER))["register"]["accessToken"]
        assert (await api.ok(SCHEMA, token=token))["__schema"]["queryType"]["name"] == "Query"
        assert (await api.ok(TYPE_IN_A_FRAGMENT, token=token))["__type"]["name"] == "Query"
        # A hologram never needs the schema.
        device = await pair_in_process(api, token)
        error = await api.error(SCHEMA, token=device["token"])
        assert error["extensions"]["code"] in ("UNAUTHENTICATED", "FORBIDDEN")


async def test_production_runs_only_the_documents_of_its_registered_clients(
    settings: Settings, clean_db: None
) -> None:
    async with serving(production(settings, documents=None)) as http:
        error = await GraphQLClient(http).error("{ __typename }")
        assert error["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED", error


async def test_the_settings_decide_when_set_and_the_environment_when_not(
    settings: Settings, clean_db: None
) -> None:
    async with serving(production(settings)) as http:
        assert not await graphiql_served(http)
    async with serving(settings) as http:  # development keeps them open
        assert await graphiql_served(http)
        assert (await GraphQLClient(http).ok(SCHEMA))["__schema"]["queryType"]["name"] == "Query"
        assert (await http.get("/metrics")).status_code == 200
    async with serving(production(settings, graphiql=True, introspection=True)) as http:
        assert await graphiql_served(http)
        assert (await GraphQLClient(http).ok(SCHEMA))["__schema"]["queryType"]["name"] == "Query"
    async with serving(settings.model_copy(update={"introspection": False})) as http:
        api = GraphQLClient(http)
        token = (await api.ok(REGISTER))["register"]["accessToken"]
        closed = await api.error(SCHEMA, token=token)
        assert closed["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_production_metrics_need_the_token_or_are_not_there(
    settings: Settings, clean_db: None
) -> None:
    async with serving(production(settings)) as http:
        hidden = await http.get("/metrics")
        assert hidden.status_code == 404 and "holomate_" not in hidden.text
    async with serving(production(settings, metrics_token=SecretStr(METRICS_TOKEN))) as http:
        anonymous = await http.get("/metrics")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        wrong = await http.get("/metrics", headers={"authorization": "Bearer guess"})
        assert wrong.status_code == 401
        scraped = await http.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
        assert scraped.status_code == 200 and "holomate_live_renders_total" in scraped.text


async def test_metrics_can_live_on_their_own_address(settings: Settings, clean_db: None) -> None:
    port = free_port()
    private = production(settings, metrics_bind=f"127.0.0.1:{port}")
    async with serving(private) as http:
        assert (await http.get("/metrics")).status_code == 404
        async with httpx.AsyncClient() as scraper:
            scraped = await scraper.get(f"http://127.0.0.1:{port}/metrics")
        assert scraped.status_code == 200 and "holomate_live_renders_total" in scraped.text
        assert scraped.headers["x-content-type-options"] == "nosniff"
