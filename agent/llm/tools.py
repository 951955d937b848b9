"""The tools the language model may call, bound to one person's turn.

Every tool takes the person from the session (`runtime.context`), never from the model, and
goes through the same code as the guided interviewer and the commands: answers are parsed by
the same parsers, audits scored by the same deterministic tools, consent asked with buttons
the person must press. What a tool returns is wrapped as untrusted data, and every result is
kept for the grounding check of the model's reply.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from langchain.agents.middleware import ModelRequest, before_model, wrap_model_call
from langchain.tools import ToolRuntime, tool

from agent.answers import apply_side_answers, side_answers, understood
from agent.interview import (
    applies,
    describe_answer,
    first_open,
    question,
    questions,
    record,
)
from agent.llm.privacy import PLACEHOLDERS, minimise, restore
from agent.llm.provenance import evidence_from_message, from_message, skill_rating_from_message
from agent.reply import Choice, Reply
from agent.sources import CONSENT_SOURCES
from agent.store import FlowSession
from agent.turn import Turn
from tools.connectors.text import clip
from tools.errors import ConnectorError, SkillAuditError
from tools.results import AuditResult

UNTRUSTED_OPEN = '<tool_result untrusted="true">'
UNTRUSTED_CLOSE = "</tool_result>"
INTERVIEW_IDS = frozenset(q.id for q in questions())


@dataclass
class LlmContext:
    """One turn of the language-model interviewer: who, where, and what the tools did."""

    turn: Turn
    row: FlowSession | None  # the interview in progress, if any
    # The person's message as typed (never sent to the model unredacted); the only source of
    # recorded values. Empty when the turn's text was not written by the person (/audit).
    message: str
    results: list[Any] = field(default_factory=list)  # every tool result, for grounding
    done: list[str] = field(default_factory=list)  # plain lines saying what the tools did
    final: Reply | None = None  # a deterministic reply a tool produced (audit, plan, consent)
    called: list[str] = field(default_factory=list)  # names of the tools that ran
    # Set once outside content (a connector's findings) is in the model's context: from then
    # on in this turn the model may not record answers or ask for consent, so instructions
    # planted in a README or a CSV cell cannot become the person's answers.
    tainted: bool = False


FABRICATED = (
    "The person did not say that in this message: record only what their own message of "
    "this turn states (quote their words), and ask them for the rest."
)


TAINTED = (
    "Content from outside was read in this turn, so recording answers or asking for consent "
    "waits for the person's next message."
)


def wrap(payload: Any) -> str:
    """Tool output as data the model must not obey; '<' is escaped so it cannot close the tag."""
    text = json.dumps(payload, ensure_ascii=False, default=str).replace("<", "\\u003c")
    return f"{UNTRUSTED_OPEN}\n{text}\n{UNTRUSTED_CLOSE}"


def _out(ctx: LlmContext, name: str, payload: dict[str, Any]) -> str:
    """Keep the result for grounding; send it redacted (a parser's message may quote the
    person's words) and wrapped as untrusted data."""
    ctx.called.append(name)
    ctx.results.append(payload)
    return wrap(minimise(payload))


def _interview(ctx: LlmContext) -> FlowSession | None:
    row = ctx.row
    return row if row is not None and row.status == "active" else None


@tool
def record_answer(question_id: str, answer: str, runtime: ToolRuntime[LlmContext]) -> str:
    """Record the person's answer to an open interview question (question_id from the state),
    in their words or a short paraphrase: "senior", "3 clients", "Python 4, SQL 3".
    Returns what was understood, or what was unclear."""
    ctx = runtime.context
    row = _interview(ctx)
    if row is None:
        return _out(ctx, "record_answer", {"error": "No interview is in progress; the person can type /audit to start one."})  # fmt: skip
    if ctx.tainted:
        return _out(ctx, "record_answer", {"error": TAINTED})
    if question_id not in INTERVIEW_IDS:
        return _out(ctx, "record_answer", {"error": f"Unknown question id {question_id!r}; use an id from the open questions."})  # fmt: skip
    q = question(question_id)
    if question_id == "consents":  # declining is always safe; allowing needs the person's button
        value, _ = understood(q, answer, row.answers, ctx.turn.kb)
        if value != []:
            return _out(ctx, "record_answer", {"error": "Consent is given only by the person: call ask_consent to show them the buttons."})  # fmt: skip
    if not applies(q, row.answers):
        return _out(ctx, "record_answer", {"error": f"{question_id} does not apply given the earlier answers."})  # fmt: skip
    if q.kind in ("ratings",) and not row.answers.get("target_role"):
        return _out(ctx, "record_answer", {"error": "Record target_role first: the skills rated depend on the role."})  # fmt: skip
    if any(p in answer for p in PLACEHOLDERS):
        # The model saw a redacted message; the local parser reads what the person typed.
        answer = restore(answer, ctx.message)
    value, problem = understood(q, answer, row.answers, ctx.turn.kb)
    if problem is not None:
        return _out(ctx, "record_answer", {"question": question_id, "not_understood": problem})
    # The value, not the model's wording, must come from the person's own message.
    if not from_message(q, value, ctx.message, row.answers, ctx.turn.kb):
        return _out(ctx, "record_answer", {"question": question_id, "error": FABRICATED})
    following = record(row.answers, row.history, q, value)
    apply_side_answers(row.answers, side_answers(q, value, answer, ctx.turn.kb))
    row.position = following.id if following else row.position
    ctx.turn.scope.save_flow(row)
    noted = describe_answer(q, value, ctx.turn.kb)
    ctx.done.append(noted)
    payload = {"recorded": q.id, "understood": noted.removeprefix("Noted: ")}
    if q.kind == "money":  # amounts stay on this machine
        payload["understood"] = "an amount (kept locally)"
    return _out(ctx, "record_answer", payload)


@tool
def record_skill(skill: str, rating: float, evidence: str, runtime: ToolRuntime[LlmContext]) -> str:
    """Record a skill the person described ("Kubernetes"), with the 1-5 rating they gave in
    their message, and their evidence quoted from it ("two years of Kubernetes at work")."""
    ctx = runtime.context
    row = _interview(ctx)
    kb = ctx.turn.kb
    if row is None:
        return _out(ctx, "record_skill", {"error": "No interview is in progress; the person can type /audit to start one."})  # fmt: skip
    if ctx.tainted:
        return _out(ctx, "record_skill", {"error": TAINTED})
    found = kb.resolve_skill(skill) or kb.fuzzy_skill(skill)
    if found is None:
        hint = kb.suggest_skills(skill)
        return _out(ctx, "record_skill", {"error": f"Unknown skill {skill!r}.", "did_you_mean": hint})  # fmt: skip
    if not 1 <= rating <= 5:
        return _out(ctx, "record_skill", {"error": "The rating must be between 1 and 5."})
    if not skill_rating_from_message(found.id, rating, ctx.message, kb):
        return _out(ctx, "record_skill", {"skill": skill, "error": FABRICATED})
    said = evidence_from_message(found.id, evidence, ctx.message, kb)
    stated = dict(row.answers.get("stated_skills") or {})
    stated[found.id] = {"rating": round(float(rating), 1), "evidence": clip(said, 200)}
    row.answers["stated_skills"] = stated
    ctx.turn.scope.save_flow(row)
    ctx.done.append(f"Noted: {found.name} {rating:g}/5 ({clip(said, 80)}).")
    return _out(ctx, "record_skill", {"recorded": found.name, "rating": round(float(rating), 1)})


@tool(
    description=(
        "Show the person buttons to allow sources as evidence: "
        f"{', '.join(CONSENT_SOURCES)}. Only their press records consent."
    )
)
def ask_consent(sources: list[str], runtime: ToolRuntime[LlmContext]) -> str:
    """Show the person buttons to allow evidence sources (see the tool description)."""
    ctx = runtime.context
    if ctx.tainted:
        return _out(ctx, "ask_consent", {"error": TAINTED})
    wanted = [s for s in dict.fromkeys(sources) if s in CONSENT_SOURCES]
    unknown = [s for s in sources if s not in CONSENT_SOURCES]
    if not wanted:
        return _out(ctx, "ask_consent", {"error": f"Unknown sources {unknown}; use {list(CONSENT_SOURCES)}."})  # fmt: skip
    granted = ctx.turn.scope.consents()
    missing = [s for s in wanted if not granted.get(s)]
    row = _interview(ctx)
    if row is not None and "consents" not in row.answers:  # asked: guided mode will not repeat it
        row.answers["consents"] = sorted(s for s, ok in granted.items() if ok)
        following = first_open(row.answers)
        row.position = following.id if following else row.position
        ctx.turn.scope.save_flow(row)
    if missing:
        ctx.final = Reply(
            text="May I read these sources as evidence? Press a button to allow one (you can withdraw it any time with /consent).",
            choices=[Choice(label=f"Allow {s}", value=f"/consent grant {s}") for s in missing],
        )
    return _out(
        ctx,
        "ask_consent",
        {"shown_buttons_for": missing, "already_allowed": [s for s in wanted if s not in missing]},
    )


@tool
def run_connector(source: str, arguments: str, runtime: ToolRuntime[LlmContext]) -> str:
    """Gather evidence from an allowed source: "github" or "kaggle" with the username,
    "local_git" with a folder and e-mail. Returns the evidence found (outside data)."""
    from agent.side_commands import describe
    from agent.usecases.evidence import connect

    ctx = runtime.context
    if ctx.tainted:
        return _out(ctx, "run_connector", {"error": "One source per message: ask the person before reading another."})  # fmt: skip
    try:
        words = shlex.split(arguments)
    except ValueError:
        words = arguments.split()
    try:
        connection = connect(ctx.turn, source, words)
    except ConnectorError as exc:
        ctx.done.append(f"{source}: {exc}")
        return _out(ctx, "run_connector", {"error": str(exc)})
    reply = describe(connection)
    result = connection.result
    ctx.tainted = ctx.tainted or result is not None
    evidence = [
        {"skill": e.skill, "detail": clip(e.detail, 160)}
        for e in (result.evidence if result is not None else [])[:12]
    ]
    ctx.done.append(reply.text)
    if reply.choices:  # the consent button, when it was missing
        ctx.final = Reply(text=reply.text, choices=reply.choices)
    return _out(ctx, "run_connector", {"summary": reply.text, "evidence": evidence})


@tool
def run_audit(runtime: ToolRuntime[LlmContext]) -> str:
    """Score the audit from what is recorded (unanswered means unknown, not zero). Returns
    the overall, pillar and top-gap figures; the person sees the full draft."""
    from agent import interview_flow
    from agent.usecases.audits import audit_answers

    ctx = runtime.context
    row = _interview(ctx)
    if row is None:
        return _out(ctx, "run_audit", {"error": "No interview is in progress; the person can type /audit to start one."})  # fmt: skip
    if not row.answers.get("target_role"):
        return _out(ctx, "run_audit", {"error": "Record target_role first."})
    try:
        outcome = audit_answers(ctx.turn, row.answers, force=bool(row.answers.get("_force")))
    except SkillAuditError as exc:
        return _out(ctx, "run_audit", {"error": f"I could not score this audit yet: {exc}"})
    ctx.turn.scope.end_flow(row, "done")
    ctx.final = interview_flow.finished(ctx.turn, outcome)
    return _out(ctx, "run_audit", summarise(outcome.report.result))


def summarise(result: AuditResult) -> dict[str, Any]:
    """The figures of an audit a model may quote: overall, pillars, top gaps."""
    return {
        "as_of": result.as_of.isoformat(),
        "role": result.target_role_name,
        "overall": result.overall.model_dump(mode="json"),
        "pillars": {
            p.title: {"score": p.score, "confidence": p.confidence} for p in result.pillars.values()
        },
        "top_gaps": [g.model_dump(mode="json") for g in result.top_gaps[:5]],
        "unknown_skills": len(result.unknown_skills),
        "next_audit": result.schedule.next_audit.isoformat(),
        "review": "draft: the person should review it with /review",
    }


@tool
def explain_score(skill: str, runtime: ToolRuntime[LlmContext]) -> str:
    """Explain one skill's score in the latest audit: proficiency, market demand, gap,
    confidence, status and the evidence behind it."""
    ctx = runtime.context
    latest = ctx.turn.scope.latest_audit()
    if latest is None:
        return _out(ctx, "explain_score", {"error": "There is no audit yet."})
    kb = ctx.turn.kb
    found = kb.resolve_skill(skill) or kb.fuzzy_skill(skill)
    score = next((s for s in latest.audit.skills if found and s.id == found.id), None)
    if score is None:
        return _out(ctx, "explain_score", {"error": f"{skill!r} was not scored in the audit of {latest.as_of}."})  # fmt: skip
    keys = {"name", "pillar", "proficiency", "demand", "gap", "confidence", "status", "role_level"}
    payload: dict[str, Any] = score.model_dump(mode="json", include=keys)
    payload["evidence"] = [
        {
            "source": e.source.value,
            "detail": clip(e.detail, 160),
            "observed": e.observed.isoformat(),
        }
        for e in score.evidence[:6]
    ]
    payload["audit_state"] = latest.state
    from tools.explain import explain_skill

    payload["meaning"] = explain_skill(score)  # plain words for the reply
    known = score.proficiency is not None
    ctx.done.append(
        f"{score.name} ({latest.as_of}): proficiency {score.proficiency if known else 'unknown'}, "
        f"market demand {score.demand}, gap {score.gap if known else 'unknown'}, "
        f"confidence {score.confidence}."
    )
    return _out(ctx, "explain_score", payload)


@tool
def search_courses(topic: str, runtime: ToolRuntime[LlmContext]) -> str:
    """Find courses and frameworks in the catalog for a topic ("deploying models with
    Docker"), ranked for the person's level, time and budget. Nothing is stored."""
    from agent.recommend import constraints_from, targets_for_skills
    from knowledge.retriever import Constraints

    ctx = runtime.context
    turn = ctx.turn
    try:
        retriever = turn.recommender.retriever()
    except Exception as exc:  # the index is optional for the conversation
        return _out(ctx, "search_courses", {"error": f"Recommendations are unavailable: {type(exc).__name__}"})  # fmt: skip
    skills = retriever.match_skills(topic)
    if not skills:
        return _out(ctx, "search_courses", {"error": "No skill in the catalog matches that topic."})  # fmt: skip
    latest = turn.scope.latest_audit()
    targets = targets_for_skills(skills, latest.audit if latest else None, turn.kb)
    constraints = constraints_from(latest.profile, latest.context) if latest else Constraints()
    picks = retriever.recommend(targets, constraints, query=topic, limit=5)
    keep = ("title", "provider", "url", "type", "level", "hours", "cost_usd", "reason")
    found = [{k: p.to_dict()[k] for k in keep} for p in picks[:5]]
    ctx.done += [f"- {c['title']} ({c['provider']}, {c['hours']:g} h): {c['url']}" for c in found]
    return _out(ctx, "search_courses", {"skills": skills, "courses": found})


@tool
def make_plan(runtime: ToolRuntime[LlmContext]) -> str:
    """Make the dated learning plan for the latest audit's top gaps (stored as a draft the
    person reviews). Returns the plan's items with dates."""
    from agent import next_flow
    from agent.usecases.plans import RecommendationsUnavailable, plan_for_audit

    ctx = runtime.context
    latest = ctx.turn.scope.latest_audit()
    if latest is None:
        return _out(ctx, "make_plan", {"error": "There is no audit yet: run the audit first."})
    try:
        outcome = plan_for_audit(ctx.turn, latest)
    except RecommendationsUnavailable as exc:
        return _out(ctx, "make_plan", {"error": str(exc)})
    if outcome is None:
        return _out(ctx, "make_plan", {"error": "The audit found no gap worth a plan."})
    ctx.final = next_flow.render(ctx.turn, outcome)
    items = [
        {k: item.get(k) for k in ("title", "start", "end", "hours", "skill")}
        for item in outcome.row.plan.get("items", [])[:8]
    ]
    return _out(ctx, "make_plan", {"items": items, "state": "draft: review with /review"})


@tool
def show_schedule(runtime: ToolRuntime[LlmContext]) -> str:
    """When the next full audit is due and which short check-ins come before it."""
    ctx = runtime.context
    schedule = ctx.turn.scope.latest_schedule()
    if schedule is None:
        return _out(ctx, "show_schedule", {"error": "No audit yet, so nothing is scheduled."})
    payload = {
        "next_audit": schedule.next_audit.isoformat(),
        "days_from_today": (schedule.next_audit - ctx.turn.today).days,
        "cadence": schedule.cadence,
        "check_ins": schedule.micro_audits[:6],
    }
    ctx.done.append(f"Your next full audit is due on {payload['next_audit']}.")
    return _out(ctx, "show_schedule", payload)


# What each phase needs: the interview records and scores; afterwards, explain and plan.
INTERVIEW_TOOLS = frozenset({"record_answer", "record_skill", "ask_consent", "run_connector", "run_audit"})  # fmt: skip
AFTER_TOOLS = frozenset({"explain_score", "search_courses", "make_plan", "show_schedule", "ask_consent", "run_connector"})  # fmt: skip


@wrap_model_call
def phase_tools(request: ModelRequest, handler: Callable[[ModelRequest], Any]) -> Any:
    """Offer the model only the tools of the phase it is in: fewer tokens per call, and
    fewer ways to go wrong. (A tool it calls anyway still runs only through its own checks.)"""
    ctx = cast(LlmContext, request.runtime.context)
    names = INTERVIEW_TOOLS if _interview(ctx) is not None else AFTER_TOOLS
    return handler(
        request.override(tools=[t for t in request.tools if getattr(t, "name", "") in names])
    )


RECORDING = frozenset({"record_answer", "record_skill"})


@before_model(can_jump_to=["end"])
def answered_with_the_call(state: Any, runtime: Any) -> dict[str, Any] | None:
    """End the turn without a second model call when the model wrote its reply alongside
    its recording calls and every one of them succeeded: half the calls (and tokens) for
    most turns of an interview. Anything else (a refusal, an audit to explain) goes back
    to the model as usual."""
    ctx = cast(LlmContext, runtime.context)
    messages = state["messages"]
    last_ai = max(
        (i for i, m in enumerate(messages) if getattr(m, "type", "") == "ai"), default=None
    )
    if last_ai is None:
        return None
    ai = messages[last_ai]
    calls = getattr(ai, "tool_calls", None) or []
    if not calls or not str(ai.content).strip() or any(c["name"] not in RECORDING for c in calls):
        return None
    recent = ctx.results[-len(calls) :] if len(ctx.results) >= len(calls) else []
    if len(recent) != len(calls) or any("error" in r or "not_understood" in r for r in recent):
        return None
    return {"jump_to": "end"}


TOOLS = (
    record_answer,
    record_skill,
    ask_consent,
    run_connector,
    run_audit,
    explain_score,
    search_courses,
    make_plan,
    show_schedule,
)
ALLOWED = frozenset(t.name for t in TOOLS)
