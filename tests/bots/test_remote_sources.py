"""A remote person (Telegram) never reaches the server's files, network or credentials.

Each attack of the field report (docs: ../shared/field-reports/telegram.md, findings 1-3 and
13) is made here as a stranger and shown refused; the person at their own terminal keeps
their paths. Most go through `Engine.handle` with a Delivery, as the bot calls it; the upload
path and /export go through the real bot and the fake Bot API.
"""

from __future__ import annotations

import asyncio
import http.server
import itertools
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.engine import Engine
from agent.sources import SOURCES, Asker
from agent.store import Delivery
from knowledge.base import KnowledgeBase
from tests.bots.telegram_support import make_engine, running, texts, wait_text
from tests.fakes.telegram_server import FakeTelegram
from tools.connectors.base import (
    BlockedAddress,
    UrlPolicy,
    blocked_reason,
    check_public_url,
    check_upload,
    public_network,
)
from tools.errors import ConnectorError

TOKEN = "123456:TEST-token-never-logged"
SECRET = "123456:OPERATOR-SECRET"
PASSWORD = "hunter2"
_ids = itertools.count(1)


def remote(engine: Engine, chat: int, text: str) -> str:
    """What a Telegram person gets for `text` (the engine call the bot makes)."""
    delivery = Delivery("123456", next(_ids), chat)
    reply = engine.handle_sync(f"tg:{chat}", text, delivery, Asker.REMOTE)
    assert reply is not None
    return reply.text


@pytest.fixture
def server_files(tmp_path: Path) -> Path:
    """Files on the server the bot runs on: an operator's .env and notes, a CSV, a folder."""
    folder = tmp_path / "srv"
    folder.mkdir()
    (folder / ".env").write_text(
        f"# deployment: docker compose, python 3.11\nTELEGRAM_BOT_TOKEN={SECRET}\n"
    )
    (folder / "notes.md").write_text(
        f"Operator notes. Skills: Python, PyTorch, Kubernetes, Docker, SQL. db password: {PASSWORD}\n"
    )
    (folder / "payments.csv").write_text("date,client,amount\n2026-01-05,Acme,1200\n")
    return folder


@pytest.fixture
def engine(tmp_path: Path, kb: KnowledgeBase) -> Engine:
    return make_engine(tmp_path / "home", kb)


def grant_all(engine: Engine, chat: int) -> None:
    remote(engine, chat, "/start")
    consents = " ".join(s.consent for s in SOURCES.values() if s.consent)
    assert "recorded" in remote(engine, chat, f"/consent grant {consents}")


def exported(engine: Engine, chat: int) -> str:
    """The JSON /export gives this person, as text."""
    with engine.work(f"tg:{chat}", asker=Asker.REMOTE) as turn:
        assert turn is not None
        from agent.usecases import records

        return records.export(turn).path.read_text()


def test_file_sources_never_open_server_paths(engine: Engine, server_files: Path) -> None:
    """Finding 1: /connect cv .env returned the operator's token through /export."""
    grant_all(engine, 1001)
    env, notes, csv = (
        server_files / ".env",
        server_files / "notes.md",
        server_files / "payments.csv",
    )
    attacks = [
        f"cv {env}", f"cv {notes}", "cv README.md", "cv ../../../etc/hostname",
        f"certificates {csv}", f"income_csv {csv}", f"job_postings {server_files}",
        f"fairness {csv} label=y prediction=p sensitive=g", f"kaggle {csv}",
    ]  # fmt: skip
    for attack in attacks:
        reply = remote(engine, 1001, f"/connect {attack}")
        assert "send" in reply and "document" in reply, (attack, reply)
        assert str(server_files) not in reply and SECRET not in reply, (attack, reply)
    # "file not found" and "exists" read the same: no oracle of which server paths exist.
    there = remote(engine, 1001, f"/connect cv {env}").replace(str(env), "X")
    missing = remote(engine, 1001, f"/connect cv {server_files / 'none.md'}")
    assert there == missing.replace(str(server_files / "none.md"), "X")
    with engine.store.user("tg:1001") as scope:
        assert scope.connector_runs() == []
    dump = exported(engine, 1001)
    assert SECRET not in dump and PASSWORD not in dump and "docker compose" not in dump


