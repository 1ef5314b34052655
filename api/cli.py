"""``holomate``: serve, migrate, and create users/companions/conversations from a shell."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

from api.settings import get_settings

DISTRIBUTION = "holomate-server"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    result: int = args.run(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="holomate", description="Holo-Mate server")
    # The one version source is pyproject.toml ([tool.bumpversion] moves it and its copies).
    parser.add_argument("--version", action="version", version=f"%(prog)s {version(DISTRIBUTION)}")
    sub = parser.add_subparsers()

    serve = sub.add_parser("serve", help="run the API server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--reload", action="store_true")
    serve.set_defaults(run=_serve)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers()
    up = db_sub.add_parser("upgrade", help="apply migrations up to head")
    up.set_defaults(run=_db_upgrade)

    user = sub.add_parser("create-user", help="create an account")
    user.add_argument("--email", required=True)
    user.add_argument("--password", required=True)
    user.add_argument("--name", default="")
    user.set_defaults(run=_create_user)

    comp = sub.add_parser("create-companion", help="create a companion for an account")
    comp.add_argument("--email", required=True)
    comp.add_argument("--name", required=True)
    comp.add_argument("--persona", default="")
    comp.add_argument("--greeting", default="")
    comp.set_defaults(run=_create_companion)

    conv = sub.add_parser("start-conversation", help="start a conversation with a companion")
    conv.add_argument("--email", required=True)
    conv.add_argument("--companion-id", required=True, help="e.g. cmp_1")
    conv.add_argument("--title", default=None)
    conv.set_defaults(run=_start_conversation)

    export = sub.add_parser("export-schema", help="write schema.graphql from the code")
    export.add_argument("--path", default="schema.graphql")
    export.add_argument("--check", action="store_true", help="fail if the file is stale")
    export.set_defaults(run=_export_schema)

    from api import cli_extra

    cli_extra.register(sub)
    return parser


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    if settings.is_sqlite and args.workers > 1:
        print(
            "note: several workers share one SQLite file; use PostgreSQL to scale out",
            file=sys.stderr,
        )
    if args.workers > 1 and not settings.llm_base_url and settings.llm_engine != "responder":
        print(
            "note: each worker starts its own local model (~400 MB each); run one llama-server "
            "and point HOLOMATE_LLM_BASE_URL at it to share it",
            file=sys.stderr,
        )
    uvicorn.run(
        "api.asgi:app",
        host=args.host,
        port=args.port,
        workers=None if args.reload else args.workers,
        reload=args.reload,
        ws_per_message_deflate=False,
        # The server stops reading a frame past this (1009) before buffering it; the app checks
        # the same limit for servers started otherwise (LeanWebSocketAdapter).
        ws_max_size=settings.max_ws_frame_bytes,
        # X-Forwarded-* count only from HOLOMATE_TRUSTED_PROXIES (uvicorn would trust 127.0.0.1).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        log_level=settings.log_level.lower(),
        lifespan="on",
    )
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from store.migrate import upgrade

    upgrade(get_settings().database_url)
    print("database is at the newest revision")
    return 0


def _run_with_session(work: Any) -> Any:
    from api.app import build_policy
    from store.db import make_engine, make_sessionmaker
    from store.migrate import upgrade_async

    async def go() -> Any:
        settings = get_settings()
        if settings.is_sqlite:
            await upgrade_async(settings.database_url)
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return await work(session, build_policy(settings))
        finally:
            await engine.dispose()

    return asyncio.run(go())


async def _viewer_for(session: Any, email: str) -> Any:
    from sqlalchemy import select

    from services.errors import NotFound
    from services.identity import Viewer
    from store.models import User

    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound("User")
    return Viewer(user_id=user.id, expires_at=float("inf"))


def _report(payload: dict[str, Any]) -> int:
    print(json.dumps(payload))
    return 0


def _guard(fn: Any) -> Any:
    def wrapped(args: argparse.Namespace) -> int:
        from services.errors import AppError

        try:
            result: int = fn(args)
            return result
        except AppError as e:
            print(f"error ({e.code}): {e.message}", file=sys.stderr)
            return 1

    return wrapped


@_guard
def _create_user(args: argparse.Namespace) -> int:
    from services.auth import sessions

    async def work(session: Any, policy: Any) -> Any:
        name = args.name or args.email.split("@")[0]
        return await sessions.register(session, policy, args.email, args.password, name)

    result = _run_with_session(work)
    return _report({"id": f"usr_{result.user.id}", "email": result.user.email})


@_guard
def _create_companion(args: argparse.Namespace) -> int:
    from services import companions

    async def work(session: Any, policy: Any) -> Any:
        viewer = await _viewer_for(session, args.email)
        fields = companions.CompanionFields(
            name=args.name, persona=args.persona, greeting=args.greeting
        )
        return await companions.create(session, viewer, fields)

    row = _run_with_session(work)
    return _report({"id": f"cmp_{row.id}", "name": row.name})


@_guard
def _start_conversation(args: argparse.Namespace) -> int:
    from schema import ids
    from services import conversations

    async def work(session: Any, policy: Any) -> Any:
        viewer = await _viewer_for(session, args.email)
        companion_id = ids.decode("Companion", args.companion_id)
        return await conversations.start(session, viewer, companion_id, args.title)

    row = _run_with_session(work)
    return _report({"id": f"cnv_{row.id}", "title": row.title})


def _export_schema(args: argparse.Namespace) -> int:
    from pathlib import Path

    from api.graphql_schema import export_sdl

    sdl = export_sdl()
    if args.check:
        current = Path(args.path).read_text() if Path(args.path).exists() else ""
        if current != sdl:
            print(f"{args.path} is out of date: run 'holomate export-schema'", file=sys.stderr)
            return 1
        return 0
    Path(args.path).write_text(sdl)
    print(f"wrote {args.path}")
    return 0
