"""Readable rendering of an audit report and of the knowledge lists, with rich tables."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.usecases.audits import AuditReport
from agent.usecases.reference import knowledge_table


def _num(value: float | None, digits: int = 0) -> str:
    return "?" if value is None else f"{value:.{digits}f}"


def print_report(report: AuditReport, console: Console | None = None) -> None:
    """Summary, pillars, top gaps, pulse, models, schedule and the open review prompts."""
    console = console or Console()
    r = report.result
    console.print(
        f"[bold]SkillAudit[/bold] for {escape(r.user)} - target role {r.target_role_name}, "
        f"as of {r.as_of} ([yellow]{report.state}[/yellow], methodology {r.methodology_version})"
    )
    x = r.explain
    assert x is not None, "an audit scored now always carries its explanations"
    console.print(
        f"Overall score [bold]{_num(r.overall.score, 1)}[/bold] / 100, confidence {r.overall.confidence:.2f}"
    )
    for line in x.income:
        console.print(f"[bold]Income:[/bold] {line}")
    pillars = Table(title="Pillars")
    for column in ("pillar", "weight", "score", "confidence", "coverage"):
        pillars.add_column(column, justify="left" if column == "pillar" else "right")
    for p in r.pillars.values():
        pillars.add_row(
            p.title,
            f"{p.weight:.0%}",
            _num(p.score, 1) + (" (from related skills only)" if p.transferred_only else ""),
            f"{p.confidence:.2f}",
            f"{p.coverage:.0%}",
        )
    console.print(pillars)
    gaps = Table(title="Top gaps (Skill Gap Score = (demand - proficiency) / demand)")
    for column in ("skill", "proficiency", "demand", "gap", "confidence", "basis"):
        gaps.add_column(column, justify="left" if column in ("skill", "basis") else "right")
    for g in r.top_gaps:
        gaps.add_row(
            g.name,
            _num(g.proficiency),
            _num(g.demand),
            f"{g.gap:.2f}",
            f"{g.confidence:.2f}",
            g.status,
        )
    console.print(gaps)
    for gap, reason in zip(r.top_gaps, x.top_gaps, strict=True):
        console.print(f"  {gap.name} {reason.why}")
    if r.unknown_skills:
        console.print(f"Unknown (not counted as zero): {len(r.unknown_skills)} skills")
    pulse = r.career_pulse
    console.print(f"Career pulse: {_num(pulse.score, 1)} / 100 over {pulse.horizon_years:g} years")
    for line in x.pulse_changes:
        console.print(f"  {escape(line)}")
    for model, meaning in zip(r.model_audit, x.models, strict=True):
        console.print(f"Model ({model.task.replace('_', ' ')}) {escape(meaning)}")
        for finding in model.findings:
            console.print(f"  - {escape(finding.message)}")
    console.print(f"Power skills: {r.power_skills.status.replace('_', ' ')}")
    console.print(f"Next full audit: {r.schedule.next_audit} ({r.schedule.cadence})")
    console.print("\n[bold]How to read this[/bold]")
    for line in (x.overall, x.confidence, x.gap, x.demand, x.ranking, x.pulse):
        console.print(f"- {line}")
    if report.review:
        console.print(f"\n[bold]Review before this is final[/bold] ({len(report.review)} prompts):")
        for number, prompt in enumerate(report.review, 1):
            console.print(f"{number}. {escape(prompt.question)}")


def print_catalog(kind: str, console: Console | None = None) -> None:
    """List skills, roles or model task types with their ids and aliases."""
    console = console or Console()
    columns, rows = knowledge_table(kind)
    table = Table(title=kind)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    console.print(table)
