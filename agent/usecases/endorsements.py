"""Endorsements: a person asks a client, peer or manager to rate up to five named skills.

The person creates a one-time code (`create_code`); only its SHA-256 is stored. Whoever opens
the bot with it (`open_code`) sees the person's chosen name and the skills, nothing else of
theirs; the code is then theirs alone. Their ratings (`give`) are stored as the person's
peer-review evidence with the endorser's relationship, and the person's latest audit is
re-scored with them. The person sees who endorsed what and may withdraw it; the endorser
sees what they gave and may erase it, which re-scores the person's audit without it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agent.render import render_chat
from agent.store import Endorsement, EndorsementCode, EndorsementDesk, UserScope
from agent.turn import Turn
from agent.usecases.audits import Rescored, with_stored_evidence
from tools.errors import EndorsementError

CODE_DAYS = 14  # a code works on the day it is made and the 14 days after
MAX_SKILLS = 5
RELATIONSHIPS = ("client", "peer", "manager")
NAME_CHARS = 60
SENTENCE_CHARS = 280
CODE_BYTES = 16  # 128 random bits: 22 URL-safe characters, fits a Telegram deep link


def new_code() -> str:
    """A one-time code that never starts with "-" or "_": `skillaudit endorse give -x...`
    would read a leading dash as an option (one code in 32 did), and a leading "_" is easy
    to lose when copied."""
    while True:
        code = secrets.token_urlsafe(CODE_BYTES)
        if code[0].isalnum():
            return code


@dataclass(frozen=True)
class NewCode:
    """A code just made: shown once, never stored in clear."""

    code: str
    skills: list[str]
    name: str
    expires_on: dt.date


@dataclass(frozen=True)
class CodeInfo:
    """One of the person's codes, as they may list it (never the code itself)."""

    id: int
    hint: str
    skills: list[str]
    created_on: dt.date
    expires_on: dt.date
    status: str  # open, used, withdrawn or expired


@dataclass(frozen=True)
class Invitation:
    """What an endorser is shown after opening a code: the person's chosen name and skills."""

    code_id: int
    name: str
    skills: list[str]
    expires_on: dt.date


@dataclass(frozen=True)
class Given:
    """An endorsement as its endorser sees it (only what they gave, and to whom)."""

    id: int
    to: str
    relationship: str
    ratings: dict[str, int]
    sentence: str
    given_on: dt.date


def code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def clean_name(name: str) -> str:
    """A display name: one line, trimmed; EndorsementError when empty or too long."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise EndorsementError("the name must not be empty")
    if len(cleaned) > NAME_CHARS:
        raise EndorsementError(f"the name is {len(cleaned)} characters; at most {NAME_CHARS}")
    return cleaned


# The person who asks -------------------------------------------------------------------


def create_code(turn: Turn, skills: Sequence[str], name: str) -> NewCode:
    """Make a one-time code for up to five named skills, shown to the endorser under `name`."""
    wanted = list(dict.fromkeys(skills))
    unknown = [s for s in wanted if s not in turn.kb.skills]
    if unknown:
        raise EndorsementError(f"unknown skill {', '.join(unknown)}")
    if not 1 <= len(wanted) <= MAX_SKILLS:
        raise EndorsementError(f"name 1 to {MAX_SKILLS} skills to be rated, not {len(wanted)}")
    shown_as = clean_name(name)
    code = new_code()
    expires_on = turn.today + dt.timedelta(days=CODE_DAYS)
    turn.scope.add_endorsement_code(
        code_hash=code_hash(code),
        hint=code[:4],
        name=shown_as,
        skills=wanted,
        created_on=turn.today,
        expires_on=expires_on,
    )
    return NewCode(code, wanted, shown_as, expires_on)


def codes(turn: Turn) -> list[CodeInfo]:
    """The person's codes, oldest first, with what became of each."""
    return [
        CodeInfo(row.id, row.hint, list(row.skills), row.created_on, row.expires_on,
                 _status(row, turn.today))
        for row in turn.scope.endorsement_codes()
    ]  # fmt: skip


