"""Real API servers on loopback for end-to-end tests: in a thread, or as a process.

A thread is enough when one process is the point; a separate `casestore serve` process
is used where the test is about several processes sharing one database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from casestore.bootstrap import Services
from casestore.entrypoints.api.app import create_app
from casestore.settings import Settings


def serve_env(settings: Settings) -> dict[str, str]:
    """The CASESTORE_* variables that give another process the same `settings` (those the
    tests set: see tests.factories.demo_settings)."""
    return {
        "CASESTORE_DATABASE_URL": str(settings.database_url),
        "CASESTORE_DEMO": "1" if settings.demo else "0",
        "CASESTORE_VAR_DIR": str(settings.var_dir),
        "CASESTORE_POLICY_FILE": str(settings.policy_file),
        "CASESTORE_REQUIRE_SIGNATURES": "1" if settings.require_signatures else "0",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_ready(base_url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no server answered at {base_url}")
        time.sleep(0.05)


@contextmanager
def serve_in_thread(services: Services) -> Iterator[str]:
    """Serve `services` with uvicorn on a free loopback port; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_app(services), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base_url)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_process(env: dict[str, str], cwd: Path) -> Iterator[str]:
    """`casestore serve` as its own process with `env` (CASESTORE_* settings).

    Its stderr goes to a file, not a pipe: nobody reads a pipe while the server runs, and
    a full one would stall the server mid-test."""
    port = free_port()
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "casestore.entrypoints.cli", "serve", "--port", str(port)],
            env={**os.environ, **env},
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_until_ready(base_url)
            except RuntimeError:
                stderr.seek(0)
                err = stderr.read().decode(errors="replace")
                raise RuntimeError(f"casestore serve failed: {err[-2000:]}") from None
            yield base_url
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `timeout`; reaped either way."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_cli(
    args: list[str], env: dict[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    """A `casestore` command as its own process, its output appended to `log` (crash
    tests kill and restart these)."""
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "casestore.entrypoints.cli", *args],
            env={**os.environ, **env},
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
