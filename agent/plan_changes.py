"""Read a change to a learning plan in a person's words: drop an item ("LLMOps is not what I
need"), swap one ("swap Kubeflow for something shorter", "replace the second with Docker"),
put a skill first ("I would rather start with Docker") or re-pace the plan ("6 hours a week").

Items are named by number ("item 2", "the second"), by a distinctive word of their title
("kubeflow") or by the skill they serve ("the kubernetes one"). A change that names no item
it can find is a question back, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent.parsing import Unclear, normalize, parse_number
from agent.skill_names import mentioned_skills
from agent.text_values import word_set
from knowledge.base import KnowledgeBase

_CLAUSES = re.compile(
    r"[,;.!?\n]+|\s+(?:and|but|then|also|plus)\s+(?=(?:add|drop|remove|swap|replace|start|begin|include|skip|"
    r"make|use|go|put|change|cut|please|i|it|and|the)\b)"
)
_HOURS = re.compile(
    r"\b(?:h|hrs?|hours?)\b|\d\s*h\b|h/w|/\s*week|\bper week\b|\ba week\b|\bweekly\b"
)
_SWAP = re.compile(
    r"\b(?:swap|replace|switch|exchange|trade|instead of|something else|another one|an alternative|"
    r"alternative to|other than)\b"
)
_DROP = re.compile(
    r"\b(?:drop|remove|delete|skip|cut|take out|leave out|without|get rid of|lose|no need for|"
    r"(?:don'?t|do not|won'?t|will not) need|not what i (?:need|want)|not needed|not relevant|irrelevant|"
    r"not useful|not for me|not interested|already (?:did|done|know|took|have|finished|completed)|"
    r"did (?:it|that|this) already|done (?:it|that|this) already)\b"
)
_FIRST = re.compile(r"\b(?:start with|begin with|start on|begin on|first|before anything else)\b")
_ADD = re.compile(
    r"\b(?:add|include|rather|prefer|focus on|more on|want to learn|need to learn|put in)\b"
)
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
             "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6}  # fmt: skip
_NUMBERED = re.compile(
    r"\b(?:item|number|no\.?|course|resource|#)\s*(\d{1,2})\b|#(\d{1,2})\b|"
    r"\bthe (first|second|third|fourth|fifth|sixth|1st|2nd|3rd|4th|5th|6th|last)"
    r"(?: one| item| course| resource| book| thing)?\b"
)
# Title words too common to tell one item from another.
_GENERIC = word_set(
    """the and for with from into your you our its their this that what how why when documentation docs
    course courses tutorial tutorials guide guides introduction intro project projects book books learning
    machine data deep getting started basics basic crash hands practical using use part series free
    official complete full beginner beginners advanced intermediate edition specialization program
    workshop lecture lectures notes video videos learn build building model models"""
)


@dataclass(frozen=True)
class PlanChange:
    """What to change in a plan: items to drop or swap (resource ids), skills to add a pick for
    or to put first, and a new weekly pace."""

    drop: tuple[str, ...] = ()
    swap: tuple[str, ...] = ()
    add: tuple[str, ...] = ()
    first: tuple[str, ...] = ()
    weekly_hours: float | None = None

    @property
    def empty(self) -> bool:
        return not (self.drop or self.swap or self.add or self.first) and self.weekly_hours is None


def read_plan_change(
    text: str, items: Sequence[dict[str, Any]], kb: KnowledgeBase
) -> PlanChange | None:
    """The change a message asks for, None when it asks for none; `Unclear` when it names an
    item that is not in the plan, or changes an item without saying which."""
    drop: list[str] = []
    swap: list[str] = []
    add: list[str] = []
    first: list[str] = []
    weekly: float | None = None
    last: list[dict[str, Any]] = []  # the items named last, for "it"
    for clause in (c.strip() for c in _CLAUSES.split(normalize(text))):
        if not clause:
            continue
        if _HOURS.search(clause) and re.search(
            r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten)\b", clause
        ):
            weekly = parse_number(clause, "hours")
            if not 0 < weekly <= 80:
                raise Unclear("How many hours a week, between 0.5 and 80?")
            continue
        named = _items_named(clause, items, kb)
        if not named and re.search(r"\b(?:it|that|this|them|those|these|one)\b", clause):
            named = last  # "remove item 3, I already did it"
        last = named or last
        skills = [
            s for s in mentioned_skills(clause, kb) if not any(i["skill"] == s for i in named)
        ]
        if _SWAP.search(clause):
            target, wanted = _swap_parts(clause)
            swapped = _items_named(target, items, kb) or named
            if not swapped:
                raise Unclear(_which(items, "swap"))
            served = {i["skill"] for i in swapped}
            new_skills = [s for s in mentioned_skills(wanted, kb) if s not in served]
            if new_skills:  # "swap LLMOps for Docker": another skill takes its place
                drop += [i["id"] for i in swapped]
                add += new_skills
            else:  # "swap Kubeflow for something shorter": another pick for the same skill
                swap += [i["id"] for i in swapped]
            continue
        if _DROP.search(clause):
            if not named:
                raise Unclear(_which(items, "drop"))
            drop += [i["id"] for i in named]
            continue
        if _FIRST.search(clause) or _ADD.search(clause):
            chosen = skills + [i["skill"] for i in named]
            if not chosen:
                continue
            add += [s for s in skills if s not in add]
            if _FIRST.search(clause):
                first += [s for s in chosen if s not in first]
    change = PlanChange(
        drop=tuple(dict.fromkeys(drop)),
        swap=tuple(dict.fromkeys(s for s in swap if s not in drop)),
        add=tuple(dict.fromkeys(add)),
        first=tuple(dict.fromkeys(first)),
        weekly_hours=weekly,
    )
    return None if change.empty else change


def _swap_parts(clause: str) -> tuple[str, str]:
    """The part of a swap that names the item to replace, and the part that says what instead."""
    instead = re.search(r"\binstead of\b", clause)
    if instead is not None:  # "Docker instead of LLMOps"
        return clause[instead.end() :], clause[: instead.start()]
    parts = re.split(r"\s+(?:for|with|by|into|->)\s+", clause, maxsplit=1)
    return (parts[0], parts[1]) if len(parts) == 2 else (clause, "")


def _items_named(
    clause: str, items: Sequence[dict[str, Any]], kb: KnowledgeBase
) -> list[dict[str, Any]]:
    """The plan items a clause names by number, title word or skill."""
    found: list[dict[str, Any]] = []
    for match in _NUMBERED.finditer(clause):
        number, hashed, ordinal = match.groups()
        if ordinal == "last":
            index = len(items)
        elif ordinal is not None:
            index = _ORDINALS[ordinal]
        else:
            index = int(number or hashed)
        if not 1 <= index <= len(items):
            raise Unclear(
                f"The plan has {len(items)} item{'s' if len(items) != 1 else ''}; {_listing(items)}."
            )
        found.append(items[index - 1])
    words = set(re.findall(r"[a-z0-9][a-z0-9+#.-]*[a-z0-9+#]|[a-z0-9]", clause))
    for item in items:
        if any(w in words for w in _title_words(item["title"])):
            found.append(item)
    skills = set(mentioned_skills(clause, kb))
    found += [i for i in items if i["skill"] in skills]
    unique: dict[str, dict[str, Any]] = {}
    for item in found:
        unique.setdefault(item["id"], item)
    return list(unique.values())


def _title_words(title: str) -> set[str]:
    words = re.findall(r"[a-z0-9][a-z0-9+#.-]*[a-z0-9+#]|[a-z0-9]", normalize(title))
    return {w for w in words if len(w) >= 3 and w not in _GENERIC}


def _listing(items: Sequence[dict[str, Any]]) -> str:
    return ", ".join(f"{n}. {i['title']}" for n, i in enumerate(items, 1))


def _which(items: Sequence[dict[str, Any]], verb: str) -> str:
    return f"Which item should I {verb}? The plan has: {_listing(items)}."
