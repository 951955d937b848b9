"""What the fake HTTP servers share: tracking open connections so `stop()` can cut idle
keep-alives and hanging requests, and staying quiet about clients that hung up."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast


class TrackingServer(ThreadingHTTPServer):
    """A threading server on 127.0.0.1 (random port) that knows its open connections."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], closing: Callable[[], bool]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.closing = closing
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def close_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # the client may have closed it already
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that hung up (a timed-out or cancelled one does) and about
        anything while stopping; report the rest."""
        if self.closing() or isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class TrackedHandler(BaseHTTPRequestHandler):
    """Registers its connection with the server while it is open."""

    @property
    def tracking(self) -> TrackingServer:
        return cast(TrackingServer, self.server)

    def setup(self) -> None:
        super().setup()
        with self.tracking.connections_lock:
            self.tracking.connections.add(self.connection)

    def finish(self) -> None:
        with self.tracking.connections_lock:
            self.tracking.connections.discard(self.connection)
        with contextlib.suppress(OSError):  # a cut connection cannot be flushed
            super().finish()
