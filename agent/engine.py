"""The conversation engine: one entry point handles one message from one user.

```mermaid
flowchart LR
    msg[message] --> intent{command or question?}
    intent -- yes --> cmd[command handler]
    intent -- no --> flow{active flow?}
    flow -- "interview or none, model on" --> llm[LLM interviewer: agent/llm]
    llm -- fails --> iv
    flow -- interview --> iv[guided interviewer]
    flow -- review --> rv[review gate]
    flow -- model --> md[model audit]
    flow -- forget --> fg[erase confirmation]
    flow -- none --> idle[overview / start the interview]
```

Every message runs in one database transaction scoped to its user: answers are saved
before the reply is returned, and a failure rolls back only that message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import shutil
import threading
from collections.abc import Callable

from agent import connect, history, interview_flow, model_flow, next_flow, review_flow, reviewer
from agent.config import Settings
from agent.intents import detect, looks_like_learning_question
from agent.interview import first_open, questions
from agent.llm.model import LanguageModel
from agent.parsing import clean
from agent.recommend import Recommender
from agent.render import render_chat
from agent.reply import Attachment, Choice, Reply
from agent.store import FlowSession, Store
from agent.turn import Turn
from knowledge.base import KnowledgeBase, default_knowledge

log = logging.getLogger(__name__)
MAX_MESSAGE_CHARS = 8000


class Engine:
    """Handles messages for any number of users; one user's messages are handled in order."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        kb: KnowledgeBase | None = None,
        today: Callable[[], dt.date] = dt.date.today,
        recommender: Recommender | None = None,
        llm: LanguageModel | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.kb = kb or default_knowledge()
        self.today = today
        self.recommender = recommender or Recommender(settings, self.kb)
        if llm is None and settings.llm_enabled:
            llm = LanguageModel(settings)
        self.llm = llm
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    async def handle(self, user: str, text: str) -> Reply:
        """Handle one message (typed text or a picked choice's value) and return the reply."""
        return await asyncio.to_thread(self.handle_sync, user, text)

    def handle_sync(self, user: str, text: str) -> Reply:
        with self._lock(user):
            with self.store.user(user) as scope:
                turn = Turn(
                    scope=scope,
                    kb=self.kb,
                    settings=self.settings,
                    today=self.today(),
                    recommender=self.recommender,
                    llm=self.llm,
                )
                reply = dispatch(turn, text)
                notices = [] if turn.scrub else scope.take_notices()
                if notices:
                    reply = reply.prefixed("\n".join(notices))
                if scope.created:
                    reply = reply.prefixed(self._welcome())
                    if self.llm is not None:
                        from agent.llm.conversation import mark_told

                        memory = scope.llm_memory()
                        mark_told(memory, self.llm)
                        scope.save_llm_memory(memory)
            # The transaction has committed: now it is safe to remove files and scrub the store.
            for task in turn.after_commit:
                task()
            if turn.scrub:
                self.store.scrub()
            return reply

    def _welcome(self) -> str:
        model = ""
        if self.llm is not None:
            from agent.llm.conversation import render_endpoint

            model = render_endpoint(self.llm.endpoint)
        return render_chat("welcome.j2", storage=self.settings.describe_storage(), model=model)

    def _lock(self, user: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(user, threading.Lock())


def dispatch(turn: Turn, raw: str) -> Reply:
    text = clean(raw)
    flow = turn.flow
    if len(raw) > MAX_MESSAGE_CHARS:
        note = f"That message is too long for me ({len(raw):,} characters); please answer in a few words."
        return resume(turn, flow).prefixed(note)
    if not text:
        return resume(turn, flow).prefixed("I did not catch anything there.")
    intent = detect(text)
    if intent is not None:
        name, argument = intent
        return command(turn, flow, name, argument)
    if conversational(turn) and (flow is None or flow.flow == "interview"):
        if flow is None and (turn.scope.created or not turn.scope.audits()):
            flow = turn.scope.start_flow("interview", questions()[0].id, answers={"_force": False})
        return converse(turn, flow, text)
    if flow is None:
        return idle(turn, text)
    return FLOW_ANSWERS[flow.flow](turn, flow, text)


def idle(turn: Turn, text: str) -> Reply:
    """A message outside any flow, without the language model."""
    if looks_like_learning_question(text):
        return cmd_next(turn, None, text)
    if turn.scope.created or not turn.scope.audits():
        return interview_flow.start(turn, force=False)
    return overview(turn).prefixed("I am not asking anything right now.")


def conversational(turn: Turn) -> bool:
    """Whether the language model answers this person's messages (configured and chosen)."""
    if turn.llm is None:
        return False
    from agent.llm import conversation

    return conversation.enabled(turn)


def converse(turn: Turn, flow: FlowSession | None, text: str, answer: bool = True) -> Reply:
    """Answer with the language model; if it fails, with the guided interviewer.

    `answer` is False when `text` is not the person's words (starting or resuming an
    interview): nothing is recorded from it, and the guided fallback asks the current
    question instead of parsing it.
    """
    from agent.llm import conversation

    def guided(asked: str | None) -> Reply:
        """`asked`: the interview question the person was answering, when it is known."""
        if flow is None:
            return idle(turn, text)
        if answer and asked is not None and asked not in flow.answers:
            flow.position = asked
            turn.scope.save_flow(flow)
            return interview_flow.answer(turn, flow, text)
        following = first_open(flow.answers)
        if following is not None:
            flow.position = following.id
            turn.scope.save_flow(flow)
        return interview_flow.ask(turn, flow)

    return conversation.respond(turn, flow, text, guided, said=answer)


def command(turn: Turn, flow: FlowSession | None, name: str, argument: str) -> Reply:
    if name == "unknown":
        return resume(turn, flow).prefixed(
            f"I do not know the command /{argument}. Type /help for the list."
        )
    if name in ("back", "skip", "why"):
        if flow is None:
            return overview(turn).prefixed(
                f"There is no question to go {name} to right now."
                if name != "why"
                else "I am not asking anything right now."
            )
        return FLOW_CONTROLS[flow.flow](turn, flow, name)
    if name == "cancel":
        if flow is None:
            return overview(turn).prefixed("Nothing to cancel.")
        turn.scope.end_flow(flow, "cancelled")
        return resume(turn, turn.flow).prefixed(f"Cancelled the {flow.flow.replace('_', ' ')}.")
    if name == "help":
        where = current_question(turn, flow)
        return Reply(text=render_chat("help.j2", where=where), choices=_menu())
    handler = COMMANDS[name]
    return handler(turn, flow, argument)


def resume(turn: Turn, flow: FlowSession | None) -> Reply:
    """Ask the current question of the active flow again, or show the overview."""
    if flow is None:
        return overview(turn)
    return FLOW_RESUME[flow.flow](turn, flow)


def current_question(turn: Turn, flow: FlowSession | None) -> str:
    return resume(turn, flow).text if flow is not None else ""


def overview(turn: Turn) -> Reply:
    latest = turn.scope.latest_audit()
    if latest is None:
        return Reply(
            text="Type /audit to start your skills audit.",
            choices=[Choice(label="Start the audit", value="/audit")],
        )
    score = "?" if latest.overall is None else f"{latest.overall:.1f}"
    text = f"Your latest audit ({latest.as_of}, {latest.state}): overall {score}/100. What next?"
    return Reply(text=text, choices=_menu())


def _menu() -> list[Choice]:
    return [
        Choice(label="What should I learn next?", value="/next"),
        Choice(label="Review my audit", value="/review"),
        Choice(label="My progress", value="/progress"),
        Choice(label="Full report", value="/report"),
        Choice(label="New audit", value="/audit"),
    ]


def cmd_start(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    if flow is not None:
        return resume(turn, flow).prefixed("Welcome back! Here is where we were:")
    if not turn.scope.audits():
        return interview_flow.start(turn, force=False)
    return overview(turn).prefixed("Welcome back!")


def cmd_audit(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    interview = next((f for f in turn.scope.active_flows() if f.flow == "interview"), None)
    if interview is not None:
        for other in turn.scope.active_flows():
            if other.id != interview.id:
                turn.scope.end_flow(other, "cancelled")
        if conversational(turn):
            return converse(turn, interview, "Let's continue my audit.", answer=False)
        return interview_flow.ask(turn, interview).prefixed(
            "Resuming your audit where we left off."
        )
    reply = interview_flow.start(turn, force=argument.lower() in ("force", "--force"))
    started = turn.flow
    if conversational(turn) and started is not None and started.flow == "interview":
        return converse(turn, started, "I would like to start my skills audit.", answer=False)
    return reply


def cmd_next(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    reply = next_flow.command(turn, flow, argument)
    started = turn.flow
    if (
        started is not None
        and started.flow == "next_quick"
        and (flow is None or started.id != flow.id)
    ):
        return reply
    return _then_resume(turn, flow, reply)


def cmd_progress(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    audits = turn.scope.audits()
    delta = history.compare(audits[-2], audits[-1]) if len(audits) >= 2 else None
    attachments = []
    if audits:
        from agent.charts import progress_chart

        rows = [{"as_of": a.as_of, "result": a.result} for a in audits]
        path = progress_chart(rows, turn.user_dir / "charts" / f"progress-{audits[-1].id}.png")
        attachments.append(
            Attachment(
                kind="image",
                path=path,
                filename=path.name,
                mime_type="image/png",
                caption="Scores over time",
            )
        )
    reply = Reply(
        text=render_chat("progress.j2", audits=audits, delta=delta), attachments=attachments
    )
    return _then_resume(turn, flow, reply)


def cmd_schedule(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    schedule = turn.scope.latest_schedule()
    days = (schedule.next_audit - turn.today).days if schedule else None
    return _then_resume(
        turn, flow, Reply(text=render_chat("schedule.j2", schedule=schedule, days=days))
    )


def cmd_report(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    latest = turn.scope.latest_audit()
    if latest is None:
        text = "There is no audit to report on yet. Type /audit to start one."
        return _then_resume(turn, flow, Reply(text=text))
    fmt = argument.lower() if argument.lower() in history.REPORT_FORMATS else "md"
    folder = turn.user_dir / "reports"
    plan = turn.scope.latest_plan(latest)
    path = history.write_report(latest, turn.scope.decisions("audit", latest.id), plan, fmt, folder)
    from agent.charts import radar_chart

    radar = radar_chart(latest.result, folder / f"audit-{latest.id}-pillars.png")
    state = "final" if latest.state == "final" else "draft (not yet reviewed)"
    attachments = [
        Attachment(kind="file", path=path, filename=path.name, mime_type=history.REPORT_FORMATS[fmt],
                   caption=f"SkillAudit report, {latest.as_of}"),
        Attachment(kind="image", path=radar, filename=radar.name, mime_type="image/png", caption="Pillar scores"),
    ]  # fmt: skip
    text = f"Your report of {latest.as_of} ({state}) is attached: {path}"
    return _then_resume(turn, flow, Reply(text=text, attachments=attachments, state=latest.state))


def cmd_export(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    data = turn.scope.export()
    folder = turn.user_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"skillaudit-export-{turn.today.isoformat()}.json"
    history.write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False, default=str))
    attachment = Attachment(
        kind="file",
        path=path,
        filename=path.name,
        mime_type="application/json",
        caption="All your SkillAudit data",
    )
    text = f"Everything stored about you is in {path} ({len(data['audits'])} audits, {len(data['sessions'])} conversations)."
    return _then_resume(turn, flow, Reply(text=text, attachments=[attachment]))


def cmd_forget(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    row = turn.scope.start_flow("forget", "confirm")
    return forget_ask(turn, row)


CONSENT_SOURCES = (
    "github",
    "local_git",
    "mlflow",
    "kaggle",
    "certificates",
    "income_csv",
    "cv",
    "fairness",
)


def cmd_consent(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    """Show consents, or grant / withdraw one: "/consent withdraw github"."""
    words = argument.lower().replace(",", " ").split()
    consents = turn.scope.consents()
    if len(words) >= 2 and words[0] in ("grant", "give", "allow", "withdraw", "revoke", "remove"):
        granted = words[0] in ("grant", "give", "allow")
        sources = [w for w in words[1:] if w in CONSENT_SOURCES]
        unknown = [w for w in words[1:] if w not in CONSENT_SOURCES]
        if unknown or not sources:
            return Reply(
                text=f"Unknown source {' '.join(unknown) or '(none given)'}; sources: {', '.join(CONSENT_SOURCES)}."
            )
        lines = []
        for source in sources:
            turn.scope.set_consent(source, granted)
            if granted:
                lines.append(f"Consent for {source} recorded.")
            else:
                deleted = turn.scope.delete_source_data(source)
                plural = "s" if deleted != 1 else ""
                lines.append(
                    f"Consent for {source} withdrawn; {deleted} stored result{plural} from it deleted."
                )
        return _then_resume(turn, flow, Reply(text="\n".join(lines)))
    status = [
        f"- {source}: {'yes' if consents.get(source) else 'no'}" for source in CONSENT_SOURCES
    ]
    text = "Sources SkillAudit may use as evidence:\n" + "\n".join(status)
    text += '\nChange with "/consent grant github" or "/consent withdraw github" (withdrawing deletes what came from it).'
    return _then_resume(turn, flow, Reply(text=text))


def cmd_guided(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    """Switch to the guided questions (no language model); nothing answered is lost."""
    if turn.llm is None:
        return _then_resume(turn, flow, Reply(text="No language model is configured, so the guided questions are already in use."))  # fmt: skip
    memory = turn.scope.llm_memory()
    memory.mode = "guided"
    turn.scope.save_llm_memory(memory)
    note = "Switched to the guided questions; nothing you answered is lost. Type /conversation to talk with the language model again."
    if flow is not None and flow.flow == "interview":
        following = first_open(flow.answers)
        if following is not None:
            flow.position = following.id
            turn.scope.save_flow(flow)
            return interview_flow.ask(turn, flow).prefixed(note)
    return _then_resume(turn, flow, Reply(text=note))


def cmd_conversation(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    """Switch back to talking with the language model, when one is configured."""
    if turn.llm is None:
        text = (
            "No language model is configured (set OPENAI_API_KEY, or OPENAI_BASE_URL for a local "
            "server, and SKILLAUDIT_MODEL), so the guided questions go on."
        )
        return _then_resume(turn, flow, Reply(text=text))
    memory = turn.scope.llm_memory()
    memory.mode = "conversation"
    turn.scope.save_llm_memory(memory)
    if flow is not None and flow.flow == "interview":
        return converse(turn, flow, "Let's continue my audit.", answer=False)
    return _then_resume(turn, flow, Reply(text="Back to the conversation with the language model."))


def cmd_review(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    return review_flow.start(turn)


def cmd_model(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    return model_flow.start(turn)


def _then_resume(turn: Turn, flow: FlowSession | None, reply: Reply) -> Reply:
    """Answer a side question, then repeat where the person was in a flow."""
    if flow is None:
        return reply
    back = resume(turn, flow)
    keep = {
        "attachments": reply.attachments,
        "data": reply.data,
        "state": reply.state or back.state,
    }
    return back.prefixed(reply.text + "\n\nBack to where we were:").model_copy(update=keep)


def forget_ask(turn: Turn, row: FlowSession) -> Reply:
    text = (
        "This erases everything stored about you: answers, audits, reviews, consents and schedule. "
        "It cannot be undone (use /export first to keep a copy). Erase everything?"
    )
    return Reply(
        text=text,
        choices=[
            Choice(label="Yes, erase everything", value="yes"),
            Choice(label="No, keep it", value="no"),
        ],
    )


def forget_answer(turn: Turn, row: FlowSession, text: str) -> Reply:
    from agent.parsing import Unclear, parse_yes_no

    try:
        erase = parse_yes_no(text)
    except Unclear:
        return forget_ask(turn, row).prefixed("Please answer yes or no.")
    if not erase:
        turn.scope.end_flow(row, "cancelled")
        return resume(turn, turn.flow).prefixed("Nothing was erased.")
    counts = turn.scope.erase()
    folder = turn.user_dir
    files = sum(1 for f in folder.rglob("*") if f.is_file()) if folder.exists() else 0
    turn.after_commit.append(lambda: shutil.rmtree(folder, ignore_errors=True))
    turn.scrub = True
    log.info("erased all data of one user")
    erased = ", ".join(f"{n} {table.replace('_', ' ')}" for table, n in counts.items() if n)
    plural = "s" if files != 1 else ""
    return Reply(
        text=(
            f"Everything stored about you has been erased: {erased or 'no stored rows'}, your account, "
            f"and {files} generated file{plural}. If you write again, we start from scratch."
        ),
        expects_text=False,
    )


def forget_control(turn: Turn, row: FlowSession, name: str) -> Reply:
    if name == "why":
        return forget_ask(turn, row).prefixed(
            "You asked to erase your data; I confirm first because it cannot be undone."
        )
    turn.scope.end_flow(row, "cancelled")
    return resume(turn, turn.flow).prefixed("Nothing was erased.")


COMMANDS: dict[str, Callable[[Turn, FlowSession | None, str], Reply]] = {
    "start": cmd_start,
    "audit": cmd_audit,
    "next": cmd_next,
    "progress": cmd_progress,
    "schedule": cmd_schedule,
    "report": cmd_report,
    "export": cmd_export,
    "forget": cmd_forget,
    "review": cmd_review,
    "model": cmd_model,
    "consent": cmd_consent,
    "connect": connect.connect,
    "pending": reviewer.pending,
    "approve": reviewer.approve,
    "return": reviewer.send_back,
    "guided": cmd_guided,
    "conversation": cmd_conversation,
}
FLOW_ANSWERS: dict[str, Callable[[Turn, FlowSession, str], Reply]] = {
    "interview": interview_flow.answer,
    "review": review_flow.answer,
    "model": model_flow.answer,
    "forget": forget_answer,
    "next_quick": next_flow.answer,
}
FLOW_CONTROLS: dict[str, Callable[[Turn, FlowSession, str], Reply]] = {
    "interview": interview_flow.control,
    "review": review_flow.control,
    "model": model_flow.control,
    "forget": forget_control,
    "next_quick": next_flow.control,
}
FLOW_RESUME: dict[str, Callable[[Turn, FlowSession], Reply]] = {
    "interview": interview_flow.ask,
    "review": review_flow.ask,
    "model": model_flow.ask,
    "forget": forget_ask,
    "next_quick": next_flow.ask,
}
