"""Secrets are never printed: distinctive fake secrets through every failure path.

Each path runs the real `skillaudit` command against a server on 127.0.0.1 that fails the way
a real one (or a proxy in front of it) does, quoting the credential where it can: the Bot API
refusing the token (401, 404) or unreachable, a model endpoint answering 401 and 500 with the
key in the message, GitHub and Kaggle answering 401 and 500 with the Authorization header in
the body, and database URLs with a password that cannot be used. Then the secret must appear
nowhere: not on stdout, not on stderr, not in any file under SKILLAUDIT_HOME (the log file
included), and every failure is one line, never a traceback.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.cli_process import run_cli

ROOT = Path(__file__).resolve().parents[2]
TELEGRAM_TOKEN = "7654321:AAFakeTelegramTokenZQX9distinct"
MODEL_KEY = "sk-fakeOpenAIkeyQWERTY1234distinct"
GITHUB_TOKEN = "ghp_FakeGitHubTokenDistinct0123456789abcd"
KAGGLE_KEY = "fakekagglekeydistinct0123456789ab"
DB_PASSWORD = "Db-Pass-Distinct-7731"


def run(
    args: list[str], home: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """`skillaudit ARGS` in a fresh home, with only the given settings."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "OPENAI_", "GITHUB_", "KAGGLE_", "SKILLAUDIT_"))
        and k != "DATABASE_URL"
    }
    clean.update(SKILLAUDIT_HOME=str(home), PYTHONPATH=str(ROOT), **env)
    return run_cli(args, clean, home, input=stdin)


