"""The README's examples, run as a newcomer would run them, so the docs cannot rot.

Every fenced block in README.md is accounted for here. Python blocks run as they are, each
in a fresh namespace and a temporary working directory. Shell blocks run in a working
directory laid out like a checkout (`.venv/bin/` and `policies/`), against the demo
service `make run` starts (`casestore serve --demo --with-worker`), served here on a free
port instead of 8000. A shell block this module does not know fails the suite: run it
below, or list it in `SKIPPED_BY_DESIGN` with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.e2e.server import free_port, stop, wait_until_ready

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCUMENTED_URL = "http://127.0.0.1:8000"  # where the README's examples expect the API
SHELL = "sh"
PYTHON = "python"
NOT_RUN = {"text"}  # diagrams and listings, nothing to execute
STREAM_WAIT = 30.0  # seconds for the live stream to print its first event

SKIPPED_BY_DESIGN = {
    "make run": "serves until stopped; the blocks below run against the command it starts "
    "(casestore serve --demo --with-worker), on a free port",
    "make test": "runs this very suite",
}


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    line: int  # of the opening fence, for messages

    @property
    def commands(self) -> list[str]:
        """Its lines without their comments."""
        lines = (line.partition("#")[0].strip() for line in self.text.splitlines())
        return [line for line in lines if line]


def fenced_blocks(markdown: str) -> list[Block]:
    return [
        Block(m["language"], m["text"], markdown.count("\n", 0, m.start()) + 1)
        for m in re.finditer(r"^```(?P<language>\S*)\n(?P<text>.*?)^```$", markdown, re.M | re.S)
    ]


BLOCKS = fenced_blocks(README.read_text(encoding="utf-8"))


# ---- the Python examples ------------------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [b for b in BLOCKS if b.language == PYTHON],
    ids=lambda b: f"README.md:{b.line}",
)
def test_a_python_example_runs_as_written(
    block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run as a module of its own (pydantic resolves annotations through sys.modules), and
    compiled without this module's `from __future__` imports."""
    monkeypatch.chdir(tmp_path)
    module = ModuleType("readme_example")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    code = compile(block.text, f"README.md:{block.line}", "exec", dont_inherit=True)
    exec(code, module.__dict__)  # noqa: S102 - our own README's example
    defined = {name for name in vars(module) if not name.startswith("__")}
    assert defined, "the example defined nothing"


# ---- the shell examples -------------------------------------------------------------------


@dataclass
class Checkout:
    """A working directory laid out as the README assumes, with the demo service on it."""

    path: Path
    env: dict[str, str]
    base_url: str

    def run(self, command: str) -> str:
        """One command line in bash, as a reader pastes it; its stdout."""
        done = subprocess.run(  # noqa: S603 - bash with a line of our own README
            ["bash", "-euo", "pipefail", "-c", command],  # noqa: S607
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{command}\nexit {done.returncode}: {done.stderr[-3000:]}"
        return done.stdout

    def localised(self, text: str) -> str:
        """The block with this service's address in place of the documented one."""
        assert DOCUMENTED_URL in text, f"the block no longer talks to {DOCUMENTED_URL}"
        return text.replace(DOCUMENTED_URL, self.base_url)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checkout]:
    """`make run` in a fresh checkout: the demo service, its var/ beside the blocks'."""
    path = tmp_path_factory.mktemp("checkout")
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "casestore").exists(), f"no casestore script beside {sys.executable}"
    (path / ".venv").mkdir()
    (path / ".venv" / "bin").symlink_to(bin_dir)
    (path / "policies").symlink_to(ROOT / "policies")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASESTORE_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    port = free_port()
    log = path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [str(bin_dir / "casestore"), "serve", "--demo", "--with-worker", "--port", str(port)],
            cwd=path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_until_ready(base_url, timeout=60)
        except RuntimeError:
            raise AssertionError(log.read_text(errors="replace")[-3000:]) from None
        yield Checkout(path, env, base_url)
    finally:
        stop(process, timeout=30)


def try_the_command_line(block: Block, checkout: Checkout) -> None:
    """`casestore demo`, then what the police receive of a case and what they can open."""
    lines = [line for line in block.text.splitlines() if line.strip()]
    loaded = checkout.run(lines[0])
    case_ids = re.findall(r"^case (\S+)$", loaded, re.M)
    assert case_ids, loaded
    # The rest runs as one script, as pasted: lines continue and share shell variables.
    printed = checkout.run("\n".join(lines[1:]).replace("CASE_ID", case_ids[0]))

    received = json.loads((checkout.path / "police.json").read_text())
    [sealed] = [e for e in received if e["event_type"] == "signalering"]
    assert {"toelichting", "diagnose", "medicatie"} <= set(sealed["withheld"])
    opened = json.loads(printed)
    [signalering] = [e for e in opened if e["event_type"] == "signalering"]
    assert {"categorie", "ernst", "gevraagde_actie"} <= signalering["fields"].keys()
    assert not set(sealed["withheld"]) & signalering["fields"].keys()


