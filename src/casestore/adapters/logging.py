"""Structured logs (structlog) for every line a process writes: ours, uvicorn's, the
libraries'. Log lines carry ids and event types, never payloads.

One handler on stderr renders every record through the same processors: structlog's own
calls and the standard library's records (uvicorn, psycopg, eventsourcing) alike, so in
JSON mode each line is one JSON object. Request lines come from the API's own middleware
(casestore.entrypoints.api.observe) with request id, client, organisation, route, status
and duration; uvicorn's access log is left off.

The threat: a careless log call that hands over a payload, a bearer token or a BSN would
put in plain text, on disk and in every log shipper, what the store only keeps sealed or
hashed. `Redact` runs on every line before it is rendered and drops:
- the value of any key that names content: a payload field of any event type, or one of
  `SENSITIVE_KEYS` (at any depth of a dict or list);
- inside every string (the message included), bearer tokens (`cs_<client>_<secret>`,
  `Bearer …`) and nine-digit numbers that pass the BSN elfproef.
It keeps the line, so that something was logged stays visible.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any, Literal

import structlog

REDACTED = "[redacted]"
SENSITIVE_KEYS = frozenset(
    {
        "payload",
        "content",
        "fields",
        "body",
        "token",
        "authorization",
        "bsn",
        "secret",
        "password",
        "signature",
        "plaintext",
    }
)
_TOKEN = re.compile(r"\bcs_[0-9a-f]+_[A-Za-z0-9_-]+|(?i:\bbearer\s+)[A-Za-z0-9._~+/=-]+")
_NINE_DIGITS = re.compile(r"(?<![\w.])\d{9}(?![\w])")


def passes_elfproef(digits: str) -> bool:
    """The BSN check: weights 9…2 and -1 over nine digits, a multiple of 11."""
    total = sum(w * int(d) for w, d in zip((9, 8, 7, 6, 5, 4, 3, 2, -1), digits, strict=True))
    return total % 11 == 0 and digits != "000000000"


class Redact:
    """The structlog processor that drops content, tokens and BSNs (see the module)."""

    def __init__(self, content_keys: Iterable[str] = ()) -> None:
        self.keys = SENSITIVE_KEYS | {k.lower() for k in content_keys}

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
        return {
            key: value if key.startswith("_") else self._value(key, value)  # structlog's own
            for key, value in event.items()
        }

    def _value(self, key: str, value: Any) -> Any:
        if key.lower() in self.keys:
            return REDACTED
        return self._clean(value)

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, Mapping):
            return {str(k): self._value(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._clean(v) for v in value]
        if isinstance(value, int) and not isinstance(value, bool):
            return REDACTED if 10**8 <= value < 10**9 and passes_elfproef(str(value)) else value
        if value is None or isinstance(value, float | bool):
            return value
        return self._text(str(value))

    @staticmethod
    def _text(text: str) -> str:
        text = _TOKEN.sub(REDACTED, text)
        return _NINE_DIGITS.sub(
            lambda m: REDACTED if passes_elfproef(m.group()) else m.group(), text
        )


def configure(
    fmt: Literal["console", "json"] = "console",
    level: int = logging.INFO,
    content_keys: Iterable[str] = (),
) -> None:
    """Route every log line of the process through structlog onto stderr."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    last: list[structlog.typing.Processor] = [
        structlog.processors.format_exc_info,
        Redact(content_keys),
    ]
    structlog.configure(
        processors=[*shared, *last, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared, *last],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's loggers write through the root handler, not handlers of their own.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
