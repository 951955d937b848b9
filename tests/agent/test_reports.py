"""Reports and charts: valid HTML, the audit's own numbers, real PNG files of the right size."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import struct
from pathlib import Path
from typing import Any

import html5lib
import pytest

from agent import history
from agent.engine import Engine
from agent.store import ReviewDecision, Store
from tests.agent.test_review_flow import audited
from tools.errors import StorageError
from tools.params import METHODOLOGY_VERSION


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def reported(engine: Engine, store: Store) -> tuple[Engine, Store]:
    audited(engine, "kai")
    return engine, store


def test_html_report_is_valid_and_carries_the_audit_numbers(reported: tuple[Engine, Store]) -> None:
    engine, store = reported
    reply = engine.handle_sync("kai", "/report html")
    html = reply.attachments[0].path.read_text()
    html5lib.HTMLParser(strict=True).parse(html)  # raises on any parse error
    with store.user("kai") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        result = audit.result
    assert f"<strong>{result['overall']['score']}</strong>" in html
    for pillar in result["pillars"].values():
        assert (
            f"<td>{pillar['title']}</td><td>{round(pillar['weight'] * 100)}%</td><td>{pillar['score']}</td>"
            in html
        )
    for gap in result["top_gaps"]:
        assert gap["name"] in html
    assert "What to learn next" in html and "https://" in html


def test_markdown_and_json_reports(reported: tuple[Engine, Store]) -> None:
    engine, _ = reported
    markdown = engine.handle_sync("kai", "/report").attachments[0].path.read_text()
    for heading in ("## Summary", "## Top gaps", "## What to learn next", "## Career pulse", "## Model audit",
                    "## Power skills", "## Review", "## Next audit"):  # fmt: skip
        assert heading in markdown
    assert f"methodology {METHODOLOGY_VERSION}" in markdown and "(docs/methodology.md)" in markdown
    # Tasks, metrics and legal bases are named in words, never by their ids.
    model = markdown.split("## Model audit", 1)[1].split("\n## ", 1)[0]
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", model), model
    data = json.loads(engine.handle_sync("kai", "/report json").attachments[0].path.read_text())
    assert data["state"] == "draft" and len(data["recommendations"]) >= 3 and data["plan"]["items"]


def test_every_report_format_explains_its_numbers_and_shows_client_concentration(
    reported: tuple[Engine, Store],
) -> None:
    engine, _ = reported
    concentration = "60% of your income comes from one client"
    markdown = engine.handle_sync("kai", "/report").attachments[0].path.read_text()
    assert "## How to read this" in markdown and concentration in markdown
    for meaning in (
        "**Overall.**",
        "**Confidence.**",
        "**Demand.**",
        "**Gap.**",
        "**Career pulse.**",
    ):
        assert meaning in markdown
    assert "Why they rank where they do" in markdown and "severity" in markdown
    html = engine.handle_sync("kai", "/report html").attachments[0].path.read_text()
    html5lib.HTMLParser(strict=True).parse(html)
    assert "How to read this" in html and concentration in html
    data = json.loads(engine.handle_sync("kai", "/report json").attachments[0].path.read_text())
    explain = data["result"]["explain"]
    assert any(concentration in line for line in explain["income"])
    assert explain["overall"] and explain["confidence"] and explain["pulse"]
    assert data["result"]["income"]["concentration_risk"] is True
    assert any(p["kind"] == "client_concentration" for p in data["review"])


def test_charts_are_real_pngs(reported: tuple[Engine, Store]) -> None:
    engine, _ = reported
    radar = engine.handle_sync("kai", "/report").attachments[1]
    assert png_size(radar.path) == (600, 600)
    progress = engine.handle_sync("kai", "/progress").attachments[0]
    assert progress.kind == "image" and png_size(progress.path) == (800, 480)


class _FullDisk:
    """A file object that writes part of the data, then fails as a full disk does."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()

    def write(self, text: str) -> int:
        self.real.write(text[: len(text) // 2])
        self.real.flush()
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("command", ["/report html", "/report md", "/export"])
def test_a_full_disk_gives_a_clear_error_and_leaves_no_half_file(
    reported: tuple[Engine, Store], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    engine, store = reported
    real_fdopen = os.fdopen
    engine.handle_sync("kai", "/review")  # in a flow, to see that it survives the failure
    with store.user("kai") as scope:
        where = scope.active_flows()[0].position
    monkeypatch.setattr(history.os, "fdopen", lambda *a, **k: _FullDisk(real_fdopen(*a, **k)))
    with pytest.raises(StorageError) as failure:
        engine.handle_sync("kai", command)
    assert "the disk is full" in str(failure.value) and "Nothing was written" in str(failure.value)
    folder = engine.settings.user_dir("kai")
    left = [
        p.name for p in folder.rglob("*") if p.is_file() and p.suffix in (".md", ".html", ".json")
    ]
    left += [p.name for p in folder.rglob(".*") if p.is_file()]
    assert left == [], left  # neither the report nor its temporary file
    monkeypatch.undo()
    with store.user("kai") as scope:
        assert scope.active_flows()[0].position == where  # the message was rolled back
    reply = engine.handle_sync("kai", command)  # space again: the same command works
    assert reply.attachments and reply.attachments[0].path.exists()


def test_a_full_disk_in_the_repl_and_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The REPL prints one error line and keeps going; `skillaudit export` exits 2 with it."""
    import io

    from rich.console import Console
    from typer.testing import CliRunner

    from bots.chat import repl
    from bots.cli import app

    monkeypatch.setenv("SKILLAUDIT_HOME", str(tmp_path))
    real_fdopen = os.fdopen
    monkeypatch.setattr(history.os, "fdopen", lambda *a, **k: _FullDisk(real_fdopen(*a, **k)))
    out = io.StringIO()
    repl("dee", stdin=io.StringIO("/export\nml engineer\n"), console=Console(file=out, width=200))
    text = out.getvalue()
    assert "error: I could not save" in text and "the disk is full" in text
    assert "Noted: Machine Learning Engineer" in text and "Traceback" not in text
    result = CliRunner().invoke(app, ["export", "--user", "dee"])
    assert result.exit_code == 2 and "the disk is full" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_why_after_an_audit_explains_its_numbers(reported: tuple[Engine, Store]) -> None:
    engine, _ = reported
    text = engine.handle_sync("kai", "why?").text
    assert "What the numbers of your audit" in text
    for part in ("Overall:", "Confidence", "Gap:", "Demand:", "Career pulse", "one client"):
        assert part in text


def test_reports_show_prerequisites_uncovered_gaps_unverified_links_and_the_shorter_plan(
    reported: tuple[Engine, Store],
) -> None:
    """What the chat says about a plan, every report format says too."""
    _, store = reported
    with store.user("kai") as scope:
        audit = scope.latest_audit()
        plan = scope.latest_plan(audit)
        assert audit is not None and plan is not None
        first = dict(plan.recommendations[0], role="prerequisite", verified=False)
        item = {"id": "x", "title": "A Short Course", "url": "https://example.org/x",
                "skill": "docker", "start": "2026-12-07", "end": "2026-12-14", "hours": 3.0,
                "level": "beginner", "role": "gap"}  # fmt: skip
        scope.update_row(
            plan,
            recommendations=[first, *plan.recommendations[1:]],
            plan={
                **plan.plan,
                "notes": ["This plan ends after your next audit."],
                "uncovered": [
                    {
                        "skill": "jax",
                        "name": "JAX",
                        "reason": "Nothing at your level.",
                        "project_idea": "Port a small model to JAX.",
                    }
                ],
                "shorter": {"weekly_hours": 5, "notes": [], "items": [item]},
            },
        )
        decisions = scope.decisions("audit", audit.id)
        texts = {fmt: history.render_report(audit, decisions, plan, fmt) for fmt in ("md", "html")}
    for fmt, text in texts.items():
        assert "do this first" in text and "link not yet re-checked" in text, fmt
        assert "Nothing in the catalog fits" in text and "Port a small model to JAX." in text, fmt
        assert "A shorter plan that ends before the next audit" in text, fmt
        assert "A Short Course" in text and "This plan ends after your next audit." in text, fmt


def test_review_lines_read_older_records_and_the_reviewers_decisions(
    reported: tuple[Engine, Store],
) -> None:
    """Decisions stored before "before" was kept, and a reviewer's approval, in words."""
    _, store = reported
    with store.user("kai") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        prompt = next(p for p in audit.prompts if p.kind == "self_rating_only")
        [skill] = prompt.skills
        name = next(s.name for s in audit.audit.skills if s.id == skill)
        older = ReviewDecision(
            prompt_id=prompt.id, decision="adjust", value={skill: 3.0}, reason="a colleague checked",
            decided_by="kai", decided_at=dt.datetime(2026, 11, 30, 10, 11, 37, 304622),
        )  # fmt: skip
        approval = ReviewDecision(
            prompt_id="reviewer", decision="approve", value={}, reason="fine by me",
            decided_by="lead", decided_at=dt.datetime(2026, 11, 30, 11, 0, tzinfo=dt.UTC),
        )  # fmt: skip
        confirm = ReviewDecision(
            prompt_id="no_evidence", decision="confirm", value={}, reason="",
            decided_by="lead", decided_at=dt.datetime(2026, 11, 30, 11, 5),
        )  # fmt: skip
        data = history.report_data(audit, [older, approval, confirm], None, [], owner="kai")
    assert data["review_lines"][:2] == [
        f"{name}: 3/5, because 'a colleague checked' (30 Nov 2026 10:11)",
        "Approved by your reviewer: 'fine by me' (30 Nov 2026 11:00)",
    ]
    assert data["review_lines"][2].endswith(": confirmed (30 Nov 2026 11:05 by your reviewer)")
    assert [d["at"] for d in data["decisions"]] == [
        "2026-11-30T10:11:37+00:00", "2026-11-30T11:00:00+00:00", "2026-11-30T11:05:00+00:00",
    ]  # fmt: skip


def test_the_markdown_report_keeps_user_text_inert(reported: tuple[Engine, Store]) -> None:
    """A review reason, a user id or a CV line with HTML or a link stays text (finding F17)."""
    _, store = reported
    hostile = "<script>alert(1)</script> [click](javascript:alert(1)) a|b"
    with store.user("kai") as scope:
        audit = scope.latest_audit()
        assert audit is not None
        scope.add_decision(
            audit_id=audit.id, subject="audit", subject_id=audit.id, prompt_id="x",
            decision="adjust", value={}, reason=hostile, decided_by="kai",
        )  # fmt: skip
        decisions = scope.decisions("audit", audit.id)
        text = history.render_report(audit, decisions, scope.latest_plan(audit), "md")
    assert "<script>" not in text, text[text.find("<script>") - 300 : text.find("<script>") + 80]
    assert not re.search(r"(?<!\\)\]\(javascript:", text)  # no link a viewer would follow
    assert "&lt;script>" in text and "\\[click\\]" in text
    assert "| skill |" in text or "|---" in text  # the template's own tables are untouched
