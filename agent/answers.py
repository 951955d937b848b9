"""Read one answer to one interview question: the single entry point behind the guided
interviewer, the quick questions of /next, the model audit and the language model's tools
(the last three through `understood`).

`read` turns a message into a `Reading`: a value to record (with what to say back), or a
question back. A list answer that is partly understood keeps the understood part (stored
under `PENDING` by `record`) and asks only about the rest, one item at a time; the next
message answers that item, or says "leave it out". Unknown ("idk") is recorded as not known,
never as zero; a new rating of a skill rated in an earlier answer says what it replaces.

```mermaid
stateDiagram-v2
    [*] --> read: a message
    read --> recorded: complete (value and what was understood)
    read --> asked: nothing usable (what was wrong, then the hint)
    read --> item: part understood (kept under PENDING)
    item --> item: the item answered, the next one asked
    item --> recorded: last item answered, "leave it out", or "skip"
    item --> item: not an answer: the same item again, nothing changed
```
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agent.interview import (
    EMPLOYED,
    EXPERIENCE,
    MODEL_CLASSES,
    MODEL_DATASET,
    MODEL_MEDAL,
    REQUIRED,
    Question,
    classes_in,
    describe_answer,
    in_range,
    options_for,
    parse_answer,
    question_text,
    rated_skills,
)
from agent.parsing import (
    NO_LIMIT,
    YES,
    Option,
    Unclear,
    experience_elsewhere,
    is_none,
    is_unknown,
    looks_like_code,
    match_choice,
    normalize,
    parse_budget,
    parse_yes_no,
    read_multi,
    uncompared_metrics,
    unknown_prefix,
)
from agent.reply import Choice
from agent.skill_answers import (
    EXCEPT_WORDS,
    NOT_MINE,
    OpenItem,
    is_bare_rating,
    read_ratings,
    read_skill_list,
)
from agent.skill_names import display, is_broad
from agent.sources import named
from agent.text_values import clean, strip_hedges, to_float
from knowledge.base import KnowledgeBase
from tools.model_audit import CONTROLLER_DECIDES, OUTSIDE_GDPR

PENDING = "_pending"  # the understood part of an answer while one item is asked about
# The options a "Did you mean A or B?" offered, so "the second one" or "yes" next means one of
# them. Not under PENDING: that would rebind the question's buttons (old ones still count).
OFFERED = "_offered"
RATING_KEYS = (
    "technical_ratings",
    "lifecycle_ratings",
    "ethics_ratings",
    "power_ratings",
    "other_skills",
)
NOT_KNOWN = "Noted: not known, so it is left out (not counted as zero)."
_UNFAMILIAR = re.compile(
    r"^(?:i )?(?:do ?n'?t|do not|dont) (?:really )?know (?:any|either|one) of (?:those|these|them|it)"
    r"|^(?:i )?(?:have )?never (?:heard of|used|done) (?:any of )?(?:those|these|them|it)"
    r"|^no idea what (?:those|these|they) (?:are|mean)"
    r"|^(?:i )?(?:have |'ve |ve )?no (?:idea|clue) (?:about|of) any of (?:those|these|them)"
)
_EXCEPT_SOME = re.compile(rf"\d|\b{EXCEPT_WORDS}\b")
_DONE = re.compile(
    r"^(?:leave (?:it|that|them|those) out|leave out|drop (?:it|that|them)|skip (?:it|that|them)|ignore (?:it|that|them)|"
    r"forget (?:it|that)|none of (?:those|these|them)|no|nope|nothing|nothing else|none|done|that'?s all|that'?s it|"
    r"no more|all good|fine|ok|okay|that was all|nothing more)$"
)


@dataclass(frozen=True)
class Reading:
    """What one message said in answer to one question."""

    value: Any = None  # what to record when complete
    note: str = ""  # what was understood, said back ("Noted: ...")
    ask: str | None = None  # set: nothing is recorded yet; ask this
    problem: str = ""  # why it is not complete, for callers that do not keep parts
    keep: dict[str, Any] | None = None  # the part to keep (under PENDING) while asking
    choices: tuple[Choice, ...] = ()  # buttons for the question back
    replaces: tuple[tuple[str, str], ...] = ()  # (earlier question, skill) this answer re-rates
    also: tuple[tuple[str, Any], ...] = ()  # other keys this answer sets (None removes one)
    offered: tuple[str, ...] = ()  # option values a "Did you mean ...?" offers

    @property
    def complete(self) -> bool:
        return self.ask is None


def read(q: Question, text: str, answers: dict[str, Any], kb: KnowledgeBase) -> Reading:
    """Read `text` as the answer to `q`, given the answers so far (and a kept part, if any)."""
    reading = _read(q, text, answers, kb)
    if not (reading.complete and q.id in (*MODEL_QUESTIONS, *EXPERIENCE_QUESTIONS)):
        return reading
    also = side_answers(q, reading.value, text, kb)
    if not also:
        return reading
    said = dict(also)
    note = reading.note
    if said.keys() & {MODEL_DATASET, MODEL_MEDAL}:  # what a leaderboard does to the rank
        note = f"{note} {_leaderboard_note(kb, said)}"
    return dataclasses.replace(reading, also=(*reading.also, *also), note=note)


# Where years in a field outside ML may be said (kept under EXPERIENCE).
EXPERIENCE_QUESTIONS = ("target_role", "career_stage", "years_experience")


def _leaderboard_note(kb: KnowledgeBase, said: dict[str, Any]) -> str:
    """What a dataset or a medal named in passing does to the model's rank."""
    dataset = said.get(MODEL_DATASET)
    medal = said.get(MODEL_MEDAL)
    if dataset is None:
        known = [d.name for t in kb.tasks.values() for d in t.datasets if d.medals]
        return (
            f"A {medal} medal ranks the model where I know the competition's leaderboard "
            f"({' and '.join(known)}): name the competition if it is one of them."
        )
    found = next(d for t in kb.tasks.values() for d in t.datasets if d.id == dataset)
    if medal in found.medals:
        top = 100 - found.medals[medal]
        return (
            f"Its metrics are ranked against the {found.name} leaderboard, at least in the top "
            f"{top:.2g}% that a {medal} medal means there."
        )
    return f"Its metrics are ranked against the {found.name} leaderboard."


def _read(q: Question, text: str, answers: dict[str, Any], kb: KnowledgeBase) -> Reading:
    pending = answers.get(PENDING)
    if not isinstance(pending, dict) or pending.get("question") != q.id:
        pending = None
    folded = normalize(text)

    def hint() -> str:  # rendered only when needed: a template render costs more than a read
        return question_text(q, answers, kb)[1]

    if pending is not None:
        return _follow_up(q, text, folded, pending, answers, kb, hint)
    if (
        q.kind in ("ratings", "multi")
        and _UNFAMILIAR.match(folded.strip(" .!"))
        and not _EXCEPT_SOME.search(folded)
    ):
        # "I don't know any of those" is not "I can't say": the person has none of them
        # ("never used any of these except bias testing 2" is read with its exception).
        return read(q, "none", answers, kb)
    if folded and unknown_prefix(folded) and q.kind != "text":
        # "idk, maybe mid?": a hedge before an answer; the answer counts if it is clear.
        rest = read(q, unknown_prefix(folded) or "", answers, kb)
        if rest.complete or rest.offered:  # "idk, maybe A or B": those two are offered
            return rest
    if folded and is_unknown(folded) and q.kind != "text":
        return _not_known(q, kb, hint)
    try:
        if q.kind in ("ratings", "extra_ratings"):
            return _ratings(q, text, answers, kb, {}, ())
        if q.kind == "multi":
            return _multi(q, text, kb, [])
        if q.kind == "skills":
            return _skills(q, text, kb, [])
        if q.kind == "choice":
            return _choice(q, text, answers, kb, hint)
        if q.kind == "money" and NO_LIMIT.match(strip_hedges(folded)):
            return Reading(
                value=None, note="Noted: no set limit, so costs are shown and none is flagged."
            )
        if q.kind == "money":
            return _budget(q, text, kb)
        value = parse_answer(q, text, answers, kb)
    except Unclear as exc:
        return _unclear(f"{exc} {hint()}")
    if q.id == "clients":
        if value == 0 and _EMPLOYED.search(folded):
            value = 1.0  # "none, I'm employed full time": no clients, one employer
        elif value == 0 and _ONE_INTERNSHIP.search(folded):  # "none, just a summer internship"
            return Reading(
                value=1.0, note="Noted: 1 employer (an internship).", also=((EMPLOYED, True),)
            )
        elif value == 0 and _INTERNSHIP.search(folded):  # "0, I'm a student doing internships"
            return _unclear(
                "An internship is work for an employer: how many internships or employers in "
                f'the last 12 months? For example "2". {hint()}'
            )
        return _clients(q, value, folded, kb)
    if q.id in ("weekly_learning_hours", "quick_hours") and isinstance(value, float):
        return Reading(value=value, note=_weekly_note(value, text, q.id == "weekly_learning_hours"))
    uncompared = uncompared_metrics(text) if q.kind == "metrics" else []
    if uncompared:  # kept out of the comparison, and said so ("accuracy 0.98, recall 0.41")
        named = " and ".join(uncompared)
        one = len(uncompared) == 1
        note = (
            f"{describe_answer(q, value, kb)} {named[:1].upper()}{named[1:]} "
            f"{'has' if one else 'have'} no benchmark here, so {'it is' if one else 'they are'} "
            "not compared."
        )
        return Reading(value=value, note=note)
    return Reading(value=value, note=describe_answer(q, value, kb))


