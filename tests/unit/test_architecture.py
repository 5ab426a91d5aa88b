"""The layers hold only while nothing imports across them the wrong way; a review misses
one import in hundreds, so the imports are read from the source here.

- `sharing` is the partners' library: a partner installs it without the service, so it
  never imports `casestore`.
- The domain model decides, it does no I/O: no database, network, file or process module,
  and no `open()`, so that a rule can be tested and replayed without a world around it.
- Services never reach up into the entry points, adapters never into services or entry
  points: wiring happens in `bootstrap` only.
- A test module never imports another test module: what several tests share lives in
  tests/factories.py or a helper module, so that running one test file never runs another's
  module-level set-up and a helper has one home.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
IO_MODULES = {"psycopg", "sqlite3", "httpx", "socket", "subprocess", "os", "pathlib", "structlog"}


def imported(path: Path) -> Iterator[str]:
    """Every module `path` imports, absolute, including imports inside functions."""
    package = ".".join(path.relative_to(SRC if SRC in path.parents else ROOT).parts[:-1])
    return imported_by(path.read_text(encoding="utf-8"), package)


def imported_by(source: str, package: str) -> Iterator[str]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                yield f"{base}.{node.module}" if node.module else base
            elif node.module:
                yield node.module


def modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def offenders(folder: Path, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(folder)
        for name in imported(path)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


def test_the_partners_library_never_imports_the_service() -> None:
    assert modules(SRC / "sharing")
    assert offenders(SRC / "sharing", ("casestore",)) == []


def test_the_domain_model_imports_no_layer_above_it_and_no_io() -> None:
    above = ("casestore.services", "casestore.adapters", "casestore.entrypoints")
    wiring = ("casestore.bootstrap", "casestore.settings")
    assert offenders(SRC / "casestore" / "domain", above + wiring + tuple(IO_MODULES)) == []


def test_the_domain_model_opens_no_file() -> None:
    calls = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in modules(SRC / "casestore" / "domain")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open"
    ]
    assert calls == []


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("services", ("casestore.entrypoints", "casestore.bootstrap")),
        ("adapters", ("casestore.services", "casestore.entrypoints", "casestore.bootstrap")),
    ],
)
def test_no_layer_reaches_up(layer: str, forbidden: tuple[str, ...]) -> None:
    assert modules(SRC / "casestore" / layer)
    assert offenders(SRC / "casestore" / layer, forbidden) == []


def test_no_test_module_imports_another() -> None:
    tests = ROOT / "tests"
    found = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(tests)
        for name in imported(path)
        if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert found == []


def test_the_import_reader_sees_relative_and_nested_imports() -> None:
    """The checks above are only as good as the reader: it must see every form."""
    source = (
        "import os\nfrom . import sibling\nfrom ..factories import run\n"
        "def f():\n    from tests.e2e.test_stream import x\n"
    )
    names = set(imported_by(source, "tests.unit"))
    assert names == {"os", "tests.unit", "tests.factories", "tests.e2e.test_stream"}
