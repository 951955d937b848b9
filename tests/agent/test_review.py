"""Every review finding the tools can raise has a question and a why in prompts/review/."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from agent.review import render_prompts
from knowledge.base import KnowledgeBase
from prompts.loader import PromptError, load_data, render_string
from tests.conftest import AS_OF
from tools.audit import run_audit
from tools.profile import Profile
from tools.results import ReviewFinding
from tools.review import MODEL_REVIEW_CODES

TOOLS = Path(__file__).resolve().parents[2] / "tools"


def raised_kinds() -> set[str]:
    source = (TOOLS / "review.py").read_text()
    kinds = set(re.findall(r'kind="([a-z_]+)"', source)) | set(
        re.findall(r'_group\("([a-z_]+)"', source)
    )
    kinds |= {f"power_skills_{s}" for s in ("not_assessed", "far_below")}
    kinds |= {f"model_{c}" for c in MODEL_REVIEW_CODES}
    return kinds


def test_every_kind_has_texts() -> None:
    texts = load_data("review/audit.yaml")
    missing = {k for k in raised_kinds() if k not in texts and not k.startswith("{")}
    assert not missing
    assert all({"question", "why"} <= set(t) for t in texts.values())


def test_rendering_fills_the_facts() -> None:
    finding = ReviewFinding(
        id="self_rating_only:kubernetes",
        kind="self_rating_only",
        skills=["kubernetes"],
        facts={
            "name": "Kubernetes",
            "proficiency": 40.0,
            "demand": 80.0,
            "gap": 0.5,
            "confidence": 0.26,
        },
    )
    [prompt] = render_prompts([finding])
    assert "Kubernetes is scored 40.0 (demand 80.0)" in prompt.question
    assert prompt.status == "open" and prompt.options == ["confirm", "adjust", "why"]


def test_a_missing_variable_fails_loudly() -> None:
    with pytest.raises(PromptError, match="name"):
        render_string("{{ name }} is missing")
    finding = ReviewFinding(id="x", kind="self_rating_only", skills=[], facts={})
    with pytest.raises(PromptError):
        render_prompts([finding])


def test_review_prompts_of_an_audit_show_numbers_as_its_summary_does(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    """A self-rating-only prompt said "scored 0.0 (demand 78.0) ... confidence is only 0.259"
    where the audit's summary says "0 vs demand 78 ... confidence 0.26"."""
    profile = make_profile(self_ratings={"python": 0, "docker": 3})
    result = run_audit(profile, kb, AS_OF)
    prompts = render_prompts(result.review)
    self_rated = [p for p in prompts if p.kind == "self_rating_only"]
    assert self_rated
    for prompt in prompts:
        assert not re.search(r"\d\.0\b(?!\d)|\d\.\d{3,}", prompt.question), prompt.question
    python = next(p for p in self_rated if p.skills == ["python"])
    assert re.search(r"Python is scored 0 \(demand \d+\)", python.question), python.question
    assert re.search(r"confidence is only 0\.\d\d?\.", python.question), python.question


@pytest.mark.parametrize("kind", ["self_rating_only_rest", "no_evidence", "inferred_only"])
@pytest.mark.parametrize("count", [1, 8, 15])
def test_a_group_of_skills_is_counted_as_it_is_listed(kind: str, count: int) -> None:
    """'15 skills are estimated ... (8 names)' listed fewer than it counted."""
    names = [f"Skill {i}" for i in range(count)]
    finding = ReviewFinding(id=kind, kind=kind, skills=[], facts={"names": names, "count": count})
    [prompt] = render_prompts([finding])
    listed = sum(name in prompt.question for name in names)
    more = re.search(r"and (\d+) more", prompt.question)
    assert listed + (int(more.group(1)) if more else 0) == count, prompt.question
    if count == 1:
        assert not re.search(r"\b1 (?:more )?(?:required )?skills\b", prompt.question)
        assert not re.search(r"\b(?:are|They|they|ones|those)\b", prompt.question), prompt.question