def test_local_git_is_not_offered_to_remote_people(engine: Engine) -> None:
    grant_all(engine, 1002)
    reply = remote(engine, 1002, "/connect local_git . someone@example.org")
    assert "only in the terminal app" in reply
    assert "local_git" not in remote(engine, 1002, "/help").split("We were at")[0]
    listing = remote(engine, 1002, "/connect")
    assert "local_git" not in listing and "FILE_YOU_SENT" in listing


def test_the_person_at_their_terminal_keeps_their_paths(engine: Engine, server_files: Path) -> None:
    """The CLI on one's own machine reads the paths one names, as before."""
    engine.handle_sync("cli:ana", "/start")
    engine.handle_sync("cli:ana", "/consent grant cv")
    reply = engine.handle_sync("cli:ana", f"/connect cv {server_files / 'notes.md'}").text
    assert "names" in reply and "skills" in reply


class Internal(http.server.ThreadingHTTPServer):
    """A stand-in for a service on the server's own network; it records every request and
    redirects to `target` when one is set."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.target: str | None = None
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.seen.append(self.path)
                if server.target:
                    self.send_response(302)
                    self.send_header("Location", server.target + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps({"error": "internal admin panel"}).encode()
                self.send_response(500)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def internal() -> Iterator[Internal]:
    server = Internal()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_urls_to_the_servers_network_are_refused(engine: Engine, internal: Internal) -> None:
    """Finding 2: /connect mlflow http://127.0.0.1:PORT/... reached an internal service and
    echoed its answer; file: and sqlite: stores reached the server's disk."""
    grant_all(engine, 1003)
    port = internal.server_address[1]
    for uri in (
        f"{internal.url}/internal-admin", f"https://127.0.0.1:{port}/", f"https://localhost:{port}/",
        "https://169.254.169.254/latest/meta-data", "https://10.0.0.5/", "https://[::1]/",
        "https://100.64.0.1/", "file:///etc", "sqlite:////tmp/mlflow.db", "/var/lib/mlruns",
    ):  # fmt: skip
        reply = remote(engine, 1003, f"/connect mlflow {uri} exp1")
        assert "refused" in reply or "only public https" in reply, (uri, reply)
        assert "internal admin panel" not in reply
    assert internal.seen == []


def test_host_names_are_checked_by_every_address_they_resolve_to() -> None:
    def resolver(table: dict[str, list[str]]) -> Any:
        def resolve(host: str, port: int, *args: Any) -> list[Any]:
            return [(2, 1, 6, "", (address, port)) for address in table[host]]

        return resolve

    table = {
        "internal.example": ["10.1.2.3"],
        "rebind.example": ["93.184.216.34", "127.0.0.1"],
        "metadata.example": ["169.254.169.254"],
        "public.example": ["93.184.216.34"],
    }
    policy = UrlPolicy()
    for host in ("internal.example", "rebind.example", "metadata.example"):
        with pytest.raises(ConnectorError, match="refused"):
            check_public_url(f"https://{host}/mlflow", policy, resolver(table))
    assert check_public_url("https://public.example/x", policy, resolver(table))
    allowed = UrlPolicy(("http://internal.example:5000/",))
    assert check_public_url("http://internal.example:5000/api", allowed, resolver(table))
    with pytest.raises(ConnectorError):  # another port of an allow-listed host is not allowed
        check_public_url("http://internal.example:6000/api", allowed, resolver(table))
    assert blocked_reason("::ffff:127.0.0.1") is not None  # an IPv4 address in IPv6 dress


