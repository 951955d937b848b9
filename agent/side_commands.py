"""Commands answered on the side of whatever the person is doing: each calls one use case,
renders its result, and asks the engine to repeat the current question afterwards.
"""

from __future__ import annotations

import shlex

from agent import next_flow
from agent.render import render_chat
from agent.reply import Attachment, Choice, Reply
from agent.sources import CONSENT_SOURCES, SOURCES, offered
from agent.store import FlowSession, Upload
from agent.time_zones import read_time_zone, zone_label
from agent.turn import Turn
from agent.usecases import endorsements, evidence, records
from agent.usecases.evidence import ConnectStatus
from tools.errors import ConnectorError, EndorsementError

GRANT = ("grant", "give", "allow")
WITHDRAW = ("withdraw", "revoke", "remove")


def side(reply: Reply) -> Reply:
    """Mark a reply as a side answer: the engine repeats the current question after it."""
    return reply.model_copy(update={"follow": "resume"})


def cmd_next(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    reply = next_flow.command(turn, flow, argument)
    started = turn.flow
    if (
        started is not None
        and started.flow == "next_quick"
        and (flow is None or started.id != flow.id)
    ):
        return reply
    return side(reply)


def cmd_progress(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    found = records.progress(turn)
    attachments = []
    if found.chart is not None:
        attachments.append(
            Attachment(
                kind="image",
                path=found.chart,
                filename=found.chart.name,
                mime_type="image/png",
                caption="Scores over time",
            )
        )
    text = render_chat("progress.j2", audits=found.audits, delta=found.delta)
    return side(Reply(text=text, attachments=attachments))


def cmd_schedule(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    """The next audit dates and when reminders come; "/schedule Europe/Berlin" sets the zone."""
    note = ""
    zone = argument.strip()
    if zone:
        found = read_time_zone(zone)
        if isinstance(found, str):
            note = found
        else:
            turn.scope.set_time_zone(found.name)
            note = f"Reminders now come at 09:00 {found.label} time.{found.caveat}"
    schedule = turn.scope.latest_schedule()
    days = (schedule.next_audit - turn.today).days if schedule else None
    text = render_chat(
        "schedule.j2", schedule=schedule, days=days, zone=zone_label(turn.scope.time_zone),
        reminders=turn.remote, micro=[m for m in (schedule.micro_audits if schedule else [])],
    )  # fmt: skip
    return side(Reply(text=f"{note}\n\n{text}" if note else text))


def cmd_report(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    from agent.history import REPORT_FORMATS

    fmt = argument.lower() if argument.lower() in REPORT_FORMATS else "md"
    files = records.report(turn, fmt)
    if files is None:
        return side(Reply(text="There is no audit to report on yet. Type /audit to start one."))
    latest = files.audit
    state = "final version" if latest.state == "final" else "draft, not yet reviewed"
    attachments = [
        Attachment(kind="file", path=files.report, filename=files.report.name, mime_type=files.media_type,
                   caption=f"SkillAudit report, {latest.as_of}"),
        Attachment(kind="image", path=files.radar, filename=files.radar.name, mime_type="image/png",
                   caption="Pillar scores"),
    ]  # fmt: skip
    text = f"Your report of {latest.as_of} is attached; it is a {state}."
    if not turn.remote:  # the person's own machine: say where the file is
        text += f"\nSaved at {files.report}"
    return side(Reply(text=text, attachments=attachments, state=latest.state))


def cmd_export(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    exported = records.export(turn)
    attachment = Attachment(
        kind="file",
        path=exported.path,
        filename=exported.path.name,
        mime_type="application/json",
        caption="All your SkillAudit data",
    )
    counts = (
        f"{_count(exported.audits, 'audit')} and {_count(exported.conversations, 'conversation')}"
    )
    if turn.remote:
        text = f"Everything stored about you is in the attached file ({counts})."
    else:
        text = f"Everything stored about you is in {exported.path} ({counts})."
    return side(Reply(text=text, attachments=[attachment]))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def cmd_consent(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    """Show consents, or grant / withdraw one: "/consent withdraw github"."""
    words = argument.lower().replace(",", " ").split()
    if len(words) >= 2 and words[0] in (*GRANT, *WITHDRAW):
        granted = words[0] in GRANT
        try:
            changes = evidence.set_consent(turn.scope, words[1:], granted)
        except ConnectorError:
            unknown = [w for w in words[1:] if w not in CONSENT_SOURCES]
            shown = " ".join(unknown) or "(none given)"
            return Reply(text=f"Unknown source {shown}; sources: {', '.join(CONSENT_SOURCES)}.")
        lines = []
        for change in changes:
            if granted:
                lines.append(f"Consent for {change.source} recorded.")
            else:
                plural = "s" if change.deleted != 1 else ""
                lines.append(
                    f"Consent for {change.source} withdrawn; {change.deleted} stored result{plural} from it deleted."
                )
        return side(Reply(text="\n".join(lines)))
    status = [
        f"- {name}: {'yes' if allowed else 'no'}"
        for name, allowed in evidence.consent_status(turn.scope).items()
    ]
    text = "Sources SkillAudit may use as evidence:\n" + "\n".join(status)
    text += '\nChange with "/consent grant github" or "/consent withdraw github" (withdrawing deletes what came from it).'
    return side(Reply(text=text))


def cmd_endorsements(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    """`/endorsements [withdraw N | erase N | revoke N]`: list, or act on one by its number."""
    words = argument.lower().replace("#", " ").split()
    if not words:
        text = render_chat(
            "endorsements.j2",
            received=endorsements.received(turn),
            codes=endorsements.codes(turn),
            given=endorsements.given_by_me(turn),
            kb=turn.kb,
        )
        return side(Reply(text=text))
    if len(words) != 2 or words[0] not in ("withdraw", "erase", "revoke") or not words[1].isdigit():
        return side(
            Reply(
                text="Use /endorsements to list them, /endorsements withdraw N for one you received, "
                "/endorsements erase N for one you gave, /endorsements revoke N for an open code."
            )
        )
    action, number = words[0], int(words[1])
    try:
        if action == "withdraw":
            rescored = endorsements.withdraw(turn, number)
            text = f"Endorsement {number} is withdrawn and deleted."
            if rescored is not None:
                text += " " + render_chat("rescored.j2", r=rescored, how="without")
        elif action == "erase":
            endorsements.erase_given(turn, number)
            text = f"The endorsement {number} you gave is erased; the person endorsed is told."
        else:
            endorsements.withdraw_code(turn, number)
            text = f"Code {number} no longer works."
    except EndorsementError as exc:
        text = str(exc)[:1].upper() + str(exc)[1:] + "."
    return side(Reply(text=text))


def cmd_connect(turn: Turn, flow: FlowSession | None, argument: str) -> Reply:
    """`/connect SOURCE ARGS [--refresh]`: gather evidence, then back to where we were."""
    try:
        words = shlex.split(argument)
    except ValueError as exc:
        return side(Reply(text=f"I could not read that: {exc}."))
    here = offered(turn.asker)
    if not words or words[0] not in SOURCES:
        listing = "\n".join(f"- {s.usage_for(turn.asker)}" for s in here)
        unknown = f"Unknown source {words[0]!r}; connect" if words else "Connect"
        files = (
            "\nFiles (a CV, an export, a CSV) are sent to me as documents first."
            if turn.remote
            else ""
        )
        return side(Reply(text=f"{unknown} one of these sources:\n{listing}{files}"))
    refresh = "--refresh" in words
    args = [w for w in words[1:] if w != "--refresh"]
    source = SOURCES[words[0]]
    try:
        connection = evidence.connect(turn, source.name, args, refresh)
    except ConnectorError as exc:
        return side(Reply(text=f"{source.name}: {exc}\nUsage: {source.usage_for(turn.asker)}"))
    return side(describe(connection))


def uploaded(turn: Turn, upload: Upload, caption: str) -> Reply:
    """A file a remote person sent: keep it in their folder, then connect it if the caption
    says how ("/connect cv"), else say how to use it."""
    try:
        saved = evidence.save_upload(turn, upload)
    except ConnectorError as exc:
        return side(Reply(text=f"I did not keep that file: {exc}."))
    words = caption.strip().split()
    if len(words) >= 2 and words[0].lower().lstrip("/") == "connect" and words[1] in SOURCES:
        # "/connect cv" as the caption: this file is the source's file argument.
        return cmd_connect(turn, turn.flow, " ".join([words[1], saved.name, *words[2:]]))
    size = f"{saved.size / 1000:.0f} KB" if saved.size >= 1000 else f"{saved.size} bytes"
    uses = ", ".join(f"/connect {s.name} {saved.name}" for s in saved.sources)
    text = f"I kept your file {saved.name} ({size}). Use it as evidence with {uses}."
    choices = [
        Choice(label=f"Use as: {s.label}", value=f"/connect {s.name} {saved.name}")
        for s in saved.sources
    ]
    return side(Reply(text=text, choices=choices))


def describe(connection: evidence.Connection) -> Reply:
    """What a connection found, in a few lines (or the consent it needs, with a button)."""
    source = connection.source
    result = connection.result
    if connection.status == ConnectStatus.NEEDS_CONSENT or result is None:
        grant = f"/consent grant {source.consent}"
        text = f"I need your consent before reading {source.name}. Allow it with {grant}, then try again."
        return Reply(text=text, choices=[Choice(label=f"Allow {source.name}", value=grant)])
    when = (
        f" (from {result.fetched_at:%Y-%m-%d %H:%M} UTC; add --refresh to fetch again)"
        if connection.status == ConnectStatus.CACHED
        else ""
    )
    lines = [f"{source.name}{when}: {result.summary}"]
    lines += [f"- note: {p}" for p in result.problems[:5]]  # skipped rows, readings made
    if len(result.problems) > 5:
        lines.append(f"- and {len(result.problems) - 5} more notes")
    if result.evidence or result.models:
        lines.append("This counts in your next audit (/audit force to run one now).")
    return Reply(text="\n".join(lines), data=connection.data)