def try_the_partner_api(block: Block, checkout: Checkout) -> None:
    """A token from var/demo/tokens.json, a page of the feed, then the live stream, which
    never ends by itself: it is ended here once it has printed an event."""
    if shutil.which("curl", path=checkout.env["PATH"]) is None:
        pytest.fail("the README's API examples use curl: install it (apt-get install curl)")
    output = checkout.path / "api.out"
    with output.open("wb") as out:
        shell = subprocess.Popen(  # noqa: S603 - bash with our own README's block
            ["bash", "-euo", "pipefail", "-c", checkout.localised(block.text)],  # noqa: S607
            cwd=checkout.path,
            env=checkout.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its curl ends with it
        )
    try:
        deadline = time.monotonic() + STREAM_WAIT
        while not streamed(output.read_text())[1] and time.monotonic() < deadline:
            ended = shell.poll() is not None
            assert not ended, f"exit {shell.returncode}: {output.read_text()[-2000:]}"
            time.sleep(0.1)
    finally:
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGTERM)
            shell.wait(timeout=10)

    page, events = streamed(output.read_text())
    assert page is not None and len(page["items"]) == 2, output.read_text()[-2000:]
    assert {"case_id", "event_type", "position"} <= page["items"][0].keys()
    assert events, f"no event streamed within {STREAM_WAIT} s"
    assert json.loads(events[0]["data"])["position"] == int(events[0]["id"])


def streamed(printed: str) -> tuple[dict[str, Any] | None, list[dict[str, str]]]:
    """The feed page the block printed first, and the complete server-sent events after it
    (the stream is cut off at an arbitrary point, perhaps within an event)."""
    try:
        page, end = json.JSONDecoder().raw_decode(printed)
    except ValueError:  # not all there yet
        return None, []
    chunks = printed[end:].replace("\r\n", "\n").split("\n\n")[:-1]
    fields = [dict(re.findall(r"^(\w+): ?(.*)$", chunk, re.M)) for chunk in chunks]
    return page, [f for f in fields if "id" in f and "data" in f]


RUN: dict[str, Callable[[Block, Checkout], None]] = {
    ".venv/bin/casestore demo": try_the_command_line,
    "TOKEN=$(python3 -c": try_the_partner_api,
}


def run_by(block: Block) -> str | None:
    """The entry of `RUN` for a shell block: the one its first command starts with."""
    first = block.commands[0] if block.commands else ""
    names = [name for name in RUN if first.startswith(name)]
    assert len(names) <= 1, names
    return names[0] if names else None


def skipped(block: Block) -> bool:
    """Whether every command in the block is one that is not run by design."""
    return all(any(c.startswith(name) for name in SKIPPED_BY_DESIGN) for c in block.commands)


def test_every_block_is_run_or_skipped_by_design() -> None:
    unknown = [
        f"README.md:{b.line} ```{b.language}: {b.commands[0] if b.commands else ''}"
        for b in BLOCKS
        if b.language not in {PYTHON, *NOT_RUN}
        and (b.language != SHELL or not (run_by(b) or skipped(b)))
    ]
    assert not unknown, (
        "README blocks this test does not run: add them to RUN, or to SKIPPED_BY_DESIGN with "
        "the reason\n" + "\n".join(unknown)
    )
    shell = [b for b in BLOCKS if b.language == SHELL]
    ran = [run_by(b) for b in shell]
    assert sorted(filter(None, ran)) == sorted(RUN), "each entry of RUN runs exactly one block"
    listed = {
        name for b in shell for c in b.commands for name in SKIPPED_BY_DESIGN if c.startswith(name)
    }
    assert listed == set(SKIPPED_BY_DESIGN), "an entry of SKIPPED_BY_DESIGN names no command"


@pytest.mark.parametrize("name", list(RUN))
def test_a_shell_example_runs_against_the_demo_service(name: str, checkout: Checkout) -> None:
    [block] = [b for b in BLOCKS if b.language == SHELL and run_by(b) == name]
    RUN[name](block, checkout)