def test_a_redirect_into_the_servers_network_is_refused(internal: Internal) -> None:
    """An allow-listed server that redirects elsewhere does not carry the request along."""
    second = Internal()
    thread = threading.Thread(target=second.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        internal.target = second.url
        policy = UrlPolicy((internal.url,))
        with public_network(policy), pytest.raises(urllib.error.URLError) as caught:
            urllib.request.urlopen(f"{internal.url}/api", timeout=60)  # a hang guard only
        assert isinstance(caught.value.reason, BlockedAddress)
        assert internal.seen == ["/api"] and second.seen == []
        # Outside the block, and in other threads, nothing is guarded.
        internal.target = None
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{internal.url}/open", timeout=60)
    finally:
        second.shutdown()
        second.server_close()


def test_mlflow_redirects_are_refused_end_to_end(
    tmp_path: Path, kb: KnowledgeBase, internal: Internal
) -> None:
    second = Internal()
    thread = threading.Thread(target=second.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        internal.target = second.url
        engine = make_engine(tmp_path / "home", kb, SKILLAUDIT_ALLOWED_URLS=internal.url)
        grant_all(engine, 1004)
        reply = remote(engine, 1004, f"/connect mlflow {internal.url} exp1")
        assert internal.seen and second.seen == [], reply
        assert "refused" in reply
    finally:
        second.shutdown()
        second.server_close()


def test_the_operators_kaggle_account_is_never_used_for_others(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    """Finding 3: /connect kaggle used KAGGLE_USERNAME/KAGGLE_KEY for any Telegram user."""
    from tests.fakes.kaggle_server import FakeKaggle

    with FakeKaggle() as kaggle:
        engine = make_engine(
            tmp_path / "home", kb, KAGGLE_USERNAME=kaggle.username, KAGGLE_KEY=kaggle.key,
            KAGGLE_API_URL=kaggle.base_url,
        )  # fmt: skip
        grant_all(engine, 1005)
        reply = remote(engine, 1005, "/connect kaggle")
        assert "export file" in reply and kaggle.seen == []
        engine.handle_sync("cli:operator", "/consent grant kaggle")
        engine.handle_sync("cli:operator", "/connect kaggle")  # the operator's own terminal
        assert kaggle.seen


def test_the_operators_github_token_is_shared_only_when_turned_on(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    from tests.fakes.github_server import FakeGitHub, load_dataset

    token = "ghp_" + "a" * 36
    with FakeGitHub(load_dataset("alice"), token=token) as github:
        for share, expected in ((False, False), (True, True)):
            engine = make_engine(
                tmp_path / f"home-{share}", kb, GITHUB_TOKEN=token, GITHUB_API_URL=github.url,
                SKILLAUDIT_SHARE_GITHUB_TOKEN=share,
            )  # fmt: skip
            grant_all(engine, 1006)
            remote(engine, 1006, "/connect github alice")
            with engine.store.user("tg:1006") as scope:
                [run] = scope.connector_runs()
                assert run.result["data"]["token"] is expected


def test_uploads_are_checked_by_content_and_named_safely() -> None:
    limit = 1_000_000
    assert check_upload("My CV (final).pdf", b"%PDF-1.7\n...", limit).name == "My_CV_final.pdf"
    assert check_upload("../../etc/passwd", b"root:x:0:0\n", limit).name == "passwd.txt"
    assert check_upload("cv.pdf", b"Jane Doe, ML engineer\n", limit).name == "cv.txt"
    for data in (
        b"\x89PNG\r\n\x1a\n....",
        b"PK\x03\x04zip",
        b"\x7fELF....",
        b"a\x00b",
        b"\xff\xfe\x00\xd8",
    ):
        with pytest.raises(ConnectorError):
            check_upload("cv.md", data, limit)
    with pytest.raises(ConnectorError, match="limit"):
        check_upload("cv.md", b"x" * (limit + 1), limit)


def test_telegram_uploads_go_to_the_persons_folder_and_export_keeps_no_raw_text(
    engine: Engine, tmp_path: Path
) -> None:
    """Documents are the file path of a remote person: kept in their folder, connected by
    name, and evidence details keep only the matched skill words."""
    cv = f"Jane Doe. Skills: Python, Docker and Kubernetes. db password: {PASSWORD}\n".encode()

    async def scenario() -> None:
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                fake.user_says(2001, "/start")
                welcome = await wait_text(fake, 2001, "Which role")
                assert "on the server that runs this bot" in welcome
                fake.user_says(2001, "/consent grant cv")
                await wait_text(fake, 2001, "Consent for cv recorded")
                fake.user_sends_document(2001, cv, "../my cv.md", "text/markdown")
                kept = await wait_text(fake, 2001, "I kept your file")
                assert "/connect cv my_cv.md" in kept
                fake.user_says(2001, "/connect cv my_cv.md")
                await wait_text(fake, 2001, "names")
                fake.user_sends_document(2001, cv, "cv.md", caption="/connect cv")
                await wait_text(fake, 2001, "cv: The CV names")
                fake.user_sends_document(2001, b"\x89PNG\r\n\x1a\n" + b"0" * 40, "cv.png")
                await wait_text(fake, 2001, "this looks like an image")
                fake.user_sends_document(2001, b"x" * 11_000_001, "big.csv")
                await wait_text(fake, 2001, "over the 10 MB limit")
                fake.user_says(2001, "/export")
                await wait_text(fake, 2001, "in the attached file")

                def document() -> Any:
                    return next((a for a in fake.sent(2001) if a["method"] == "sendDocument"), None)

                document = await asyncio.to_thread(fake.wait_for, document)
                dump = document["files"]["document"]["data"].decode()
                assert PASSWORD not in dump and "CV mentions" in dump
                for text in texts(fake, 2001):
                    assert str(tmp_path) not in text, text

    asyncio.run(scenario())
    uploads = engine.settings.user_dir("tg:2001") / "uploads"
    assert sorted(p.name for p in uploads.iterdir()) == ["cv.md", "my_cv.md"]


FILES = Path(__file__).resolve().parents[1] / "fakes" / "files"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("exports/upwork_earnings_report.csv", ["income_csv"]),
        ("exports/upwork_transactions_new.csv", ["income_csv"]),
        ("upwork_transactions.csv", ["income_csv"]),
        ("fiverr_earnings.csv", ["income_csv"]),
        ("payments.csv", ["income_csv"]),
        ("exports/linkedin_Learning.csv", ["certificates"]),
        ("exports/linkedin_Certifications.csv", ["certificates"]),
        ("exports/coursera_business_2024.csv", ["certificates"]),
        ("exports/coursera_list.csv", ["certificates"]),
        ("certificates_generic.csv", ["certificates"]),
        ("exports/kaggle_competitions_list.csv", ["kaggle"]),
        ("exports/kaggle_my_results.csv", ["kaggle"]),
        ("postings.csv", ["job_postings"]),
    ],
)
def test_an_uploaded_csv_is_offered_for_what_its_columns_are(
    name: str, expected: list[str]
) -> None:
    """Real export headers: an Upwork earnings report is income, a LinkedIn Learning export
    certificates, `kaggle competitions list --csv` Kaggle; not five uses for every CSV."""
    from agent.usecases.evidence import _csv_sources

    assert _csv_sources((FILES / name).read_bytes()) == expected


def test_a_csv_that_looks_like_no_export_is_offered_for_every_use() -> None:
    from agent.usecases.evidence import CSV_SOURCES, _csv_sources

    assert _csv_sources(b"y_true;y_pred;sex\n1;0;F\n") == ["fairness"]  # semicolons too
    for data in (b"a,b,c\n1,2,3\n", b"", b"\xef\xbb\xbfname\n"):
        assert _csv_sources(data) == list(CSV_SOURCES)


def test_a_stranger_uploads_an_upwork_report_and_its_one_button_reads_it(engine: Engine) -> None:
    """In Telegram the upload's reply names the one use that fits, with its button; pressing
    it asks for consent first, and once granted the income is read."""
    data = (FILES / "exports" / "upwork_earnings_report.csv").read_bytes()

    async def scenario() -> None:
        chat = 2101
        with FakeTelegram(TOKEN) as fake:
            async with running(engine, fake):
                fake.user_says(chat, "/start")
                await wait_text(fake, chat, "Which role")
                fake.user_sends_document(chat, data, "upwork_earnings_report.csv", "text/csv")
                kept = await wait_text(fake, chat, "I kept your file")
                assert "/connect income_csv upwork_earnings_report.csv" in kept
                assert "certificates" not in kept and "kaggle" not in kept
                message = [a for a in fake.sent(chat) if "reply_markup" in a["params"]][-1]
                buttons = [
                    b for row in message["result"]["reply_markup"]["inline_keyboard"] for b in row
                ]
                uses = [b for b in buttons if b["text"].startswith("Use as")]
                assert [b["text"] for b in uses] == ["Use as: an income CSV"]
                fake.user_presses(chat, message["result"]["message_id"], uses[0]["callback_data"])
                await wait_text(fake, chat, "consent")
                fake.user_says(chat, "/consent grant income_csv")
                await wait_text(fake, chat, "Consent for income_csv recorded")
                before = len(texts(fake, chat))
                fake.user_says(chat, "/connect income_csv upwork_earnings_report.csv")
                read = await wait_text(fake, chat, "Income in", after=before)
                assert "3 contracts (not clients)" in read and "Back to where we were" in read

    asyncio.run(scenario())