def withdraw_code(turn: Turn, code_id: int) -> None:
    """Stop an open code from working."""
    row = next((c for c in turn.scope.endorsement_codes() if c.id == code_id), None)
    if row is None:
        raise EndorsementError(f"you have no code {code_id}")
    if _status(row, turn.today) != "open":
        raise EndorsementError(f"code {code_id} is {_status(row, turn.today)} already")
    row.status = "withdrawn"
    turn.scope.session.flush()


def last_name(turn: Turn) -> str | None:
    """The name the person gave with their latest code (offered again)."""
    rows = turn.scope.endorsement_codes()
    return rows[-1].name if rows else None


def received(turn: Turn) -> list[Endorsement]:
    """Endorsements of the person, oldest first: who (as they named themselves), what, when."""
    return turn.scope.endorsements_received()


def withdraw(turn: Turn, endorsement_id: int) -> Rescored | None:
    """Withdraw an endorsement of the person: it is deleted and the latest audit re-scored."""
    row = next((e for e in turn.scope.endorsements_received() if e.id == endorsement_id), None)
    if row is None:
        raise EndorsementError(f"you have no endorsement {endorsement_id}")
    skills = list(row.ratings)
    turn.scope.delete_endorsement(row)
    return with_stored_evidence(turn, skills)


# The endorser ---------------------------------------------------------------------------


def open_code(turn: Turn, code: str) -> Invitation:
    """Open a code as an endorser; from then on nobody else may use it."""
    row = EndorsementDesk(turn.scope.session).code_by_hash(code_hash(code))
    if row is None:
        raise EndorsementError(
            "that code is not valid; check it was copied whole, or ask for a new one"
        )
    _usable(turn, row)
    if row.claimed_by is None:
        row.claimed_by = turn.scope.user.id
        turn.scope.session.flush()
    return Invitation(row.id, row.name, list(row.skills), row.expires_on)


def invitation(turn: Turn, code_id: int) -> Invitation:
    """The code an endorser opened, while it still works for them."""
    row = EndorsementDesk(turn.scope.session).code(code_id)
    if row is None:
        raise EndorsementError("that code no longer exists")
    _usable(turn, row)
    if row.claimed_by != turn.scope.user.id:
        raise EndorsementError("this code was opened by someone else; each code works once")
    return Invitation(row.id, row.name, list(row.skills), row.expires_on)


def release(turn: Turn, code_id: int) -> None:
    """An endorser declined: the code is free for someone else again (while it works)."""
    row = EndorsementDesk(turn.scope.session).code(code_id)
    if row is not None and row.status == "open" and row.claimed_by == turn.scope.user.id:
        row.claimed_by = None
        turn.scope.session.flush()


def give(
    turn: Turn,
    code_id: int,
    name: str,
    relationship: str,
    ratings: Mapping[str, int],
    sentence: str = "",
) -> Given:
    """Store an endorser's ratings as the person's evidence and re-score their latest audit."""
    desk = EndorsementDesk(turn.scope.session)
    row = desk.code(code_id)
    if row is None:
        raise EndorsementError("that code no longer exists")
    _usable(turn, row)
    if relationship not in RELATIONSHIPS:
        raise EndorsementError(f"relationship must be one of {', '.join(RELATIONSHIPS)}")
    given = {s: int(r) for s, r in ratings.items()}
    if not given:
        raise EndorsementError("rate at least one of the skills")
    if set(given) - set(row.skills):
        raise EndorsementError("only the skills the person named can be rated")
    if any(not 0 <= r <= 5 for r in given.values()):
        raise EndorsementError("ratings go from 0 to 5")
    text = " ".join(sentence.split())
    if len(text) > SENTENCE_CHARS:
        raise EndorsementError(f"the sentence is {len(text)} characters; at most {SENTENCE_CHARS}")
    owner = desk.owner(row.user_id)
    if owner is None:
        raise EndorsementError("the person who made this code is no longer here")
    endorser = clean_name(name)
    stored = owner.add_endorsement(
        turn.scope.user.id, code_id=row.id, endorser_name=endorser, relationship=relationship,
        ratings=given, sentence=text, given_on=turn.today,
    )  # fmt: skip
    row.status, row.used_at = "used", dt.datetime.now(dt.UTC)
    rescored = with_stored_evidence(_turn_of(turn, owner), list(given))
    owner.add_notice(
        render_chat(
            "endorsement_notice.j2", e=stored, kb=turn.kb, rescored=rescored, change="given"
        )
    )
    return Given(stored.id, row.name, relationship, given, text, turn.today)


