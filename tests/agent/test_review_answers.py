"""Review answers in people's words: ratings and the reason after them, facts about a model,
changes to a plan, and notes kept whole (agent/review_answers.py, agent/plan_changes.py)."""

from __future__ import annotations

from typing import Any

import pytest

from agent.parsing import Unclear
from agent.plan_changes import PlanChange, read_plan_change
from agent.review_answers import (
    is_just_a_note,
    note_text,
    read_model_fact,
    read_rating_change,
)
from knowledge.base import KnowledgeBase

CLOUD = ["cloud_platforms"]
LIFECYCLE = ["cloud_platforms", "docker", "kubernetes"]
AUTOMATED = ["feature_engineering", "gradient_boosting"]


@pytest.mark.parametrize(
    ("text", "skills", "ratings", "reason"),
    [
        # The field report's answer, and every way of joining a reason to a rating.
        ("3 coz i deployed a few sagemaker endpoints for my client last yr", CLOUD,
         {"cloud_platforms": 3}, "i deployed a few sagemaker endpoints for my client last yr"),
        ("3 because I deploy to it every week", CLOUD, {"cloud_platforms": 3}, "I deploy to it every week"),
        ("3 cuz weekly deploys", CLOUD, {"cloud_platforms": 3}, "weekly deploys"),
        ("3 since 2024 I deploy weekly", CLOUD, {"cloud_platforms": 3}, "2024 I deploy weekly"),
        ("3 - the client has a DPIA; mostly batch jobs", CLOUD, {"cloud_platforms": 3},
         "the client has a DPIA; mostly batch jobs"),
        ("3, used it as a baseline", CLOUD, {"cloud_platforms": 3}, "used it as a baseline"),
        ("3 i deployed a few endpoints", CLOUD, {"cloud_platforms": 3}, "i deployed a few endpoints"),
        ("more like a 3 (I deploy weekly)", CLOUD, {"cloud_platforms": 3}, "I deploy weekly"),
        ("no, it is 3 because of the sagemaker work", CLOUD, {"cloud_platforms": 3}, "the sagemaker work"),
        ("three because I use it", CLOUD, {"cloud_platforms": 3}, "I use it"),
        ("6/10 because I use it", CLOUD, {"cloud_platforms": 3}, "I use it"),
        # Named ratings: the most skills rated with nothing left over, the reason after.
        ("cloud 3, docker 2 because I ship weekly", LIFECYCLE,
         {"cloud_platforms": 3, "docker": 2}, "I ship weekly"),
        ("gradient boosting 3 because i used xgboost but the model metrics are not that great honestly",
         AUTOMATED, {"gradient_boosting": 3},
         "i used xgboost but the model metrics are not that great honestly"),
        # Numbers and skill names inside the reason stay in the reason.
        ("docker 3 because I used kubernetes 2 years", LIFECYCLE, {"docker": 3},
         "I used kubernetes 2 years"),
        ("3 because I did 2 projects", CLOUD, {"cloud_platforms": 3}, "I did 2 projects"),
        # A skill the prompt is not about, named with its rating.
        ("experiment tracking 2, data validation 1 since I only used mlflow once", ["analytical_thinking"],
         {"experiment_tracking": 2, "data_validation": 1}, "I only used mlflow once"),
        # A rating without a reason: the caller asks for one.
        ("4", CLOUD, {"cloud_platforms": 4}, ""),
        ("no, more like 4", CLOUD, {"cloud_platforms": 4}, ""),
        # The reason first, the rating last.
        ("that's too low, I deploy to AWS every week, more like 4", CLOUD, {"cloud_platforms": 4},
         "that's too low, I deploy to AWS every week"),
        ("I run our whole cloud setup, so 4/5", CLOUD, {"cloud_platforms": 4}, "I run our whole cloud setup"),
    ],
)  # fmt: skip
def test_ratings_and_the_reason_after_them(
    kb: KnowledgeBase, text: str, skills: list[str], ratings: dict[str, float], reason: str
) -> None:
    change = read_rating_change(text, skills, kb)
    assert change is not None, text
    assert change.ratings == ratings
    assert change.reason == reason


@pytest.mark.parametrize(
    "text",
    [
        "keep it because I checked it with my team lead",
        "it is deliberate: a 2 year retainer",
        "legitimate interests, fraud prevention; the client has a DPIA",
        "because I never used it",
        "3 because fine",  # a bare rating where the prompt has several skills
    ],
)
def test_no_rating_is_read_where_none_was_given(kb: KnowledgeBase, text: str) -> None:
    assert read_rating_change(text, LIFECYCLE, kb) is None


@pytest.mark.parametrize("text", ["ok", "fine", "good", "yes", "keep it", "looks right"])
def test_a_word_that_answers_the_choice_is_not_a_rating_there(kb: KnowledgeBase, text: str) -> None:
    """Typed instead of confirm / adjust / why, "ok" is the answer "confirm", never a 3/5."""
    assert read_rating_change(text, CLOUD, kb, direct=True) is None


def test_a_named_skill_with_a_rating_word_is_a_rating_even_instead_of_a_choice(
    kb: KnowledgeBase,
) -> None:
    change = read_rating_change("never used airflow, dont need it", ["workflow_orchestration"], kb, direct=True)  # fmt: skip
    assert change is not None
    assert change.ratings == {"workflow_orchestration": 0} and change.reason == "dont need it"