def _budget(q: Question, text: str, kb: KnowledgeBase) -> Reading:
    """An amount of money; one in another currency is said back with the rate used."""
    budget = parse_budget(text)
    value = in_range(q, budget.usd)
    if budget.converted is None:
        return Reading(value=value, note=describe_answer(q, value, kb))
    return Reading(value=value, note=f"Noted: ${value:,.12g} ({budget.converted.said()}).")


# Words that make hours a week a sum: days, sessions, rates.
_WORKED_OUT = re.compile(
    r"\b(?:days?|daily|weekdays?|weekends?|mornings?|evenings?|nights?|lunch\w*|sessions?|times"
    r"|twice|each|every|per|mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?"
    r"|sundays?|mon|tue|wed|thu|fri|sat|sun|month|months)\b"
)


def _weekly_note(hours: float, text: str, back: bool = True) -> str:
    """Hours a week, saying how they were worked out when the answer did not give them as
    such ("a couple of hours on weekday mornings" is 10), so a misreading shows. `back`:
    the flow takes "back" (the interview does; /next's three questions do not)."""
    said = [to_float(n) for n in re.findall(r"\d+(?:[.,]\d+)?", text)]
    unit = "hour" if hours == 1 else "hours"
    if hours in said or not _WORKED_OUT.search(normalize(text)):
        return f"Noted: {hours:g} {unit} a week."
    shown = clean(text)
    shown = shown if len(shown) <= 60 else shown[:59] + "\u2026"
    return f'Noted: {hours:g} {unit} a week, as I read "{shown}"{_BACK if back else ""}.'


# An internship is work for an employer: one is 1, several are asked how many.
_ONE_INTERNSHIP = re.compile(
    r"\b(?:a|an|one|1|single)\s+(?:\w+\s+)?(?:intern(?:ship)?|apprentice(?:ship)?|working student)\b"
)
_INTERNSHIP = re.compile(
    r"\b(?:intern(?:ship)?s?|apprentice(?:ship)?s?|working student|werkstudent)\b"
)
# Someone whose one "client" is their employer ("1, full-time employee", "just my employer"):
# if they do not name their income streams later, the audit knows it is a salary.
_EMPLOYED = re.compile(
    r"\b(?:employees?|employed|employers?|boss|salaried|salary|"
    r"full[- ]?time (?:job|role|position|at|for|with|employee|employment|staff|hire)|"
    r"day job|in[- ]house|on (?:the |a )?payroll|permanent (?:job|role|position|contract)"
    r"|i work (?:for|at)|employs me)\b"
)


def _clients(q: Question, value: Any, folded: str, kb: KnowledgeBase) -> Reading:
    also = side_answers(q, value, folded)
    if dict(also).get(EMPLOYED):
        return Reading(value=value, note="Noted: 1 employer (a salaried job).", also=also)
    if (
        value
        and _EMPLOYERS_ONLY.search(folded)
        and not re.search(r"\b(?:clients?|customers?)\b", folded)
    ):
        # "2 internships", "3 employers": said back as what they are
        return Reading(
            value=value, note=f"Noted: {value:g} employer{'s' if value != 1 else ''}.", also=also
        )
    return Reading(value=value, note=describe_answer(q, value, kb), also=also)


_INSTITUTION = re.compile(
    r"\b(?:the|my|a) (?:university|uni|institute|research (?:lab|institute|centre|center)|hospital|"
    r"government|ministry|public sector|school|college)\b"
)
_EMPLOYERS_ONLY = re.compile(r"\b(?:employers?|internships?|apprenticeships?|jobs?|companies)\b")


def side_answers(
    q: Question, value: Any, text: str, kb: KnowledgeBase | None = None
) -> tuple[tuple[str, Any], ...]:
    """Other keys an answer sets besides its own (None removes one): one client said to be
    an employer marks the income as a salary; a model's public dataset named in passing
    ("my gold medal solution for Home Credit") ranks it against that dataset's leaderboard.
    The guided interviewer and the model's record_answer tool both apply them."""
    if q.id == "clients":
        folded = normalize(text)
        # "1 - the university": one institution that pays a salary
        employed = value == 1 and bool(_EMPLOYED.search(folded) or _INSTITUTION.search(folded))
        return ((EMPLOYED, True if employed else None),)
    if q.id in EXPERIENCE_QUESTIONS:
        elsewhere = experience_elsewhere(text)  # "8 in software": set against low self-ratings
        return ((EXPERIENCE, elsewhere),) if elsewhere else ()
    if q.id in MODEL_QUESTIONS and kb is not None and value is not False:
        named = kb.dataset_named_in(text)
        medal = _MEDAL.search(normalize(text))
        classes = classes_in(text)
        said: list[tuple[str, Any]] = [] if named is None else [(MODEL_DATASET, named[1].id)]
        if medal is not None:
            said.append((MODEL_MEDAL, medal.group(1) or medal.group(2)))
        if classes is not None:
            said.append((MODEL_CLASSES, classes))
        return tuple(said)
    return ()


# "my silver medal solution", "got gold in Home Credit": a rank on the competition's leaderboard.
_MEDAL = re.compile(
    r"\b(gold|silver|bronze)[- ]?(?:medal\w*|zone)\b"
    r"|\b(?:won|got|earned|took|grabbed)\s+(?:a\s+)?(gold|silver|bronze)\b"
)


# Where a model's public dataset may be named (kept under MODEL_DATASET).
MODEL_QUESTIONS = ("has_model", "model_task", "model_metrics", "model_positive_rate")


def apply_side_answers(answers: dict[str, Any], also: tuple[tuple[str, Any], ...]) -> None:
    for key, value in also:
        if value is None:
            answers.pop(key, None)
        else:
            answers[key] = value


def record(answers: dict[str, Any], q: Question, reading: Reading) -> None:
    """Apply a reading to the answers: keep its part while asking, or store the value (and
    take a re-rated skill out of the earlier answer, so one rating stands)."""
    remember_offer(answers, q, reading)
    if not reading.complete:
        if reading.keep is not None:
            answers[PENDING] = reading.keep
        return
    answers.pop(PENDING, None)
    answers[q.id] = reading.value
    apply_side_answers(answers, reading.also)
    for key, skill in reading.replaces:
        earlier = answers.get(key)
        if isinstance(earlier, dict):
            answers[key] = {s: r for s, r in earlier.items() if s != skill}


