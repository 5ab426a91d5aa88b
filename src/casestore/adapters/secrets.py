"""Throwaway secrets for demo mode, kept under the ignored `var/` directory."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from nacl.utils import random


def load_or_create_secret(path: Path, size: int = 32) -> bytes:
    """Read a base64 secret from `path`, creating it (mode 0600) on first use."""
    if path.exists():
        return base64.b64decode(path.read_text().strip(), validate=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = random(size)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(secret).decode("ascii") + "\n")
    return secret
