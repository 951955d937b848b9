"""Malformed files fed to every importer: one clear line and exit code 2 from the command
line, one clear reply in the chat, and the conversation goes on.

Each case builds its bad input in a temporary folder and names a fragment the message must
contain, so a message that only says "Usage: ..." or "something went wrong" fails.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from agent.config import Settings
from agent.engine import Engine
from agent.recommend import Recommender
from agent.store import Store
from bots.cli import app
from knowledge.base import KnowledgeBase
from knowledge.retriever import Retriever
from tools.connectors.base import MAX_FILE_BYTES
from tools.connectors.certificates import CertificatesParams
from tools.connectors.cv import CVParams
from tools.profile import MAX_PROFILE_BYTES

TODAY = dt.date(2026, 11, 28)
CERT_LIMIT = CertificatesParams.model_fields["max_bytes"].default
CV_LIMIT = CVParams.model_fields["max_bytes"].default
runner = CliRunner()


# Bad inputs ------------------------------------------------------------------------------------


def garbage(size: int = 4096) -> bytes:
    """Random bytes that are not UTF-8 (seeded: the same garbage every run)."""
    data = random.Random(size).randbytes(size)
    return b"\xff\xfe\xfd" + data if not data.startswith((b"\xff\xfe", b"\xfe\xff")) else data


def latin1(text: str) -> bytes:
    """Latin-1 bytes of even length: odd lengths fail as UTF-16 anyway, even ones used to pass."""
    data = text.encode("latin-1")
    return data if len(data) % 2 == 0 else data + b" "


def oversized(limit: int) -> int:
    """The size of a sparse file one byte over a reader's limit."""
    return limit + 1


@dataclass(frozen=True)
class Make:
    """Create the path itself (a FIFO, a symbolic link) instead of writing bytes to it."""

    create: Callable[[Path], None]


Content = bytes | int | Callable[[Path], None] | Make  # bytes, a sparse size, a folder builder


@dataclass(frozen=True)
class Case:
    """One importer fed one bad input; `expect` is a fragment the message must contain."""

    importer: str  # "profile" or a connector source
    name: str
    filename: str
    content: Content | None  # None: the path does not exist
    expect: str
    extra: tuple[str, ...] = ()  # arguments after the path (an experiment, an e-mail)
    marks: tuple[pytest.MarkDecorator, ...] = field(default_factory=tuple)

    @property
    def id(self) -> str:
        return f"{self.importer}-{self.name}"

    def build(self, folder: Path) -> Path:
        path = folder / self.filename
        if self.content is None:
            return path
        if isinstance(self.content, Make):
            self.content.create(path)
        elif callable(self.content):
            path.mkdir()
            self.content(path)
        elif isinstance(self.content, int):
            with path.open("wb") as handle:
                handle.truncate(self.content)
        else:
            path.write_bytes(self.content)
        return path


def directory(path: Path) -> None:
    (path / "inside.txt").write_text("a file inside the folder\n")


def empty_folder(path: Path) -> None:
    return None


def bad_postings(path: Path) -> None:
    (path / "one.json").write_bytes(b'{"title": "ML engineer", "text": "pytorch')
    (path / "two.md").write_bytes(garbage(900))


def mlflow_store(meta: bytes) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        (path / "1").mkdir()
        (path / "1" / "meta.yaml").write_bytes(meta)

    return build


def mlflow_run(meta: bytes) -> Callable[[Path], None]:
    """A valid experiment holding one run whose meta.yaml is damaged."""

    def build(path: Path) -> None:
        experiment = path / "1"
        (experiment / "0a1b2c").mkdir(parents=True)
        (experiment / "meta.yaml").write_text(
            f"artifact_location: {experiment.as_uri()}\nexperiment_id: '1'\n"
            "lifecycle_stage: active\nname: exp\n"
        )
        (experiment / "0a1b2c" / "meta.yaml").write_bytes(meta)

    return build


