"""Hand-made personas, each with what an expert reviewer would conclude (see each file's
`expert` note). The assertions are orderings, flags and ranges, not copied outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.render import render_chat
from knowledge.base import KnowledgeBase
from knowledge.schema import Pillar
from tests.conftest import AS_OF
from tools.audit import run_audit
from tools.profile import validate_profile
from tools.results import AuditResult, SkillScore

PERSONAS = Path(__file__).parent / "personas"


def audit(name: str, kb: KnowledgeBase, **changes: Any) -> AuditResult:
    data = yaml.safe_load((PERSONAS / f"{name}.yaml").read_text(encoding="utf-8"))
    assert data["expert"].strip(), f"{name}: say what an expert would conclude"
    profile = {**data["profile"], **changes}
    return run_audit(validate_profile(profile, kb), kb, AS_OF)


def skill(result: AuditResult, sid: str) -> SkillScore:
    return next(s for s in result.skills if s.id == sid)


def created_by_model(result: AuditResult, sid: str) -> bool:
    """Whether a model's metrics gave the skill any evidence (absent skills have none)."""
    found = [s for s in result.skills if s.id == sid]
    return bool(found) and any(e.source == "model_metrics" for e in found[0].evidence)


def pillar(result: AuditResult, which: Pillar) -> float:
    score = result.pillars[which].score
    assert score is not None
    return score


def summary(result: AuditResult) -> str:
    return render_chat("audit_summary.j2", r=result, review=[], learn="")


def test_every_persona_file_is_used_and_says_what_an_expert_concludes() -> None:
    names = {p.stem for p in PERSONAS.glob("*.yaml")}
    tested = {n.removeprefix("test_") for n in globals() if n.startswith("test_")}
    assert len(names) >= 10 and names <= tested


def test_freelancer_framework_case(kb: KnowledgeBase) -> None:
    r = audit("freelancer_framework_case", kb)
    assert pillar(r, Pillar.LIFECYCLE) == min(pillar(r, p) for p in r.pillars)
    docker = skill(r, "docker")
    assert docker.gap is not None and docker.gap >= 0.25
    assert docker.proficiency is not None and docker.demand - docker.proficiency >= 10
    lifecycle_gaps = [g for g in r.top_gaps if g.pillar == Pillar.LIFECYCLE]
    assert len(lifecycle_gaps) >= 2
    assert {"docker", "model_serving"} & {g.skill for g in r.top_gaps}
    # The imbalanced-accuracy model proves nothing: no modelling skill rises above its rating.
    for sid, own in (("model_evaluation", 60), ("classical_ml", 80), ("feature_engineering", 80)):
        assert (skill(r, sid).proficiency or 0) <= own
    assert not created_by_model(r, "gradient_boosting")
    assert not created_by_model(r, "feature_engineering")
    assert r.income is not None and r.income.concentration_risk
    assert any("comes from one client" in line for line in r.explain.income)
    assert "Income: 90% of your income comes from one client" in summary(r)


def test_expert_no_ethics(kb: KnowledgeBase) -> None:
    r = audit("expert_no_ethics", kb)
    ethics = r.pillars[Pillar.ETHICS]
    assert ethics.score is None or ethics.coverage < 0.5
    assert pillar(r, Pillar.TECHNICAL) >= 85 and pillar(r, Pillar.LIFECYCLE) >= 85
    unknown = set(r.unknown_skills)
    assert {"bias_testing", "privacy_gdpr", "model_documentation"} & unknown
    review = {f.kind: f for f in r.review}
    assert "no_evidence" in review and {"bias_testing", "privacy_gdpr"} & set(
        review["no_evidence"].skills
    )
    assert "low_coverage" in review or ethics.score is None
    # Unknown is not zero: the overall stays with the known, strong pillars.
    assert r.overall.score is not None and r.overall.score >= 80
    assert "no skill of this pillar is known yet" in r.explain.pillars[Pillar.ETHICS] or (
        "known" in r.explain.pillars[Pillar.ETHICS]
    )


def test_imbalanced_modeller(kb: KnowledgeBase) -> None:
    r = audit("imbalanced_modeller", kb)
    without = audit("imbalanced_modeller", kb, models=[])
    model = r.model_audit[0]
    assert model.below_baseline and model.quality_percentile is None
    accuracy = model.metrics[0]
    assert accuracy.baseline == pytest.approx(0.98) and accuracy.percentile is None
    assert (
        (skill(r, "model_evaluation").proficiency or 0)
        < (skill(without, "model_evaluation").proficiency or 0)
        <= 40
    )
    for sid in ("feature_engineering", "gradient_boosting"):
        assert not created_by_model(r, sid)
        assert [s.proficiency for s in r.skills if s.id == sid] == [
            s.proficiency for s in without.skills if s.id == sid
        ]
    assert skill(r, "classical_ml").proficiency == skill(without, "classical_ml").proficiency
    kinds = {f.kind for f in r.review}
    assert {"model_at_or_below_baseline", "model_accuracy_on_imbalanced"} <= kinds
    assert "model_evaluation" in {g.skill for g in r.top_gaps}


