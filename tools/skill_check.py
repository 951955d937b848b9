"""The adaptive skill check: pick questions, record answers, estimate proficiency, make evidence.

A check asks 4-6 questions of one skill's bank (`knowledge/checks.py`). It starts at
intermediate, moves one level up after a right answer and one down after a wrong one, and
stops once the estimate is settled. Everything here is pure: a check is a frozen
`CheckState`; each step returns a new one, so the chat flow stores the state between
messages and nothing lives in this module. The method and its parameters are in
`docs/skill-checks.md`.

Flow (the chat, Telegram buttons and `skillaudit check SKILL` all drive it the same way):

    state = start_check(bank, seed, started_at, seen_before)  # the seed lives in the state
    while (shown := next_question(state, bank)) is not None:
        ...show shown.stem and shown.options; remember shown.question_id as seen...
        state = record(state, bank, Answer(question_id=..., choice=..., shown_at=..., answered_at=...))
    evidence = check_evidence(result(state))

A person may stop at any point: an unfinished state has no result and gives no evidence.
Questions shown in an abandoned check should still be stored as seen, so that restarting does
not bring them back. Times must be timezone-aware; timing is stored, never scored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Sequence

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from knowledge.checks import CheckBank, CheckQuestion, Difficulty
from tools.errors import CheckError
from tools.params import SourceKind
from tools.results import Evidence

CHECK_METHOD_VERSION = "1.0.0"
# check method version -> fingerprint of the CheckParams it was published with
CHECK_VERSION_FINGERPRINTS = {"1.0.0": "62b5e2492edb"}

LADDER = list(Difficulty)  # basic, intermediate, advanced


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CheckParams(Frozen):
    """Parameters of the adaptive check; defaults are the published method."""

    min_questions: int = Field(default=4, ge=1)
    max_questions: int = Field(default=6, ge=1)
    start: Difficulty = Difficulty.INTERMEDIATE
    # Proficiency (0-100) at which a person knows a question of the level half the time.
    anchors: dict[Difficulty, float] = Field(
        default_factory=lambda: {
            Difficulty.BASIC: 35.0,
            Difficulty.INTERMEDIATE: 55.0,
            Difficulty.ADVANCED: 75.0,
        }
    )
    # Width of the logistic rise around an anchor, in proficiency points.
    spread: float = Field(default=7.0, gt=0)
    # Chance of a right answer without knowing it (one of four options).
    guess: float = Field(default=0.25, ge=0, lt=1)
    # Chance of a wrong answer despite knowing it (misreading, a slip of the finger).
    slip: float = Field(default=0.05, ge=0, lt=1)
    # Stop after min_questions once the posterior standard deviation is at most this.
    settled_sd: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> CheckParams:
        if self.min_questions > self.max_questions:
            raise ValueError("min_questions must not exceed max_questions")
        if self.guess + self.slip >= 1:
            raise ValueError("guess + slip must be below 1")
        if set(self.anchors) != set(Difficulty):
            raise ValueError("anchors need one value per difficulty")
        values = [self.anchors[d] for d in LADDER]
        if not all(0 <= v <= 100 for v in values) or values != sorted(set(values)):
            raise ValueError("anchors must rise from basic to advanced within 0-100")
        return self


DEFAULT_CHECK_PARAMS = CheckParams()


def check_params_fingerprint(params: CheckParams = DEFAULT_CHECK_PARAMS) -> str:
    """Return a short stable hash of every check parameter."""
    payload = json.dumps(params.model_dump(mode="json"), sort_keys=True).encode()
    return hashlib.sha256(payload).hexdigest()[:12]


class ShownQuestion(Frozen):
    """What the front end shows: the stem and the options in their shuffled order, no answer."""

    skill: str
    question_id: str
    level: Difficulty
    stem: str
    options: tuple[str, ...]
    number: int = Field(ge=1, description="1 for the first question of this check")
    at_most: int = Field(ge=1, description="the check asks no more than this many questions")


class Answer(Frozen):
    """A person's answer: the index of the chosen option in `ShownQuestion.options`."""

    question_id: str
    choice: int
    shown_at: AwareDatetime
    answered_at: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> Answer:
        if self.answered_at < self.shown_at:
            raise ValueError("answered_at is before shown_at")
        return self


class AnsweredQuestion(Frozen):
    """One recorded answer, judged against the bank."""

    question_id: str
    level: Difficulty
    choice: int = Field(description="index of the chosen option in the shown (shuffled) order")
    chosen: int = Field(description="index of the chosen option in the bank file's order")
    correct: bool
    shown_at: AwareDatetime
    answered_at: AwareDatetime

    @property
    def seconds(self) -> float:
        """Time from showing the question to the answer."""
        return (self.answered_at - self.shown_at).total_seconds()


