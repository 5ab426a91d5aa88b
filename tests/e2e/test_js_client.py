"""The JavaScript partner example (clients/js), written from docs/envelope.md and
docs/provenance.md on libsodium.js: it checks every test vector of both documents, and
opens and verifies, over HTTP, what an organisation receives from a live server, exactly as
the Python client does. It is the proof that the spec is enough to implement.

node and npm are required: without them these tests fail, never skip (.ci/run installs
them). `npm ci` runs once per package-lock.json, into clients/js/node_modules.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from casestore.entrypoints import demo
from sharing.client import load_decryption_key, open_event
from tests.e2e.api import Api
from tests.factories import key_directory, load_signed_demo

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "clients" / "js"
DOCS = [ROOT / "docs" / "envelope.md", ROOT / "docs" / "provenance.md"]


@pytest.fixture(scope="session")
def node() -> str:
    """node, with the example's dependencies installed from its lockfile."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(
            "the JavaScript example needs node and npm (Debian: apt-get install nodejs npm)"
        )
    lock = hashlib.sha256((JS / "package-lock.json").read_bytes()).hexdigest()
    marker = JS / "node_modules" / ".casestore-lock"
    # Test workers start together; one installs while the others wait for it.
    with open(Path(tempfile.gettempdir()) / "casestore-npm-ci.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not marker.exists() or marker.read_text() != lock:
            installed = subprocess.run(  # noqa: S603 - npm from PATH with fixed arguments
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=JS,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert installed.returncode == 0, installed.stderr[-2000:]
            marker.write_text(lock)
    return node


def test_the_js_example_checks_every_vector_of_the_spec(node: str) -> None:
    result = subprocess.run(  # noqa: S603 - our own script with fixed arguments
        [node, "vectors.mjs", *map(str, DOCS)], cwd=JS, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].endswith(" passed, 0 failed"), result.stdout


def partner(node: str, api: Api, org: str, pinned: str) -> subprocess.CompletedProcess[str]:
    """partner.mjs reading `org`'s feed with its token, key file and pinned custodian key."""
    key_file = api.services.settings.key_directory / "private" / f"{org}.json"
    options = {"--url": api.base_url, "--key": str(key_file), "--custodian-key-id": pinned}
    return subprocess.run(  # noqa: S603 - our own script with fixed arguments
        [node, "partner.mjs", "--limit", "1000", *(x for pair in options.items() for x in pair)],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CASESTORE_TOKEN": api.token(org)},
    )


def test_the_js_example_opens_and_verifies_a_live_feed(node: str, api: Api) -> None:
    services = api.services
    load_signed_demo(services)
    org = demo.POLITIE
    pinned = services.sealer.keyring.signing_key(services.settings.custodian).key_id
    result = partner(node, api, org, pinned)
    assert result.returncode == 0, result.stderr
    opened = json.loads(result.stdout)

    key_file = services.settings.key_directory / "private" / f"{org}.json"
    key = load_decryption_key(json.loads(key_file.read_text()))
    directory = key_directory(services)
    expected = [
        open_event(json.loads(json.dumps(e.to_json())), [key], directory=directory)
        for e in services.disclosure.feed(org, 0, 1000)
    ]
    assert len(opened) == len(expected) >= 10
    assert [item["fields"] for item in opened] == expected
    assert any(item["fields"] for item in opened)

    refused = partner(node, api, org, "0" * 32)
    assert refused.returncode == 1
    assert refused.stderr.strip().endswith("not by the pinned custodian key " + "0" * 32)
