"""Hostile text at every conversation state: the states, the inputs and the checks.

Shared by `test_engine_properties.py` (a few hundred inputs in the suite) and
`bench/bench_fuzz.py` (10,000). Every state is a template database with the user parked at one
point of one flow; each input runs on a fresh copy of it, so inputs cannot affect each other.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import sqlite3
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from agent.config import Settings
from agent.engine import MAX_MESSAGE_CHARS, Engine
from agent.interview import (
    QUICK_FILE,
    REQUIRED,
    Question,
    options_for,
    question,
    questions,
)
from agent.recommend import Recommender
from agent.reply import Reply
from agent.store import Store
from knowledge.base import KnowledgeBase
from knowledge.retriever import Retriever

TODAY = dt.date(2026, 11, 28)
TRANSCRIPTS = Path(__file__).resolve().parent / "transcripts"
SCRIPT = [s["say"] for s in yaml.safe_load((TRANSCRIPTS / "full_audit.yaml").read_text())["steps"]]

# Pieces people (and attackers) really send: right-to-left text and overrides, emoji with
# joiners and skin tones, combining marks, zero-width and control characters, markup,
# SQL and shell fragments, format strings and template syntax.
FRAGMENTS = [
    "مرحبا بالعالم",
    "שלום עולם",
    "\u202eevil\u202c",
    "\u200f\u200e",
    "👩🏽‍💻",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "e\u0301\u0302\u0303\u0304\u0305",
    "Z̸̡̢̛̗͍a̷̛̝l̶g̸o̵",
    "\u200b\u200c\u200d\ufeff",
    "\x00",
    "\x1b[31mred\x1b[0m",
    "\r\n\t\x0b\x0c",
    "\ud800",
    "\udfff",
    "<script>alert(1)</script>",
    "<b>bold</b><img src=x onerror=alert(1)>",
    "**bold** _it_ `code` [link](javascript:alert(1))",
    "# heading\n- item\n> quote",
    "'; DROP TABLE users; --",
    "' OR '1'='1",
    "1; DELETE FROM sessions",
    "$(rm -rf /)",
    "`reboot`",
    "| cat /etc/passwd",
    "%s %d %n {0} {{x}} ${HOME}",
    "{{ 7*7 }} {% raw %}",
    "NaN",
    "inf",
    "-1e309",
    "1e999 years",
    "99999999999999999999999",
    "9" * 5000,  # int() refuses more than 4,300 digits: found by bench/bench_fuzz.py
    "\u0663" * 5000,  # Arabic-Indic digits: "\d" matches them too
    "/approve a" + "7" * 5000,
    "0x1F",
    "٣",
    "\uff13",  # fullwidth three
    "½",
]
# Answers that are (nearly) valid somewhere, to mix with the fragments so parsing paths that
# store a value are reached, not only the ones that ask again.
ANSWERS = [
    "ml engineer",
    "mid",
    "3",
    "2 years",
    "none",
    "all",
    "yes",
    "no",
    "skip",
    "back",
    "why",
    "4 3 3 2 3 4 3 2",
    "python 4, docker 3",
    "1, 3",
    "60%",
    "free only",
    "$150",
    "accuracy 0.9, f1 0.5",
    "binary classification",
    "confirm",
    "adjust",
    "4 because I shipped it",
    "I don't know",
]

ANY_CHAR = st.characters(
    exclude_categories=()
)  # every code point: surrogates, controls, unassigned
RANDOM_TEXT = st.text(alphabet=ANY_CHAR, max_size=200)
COMPOSED = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from(ANSWERS), RANDOM_TEXT),
    min_size=1,
    max_size=6,
).map(" ".join)
HUGE = st.builds(
    lambda unit, times: (unit * times)[: MAX_MESSAGE_CHARS * 13],
    st.one_of(st.sampled_from(FRAGMENTS + ANSWERS), st.text(alphabet=ANY_CHAR, min_size=1)),
    st.integers(min_value=MAX_MESSAGE_CHARS, max_value=MAX_MESSAGE_CHARS * 13),
)  # up to about 100 KB
# A valid answer padded to exactly the limit is read; one character more is refused.
BOUNDARY = st.builds(
    lambda answer, extra: answer + " " * (MAX_MESSAGE_CHARS - len(answer) + extra),
    st.sampled_from(ANSWERS),
    st.sampled_from([0, 1]),
)
MESSAGES = st.one_of(RANDOM_TEXT, COMPOSED, st.sampled_from(FRAGMENTS + ANSWERS), HUGE, BOUNDARY)


@dataclass(frozen=True)
class Parked:
    """The template database, its settings and states, and what an engine needs to run on it."""

    settings: Settings
    states: dict[str, State]
    kb: KnowledgeBase
    retriever: Retriever

    def __repr__(self) -> str:  # hypothesis prints arguments of failing examples
        return f"Parked({len(self.states)} states)"

    def send(self, state: State, text: str, folder: Path) -> Reply:
        """Send `text` to the user parked at `state` on a fresh copy and check every invariant."""
        with copy_of(state.template, folder) as store:
            before = snapshot(store)
            engine = _engine(store, self.settings, self.kb, self.retriever)
            reply = engine.handle_sync(state.user, text)
            check_reply(before, snapshot(store), reply, text, self.kb)
        return reply


@dataclass(frozen=True)
class State:
    name: str  # e.g. "interview:clients", "review:adjust", "new"
    user: str
    flow: str | None
    position: str | None
    template: Path  # a database with the user parked here


def _engine(store: Store, settings: Settings, kb: KnowledgeBase, retriever: Retriever) -> Engine:
    return Engine(
        store, settings, kb, today=lambda: TODAY, recommender=Recommender(settings, kb, retriever)
    )


USER = "fuzz"


def build_states(folder: Path, kb: KnowledgeBase, retriever: Retriever) -> Parked:
    """One template database per conversation state, each with the user parked there."""
    settings = Settings(SKILLAUDIT_HOME=folder / "home", DATABASE_URL=None)
    states: list[State] = []

    def run(database: Path, messages: list[str]) -> tuple[str | None, str | None]:
        store = Store(f"sqlite:///{database}")
        try:
            engine = _engine(store, settings, kb, retriever)
            for message in messages:
                engine.handle_sync(USER, message)
            with store.user(USER) as scope:
                flows = scope.active_flows()
                where = (flows[0].flow, flows[0].position) if flows else (None, None)
            if not messages:  # the user must not exist yet in the "new" state
                with store.engine.begin() as conn:
                    conn.exec_driver_sql("delete from users")
            return where
        finally:
            store.dispose()

    def park(name: str, database: Path, messages: list[str]) -> State:
        flow, position = run(database, messages)
        if name in ("interview", "model", "next_quick"):
            name = f"{name}:{position}"
        template = folder / f"state-{len(states)}.db"
        with sqlite3.connect(database) as live, sqlite3.connect(template) as copy:
            live.backup(copy)
        states.append(State(name, USER, flow, position, template))
        return states[-1]

    def branch(start: State, name: str) -> Path:
        database = folder / f"branch-{name.replace(':', '-')}.db"
        shutil.copyfile(start.template, database)
        return database

    new = park("new", folder / "main.db", [])
    # Every question of the interview (the script visits every one), then the finished audit.
    for answer in SCRIPT[:-1]:
        park("interview", folder / "main.db", [answer])
    idle = park("idle", folder / "main.db", SCRIPT[-1:])
    review = park("review:choose", branch(idle, "review"), ["/review"])
    park("review:adjust", branch(review, "adjust"), ["adjust"])
    park("forget:confirm", branch(idle, "forget"), ["/forget"])
    model = branch(idle, "model")
    for answer in ["/model", "binary classification", "accuracy 0.95, f1 0.4", "5%", "yes"]:
        park("model", model, [answer])
    quick = branch(new, "quick")
    for answer in ["/next", "data scientist", "python, sql"]:
        park("next_quick", quick, [answer])
    return Parked(settings, {s.name: s for s in states}, kb, retriever)


@contextmanager
def copy_of(template: Path, folder: Path) -> Iterator[Store]:
    """A store on a fresh copy of the template database."""
    path = folder / "work.db"
    for leftover in folder.glob("work.db*"):
        leftover.unlink()
    shutil.copyfile(template, path)
    store = Store(f"sqlite:///{path}")
    try:
        yield store
    finally:
        store.dispose()


def snapshot(store: Store) -> dict[str, Any]:
    """Every row that matters for garbage checks: sessions, decisions and counts of the rest."""
    with store.engine.connect() as conn:
        sessions = conn.exec_driver_sql(
            "select s.id, u.external_id, s.flow, s.status, s.position, s.answers, s.history "
            "from sessions s join users u on u.id = s.user_id order by s.id"
        ).all()
        reasons = conn.exec_driver_sql("select id, reason from review_decisions").all()
        counts = {
            table: conn.exec_driver_sql(f"select count(*) from {table}").scalar()
            for table in ("users", "audits", "plans", "model_audits", "consents", "connector_runs")
        }
    rows = [(*r[:5], json.loads(r[5]), json.loads(r[6])) for r in sessions]
    return {"sessions": rows, "reasons": [tuple(r) for r in reasons], **counts}


def _bad_string(value: str) -> bool:
    """Control characters, lone surrogates or unassigned code points (format marks are text)."""
    return any(
        ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cs", "Cn", "Co") for ch in value
    )


def answer_problem(
    q: Question, value: Any, answers: dict[str, Any], kb: KnowledgeBase
) -> str | None:
    """Why a stored answer is not a valid value of its question's kind (None when it is)."""
    if value is None:
        return "a required question was skipped" if q.id in REQUIRED else None
    kind = q.kind

    def number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)

    if kind == "choice":
        options = {o.value for o in options_for(q, kb)}
        return None if value in options else f"not an option: {value!r}"
    if kind == "multi":
        allowed = {o.value for o in options_for(q, kb)}
        ok = isinstance(value, list) and set(value) <= allowed and len(set(value)) == len(value)
        return None if ok else f"not a list of options: {value!r}"
    if kind == "yesno":
        return None if isinstance(value, bool) else f"not yes/no: {value!r}"
    if kind in ("number", "money"):
        low = q.minimum or 0
        high = q.maximum if q.maximum is not None else math.inf
        return None if number(value) and low <= value <= high else f"out of range: {value!r}"
    if kind == "percent":
        return None if number(value) and 0 <= value <= 1 else f"not a share: {value!r}"
    if kind in ("ratings", "extra_ratings"):
        allowed = set(kb.skills)  # skills may be named, beyond the ones a question lists
        ok = isinstance(value, dict) and set(value) <= allowed
        ok = ok and all(number(r) and 0 <= r <= 5 for r in value.values())
        return None if ok else f"bad ratings: {value!r}"
    if kind == "metrics":
        ok = isinstance(value, dict) and bool(value)
        ok = ok and all(
            isinstance(k, str) and k.isidentifier() and number(v) for k, v in value.items()
        )
        return None if ok else f"bad metrics: {value!r}"
    if kind == "skills":
        ok = isinstance(value, list) and all(s in kb.skills for s in value)
        return None if ok else f"unknown skills: {value!r}"
    if kind == "text":
        ok = isinstance(value, str) and 0 < len(value) <= 200 and not _bad_string(value)
        return None if ok else f"bad text: {value!r}"
    return f"unknown kind {kind}"


