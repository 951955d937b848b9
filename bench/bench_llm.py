"""Language-model tokens and calls per complete audit: SkillAudit's agent against a naive one.

Both run the same scripted interview (17 turns, every question answered through tool calls,
then the audit) through the real langchain-openai client against the fake OpenAI-compatible
server, which counts the prompt tokens of every request (words and punctuation; see
tests/fakes/openai_server.py). SkillAudit sends a compact, redacted session state, the last
two exchanges and only the tools of the current phase. The naive agent, with the same
prompts, resends the whole conversation (every tool call and result) each turn, spells out
every open question and offers every tool. Target: SkillAudit sends at most one third.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from agent.llm.model import LanguageModel
from agent.recommend import Recommender
from agent.store import Store
from bench._util import print_table, record
from knowledge.base import default_knowledge
from tests.agent.llm_setup import TODAY, coach, llm_settings
from tests.fakes.openai_server import FakeOpenAI

Turn = tuple[str, list[tuple[str, dict[str, Any]]], str]


def _answer(question: str, answer: str) -> tuple[str, dict[str, Any]]:
    return ("record_answer", {"question_id": question, "answer": answer})


SCRIPT: list[Turn] = [
    ("Hi! I'm a freelance ML engineer, mid-level, about 4 years in the field.",
     [_answer("target_role", "ML engineer"), _answer("career_stage", "mid"), _answer("years_experience", "4")],
     "Thanks, that is a helpful start: four years as a mid-level freelancer gives us a good base to work from. Let us begin with your technical skills. How would you rate yourself from 1 to 5 in Python, classical ML, deep learning, pandas, software engineering, PyTorch, model evaluation and scikit-learn?"),
    ("Python 4, classical ML 3, deep learning 3, pandas 4, software engineering 3, PyTorch 2, model evaluation 3, scikit-learn 4",
     [_answer("technical_ratings", "python 4, classical ml 3, deep learning 3, pandas 4, software engineering 3, pytorch 2, model evaluation 3, scikit-learn 4")],
     "That is a solid spread, with PyTorch as the obvious place to grow. Now the deployment side, which clients often care about most: how would you rate cloud platforms, Docker, git, API development, model serving and experiment tracking, from 1 to 5?"),
    ("Cloud 3, Docker 4, git 4, API development 3, model serving 2, experiment tracking 3",
     [_answer("lifecycle_ratings", "cloud 3, docker 4, git 4, api development 3, model serving 2, experiment tracking 3")],
     "Thanks. Model serving at 2 stands out next to Docker at 4, which is a common pattern for freelancers. Have you run anything on Kubernetes, and how well do you know it?"),
    ("Yes, Kubernetes in production for two years at my last contract; I'd say 4 out of 5.",
     [("record_skill", {"skill": "Kubernetes", "rating": 4, "evidence": "two years of Kubernetes in production at a contract"})],
     "Two years in production is solid evidence, and I have noted it in your own words. Let us turn to responsible AI, which more and more clients ask about: how would you rate explainability, model documentation, data privacy, AI security and bias testing, from 1 to 5?"),
    ("Explainability 2, documentation 3, privacy 3, security 2, bias testing 1",
     [_answer("ethics_ratings", "explainability 2, model documentation 3, data privacy 3, ai security 2, bias testing 1")],
     "Honest answers help here; bias testing at 1 is very common. Which of these did you actually do in a real project in the last year: bias testing, model cards or documentation, privacy reviews, explainability reports?"),
    ("Model documentation only, I wrote model cards for a client.",
     [_answer("ethics_practice", "model documentation")],
     "Model cards for a client count, thank you. Now the people side of freelancing, which often matters as much as the technical side: how would you rate communication, negotiation, client management, time management and project scoping, from 1 to 5?"),
    ("Communication 4, negotiation 2, client management 3, time management 3, scoping 2",
     [_answer("power_ratings", "communication 4, negotiation 2, client management 3, time management 3, project scoping 2")],
     "Thank you. Negotiation and scoping at 2 are worth a closer look, because they shape your income directly. Is the difficulty mostly about rates, or about scope creep once a project has started? And is there any other skill you would like me to include?"),
    ("Mostly rates. I undercharge and I know it. Nothing else to add on skills.",
     [_answer("other_skills", "nothing else")],
     "Understood, undercharging is one of the most common patterns I see, and it is fixable. Now a few questions about your business. How many clients did you work for in the last twelve months?"),
    ("Three clients.",
     [_answer("clients", "3")],
     "Three clients is a reasonable base. Roughly what share of your income came from the biggest one? A rough percentage is fine."),
    ("About 60% from the biggest.",
     [_answer("top_client_share", "60%")],
     "Sixty percent from one client is a concentration risk worth keeping in mind. Which income streams do you have at the moment: client projects, retainers, products, teaching, or something else?"),
    ("Client projects and a retainer.",
     [_answer("income_streams", "client projects, retainer")],
     "Good, a retainer helps with stability. Now about learning: how many hours a week can you realistically spend on it, given your client work?"),
    ("About 5 hours a week.",
     [_answer("weekly_learning_hours", "5")],
     "Five hours a week is enough for real progress if it is focused. And what budget do you have for courses or books over the next three months?"),
    ("Around $300.",
     [_answer("learning_budget_usd", "[amount]")],
     "Thanks, that amount stays on this machine. How do you like to learn best: courses, books, hands-on projects, or videos?"),
    ("Projects and books, not videos.",
     [_answer("preferred_formats", "projects, books")],
     "Projects and books it is; I will keep videos out of the plan. Do you have a model in production that you would like audited against similar projects?"),
    ("No, not right now.",
     [_answer("has_model", "no")],
     "No problem, we can do that any time later with /model. Last question: do you work on high-stakes systems such as credit, health or hiring decisions?"),
    ("No, no high-stakes systems.",
     [_answer("high_stakes", "no"), _answer("consents", "none")],
     "That covers everything I need. I can score the audit now; it will be a draft that you review before anything is final. Shall I go ahead?"),
    ("Yes please, score it.", [("run_audit", {})], ""),
]  # fmt: skip


def run(naive: bool) -> dict[str, Any]:
    kb = default_knowledge()
    with tempfile.TemporaryDirectory() as home, FakeOpenAI() as fake:
        settings = llm_settings(Path(home), fake)
        store = Store(settings.resolved_database_url())
        from agent.engine import Engine

        recommender = Recommender(settings, kb)
        recommender.retriever()  # built before timing anything; not part of the figures
        lm = LanguageModel(settings, naive=naive)
        engine = Engine(store, settings, kb, today=lambda: TODAY, recommender=recommender, llm=lm)
        fake.responder = coach(SCRIPT, reply_with_calls=True)
        per_turn = []
        for text, _, _ in SCRIPT:
            before = fake.prompt_tokens_total
            engine.handle_sync("bench", text)
            per_turn.append(fake.prompt_tokens_total - before)
        with store.user("bench") as scope:
            audited = scope.latest_audit() is not None
        store.dispose()
        return {
            "tokens": fake.prompt_tokens_total,
            "calls": fake.calls,
            "per_turn": per_turn,
            "audited": audited,
        }


def main() -> None:
    ours, naive = run(naive=False), run(naive=True)
    assert ours["audited"] and naive["audited"], "the scripted interview did not reach an audit"
    ratio = ours["tokens"] / naive["tokens"]
    rows = [
        ["prompt tokens per audit", f"{ours['tokens']:,}", f"{naive['tokens']:,}"],
        ["model calls per audit", str(ours["calls"]), str(naive["calls"])],
        ["tokens, turn 2", f"{ours['per_turn'][1]:,}", f"{naive['per_turn'][1]:,}"],
        ["tokens, turn 16", f"{ours['per_turn'][15]:,}", f"{naive['per_turn'][15]:,}"],
    ]
    print_table(
        f"Language-model use for one scripted audit ({len(SCRIPT)} turns); SkillAudit / naive = {ratio:.2f}",
        ["figure", "SkillAudit", "naive agent"],
        rows,
    )
    record("LLM prompt tokens per audit (SkillAudit / naive agent)", "<= 0.33", round(ratio, 3), None, "ratio")  # fmt: skip
    record("LLM prompt tokens per audit", "-", ours["tokens"], None, "tokens")
    record("LLM model calls per audit", "-", ours["calls"], None, "calls")


if __name__ == "__main__":
    main()