FIFO = Make(os.mkfifo)  # a pipe nobody writes to: opening it for reading would block for ever
DEV_ZERO = Make(lambda path: path.symlink_to("/dev/zero"))  # an endless device behind a link
SPECIAL = "not a regular file"


def mlflow_fifo_store(path: Path) -> None:
    """A file store whose experiment meta.yaml is a FIFO (MLflow itself would block on it)."""
    (path / "1").mkdir()
    os.mkfifo(path / "1" / "meta.yaml")


def special_cases(source: str, filename: str, extra: tuple[str, ...] = ()) -> list[Case]:
    """A FIFO and a link to /dev/zero where a file is expected: refused at once, nothing read."""
    return [
        Case(source, "fifo", filename, FIFO, SPECIAL, extra),
        Case(source, "dev-zero", filename, DEV_ZERO, SPECIAL, extra),
    ]


def csv_cases(source: str, limit: int, good_header: str) -> list[Case]:
    """The bad CSVs every CSV reader must refuse with a clear message."""
    return [
        Case(source, "empty", "f.csv", b"", "empty"),
        Case(source, "binary", "f.csv", garbage(), "not a text file in UTF-8"),
        Case(source, "latin1", "f.csv", latin1(f"{good_header}\nCaf\xe9 \xe0 la cr\xe8me,1\n"), "not a text file in UTF-8"),
        Case(source, "no-header", "f.csv", b"2026-01-05,Acme,100\n2026-02-05,Acme,200\n", "column"),
        Case(source, "wrong-columns", "f.csv", b"foo,bar,baz\n1,2,3\n4,5,6\n", "column"),
        Case(source, "200kb-line", "f.csv", b"a" * 200_000, "field larger than field limit"),
        Case(source, "nul-bytes", "f.csv", f"{good_header}\n".encode() + b"\x00\x00\x00,\x00\n" * 3, "NUL bytes"),
        Case(source, "missing", "nope.csv", None, "not found"),
        Case(source, "directory", "f.csv", directory, "not a file"),
        Case(source, "oversized", "f.csv", oversized(limit), "limit"),
    ]  # fmt: skip


PROFILE_CASES = [
    Case("profile", "empty", "p.yaml", b"", "must be a mapping"),
    Case("profile", "binary", "p.yaml", garbage(), "not UTF-8"),
    Case("profile", "latin1", "p.yaml", latin1("user: Jos\xe9\ntarget_role: ml_engineer\n"), "not UTF-8"),
    Case("profile", "utf16", "p.yaml", "user: jo\ntarget_role: ml_engineer\n".encode("utf-16"), "not UTF-8"),
    Case("profile", "truncated-json", "p.json", b'{"user": "jo", "target_role": "ml_eng', "invalid JSON"),
    Case("profile", "invalid-json", "p.json", b'{"user": "jo",, }', "invalid JSON"),
    Case("profile", "invalid-yaml", "p.yaml", b"user: [jo\n  target_role: {\n", "invalid YAML"),
    Case("profile", "yaml-list", "p.yaml", b"- user: jo\n- target_role: ml_engineer\n", "must be a mapping"),
    Case("profile", "yaml-scalar", "p.yaml", b"just some words\n", "must be a mapping"),
    Case("profile", "json-list", "p.json", b'[{"user": "jo"}]', "must be a mapping"),
    Case("profile", "nul-bytes", "p.yaml", b"user: jo\x00\ntarget_role: ml_engineer\n", "invalid YAML"),
    Case("profile", "missing", "nope.yaml", None, "file not found"),
    Case("profile", "directory", "p.yaml", directory, "is a directory"),
    Case("profile", "oversized", "p.yaml", oversized(MAX_PROFILE_BYTES), "larger than 2 MB"),
    Case(
        "profile", "deeply-nested-json", "p.json", b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
        "too deeply nested",
    ),
    Case("profile", "deeply-nested-yaml", "p.yaml", b"[" * 20_000 + b"]" * 20_000, "too deeply nested"),
    *special_cases("profile", "p.yaml"),
    Case("profile", "alias-flood", "p.yaml", b"user: p\ntarget_role: ml engineer\nx: &e {}\nincome: [*e" + b",*e" * 600_000 + b"]\n", "at most"),
    Case("profile", "empty-items", "p.yaml", b"user: p\ntarget_role: ml engineer\nincome:\n" + b"- {}\n" * 380_000, "at most"),
    Case("profile", "unknown-skills", "p.yaml", b"user: p\ntarget_role: ml engineer\nself_ratings:\n" + b"".join(b"  zz%d: 3\n" % i for i in range(20_000)), "at most 200"),
]  # fmt: skip