def remember_offer(answers: dict[str, Any], q: Question, reading: Reading) -> bool:
    """Keep what a question back offered (or forget an earlier offer); True if that changed."""
    before = answers.get(OFFERED)
    if reading.offered and not reading.complete:
        answers[OFFERED] = {"question": q.id, "values": list(reading.offered)}
    else:
        answers.pop(OFFERED, None)
    return answers.get(OFFERED) != before


def offered_choices(q: Question, answers: dict[str, Any], kb: KnowledgeBase) -> list[Choice]:
    """Buttons for what a question back offered (none when nothing is offered)."""
    offer = answers.get(OFFERED)
    if not isinstance(offer, dict) or offer.get("question") != q.id:
        return []
    labels = {o.value: o.label for o in options_for(q, kb)}
    return [
        Choice(label=labels[v], value=labels[v]) for v in offer.get("values") or [] if v in labels
    ]


def leave_rest_out(q: Question, answers: dict[str, Any], kb: KnowledgeBase) -> Reading | None:
    """The kept part as a complete answer ("skip" while an item is asked about), or None."""
    pending = answers.get(PENDING)
    if not isinstance(pending, dict) or pending.get("question") != q.id:
        return None
    return _finish(q, pending, answers, kb)


def _unclear(message: str, choices: tuple[Choice, ...] = ()) -> Reading:
    return Reading(ask=message, problem=message, choices=choices)


def _not_known(q: Question, kb: KnowledgeBase, hint: Callable[[], str]) -> Reading:
    """ "I don't know" as an answer: not known (None), an explicit option, or a question back."""
    if q.kind == "choice":
        options = options_for(q, kb)
        if any(o.value == "unknown" for o in options):
            return Reading(value="unknown", note=describe_answer(q, "unknown", kb))
        if q.id in REQUIRED:
            return _unclear("No problem: pick the closest one; you can change it later. " + hint())
        return _unclear(
            'No problem: pick the closest option, or say "skip" to leave it out. ' + hint()
        )
    if q.kind == "multi":
        return _unclear('Pick any that apply, "none", or say "skip" to leave it out. ' + hint())
    if q.kind == "metrics":
        return _unclear(
            'The model audit needs at least one metric; say "skip" to leave it out. ' + hint()
        )
    if q.kind == "extra_ratings":
        return Reading(value={}, note="Nothing added.")
    if q.kind == "ratings":
        return Reading(
            value=None, note="Noted: not known, so these are left out (not counted as zero)."
        )
    return Reading(value=None, note=NOT_KNOWN)


def _choice(
    q: Question, text: str, answers: dict[str, Any], kb: KnowledgeBase, hint: Callable[[], str]
) -> Reading:
    if q.id == "model_legal_basis":
        reading = _basis_in_own_words(q, normalize(text), kb, hint)
        if reading is not None:
            return reading
    named = kb.dataset_named_in(text) if q.id == "model_task" else None
    if named is not None:  # "the Porto Seguro competition": its task is known
        return Reading(value=named[0], note=describe_answer(q, named[0], kb))
    if q.id == "career_stage":
        reading = _stage_in_own_words(text)
        if reading is not None:
            return reading
        title = _ACADEMIC.search(normalize(text))
        if title is not None:  # "postdoc": which stage depends on the years; offered with why
            stages, ask = _ACADEMIC_STAGES[title.group(1)]
            by_value = {o.value: o for o in options_for(q, kb)}
            return _offer([by_value[s] for s in stages], f"{ask} {hint()}")
        text = _stage_now(text) or text
    options = options_for(q, kb)
    offer = answers.get(OFFERED)
    if isinstance(offer, dict) and offer.get("question") == q.id:
        reading = _after_offer(q, text, options, list(offer.get("values") or []), kb, hint)
        if reading is not None:
            return reading
    if q.source == "roles":
        reading = _role_and_work_mode(q, text, options, kb, hint)
        if reading is not None:
            return reading
    value, close = match_choice(text, options, toward=q.source == "roles")
    if q.id == "model_task" and value in (None, "tabular_binary", "multiclass"):
        reading = _task_by_data(q, text, options, kb, hint)
        if reading is not None:
            return reading
    if value is not None:
        return Reading(value=value, note=describe_answer(q, value, kb))
    if q.id == "model_task":
        _no_benchmark_for(text)
    if close:
        return _offer(close, f"Did you mean {_either([o.label for o in close])}? {hint()}")
    raise Unclear(f"{text.strip()[:60]!r} is not one of the options.")


def _offer(close: Sequence[Option], ask: str) -> Reading:
    """A question back offering `close` as buttons; the next message may pick among them."""
    buttons = tuple(Choice(label=o.label, value=o.label) for o in close)
    return Reading(ask=ask, problem=ask, choices=buttons, offered=tuple(o.value for o in close))


_PLACE = re.compile(
    r"^(?:the )?(first|second|third|former|latter|last)(?: one| option)?(?: please)?$"
)


def _after_offer(
    q: Question,
    text: str,
    options: Sequence[Option],
    values: list[str],
    kb: KnowledgeBase,
    hint: Callable[[], str],
) -> Reading | None:
    """The message after "Did you mean A or B?": an option named in full (any of them, or a
    number of the whole list), else a place in the offer ("the second one"), a yes to a single
    offer, a no, or words that fit one offered option ("the freelance one"). None: read it
    as a new answer."""
    offered = [o for v in values for o in options if o.value == v]
    if not offered:
        return None
    bare = normalize(text).strip(" .!?")
    listed = _either([o.label for o in offered])
    if _PLACE.match(bare):  # the buttons shown are the offer, so places count in it
        chosen = _picked(bare, [o.value for o in offered])
        if chosen is None:  # "the third one" of two
            return _offer(offered, f"Which one: {listed}? {hint()}")
        return Reading(value=chosen, note=describe_answer(q, chosen, kb))
    try:
        value, _ = match_choice(text, options)
    except Unclear:
        value = None
    if value is not None:
        return Reading(value=value, note=describe_answer(q, value, kb))
    try:
        value, close = match_choice(text, offered)
    except Unclear:
        value, close = None, []
    if value is None and len(close) == 1:  # among the offered ones, the only one it fits
        value = close[0].value
    if value is not None:
        return Reading(value=value, note=describe_answer(q, value, kb))
    try:
        yes = parse_yes_no(bare)
    except Unclear:
        yes = None
    if yes is True and len(offered) == 1:
        return Reading(value=offered[0].value, note=describe_answer(q, offered[0].value, kb))
    if yes is True or bare in ("both", "both of them", "either", "either one"):
        return _offer(offered, f"Which one: {listed}? {hint()}")
    if yes is False:
        return _unclear(f"Which one, then? {hint()}")
    return None


# A role said with how the person works ("freelance NLP engineer", "self-employed data
# scientist"): working for clients is a role of its own here, whose demand adds the business
# side (clients, pricing, contracts) to general ML skills.
FREELANCE_ROLE = "freelance_ml_consultant"
_GENERAL_ROLES = frozenset({"ml_engineer", "data_scientist"})
_WORKS_FOR_CLIENTS = re.compile(
    r"\b(?:freelanc\w*|contract(?:or|ors|ing)?|self[- ]employed|independent(?:ly)?"
    r"|(?:my|our) own (?:business|company|consultancy))\b"
)
_NO_LONGER = re.compile(
    r"(?:\bnot|\bno longer|\bused to(?: be)?|\bformer(?:ly)?|\bex-?|\bwas|\bquit|\bstopped"
    r"|\bleft|\bafter(?: (?:\d+|a|an|some|a few|several|two|three|many) \w+)?)"
    r"(?: an?| being| my)?\s*$"
)


