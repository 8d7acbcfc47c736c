"""A threaded moto server with a WSGI middleware in front of moto: what `faulty_moto` (faults at
the network edge) and `recorded_calls` (every request, by access key) put there."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]


class MiddlewareMotoServer(ThreadedMotoServer):
    """`ThreadedMotoServer` whose moto app is wrapped by `middleware` (port 0: a free one)."""

    def __init__(self, middleware: Callable[[App], App], port: int = 0) -> None:
        super().__init__(ip_address="127.0.0.1", port=port, verbose=False)
        self.middleware = middleware

    def _server_entry(self) -> None:
        app = self.middleware(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()
