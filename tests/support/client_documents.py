"""Every GraphQL document the project's own clients send, read from their sources.

The web app and the JS test clients (template literals), the Python CLI, demo and test clients
(string constants), and the Unity client's ``HologramQueries`` (C# string constants joined
with ``+``). Each operation comes with the fragments it spreads, ready to send.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    parse,
    print_ast,
)

ROOT = Path(__file__).resolve().parents[2]
_TEMPLATE = re.compile(r"`([^`]*)`")
_CS_CONST = re.compile(r"const string (\w+)\s*=\s*(.*?);", re.S)
_CS_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_SPREAD = re.compile(r"\.\.\.\s*([_A-Za-z]\w*)")


def _documents(texts: list[str]) -> list[DocumentNode]:
    found = []
    for text in texts:
        if not re.search(r"\b(query|mutation|subscription|fragment)\b|^\s*\{", text):
            continue
        try:
            found.append(parse(text))
        except GraphQLSyntaxError:
            continue
    return found


def _javascript(path: Path) -> list[str]:
    return [t for t in _TEMPLATE.findall(path.read_text()) if "${" not in t]


def _python(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _csharp(path: Path) -> list[str]:
    consts: dict[str, str] = {}
    for name, expression in _CS_CONST.findall(path.read_text()):
        parts = []
        for piece in re.split(r"\s*\+\s*", expression.strip()):
            string = _CS_STRING.fullmatch(piece)
            if string:
                parts.append(string.group(1).encode().decode("unicode_escape"))
            elif piece in consts:
                parts.append(consts[piece])
        consts[name] = "".join(parts)
    return list(consts.values())


def client_sources() -> dict[str, list[str]]:
    sources: dict[str, list[str]] = {}
    for pattern in ("web/src/**/*.ts", "web/src/**/*.tsx", "tests/clients/*.mjs"):
        for path in ROOT.glob(pattern):
            if "/gql/" not in str(path):
                sources[str(path.relative_to(ROOT))] = _javascript(path)
    for pattern in ("api/*.py", "tests/clients/*.py"):
        for path in ROOT.glob(pattern):
            sources[str(path.relative_to(ROOT))] = _python(path)
    for path in ROOT.glob("unity_client/Runtime/**/*.cs"):
        sources[str(path.relative_to(ROOT))] = _csharp(path)
    return sources


def client_operations() -> dict[str, str]:
    """``{"<file>:<operation>": document text}``, each with the fragments it spreads."""
    fragments: dict[str, str] = {}
    operations: dict[str, str] = {}
    for source, texts in client_sources().items():
        anonymous = 0
        for document in _documents(texts):
            for definition in document.definitions:
                if isinstance(definition, FragmentDefinitionNode):
                    fragments[definition.name.value] = print_ast(definition)
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    anonymous += definition.name is None
                    name = definition.name.value if definition.name else f"#{anonymous}"
                    own = [
                        print_ast(d)
                        for d in document.definitions
                        if isinstance(d, FragmentDefinitionNode)
                    ]
                    operations[f"{source}:{name}"] = "\n".join([print_ast(definition), *own])
    for key, text in operations.items():
        operations[key] = _with_fragments(text, fragments)
    return operations


def _with_fragments(text: str, fragments: dict[str, str]) -> str:
    present = set(re.findall(r"fragment\s+(\w+)", text))
    while True:
        missing = [
            n for n in _SPREAD.findall(text) if n not in present and n in fragments and n != "on"
        ]
        if not missing:
            return text
        for name in dict.fromkeys(missing):
            text += "\n" + fragments[name]
            present.add(name)
