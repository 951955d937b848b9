"""Recommendations that fit the person (issue 19): level, prerequisites, formats, budget and
time, every top gap answered, stable picks, plans that respect the next audit, and topic
questions matched on the whole request. Floors are asserted on the hand-labelled set."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from knowledge.base import KnowledgeBase
from knowledge.retriever import Constraints, Retriever, Target, levels_for
from knowledge.schema import Level
from tests.knowledge.quality import PROFILES, QUERIES, START, measure, primary_picks, profile_inputs

# Measured with tests/knowledge/quality.py on 2026-12-01 (185 queries, 21 profiles): hit@3 0.941,
# recall@3 0.933, level fit 0.983, expert agreement 0.942. Floors sit a little below; the
# prerequisite, stability and coverage figures are requirements, not measurements.
SKILL_HIT_AT_3 = 0.90
RECALL_AT_3 = 0.88
LEVEL_FIT = 0.95
EXPERT_AGREEMENT = 0.90

ALEX = next(p for p in PROFILES if p["id"] == "alex-freelance-ml-engineer")
MARIA = next(p for p in PROFILES if p["id"] == "maria-career-switcher")
ASKED_FOR_AN_API = next(
    p for p in PROFILES if p["id"] == "freelance-data-scientist-asked-for-an-api"
)


def test_labelled_set_is_large_enough() -> None:
    assert len(QUERIES) >= 150 and len(PROFILES) >= 20
    assert all(len(p["gaps"]) >= 4 and all(g["expert"] for g in p["gaps"]) for p in PROFILES)


@pytest.mark.long(seconds=10)
def test_quality_floors(retriever: Retriever) -> None:
    quality = measure(retriever)
    assert quality.prerequisite_violations == 0
    assert quality.stability == 1.0
    assert quality.coverage == 1.0
    assert quality.skill_hit_at_3 >= SKILL_HIT_AT_3
    assert quality.recall_at_3 >= RECALL_AT_3
    assert quality.level_fit >= LEVEL_FIT
    assert quality.expert_agreement >= EXPERT_AGREEMENT


def test_alex_gets_fitting_picks_for_all_five_gaps(retriever: Retriever) -> None:
    targets, constraints, known = profile_inputs(ALEX)
    advice = retriever.advise(targets, constraints, known=known)
    primary = primary_picks(advice.picks)
    assert set(primary) == {t.skill for t in targets}  # Docker, gap 4, is covered too
    by_id = {p.resource.id: p for p in advice.picks}
    assert "kubeflow-docs" not in by_id  # advanced and needs Kubernetes, which Alex lacks
    if "deeplearning-ai-llmops" in by_id:  # needs LLM engineering (25): only after a first step
        assert any(p.role == "prerequisite" and p.skill == "llm_engineering" for p in advice.picks)
    for target in targets:
        pick = next(p for p in advice.picks if p.resource.id == primary[target.skill])
        assert pick.resource.level in levels_for(target.proficiency)
        assert constraints.budget_usd is not None
        assert pick.resource.cost_usd <= constraints.budget_usd


def test_an_unrelated_adjustment_does_not_reshuffle(retriever: Retriever) -> None:
    targets, constraints, known = profile_inputs(ALEX)
    before = primary_picks(retriever.advise(targets, constraints, known=known).picks)
    # Alex adjusts Cloud Platforms from 2/5 to 3/5: the other gaps keep their picks.
    adjusted = [
        Target(t.skill, t.weight, 60.0, t.demand, 0.2) if t.skill == "cloud_platforms" else t
        for t in targets
    ]
    after = primary_picks(retriever.advise(adjusted, constraints, known=known).picks)
    assert {s: after[s] for s in after if s != "cloud_platforms"} == {
        s: before[s] for s in before if s != "cloud_platforms"
    }
    again = primary_picks(retriever.advise(targets, constraints, known=known).picks)
    assert again == before  # same gaps and constraints, same picks


def test_maria_gets_short_free_hands_on_beginner_items_first(retriever: Retriever) -> None:
    targets, constraints, known = profile_inputs(MARIA)
    advice = retriever.advise(targets, constraints, known=known)
    assert all(p.resource.free for p in advice.picks)
    own = [p for p in advice.picks if p.role == "gap"]
    assert all(p.resource.level is Level.BEGINNER for p in own)
    assert sum(p.resource.format.value in ("video", "project", "interactive") for p in own) >= 4
    assert all(p.resource.hours <= constraints.horizon_hours for p in own)
    next_audit = START + dt.timedelta(weeks=13)
    plan = retriever.plan(advice.picks, constraints, START, known, next_audit)
    levels = [i.resource.level for i in plan.items]
    assert levels == sorted(levels, key=[Level.BEGINNER, Level.INTERMEDIATE, Level.ADVANCED].index)
    firsts = [i for i in plan.items if i.resource.hours <= 2 * constraints.weekly_hours]
    if firsts:  # short beginner items come before the long ones
        assert plan.items[0].resource.hours <= 2 * constraints.weekly_hours


def test_plan_is_paced_and_offers_a_shorter_one_past_the_audit(retriever: Retriever) -> None:
    targets = [Target("classical_ml", 1.0, 20, 70, 0.7), Target("deep_learning", 0.9, 20, 70, 0.7)]
    constraints = Constraints(weekly_hours=2, horizon_weeks=52)
    picks = retriever.recommend(targets, constraints, limit=4)
    next_audit = START + dt.timedelta(weeks=4)
    plan = retriever.plan(picks, constraints, START, {}, next_audit)
    for item in plan.items:  # dated at 2 h a week, one after the other
        assert (item.end - item.start).days + 1 == max(1, -(-item.resource.hours * 7 // 2))
    for before, after in zip(plan.items, plan.items[1:], strict=False):
        assert after.start == before.end + dt.timedelta(days=1)
    assert plan.runs_past_next_audit and any("after your next audit" in n for n in plan.notes)
    assert plan.shorter is not None and plan.shorter.end is not None
    assert plan.shorter.end <= next_audit and plan.shorter.left_out
    assert plan.to_dict()["shorter"]["items"]


def test_prerequisites_are_scheduled_first_or_the_item_is_left_out(retriever: Retriever) -> None:
    known = {"kubernetes": 20.0, "docker": 20.0, "python": 80.0}
    targets = [Target("model_serving", 1.0, 40, 60, 0.33)]
    advice = retriever.advise(targets, Constraints(), known=known)
    ids = [p.resource.id for p in advice.picks]
    assert "kserve-docs" not in ids and "kubeflow-docs" not in ids
    plan = retriever.plan(advice.picks, Constraints(), START, known)
    order = [i.resource.id for i in plan.items]
    for index, item in enumerate(plan.items):
        for entry in item.resource.prerequisites:
            if entry in order:
                assert order.index(entry) < index


def test_a_gap_nothing_fits_is_said_plainly_with_a_project_idea(retriever: Retriever) -> None:
    advice = retriever.advise([Target("docker", 1.0, 10, 70, 0.86)], Constraints(language="fr"))
    assert advice.picks == []
    [uncovered] = advice.uncovered
    assert uncovered.skill == "docker" and "Nothing in the catalog fits Docker" in uncovered.reason
    assert "docker" in uncovered.project_idea.lower()


@pytest.mark.parametrize(
    ("text", "wanted", "unwanted"),
    [
        ("explain transformers to me", {"deep_learning", "nlp"}, {"explainability"}),
        ("how can I explain my model's predictions to a client", {"explainability"}, set()),
        ("keep track of which hyperparameters worked", {"experiment_tracking"}, set()),
        # "fair" and "bias" are about groups, not about models in general; bias-variance is not.
        ("make my models fair", {"bias_testing", "fairness_mitigation"}, {"model_optimization"}),
        ("is my model biased", {"bias_testing"}, {"model_optimization"}),
        ("my model overfits", {"classical_ml"}, {"bias_testing", "model_optimization"}),
        ("the bias-variance trade-off", {"model_evaluation"}, {"bias_testing"}),
    ],
)
def test_topics_are_matched_on_the_whole_request(
    retriever: Retriever, text: str, wanted: set[str], unwanted: set[str]
) -> None:
    skills = set(retriever.match_skills(text))
    assert wanted <= skills and not unwanted & skills


def test_a_request_with_videos_gets_beginner_video_courses(retriever: Retriever) -> None:
    text = "I want to learn machine learning, preferably with videos"
    match = retriever.understand(text)
    assert "classical_ml" in match.skills and match.request.formats == ("video",)
    targets = [Target(s, 1.0 - 0.1 * i) for i, s in enumerate(match.skills)]
    picks = retriever.recommend(targets, Constraints(), query=text)
    assert picks and all(p.resource.format.value == "video" for p in picks)
    assert all(p.resource.level is not Level.ADVANCED for p in picks)


def test_a_topic_without_a_skill_says_so_and_offers_the_closest(retriever: Retriever) -> None:
    match = retriever.understand("graph neural networks basics")
    assert match.skills == [] and match.missing == "graph machine learning"
    assert "deep_learning" in match.closest
    # A subject that became a skill (federated learning, added in methodology 2.0.0) is one.
    assert retriever.understand("federated learning basics").skills == ["federated_learning"]
    unrelated = retriever.understand("how to cook risotto")
    assert unrelated.skills == [] and unrelated.missing is not None


def test_a_beginner_gets_material_about_the_skill_itself_one_step_up_when_none_is_easier(
    retriever: Retriever,
) -> None:
    """Model documentation at 1/5: no beginner resource is about it (only side mentions, such
    as an emissions calculator), so the canonical intermediate read on model cards comes,
    saying it is a step up. Where beginner material on the skill exists (pandas, Docker), a
    beginner never gets more."""
    constraints = Constraints(weekly_hours=4, budget_usd=0)
    docs = Target(skill="model_documentation", proficiency=20, demand=40, gap=0.5, weight=1.0)
    pick = retriever.recommend([docs], constraints)[0]
    assert pick.resource.skills[0] == "model_documentation", pick.resource.id
    assert pick.resource.level is Level.INTERMEDIATE
    assert "A step up from where you are" in pick.reason
    for skill in ("pandas", "docker", "python"):
        target = Target(skill=skill, proficiency=20, demand=60, gap=0.6, weight=1.0)
        for rec in retriever.recommend([target], constraints):
            if rec.skill == skill:
                assert rec.resource.level is Level.BEGINNER, (skill, rec.resource.id)
                assert "step up" not in rec.reason


@pytest.mark.parametrize(
    ("query", "word", "never"),
    [
        (
            "how do I evaluate a model on imbalanced data",
            "imbalanced",
            "hamel-your-ai-product-needs-evals",
        ),
        ("hyperparameter tuning with optuna", "optuna", None),
    ],
)
def test_a_topic_question_ranks_resources_that_name_its_specific_subject_first(
    retriever: Retriever, query: str, word: str, never: str | None
) -> None:
    """The small embedding model puts a guide to LLM evals as close to "evaluate a model on
    imbalanced data" as a paper on it; the request's rarer words decide between them."""
    match = retriever.understand(query)
    targets = [Target(skill=s, weight=1.0 - 0.1 * i) for i, s in enumerate(match.skills)]
    picks = retriever.recommend(targets, Constraints(), query=query)[:3]
    about = [p for p in picks if word in f"{p.resource.title} {p.resource.description}".lower()]
    assert len(about) >= 2, [p.resource.id for p in picks]
    assert never not in [p.resource.id for p in picks]