def test_one_client_consultant(kb: KnowledgeBase) -> None:
    r = audit("one_client_consultant", kb)
    income = r.income
    assert income is not None and income.top_client_share == pytest.approx(0.85, abs=0.01)
    assert income.concentration_risk
    assert income.growth is not None and income.growth > 0.3  # 60,000 against 40,000
    assert income.retention == pytest.approx(0.5)  # Retail Co came back, Old Startup did not
    line = next(line for line in r.explain.income if "one client" in line)
    assert "85% of your income comes from one client" in line and "70%" in line
    finding = next(f for f in r.review if f.kind == "client_concentration")
    assert finding.facts["share"] == 85 and finding.facts["ideas"]
    text = summary(r)
    assert "85% of your income comes from one client" in text
    assert "+50%" in text and "50% of the clients" in text


def test_career_switcher(kb: KnowledgeBase) -> None:
    r = audit("career_switcher", kb)
    top = [g.skill for g in r.top_gaps]
    assert {"python", "classical_ml", "pandas"} & set(top[:3])
    assert r.overall.score is not None and r.overall.score < 75
    assert r.overall.confidence < 0.3 and "low" in r.explain.confidence
    strengths = {"domain_expertise", "communication", "stakeholder_management"}
    assert not strengths & set(top)
    assert (skill(r, "data_analysis").proficiency or 0) >= 70  # "excel 4" counts as analysis
    assert r.power_skills.status == "ok"


def test_porto_seguro_winner(kb: KnowledgeBase) -> None:
    r = audit("porto_seguro_winner", kb)
    generic = audit("porto_seguro_winner", kb, models=[
        {"name": "porto-blend", "task": "tabular_binary", "metrics": {"roc_auc": 0.6485}}
    ])  # fmt: skip
    assert (r.model_audit[0].quality_percentile or 0) >= 95
    assert (generic.model_audit[0].quality_percentile or 100) < 25
    assert "Porto Seguro" in r.model_audit[0].compared_with
    assert (skill(r, "classical_ml").proficiency or 0) > (
        skill(generic, "classical_ml").proficiency or 0
    )
    # Metrics support the task family and model evaluation, never gradient boosting itself.
    assert all(e.source != "model_metrics" for e in skill(r, "gradient_boosting").evidence)


def test_mlops_specialist(kb: KnowledgeBase) -> None:
    r = audit("mlops_specialist", kb)
    assert pillar(r, Pillar.LIFECYCLE) == max(pillar(r, p) for p in r.pillars)
    assert pillar(r, Pillar.LIFECYCLE) >= 90
    assert all(g.pillar != Pillar.LIFECYCLE for g in r.top_gaps[:2])
    python = skill(r, "python").demand
    assert skill(r, "docker").demand < python and skill(r, "kubernetes").demand < python


def test_salaried_employee(kb: KnowledgeBase) -> None:
    r = audit("salaried_employee", kb)
    assert r.income is not None and r.income.basis == "stated"
    assert r.income.top_client_share == 1.0
    assert "client_concentration" not in {f.kind for f in r.review}
    assert any("one employer" in line for line in r.explain.income)


def test_llm_newcomer(kb: KnowledgeBase) -> None:
    r = audit("llm_newcomer", kb)
    rising = {s.skill for s in r.career_pulse.rising_gaps}
    assert {"llm_engineering", "retrieval_augmented_generation", "agent_engineering"} & rising
    assert any(line.startswith("Rising in demand") for line in r.explain.pulse_changes)
    llm = {"llm_engineering", "retrieval_augmented_generation", "agent_engineering",
           "prompt_engineering"}  # fmt: skip
    assert {g.skill for g in r.top_gaps[:3]} <= llm
    assert "Rising in demand" in summary(r)


def test_tensorflow_veteran(kb: KnowledgeBase) -> None:
    r = audit("tensorflow_veteran", kb)
    assert "tensorflow" in {s.skill for s in r.career_pulse.falling}
    assert any(
        "Falling in demand" in line and "TensorFlow" in line for line in r.explain.pulse_changes
    )
    assert "pytorch" in {g.skill for g in r.top_gaps[:2]}


def test_balanced_churn_modeller(kb: KnowledgeBase) -> None:
    r = audit("balanced_churn_modeller", kb)
    without = audit("balanced_churn_modeller", kb, models=[])
    model = r.model_audit[0]
    assert not model.below_baseline and model.quality_percentile is not None
    assert {m.metric for m in model.metrics if m.counts} == {"roc_auc", "pr_auc", "f1"}
    for sid in ("classical_ml", "model_evaluation"):
        assert (skill(r, sid).proficiency or 0) > (skill(without, sid).proficiency or 0)
        assert skill(r, sid).confidence > skill(without, sid).confidence
    assert skill(r, "feature_engineering").status != "measured"


@pytest.mark.parametrize("name", sorted(p.stem for p in PERSONAS.glob("*.yaml")))
def test_every_persona_explains_every_number(kb: KnowledgeBase, name: str) -> None:
    r = audit(name, kb)
    x = r.explain
    assert x.overall and x.confidence and x.gap and x.demand and x.ranking and x.pulse and x.pillar
    assert set(x.pillars) == set(Pillar)
    assert [g.skill for g in x.top_gaps] == [g.skill for g in r.top_gaps]
    assert len(x.models) == len(r.model_audit)
    text = summary(r)
    assert "How to read this" in text and f"Confidence {r.overall.confidence:.2f}" in text
