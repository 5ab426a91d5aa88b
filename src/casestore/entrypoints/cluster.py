"""`make run-cluster`: two API processes and two webhook workers against one PostgreSQL,
on this machine, the way a deployment scales out (deploy/README.md).

It migrates the schema and starts the first API process with the demo (keys, cases,
tokens under var/demo) before the others, so no two processes make the same file at
once; then every process runs until Ctrl-C, which stops them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from types import FrameType
from typing import Annotated

import typer

CLI = [sys.executable, "-m", "casestore.entrypoints.cli"]
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test?schema=cluster"


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the API process on port {port} exited ({process.returncode})")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the API process on port {port} did not get ready")


def main(
    ports: Annotated[str, typer.Option(help="The API processes' ports, comma-separated.")] = (
        "8000,8001"
    ),
    workers: Annotated[int, typer.Option(min=0, help="Webhook worker processes.")] = 2,
) -> None:
    """Run the API processes and workers until interrupted."""
    env = dict(os.environ)
    env.setdefault("CASESTORE_DATABASE_URL", DEFAULT_URL)
    env.setdefault("CASESTORE_DEMO", "1")
    api_ports = [int(p) for p in ports.split(",")]
    subprocess.run([*CLI, "db", "migrate"], env=env, check=True)  # noqa: S603 - our own CLI
    processes: list[subprocess.Popen[bytes]] = []

    def start(args: Sequence[str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([*CLI, *args], env=env)  # noqa: S603 - our own CLI
        processes.append(process)
        return process

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        first = start(["serve", "--demo", "--port", str(api_ports[0])])
        wait_ready(api_ports[0], first)
        for port in api_ports[1:]:
            wait_ready(port, start(["serve", "--port", str(port)]))
        for _ in range(workers):
            start(["worker"])
        typer.echo(
            f"cluster up: API on ports {ports}, {workers} workers; demo tokens in "
            "var/demo/tokens.json; Ctrl-C stops everything",
            err=True,
        )
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        raise SystemExit("a process of the cluster exited; stopping the others")
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    typer.run(main)