def test_a_pick_about_the_gap_that_also_teaches_another_gap_comes_first(
    retriever: Retriever,
) -> None:
    """API Development and Model Serving both lacking: the FastAPI tutorial (about APIs, and
    how models are served behind one) comes before Pydantic's docs (mainly data validation),
    which are a little closer to the skill's wording."""
    targets, constraints, known = profile_inputs(ASKED_FOR_AN_API)
    primary = primary_picks(retriever.advise(targets, constraints, known=known).picks)
    assert primary["api_development"] == "fastapi-tutorial"
    # A resource mainly about another subject gains nothing from teaching a gap on the side:
    # the Terraform tutorials (infrastructure as code, then cloud platforms) stay the pick for
    # infrastructure as code, not for the cloud.
    terraform = retriever.catalog.resources["terraform-tutorials"]
    assert terraform.skills[:2] == ["infrastructure_as_code", "cloud_platforms"]
    both = [
        Target(skill="cloud_platforms", weight=1.0, proficiency=20.0),
        Target(skill="infrastructure_as_code", weight=0.9, proficiency=0.0),
    ]
    primary = primary_picks(retriever.advise(both, Constraints(budget_usd=0.0)).picks)
    assert primary["infrastructure_as_code"] == "terraform-tutorials"
    assert primary["cloud_platforms"] != "terraform-tutorials"