class CheckState(Frozen):
    """A check in progress or finished: everything needed to continue it, nothing else."""

    skill: str
    bank_version: str
    seed: str = Field(min_length=1, max_length=200)
    seen_before: tuple[str, ...] = Field(
        default=(), description="question ids shown in earlier checks of the schedule, oldest first"
    )
    started_at: AwareDatetime
    answers: tuple[AnsweredQuestion, ...] = ()
    params: CheckParams = DEFAULT_CHECK_PARAMS

    @property
    def asked(self) -> list[str]:
        """Ids of the questions answered in this check, in order."""
        return [a.question_id for a in self.answers]


class Estimate(Frozen):
    """Posterior mean and standard deviation of proficiency (0-100) given the answers."""

    proficiency: float
    sd: float


class CheckResult(Frozen):
    """A finished check; it exists only when the stopping rule said the check was over."""

    skill: str
    bank_version: str
    method_version: str
    seed: str
    started_at: AwareDatetime
    finished_at: AwareDatetime
    answers: tuple[AnsweredQuestion, ...]
    right: int
    asked: int
    proficiency: float = Field(ge=0, le=100, description="posterior mean, 0-100")
    sd: float = Field(ge=0, description="posterior standard deviation, in points")
    level: str = Field(description="below basic, basic, intermediate or advanced")


class Explanation(Frozen):
    """Why an answer was right or wrong, for the front end to show after the answer."""

    question_id: str
    correct: bool
    chosen_text: str
    chosen_why: str
    answer_text: str
    answer_why: str
    source_title: str
    source_url: str


def start_check(
    bank: CheckBank,
    seed: str,
    started_at: dt.datetime,
    seen_before: Sequence[str] = (),
    params: CheckParams = DEFAULT_CHECK_PARAMS,
) -> CheckState:
    """Begin a check of the bank's skill; `seen_before` lists earlier checks' ids, oldest first."""
    return CheckState(
        skill=bank.skill,
        bank_version=bank.version,
        seed=seed,
        seen_before=tuple(seen_before),
        started_at=started_at,
        params=params,
    )


def estimate(answers: Sequence[AnsweredQuestion], params: CheckParams) -> Estimate:
    """Posterior mean and SD over proficiency 0..100 (uniform prior, one-point grid)."""
    grid = range(101)
    weights = [1.0] * len(grid)
    for answer in answers:
        for i, point in enumerate(grid):
            p = p_correct(point, answer.level, params)
            weights[i] *= p if answer.correct else 1 - p
    mass = math.fsum(weights)
    mean = math.fsum(w * p for w, p in zip(weights, grid, strict=True)) / mass
    var = math.fsum(w * (p - mean) ** 2 for w, p in zip(weights, grid, strict=True)) / mass
    return Estimate(proficiency=mean, sd=math.sqrt(var))


def p_correct(proficiency: float, level: Difficulty, params: CheckParams) -> float:
    """Chance that a person of this proficiency answers a question of this level right."""
    rise = 1 / (1 + math.exp(-(proficiency - params.anchors[level]) / params.spread))
    return params.guess + (1 - params.guess - params.slip) * rise


def is_finished(state: CheckState) -> bool:
    """Whether the stopping rule ends the check: the maximum, or a settled estimate."""
    asked = len(state.answers)
    if asked >= state.params.max_questions:
        return True
    if asked < state.params.min_questions:
        return False
    return estimate(state.answers, state.params).sd <= state.params.settled_sd


def target_level(state: CheckState) -> Difficulty:
    """Level of the next question: the start level, then one step after each answer."""
    if not state.answers:
        return state.params.start
    last = state.answers[-1]
    step = 1 if last.correct else -1
    return LADDER[min(len(LADDER) - 1, max(0, last.level.rank + step))]


def next_question(state: CheckState, bank: CheckBank) -> ShownQuestion | None:
    """The question to show next, or None when the check is finished."""
    _same_bank(state, bank)
    if is_finished(state):
        return None
    question = _pick(state, bank)
    order = _option_order(state.seed, question)
    return ShownQuestion(
        skill=state.skill,
        question_id=question.id,
        level=question.level,
        stem=question.stem,
        options=tuple(question.options[i].text for i in order),
        number=len(state.answers) + 1,
        at_most=state.params.max_questions,
    )


def record(state: CheckState, bank: CheckBank, answer: Answer) -> CheckState:
    """Return the state with the answer to the current question added."""
    _same_bank(state, bank)
    if is_finished(state):
        raise CheckError(f"the check of {state.skill} is already finished")
    question = _pick(state, bank)
    if answer.question_id != question.id:
        raise CheckError(
            f"answer is for question {answer.question_id}, but the current question is "
            f"{question.id}"
        )
    if not 0 <= answer.choice < len(question.options):
        raise CheckError(
            f"choice {answer.choice} is not an option; choose 0 to {len(question.options) - 1}"
        )
    chosen = _option_order(state.seed, question)[answer.choice]
    judged = AnsweredQuestion(
        question_id=question.id,
        level=question.level,
        choice=answer.choice,
        chosen=chosen,
        correct=chosen == question.answer,
        shown_at=answer.shown_at,
        answered_at=answer.answered_at,
    )
    return state.model_copy(update={"answers": (*state.answers, judged)})


