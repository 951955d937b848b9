"""Review findings for second opinions: a check that contradicts the self-rating, an
endorsement far from it; their prompts render from prompts/review/audit.yaml."""

from __future__ import annotations

from collections.abc import Callable

from agent.review import render_prompts
from knowledge.base import KnowledgeBase
from tests.conftest import AS_OF
from tools.audit import run_audit
from tools.params import SourceKind
from tools.profile import Profile
from tools.results import Evidence
from tools.review import CHECK_CONTRADICTION, ENDORSEMENT_DISTANCE


def item(source: SourceKind, strength: float, signal: str = "") -> Evidence:
    return Evidence(skill="python", source=source, strength=strength, observed=AS_OF,
                    origin=source.value, signal=signal, detail=f"{source.value} {strength}")  # fmt: skip


def kinds(
    make_profile: Callable[..., Profile], kb: KnowledgeBase, *extra: Evidence
) -> dict[str, str]:
    audit = run_audit(
        make_profile(self_ratings={"python": 3}), kb, AS_OF, extra_evidence=list(extra)
    )
    prompts = render_prompts([f for f in audit.review if f.skills == ["python"]])
    return {p.kind: p.question for p in prompts}


def test_a_check_far_from_the_self_rating_is_raised(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    rated = 60  # 3/5
    near = (rated + CHECK_CONTRADICTION - 1) / 100
    far_up, far_down = (rated + CHECK_CONTRADICTION) / 100, (rated - CHECK_CONTRADICTION) / 100
    assert "check_contradicts_self_rating" not in kinds(
        make_profile, kb, item(SourceKind.SKILL_CHECK, near)
    )
    up = kinds(make_profile, kb, item(SourceKind.SKILL_CHECK, far_up))[
        "check_contradicts_self_rating"
    ]
    assert "estimates 85.0" in up and "well above your own rating of 3/5 (= 60)" in up
    down = kinds(make_profile, kb, item(SourceKind.SKILL_CHECK, far_down))
    assert "well below your own rating of 3/5" in down["check_contradicts_self_rating"]
    # Only the latest check speaks: a later check that agrees settles the question.
    later = item(SourceKind.SKILL_CHECK, 0.62).model_copy(update={"observed": AS_OF})
    earlier = item(SourceKind.SKILL_CHECK, far_down).model_copy(
        update={"observed": AS_OF.replace(day=1)}
    )
    assert "check_contradicts_self_rating" not in kinds(make_profile, kb, earlier, later)


def test_an_endorsement_two_steps_away_is_raised(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    assert ENDORSEMENT_DISTANCE == 40
    one_step = kinds(make_profile, kb, item(SourceKind.PEER_REVIEW, 0.8, "client"))
    assert "endorsement_far_from_self_rating" not in one_step
    found = kinds(
        make_profile, kb,
        item(SourceKind.PEER_REVIEW, 1.0, "manager"), item(SourceKind.PEER_REVIEW, 0.2, "peer"),
    )  # fmt: skip
    question = found["endorsement_far_from_self_rating"]
    assert "A manager rated your Python 5/5, two or more steps above your own 3/5" in question
    assert "(2 endorsements differ that much)" in question
    # Without a self-rating there is nothing for the endorsement to be far from.
    audit = run_audit(make_profile(), kb, AS_OF, extra_evidence=[item(SourceKind.PEER_REVIEW, 1.0)])
    assert not [f for f in audit.review if f.kind.startswith(("endorsement_far", "check_contra"))]