def _role_and_work_mode(
    q: Question, text: str, options: Sequence[Option], kb: KnowledgeBase, hint: Callable[[], str]
) -> Reading | None:
    """A role named with freelancing: a general ML role is the freelance one ("freelance data
    scientist"); a specialty is asked about between the two, since both fit ("freelance
    computer vision consultant"). None: no work mode, or nothing else named."""
    folded = normalize(text)
    by_value = {o.value: o for o in options}
    mentions = list(_WORKS_FOR_CLIENTS.finditer(folded))
    if not mentions or FREELANCE_ROLE not in by_value:
        return None
    rest, now = folded, False
    for found in reversed(mentions):  # each mention out, with a "no longer" before it
        before = _NO_LONGER.search(folded[: found.start()])
        now = now or before is None
        start = found.start() if before is None else before.start()
        rest = rest[:start] + " " + rest[found.end() :]
    try:
        named, _ = match_choice(rest, options, toward=True)
    except Unclear:
        named = None
    if not now and named is None:  # "not a freelancer": no role named yet
        return _unclear(f"Which role, then? {hint()}")
    if named is None or named == FREELANCE_ROLE:
        return None
    if not now:  # "I used to freelance, now a data scientist"
        return Reading(value=named, note=describe_answer(q, named, kb))
    if named in _GENERAL_ROLES:
        return Reading(value=FREELANCE_ROLE, note=describe_answer(q, FREELANCE_ROLE, kb))
    close = [by_value[FREELANCE_ROLE], by_value[named]]
    return _offer(
        close,
        f"Did you mean {_either([o.label for o in close])}? Both fit: the first weighs the "
        f"business side too (clients, pricing, contracts), the second the "
        f"{by_value[named].label} skills alone. {hint()}",
    )


# "The client handles that": the legal basis is the controller's to name (the client or the
# employer), so the audit says to ask them rather than to pick one.
CONTROLLER = CONTROLLER_DECIDES
# Papers that govern the data but are not a basis under GDPR Art. 6: a careful reader asks.
_NOT_A_BASIS = re.compile(
    r"\b(?:(?:research |medical )?ethics (?:approval|committee|board|review)|irb|rec approval"
    r"|institutional review board|data (?:use|usage|sharing|access|transfer) agreements?|dua|dsa"
    r"|nda|non-disclosure)\b"
)
_ANONYMOUS = re.compile(r"\b(?:anonymi[sz]ed|anonymous|de-?identified|pseudonymi[sz]ed)\b")
_US_LAW = re.compile(r"\b(?:hipaa|ccpa|cpra|ferpa|glba|coppa)\b")
# A contract with an organisation (the client), not with the people in the data (Art. 6(1)(b)).
_CONTRACT_WITH_ORG = re.compile(
    r"\bcontract\w*\b.*\bwith (?:the |my |our |a |their )?(?:client|hospital|clinic|employer|"
    r"company|firm|agency|bank|insurer|university|vendor|partner|customer company|business)s?\b"
)
_IS_CONTROLLER = re.compile(r"\b(?:is|are|as) (?:the )?(?:data )?controllers?\b")
# "Not in the EU": of the people in the data (the GDPR does not apply), or of the business
# (it may: the GDPR follows the people, Art. 3(2)).
_OUTSIDE_EU = re.compile(r"\b(?:outside(?: of)?|not in|non-?)(?: the)? ?(?:eu|europe|eea)\b")
_PEOPLE = re.compile(
    r"\b(?:data|people|persons|patients|users|customers|clients|residents|subjects|individuals)\b"
)


def _basis_in_own_words(
    q: Question, folded: str, kb: KnowledgeBase, hint: Callable[[], str]
) -> Reading | None:
    """A legal basis said in one's own words, or what a data-protection reader would ask back."""
    if _SOMEONE_ELSE_DECIDES.search(folded) or _IS_CONTROLLER.search(folded):
        return Reading(value=CONTROLLER, note=describe_answer(q, CONTROLLER, kb))
    if _OUTSIDE_EU.search(folded):
        if _PEOPLE.search(folded):
            return Reading(value=OUTSIDE_GDPR, note=describe_answer(q, OUTSIDE_GDPR, kb))
        return _unclear(
            "The GDPR follows the people in the data, not where you or your client are based "
            '(Art. 3): is anyone in the EU, EEA or UK in it? If no one is, say "the GDPR does '
            'not apply"; if some are, which basis does the data controller rely on? ' + hint()
        )
    law = _US_LAW.search(folded)
    if law is not None and not re.search(r"\bgdpr\b", folded):
        return _unclear(
            f"{law.group().upper()} is a US law. If no one in the EU, EEA or UK is in the data, "
            'the GDPR does not apply: say "the GDPR does not apply". If some are, which basis '
            "does the data controller rely on? " + hint()
        )
    if _NOT_A_BASIS.search(folded):
        return _unclear(
            "An ethics approval or a data agreement governs how the data may be used, but it is "
            "not itself a legal basis under the GDPR (Art. 6). For research the data controller "
            "(the hospital, university or client) usually relies on a public task or legitimate "
            'interests: pick one, or say "my client decides" if it is theirs to name. ' + hint()
        )
    if _ANONYMOUS.search(folded):
        return _unclear(
            "Truly anonymous data (no one can be re-identified, even with other data) is not "
            'personal data: say "back" to change the earlier answer to no. De-identified or '
            "pseudonymised data still is, and needs a basis: which one? " + hint()
        )
    if _CONTRACT_WITH_ORG.search(folded):
        return _unclear(
            "A contract with your client is not the basis for the people's data: it makes the "
            'client the data controller, whose basis it is to name (say "my client decides"). '
            "Or is it a contract with the people in the data themselves? " + hint()
        )
    return None


_SOMEONE_ELSE_DECIDES = re.compile(
    r"\b(?:client|company|employer|legal(?: team)?|lawyers?|dpo|controller|compliance|boss)\b.*"
    r"\b(?:handles?|decides?|deals? with|takes? care|is responsible|owns?)\b"
    r"|\bnot my (?:call|job|decision|department|area)\b"
)


# Tasks people name that no benchmark here holds: said so, not matched to the nearest name.
_UNBENCHMARKED_TASK = re.compile(
    r"\b(object detection|segmentation|clustering|anomaly detection|speech recognition|"
    r"asr|speech|translation|summari[sz]ation|text generation|image generation|generative|chat ?bots?|"
    r"llm|rag|question answering|reinforcement learning|\brl\b|pose estimation|ocr)\b"
)


# What a model's data is decides its task's benchmark: "binary" alone is a table's, but
# "binary image classification" is an image classifier's.
_IMAGE_DATA = re.compile(
    r"\b(?:images?|photos?|pictures?|vision|cv|x-?rays?|scans?|mri|ultrasound|skin lesions?"
    r"|dermatolog\w*|satellite|aerial|cameras?|pixels?|visual|imaging|radiolog\w*"
    r"|histopatholog\w*|retina\w*|mammogra\w*)\b"
)
_TEXT_DATA = re.compile(
    r"\b(?:texts?|nlp|sentiment|reviews?|e-?mails?|tweets?|documents?|messages?|tickets?|spam"
    r"|chats?|comments?|transcripts?)\b"
)
_TABLE_DATA = re.compile(r"\b(?:tabular|tables?|sensors?|features?|transactions?|logs?|events?)\b")
# Said of what is often, but not always, found in images ("defect detection").
_MAYBE_IMAGES = re.compile(r"\b(?:defects?|damage|quality inspection|cracks?|scratches?)\b")


def _task_by_data(
    q: Question, text: str, options: Sequence[Option], kb: KnowledgeBase, hint: Callable[[], str]
) -> Reading | None:
    """The task read from the kind of data the answer names, or a question between the two
    it could be; None when it names none."""
    folded = normalize(text)
    _no_benchmark_for(text)  # "object detection on images" has no benchmark here
    image, words = bool(_IMAGE_DATA.search(folded)), bool(_TEXT_DATA.search(folded))
    if image != words:
        task = "image_classification" if image else "text_classification"
        return Reading(value=task, note=describe_answer(q, task, kb))
    if image or not _MAYBE_IMAGES.search(folded):
        return None
    if _TABLE_DATA.search(folded):  # "defect detection from sensor data"
        return Reading(value="tabular_binary", note=describe_answer(q, "tabular_binary", kb))
    by_value = {o.value: o for o in options}
    close = [by_value["image_classification"], by_value["tabular_binary"]]
    return _offer(close, f"Is it on images or on tabular data? {hint()}")


