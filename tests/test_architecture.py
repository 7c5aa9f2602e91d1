"""The layers of ../shared/STYLE.md, kept: no module imports from a layer above its own, and
starlette appears only in the web layer."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "fedipub"

# Module (or package) → layer. A module not listed fails the test: place it when adding it.
LAYERS: dict[str, int] = {
    "types": 0, "errors": 0, "config": 0, "vocab": 0, "urls": 0,
    "keys": 1, "multikey": 1, "digest": 1, "httpsig": 1, "rfc9421": 1, "signatures": 1,
    "structured_fields": 1,
    "jsonld": 1, "ldsig": 1, "proofs": 1, "activities": 1, "article_source": 1,
    "webfinger": 1, "nodeinfo": 1, "html_text": 1, "sanitize": 1, "feeds": 1, "netguard": 1,
    "remote_interaction": 1,
    "retry": 1, "parse": 1, "keydocs": 1, "ratelimit": 1, "threads": 1, "mentions": 1,
    "mediatypes": 1,
    "store": 2, "client": 2, "signed_http": 2, "dialer": 2, "http1": 2, "signer": 2,
    "services": 3, "blog": 3, "actors": 3, "handlers": 3, "notify": 3, "publishing": 3,
    "verify": 3, "fetch": 3, "inbox": 3, "outbox": 3, "interactions": 3,
    "replies_crawler": 3,
    "delivery": 3, "fanout": 3, "worker": 3, "moderation": 3,
    "metrics": 3, "logs": 3, "doctor": 3, "backup": 3, "migration": 3,
    "auth": 3,
    "app": 4, "routes": 4, "render": 4, "render_comments": 4, "middleware": 4, "negotiation": 4,
    "caching": 4,
    "cli": 5, "commands": 5, "__main__": 5, "__init__": 0,
}  # fmt: skip
WEB_LAYER = 4


def _layer_of(module: str) -> int:
    top = module.split(".")[0]
    assert top in LAYERS, f"fedipub.{top} has no layer in tests/test_architecture.py"
    return LAYERS[top]


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _modules() -> list[tuple[str, Path]]:
    return [
        (".".join(path.relative_to(PACKAGE).with_suffix("").parts), path)
        for path in sorted(PACKAGE.rglob("*.py"))
    ]


def test_every_module_has_a_layer() -> None:
    for module, _ in _modules():
        _layer_of(module)


def test_no_module_imports_upwards() -> None:
    problems = []
    for module, path in _modules():
        own = _layer_of(module)
        for name in _imports(path):
            if name == "fedipub" or not name.startswith("fedipub."):
                continue
            target = name.removeprefix("fedipub.")
            if _layer_of(target) > own:
                problems.append(f"fedipub.{module} (layer {own}) imports {name}")
    assert problems == []


def test_starlette_only_in_the_web_layer() -> None:
    offenders = [
        module
        for module, path in _modules()
        if _layer_of(module) != WEB_LAYER
        and any(name.split(".")[0] == "starlette" for name in _imports(path))
    ]
    assert offenders == []