def assert_nowhere(secret: str, done: subprocess.CompletedProcess[str], home: Path) -> None:
    """The secret is in no output and no file under the home; the failure had no traceback."""
    assert secret not in done.stdout and secret not in done.stderr
    assert "Traceback" not in done.stdout + done.stderr, done.stderr[-2000:]
    for path in home.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def quoting_server(status: int) -> Iterator[str]:
    """A server answering every request with `status` and a body that quotes the request's
    Authorization header (as some proxies and self-hosted services do)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            quoted = self.headers.get("Authorization", "")
            body = json.dumps({"message": f"Bad credentials: {quoted}", "code": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [401, 404])
def test_a_rejected_telegram_token_is_one_masked_line(tmp_path: Path, status: int) -> None:
    from tests.fakes.telegram_server import FakeTelegram

    # 401: the token is refused; 404: an unknown token (a different bot's), as the Bot API does.
    with FakeTelegram(TELEGRAM_TOKEN if status == 401 else "111:OtherBotToken0000") as fake:
        if status == 401:
            fake.fail_next("getMe", status=401, description="Unauthorized", times=5)
        for _ in range(2):  # the same, every time: never a crash at exit
            done = run(
                ["telegram"], tmp_path,
                TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, TELEGRAM_API_BASE_URL=fake.url,
            )  # fmt: skip
            assert done.returncode == 2, (done.returncode, done.stderr)
            assert "Telegram rejected TELEGRAM_BOT_TOKEN" in one_error_line(done)
            assert_nowhere(TELEGRAM_TOKEN, done, tmp_path)
            assert_nowhere(TELEGRAM_TOKEN.split(":")[1], done, tmp_path)
    assert not (tmp_path / "chroma").exists()  # it stopped before loading anything heavy


def test_an_unreachable_bot_api_is_one_masked_line(tmp_path: Path) -> None:
    done = run(
        ["telegram"], tmp_path,
        TELEGRAM_BOT_TOKEN=TELEGRAM_TOKEN, TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{free_port()}",
    )  # fmt: skip
    assert done.returncode == 2
    assert "cannot reach the Telegram Bot API" in one_error_line(done)
    assert_nowhere(TELEGRAM_TOKEN, done, tmp_path)


@pytest.mark.parametrize("status", [401, 500])
def test_a_model_endpoint_quoting_the_key_never_gets_it_printed(
    tmp_path: Path, status: int
) -> None:
    from tests.fakes.openai_server import Fail, FakeOpenAI

    with FakeOpenAI(api_key=MODEL_KEY) as fake:
        quoted = f"Incorrect API key provided: Bearer {MODEL_KEY}"
        fake.queue(
            *[Fail(status, quoted if status == 401 else f"upstream failed for {MODEL_KEY}")] * 40
        )
        done = run(
            ["chat", "--user", "k"], tmp_path, stdin="ml engineer\nmid\n",
            OPENAI_API_KEY=MODEL_KEY, OPENAI_BASE_URL=fake.base_url, SKILLAUDIT_LLM_RETRIES="0",
        )  # fmt: skip
        assert fake.calls > 0  # the model was asked, and failed as scripted
    assert done.returncode == 0, done.stderr
    assert "Noted: Machine Learning Engineer" in done.stdout  # the guided interviewer took over
    assert_nowhere(MODEL_KEY, done, tmp_path)


@pytest.mark.parametrize("status", [401, 500])
def test_github_and_kaggle_quoting_the_credential_never_get_it_printed(
    tmp_path: Path, status: int
) -> None:
    with quoting_server(status) as url:
        run(["consent", "grant", "github", "kaggle", "--user", "g"], tmp_path)
        github = run(
            ["connect", "github", "octocat", "--user", "g"], tmp_path,
            GITHUB_TOKEN=GITHUB_TOKEN, GITHUB_API_URL=url,
        )  # fmt: skip
        kaggle = run(
            ["connect", "kaggle", "--user", "g"], tmp_path,
            KAGGLE_USERNAME="ada_ml", KAGGLE_KEY=KAGGLE_KEY, KAGGLE_API_URL=f"{url}/api/v1",
        )  # fmt: skip
    for done, secret in ((github, GITHUB_TOKEN), (kaggle, KAGGLE_KEY)):
        # Refused credentials stop the connector (one line, exit 2); a server error may
        # leave partial evidence (exit 0, the problem said in the result).
        assert done.returncode == (2 if status == 401 else done.returncode), done.stderr
        assert done.returncode in (0, 2), (done.returncode, done.stderr)
        if done.returncode == 2:
            one_error_line(done)
        assert_nowhere(secret, done, tmp_path)
    import base64

    basic = base64.b64encode(f"ada_ml:{KAGGLE_KEY}".encode()).decode()  # Kaggle's header form
    assert_nowhere(basic, kaggle, tmp_path)


BAD_URLS = [
    # unreachable: nothing listens on port 1 (a fixed port keeps the test ids stable)
    f"postgresql+psycopg://someone:{DB_PASSWORD}@127.0.0.1:1/none",
    f"postgresql+nodriver://someone:{DB_PASSWORD}@127.0.0.1/none",  # no such driver
    f"postgresql+psycopg://postgres:{DB_PASSWORD}@127.0.0.1:5432/no_such_database_x",
    f"notadb://someone:{DB_PASSWORD}@127.0.0.1/x",  # no such database kind
]
URL_COMMANDS = [["chat", "--user", "d"], ["history", "--user", "d"], ["forget", "--yes"], ["audit", "--profile", "p.yaml"]]  # fmt: skip


# Each kind of bad URL at two of the commands, each command with two kinds (a process each).
@pytest.mark.parametrize(
    ("command", "url"),
    [
        (URL_COMMANDS[(n + shift) % len(URL_COMMANDS)], url)
        for n, url in enumerate(BAD_URLS)
        for shift in (0, 1)
    ],
)
def test_a_database_url_with_a_password_is_one_line_exit_2(
    tmp_path: Path, url: str, command: list[str]
) -> None:
    (tmp_path / "p.yaml").write_text("user: p\ntarget_role: ml engineer\n")
    done = run(command, tmp_path, stdin="hi\n", DATABASE_URL=url)
    assert done.returncode == 2, (done.returncode, done.stderr)
    line = one_error_line(done) if "chat" not in command else done.stderr.strip()
    assert "Traceback" not in done.stderr and line
    assert_nowhere(DB_PASSWORD, done, tmp_path)


def test_an_unexpected_error_quoting_a_secret_is_masked_everywhere(tmp_path: Path) -> None:
    """The excepthook: a crash anywhere is one masked line; the log file (0600) holds the
    masked traceback."""
    code = (
        "from agent import redact\n"
        f"redact.redact_secrets([{MODEL_KEY!r}])\n"
        "redact.install()\n"
        "import logging\n"
        "try:\n"
        f"    raise ValueError('inner ' + {MODEL_KEY!r})\n"
        "except ValueError as exc:\n"
        "    logging.getLogger('x').error('failed with %s', exc, exc_info=True)\n"
        f"    raise RuntimeError('the server said: ' + {MODEL_KEY!r}) from exc\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLAUDIT_")}
    env.update(SKILLAUDIT_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 1
    assert MODEL_KEY not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2  # the logged error and the crash: one line each
    assert "[redacted]" in done.stderr
    log = tmp_path / "logs" / "skillaudit.log"
    assert log.stat().st_mode & 0o777 == 0o600
    text = log.read_text()
    assert "Traceback" in text and "RuntimeError" in text and "ValueError" in text
    assert MODEL_KEY not in text and "[redacted]" in text


@pytest.mark.parametrize(
    "command",
    [
        ["report"],
        ["export"],
        ["next", "docker"],
        ["consent", "grant", "github"],
        ["connect", "cv", "cv.txt"],
    ],
    ids=lambda c: c[0],
)
def test_an_unreachable_database_is_one_line_exit_2_at_the_other_commands(
    tmp_path: Path, command: list[str]
) -> None:
    url = f"postgresql+psycopg://someone:{DB_PASSWORD}@127.0.0.1:{free_port()}/none"
    done = run([*command, "--user", "d"], tmp_path, DATABASE_URL=url)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "cannot open the store" in one_error_line(done)
    assert_nowhere(DB_PASSWORD, done, tmp_path)