def result(state: CheckState) -> CheckResult:
    """The finished check's estimate; raise CheckError while the check is unfinished."""
    if not is_finished(state):
        need = state.params.min_questions - len(state.answers)
        more = f"at least {need} more" if need > 0 else "more"
        raise CheckError(
            f"the check of {state.skill} is not finished: {len(state.answers)} answered, "
            f"{more} needed; an unfinished check counts for nothing"
        )
    est = estimate(state.answers, state.params)
    return CheckResult(
        skill=state.skill,
        bank_version=state.bank_version,
        method_version=CHECK_METHOD_VERSION,
        seed=state.seed,
        started_at=state.started_at,
        finished_at=state.answers[-1].answered_at,
        answers=state.answers,
        right=sum(a.correct for a in state.answers),
        asked=len(state.answers),
        proficiency=round(est.proficiency, 1),
        sd=round(est.sd, 1),
        level=level_band(est.proficiency, state.params),
    )


def level_band(proficiency: float, params: CheckParams = DEFAULT_CHECK_PARAMS) -> str:
    """The highest level whose anchor the estimate reaches, or 'below basic'."""
    reached = [d for d in LADDER if proficiency >= params.anchors[d]]
    return reached[-1].value if reached else "below basic"


def check_evidence(finished: CheckResult) -> Evidence:
    """The finished check as one evidence item of kind `skill_check` (strength = estimate/100)."""
    per_level = ", ".join(
        f"{d.value} {sum(a.correct for a in finished.answers if a.level == d)}/"
        f"{sum(a.level == d for a in finished.answers)}"
        for d in LADDER
        if any(a.level == d for a in finished.answers)
    )
    return Evidence(
        skill=finished.skill,
        source=SourceKind.SKILL_CHECK,
        strength=round(finished.proficiency / 100, 4),
        observed=finished.finished_at.date(),
        origin="skill_check",
        signal="adaptive_check",
        detail=(
            f"skill check: {finished.right} of {finished.asked} right ({per_level}); "
            f"estimate {finished.proficiency:g} +- {finished.sd:g}"
        ),
    )


def explain(bank: CheckBank, answered: AnsweredQuestion) -> Explanation:
    """Reasons for the chosen option and for the right one, with the question's source."""
    question = bank.get(answered.question_id)
    if question is None:
        raise CheckError(f"question {answered.question_id} is not in the {bank.skill} bank")
    chosen, right = question.options[answered.chosen], question.options[question.answer]
    return Explanation(
        question_id=question.id,
        correct=answered.correct,
        chosen_text=chosen.text,
        chosen_why=chosen.why,
        answer_text=right.text,
        answer_why=right.why,
        source_title=question.source.title,
        source_url=str(question.source.url),
    )


def _same_bank(state: CheckState, bank: CheckBank) -> None:
    if bank.skill != state.skill:
        raise CheckError(f"this check is of {state.skill}, not {bank.skill}")
    if bank.version != state.bank_version:
        raise CheckError(
            f"the {bank.skill} questions changed (version {state.bank_version} -> "
            f"{bank.version}) during the check; start it again"
        )


def _rank(seed: str, *parts: object) -> str:
    # A hash, not random.Random: the order depends only on the seed and the ids, never on the
    # bank's file order or on the Python version.
    return hashlib.sha256("\x1f".join([seed, *map(str, parts)]).encode()).hexdigest()


def _pick(state: CheckState, bank: CheckBank) -> CheckQuestion:
    """Choose an unseen question nearest the target level; once all were seen, the oldest."""
    target = target_level(state)
    asked = set(state.asked)
    last_seen = {qid: i for i, qid in enumerate(state.seen_before)}
    heading = 1 if not state.answers or state.answers[-1].correct else -1

    def key(q: CheckQuestion) -> tuple[bool, int, int, int, str]:
        # Novelty before level: a question seen in an earlier check may have had its answer
        # explained, so asking it again measures memory; the estimate accounts for whatever
        # level is actually asked.
        seen = q.id in last_seen
        distance = abs(q.level.rank - target.rank)
        # Toward the direction the ladder is moving first, when two levels are equally near.
        away = 0 if (q.level.rank - target.rank) * heading >= 0 else 1
        return (seen, distance, away, last_seen.get(q.id, -1), _rank(state.seed, q.id))

    candidates = [q for q in bank.questions if q.id not in asked]
    if not candidates:
        raise CheckError(f"the {bank.skill} bank has no question left for this check")
    return min(candidates, key=key)


def _option_order(seed: str, question: CheckQuestion) -> list[int]:
    """File indices of the options in the order shown (fixed by seed and question)."""
    return sorted(range(len(question.options)), key=lambda i: _rank(seed, question.id, i))
