"""Questions about the question, and help in the middle of one: the interview explains and
goes on, and the next typed number still answers the question (not a menu entry)."""

from __future__ import annotations

import pytest

from agent.engine import Engine
from agent.interview import RATING_SCALE

TO_RATINGS = ["/start", "mlops engineer", "senior", "3 years"]  # up to the technical ratings


def at_ratings(engine: Engine, user: str) -> None:
    for message in TO_RATINGS:
        engine.handle_sync(user, message)


@pytest.mark.parametrize(
    "asked",
    ["what does this mean?", "I don't understand", "huh?", "how do I answer this", "explain", "?"],
)
def test_a_question_about_the_question_explains_the_scale_and_asks_again(
    engine: Engine, asked: str
) -> None:
    at_ratings(engine, "ida")
    reply = engine.handle_sync("ida", asked)
    assert ", ".join(RATING_SCALE) in reply.text, reply.text
    assert "Unknown skill" not in reply.text
    assert reply.text.rstrip().endswith("LLM Engineering."), reply.text  # the question again
    # Nothing was recorded: the next answer is the first for this question.
    reply = engine.handle_sync("ida", "4 3 2 3 1 0 2 3")
    assert reply.text.startswith("Noted: Python 4"), reply.text


def test_help_in_the_middle_keeps_the_questions_own_choices(engine: Engine) -> None:
    """A "5" typed after /help at the role question is the fifth role, and at a ratings
    question it is a rating: /help used to carry the main menu, so "5" became /audit."""
    engine.handle_sync("ada", "/start")
    reply = engine.handle_sync("ada", "/help")
    assert "We were at: (1/" in reply.text
    assert [c.value for c in reply.choices][:2] == ["ml_engineer", "mlops_engineer"]
    assert engine.handle_sync("ada", "5").text.startswith("Noted: Computer Vision Engineer")
    idle = engine.handle_sync("newcomer-done", "/help")
    assert "We were at" not in idle.text


def test_help_outside_a_flow_offers_the_menu(engine: Engine) -> None:
    at_ratings(engine, "bo")
    engine.handle_sync("bo", "/cancel")
    reply = engine.handle_sync("bo", "/help")
    assert "/next" in [c.value for c in reply.choices]


def test_several_tools_of_one_skill_are_settled_at_once_by_the_higher_of_each(
    engine: Engine,
) -> None:
    """A long list of tools gave two skills two ratings each: asked one at a time before, now
    one answer may take the higher of each (one conflict offers no such button)."""
    for message in ("/start", "mlops engineer", "senior", "5 years", "all 3"):
        engine.handle_sync("tom", message)
    reply = engine.handle_sync("tom", "terraform 4, ansible 3, helm 4, kubeflow 3, git 4")
    assert "Infrastructure as Code: you gave 4 (terraform) and 3 (ansible)" in reply.text
    assert "the higher of each" in [c.value for c in reply.choices]
    reply = engine.handle_sync("tom", "the higher of each")
    assert reply.text.startswith(
        "Noted: Git and Version Control 4, Infrastructure as Code 4, Kubernetes 4."
    ), reply.text
    engine.handle_sync("ann", "/start")
    for message in ("mlops engineer", "senior", "5 years", "all 3"):
        engine.handle_sync("ann", message)
    reply = engine.handle_sync("ann", "terraform 4, ansible 3")
    assert "the higher of each" not in [c.value for c in reply.choices]
    assert engine.handle_sync("ann", "the higher").text.startswith(
        "Noted: Infrastructure as Code 4"
    )
