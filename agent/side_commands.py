"""Commands answered on the side of whatever the person is doing: each calls one use case,
renders its result, and asks the engine to repeat the current question afterwards.
"""

from __future__ import annotations

import difflib
import functools
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from agent import next_flow
from agent.render import render_chat
from agent.reply import Attachment, Choice, Reply
from agent.sources import CONSENT_SOURCES, SOURCES, offered
from agent.store import FlowSession, Upload
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


@dataclass(frozen=True)
class TimeZone:
    """A zone read from what a person typed: its IANA name, how to say it, and a warning."""

    name: str
    label: str
    caveat: str = ""


_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


def read_time_zone(text: str) -> TimeZone | str:
    """The time zone a person named: an IANA name in any case ("europe/berlin"), a city of
    one ("berlin", "new york"), UTC, or a whole-hour offset from UTC ("UTC+2"). A string is
    what to tell them instead (with the closest names when there are some)."""
    name = " ".join(text.split())
    if name.upper() in ("UTC", "GMT", "Z"):
        return TimeZone("UTC", "UTC")
    offset = _OFFSET.match(name)
    if offset:
        sign, hours, minutes = offset.group(1), int(offset.group(2)), int(offset.group(3) or 0)
        if minutes or hours > 14:
            return (
                f"I can keep whole-hour offsets only ({name[:20]!r} is not one); name your city "
                "instead, for example Asia/Kolkata or Kolkata."
            )
        if hours == 0:
            return TimeZone("UTC", "UTC")
        # POSIX names count the other way: UTC+2 is Etc/GMT-2.
        return _fixed(f"Etc/GMT{'-' if sign == '+' else '+'}{hours}")
    names, cities = _zone_names()
    key = name.lower().replace(" ", "_")
    found = names.get(key) or (cities[key][0] if len(cities.get(key, ())) == 1 else None)
    if found is not None:
        return _fixed(found) if zone_label(found) != found else TimeZone(found, found)
    if key in cities:  # a city in several regions' lists
        return f"{name[:60]!r} could be {', '.join(cities[key][:4])}; type the one you mean."
    country = _countries().get(name.lower().removeprefix("the "))
    if country is not None:
        title, zones = country
        clocks = _one_per_clock(zones)  # Busingen keeps Berlin's time: Germany has one clock
        if len(clocks) == 1:
            return TimeZone(clocks[0], clocks[0])
        more = ", ..." if len(clocks) > 6 else ""
        city = clocks[1].rsplit("/", 1)[1].replace("_", " ")
        return (
            f"{title} has {len(clocks)} time zones ({', '.join(clocks[:6])}{more}); type "
            f"yours or your city, for example /schedule {city}."
        )
    close = difflib.get_close_matches(key, [*names, *cities], n=3, cutoff=0.75)
    suggestions = sorted({names.get(c) or cities[c][0] for c in close})
    hint = f" Did you mean {' or '.join(suggestions)}?" if suggestions else ""
    return (
        f"I do not know the time zone {name[:60]!r}.{hint} Use a name such as Europe/Berlin, "
        "America/New_York, Asia/Kolkata or UTC (a city alone, such as Berlin, works too)."
    )


def _fixed(name: str) -> TimeZone:
    return TimeZone(
        name, zone_label(name),
        " A fixed offset does not follow daylight saving time; name your city (for example "
        "Europe/Berlin) if yours does.",
    )  # fmt: skip


def zone_label(name: str) -> str:
    """How a stored zone is said: UTC+2 for Etc/GMT-2, the IANA name otherwise."""
    if name.startswith("Etc/GMT") and name[7:8] in "+-" and name[8:].isdigit():
        return f"UTC{'-' if name[7] == '+' else '+'}{name[8:]}"
    return name


@functools.cache
def _zone_names() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Zone names by lower-case name, and by lower-case last part (the city)."""
    from zoneinfo import available_timezones

    names: dict[str, str] = {}
    cities: dict[str, list[str]] = {}
    for zone in sorted(available_timezones()):
        if zone.startswith(("posix/", "right/")) or zone in ("localtime", "Factory"):
            continue
        names[zone.lower()] = zone
        if "/" in zone and not zone.startswith("Etc/"):
            cities.setdefault(zone.rsplit("/", 1)[1].lower(), []).append(zone)
    # A city listed under two regions (an old alias and its current name) is one place if
    # both give the same clock today; keep the one with the longer, current name.
    for city, zones in cities.items():
        if len(zones) > 1 and _same_clock(zones):
            cities[city] = [max(zones, key=len)]
    return names, cities


@functools.cache
def _countries() -> dict[str, tuple[str, list[str]]]:
    """Country names (lower case; "uk" for "Britain (UK)") to the name and the zones of
    each, from the time zone database's own tables (tzdata's iso3166.tab and zone.tab)."""
    tables = _zone_tables()
    if tables is None:
        return {}
    iso, zones = tables
    by_code: dict[str, list[str]] = {}
    for line in zones.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#"):
            by_code.setdefault(fields[0], []).append(fields[2])
    found: dict[str, tuple[str, list[str]]] = {}
    for line in iso.splitlines():
        code, _, title = line.partition("\t")
        if line.startswith("#") or code not in by_code:
            continue
        entry = (title, by_code[code])
        plain, _, inner = title.partition(" (")
        for alias in (title, plain, inner.rstrip(")")):
            if alias:
                found.setdefault(alias.lower(), entry)
    if "us" in {code.lower() for code in by_code}:
        found.setdefault("usa", found.get("united states", ("United States", by_code["US"])))
    return found


def _zone_tables() -> tuple[str, str] | None:
    """The text of iso3166.tab and zone.tab: from the tzdata package, else the system's."""
    try:
        from importlib.resources import files

        folder = files("tzdata.zoneinfo")
        return (folder / "iso3166.tab").read_text("utf-8"), (folder / "zone.tab").read_text("utf-8")
    except (ImportError, OSError):
        pass
    system = Path("/usr/share/zoneinfo")
    try:
        return (system / "iso3166.tab").read_text("utf-8"), (system / "zone.tab").read_text("utf-8")
    except OSError:
        return None


def _same_clock(zones: list[str]) -> bool:
    return len(_one_per_clock(zones)) == 1


def _one_per_clock(zones: list[str]) -> list[str]:
    """The first zone of each different clock (its offsets in January and July), in order."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    moments = [dt.datetime(2026, month, 1, 12, tzinfo=dt.UTC) for month in (1, 7)]
    first: dict[tuple[object, ...], str] = {}
    for zone in zones:
        first.setdefault(tuple(m.astimezone(ZoneInfo(zone)).utcoffset() for m in moments), zone)
    return list(first.values())


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
