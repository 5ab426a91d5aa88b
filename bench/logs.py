"""The store logs every write at INFO; a bench run makes thousands, so keep WARNING up."""

from __future__ import annotations

import logging

from casestore.adapters.logging import configure


def quiet() -> None:
    configure("json", level=logging.WARNING)
