"""A worked case of progress: a large containerisation gap, new evidence, the gap closing."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from agent.engine import Engine
from agent.history import compare
from agent.store import Store
from agent.usecases.audits import score as audit_profile
from agent.usecases.audits import store as save_audit
from knowledge.base import KnowledgeBase
from tools.profile import validate_profile
from tools.results import PreviousAudit

BASE: dict[str, Any] = {
    "user": "mo",
    "target_role": "mlops engineer",
    "self_ratings": {"python": 4, "docker": 1, "kubernetes": 1, "ci_cd_ml": 2, "experiment_tracking": 3,
                     "model_monitoring": 2, "explainability": 2, "bias_testing": 2},
    "soft_skills": {"communication": 3, "technical_writing": 3},
}  # fmt: skip
FIRST, SECOND = dt.date(2026, 9, 1), dt.date(2026, 12, 5)
LATER = {
    "certificates": [
        {"name": "Docker and Kubernetes course", "provider": "Coursera", "date": "2026-10-20",
         "skills": ["docker", "kubernetes"], "level": "intermediate"}
    ],
    "evidence": [
        {"skill": "docker", "source": "code", "strength": 0.75, "observed": "2026-11-15",
         "detail": "repository with a multi-stage Dockerfile and a CI build", "link": "https://example.org/repo"}
    ],
    "self_ratings": {**BASE["self_ratings"], "docker": 3},
}  # fmt: skip


def test_the_containerisation_gap_closes(engine: Engine, store: Store, kb: KnowledgeBase) -> None:
    first = audit_profile(validate_profile(BASE, kb), kb, FIRST)
    gaps = {g.skill: g for g in first.result.top_gaps}
    # A large MLOps gap: half of what the market asks (twice the threshold of an open gap).
    assert "docker" in gaps and gaps["docker"].gap >= 0.5
    second_data = {**BASE, **LATER}
    previous = PreviousAudit(
        as_of=FIRST, overall=first.result.overall.score,
        pillars={k: v.score for k, v in first.result.pillars.items()},
    )  # fmt: skip
    second = audit_profile(validate_profile(second_data, kb), kb, SECOND, previous=previous)
    with store.user("mo") as scope:
        one = save_audit(scope, first, BASE, {})
        two = save_audit(scope, second, second_data, {})
        delta = compare(one, two)
    docker_before = next(s for s in first.result.skills if s.id == "docker")
    docker_after = next(s for s in second.result.skills if s.id == "docker")
    assert (
        docker_after.gap is not None
        and docker_before.gap is not None
        and docker_after.gap < docker_before.gap / 2
    )
    assert docker_after.confidence > docker_before.confidence  # outside evidence, not just a rating
    assert delta.overall is not None and delta.overall > 0
    lifecycle = dict(delta.pillars)["Model Lifecycle Management"]
    assert lifecycle is not None and lifecycle > 0
    assert any(item.startswith("Docker (") for item in delta.narrowed) or "Docker" in delta.closed
    assert delta.moved[0].startswith("Docker +")
    reply = engine.handle_sync("mo", "/progress")
    assert f"Since {FIRST}" in reply.text
    # The chat says what the delta says: Docker's gap closed, or narrowed with both figures.
    closed = "Docker" in delta.closed and re.search(r"Gaps closed: [^\n]*Docker", reply.text)
    narrowing = "Gaps narrowing: " in reply.text and "Docker (0." in reply.text
    assert closed or narrowing, reply.text
    assert reply.attachments and reply.attachments[0].kind == "image"


def test_closed_and_new_gaps_are_told_apart(kb: KnowledgeBase) -> None:
    from agent.store import AuditRow

    base = audit_profile(validate_profile(BASE, kb), kb, FIRST).result
    template = base.skills[0]

    def audit(day: dt.date, gaps: dict[str, float | None]) -> AuditRow:
        skills = [
            template.model_copy(
                update={
                    "id": s,
                    "name": s.title(),
                    "gap": g,
                    "proficiency": None if g is None else 80 * (1 - g),
                    "relevance": 0.8,
                }
            )
            for s, g in gaps.items()
        ]
        result = base.model_copy(update={"skills": skills, "as_of": day, "top_gaps": []})
        return AuditRow(as_of=day, overall=50.0, result=result.model_dump(mode="json"))

    delta = compare(
        audit(FIRST, {"sql": 0.6, "docker": 0.5, "spark": None, "git": 0.05}),
        audit(SECOND, {"sql": 0.05, "docker": 0.2, "spark": 0.7, "git": 0.4}),
    )
    assert delta.closed == ["Sql"]
    assert delta.narrowed == ["Docker (0.50 to 0.20)"]
    assert delta.new == ["Git", "Spark"]
