"""Planted personal values never reach a log record nor another person's export.

User A connects a payments CSV holding an income figure, a client name and an e-mail
address, with tokens in the environment, and runs a whole guided audit to /report and
/export while every logger records at DEBUG. The language model's side of privacy is tested
in test_llm_agent.py.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from agent.config import Settings
from agent.engine import Engine
from agent.reply import Reply
from tests.agent.test_review_flow import audited

AMOUNT = "98765.43"
CLIENT = "Quuxcorp Ltd"
EMAIL = "zelda.quux@quuxcorp-billing.example"
TOKENS = {
    "TELEGRAM_BOT_TOKEN": "918273645:AAQuuxFakeTelegramTokenZz9_marker",
    "GITHUB_TOKEN": "ghp_QuuxFakeGithubToken0123456789marker",
    "OPENAI_API_KEY": "sk-QuuxFakeOpenAIKey0123456789marker",
}
MARKERS = [AMOUNT, CLIENT, EMAIL, *TOKENS.values()]
A, B = "tg:5550001", "tg:5550002"


def payments(path: Path) -> Path:
    """One large payment from the marked client (so the total is the marked figure), and
    payments from others the year before, so that growth and retention are computed."""
    path.write_text(
        "date,client,contact,amount,stream,currency\n"
        f"2026-10-02,{CLIENT},{EMAIL},{AMOUNT},consulting,EUR\n"
        "2025-09-10,Borealis Retail,ops@borealis.example,1200,consulting,EUR\n"
        f"2025-06-01,{CLIENT},{EMAIL},800,consulting,EUR\n"
    )
    return path


def export_of(reply: Reply) -> dict[str, Any]:
    assert reply.attachments, reply.text
    data: dict[str, Any] = json.loads(reply.attachments[0].path.read_text())
    return data


def rows_of(export: dict[str, Any]) -> set[tuple[str, int]]:
    return {
        (table, row["id"])
        for table, rows in export.items()
        if isinstance(rows, list)
        for row in rows
    }


def test_markers_stay_out_of_logs_and_other_exports(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Set after the engine exists: an OpenAI key would otherwise switch the language model on.
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)
    engine.settings = Settings()  # the operator's tokens are configured (read once, as at start)
    caplog.set_level(logging.DEBUG)

    engine.handle_sync(A, "/start")
    assert "recorded" in engine.handle_sync(A, "/consent grant income_csv").text
    connected = engine.handle_sync(A, f"/connect income_csv {payments(tmp_path / 'pay.csv')}")
    assert connected.data is not None and connected.data["evidence"], connected.text
    audited(engine, A, consents="income_csv")
    report = engine.handle_sync(A, "/report md")
    assert report.attachments, report.text
    mine = export_of(engine.handle_sync(A, "/export"))

    engine.handle_sync(B, "/start")
    theirs = export_of(engine.handle_sync(B, "/export"))

    # The checks below could fail: A's own export holds A's figures and rows.
    mine_text = json.dumps(mine)
    assert AMOUNT in mine_text and mine["audits"] and mine["connector_results"]
    assert any("income" in r["source"] for r in mine["connector_results"])
    # ...and the log did record this conversation, the connector included.
    assert any("connector income_csv" in r.getMessage() for r in caplog.records)

    theirs_text = json.dumps(theirs)
    for marker in MARKERS:
        assert marker not in theirs_text, marker
    assert A not in theirs_text and theirs["user"]["external_id"] == B
    assert not theirs["audits"] and not theirs["connector_results"]
    assert not rows_of(mine) & rows_of(theirs)
    b_ids = {row["user_id"] for rows in theirs.values() if isinstance(rows, list) for row in rows}
    a_ids = {row["user_id"] for rows in mine.values() if isinstance(rows, list) for row in rows}
    assert len(b_ids) == 1 and not b_ids & a_ids

    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    formatted = "\n".join(formatter.format(r) for r in caplog.records)
    for marker in MARKERS:
        assert marker not in caplog.text, marker
        assert marker not in formatted, marker
        assert not any(marker in r.getMessage() for r in caplog.records), marker
