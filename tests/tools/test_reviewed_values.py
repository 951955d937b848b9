"""A value a person set in review is a decision, not evidence: it sets the skill's proficiency,
and the evidence stays beside it (docs/methodology.md, section 9)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.base import KnowledgeBase
from tests.conftest import AS_OF
from tools.audit import run_audit
from tools.params import DEFAULT_PARAMS, SourceKind
from tools.profile import Profile
from tools.results import Evidence, SkillScore, SkillStatus
from tools.scoring import fuse, score_skills

WEIGHTS = dict(DEFAULT_PARAMS.pillar_weights)


def scored(
    kb: KnowledgeBase, items: list[Evidence], reviewed: dict[str, float] | None = None
) -> dict[str, SkillScore]:
    skills = score_skills(
        items, kb, kb.roles["ml_engineer"], WEIGHTS, AS_OF, DEFAULT_PARAMS, reviewed
    )
    return {s.id: s for s in skills}


def item(skill: str, source: SourceKind, strength: float) -> Evidence:
    return Evidence(skill=skill, source=source, strength=strength, observed=AS_OF, origin="t")


def test_a_reviewed_rating_sets_the_value_and_keeps_the_evidence_beside_it(
    kb: KnowledgeBase,
) -> None:
    items = [
        item("model_evaluation", SourceKind.SELF_RATING, 0.6),
        item("model_evaluation", SourceKind.CODE, 0.95),
    ]
    before = scored(kb, items)["model_evaluation"]
    after = scored(kb, items, {"model_evaluation": 3})["model_evaluation"]
    assert before.proficiency is not None and before.proficiency > 75
    assert after.proficiency == 60.0 and after.reviewed == 3
    assert after.evidence_proficiency == before.proficiency
    # The decision adds no confidence, and the evidence behind the skill is unchanged.
    assert after.confidence == before.confidence and after.evidence == before.evidence
    assert after.status == SkillStatus.MEASURED
    demand = after.demand
    assert after.gap == pytest.approx(round(max(0.0, (demand - 60) / demand), 4))
    # The interval is centred on the decision and reaches the evidence's own estimate.
    assert after.interval is not None
    low, high = after.interval
    assert low <= 60.0 <= high and low <= before.proficiency <= high


def test_agreeing_evidence_gives_the_usual_interval(kb: KnowledgeBase) -> None:
    items = [item("docker", SourceKind.SELF_RATING, 0.6)]
    plain = scored(kb, items)["docker"]
    decided = scored(kb, items, {"docker": 3})["docker"]
    assert (decided.proficiency, decided.interval, decided.confidence) == (
        plain.proficiency,
        plain.interval,
        plain.confidence,
    )
    assert decided.reviewed == 3 and plain.reviewed is None


def test_a_decision_does_not_transfer_to_related_skills(kb: KnowledgeBase) -> None:
    """Related skills are estimated from evidence; a decision about one skill is not evidence."""
    source = "software_engineering"
    items = [item(source, SourceKind.CODE, 0.9)]
    plain = scored(kb, items)
    decided = scored(kb, items, {source: 1})
    assert decided[source].proficiency == 20.0
    related = [r.skill for r in kb.skills[source].related if r.skill in plain]
    assert related
    for skill in related:
        assert decided[skill].proficiency == plain[skill].proficiency
        assert decided[skill].status == SkillStatus.INFERRED


def test_a_decision_about_a_skill_without_evidence_has_no_confidence(kb: KnowledgeBase) -> None:
    decided = scored(kb, [item("python", SourceKind.CODE, 0.8)], {"kubernetes": 2})["kubernetes"]
    assert decided.proficiency == 40.0 and decided.confidence == 0.0
    assert decided.interval == (0.0, 90.0) and decided.evidence_proficiency is None
    assert decided.status == SkillStatus.SELF_RATED


@settings(max_examples=60, deadline=None)
@given(
    rating=st.floats(0, 5),
    strengths=st.lists(
        st.tuples(st.sampled_from(list(SourceKind)), st.floats(0, 1)), min_size=1, max_size=5
    ),
)
def test_decided_values_for_any_evidence(
    kb: KnowledgeBase, rating: float, strengths: list[tuple[SourceKind, float]]
) -> None:
    items = [item("pytorch", source, strength) for source, strength in strengths]
    fused = fuse(items, AS_OF, DEFAULT_PARAMS)
    assert fused is not None
    skill = scored(kb, items, {"pytorch": rating})["pytorch"]
    assert skill.proficiency == round(20 * rating, 1)
    assert skill.evidence_proficiency == round(fused.proficiency, 1)
    assert skill.confidence == round(fused.confidence, 3)
    assert skill.interval is not None
    low, high = skill.interval
    assert 0 <= low <= skill.proficiency <= high <= 100
    assert low <= skill.evidence_proficiency <= high


def test_an_audit_applies_the_reviewed_ratings_of_its_profile(
    kb: KnowledgeBase, make_profile: Callable[..., Profile]
) -> None:
    model = {
        "name": "churn",
        "task": "tabular binary",
        "metrics": {"roc_auc": 0.93, "pr_auc": 0.7},
        "positive_rate": 0.3,
    }
    rated = {"classical_ml": 3, "model_evaluation": 3, "python": 4}
    plain = run_audit(make_profile(self_ratings=rated, models=[model]), kb, AS_OF)
    reviewed = run_audit(
        make_profile(
            self_ratings=rated, models=[model], reviewed={"model evaluation": 2, "docker": 1}
        ),
        kb,
        AS_OF,
    )
    before = {s.id: s for s in plain.skills}
    after = {s.id: s for s in reviewed.skills}
    assert before["model_evaluation"].status == SkillStatus.MEASURED
    assert after["model_evaluation"].proficiency == 40.0
    assert after["model_evaluation"].evidence_proficiency == before["model_evaluation"].proficiency
    # A reviewed skill the person had not rated: their word counts as their self-rating too.
    assert after["docker"].proficiency == 20.0 and after["docker"].status == SkillStatus.SELF_RATED
    assert [e.origin for e in after["docker"].evidence] == ["profile.reviewed"]
    assert reviewed.overall.score != plain.overall.score
    assert after["python"] == before["python"]