def _no_benchmark_for(text: str) -> None:
    found = _UNBENCHMARKED_TASK.search(normalize(text))
    if found is None:
        return
    task = found.group(1)
    task = task.upper() if len(task) <= 3 else task[:1].upper() + task[1:]
    raise Unclear(
        f"{task} has no benchmark here yet, so its metrics cannot be "
        'compared. Pick one of the tasks if one fits, or say "skip" (the rest of the audit '
        "does not need it)."
    )


# Career stage in the person's own words ----------------------------------------------------

# Someone moving into machine learning from another field: their stage here counts ML work, so
# "mid-career switcher" is junior (not mid), whatever their earlier career was.
_SWITCHING = re.compile(
    r"\bcareer[- ]?(?:switch|chang)\w*|\bswitcher\b|\bchang(?:e|ing) (?:careers?|fields?)\b"
    r"|\bswitch(?:ing|ed)? (?:careers?\b|fields?\b|into\b|to (?:ml|ai|data|machine learning)\b)"
    r"|\b(?:transition|pivot)\w* (?:in)?to\b|\bretrain\w*|\bmoving into\b|\bbootcamp\b"
    r"|\binto (?:ml|ai|data science|machine learning)\b|\bnew to (?:ml|ai|data|machine learning)\b|\bjust start\w*|\bstarting out\b"
    r"|\bbeginner\b|\bearly[- ]career\b"
    # "I moved from accounting", "came over from QA": from another field, not from a stage.
    r"|\b(?:moved|moving|came|coming|switched|changed)(?: over)? from (?!(?:an? |being )?"
    r"(?:student|intern|graduate|junior|mid|senior|lead|staff|principal)\b)"
    r"|\b(?:used to be|former|ex-?) ?an? (?!(?:student|intern|junior|mid|senior|lead|staff"
    r"|principal|ml|ai|data|machine)\b)\w+"
)
_HIGH_STAGE = re.compile(r"\b(?:mid|senior|lead|staff|principal)\b")
_MID_CAREER = re.compile(r"\bmid[- ]?career\b")
_WORK_MODE = re.compile(r"\b(?:freelanc\w*|consult\w*|contract\w*|self[- ]employed|independent)\b")
_YEARS = re.compile(r"\b\d+(?:[.,]\d+)?\s*\+?\s*(?:years?|yrs?|months?)\b")
_STAGE_WORD = re.compile(r"\b(?:student|intern|graduate|junior|mid|senior|lead|staff|principal)\b")
_BACK = ' (say "back" to change it)'


# Academic titles: the stage they mean depends on the years of ML work, so the two it may be
# are offered ("phd student" is a student, read as named).
_ACADEMIC = re.compile(
    r"^(?:an? |i'?m an? |i am an? )?(?:assistant |associate |full |senior )?"
    r"(postdoc|post-doc|postdoctoral|professor|prof|phd|lecturer)\b(?! student| candidate)"
)
_POSTDOC = "A postdoc is mid (2-5 years of machine-learning work, the PhD included) or senior (5 or more): which?"
_PROFESSOR = "A professor is senior, or principal when leading others' research: which?"
_ACADEMIC_STAGES = {
    "postdoc": (("mid", "senior"), _POSTDOC),
    "post-doc": (("mid", "senior"), _POSTDOC),
    "postdoctoral": (("mid", "senior"), _POSTDOC),
    "professor": (("senior", "principal"), _PROFESSOR),
    "prof": (("senior", "principal"), _PROFESSOR),
    "lecturer": (("mid", "senior"), "A lecturer is mid (2-5 years of machine-learning work) or senior (5 or more): which?"),
    "phd": (("student", "mid"), "Are you doing a PhD (student), or do you have one (mid, or senior after 5 or more years of machine-learning work)?"),
}  # fmt: skip


def _stage_in_own_words(text: str) -> Reading | None:
    """A career stage said without its name: moving into ML from another field (junior), or
    asked back about with what it needs: a number of years, a level with a switch, how one
    works (freelancing is not a stage). None: read it as an option.

    The stage counts machine-learning work: a "mid-career switcher" is junior here, not mid.
    """
    folded = normalize(text)
    in_ml = _STAGE_IN_ML.search(folded)
    if in_ml is not None and len(set(re.findall(_STAGES, folded))) > 1:
        # "senior in software, junior in ML": the stage counts machine-learning work.
        stage = in_ml.group(1) or in_ml.group(2)
        return Reading(
            value=stage,
            note=f"Noted: {stage.title()}: the stage counts "
            "machine-learning work; what you did before counts where your skills are rated"
            + _BACK
            + ".",
        )
    if _SWITCHING.search(folded):
        level = _MID_CAREER.sub(" ", folded)  # the middle of a career, not a stage in ML
        if _HIGH_STAGE.search(level):
            raise Unclear(
                "Is that your level in machine learning, or in the field you are moving from? "
                "The stage counts machine-learning work."
            )
        if _STAGE_WORD.search(level):  # "student switching to data science": as named
            return None
        return Reading(
            value="junior",
            note="Noted: Junior: the stage counts machine-learning work, so moving into it "
            "starts there; what you did before counts where your skills are rated" + _BACK + ".",
        )
    if _STAGE_WORD.search(folded):
        return None
    if _YEARS.search(folded):  # years alone do not make a stage: ask, saying what each means
        raise Unclear(
            "How many years comes next; for the stage, which fits your machine-learning work: "
            "junior (about 0-2 years), mid (2-5), senior (5 or more) or principal (you lead "
            "others' technical work)?"
        )
    if _WORK_MODE.search(folded):
        raise Unclear(
            "Freelancing or consulting is how you work, not a career stage (your clients come "
            "up later)."
        )
    return None


_STAGES = r"(?:student|intern|graduate|junior|mid(?:[- ]?level)?|senior|lead|staff|principal)"
_ML_FIELD = r"(?:ml|machine learning|ai|data science|deep learning|llms?|mlops|data)"
# A stage said of machine learning beside another field's ("senior in software, junior in ML").
_STAGE_IN_ML = re.compile(
    rf"\b(junior|mid|senior|principal|student)(?:[- ]?level)? (?:in|at|for|on the|when it comes to) "
    rf"(?:the )?{_ML_FIELD}\b|\b{_ML_FIELD}[- ]wise,? (?:i'?m |i am )?(?:an? )?(junior|mid|senior|principal)\b"
)
# A move between stages names where the person is now: "moved from junior to mid last spring",
# "promoted to senior", "was junior, now mid", "just became a lead".
_STAGE_NOW = re.compile(
    rf"(?:\bfrom (?:an? |being )?{_STAGES}\b(?: [\w-]+){{0,3}}? (?:to|into) (?:an? |being )?"
    rf"|\b(?:promoted|promotion) (?:to|into) (?:an? )?|\bbecame (?:an? )?|\bnow (?:an? |i'?m (?:an? )?)?)"
    rf"({_STAGES})\b"
)


_HOPED = re.compile(
    r"\b(?:want|wanting|hop(?:e|ing)|aim\w*|plan\w*|trying|try|would like|looking|goal|wish|"
    r"going to|will|soon|moving|transitioning|progressing|heading|working towards?)\b"
)


_STAGE_NAMED = re.compile(rf"\b({_STAGES})\b")
_FROM_STAGE = re.compile(rf"\bfrom (?:an? |being )?({_STAGES})\b")


