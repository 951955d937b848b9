"""The field report's fifteen plausible mistakes that ended in a traceback (exit 1), run as
the report ran them: the real `skillaudit audit --profile FILE --json`, which stores the
audit (not the dry run the property tests in test_bad_files.py use). Each must be one line
naming the problem and exit 2, and nothing is stored; a name made of terminal markup is
printed as text.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.cli_process import run_cli

ROOT = Path(__file__).resolve().parents[2]
HEAD = "user: p\ntarget_role: ml engineer\n"
MISTAKES = {
    "date_feb_30": HEAD + "certificates:\n  - {name: c, date: 2024-02-30, skills: [python]}\n",
    "date_month_13": HEAD + "certificates:\n  - {name: c, date: 2024-13-01, skills: [python]}\n",
    "date_year_0": HEAD + "certificates:\n  - {name: c, date: 0000-01-01, skills: [python]}\n",
    "tag_float_bad": HEAD + "years_experience: !!float abc\n",
    "tag_int_bad": HEAD + "years_experience: !!int abc\n",
    "tag_timestamp_bad": HEAD + "last_full_audit: !!timestamp abc\n",
    "int_5000_digits": HEAD + "years_experience: " + "9" * 5000 + "\n",
    "json_int_5000_digits": '{"user": "p", "target_role": "ml engineer", "years_experience": ' + "9" * 5000 + "}",
    "inf_income_amount": HEAD + "income:\n  - {date: 2026-01-01, amount: .inf, client: a}\n",
    "huge_income_amount": HEAD + "income:\n  - {date: 2026-01-01, amount: 1.0e+308, client: a}\n  - {date: 2026-02-01, amount: 1.0e+308, client: a}\n",
    "json_inf_income": '{"user": "p", "target_role": "ml engineer", "income": [{"date": "2026-01-01", "amount": Infinity, "client": "a"}]}',
    "nan_metric_latency": HEAD + "models:\n  - {name: m, task: tabular_binary, date: 2026-09-30, metrics: {latency_ms: .nan}}\n",
}  # fmt: skip


def audit(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(SKILLAUDIT_HOME=str(home), PYTHONPATH=str(ROOT), COLUMNS="300")
    return run_cli(["audit", *args], env, home, timeout=300)


def audits_stored(home: Path) -> int:
    if not (home / "skillaudit.db").exists():
        return 0
    with sqlite3.connect(home / "skillaudit.db") as raw:
        return int(raw.execute("select count(*) from audits").fetchone()[0])


def assert_one_line_exit_2(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr[-1500:])
    assert "Traceback" not in done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr[-1500:]
    assert len(lines[0]) < 500  # short: it names the problem, never echoes the file
    return lines[0]


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_mistake_is_one_line_and_exit_2(tmp_path: Path, name: str) -> None:
    profile = tmp_path / (name + (".json" if name.startswith("json") else ".yaml"))
    profile.write_text(MISTAKES[name], encoding="utf-8")
    assert_one_line_exit_2(audit(tmp_path, "--profile", str(profile), "--json"))
    assert audits_stored(tmp_path) == 0


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_link_to_an_endless_device_is_one_line(tmp_path: Path, device: str) -> None:
    link = tmp_path / "profile.yaml"
    link.symlink_to(device)
    assert "not a regular file" in assert_one_line_exit_2(
        audit(tmp_path, "--profile", str(link), "--json")
    )


def test_a_date_past_any_schedule_is_one_line(tmp_path: Path) -> None:
    example = ROOT / "docs" / "examples" / "freelancer.yaml"
    line = assert_one_line_exit_2(
        audit(tmp_path, "--profile", str(example), "--as-of", "9999-12-31")
    )
    assert "--as-of" in line


def test_markup_in_a_name_is_printed_as_text(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    for name in ("[/oops]", "[bold red]PWN[/bold red] [link=https://evil.example]x[/link]"):
        profile.write_text(f"user: '{name}'\ntarget_role: ml engineer\n", encoding="utf-8")
        done = audit(tmp_path, "--profile", str(profile), "--dry-run")
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-1500:]
        assert name in done.stdout  # the brackets are shown, not interpreted
        assert "\x1b]8;" not in done.stdout  # no terminal hyperlink
