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
    flow -- check --> ck[skill check]
    flow -- "endorse, endorse_request" --> en[endorsement: give / ask]
    flow -- none --> idle[overview / start the interview]
```

Every message runs in one database transaction scoped to its user: answers are saved
before the reply is returned, and a failure rolls back only that message. The transaction
holds the store (SQLite's write lock) only for database work: the course index is loaded,
and charts drawn, outside it. A remote front end passes a `Delivery` (its update id): the
update is marked handled and the reply kept in the outbox in that same transaction, so it
is answered once and its reply survives a crash (agent/store/outbox.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from sqlalchemy.exc import DBAPIError

from agent import (
    check_flow,
    endorse_flow,
    forget_flow,
    interview_flow,
    model_flow,
    next_flow,
    review_flow,
    reviewer,
    side_commands,
)
from agent.answers import PENDING
from agent.config import Settings
from agent.intents import detect, looks_like_learning_question
from agent.interview import choices_for, first_open, question, questions
from agent.parsing import clean
from agent.recommend import IndexNotReady
from agent.render import render_chat, welcome
from agent.reply import Choice, Reply
from agent.sources import Asker
from agent.store import (
    Delivery,
    FlowSession,
    Outbox,
    Pending,
    StoreBusy,
    busy_message,
    is_transient,
)
from agent.turn import Turn
from agent.workbench import Workbench

if TYPE_CHECKING:
    from agent.llm.model import LanguageModel

log = logging.getLogger(__name__)
MAX_MESSAGE_CHARS = 8000
MAX_PREPARE_ROUNDS = 4  # turns rolled back to do slow index work outside the transaction


class Engine(Workbench):
    """Handles messages for any number of users; one user's messages are handled in order."""

    llm: LanguageModel | None

    def _configured_llm(self, settings: Settings) -> LanguageModel | None:
        if not settings.llm_enabled:
            return None
        from agent.llm.model import LanguageModel

        return LanguageModel(settings)

    @overload
    async def handle(self, user: str, text: str) -> Reply: ...
    @overload
    async def handle(
        self, user: str, text: str, delivery: Delivery, asker: Asker = ...
    ) -> Reply | None: ...
    @overload
    async def handle(
        self, user: str, text: str, delivery: None = None, asker: Asker = ...
    ) -> Reply: ...

    async def handle(
        self, user: str, text: str, delivery: Delivery | None = None, asker: Asker = Asker.LOCAL
    ) -> Reply | None:
        """Handle one message (typed text or a picked choice's value) and return the reply.

        With a `delivery` (a remote front end's update) the reply is also kept in the outbox,
        in the same transaction that marks the update handled; None means the update was
        handled before (a redelivery) and nothing was done.
        """
        answered = await asyncio.to_thread(self._handle_retrying, user, text, delivery, asker)
        return answered.reply

    async def answer_update(
        self, user: str, text: str, delivery: Delivery, asker: Asker = Asker.REMOTE
    ) -> Answered:
        """`handle` for a remote front end's update, with the chat's outbox rows leased to
        `delivery.sender` in the answer's transaction (when it names one), ready to send."""
        return await asyncio.to_thread(self._handle_retrying, user, text, delivery, asker)

    @overload
    def handle_sync(self, user: str, text: str) -> Reply: ...
    @overload
    def handle_sync(
        self, user: str, text: str, delivery: Delivery, asker: Asker = ...
    ) -> Reply | None: ...
    @overload
    def handle_sync(
        self, user: str, text: str, delivery: None = None, asker: Asker = ...
    ) -> Reply: ...

    def handle_sync(
        self, user: str, text: str, delivery: Delivery | None = None, asker: Asker = Asker.LOCAL
    ) -> Reply | None:
        return self._handle_retrying(user, text, delivery, asker).reply

    def _handle_retrying(
        self, user: str, text: str, delivery: Delivery | None, asker: Asker
    ) -> Answered:
        """Handle one message in one short transaction, retried while the store is busy.

        Nothing slow runs while the transaction holds the store: a turn that needs the course
        index before it is loaded is rolled back, the index is loaded outside, and the turn
        runs again. If the store stays busy for the whole budget the message is rolled back
        and `StoreBusy` says to send it again.
        """
        if self.llm is not None:
            # The model's tools may search the courses at any turn: have the index ready
            # before the first transaction (a model call takes longer than loading it).
            self._prepare()
        deferred = True
        rounds = 0
        deadline = time.monotonic() + self.store.busy_timeout_s
        while True:
            try:
                if not deferred:
                    return self._handle(user, text, delivery, asker)
                with self.recommender.deferred():
                    return self._handle(user, text, delivery, asker)
            except IndexNotReady as needed:
                # If loading fails, the turn runs once more without deferring, so the use
                # case that wanted the index reports that in its own words. A turn that keeps
                # finding more to prepare (it never should) runs undeferred after a few rounds.
                rounds += 1
                deferred = self._prepare(needed.work) and rounds < MAX_PREPARE_ROUNDS
            except DBAPIError as exc:
                # A transient error after the transaction began (a deadlock, a serialization
                # failure, a lost connection): everything was rolled back, so run it again.
                if not is_transient(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise StoreBusy(busy_message()) from None
                time.sleep(random.uniform(0.0, 0.2))

    def _prepare(self, work: Callable[[], None] | None = None) -> bool:
        """Load the course index and its embedding model, and do the index work a turn asked
        for (a plan's query embeddings), outside any transaction."""
        try:
            self.recommender.prepare()
            if work is not None:
                work()
        except Exception:  # the use case that needs it says so when it runs undeferred
            log.warning("the course index could not be prepared", exc_info=True)
            return False
        return True

    def _handle(self, user: str, text: str, delivery: Delivery | None, asker: Asker) -> Answered:
        claimed: list[Pending] = []
        try:
            with self.work(user, asker=asker) as turn:
                assert turn is not None
                outbox = None
                if delivery is not None:
                    outbox = Outbox(turn.scope.session.connection())
                    if delivery.look_earlier and outbox.earlier_elsewhere(
                        delivery.bot, delivery.chat_id, delivery.update_id, delivery.sender
                    ):
                        raise _Blocked
                    if not outbox.take(
                        delivery.bot, delivery.update_id, delivery.chat_id, delivery.stored
                    ):
                        raise _Redelivered  # rolls back: nothing is created or changed
                    reply = delivered(turn, text, delivery, outbox)
                else:
                    reply = dispatch(turn, text)
                notices = [] if turn.scrub else turn.scope.take_notices()
                if notices:
                    reply = reply.prefixed("\n".join(notices))
                if turn.scope.created:
                    reply = reply.prefixed(self._welcome(turn.remote))
                    if self.llm is not None:
                        from agent.llm.conversation import mark_told

                        memory = turn.scope.llm_memory()
                        mark_told(memory, self.llm)
                        turn.scope.save_llm_memory(memory)
                if outbox is not None and delivery is not None:
                    payload = outgoing(turn, reply, text)
                    if delivery.sender is None:
                        outbox.add(
                            delivery.bot, delivery.chat_id, user, payload, "reply",
                            delivery.update_id,
                        )  # fmt: skip
                    else:
                        claimed = outbox.add_claimed(
                            delivery.bot, delivery.chat_id, user, payload, delivery.update_id,
                            delivery.sender,
                        )  # fmt: skip
        except _Redelivered:
            return Answered(None, [])
        except _Blocked:
            return Answered(None, [], blocked=True)
        if turn.scrubbed is not None:  # an erasure: say what the check afterwards found
            reply = reply.model_copy(update={"text": f"{reply.text}\n\n{turn.scrubbed.describe()}"})
        return Answered(reply, claimed)

    def _welcome(self, remote: bool = False) -> str:
        model = ""
        if self.llm is not None:
            from agent.llm.conversation import render_endpoint

            model = render_endpoint(self.llm.endpoint)
        return welcome(self.settings, model, remote)


@dataclass(frozen=True)
class Answered:
    """A message's reply (None: a redelivered update, handled before) and, for a remote
    update that names its sender, the chat's outbox rows leased to it, oldest first.
    `blocked`: nothing was answered, since an earlier update of the chat waits stored by
    another replica (`Delivery.look_earlier`); the front end waits for it and asks again."""

    reply: Reply | None
    claimed: list[Pending]
    blocked: bool = False


class _Redelivered(Exception):
    """An update handled before: roll the turn back and answer nothing."""


class _Blocked(Exception):
    """An earlier update of the chat waits with another replica: roll back, answer nothing."""


EDITED = (
    "Edits are not applied: I keep what you first sent. To change your last answer, type "
    '"back"; to change an earlier one, type "back" again.'
)
NOT_TEXT = (
    "I can only read text here (and documents, such as your CV as a PDF file); please type "
    "your answer."
)
STALE = "That button belongs to an earlier question, so I did not use it. The current one:"


def delivered(turn: Turn, text: str, delivery: Delivery, outbox: Outbox) -> Reply:
    """The answer to a remote front end's update: what kind of message it was decides."""
    failed = outbox.take_failed(delivery.bot, delivery.chat_id)
    if failed:
        return resume(turn, turn.flow).prefixed(undelivered(failed[-1]))
    if delivery.kind == "edit":
        return resume(turn, turn.flow).prefixed(EDITED)
    if delivery.kind == "unsupported":
        return resume(turn, turn.flow).prefixed(NOT_TEXT)
    if delivery.kind == "upload":
        if delivery.upload is None:
            note = f"I did not keep that file: {delivery.refused or 'it could not be read'}."
            return resume(turn, turn.flow).prefixed(note)
        return _follow(turn, side_commands.uploaded(turn, delivery.upload, text))
    if delivery.bound is not None and delivery.bound != question_key(turn):
        return resume(turn, turn.flow).prefixed(STALE)
    return dispatch(turn, text)


def undelivered(payload: dict[str, Any]) -> str:
    """Say what a reply that never arrived held, so the person knows what was recorded."""
    said = payload.get("said") or ""
    text = str(payload.get("reply", {}).get("text", ""))
    first = text.strip().split("\n\n", 1)[0]
    first = first if len(first) <= 300 else first[:299] + "\u2026"
    about = f' to your message "{said}"' if said else ""
    return (
        f"My reply{about} did not reach you (Telegram did not accept it). I had recorded "
        f"it; the reply said: {first}\nSo that nothing is answered twice, I did not use your "
        "new message; please send it again if it was an answer. Where we are now:"
    )


def question_key(turn: Turn, flow: FlowSession | None = None) -> str:
    """A short key of the question the person is at now; buttons carry the key of theirs."""
    flow = flow if flow is not None else turn.flow
    if flow is None:
        return "idle"
    pending = json.dumps(flow.answers.get(PENDING), sort_keys=True, default=str)
    seed = f"{flow.id}:{flow.flow}:{flow.position}:{pending}"
    return hashlib.sha256(seed.encode()).hexdigest()[:8]


def numbered(turn: Turn, reply: Reply, flow: FlowSession | None) -> bool:
    """Whether the reply's buttons are the current question's options in their order, so
    "Pick a number" in its hint means the buttons' numbers."""
    if flow is None or flow.flow != "interview" or not reply.choices or not flow.position:
        return False
    asked = question(flow.position)
    if asked.kind not in ("choice", "multi"):
        return False
    return [c.value for c in reply.choices] == [c.value for c in choices_for(asked, turn.kb)]


def outgoing(turn: Turn, reply: Reply, said: str) -> dict[str, Any]:
    """The outbox payload of a reply: what a front end needs to render and bind its buttons."""
    clipped = " ".join(said.split())
    flow = turn.flow
    return {
        # `data` is for scripts (--json) and can be large; a chat never shows it.
        "reply": reply.model_dump(mode="json", exclude={"data", "follow"}),
        "key": question_key(turn, flow),
        "numbered": numbered(turn, reply, flow),
        "said": clipped if len(clipped) <= 60 else clipped[:59] + "\u2026",
    }


def dispatch(turn: Turn, raw: str) -> Reply:
    """Route one message and let the reply say where the person goes next."""
    return _follow(turn, route(turn, raw))


def route(turn: Turn, raw: str) -> Reply:
    text = clean(raw)
    flow = turn.flow
    if len(raw) > MAX_MESSAGE_CHARS:
        note = f"That message is too long for me ({len(raw):,} characters); please answer in a few words."
        return resume(turn, flow).prefixed(note)
    if not text:
        return resume(turn, flow).prefixed("I did not catch anything there.")
    intent = detect(text)
    if (
        intent == ("help", "")
        and text.strip() == "?"
        and flow is not None
        and flow.flow == "interview"
    ):
        intent = ("explain", "")  # a lone "?" at a question asks about the question
    if intent is not None and not text.startswith("/") and answers_the_question(turn, flow, text):
        intent = None  # "consent" at the legal-basis question is an answer, not /consent
    if intent is not None and not (intent[0] in ("greeting", "explain") and conversational(turn)):
        name, argument = intent
        return command(turn, flow, name, argument)
    if conversational(turn) and (flow is None or flow.flow == "interview"):
        if flow is None and (turn.scope.created or not turn.scope.audits()):
            flow = turn.scope.start_flow("interview", questions()[0].id, answers={"_force": False})
        return converse(turn, flow, text)
    if flow is None:
        return idle(turn, text)
    return FLOWS[flow.flow].answer(turn, flow, text)


QUESTION_FLOWS = frozenset({"interview", "model", "next_quick"})  # positions are question ids


def answers_the_question(turn: Turn, flow: FlowSession | None, text: str) -> bool:
    """Whether a bare word is one of the current question's options (its value or label):
    a command word that is also an option ("consent", a typed or pressed "1") is the answer."""
    if flow is None or flow.flow not in QUESTION_FLOWS or not flow.position:
        return False
    try:
        q = question(flow.position)
    except KeyError:
        return False
    folded = text.strip().lower()
    return any(folded in (c.value.lower(), c.label.lower()) for c in choices_for(q, turn.kb))


def _follow(turn: Turn, reply: Reply) -> Reply:
    """Repeat the current question after a side answer, in one place for every flow."""
    if reply.follow == "resume":
        reply = _then_resume(turn, turn.flow, reply)
    elif reply.follow == "resume_or_overview":
        back = resume(turn, turn.flow).prefixed(reply.text)
        reply = back.model_copy(update={"state": reply.state or back.state})
    return reply.model_copy(update={"follow": ""}) if reply.follow else reply


def _then_resume(turn: Turn, flow: FlowSession | None, reply: Reply) -> Reply:
    """Answer a side question, then repeat where the person was in a flow."""
    if flow is None:
        return reply
    back = resume(turn, flow)
    keep: dict[str, Any] = {
        "attachments": reply.attachments,
        "data": reply.data,
        "state": reply.state or back.state,
    }
    # The side answer's command buttons ("Use as: Income records", "Allow") stay, after the
    # question's options, whose numbers they do not take; a pick-several question's buttons
    # are its options alone (a command is not one of the picks).
    commands = [c for c in reply.choices if c.value.startswith("/")]
    if commands and not back.multiple:
        keep["choices"] = [*back.choices, *commands]
    return back.prefixed(reply.text + "\n\nBack to where we were:").model_copy(update=keep)


def idle(turn: Turn, text: str) -> Reply:
    """A message outside any flow, without the language model."""
    if looks_like_learning_question(text):
        return side_commands.cmd_next(turn, None, text)
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
    if name == "greeting":
        if flow is None:  # someone new starts the interview; others get the overview
            return idle(turn, argument)
        return resume(turn, flow).prefixed("Hello!")
    if name == "unknown":
        return resume(turn, flow).prefixed(
            f"I do not know the command /{argument}. Type /help for the list."
        )
    if name == "explain" and (flow is None or flow.flow != "interview"):
        name = "why"  # only the interview's questions have a how-to-answer hint
    if name in ("back", "skip", "why", "explain"):
        latest = turn.scope.latest_audit() if name == "why" and flow is None else None
        if latest is not None and latest.audit.explain is not None:
            # "why?" after an audit: what its numbers mean (tools/explain.py wrote them).
            return overview(turn).prefixed(render_chat("audit_why.j2", r=latest.result))
        if flow is None:
            return overview(turn).prefixed(
                f"There is no question to go {name} to right now."
                if name != "why"
                else "I am not asking anything right now."
            )
        return FLOWS[flow.flow].control(turn, flow, name)
    if name == "cancel":
        if flow is None:
            return overview(turn).prefixed("Nothing to cancel.")
        turn.scope.end_flow(flow, "cancelled")
        return resume(turn, turn.flow).prefixed(f"Cancelled the {flow.flow.replace('_', ' ')}.")
    if name == "help":
        if flow is None:
            return Reply(
                text=render_chat("help.j2", where="", **_help(turn.asker)), choices=_menu()
            )
        # In a flow the reply ends with its question, and carries that question's choices:
        # a menu here would turn the next typed "5" (a rating) into its fifth entry.
        current = resume(turn, flow)
        text = render_chat("help.j2", where=current.text, **_help(turn.asker))
        return current.model_copy(update={"text": text})
    return HANDLERS[name](turn, flow, argument)


def _help(asker: Asker) -> dict[str, object]:
    from agent.commands import COMMANDS
    from agent.sources import offered

    return {
        "commands": COMMANDS,
        "sources": [s.name for s in offered(asker)],
        "remote": asker is Asker.REMOTE,
    }


def resume(turn: Turn, flow: FlowSession | None) -> Reply:
    """Ask the current question of the active flow again, or show the overview."""
    if flow is None:
        return overview(turn)
    return FLOWS[flow.flow].ask(turn, flow)


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
    if argument.strip():  # a deep link's payload (t.me/<bot>?start=CODE): an endorsement code
        return endorse_flow.open_code(turn, argument.strip())
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


def cmd_guided(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    """Switch to the guided questions (no language model); nothing answered is lost."""
    if turn.llm is None:
        return side_commands.side(Reply(text="No language model is configured, so the guided questions are already in use."))  # fmt: skip
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
    return side_commands.side(Reply(text=note))


def cmd_conversation(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    """Switch back to talking with the language model, when one is configured."""
    if turn.llm is None:
        text = (
            "No language model is configured (set OPENAI_API_KEY, or OPENAI_BASE_URL for a local "
            "server, and SKILLAUDIT_MODEL), so the guided questions go on."
        )
        return side_commands.side(Reply(text=text))
    memory = turn.scope.llm_memory()
    memory.mode = "conversation"
    turn.scope.save_llm_memory(memory)
    if flow is not None and flow.flow == "interview":
        return converse(turn, flow, "Let's continue my audit.", answer=False)
    return side_commands.side(Reply(text="Back to the conversation with the language model."))


@dataclass(frozen=True)
class Flow:
    """What the engine needs of a flow: ask its current question, take an answer, and
    handle back / skip / why. Flows never call the engine; a reply's `follow` says what
    comes after it."""

    ask: Callable[[Turn, FlowSession], Reply]
    answer: Callable[[Turn, FlowSession, str], Reply]
    control: Callable[[Turn, FlowSession, str], Reply]


FLOWS: dict[str, Flow] = {
    "interview": Flow(interview_flow.ask, interview_flow.answer, interview_flow.control),
    "review": Flow(review_flow.ask, review_flow.answer, review_flow.control),
    "model": Flow(model_flow.ask, model_flow.answer, model_flow.control),
    "forget": Flow(forget_flow.ask, forget_flow.answer, forget_flow.control),
    "next_quick": Flow(next_flow.ask, next_flow.answer, next_flow.control),
    "check": Flow(check_flow.ask, check_flow.answer, check_flow.control),
    endorse_flow.REQUEST: Flow(
        endorse_flow.ask_request, endorse_flow.answer_request, endorse_flow.control_request
    ),
    endorse_flow.GIVE: Flow(endorse_flow.ask, endorse_flow.answer, endorse_flow.control),
}
# The handler of every command in agent/commands.py except the flow controls and help,
# which `command` handles itself (tests/agent/test_registries.py checks they match).
HANDLERS: dict[str, Callable[[Turn, FlowSession | None, str], Reply]] = {
    "start": cmd_start,
    "audit": cmd_audit,
    "next": side_commands.cmd_next,
    "progress": side_commands.cmd_progress,
    "schedule": side_commands.cmd_schedule,
    "report": side_commands.cmd_report,
    "export": side_commands.cmd_export,
    "forget": lambda turn, flow, argument: forget_flow.start(turn),
    "review": lambda turn, flow, argument: review_flow.start(turn),
    "model": lambda turn, flow, argument: model_flow.start(turn),
    "consent": side_commands.cmd_consent,
    "connect": side_commands.cmd_connect,
    "check": check_flow.command,
    "endorse": endorse_flow.request,
    "endorsements": side_commands.cmd_endorsements,
    "pending": reviewer.pending,
    "approve": reviewer.approve,
    "return": reviewer.send_back,
    "guided": cmd_guided,
    "conversation": cmd_conversation,
}
