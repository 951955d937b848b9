"""A fake GitHub REST API on 127.0.0.1 for PyGithub, shaped like GitHub Enterprise (/api/v3).

Serves the endpoints the GitHub connector uses from a dataset (see `github/alice.json`) and the
recorded payload shapes in `github/*.json`: users/{u}, users/{u}/repos, repos/{o}/{r},
.../languages, .../git/trees/{ref}?recursive=1, .../contents/{path}, .../commits?author=&since=,
and rate_limit. Every response carries the X-RateLimit-* headers and an ETag.

Switches for failures: `token` (a wrong Authorization gets 401 Bad credentials),
`rate_limit` (requests left before 403 "API rate limit exceeded" with Remaining: 0),
`throttle()` (next requests get 429 or 403 with Retry-After), `fail` (path substring -> status),
`latency_s`. `log` records every request ("GET /path?query") for call-count assertions.

    with FakeGitHub(load_dataset("alice"), token="t") as fake:
        collect(GitHubInput(username="alice", base_url=fake.url, token="t"), kb)
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).parent / "github"
PREFIX = "/api/v3"
MAX_INLINE_CONTENT = 1_000_000  # GitHub returns no content for files over 1 MB


def _template(name: str) -> Any:
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


def load_dataset(name: str) -> dict[str, Any]:
    """Read a user-and-repositories dataset from tests/fakes/github/{name}.json."""
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _render(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in values.items():
            value = value.replace("{{" + key + "}}", replacement)
        return value
    if isinstance(value, list):
        return [_render(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _render(v, values) for k, v in value.items()}
    return value


def _git_sha(kind: str, data: bytes) -> str:
    return hashlib.sha1(f"{kind} {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeGitHub:
    """The fake server; a context manager that starts and stops it in a thread."""

    def __init__(
        self,
        dataset: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        rate_limit: int = 5000,
        latency_s: float = 0.0,
    ) -> None:
        self.dataset = dataset or {"user": {"login": "nobody"}, "repos": []}
        self.token = token
        self.rate_limit = rate_limit
        self.remaining = rate_limit
        self.reset_at = int(time.time()) + 3600
        self.latency_s = latency_s
        self.fail: dict[str, int] = {}
        self.throttles: list[tuple[int, int]] = []
        self.log: list[str] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._templates = {
            n: _template(n) for n in ("user", "repo", "commit", "content", "rate_limit", "errors")
        }

    # Lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> FakeGitHub:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-github",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}{PREFIX}"

    # Switches and assertions -------------------------------------------------------------------

    def throttle(self, status: int = 429, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next `times` requests with `status` and a Retry-After header."""
        with self._lock:
            self.throttles += [(status, retry_after)] * times

    def count(self, fragment: str = "") -> int:
        with self._lock:
            return sum(1 for line in self.log if fragment in line)

    # Data ---------------------------------------------------------------------------------------

    @property
    def login(self) -> str:
        return str(self.dataset["user"]["login"])

    def _repo(self, owner: str, name: str) -> dict[str, Any] | None:
        if owner.lower() != self.login.lower():
            return None
        return next((r for r in self.dataset["repos"] if r["name"].lower() == name.lower()), None)

    def user_payload(self) -> dict[str, Any]:
        user = self.dataset["user"]
        values = {
            "api": self.url,
            "login": user["login"],
            "name": user.get("name", ""),
            "bio": user.get("bio", ""),
        }
        payload: dict[str, Any] = _render(self._templates["user"], values)
        payload["public_repos"] = sum(1 for r in self.dataset["repos"] if not r.get("private"))
        return payload

    def repo_payload(self, repo: dict[str, Any], listing: bool = False) -> dict[str, Any]:
        values = {
            "api": self.url,
            "owner": self.login,
            "repo": repo["name"],
            "description": repo.get("description") or "",
        }
        payload: dict[str, Any] = _render(self._templates["repo"], values)
        index = self.dataset["repos"].index(repo)
        payload.update(
            id=700_000_000 + index,
            fork=bool(repo.get("fork")),
            pushed_at=repo["pushed_at"],
            updated_at=repo["pushed_at"],
            created_at=repo.get("created_at", repo["pushed_at"]),
            language=repo.get("language"),
            size=repo.get("size", 0 if not repo.get("files") else 100),
            default_branch=repo.get("default_branch", "main"),
            private=bool(repo.get("private")),
            visibility="private" if repo.get("private") else "public",
        )
        if listing:  # list items lack the counts only the single-repository endpoint has
            payload.pop("network_count", None)
            payload.pop("subscribers_count", None)
        return payload

    def _blob(self, text: str) -> bytes:
        return text.encode("utf-8")

    def tree_payload(self, repo: dict[str, Any]) -> dict[str, Any]:
        entries: dict[str, dict[str, Any]] = {}
        for path, text in sorted(repo.get("files", {}).items()):
            parts = path.split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth])
                entries.setdefault(folder, {"path": folder, "mode": "040000", "type": "tree",
                                            "sha": _git_sha("tree", folder.encode())})  # fmt: skip
            blob = self._blob(text)
            sha = _git_sha("blob", blob)
            entries[path] = {
                "path": path,
                "mode": "100644",
                "type": "blob",
                "sha": sha,
                "size": len(blob),
            }
        base = f"{self.url}/repos/{self.login}/{repo['name']}/git"
        tree = []
        for entry in sorted(entries.values(), key=lambda e: e["path"]):
            kind = "blobs" if entry["type"] == "blob" else "trees"
            tree.append({**entry, "url": f"{base}/{kind}/{entry['sha']}"})
        root = _git_sha("tree", json.dumps(sorted(entries)).encode())
        limit = int(repo.get("tree_limit", 100_000))
        return {
            "sha": root,
            "url": f"{base}/trees/{root}",
            "tree": tree[:limit],
            "truncated": len(tree) > limit,
        }

    def content_payload(self, repo: dict[str, Any], path: str, ref: str) -> dict[str, Any] | None:
        files = repo.get("files", {})
        if path not in files:
            return None
        blob = self._blob(files[path])
        sha = _git_sha("blob", blob)
        values = {"api": self.url, "owner": self.login, "repo": repo["name"], "path": path,
                  "name": path.rsplit("/", 1)[-1], "sha": sha, "ref": ref}  # fmt: skip
        payload: dict[str, Any] = _render(self._templates["content"], values)
        payload["size"] = len(blob)
        if len(blob) > MAX_INLINE_CONTENT:
            payload.update(content="", encoding="none")
        else:
            encoded = base64.b64encode(blob).decode()
            payload["content"] = (
                "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n"
            )
        return payload

    def commit_payloads(self, repo: dict[str, Any], query: dict[str, str]) -> list[dict[str, Any]]:
        author = query.get("author", "").lower()
        since = _parse_time(query["since"]) if "since" in query else None
        until = _parse_time(query["until"]) if "until" in query else None
        chosen = []
        for commit in repo.get("commits", []):
            when = _parse_time(commit["date"])
            if author and author not in (commit["login"].lower(), commit["email"].lower()):
                continue
            if (since and when < since) or (until and when > until):
                continue
            chosen.append(commit)
        chosen.sort(key=lambda c: c["date"], reverse=True)
        payloads = []
        for commit in chosen:
            sha = hashlib.sha1(
                f"{repo['name']}{commit['date']}{commit['message']}".encode(), usedforsecurity=False
            ).hexdigest()
            values = {"api": self.url, "owner": self.login, "repo": repo["name"], "sha": sha,
                      "tree_sha": sha[::-1], "login": commit["login"], "author_name": commit["name"],
                      "author_email": commit["email"], "date": commit["date"], "message": commit["message"]}  # fmt: skip
            payloads.append(_render(self._templates["commit"], values))
        return payloads

    # Request handling ---------------------------------------------------------------------------

    def rate_headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(max(0, self.remaining)),
            "X-RateLimit-Used": str(self.rate_limit - max(0, self.remaining)),
            "X-RateLimit-Reset": str(self.reset_at),
            "X-RateLimit-Resource": "core",
        }

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        """Route one request; return status, extra headers and a JSON-able body."""
        with self._lock:
            self.log.append(f"{method} {raw_path.removeprefix(PREFIX)}")
            throttle = self.throttles.pop(0) if self.throttles else None
        if self.latency_s:
            time.sleep(self.latency_s)
        errors = self._templates["errors"]
        auth = headers.get("authorization")
        if (
            self.token is not None
            and auth is not None
            and auth not in (f"token {self.token}", f"Bearer {self.token}")
        ):
            return 401, {}, errors["401"]
        parsed = urllib.parse.urlsplit(raw_path)
        path = urllib.parse.unquote(parsed.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        if not path.startswith(PREFIX + "/"):
            return 404, {}, errors["404"]
        path = path.removeprefix(PREFIX)
        if path == "/rate_limit":
            body = copy.deepcopy(self._templates["rate_limit"])
            for block in [*body["resources"].values(), body["rate"]]:
                if block["limit"] == 5000:
                    block.update(limit=self.rate_limit, remaining=max(0, self.remaining),
                                 used=self.rate_limit - max(0, self.remaining), reset=self.reset_at)  # fmt: skip
            return 200, {}, body
        if throttle is not None:
            status, wait = throttle
            return (
                status,
                {"Retry-After": str(wait)},
                errors["429" if status == 429 else "403_secondary"],
            )
        with self._lock:
            if self.remaining <= 0:
                return 403, {}, errors["403_primary"]
            self.remaining -= 1
        for fragment, status in self.fail.items():
            if fragment in path:
                return status, {}, errors.get(str(status), {"message": f"HTTP {status}"})
        return self._route(path, query)

    def _route(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        errors = self._templates["errors"]
        parts = path.strip("/").split("/")
        if parts[0] == "users" and len(parts) in (2, 3):
            if parts[1].lower() != self.login.lower():
                return 404, {}, errors["404"]
            if len(parts) == 2:
                return 200, {}, self.user_payload()
            if parts[2] == "repos":
                repos = list(self.dataset["repos"])
                if query.get("sort") == "pushed":
                    repos.sort(
                        key=lambda r: r["pushed_at"],
                        reverse=query.get("direction", "desc") == "desc",
                    )
                items = [self.repo_payload(r, listing=True) for r in repos if not r.get("private")]
                return self._page(path, query, items)
        if parts[0] == "repos" and len(parts) >= 3:
            repo = self._repo(parts[1], parts[2])
            if repo is None:
                return 404, {}, errors["404"]
            rest = parts[3:]
            if not rest:
                return 200, {}, self.repo_payload(repo)
            if rest == ["languages"]:
                return 200, {}, dict(repo.get("languages", {}))
            if rest[:2] == ["git", "trees"] and len(rest) == 3:
                if not repo.get("files"):
                    return 409, {}, errors["409"]
                return 200, {}, self.tree_payload(repo)
            if rest[0] == "contents" and len(rest) >= 2:
                ref = query.get("ref", repo.get("default_branch", "main"))
                content = self.content_payload(repo, "/".join(rest[1:]), ref)
                return (200, {}, content) if content is not None else (404, {}, errors["404"])
            if rest == ["commits"]:
                if not repo.get("files"):
                    return 409, {}, errors["409"]
                return self._page(path, query, self.commit_payloads(repo, query))
        return 404, {}, errors["404"]

    def _page(
        self, path: str, query: dict[str, str], items: list[Any]
    ) -> tuple[int, dict[str, str], Any]:
        per_page = max(1, min(100, int(query.get("per_page", "30"))))
        page = max(1, int(query.get("page", "1")))
        last = max(1, -(-len(items) // per_page))
        links = []
        for rel, number in (("prev", page - 1), ("next", page + 1), ("last", last), ("first", 1)):
            if (
                (rel == "prev" and page > 1)
                or (rel in ("next", "last") and page < last)
                or (rel == "first" and page > 1)
            ):
                link_query = urllib.parse.urlencode({**query, "page": number})
                links.append(f'<{self.url}{path}?{link_query}>; rel="{rel}"')
        headers = {"Link": ", ".join(links)} if links else {}
        return 200, headers, items[(page - 1) * per_page : page * per_page]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server_version = "GitHub.com"
    sys_version = ""

    def do_GET(self) -> None:
        fake: FakeGitHub = self.server.fake  # type: ignore[attr-defined]
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra, body = fake.handle("GET", self.path, headers)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", f'W/"{hashlib.sha256(data).hexdigest()[:40]}"')
        self.send_header("X-GitHub-Media-Type", "github.v3; format=json")
        self.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        for key, value in {**fake.rate_headers(), **extra}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


def generate_dataset(
    login: str, repos: int, as_of: dt.date = dt.date(2026, 11, 28)
) -> dict[str, Any]:
    """A user with `repos` varied repositories (every seventh a fork), for the benchmark."""
    kinds = [
        {"requirements.txt": "torch\nmlflow\npandas\n", "train.py": "import torch\nimport mlflow\n",
         "Dockerfile": "FROM python:3.11\n", ".github/workflows/ci.yml": "on: push\n",
         "tests/test_train.py": "def test_ok():\n    assert True\n"},
        {"requirements.txt": "scikit-learn\nxgboost\nshap\n", "model.py": "import sklearn\nimport shap\n",
         "MODEL_CARD.md": "# card\n", "dvc.yaml": "stages: {}\n"},
        {"pyproject.toml": '[project]\ndependencies = ["fastapi", "evidently"]\n',
         "app/main.py": "from fastapi import FastAPI\n", "k8s/deployment.yaml": "kind: Deployment\n",
         "infra/main.tf": "terraform {}\n"},
        {"requirements.txt": "langchain\nopenai\n", "notebooks/rag.ipynb": '{"cells": []}',
         "README.md": "# notes\n"},
    ]  # fmt: skip
    items = []
    for index in range(repos):
        pushed = dt.datetime.combine(as_of - dt.timedelta(days=3 * index), dt.time(12), dt.UTC)
        stamp = pushed.strftime("%Y-%m-%dT%H:%M:%SZ")
        commits = [
            {"login": login, "name": login.title(), "email": f"{login}@example.com",
             "date": (pushed - dt.timedelta(days=7 * k)).strftime("%Y-%m-%dT%H:%M:%SZ"), "message": f"change {k}"}
            for k in range(index % 5 + 1)
        ]  # fmt: skip
        items.append(
            {"name": f"project-{index:03d}", "description": f"Project {index}", "fork": index % 7 == 6,
             "pushed_at": stamp, "created_at": stamp, "language": "Python", "size": 120,
             "languages": {"Python": 10_000 + 97 * index, "Dockerfile": 300},
             "files": dict(kinds[index % len(kinds)]), "commits": commits}
        )  # fmt: skip
    return {
        "user": {"login": login, "name": login.title(), "bio": "benchmark user"},
        "repos": items,
    }
