"""A real webhook receiver on loopback, for tests of the delivery worker.

Every request is checked as a partner would check it — the Standard Webhooks signature
with `standardwebhooks.Webhook(secret).verify`, then the CloudEvent parsed — and recorded.
What it answers is scripted per request: a status, a dropped connection, or a hang past
the worker's timeout.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

DROP = "drop"  # close the connection without answering
HANG = "hang"  # answer nothing until the worker has given up


@dataclass(frozen=True)
class Request:
    number: int  # 1-based, in arrival order
    path: str
    headers: dict[str, str]
    body: str
    event: dict[str, Any] | None  # the verified CloudEvent; None if verification failed
    error: str | None
    answer: int | str

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def acknowledged(self) -> bool:
        return isinstance(self.answer, int) and 200 <= self.answer < 300


Script = Callable[[int, str], int | str]  # (request number, path) -> what to answer


def always_ok(number: int, path: str) -> int | str:
    return 200


@dataclass
class Receiver:
    base_url: str
    secrets: dict[str, str] = field(default_factory=dict)  # path -> signing secret
    script: Script = always_ok
    hang_seconds: float = 5.0
    pause_seconds: float = 0.0  # how long each answer takes
    requests: list[Request] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/hook") -> str:
        return self.base_url + path

    def handle(self, path: str, headers: dict[str, str], body: str) -> int | str:
        event, error = None, None
        secret = self.secrets.get(path)
        try:
            if secret is None:
                raise WebhookVerificationError(f"no secret for {path}")
            Webhook(secret).verify(body, headers)
            event = json.loads(body)
        except (WebhookVerificationError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            number = len(self.requests) + 1
            answer = self.script(number, path) if error is None else 400
            self.requests.append(Request(number, path, headers, body, event, error, answer))
        return answer

    def release(self) -> None:
        """Let hanging requests go (they answer nothing)."""
        self.released.set()

    def of(self, path: str = "/hook") -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def acknowledged(self, path: str = "/hook") -> list[Request]:
        return [r for r in self.of(path) if r.acknowledged]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Bounded polling: fails with what arrived if `condition` does not come true."""
        deadline = time.monotonic() + timeout
        while not condition():
            errors = [r.error for r in self.requests if r.error]
            assert not errors, f"unverifiable deliveries: {errors}"
            if time.monotonic() > deadline:
                seen = [(r.number, r.path, r.webhook_id, r.answer) for r in self.requests]
                raise AssertionError(f"timed out after {timeout}s; requests: {seen}")
            time.sleep(0.02)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length).decode()
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = receiver.handle(self.path, headers, body)
            if answer == DROP:
                self.close_connection = True
                return
            if answer == HANG:
                receiver.released.wait(receiver.hang_seconds)
                self.close_connection = True
                return
            assert isinstance(answer, int)
            if receiver.pause_seconds:
                receiver.released.wait(receiver.pause_seconds)
            self.send_response(answer)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def receiving(
    script: Script = always_ok, hang_seconds: float = 5.0, pause_seconds: float = 0.0
) -> Iterator[Receiver]:
    """A receiver on a free loopback port, served from a thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver("")))
    receiver = Receiver(
        f"http://127.0.0.1:{server.server_address[1]}",
        script=script,
        hang_seconds=hang_seconds,
        pause_seconds=pause_seconds,
    )
    server.RequestHandlerClass = _handler(receiver)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
