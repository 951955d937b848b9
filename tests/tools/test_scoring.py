"""Properties of MLSAF scoring: ranges, monotonicity, order independence, the exact gap formula."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.base import KnowledgeBase
from knowledge.schema import Pillar
from tests.conftest import AS_OF
from tools.params import DEFAULT_PARAMS, SourceKind
from tools.results import Evidence, SkillStatus
from tools.scoring import fuse, pillar_scores, score_skills, skill_gap, top_gaps

SKILLS = ["python", "pytorch", "kubernetes", "docker", "bias_testing", "communication", "sql"]
evidence_items = st.builds(
    Evidence,
    skill=st.sampled_from(SKILLS),
    source=st.sampled_from(list(SourceKind)),
    strength=st.floats(0, 1),
    observed=st.dates(dt.date(2018, 1, 1), AS_OF),
    origin=st.just("test"),
)


def run(kb: KnowledgeBase, items: list[Evidence], role: str = "ml_engineer") -> dict[str, object]:
    skills = score_skills(
        items, kb, kb.roles[role], dict(DEFAULT_PARAMS.pillar_weights), AS_OF, DEFAULT_PARAMS
    )
    pillars = pillar_scores(skills, dict(DEFAULT_PARAMS.pillar_weights))
    return {"skills": skills, "pillars": pillars}


@given(demand=st.floats(1, 100), proficiency=st.floats(0, 100))
def test_gap_formula_is_exact(demand: float, proficiency: float) -> None:
    gap, surplus = skill_gap(demand, proficiency)
    raw = (demand - proficiency) / demand
    assert gap == min(1.0, max(0.0, raw))
    assert surplus == max(0.0, -raw)
    assert 0 <= gap <= 1 and surplus >= 0
    assert gap == 0 or surplus == 0


@settings(max_examples=60, deadline=None)
@given(items=st.lists(evidence_items, max_size=12))
def test_scores_stay_in_range(kb: KnowledgeBase, items: list[Evidence]) -> None:
    result = run(kb, items)
    for skill in result["skills"]:  # type: ignore[attr-defined]
        assert 0 <= skill.confidence <= 1
        if skill.proficiency is not None:
            assert 0 <= skill.proficiency <= 100
            assert 0 <= skill.interval[0] <= skill.proficiency <= skill.interval[1] <= 100
            assert 0 <= skill.gap <= 1
    for pillar in result["pillars"].values():  # type: ignore[attr-defined]
        assert pillar.score is None or 0 <= pillar.score <= 100
        assert 0 <= pillar.coverage <= 1 and 0 <= pillar.confidence <= 1


@settings(max_examples=40, deadline=None)
@given(items=st.lists(evidence_items, min_size=1, max_size=10), seed=st.integers(0, 2**32))
def test_order_does_not_matter(kb: KnowledgeBase, items: list[Evidence], seed: int) -> None:
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    assert run(kb, items) == run(kb, shuffled)


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(evidence_items, max_size=8),
    extra=evidence_items,
    low=st.floats(0, 1),
    high=st.floats(0, 1),
)
def test_monotonic_in_evidence_strength(
    kb: KnowledgeBase, items: list[Evidence], extra: Evidence, low: float, high: float
) -> None:
    low, high = min(low, high), max(low, high)
    weak = run(kb, [*items, extra.model_copy(update={"strength": low})])
    strong = run(kb, [*items, extra.model_copy(update={"strength": high})])
    for a, b in zip(weak["skills"], strong["skills"], strict=True):  # type: ignore[call-overload]
        if a.proficiency is not None:
            assert b.proficiency >= a.proficiency - 1e-9
            assert b.gap <= a.gap + 1e-9
    for pillar in Pillar:
        a_score = weak["pillars"][pillar].score  # type: ignore[index]
        b_score = strong["pillars"][pillar].score  # type: ignore[index]
        if a_score is not None:
            assert b_score >= a_score - 0.1  # pillar scores are rounded to 0.1


def test_fusion_matches_the_formula() -> None:
    items = [
        Evidence(
            skill="python", source=SourceKind.SELF_RATING, strength=0.8, observed=AS_OF, origin="t"
        ),
        Evidence(
            skill="python",
            source=SourceKind.CODE,
            strength=0.5,
            observed=AS_OF - dt.timedelta(days=730),
            origin="t",
        ),
    ]
    fused = fuse(items, AS_OF, DEFAULT_PARAMS)
    assert fused is not None
    w_self, w_code = 0.35, 0.80 * 0.5
    assert fused.proficiency == pytest.approx((w_self * 80 + w_code * 50) / (w_self + w_code))
    assert fused.confidence == pytest.approx((w_self + w_code) / (w_self + w_code + 1))


def test_self_rating_alone_is_low_confidence(kb: KnowledgeBase) -> None:
    items = [
        Evidence(
            skill="python",
            source=SourceKind.SELF_RATING,
            strength=1.0,
            observed=AS_OF,
            origin=f"t{i}",
        )
        for i in range(20)
    ]
    python = next(s for s in run(kb, items)["skills"] if s.id == "python")  # type: ignore[attr-defined]
    assert python.status == SkillStatus.SELF_RATED
    assert python.confidence == DEFAULT_PARAMS.self_only_confidence_cap
    code = Evidence(
        skill="python", source=SourceKind.CODE, strength=1.0, observed=AS_OF, origin="c"
    )
    measured = next(s for s in run(kb, [*items, code])["skills"] if s.id == "python")  # type: ignore[attr-defined]
    assert measured.status == SkillStatus.MEASURED and measured.confidence > python.confidence


def test_unrated_role_skills_are_unknown_not_zero(kb: KnowledgeBase) -> None:
    items = [
        Evidence(skill="python", source=SourceKind.CODE, strength=0.9, observed=AS_OF, origin="t")
    ]
    result = run(kb, items)
    by_id = {s.id: s for s in result["skills"]}  # type: ignore[attr-defined]
    assert by_id["kubernetes"].status == SkillStatus.UNKNOWN
    assert by_id["kubernetes"].proficiency is None and by_id["kubernetes"].gap is None
    lifecycle = result["pillars"][Pillar.LIFECYCLE]  # type: ignore[index]
    assert lifecycle.skills_unknown > 0 and lifecycle.coverage < 1
    # The pillar score is computed over known skills only; zeros for unknown ones would lower it.
    technical = [s for s in by_id.values() if s.pillar == Pillar.TECHNICAL and s.relevance > 0]
    known = [s for s in technical if s.gap is not None]
    weight = sum(s.relevance * s.demand * s.confidence for s in known)
    expected = 100 * (
        1 - sum(s.relevance * s.demand * s.confidence * s.gap for s in known) / weight
    )
    assert result["pillars"][Pillar.TECHNICAL].score == pytest.approx(expected, abs=0.05)  # type: ignore[index]
    assert any(s.gap is None for s in technical)


def test_transfer_fills_unknown_skills_only(kb: KnowledgeBase) -> None:
    software = Evidence(
        skill="software_engineering",
        source=SourceKind.CODE,
        strength=0.9,
        observed=AS_OF,
        origin="t",
    )
    skills = {s.id: s for s in run(kb, [software])["skills"]}  # type: ignore[attr-defined]
    targets = [r.skill for r in kb.skills["software_engineering"].related]
    inferred = [skills[t] for t in targets if t in skills]
    assert inferred and all(s.status == SkillStatus.INFERRED for s in inferred)
    assert all(s.confidence <= DEFAULT_PARAMS.inferred_confidence_cap for s in inferred)
    assert all("software_engineering" in s.inferred_from for s in inferred)
    direct = Evidence(
        skill=targets[0], source=SourceKind.SELF_RATING, strength=0.2, observed=AS_OF, origin="t"
    )
    again = {s.id: s for s in run(kb, [software, direct])["skills"]}  # type: ignore[attr-defined]
    assert again[targets[0]].status == SkillStatus.SELF_RATED
    assert again[targets[0]].proficiency == 20.0


def test_top_gaps_rank_by_severity_and_skip_inferred(kb: KnowledgeBase) -> None:
    items = [
        Evidence(skill=s, source=SourceKind.SELF_RATING, strength=0.2, observed=AS_OF, origin="t")
        for s in ("python", "kubernetes", "bias_testing", "communication")
    ] + [
        Evidence(
            skill="software_engineering",
            source=SourceKind.CODE,
            strength=0.9,
            observed=AS_OF,
            origin="t",
        )
    ]
    skills = run(kb, items)["skills"]
    gaps = top_gaps(skills, 5)  # type: ignore[arg-type]
    assert [g.severity for g in gaps] == sorted((g.severity for g in gaps), reverse=True)
    assert all(g.status != SkillStatus.INFERRED for g in gaps)
    # Python weighs most: the technical pillar (0.4) and an expert level for an ML engineer.
    assert gaps[0].skill == "python"