def _stage_now(text: str) -> str | None:
    """Where the person is today when a stage is said beside another (None: read the answer
    as it is). A move names where it ended ("moved from junior to mid": mid); a stage hoped
    for is not today's ("junior, aiming for mid": junior; "I want to go from junior to mid":
    junior); a hope without today's stage ("want to become senior") is asked about."""
    folded = _MID_CAREER.sub(" ", normalize(text))
    hope = _HOPED.search(folded)
    if hope is None:
        found = _STAGE_NOW.search(folded)
        return str(found.group(1)) if found else None
    before = {m.replace(" ", "-") for m in _STAGE_NAMED.findall(folded[: hope.start()])}
    named = {m.replace(" ", "-") for m in _STAGE_NAMED.findall(folded)}
    if len(before) == 1 and named - before:
        return str(before.pop())
    moved = _FROM_STAGE.search(folded[hope.end() :])
    if moved is not None:
        return str(moved.group(1))
    if _STAGE_NOW.search(folded) or (named and not before):
        raise Unclear(
            "Which stage are you at today? The one you are aiming for comes with your goals."
        )
    return None


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"


# Ratings ---------------------------------------------------------------------------------


_NOT_APPLICABLE = re.compile(
    rf"n/?a|not applicable|does ?n'?t apply|does not apply|not relevant(?: to me| for me)?|{NOT_MINE}"
)


def _ratings(
    q: Question,
    text: str,
    answers: dict[str, Any],
    kb: KnowledgeBase,
    kept: dict[str, float],
    not_known: tuple[str, ...],
) -> Reading:
    folded = normalize(text)
    if q.kind == "extra_ratings" and (
        _NOTHING_MORE.fullmatch(folded)
        or (_NOTHING_MORE.match(folded) and not re.search(r"\d", folded))
        or is_none(folded)  # "keine", "rien", "nada"
    ):
        return Reading(value={}, note="Nothing added.")
    if q.kind == "ratings" and _NOT_APPLICABLE.fullmatch(strip_hedges(folded).strip(" .!")):
        # "n/a" for a whole list: never done (0) or not rateable (left out) change the score
        # very differently, so ask which.
        return _unclear(
            '"Not applicable": have you never done these (each counts as 0), or can you not '
            "rate them (they are left out, not counted as zero)?",
            (Choice(label="Never done them (0)", value="none"),
             Choice(label="Leave them out", value="don't know")),
        )  # fmt: skip
    expected = _expected(q, answers, kb)
    got = read_ratings(text, expected, kb, q.kind == "ratings")
    if got.all_unknown:
        return _not_known(q, kb, lambda: "")
    own = set(expected)
    if (
        own
        and got.values
        and not (got.open or got.not_known or own & {*got.values, *kept})
        and not any(kb.skills[s].pillar == q.pillar for s in got.values)
    ):
        # Only skills of other pillars' questions ("communication 4" when asked about MLOps):
        # kept, and this question's own skills asked for, instead of leaving them unrated.
        asked = ", ".join(kb.skills[s].name for s in expected)
        problem = f"none of this question's skills ({asked}) was rated"
        item = {"kind": "own", "typed": "", "problem": problem, "skill": None, "rating": None}
        keep = {
            "question": q.id,
            "value": {**kept, **got.values},
            "not_known": list(not_known),
            "open": [{**item, "skills": expected}],
        }
        return _ask_item(q, kb, keep, "")
    return _settle(
        q,
        answers,
        kb,
        {**kept, **got.values},
        (*not_known, *got.not_known),
        list(got.open),
        got.note,
    )


_NOTHING_MORE = re.compile(
    r"(?:no(?:thing)?(?: else| more)?|none(?: for now| yet| else)?|that'?s all|no thanks|nope|nah|"
    r"n/a|-|0|not really|nothing to add|all good)\b"
)


def _expected(q: Question, answers: dict[str, Any], kb: KnowledgeBase) -> list[str]:
    return rated_skills(q, answers, kb) if q.kind == "ratings" else []


def _settle(
    q: Question,
    answers: dict[str, Any],
    kb: KnowledgeBase,
    values: dict[str, float],
    not_known: tuple[str, ...],
    open_items: list[OpenItem],
    note: str = "",
) -> Reading:
    """A complete answer when nothing is open; else keep what is known and ask the first item."""
    not_known = tuple(dict.fromkeys(s for s in not_known if s not in values))
    if open_items:
        if not values and not not_known and all(i.kind != "conflict" for i in open_items):
            # Nothing understood: the whole question again, with what was wrong.
            return _unclear(
                _sentence(i.problem for i in open_items) + " " + question_text(q, answers, kb)[1]
            )
        keep = {
            "question": q.id,
            "value": values,
            "not_known": list(not_known),
            "open": [_item_dict(i) for i in open_items],
        }
        return _ask_item(q, kb, keep, _sentence(i.problem for i in open_items))
    if not values and not not_known:
        return _unclear(
            "I could not find any skill with a rating. " + question_text(q, answers, kb)[1]
        )
    return Reading(
        value=values,
        note=_describe_ratings(q, values, not_known, answers, kb, note),
        replaces=tuple(_replaced(q, values, answers)),
    )


def _item_dict(item: OpenItem) -> dict[str, Any]:
    return {"kind": item.kind, "typed": item.typed, "problem": item.problem, "skill": item.skill,
            "rating": item.rating, "suggestions": list(item.suggestions), "ratings": list(item.ratings)}  # fmt: skip


def _ask_item(q: Question, kb: KnowledgeBase, keep: dict[str, Any], problems: str) -> Reading:
    """Ask about the first open item, saying what is kept so far."""
    item = keep["open"][0]
    so_far = _so_far(keep, kb)
    more = len(keep["open"]) - 1
    later = f" (then {more} more)" if more else ""
    buttons: tuple[Choice, ...]
    # An unknown name with skills to offer is a skill ("fairness"), else perhaps a platform.
    platform = (
        named(item["typed"])
        if item["kind"] == "unknown_name" and not item.get("suggestions")
        else None
    )
    if platform is not None:
        # "kaggle 5": the person means their results there, which are evidence, not a skill
        # (a guess at a similar-sounding skill would record something they did not say).
        question = (
            f"{item['typed']!r}{later} is a source of evidence rather than a skill: after the "
            f"interview, /connect {platform.name} reads what it shows of you. Name the skill "
            'you meant with its rating, or say "leave it out".'
        )
        buttons = (Choice(label="Leave it out", value="leave it out"),)
    elif item["kind"] == "unknown_name":
        names = [kb.skills[s].name for s in _suggested(q, item)]
        rated = f" {item['rating']:g}" if item["rating"] is not None else ""
        known = bool(names) and (
            kb.resolve_skill(item["typed"]) is not None or is_broad(item["typed"])
        )
        question = (
            f"{item['typed']!r}{later} could mean more than one skill: which did you mean"
            if known
            else f"Unknown skill {item['typed']!r}{later}: which skill did you mean"
        )
        question += (f", {_either(names)}" if names else "") + '? Name it, or say "leave it out".'

        if q.kind == "extra_ratings":
            question += (
                " Knowledge of a field (accounting, medicine, retail) counts as Domain Expertise."
            )
        buttons = (
            *(Choice(label=n, value=f"{n}{rated}") for n in names),
            Choice(label="Leave it out", value="leave it out"),
        )
    elif item["kind"] == "own":
        names = [kb.skills[s].name for s in item["skills"]]
        question = (
            f"This question is about {', '.join(names[:-1])} and {names[-1]}: rate each "
            'from 0 to 5 (numbers in order work too), or say "none".'
        )
        buttons = ()
    elif item["kind"] == "unknown_option":
        question = f'{item["problem"]}{later}. Pick from the list to add one, or say "that\'s all".'
        buttons = (Choice(label="That's all", value="that's all"),)
    elif item["skill"] is None:  # a rating with no skill name beside it
        question = (
            f"{_capital(item['problem'])}{later}: which skill is it for? Name it with its rating "
            '(for example "Docker 3"), or say "leave it out".'
        )
        buttons = (Choice(label="Leave it out", value="leave it out"),)
    else:
        name = kb.skills[item["skill"]].name
        if item["kind"] == "conflict":
            question = item["problem"] + later
            buttons = tuple(Choice(label=f"{r:g}", value=f"{r:g}") for r in item["ratings"])
            if sum(i["kind"] == "conflict" for i in keep["open"]) > 1:
                # "terraform 4, ansible 3, helm 4, kubeflow 3": one answer settles them all
                question += ' Or say "the higher of each" for every skill given two ratings.'
                buttons = (*buttons, Choice(label="The higher of each", value="the higher of each"))
        elif item["kind"] == "no_rating":
            question = (
                f'{item["problem"]}{later}: what rating (0-5) should {name} have? Or "don\'t know".'
            )
            buttons = tuple(Choice(label=str(r), value=str(r)) for r in range(6))
        else:
            question = f"{item['problem']}{later}. What rating (0-5) should {name} have?"
            buttons = tuple(Choice(label=str(r), value=str(r)) for r in range(6))
        buttons = (*buttons, Choice(label="Don't know", value="don't know"))
    text = f"{so_far} {question}".strip()
    # For callers that keep nothing (the model's tools, /next): what was wrong, in full.
    problems = problems or _sentence(i["problem"] for i in keep["open"])
    return Reading(ask=text, problem=problems, keep=keep, choices=buttons)