CONNECTOR_CASES = [
    *csv_cases("certificates", CERT_LIMIT, "name,date"),
    *csv_cases("income_csv", MAX_FILE_BYTES, "date,client,amount"),
    Case("income_csv", "unreadable-rows", "f.csv", b"date,client,amount\n2026-01-05,Acme,lots\n", "no readable payments"),
    *csv_cases("fairness", MAX_FILE_BYTES, "label,prediction,gender"),
    Case("fairness", "unreadable-rows", "f.csv", b"label,prediction,gender\n,,f\n,,m\n", "no row has both"),
    Case("fairness", "json-records", "p.json", b'[{"label": 1, "prediction": 0, "gender": "f"}]', "column"),
    Case("fairness", "truncated-json", "p.json", b'[{"label": 1, "predic', "column"),
    Case("job_postings", "empty-txt", "p.txt", b"", "no job postings found"),
    Case("job_postings", "binary-md", "p.md", garbage(), "not a text file in UTF-8"),
    Case("job_postings", "latin1-txt", "p.txt", latin1("Title: Ing\xe9nieur ML\nPyTorch, cr\xe8me\n"), "not a text file in UTF-8"),
    Case("job_postings", "truncated-json", "p.json", b'{"title": "ML engineer", "text": "pyt', "not valid JSON"),
    Case("job_postings", "json-scalar", "p.json", b'"just a string"', "no job postings found"),
    Case("job_postings", "csv-no-header", "p.csv", b"ML engineer,pytorch and docker,2026-01-01\n", "no job postings found"),
    Case("job_postings", "csv-200kb-line", "p.csv", b"a" * 200_000, "field larger than field limit"),
    Case("job_postings", "csv-nul-bytes", "p.csv", b"title,text\n\x00\x00,\x00\n", "NUL"),
    Case("job_postings", "missing", "nope", None, "not found"),
    Case("job_postings", "empty-folder", "postings", empty_folder, "no job postings found"),
    Case("job_postings", "folder-of-bad-files", "postings", bad_postings, "not valid JSON"),
    Case("job_postings", "oversized", "p.txt", oversized(MAX_FILE_BYTES), "limit"),
    Case("cv", "empty-txt", "cv.txt", b"", "no text found"),
    Case("cv", "binary-md", "cv.md", garbage(), "not a text file in UTF-8"),
    Case("cv", "latin1-txt", "cv.txt", latin1("Jos\xe9, ing\xe9nieur: PyTorch\n"), "not a text file in UTF-8"),
    Case("cv", "corrupt-pdf", "cv.pdf", b"%PDF-1.7\n" + garbage(3000), "not a readable PDF"),
    Case("cv", "empty-pdf", "cv.pdf", b"", "not a readable PDF"),
    Case("cv", "pdf-header-only", "cv.pdf", b"%PDF-1.4\n", "not a readable PDF"),
    Case("cv", "docx", "cv.docx", b"PK\x03\x04" + garbage(200), "unsupported CV format"),
    Case("cv", "missing", "cv.pdf", None, "not found"),
    Case("cv", "directory", "cv.pdf", directory, "not a file"),
    Case("cv", "oversized", "cv.pdf", oversized(CV_LIMIT), "limit"),
    Case("mlflow", "missing", "mlruns", None, "no MLflow store folder", extra=("exp",)),
    Case("mlflow", "a-file", "mlruns", b"not a folder\n", "no MLflow store folder", extra=("exp",)),
    Case("mlflow", "empty-folder", "mlruns", empty_folder, "no MLflow experiment", extra=("exp",)),
    Case("mlflow", "empty-meta", "mlruns", mlflow_store(b""), "no MLflow experiment", extra=("exp",)),
    Case("mlflow", "binary-meta", "mlruns", mlflow_store(garbage(300)), "damaged", extra=("exp",)),
    Case("mlflow", "invalid-yaml-meta", "mlruns", mlflow_store(b"[unclosed"), "damaged", extra=("exp",)),
    Case("mlflow", "list-meta", "mlruns", mlflow_store(b"- a\n- b\n"), "damaged", extra=("exp",)),
    Case("mlflow", "nul-meta", "mlruns", mlflow_store(b"name: exp\x00\n"), "damaged", extra=("exp",)),
    Case("mlflow", "binary-run-meta", "mlruns", mlflow_run(garbage(300)), "damaged", extra=("exp",)),
    Case("mlflow", "garbage-sqlite", "sqlite:", garbage(4096), "not a readable SQLite database", extra=("exp",)),
    Case("local_git", "missing", "repo", None, "folder not found", extra=("me@example.org",)),
    Case("local_git", "a-file", "repo", b"not a folder\n", "not a folder", extra=("me@example.org",)),
    Case("local_git", "fifo", "repo", FIFO, "not a folder", extra=("me@example.org",)),
    *special_cases("certificates", "f.csv"),
    *special_cases("income_csv", "f.csv"),
    *special_cases("fairness", "f.csv"),
    *special_cases("cv", "cv.pdf"),
    *special_cases("cv", "cv.md"),
    *special_cases("job_postings", "p.txt"),
    *special_cases("kaggle", "k.csv"),
    *special_cases("mlflow", "sqlite:", extra=("exp",)),
    Case("mlflow", "fifo-in-store", "mlruns", mlflow_fifo_store, SPECIAL, extra=("exp",)),
]  # fmt: skip


