"""Years in a field outside ML set against a low self-rating of a skill that field builds."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from knowledge.base import KnowledgeBase
from tests.conftest import AS_OF
from tools.audit import run_audit
from tools.profile import Profile

LOW = {"software_engineering": 1, "git": 1, "api_development": 1, "python": 4, "docker": 1}


def _kinds(
    make_profile: Callable[..., Profile], kb: KnowledgeBase, **fields: object
) -> dict[str, str]:
    result = run_audit(make_profile(self_ratings=LOW, **fields), kb, AS_OF)
    return {f.skills[0]: f.kind for f in result.review if f.id.startswith("self_rating_only:")}


def test_eight_years_of_software_question_a_software_engineering_rating_of_one(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    kinds = _kinds(make_profile, kb, experience_elsewhere={"software": 8})
    assert kinds["software_engineering"] == "self_rating_vs_experience"
    result = run_audit(
        make_profile(self_ratings=LOW, experience_elsewhere={"software": 8}), kb, AS_OF
    )
    finding = next(f for f in result.review if f.skills == ["software_engineering"])
    assert finding.facts["field"] == "software development" and str(finding.facts["years"]) == "8"
    # A skill the field does not build keeps the plain prompt.
    assert kinds.get("docker", "self_rating_only") == "self_rating_only"


@pytest.mark.parametrize(
    "experience",
    [{}, {"software": 2}, {"statistics": 10}],
    ids=["none said", "too few years", "another field"],
)
def test_without_years_in_the_field_the_prompt_is_the_plain_one(
    make_profile: Callable[..., Profile], kb: KnowledgeBase, experience: dict[str, float]
) -> None:
    kinds = _kinds(make_profile, kb, experience_elsewhere=experience)
    assert kinds["software_engineering"] == "self_rating_only"


def test_every_field_the_interview_reads_is_one_the_review_knows() -> None:
    """agent/parsing.py reads the fields, tools/review.py says which skills they build."""
    from agent.parsing import experience_elsewhere
    from tools.review import EXPERIENCE_FIELDS

    said = experience_elsewhere("8 in software, 5 in devops, 3 as a data engineer, 4 in statistics")
    assert set(said) == set(EXPERIENCE_FIELDS)
