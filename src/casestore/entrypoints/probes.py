"""The probe port of a process: `/metrics`, `/healthz` and `/readyz` on a small HTTP
server of their own (CASESTORE_METRICS_PORT), for the API and the worker alike.

The metrics stay off the partner API's port, so nothing that reaches the API (a proxy, an
ingress) reaches them; in Kubernetes only the monitoring namespace may connect to this port
(deploy/kubernetes/networkpolicies.yaml). The worker has no other HTTP server, so its
readiness (database, schema, and its loop) is answered here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app

Readiness = Callable[[], str | None]
"""None when ready, else why not (one line, no business figure)."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # scrapes every few seconds would drown the process's own lines


def probe_app(ready: Readiness) -> Callable[..., Iterable[bytes]]:
    metrics = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics(environ, start_response)  # type: ignore[no-any-return]
        if path == "/healthz":
            return _json(start_response, "200 OK", {"status": "ok"})
        if path == "/readyz":
            reason = ready()
            if reason is None:
                return _json(start_response, "200 OK", {"status": "ready"})
            return _json(start_response, "503 Service Unavailable", {"status": reason})
        return _json(start_response, "404 Not Found", {"status": "not found"})

    return app


def _json(start_response: Callable[..., Any], status: str, body: dict[str, str]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def serve_probes(host: str, port: int, ready: Readiness) -> WSGIServer:
    """Serve the probes from a daemon thread; `shutdown()` the result to stop."""
    server = make_server(host, port, probe_app(ready), _Server, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="probes", daemon=True).start()
    return server