def params(cases: list[Case]) -> list[object]:
    return [pytest.param(c, id=c.id, marks=c.marks) for c in cases]


def target(case: Case, folder: Path) -> str:
    """The argument naming the bad input (a sqlite: case names its file as a tracking URI)."""
    if case.filename == "sqlite:":
        path = Case(case.importer, case.name, "mlflow.db", case.content, case.expect).build(folder)
        return f"sqlite:///{path}"
    return str(case.build(folder))


# The command line ------------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SKILLAUDIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return tmp_path


def assert_warned_and_went_on(result: Result, expect: str) -> None:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    warnings = [line for line in result.stderr.splitlines() if expect in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: "), result.stderr
    assert "goes on without it" in warnings[0] and "Traceback" not in result.stderr


def assert_one_clear_line(result: Result, expect: str) -> None:
    stderr, stdout, exception = result.stderr, result.stdout, result.exception
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    assert result.exit_code == 2, (result.exit_code, stdout, stderr)
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert expect in lines[0], lines[0]
    assert "Traceback" not in stderr + stdout


@pytest.mark.parametrize("case", params(PROFILE_CASES))
def test_cli_audit_refuses_a_bad_profile(case: Case, home: Path) -> None:
    path = case.build(home)
    result = runner.invoke(
        app, ["audit", "--dry-run", "--profile", str(path), "--as-of", TODAY.isoformat()]
    )
    assert_one_clear_line(result, case.expect)


@pytest.mark.parametrize("case", params(CONNECTOR_CASES))
def test_cli_connect_refuses_a_bad_file(case: Case, home: Path) -> None:
    if case.importer != "job_postings":  # market data needs no consent
        granted = runner.invoke(app, ["consent", "grant", case.importer, "--user", "bad"])
        assert granted.exit_code == 0, granted.stderr
    argument = target(case, home)
    result = runner.invoke(app, ["connect", case.importer, argument, *case.extra, "--user", "bad"])
    assert_one_clear_line(result, case.expect)


# The chat --------------------------------------------------------------------------------------


@pytest.fixture
def engine(tmp_path: Path, kb: KnowledgeBase, retriever: Retriever) -> Iterator[Engine]:
    settings = Settings(SKILLAUDIT_HOME=tmp_path / "home", DATABASE_URL=None)
    store = Store(settings.resolved_database_url())
    # The session's index: a connector that matches a title by meaning must not build its own.
    recommender = Recommender(settings, kb, retriever)
    yield Engine(store, settings, kb, today=lambda: TODAY, recommender=recommender)
    store.dispose()


@pytest.mark.parametrize("case", params(CONNECTOR_CASES))
def test_chat_connect_answers_a_bad_file_and_goes_on(
    case: Case, engine: Engine, tmp_path: Path
) -> None:
    user = "tg:4711"
    first = engine.handle_sync(user, "/start")
    question = first.text.splitlines()[-1]
    assert question.startswith("(1/"), first.text
    engine.handle_sync(user, f"/consent grant {case.importer}")
    reply = engine.handle_sync(
        user, " ".join(["/connect", case.importer, target(case, tmp_path), *case.extra])
    )
    head = reply.text.splitlines()[0]
    assert head.startswith(f"{case.importer}: ") and case.expect in head, reply.text
    assert "Traceback" not in reply.text and reply.data is None
    assert reply.text.endswith(question), reply.text  # back to the question it was at
    with engine.store.user(user) as scope:
        assert scope.connector_runs() == []  # nothing half-read was kept
    assert engine.handle_sync(user, "/help").text.startswith("Commands")
    answered = engine.handle_sync(user, reply.choices[0].value)
    assert "(2/" in answered.text, answered.text  # the interview goes on


# Not bad: UTF-16 with its byte-order mark (as spreadsheets save "Unicode text") is read ----


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("income_csv", "date,client,amount\n2026-10-01,Acme,3000\n2026-11-01,Borealis,1000\n"),
        ("certificates", "name,date\nDocker for Data Science,2026-03-01\n"),
    ],
)
def test_utf16_with_a_byte_order_mark_reads_like_utf8(
    source: str, text: str, engine: Engine, tmp_path: Path
) -> None:
    engine.handle_sync("u8", f"/consent grant {source}")
    engine.handle_sync("u16", f"/consent grant {source}")
    (tmp_path / "utf8.csv").write_text(text, encoding="utf-8")
    (tmp_path / "utf16.csv").write_text(text, encoding="utf-16")
    plain = engine.handle_sync("u8", f"/connect {source} {tmp_path / 'utf8.csv'}")
    wide = engine.handle_sync("u16", f"/connect {source} {tmp_path / 'utf16.csv'}")
    assert plain.data is not None and plain.data["evidence"], plain.text
    assert wide.data is not None
    assert (
        wide.data["evidence"] == plain.data["evidence"] and wide.data["data"] == plain.data["data"]
    )


