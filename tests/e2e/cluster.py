"""A throwaway PostgreSQL cluster of a test's own, for tests that stop and start the server.

The shared test server must never go down under other tests, so a test that takes the
database away makes its own: `initdb` into a temporary directory and `pg_ctl` on a free
loopback port. PostgreSQL refuses to run as root, so as root the commands run as the
`postgres` user (which the Debian package creates).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.server import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        raise RuntimeError(f"no {name}: install PostgreSQL (see README)")
    return found[-1]


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class Cluster:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 - the PostgreSQL tools, fixed arguments
            _as_owner([_bin("pg_ctl"), "-D", str(self.directory / "data"), *args]),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._ctl("-o", options, "-l", str(self.directory / "log"), "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: open sessions are ended, as in a restart or failover."""
        self._ctl("-m", "fast", "-w", "stop")


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    # Not under pytest's tmp_path: as root that is closed to the postgres user.
    directory = Path(tempfile.mkdtemp(prefix="casestore-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    subprocess.run(  # noqa: S603 - the PostgreSQL tools, fixed arguments
        _as_owner(
            [
                *(_bin("initdb"), "-D", str(directory / "data")),
                *("-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"),
            ]
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    cluster = Cluster(directory, free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        subprocess.run(  # noqa: S603 - the PostgreSQL tools, fixed arguments
            _as_owner([_bin("pg_ctl"), "-D", str(directory / "data"), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(directory, ignore_errors=True)