def _so_far(keep: dict[str, Any], kb: KnowledgeBase) -> str:
    value = keep.get("value")
    parts: list[str] = []
    if isinstance(value, dict) and value:
        parts.append(", ".join(f"{kb.skills[s].name} {r:g}" for s, r in value.items()))
    elif isinstance(value, list) and value:
        labels: dict[str, str] = keep.get("labels") or {}
        parts.append(", ".join(str(labels.get(v, v)) for v in value))
    if keep.get("not_known"):
        parts.append("not known: " + ", ".join(kb.skills[s].name for s in keep["not_known"]))
    return f"Noted so far: {'; '.join(parts)}." if parts else ""


def _follow_up(
    q: Question,
    text: str,
    folded: str,
    pending: dict[str, Any],
    answers: dict[str, Any],
    kb: KnowledgeBase,
    hint: Callable[[], str],
) -> Reading:
    """The next message while an item is open: it answers the item, leaves it out, or is a
    whole new answer to the question."""
    items = list(pending.get("open") or [])
    if not items:
        return _finish(q, pending, answers, kb)
    item, rest = items[0], items[1:]
    if item["kind"] == "own":  # the question's own skills: any answer is a whole answer
        return _ratings(
            q, text, answers, kb, dict(pending.get("value") or {}),
            tuple(pending.get("not_known") or ()),
        )  # fmt: skip
    suggested = _suggested(q, item)
    picked = _picked(folded, suggested) if item.get("rating") is not None else None
    if picked is not None:  # "the second one", or "yes" to the one skill suggested
        return _after_item(q, pending, rest, {picked: item["rating"]}, (), answers, kb)
    bare = folded.strip(" .!?")
    if len(suggested) > 1 and (bare in YES or _PLACE.match(bare)):
        again = _ask_item(q, kb, pending, "")
        return Reading(ask=f"Which one? {again.ask}", keep=pending, choices=again.choices)
    if _DONE.match(folded.strip(" .!")):
        if q.kind in ("multi", "skills"):  # a list: what was understood is the answer
            return _finish(q, pending, answers, kb)
        return _after_item(q, pending, rest, {}, (), answers, kb)
    if q.kind in ("multi", "skills"):
        return _list_follow_up(q, text, pending, answers, kb)
    higher = _HIGHER.match(bare) if item["kind"] == "conflict" else None
    if higher is not None:
        # "the higher" settles this skill; "the higher of each" every skill given two ratings
        settled = [i for i in items if i["kind"] == "conflict"] if higher.group(1) else [item]
        values = {i["skill"]: max(i["ratings"]) for i in settled}
        left = [i for i in rest if i not in settled]
        return _after_item(q, pending, left, values, (), answers, kb)
    try:
        found = _answer_item(item, text, folded, kb)
    except Unclear:
        found = None
    if found is not None:
        values, unknown = found
        return _after_item(q, pending, rest, values, unknown, answers, kb)
    # Not an answer to the item: a whole answer to the question, merged with what is kept,
    # when it says something; otherwise the item is asked again and nothing changes.
    try:
        if looks_like_code(folded):
            raise Unclear("I could not read that as ratings.")
        got = read_ratings(text, _expected(q, answers, kb), kb, q.kind == "ratings")
        if not (got.values or got.not_known or got.all_unknown):
            said = _sentence(i.problem for i in got.open)
            raise Unclear(said or "I could not read that as an answer to my question.")
        return _ratings(
            q,
            text,
            answers,
            kb,
            dict(pending.get("value") or {}),
            tuple(pending.get("not_known") or ()),
        )
    except Unclear as exc:
        again = _ask_item(q, kb, pending, "")
        return Reading(
            ask=f"{exc} {again.ask}", problem=str(exc), keep=pending, choices=again.choices
        )


# "the higher", "higher of each", "the max for all": a conflict settled at its higher rating.
_HIGHER = re.compile(
    r"^(?:take |use |keep )?(?:the )?(?:higher|highest|max|maximum|bigger|best)(?: one| rating)?"
    r"( (?:of|for|in) (?:each|all|every one|them all|both|all of them))?$"
)


def _suggested(q: Question, item: dict[str, Any]) -> list[str]:
    """The skills an unknown name's question offers as buttons, in their order."""
    if item.get("kind") != "unknown_name":
        return []
    ids = list(item.get("suggestions") or [])
    if q.kind == "extra_ratings":
        # A former career's field is the commonest name the taxonomy lacks.
        ids = [*ids, "domain_expertise"][:4]
    return list(dict.fromkeys(ids))


def _picked(folded: str, offered: list[str]) -> str | None:
    """One of the offered choices by its place ("the second one") or, when there is only one,
    by a yes; None otherwise."""
    bare = folded.strip(" .!?")
    place = _PLACE.match(bare)
    if place is not None:
        word = place.group(1)
        index = {"first": 0, "former": 0, "second": 1, "third": 2}.get(word, len(offered) - 1)
        return offered[index] if 0 <= index < len(offered) else None
    if len(offered) == 1 and bare in YES:
        return offered[0]
    return None


def _answer_item(
    item: dict[str, Any], text: str, folded: str, kb: KnowledgeBase
) -> tuple[dict[str, float], tuple[str, ...]] | None:
    """The values one follow-up message gives for the open item, or None when it does not
    answer it (then the message is read as a whole new answer)."""
    named = None if is_bare_rating(folded) else read_ratings(text, [], kb, allow_positional=False)
    if item["kind"] == "unknown_name":
        if named is None:
            return None
        if named.values or named.not_known:
            return (named.values, named.not_known) if not named.open else None
        # Only a name: the rating given with the unknown name goes with it.
        if (
            len(named.open) == 1
            and named.open[0].kind == "no_rating"
            and item["rating"] is not None
        ):
            skill = named.open[0].skill
            return ({skill: item["rating"]}, ()) if skill else None
        return None
    skill = item.get("skill")
    if not skill:  # a rating that named no skill: the follow-up names one, with its rating
        if named is not None and named.values and not named.open:
            return named.values, named.not_known
        return None
    if is_unknown(folded):
        return {}, (skill,)
    if named is None:  # a bare rating answers the item
        got = read_ratings(text, [skill], kb, allow_positional=True)
        return (got.values, got.not_known) if not got.open and got.values else None
    if not named.open and set(named.values) | set(named.not_known) == {skill}:
        return named.values, named.not_known
    return None


def _after_item(
    q: Question,
    pending: dict[str, Any],
    rest: list[dict[str, Any]],
    values: dict[str, float],
    unknown: tuple[str, ...],
    answers: dict[str, Any],
    kb: KnowledgeBase,
) -> Reading:
    kept = {**(pending.get("value") or {}), **values}
    not_known = (*(pending.get("not_known") or ()), *unknown)
    updated = dict(
        pending, value=kept, not_known=[s for s in not_known if s not in kept], open=rest
    )
    if rest:
        return _ask_item(q, kb, updated, "")
    return _finish(q, updated, answers, kb)