# Hostile values in every profile field: exit 2 and one short line, never a traceback --------

# Where a value goes: a YAML path written as nested blocks (numbers are list items).
FIELDS = [
    ("user",), ("target_role",), ("career_stage",), ("years_experience",),
    ("weekly_learning_hours",), ("learning_budget_usd",), ("self_ratings", "python"),
    ("soft_skills", "negotiation"), ("certificates", 0, "name"), ("certificates", 0, "date"),
    ("models", 0, "name"), ("models", 0, "metrics", "roc_auc"), ("models", 0, "positive_rate"),
    ("models", 0, "fairness", "demographic_parity_difference"), ("income", 0, "date"),
    ("income", 0, "amount"), ("income", 0, "client"), ("evidence", 0, "strength"),
    ("evidence", 0, "observed"), ("high_stakes",), ("last_full_audit",), ("weights", "technical"),
]  # fmt: skip

# A complete valid item for each list, so that only the hostile value can be wrong.
ITEMS = {
    "certificates": {"name": "c", "date": "2025-01-01", "skills": "[python]"},
    "models": {"name": "m", "task": "tabular_binary", "metrics": {"roc_auc": "0.8"}},
    "income": {"date": "2026-01-01", "client": "a", "amount": "100"},
    "evidence": {"skill": "python", "source": "code", "strength": "0.5", "observed": "2026-01-01"},
    "weights": {"technical": "1", "lifecycle": "1", "ethics": "1", "career": "1"},
}