def test_a_preferred_format_does_not_pick_a_resource_on_another_subject(
    retriever: Retriever,
) -> None:
    """A Kaggler with no model documentation who likes books and hands-on work: the only
    hands-on resources that touch it are a carbon calculator and an ethics course, far behind
    the Model Cards paper, which is the one chosen, saying why it is another format."""
    calculator = retriever.catalog.resources["ml-co2-impact-calculator"]
    assert calculator.skills[0] != "model_documentation"
    target = Target(skill="model_documentation", weight=1.0, proficiency=0.0)
    constraints = Constraints(weekly_hours=3.0, formats=("book", "project"), budget_usd=None)
    known = {"model_documentation": 0.0, "python": 100.0, "classical_ml": 100.0}
    advice = retriever.advise([target], constraints, known=known)
    first = advice.picks[0]
    assert first.resource.skills[0] == "model_documentation", first.resource.id
    assert "mainly about other subjects" in first.reason


def test_a_gap_whose_reason_is_known_gets_a_resource_on_that_reason(
    retriever: Retriever, kb: KnowledgeBase
) -> None:
    """A Model Evaluation gap that comes from accuracy on rare positives calls for evaluation
    on imbalanced data (precision and recall), not for evaluation in general."""
    from agent.recommend import targets_from_audit
    from tests.tools.test_personas import audit

    result = audit("imbalanced_modeller", kb)
    target = next(t for t in targets_from_audit(result) if t.skill == "model_evaluation")
    assert "imbalanced" in target.focus and "precision" in target.focus
    constraints = Constraints(weekly_hours=3, budget_usd=500, formats=("book", "docs"))

    def pick(wanted: Target) -> str:
        picks = retriever.advise([wanted], constraints).picks
        chosen = next(p.resource for p in picks if p.skill == "model_evaluation")
        return f"{chosen.title} {chosen.description}".lower()

    focused, general = pick(target), pick(dataclasses.replace(target, focus=""))
    assert "precision" in focused and "recall" in focused, focused
    assert "precision" not in general, general
    assert focused != general
    # Without a model finding, a gap has no focus.
    plain = audit("imbalanced_modeller", kb, models=[])
    assert all(t.focus == "" for t in targets_from_audit(plain))