@pytest.mark.parametrize(
    ("kind", "text", "field", "value"),
    [
        ("model_personal_data_no_basis", "legitimate interests, fraud prevention; the client has a DPIA",
         "legal_basis", "legitimate_interests"),
        ("model_personal_data_no_basis", "legitimate interests (fraud prevention)", "legal_basis",
         "legitimate_interests"),
        ("model_personal_data_no_basis", "they consented when signing up", "legal_basis", "consent"),
        ("model_personal_data_no_basis", "art. 6(1)(b)", "legal_basis", "contract"),
        ("model_balance_unknown", "about 2% are fraud", "positive_rate", 0.02),
        ("model_balance_unknown", "1 in 50", "positive_rate", 0.02),
        ("model_accuracy_on_imbalanced", "pr auc 0.41", "metrics", {"pr_auc": 0.41}),
        ("model_accuracy_on_imbalanced", "pr auc 0.41 from the last evaluation", "metrics",
         {"pr_auc": 0.41}),
        ("model_accuracy_on_imbalanced", "PR-AUC 0.4 because we checked it twice", "metrics",
         {"pr_auc": 0.4}),
        ("model_at_or_below_baseline", "PR-AUC 0,38 and roc auc 0.91", "metrics",
         {"pr_auc": 0.38, "roc_auc": 0.91}),
    ],
)  # fmt: skip
def test_facts_about_a_model(
    kb: KnowledgeBase, kind: str, text: str, field: str, value: Any
) -> None:
    fact = read_model_fact(kind, text, kb)
    assert fact is not None and fact.field == field and fact.value == value
    assert fact.ask is None and not fact.unknown


def test_an_unknown_or_unclear_fact_records_nothing(kb: KnowledgeBase) -> None:
    unknown = read_model_fact("model_personal_data_no_basis", "idk, no idea", kb)
    assert unknown is not None and unknown.unknown and unknown.value is None
    theirs = read_model_fact("model_personal_data_no_basis", "idk, the client handles that", kb)
    assert theirs is not None and theirs.value == "controller_decides" and not theirs.unknown
    unclear = read_model_fact("model_personal_data_no_basis", "the client has a DPIA", kb)
    assert unclear is not None and unclear.value is None and unclear.ask
    assert read_model_fact("self_rating_only", "3", kb) is None


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("legitimate interests, fraud prevention; the client has a DPIA",
         "legitimate interests, fraud prevention; the client has a DPIA"),
        ("used it as a baseline - since 2024", "used it as a baseline - since 2024"),
        ("  first line\n\n second   line\u0007 ", "first line\nsecond line"),
    ],
)  # fmt: skip
def test_notes_are_kept_whole(text: str, kept: str) -> None:
    assert note_text(text) == kept


@pytest.mark.parametrize(
    "text", ["just the note", "only the note", "none of these", "keep the note"]
)
def test_just_a_note(text: str) -> None:
    assert is_just_a_note(text)


ITEMS = [
    {"id": "llmops", "title": "LLMOps", "skill": "workflow_orchestration"},
    {"id": "kubeflow", "title": "Kubeflow documentation", "skill": "model_serving"},
    {"id": "aws-lens", "title": "Machine Learning Lens - AWS Well-Architected Framework",
     "skill": "cloud_platforms"},
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("I would rather start with Docker, LLMOps is not what I need for a fraud model",
         PlanChange(drop=("llmops",), add=("docker",), first=("docker",))),
        ("drop the second", PlanChange(drop=("kubeflow",))),
        ("remove item 3, I already did it", PlanChange(drop=("aws-lens",))),
        ("I already did the AWS lens", PlanChange(drop=("aws-lens",))),
        ("swap kubeflow for something shorter", PlanChange(swap=("kubeflow",))),
        ("replace LLMOps with docker", PlanChange(drop=("llmops",), add=("docker",))),
        ("docker instead of llmops", PlanChange(drop=("llmops",), add=("docker",))),
        ("start with the aws one", PlanChange(first=("cloud_platforms",))),
        ("6 hours a week", PlanChange(weekly_hours=6.0)),
        ("only 3h/week please, and drop the last", PlanChange(drop=("aws-lens",), weekly_hours=3.0)),
        ("I have more time now: 8 hrs per week", PlanChange(weekly_hours=8.0)),
    ],
)  # fmt: skip
def test_plan_changes(kb: KnowledgeBase, text: str, change: PlanChange) -> None:
    assert read_plan_change(text, ITEMS, kb) == change


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("drop docker", "Which item should I drop?"),
        ("swap it", "Which item should I swap?"),
        ("remove item 5", "The plan has 3 items"),
        ("0 hours a week", "between 0.5 and 80"),
    ],
)
def test_a_plan_change_that_names_no_item_is_a_question(
    kb: KnowledgeBase, text: str, message: str
) -> None:
    with pytest.raises(Unclear, match=message):
        read_plan_change(text, ITEMS, kb)


@pytest.mark.parametrize("text", ["looks fine", "it fits", "thanks, that works for me"])
def test_words_that_change_nothing(kb: KnowledgeBase, text: str) -> None:
    assert read_plan_change(text, ITEMS, kb) is None