# Values no field accepts: impossible dates, bad tags, huge integers, non-finite numbers.
NEVER_VALID = [
    "2024-02-30", "2023-13-01", "0000-01-01", "!!float abc", "!!int abc", "!!timestamp abc",
    "!!binary '%%%'", "1" * 5000, "-" + "9" * 5000, ".inf", "-.inf", ".nan", "1.0e+308",
    "!!python/object/apply:os.system ['true']",
]  # fmt: skip
# Odd but harmless names: a valid audit where a name may go, a clear refusal elsewhere.
ODD_NAMES = ["'[/oops]'", "'[bold red]x[/bold red]'", "'[link=https://evil.example]x[/link]'",
             "\"\\u202e\\u0000x\"", "'" + "x" * 5000 + "'", "'{{ 7*7 }}'"]  # fmt: skip


def profile_text(path: tuple[str | int, ...], value: str, duplicate: bool) -> str:
    """A valid minimal profile with `value` written verbatim at `path`."""
    data: dict[str, object] = {"user": "p", "target_role": "ml engineer"}
    head = path[0]
    if head in ITEMS:
        item: dict[str, object] = json.loads(json.dumps(ITEMS[head]))
        data[head] = item if head == "weights" else [item]
    node: object = data
    for part in path[:-1]:
        node = node[part] if isinstance(node, list) else node.setdefault(part, {})  # type: ignore[index,union-attr]
    node[path[-1]] = value  # type: ignore[index]

    def render(value: object, indent: int) -> list[str]:
        pad = " " * indent
        if isinstance(value, dict):
            lines = []
            for key, item in value.items():
                if isinstance(item, dict | list):
                    lines += [f"{pad}{key}:", *render(item, indent + 2)]
                else:
                    lines.append(f"{pad}{key}: {item}")
                    if duplicate and item is value_ref:
                        lines.append(f"{pad}{key}: {item}")
            return lines
        assert isinstance(value, list)
        lines = []
        for item in value:
            inner = render(item, indent + 2)
            lines += [f"{pad}- {inner[0].strip()}", *inner[1:]]
        return lines

    value_ref = value
    return "\n".join(render(data, 0)) + "\n"


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(FIELDS),
    value=st.sampled_from(NEVER_VALID + ODD_NAMES),
    duplicate=st.booleans(),
    table=st.booleans(),
)
def test_hostile_profile_values_give_one_line_and_exit_2(
    path: tuple[str | int, ...], value: str, duplicate: bool, table: bool, home: Path
) -> None:
    profile = home / "hostile.yaml"
    profile.write_text(profile_text(path, value, duplicate), encoding="utf-8")
    args = [
        "audit",
        "--dry-run",
        "--profile",
        str(profile),
        "--as-of",
        TODAY.isoformat(),
        "--force",
    ]
    result = runner.invoke(app, args if table else [*args, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.stdout + result.stderr
    if value in NEVER_VALID or duplicate:
        assert result.exit_code == 2, (profile.read_text()[:300], result.stdout[:300])
    assert result.exit_code in (0, 2), result.stderr
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[:500]
        assert len(lines[0]) <= 1_500, len(lines[0])  # short: no file contents, no huge values
    elif not table:
        json.loads(result.stdout)  # valid JSON: no NaN or Infinity slipped through


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ('{"user": "a", "user": "b", "target_role": "ml engineer"}', "appears twice"),
        ('{"user": "a", "target_role": "ml engineer", "years_experience": Infinity}', "Infinity"),
        ('{"user": "a", "target_role": "ml engineer", "years_experience": NaN}', "NaN"),
        ('{"user": "a", "target_role": "ml engineer", "years_experience": 1e999}', "finite"),
        ('{"user": "a", "target_role": "ml engineer", "years_experience": ' + "7" * 5000 + "}", "too long"),
    ],
)  # fmt: skip
def test_hostile_json_profiles_give_one_line(text: str, expect: str, home: Path) -> None:
    profile = home / "hostile.json"
    profile.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["audit", "--dry-run", "--profile", str(profile), "--json"])
    assert_one_clear_line(result, expect)


