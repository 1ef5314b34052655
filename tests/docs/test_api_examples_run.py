"""docs/api.md's examples do what they say: a person's first session, operation by operation,
with the variables the page shows (its ids and codes swapped for the ones the server gave)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse

from tests.docs.markdown import DOCS, blocks
from tests.support.graphql import GraphQLClient

pytestmark = pytest.mark.one_backend

# In the order a person would go; each name is an example's operation. Left out: subscriptions
# and voice sessions (they need a socket; tests/realtime and tests/devices run them), uploads,
# what needs a reply in flight or a second person (Interrupt, Invite), and the paths that end in
# a refusal (Deny, Portal without a subscription), and ChangePassword (the page's later examples
# sign in with the first password).
TOUR = [
    "Register", "Me", "UpdateMe", "SetPreferences", "CreateCompanion", "Companion",
    "CompanionsPage", "Voices", "CreateVoiceProfile", "UpdateVoiceProfile", "UpdateCompanion",
    "DeleteVoiceProfile", "CreateCharacter", "AddAnimation", "Characters", "ExportCard",
    "StartConversation", "Conversations", "Conversation", "LiveCursor", "RenameConversation",
    "Send", "DeleteMessage", "Remember", "Memories", "UpdateMemory", "Forget", "ForgetAll",
    "Billing", "Checkout", "Export", "ExportStatus", "RequestPairing", "Pair", "PollPairing",
    "Manifest", "ReportState", "Devices", "Assign", "Command", "SpeakHere", "Unpair",
    "ArchiveConversation", "Refresh", "Logout", "Login", "DeleteAccount",
]  # fmt: skip
# Sent with the device's token (from PollPairing once approved), not the person's.
DEVICE = {"Manifest", "ReportState"}
# What the page writes in place of a value only the server can give.
_ID = re.compile(r"^(cmp|cnv|msg|dev|vce|chr|mem|dxp)_\d+$")
_GIVEN = {
    "the refreshToken from login": "refreshToken",
    "the deviceCode from requestDevicePairing": "deviceCode",
    "WDJB-MJHT": "userCode",
}
# Answers kept to send later: the codes above and both kinds of token.
_KEPT = {*_GIVEN.values(), "accessToken", "deviceToken"}


def examples() -> dict[str, tuple[str, dict[str, Any]]]:
    """Operation name -> (document, variables) for every example of docs/api.md."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    fenced = blocks(DOCS / "api.md")
    for i, block in enumerate(fenced):
        if block.lang != "graphql":
            continue
        ops = [d for d in parse(block.text).definitions if isinstance(d, OperationDefinitionNode)]
        after = fenced[i + 1] if i + 1 < len(fenced) else None
        variables = json.loads(after.text) if after and after.lang == "json" else {}
        for op in ops:
            if op.name is not None:
                found[op.name.value] = (block.text, variables)
    return found


class Session:
    """What the server has handed out so far: the latest id of each kind, tokens and codes."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.given: dict[str, str] = {}

    def learn(self, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(item, str) and key in _KEPT:
                    self.given[key] = item
                self.learn(item)
        elif isinstance(value, list):
            for item in value:
                self.learn(item)
        elif isinstance(value, str) and _ID.match(value):
            self.ids[value.split("_")[0]] = value

    def fill(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, str) and _ID.match(value):
            return self.ids[value.split("_")[0]]
        if isinstance(value, str) and value in _GIVEN:
            return self.given[_GIVEN[value]]
        return value


async def test_the_examples_of_api_md_run_as_a_first_session(api: GraphQLClient) -> None:
    docs = examples()
    session = Session()
    for name in TOUR:
        document, variables = docs[name]
        token = session.given.get("deviceToken" if name in DEVICE else "accessToken")
        body = await api.raw(document, session.fill(variables), token)
        assert "errors" not in body, f"{name}: {body['errors']}"
        session.learn(body["data"])
    assert session.given["deviceToken"], "the device was approved"
