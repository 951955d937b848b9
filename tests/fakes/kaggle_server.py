"""A fake of Kaggle's REST API (v1) on 127.0.0.1, serving recorded JSON payloads.

Routes (under /api/v1): competitions/list?group=entered, competitions/submissions/list/{slug},
kernels/list?user=... . Pages after the first are empty, as on Kaggle when a list runs out.
Switches: `reject_auth` answers 401 to everything; `rate_limited` answers 429 to paths that
start with one of its prefixes; `broken` answers 500 to such paths. Every request is logged.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

PAYLOADS = Path(__file__).parent / "kaggle"
PREFIX = "/api/v1/"


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    authorization: str | None


@dataclass
class FakeKaggle:
    username: str = "ada_ml"
    key: str = "0123456789abcdef0123456789abcdef"
    reject_auth: bool = False
    rate_limited: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)
    seen: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/v1"

    def __enter__(self) -> FakeKaggle:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll interval keeps shutdown (and so each test) quick.
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def authorized(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.username}:{self.key}".encode()).decode()
        return header == f"Basic {expected}"

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = parse_qs(parts.query)
        header = request.headers.get("Authorization")
        self.seen.append(Seen(parts.path, query, header))
        route = parts.path.removeprefix(PREFIX)
        if self.reject_auth or not self.authorized(header):
            self.reply(request, 401, json.loads((PAYLOADS / "error_unauthorized.json").read_text()))
            return
        if any(route.startswith(p) for p in self.rate_limited):
            self.reply(
                request,
                429,
                json.loads((PAYLOADS / "error_rate_limited.json").read_text()),
                {"Retry-After": "60"},
            )
            return
        if any(route.startswith(p) for p in self.broken):
            self.reply(request, 500, {"code": 500, "message": "Internal error"})
            return
        page = int(query.get("page", ["1"])[0])
        if route == "competitions/list" and query.get("group") == ["entered"]:
            self.reply(request, 200, self.payload("competitions_entered.json") if page == 1 else [])
        elif route.startswith("competitions/submissions/list/"):
            slug = route.rsplit("/", 1)[-1]
            path = PAYLOADS / f"submissions_{slug}.json"
            self.reply(
                request, 200, json.loads(path.read_text()) if path.is_file() and page == 1 else []
            )
        elif route == "kernels/list" and query.get("user") == [self.username]:
            self.reply(request, 200, self.payload("kernels_user.json") if page == 1 else [])
        else:
            self.reply(request, 404, {"code": 404, "message": "Not found"})

    def payload(self, name: str) -> object:
        return json.loads((PAYLOADS / name).read_text())

    @staticmethod
    def reply(
        request: BaseHTTPRequestHandler,
        status: int,
        body: object,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)
