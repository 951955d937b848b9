"""Question counters a person can trust: "(n/M)" counts up by one and M never grows, whatever
the answers skip or add (Telegram finding 19)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
import yaml

from agent.engine import Engine

COUNTER = re.compile(r"\((\d+)/(\d+)\) ")
REVIEW = re.compile(r"Review (\d+)/(\d+):")
FULL_AUDIT = Path(__file__).parent / "transcripts" / "full_audit.yaml"


def said_in_full_audit() -> list[str]:
    return [step["say"] for step in yaml.safe_load(FULL_AUDIT.read_text())["steps"]]


def replace_answer(answers: list[str], after: str, new: list[str], drop: int) -> list[str]:
    index = answers.index(after) + 1
    return answers[:index] + new + answers[index + drop :]


FREELANCER = said_in_full_audit()  # three clients, a model with personal data
# No clients (the biggest client's share is not asked), no model (its five questions go).
EMPLOYEE = replace_answer(
    replace_answer(FREELANCER, "spark 3, airflow 2", ["none"], drop=2),
    "projects, books",
    ["no"],
    drop=6,
)


def counters(engine: Engine, user: str, messages: list[str]) -> list[tuple[int, int]]:
    seen = []
    for message in messages:
        reply = engine.handle_sync(user, message)
        found = COUNTER.findall(reply.text)
        seen += [(int(n), int(total)) for n, total in found]
    return seen


@pytest.mark.parametrize("messages", [FREELANCER, EMPLOYEE], ids=["freelancer", "employee"])
def test_the_total_never_grows_and_the_last_question_is_the_last(
    engine: Engine, messages: list[str]
) -> None:
    seen = counters(engine, "person", messages)
    assert len(seen) >= 10, seen
    numbers = [n for n, _ in seen]
    assert numbers == list(range(1, len(seen) + 1)), f"not counted one by one: {seen}"
    totals = [total for _, total in seen]
    assert all(b <= a for a, b in itertools.pairwise(totals)), seen
    assert seen[-1][0] == seen[-1][1], f"the last question is not counted as the last: {seen}"


def test_skipped_follow_ups_shrink_the_total_at_once(engine: Engine) -> None:
    freelancer = counters(engine, "freelancer", FREELANCER)
    employee = counters(engine, "employee", EMPLOYEE)
    assert freelancer[0][1] == employee[0][1], "both start from the same total"
    assert employee[-1][1] < freelancer[-1][1]


def test_a_review_that_gains_points_says_why(engine: Engine) -> None:
    """Adjusting ratings re-scores the audit, which can raise new points (Python 4 -> 0 makes
    a large change): the total may then grow, but never without a word."""
    for message in FREELANCER:
        engine.handle_sync("ana", message)
    grew = 0
    total = None
    script = ["/review", "adjust", "docker 5", "I run it daily", "adjust", "python 0", "not used"]
    for message in [*script, *["confirm"] * 12]:
        reply = engine.handle_sync("ana", message)
        found = REVIEW.search(reply.text)
        if found is None:
            continue
        if total is not None and int(found.group(2)) > total:
            assert "raised 1 new point to review" in reply.text, reply.text
            grew += 1
        elif total is not None:
            assert "new point" not in reply.text, reply.text
        total = int(found.group(2))
    assert grew == 1, "the scripted adjustment raises exactly one new point"


def test_a_pillar_known_only_by_transfer_says_so(engine: Engine) -> None:
    """Ethics left out (skipped) but estimated from related skills: its pillar score is shown
    as an estimate, in the chat and the report, and the rated pillars are not."""
    ethics = "explainability a bit, bias testing beginner, privacy 2"
    messages = replace_answer(FREELANCER, "docker 2, k8s 1, dokcer 2", ["skip", "skip"], drop=2)
    assert ethics not in messages
    for message in messages[:-1]:
        engine.handle_sync("eve", message)
    summary = engine.handle_sync("eve", messages[-1]).text
    lines = {line.split(" (")[0]: line for line in summary.splitlines() if line.startswith("- ")}
    assert "estimated from related skills only" in lines["- Ethical Governance"], summary
    for rated in ("- Technical Proficiency", "- Model Lifecycle Management"):
        assert "related skills" not in lines[rated], summary
    reply = engine.handle_sync("eve", "/report").text
    saved = re.search(r"Saved at (\S+\.md)", reply)
    assert saved is not None, reply
    table = [
        line for line in Path(saved.group(1)).read_text().splitlines() if line.startswith("| ")
    ]
    marked = [line.split(" |")[0] for line in table if "(from related skills only)" in line]
    assert marked == ["| Ethical Governance"], table
