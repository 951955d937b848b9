"""Review prompts for outputs other than the audit: learning plans and model audits."""

from __future__ import annotations

import datetime as dt
from typing import Any

from agent.review import ReviewPrompt, render_prompts
from tools.numbers import rank
from tools.results import ModelVerdict, ReviewFinding
from tools.review import model_findings

OUTPUTS_FILE = "review/outputs.yaml"
QUARTER = dt.timedelta(days=91)


def plan_prompts(
    recommendations: list[dict[str, Any]],
    plan: dict[str, Any],
    budget: float | None,
    next_audit: dt.date | None,
    today: dt.date,
) -> list[dict[str, Any]]:
    """Prompts for a plan: items over budget, a plan that outlasts the next audit, and fit."""
    findings = [
        ReviewFinding(
            id=f"plan_over_budget:{rec['id']}",
            kind="plan_over_budget",
            skills=[rec["for_skill"]],
            facts={
                "title": rec["title"],
                "cost": f"{rec['cost_usd']:g}",
                "budget": f"{budget or 0:g}",
            },
        )
        for rec in recommendations
        if rec.get("over_budget")
    ]
    items = plan.get("items", [])
    if items:
        end = dt.date.fromisoformat(items[-1]["end"])
        horizon = next_audit or today + QUARTER
        facts = {
            "weekly": f"{plan['weekly_hours']:g}",
            "end": end.isoformat(),
            "start": items[0]["start"],
        }
        if end > horizon:
            findings.append(
                ReviewFinding(
                    id="plan_over_hours",
                    kind="plan_over_hours",
                    skills=[],
                    facts={**facts, "next_audit": horizon.isoformat()},
                )
            )
        findings.append(
            ReviewFinding(
                id="plan_confirm",
                kind="plan_confirm",
                skills=[],
                facts={**facts, "count": len(items)},
            )
        )
    return _dump(render_prompts(findings, OUTPUTS_FILE, fallback="review/audit.yaml"))


def model_prompts(verdict: ModelVerdict) -> list[dict[str, Any]]:
    """The model pitfalls found, plus a confirmation that the picture is fair."""
    task = verdict.task.replace("_", " ")
    percentile = "?" if verdict.quality_percentile is None else rank(verdict.quality_percentile)
    confirm = ReviewFinding(
        id="model_confirm",
        kind="model_confirm",
        skills=[],
        facts={"task": task, "percentile": percentile, "compared": verdict.compared_with,
               "medal": verdict.medal or ""},
    )  # fmt: skip
    return _dump(
        render_prompts(
            [*model_findings([verdict]), confirm], OUTPUTS_FILE, fallback="review/audit.yaml"
        )
    )


def returned_prompt(reviewer: str, comment: str) -> dict[str, Any]:
    finding = ReviewFinding(
        id=f"reviewer_returned:{dt.datetime.now(dt.UTC).strftime('%Y%m%d%H%M%S')}",
        kind="reviewer_returned",
        skills=[],
        facts={"reviewer": reviewer, "comment": comment},
    )
    return _dump(render_prompts([finding], OUTPUTS_FILE))[0]


def _dump(prompts: list[ReviewPrompt]) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json") for p in prompts]