def _finish(
    q: Question, pending: dict[str, Any], answers: dict[str, Any], kb: KnowledgeBase
) -> Reading:
    """The kept part as the complete answer."""
    value = pending.get("value")
    if q.kind in ("multi", "skills"):
        chosen = list(value or [])
        return Reading(value=chosen, note=describe_answer(q, chosen, kb))
    kept = dict(value or {})
    not_known = tuple(pending.get("not_known") or ())
    if not kept and not not_known:
        return Reading(
            value={} if q.kind == "extra_ratings" else None,
            note="Nothing added." if q.kind == "extra_ratings" else "Skipped.",
        )
    return Reading(
        value=kept,
        note=_describe_ratings(q, kept, not_known, answers, kb, ""),
        replaces=tuple(_replaced(q, kept, answers)),
    )


def _replaced(
    q: Question, values: dict[str, float], answers: dict[str, Any], changed: bool = True
) -> list[tuple[str, str]]:
    """(earlier question, skill) for each skill this answer rates again (only the changed
    ratings when `changed`)."""
    return [
        (key, skill)
        for key in RATING_KEYS
        if key != q.id and isinstance(answers.get(key), dict)
        for skill in values
        if skill in answers[key] and (not changed or answers[key][skill] != values[skill])
    ]


def _describe_ratings(
    q: Question,
    values: dict[str, float],
    not_known: tuple[str, ...],
    answers: dict[str, Any],
    kb: KnowledgeBase,
    note: str,
) -> str:
    lines = [describe_answer(q, values, kb) if values else "Noted."]
    if note:
        lines[0] = lines[0].rstrip(".") + f" ({note})."
    if not_known:
        names = ", ".join(kb.skills[s].name for s in not_known)
        lines.append(f"Not known: {names}, so left out (not counted as zero).")
    for key, skill in _replaced(q, values, answers, changed=False):
        before = answers[key][skill]
        if before != values[skill]:
            lines.append(
                f"{kb.skills[skill].name}: {before:g} -> {values[skill]:g} (this replaces your earlier rating)."
            )
        else:
            lines.append(f"{kb.skills[skill].name}: {before:g}, as you rated it before.")
    return " ".join(lines)


def _sentence(problems: Any) -> str:
    text = "; ".join(p.rstrip(".") for p in problems)
    return text[:1].upper() + text[1:] + "." if text else ""


# Lists of options or skills --------------------------------------------------------------


# Questions of taste: refusing some ("no videos") says the others suit. Never consent, or what
# a person has done: not having done one says nothing of the rest.
PREFERENCES = frozenset({"preferred_formats"})
# Permissions: a contradictory answer is asked about, never read either way.
CONSENT_QUESTIONS = frozenset({"consents"})


# Words for more than one learning format at once.
_READING = re.compile(
    r"\b(?P<neg>(?:no|not|without|avoid|hate|dislike|(?:do ?n'?t|do not) like)\s+(?:any\s+)?)?"
    r"(?:reading|written (?:material|stuff|content)|text[- ]based|texts)\b"
    r"(?!\s+(?:the\s+)?(?:docs|documentation|books?|textbooks?|papers|articles|blogs?|tutorials))"
)


def _both_written(found: re.Match[str]) -> str:
    """Reading is books and docs; "no reading" refuses both."""
    neg = found.group("neg") or ""
    return f"{neg}books, {neg}docs"


def _multi(q: Question, text: str, kb: KnowledgeBase, kept: list[str]) -> Reading:
    options = options_for(q, kb)
    if q.id == "preferred_formats":
        text = _READING.sub(_both_written, text.lower())
    got = read_multi(text, options, complement=q.id in PREFERENCES)
    chosen = [o.value for o in options if o.value in {*kept, *got.chosen}]
    blanket = [part for part in got.unknown if is_none(part)]
    if chosen and blanket:
        if q.id in CONSENT_QUESTIONS:  # "none and github": never guess at a permission
            labels = ", ".join(o.label for o in options if o.value in got.chosen)
            raise Unclear(
                f"You said none and also {labels}; which may I use? Name them, or say none."
            )
        # "none and teaching": none other than the ones named.
        got = dataclasses.replace(got, unknown=[p for p in got.unknown if p not in blanket])
    if got.unknown and not chosen:
        named = ", ".join(repr(p) for p in got.unknown)
        raise Unclear(f"{named} {'is' if len(got.unknown) == 1 else 'are'} not among the options.")
    if got.unknown:
        return _ask_item(q, kb, _list_keep(q, chosen, got.unknown, options), "")
    return Reading(value=chosen, note=describe_answer(q, chosen, kb))


def _list_keep(
    q: Question, chosen: list[str], unknown: list[str], options: list[Option]
) -> dict[str, Any]:
    labels = {o.value: o.label for o in options}
    items: list[dict[str, Any]] = [
        {"kind": "unknown_option", "typed": part, "problem": f"{part!r} is not among the options",
         "skill": None, "rating": None, "suggestions": [], "ratings": []}
        for part in unknown
    ]  # fmt: skip
    return {"question": q.id, "value": chosen, "labels": labels, "not_known": [], "open": items}


def _skills(q: Question, text: str, kb: KnowledgeBase, kept: list[str]) -> Reading:
    got = read_skill_list(text, kb)
    found = list(dict.fromkeys([*kept, *got.found]))
    if got.unknown and not found:
        hints = [
            f"{n!r}" + (f" (did you mean {display(kb, c)}?)" if c else "") for n, c in got.unknown
        ]
        raise Unclear("I do not know the skill " + ", ".join(hints) + ".")
    if got.unknown:
        items = [
            {"kind": "unknown_name", "typed": name, "problem": f"Unknown skill {name!r}", "skill": None,
             "rating": None, "suggestions": close, "ratings": []}
            for name, close in got.unknown
        ]  # fmt: skip
        keep = {"question": q.id, "value": found, "labels": {s: kb.skills[s].name for s in found},
                "not_known": [], "open": items}  # fmt: skip
        return _ask_item(q, kb, keep, "")
    return Reading(value=found, note=describe_answer(q, found, kb))


def _list_follow_up(
    q: Question, text: str, pending: dict[str, Any], answers: dict[str, Any], kb: KnowledgeBase
) -> Reading:
    kept = list(pending.get("value") or [])
    try:
        if q.kind == "skills":
            return _skills(q, text, kb, kept)
        return _multi(q, text, kb, kept)
    except Unclear as exc:
        again = _ask_item(q, kb, pending, "")
        return Reading(
            ask=f"{exc} {again.ask}", problem=str(exc), keep=pending, choices=again.choices
        )


def understood(
    q: Question, text: str, answers: dict[str, Any], kb: KnowledgeBase, remember: bool = False
) -> tuple[Any, str | None]:
    """The answer to record, or None and what to tell the person (what was wrong, then the
    hint). The same reading as the guided interviewer's (`agent.answers.read`); a partly
    understood list is not recorded here, and the message says what to give again.
    `remember`: keep in `answers` what a question back offered (see `remember_offer`), for a
    flow that saves them."""
    reading, problem = understood_reading(q, text, answers, kb, remember)
    return (reading.value if problem is None else None), problem


def understood_reading(
    q: Question, text: str, answers: dict[str, Any], kb: KnowledgeBase, remember: bool = False
) -> tuple[Reading, str | None]:
    """`understood`, with the whole reading (its note and side answers) when complete."""
    reading = read(q, text, answers, kb)
    if remember:
        remember_offer(answers, q, reading)
    if reading.complete:
        return reading, None
    if reading.keep is None:
        return reading, reading.ask
    _, hint = question_text(q, answers, kb)
    return reading, f"{reading.problem or reading.ask} {hint}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