# Bad connector options: one line from the CLI, the file audit and the chat ----------------------


def predictions_in_words(folder: Path) -> Path:
    rows = ["label,prediction,sex"] + [
        f"{'approved' if i % 3 else 'denied'},{'approved' if i % 2 else 'denied'},{'f' if i % 4 else 'm'}"
        for i in range(400)
    ]
    path = folder / "words.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_fairness_options_from_the_command_line(home: Path) -> None:
    path = predictions_in_words(home)
    assert runner.invoke(app, ["consent", "grant", "fairness", "--user", "f"]).exit_code == 0
    asked = runner.invoke(app, ["connect", "fairness", str(path), "--user", "f"])
    assert_one_clear_line(asked, "which class is positive")
    read = runner.invoke(
        app, ["connect", "fairness", str(path), "positive_label=approved", "--json", "--user", "f"]
    )
    assert read.exit_code == 0, read.stderr
    data = json.loads(read.stdout)
    assert data["data"]["positive_label"] == "approved" and data["models"] == []
    bad_task = runner.invoke(
        app,
        ["connect", "fairness", str(path), "positive_label=approved", "task=foo", "--user", "f"],
    )
    assert_one_clear_line(bad_task, "allowed: tabular_binary")
    profile = home / "p.yaml"
    profile.write_text("user: p\ntarget_role: ml engineer\n", encoding="utf-8")
    audit = runner.invoke(
        app,
        [
            "audit",
            "--dry-run",
            "--profile",
            str(profile),
            "--json",
            "--connect",
            f"fairness {path} task=foo",
        ],
    )
    # In a file audit a source that cannot be read is one warning; the audit goes on.
    assert_warned_and_went_on(audit, "unknown task 'foo'")
    unknown = runner.invoke(
        app,
        [
            "audit",
            "--dry-run",
            "--profile",
            str(profile),
            "--connect",
            f"mlflow {home} exp colour=red",
        ],
    )
    assert_warned_and_went_on(unknown, "unknown option 'colour'")


def test_chat_names_the_allowed_tasks_and_goes_on(engine: Engine, tmp_path: Path) -> None:
    user = "tg:99"
    question = engine.handle_sync(user, "/start").text.splitlines()[-1]
    engine.handle_sync(user, "/consent grant fairness")
    path = predictions_in_words(tmp_path)
    reply = engine.handle_sync(user, f"/connect fairness {path} positive=approved task=foo")
    assert reply.text.splitlines()[0].startswith("fairness: task: unknown task 'foo'"), reply.text
    assert "tabular_binary" in reply.text and reply.text.endswith(question)
    good = engine.handle_sync(user, f"/connect fairness {path} positive=approved model=credit")
    assert good.data is not None and good.data["models"][0]["name"] == "credit"
