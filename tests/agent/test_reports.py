"""Reports and charts: valid HTML, the audit's own numbers, real PNG files of the right size."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import html5lib
import pytest

from agent.engine import Engine
from agent.store import Store
from tests.agent.test_review_flow import audited


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
    assert "methodology 1.1.0" in markdown and "(docs/methodology.md)" in markdown
    data = json.loads(engine.handle_sync("kai", "/report json").attachments[0].path.read_text())
    assert data["state"] == "draft" and len(data["recommendations"]) == 3 and data["plan"]["items"]


def test_charts_are_real_pngs(reported: tuple[Engine, Store]) -> None:
    engine, _ = reported
    radar = engine.handle_sync("kai", "/report").attachments[1]
    assert png_size(radar.path) == (600, 600)
    progress = engine.handle_sync("kai", "/progress").attachments[0]
    assert progress.kind == "image" and png_size(progress.path) == (800, 480)