def given_by_me(turn: Turn) -> list[Given]:
    """What this person gave others as an endorser, and to whom (the name they were shown)."""
    desk = EndorsementDesk(turn.scope.session)
    found = []
    for row in turn.scope.endorsements_given():
        code = None if row.code_id is None else desk.code(row.code_id)
        to = code.name if code is not None else "someone"
        ratings = {s: int(r) for s, r in row.ratings.items()}
        found.append(Given(row.id, to, row.relationship, ratings, row.sentence, row.given_on))
    return found


def erase_given(turn: Turn, endorsement_id: int) -> None:
    """Erase one endorsement this person gave; the person endorsed is told and re-scored."""
    row = next((e for e in turn.scope.endorsements_given() if e.id == endorsement_id), None)
    if row is None:
        raise EndorsementError(f"you gave no endorsement {endorsement_id}")
    _erase(turn, row)


def erase_all_given(turn: Turn) -> int:
    """Erase every endorsement this person gave (part of erasing them); return how many."""
    rows = turn.scope.endorsements_given()
    for row in rows:
        _erase(turn, row)
    return len(rows)


def _erase(turn: Turn, row: Endorsement) -> None:
    owner = EndorsementDesk(turn.scope.session).owner(row.user_id)
    said = {"endorser_name": row.endorser_name, "relationship": row.relationship,
            "ratings": dict(row.ratings), "sentence": ""}  # fmt: skip
    turn.scope.delete_endorsement(row)
    if owner is None:
        return
    rescored = with_stored_evidence(_turn_of(turn, owner), list(said["ratings"]))
    owner.add_notice(
        render_chat("endorsement_notice.j2", e=said, kb=turn.kb, rescored=rescored, change="erased")
    )


def _turn_of(turn: Turn, owner: UserScope) -> Turn:
    """The endorsed person's turn inside this transaction (to re-score their audit)."""
    return Turn(
        scope=owner,
        kb=turn.kb,
        settings=turn.settings,
        today=turn.today,
        recommender=turn.recommender,
    )


def _status(row: EndorsementCode, today: dt.date) -> str:
    if row.status == "open" and today > row.expires_on:
        return "expired"
    return row.status


def _usable(turn: Turn, row: EndorsementCode) -> None:
    """Refuse a code that is the person's own, withdrawn, used, expired or someone else's."""
    me = turn.scope.user.id
    if row.user_id == me:
        raise EndorsementError(
            "this is your own code: send it to a client, peer or manager to rate your skills"
        )
    status = _status(row, turn.today)
    if status == "withdrawn":
        raise EndorsementError("the person who made this code has withdrawn it")
    if status == "used":
        mine = row.claimed_by == me
        raise EndorsementError(
            "you have already used this code (/endorsements shows what you gave)"
            if mine
            else "this code has already been used; each code works once"
        )
    if status == "expired":
        raise EndorsementError(f"this code worked until {row.expires_on}; ask for a new one")
    if row.claimed_by is not None and row.claimed_by != me:
        raise EndorsementError("this code was opened by someone else; each code works once")