QUESTION_FLOWS = ("interview", "model", "next_quick")


def check_reply(
    before: dict[str, Any], after: dict[str, Any], reply: Reply, text: str, kb: KnowledgeBase
) -> None:
    """The invariants of one message: a reply, valid stored answers, no stored garbage."""
    assert isinstance(reply, Reply) and reply.text.strip(), "empty reply"
    for _, user, flow, _, _, answers, _ in after["sessions"]:
        if flow not in QUESTION_FLOWS:
            continue
        for key, value in answers.items():
            if key.startswith("_"):
                continue
            problem = answer_problem(question(key), value, answers, kb)
            assert problem is None, f"{user} {flow} {key}: {problem}"
    for row in after["sessions"]:
        for value in _strings(row[5]):
            assert not _bad_string(value), f"control characters stored: {value!r}"
    for _, reason in after["reasons"]:
        assert not _bad_string(reason) and len(reason) <= MAX_MESSAGE_CHARS, reason[:80]
    if len(text) > MAX_MESSAGE_CHARS:
        kept = {k: v for k, v in after.items() if k != "users"}
        assert kept == {k: v for k, v in before.items() if k != "users"}, (
            "a long message was stored"
        )
        assert "too long" in reply.text


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def every_question_id() -> set[str]:
    return {q.id for q in (*questions(), *questions(QUICK_FILE))}
