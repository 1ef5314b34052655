"""Pairing a hologram as RFC 8628 describes: codes, polling, approval, and what goes wrong."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from starlette.applications import Starlette

from store.base import utcnow
from store.models import DevicePairing
from tests.devices.helpers import DEVICES, PAIR, POLL, REQUEST, pair_in_process
from tests.support.graphql import GraphQLClient, register

USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


async def request_codes(api: GraphQLClient, serial: str = "HX-1") -> dict[str, Any]:
    data = await api.ok(REQUEST, {"m": "holo-1", "s": serial, "c": ["audio", "visemes"]})
    codes: dict[str, Any] = data["requestDevicePairing"]
    return codes


async def poll(api: GraphQLClient, device_code: str) -> dict[str, Any]:
    result: dict[str, Any] = (await api.ok(POLL, {"d": device_code}))["pollDevicePairing"]
    return result


async def test_a_device_pairs_with_a_code_its_owner_types(
    api: GraphQLClient, app: Starlette
) -> None:
    owner = await register(api, "ada@example.com")
    codes = await request_codes(api)
    assert USER_CODE.match(codes["userCode"])
    assert len(codes["deviceCode"]) >= 40
    assert codes["expiresIn"] == 600 and codes["interval"] == 1
    assert codes["verificationUri"].startswith("https://")
    assert (await poll(api, codes["deviceCode"])) == {
        "status": "PENDING",
        "deviceToken": None,
        "deviceId": None,
    }
    # The owner may type it in lower case with a space instead of the dash.
    typed = codes["userCode"].lower().replace("-", " ")
    device = (await api.ok(PAIR, {"u": typed, "n": "Kitchen"}, owner["accessToken"]))["pairDevice"]
    assert device["name"] == "Kitchen" and device["capabilities"] == ["audio", "visemes"]
    await asyncio.sleep(1)
    approved = await poll(api, codes["deviceCode"])
    assert approved["status"] == "APPROVED" and approved["deviceId"] == device["id"]
    assert approved["deviceToken"]
    # The token is handed out once; the code is spent.
    await asyncio.sleep(1)
    assert (await poll(api, codes["deviceCode"]))["status"] == "EXPIRED"
    listed = (await api.ok(DEVICES, token=owner["accessToken"]))["devices"]
    assert [d["id"] for d in listed] == [device["id"]]
    assert listed[0]["online"] is False and listed[0]["speaks"] is True
    manifest = await api.ok("{ deviceManifest { deviceId } }", token=approved["deviceToken"])
    assert manifest["deviceManifest"]["deviceId"] == device["id"]
    # Only hashes are stored.
    async with app.state.holo.sessionmaker() as session:
        row = (await session.scalars(select(DevicePairing))).one()
    stored = " ".join(str(v) for v in vars(row).values())
    assert codes["deviceCode"] not in stored
    assert codes["userCode"].replace("-", "") not in stored


async def test_a_wrong_code_pairs_nothing(api: GraphQLClient) -> None:
    owner = await register(api, "ada@example.com")
    codes = await request_codes(api)
    wrong = "BBBB-BBBB" if codes["userCode"] != "BBBB-BBBB" else "CCCC-CCCC"
    error = await api.error(PAIR, {"u": wrong, "n": "Desk"}, owner["accessToken"])
    assert error["extensions"]["code"] == "NOT_FOUND"
    error = await api.error(PAIR, {"u": "not a code", "n": "Desk"}, owner["accessToken"])
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert (await poll(api, codes["deviceCode"]))["status"] == "PENDING"


async def test_an_expired_code_can_neither_be_approved_nor_polled(
    api: GraphQLClient, app: Starlette
) -> None:
    owner = await register(api, "ada@example.com")
    codes = await request_codes(api)
    async with app.state.holo.sessionmaker() as session:
        await session.execute(
            update(DevicePairing).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    error = await api.error(PAIR, {"u": codes["userCode"], "n": "Desk"}, owner["accessToken"])
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert (await poll(api, codes["deviceCode"]))["status"] == "EXPIRED"


async def test_a_code_approves_one_device_once(api: GraphQLClient) -> None:
    owner = await register(api, "ada@example.com")
    stranger = await register(api, "eve@example.com")
    codes = await request_codes(api)
    await api.ok(PAIR, {"u": codes["userCode"], "n": "Desk"}, owner["accessToken"])
    again = await api.error(PAIR, {"u": codes["userCode"], "n": "Desk"}, owner["accessToken"])
    assert again["extensions"]["code"] == "NOT_FOUND"
    stolen = await api.error(PAIR, {"u": codes["userCode"], "n": "Mine"}, stranger["accessToken"])
    assert stolen["extensions"]["code"] == "NOT_FOUND"
    assert (await api.ok(DEVICES, token=stranger["accessToken"]))["devices"] == []


async def test_polling_faster_than_the_interval_is_told_to_slow_down(api: GraphQLClient) -> None:
    codes = await request_codes(api)
    assert (await poll(api, codes["deviceCode"]))["status"] == "PENDING"
    assert (await poll(api, codes["deviceCode"]))["status"] == "SLOW_DOWN"
    await asyncio.sleep(codes["interval"])
    assert (await poll(api, codes["deviceCode"]))["status"] == "PENDING"


async def test_guessing_codes_is_rate_limited_per_owner(api: GraphQLClient) -> None:
    owner = await register(api, "ada@example.com")
    other = await register(api, "bob@example.com")
    codes = await request_codes(api)
    wrong = "BBBB-BBBB" if codes["userCode"] != "BBBB-BBBB" else "CCCC-CCCC"
    for _ in range(5):
        error = await api.error(PAIR, {"u": wrong, "n": "Desk"}, owner["accessToken"])
        assert error["extensions"]["code"] == "NOT_FOUND"
    # Even the right code is refused now: the guesser cannot find out which one was right.
    limited = await api.error(PAIR, {"u": codes["userCode"], "n": "Desk"}, owner["accessToken"])
    assert limited["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < limited["extensions"]["retryAfter"] <= 900
    # Another person is not locked out by someone else's guesses.
    await api.ok(PAIR, {"u": codes["userCode"], "n": "Desk"}, other["accessToken"])


async def test_the_owner_can_deny_a_device(api: GraphQLClient) -> None:
    owner = await register(api, "ada@example.com")
    codes = await request_codes(api)
    denied = await api.ok(
        "mutation($u: String!) { denyDevicePairing(userCode: $u) }",
        {"u": codes["userCode"]},
        owner["accessToken"],
    )
    assert denied == {"denyDevicePairing": True}
    result = await poll(api, codes["deviceCode"])
    assert result == {"status": "DENIED", "deviceToken": None, "deviceId": None}


async def test_the_free_plan_holds_one_device(api: GraphQLClient) -> None:
    owner = await register(api, "ada@example.com")
    await pair_in_process(api, owner["accessToken"], serial="HX-1")
    codes = await request_codes(api, serial="HX-2")
    error = await api.error(PAIR, {"u": codes["userCode"], "n": "Two"}, owner["accessToken"])
    assert error["extensions"]["code"] == "QUOTA_EXCEEDED"
    assert error["extensions"]["limit"] == "devices"


async def test_pairing_the_same_hardware_again_retires_its_old_token(api: GraphQLClient) -> None:
    owner = await register(api, "ada@example.com")
    first = await pair_in_process(api, owner["accessToken"], serial="HX-1")
    await asyncio.sleep(2.1)  # past the verified-token memo
    second = await pair_in_process(api, owner["accessToken"], serial="HX-1")
    assert first["id"] == second["id"]
    old = await api.error("{ deviceManifest { deviceId } }", token=first["token"])
    assert old["extensions"]["code"] == "UNAUTHENTICATED"
    await api.ok("{ deviceManifest { deviceId } }", token=second["token"])
