"""The one Strawberry schema, composed from the domains' Query/Mutation/Subscription parts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from api.device_scope import DeviceScope
from api.errors import classify_in_place
from api.introspection_gate import IntrospectionGate
from api.operation_limits import Limits, OperationLimits, directives_rule
from api.operation_trace import Observe, OperationObserver
from api.query_cost import CostCache
from resolvers.auth import AuthMutation
from resolvers.billing import BillingMutation
from resolvers.character_cards import CharacterCardMutation
from resolvers.companions import CompanionMutation, CompanionQuery
from resolvers.conversations import ConversationMutation, ConversationQuery
from resolvers.devices import DeviceMutation, DeviceQuery, DeviceSubscription
from resolvers.hologram import HologramSubscription
from resolvers.me import MeMutation, MeQuery
from resolvers.memories import MemoryMutation, MemoryQuery
from resolvers.privacy import PrivacyMutation, PrivacyQuery
from resolvers.replies import ReplyMutation, ReplySubscription
from resolvers.voice_sessions import VoiceSessionMutation
from resolvers.voices import VoiceMutation, VoiceQuery

Query = merge_types(
    "Query",
    (
        MeQuery,
        CompanionQuery,
        ConversationQuery,
        PrivacyQuery,
        VoiceQuery,
        DeviceQuery,
        MemoryQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AuthMutation,
        MeMutation,
        CompanionMutation,
        ConversationMutation,
        ReplyMutation,
        VoiceSessionMutation,
        BillingMutation,
        PrivacyMutation,
        VoiceMutation,
        DeviceMutation,
        CharacterCardMutation,
        MemoryMutation,
    ),
)
Subscription = merge_types(
    "Subscription", (ReplySubscription, HologramSubscription, DeviceSubscription)
)


class HoloSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        classify_in_place(errors, execution_context.context if execution_context else None)

    async def execute(  # Strawberry's signature
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """One answer to one request (plain HTTP): a subscription has no stream to run on here,
        so it is refused (400 BAD_REQUEST) rather than resolved to an INTERNAL_SERVER_ERROR.
        WebSockets (and multipart HTTP) run operations through ``stream`` instead."""
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        allowed.discard(OperationType.SUBSCRIPTION)
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )


def build_schema(
    *,
    max_depth: int = 12,
    max_aliases: int = 15,
    max_tokens: int = 2000,
    max_directives: int = 50,
    introspection: bool = True,
    anonymous_introspection: bool = True,
    limits: Limits | None = None,
    log_key: bytes = b"",
    observe: Observe | None = None,
) -> strawberry.Schema:
    # Rule classes are made once: the validation cache is keyed by them, so new classes per
    # request (what the limiter extensions do) would make every lookup miss.
    rules: list[Any] = [
        depth_validator(max_depth, None, None),
        alias_validator(max_aliases),
        directives_rule(max_directives),
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    gate = [IntrospectionGate] if introspection and not anonymous_introspection else []
    operation_limits = limits or Limits()
    costs = CostCache()
    extensions: list[Any] = [
        lambda: OperationObserver(log_key, observe),  # first: its span covers the others' work
        DeviceScope,
        *gate,
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules(rules),
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        # After ValidationCache: only valid documents are costed (api/operation_limits.py).
        lambda: OperationLimits(operation_limits, costs),
    ]
    return HoloSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=True),
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
