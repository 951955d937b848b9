"""The guided interviewer: questions from `prompts/interview/questions.yaml`, no language model.

```mermaid
stateDiagram-v2
    [*] --> target_role
    target_role --> career_stage --> years_experience
    years_experience --> technical_ratings --> lifecycle_ratings --> ethics_ratings
    ethics_ratings --> ethics_practice --> power_ratings --> other_skills --> clients
    clients --> top_client_share: clients > 0
    clients --> income_streams: none
    top_client_share --> income_streams --> weekly_learning_hours
    weekly_learning_hours --> learning_budget_usd --> preferred_formats --> has_model
    has_model --> model_task: yes
    has_model --> consents: no
    model_task --> model_metrics --> model_positive_rate --> consents
    consents --> high_stakes --> [*]: audit
```

Any state also takes "back" (previous question), "skip" (leave it unanswered), "why"
(why it is asked) and every command; answers are saved before the next question is sent.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from agent.parsing import (
    UNKNOWN,
    Option,
    Unclear,
    clean,
    is_unknown,
    normalize,
    parse_choice,
    parse_metrics,
    parse_money,
    parse_multi,
    parse_number,
    parse_percent,
    parse_ratings,
    parse_skill_list,
    parse_yes_no,
)
from agent.reply import Choice, Reply
from knowledge.base import KnowledgeBase
from knowledge.schema import Pillar
from prompts.loader import load_data, render_string
from tools.numbers import metric_shown, percent
from tools.profile import STAGE_ALIASES, CareerStage

QUESTIONS_FILE = "interview/questions.yaml"
# Set when the answer to `clients` says the one is an employer ("1, full-time employee").
EMPLOYED = "_employed"
# Set when a model answer names a public dataset with a leaderboard ("... for Home Credit").
MODEL_DATASET = "_model_dataset"
# Set when a model answer names the competition medal it won ("silver medal in Home Credit").
MODEL_MEDAL = "_model_medal"
# Set when a model answer says how many classes it tells apart ("10 classes", "binary").
MODEL_CLASSES = "_model_classes"
# Set when an answer says years in a field outside ML ("about 1 in ML, 8 in software").
EXPERIENCE = "_experience_elsewhere"
REQUIRED = frozenset({"target_role"})
# What each point of the 0-5 rating scale means (self-ratings, endorsements).
RATING_SCALE = ("0 none", "1 aware", "2 basic", "3 working", "4 advanced", "5 expert")
PRACTICE_STRENGTH = 0.6  # "done in a real project in the last year" counts like a rating of 3/5


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    text: str
    hint: str
    why: str
    source: str | None = None
    pillar: str | None = None
    skills: tuple[str, ...] = ()
    count: int = 0
    options: tuple[Option, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    when: dict[str, Any] = field(default_factory=dict)


@cache
def questions(file: str = QUESTIONS_FILE) -> tuple[Question, ...]:
    loaded = []
    for raw in load_data(file):
        loaded.append(
            Question(
                id=raw["id"],
                kind=raw["kind"],
                text=raw["text"],
                hint=raw["hint"],
                why=raw["why"],
                source=raw.get("source"),
                pillar=raw.get("pillar"),
                skills=tuple(raw.get("skills", ())),
                count=raw.get("count", len(raw.get("skills", ()))),
                options=tuple(
                    Option(o["value"], o["label"], tuple(o.get("aliases", ())))
                    for o in raw.get("options", ())
                ),
                minimum=raw.get("min"),
                maximum=raw.get("max"),
                unit=raw.get("unit"),
                when=raw.get("when", {}),
            )
        )
    return tuple(loaded)


QUICK_FILE = "interview/quick.yaml"


def question(question_id: str) -> Question:
    for q in (*questions(), *questions(QUICK_FILE)):
        if q.id == question_id:
            return q
    raise KeyError(question_id)


def applies(q: Question, answers: dict[str, Any]) -> bool:
    """Whether a conditional question is asked, given the answers so far."""
    return _holds(q.when, answers)


def _holds(when: dict[str, Any], answers: dict[str, Any]) -> bool:
    for key, wanted in when.items():
        value = answers.get(key)
        if wanted == "positive":
            if not (isinstance(value, int | float) and value > 0):
                return False
        elif isinstance(wanted, list):  # one of these ("a classification task")
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


def may_be_asked(answers: dict[str, Any], file: str = QUESTIONS_FILE) -> list[Question]:
    """The questions that are or still may be asked: their conditions hold, or wait on
    answers not given yet (a question that can no longer be asked gives no answer, so its
    own follow-ups go too). Counted from the start, this total never grows."""
    known = dict(answers)
    kept = []
    for q in questions(file):
        decided = {key: wanted for key, wanted in q.when.items() if key in known}
        if _holds(decided, known):
            kept.append(q)
        elif q.id not in known:
            known[q.id] = None  # never asked, so never answered
    return kept


def next_question(after: str | None, answers: dict[str, Any]) -> Question | None:
    """The first applicable question after `after` (from the start when None)."""
    ids = [q.id for q in questions()]
    start = 0 if after is None else ids.index(after) + 1
    for q in questions()[start:]:
        if applies(q, answers):
            return q
    return None


def role_dependent() -> tuple[str, ...]:
    """The ratings questions whose skills come from the target role (asked again after a change)."""
    return tuple(q.id for q in questions() if q.kind == "ratings" and not q.skills)


def record(answers: dict[str, Any], history: list[Any], q: Question, value: Any) -> Question | None:
    """Record one answer of the interview and return the question to ask next (None: done).

    The one place the interview's state changes, for the guided interviewer and the language
    model's tools alike: a changed target role drops the ratings asked for the old role's
    skills, so the new role's are asked.
    """
    changed_role = q.id == "target_role" and answers.get(q.id) not in (None, value)
    answers[q.id] = value
    if q.id not in history:
        history.append(q.id)
    if changed_role:
        for key in role_dependent():
            answers.pop(key, None)
    return first_open(answers)


def first_open(answers: dict[str, Any]) -> Question | None:
    """The first question that applies and has no answer yet (skipped ones count as answered).

    Going back to change an answer and then answering returns here, to where the person was;
    answers given out of order (in a conversation with the language model) are not asked again.
    """
    for q in questions():
        if q.id not in answers and applies(q, answers):
            return q
    return None


def options_for(q: Question, kb: KnowledgeBase) -> list[Option]:
    if q.source == "roles":
        return [Option(r.id, r.name, tuple(r.aliases)) for r in kb.roles_file.roles]
    if q.source == "stages":
        aliases = {s: tuple(k for k, v in STAGE_ALIASES.items() if v == s) for s in CareerStage}
        return [Option(s.value, s.value.capitalize(), aliases[s]) for s in CareerStage]
    if q.source == "tasks":
        return [Option(t.id, t.name, tuple(t.aliases)) for t in kb.benchmarks_file.tasks]
    if q.source == "consent_sources":
        from agent.sources import SOURCES

        return [
            Option(s.consent, s.label, s.aliases) for s in SOURCES.values() if s.consent is not None
        ]
    return list(q.options)


def rated_skills(q: Question, answers: dict[str, Any], kb: KnowledgeBase) -> list[str]:
    """The skills a ratings question asks about: listed ones, or the role's top ones in a pillar."""
    if q.skills:
        return list(q.skills)
    role = kb.roles[answers["target_role"]]
    pillar = Pillar(q.pillar or "")
    ranked = sorted(
        (s for s in role.skills if kb.skills[s].pillar == pillar),
        key=lambda s: (-role.skills[s], -kb.demand_for(s, role.id), s),
    )
    return ranked[: q.count]


def question_text(
    q: Question, answers: dict[str, Any], kb: KnowledgeBase, granted: list[str] | None = None
) -> tuple[str, str]:
    skills = (
        [kb.skills[s].name for s in rated_skills(q, answers, kb)] if q.kind == "ratings" else []
    )
    role = kb.roles[answers["target_role"]].name if answers.get("target_role") else ""
    variables = {"skills": skills, "count": len(skills), "role": role, "granted": granted or []}
    return render_string(q.text, **variables), render_string(q.hint, **variables)


# "they're all roughly equal", "evenly split", "about the same for all" (an answer with no number)
_EVEN_SPLIT = re.compile(r"\b(?:equal(?:ly)?|even(?:ly)?|the same)\b")


def parse_answer(q: Question, text: str, answers: dict[str, Any], kb: KnowledgeBase) -> Any:
    """The stored form of a complete answer, or `Unclear` with what was wrong ("don't know"
    is None where an item may be unknown; see `agent.answers.read` for partial answers)."""
    kind = q.kind
    if kind in ("number", "money", "yesno", "percent", "skills") and is_unknown(normalize(text)):
        return None
    if kind == "choice":
        return parse_choice(text, options_for(q, kb))
    if kind == "multi":
        return parse_multi(text, options_for(q, kb))
    if kind == "yesno":
        if q.id == "high_stakes":
            return _high_stakes(text)
        if q.id == "model_personal_data":
            return _personal_data(text)
        if q.id == "has_model":
            return _yes_when_named(text, _SOME_MODELS)
        return parse_yes_no(text)
    if kind in ("number", "money"):
        return in_range(q, parse_number(text, q.unit) if kind == "number" else parse_money(text))
    if kind == "percent":
        folded = normalize(text)
        if (
            q.id == "top_client_share"
            and _EVEN_SPLIT.search(folded)
            and not re.search(r"\d", folded)
        ):
            # "they're all about equal": the biggest of N clients has about 1/N.
            clients = answers.get("clients")
            if not isinstance(clients, int | float) or clients < 2:
                raise Unclear('Equal among how many clients? Or give the share, for example "30%".')
            return round(1 / clients, 4)
        if q.id == "model_positive_rate":
            classes = classes_in(text) or answers.get(MODEL_CLASSES)
            balanced = _BALANCED.search(folded) and not re.search(r"\d\s*%", folded)
            if balanced and isinstance(classes, int) and classes > 2:
                return round(1 / classes, 4)  # "balanced, 10 classes": the rarest holds 1/10
            if balanced and classes is None and answers.get("model_task") == "multiclass":
                raise Unclear(
                    'Balanced across how many classes? For example "balanced, 10 classes".'
                )
            shares = _shares(folded)
            if shares:  # "60/30/10": the rarest of three classes holds 10%
                return round(min(shares) / 100, 4)
            text = _CLASSES.sub(" ", folded)  # "10 classes" is no share
        value = parse_percent(text, rare=q.id == "model_positive_rate")
        if q.id == "model_positive_rate" and value in (0.0, 1.0):
            # A classifier learns from examples of each class: a share of 0 or 100% is no split.
            raise Unclear(
                f"{percent(value)} would leave one class with no examples to learn from: what "
                "share is in the positive (or rarest) class?"
            )
        return None if value == UNKNOWN else round(value, 4)
    if kind == "ratings":
        return parse_ratings(text, rated_skills(q, answers, kb), kb).values
    if kind == "extra_ratings":
        if re.fullmatch(
            r"(?:no(?:thing)?(?: else| more)?|none(?: for now| yet)?|that'?s all|no thanks|nope|nah|n/a|-|0)",
            normalize(text),
        ):
            return {}
        return parse_ratings(text, [], kb, allow_positional=False).values
    if kind == "metrics":
        return parse_metrics(text)
    if kind == "skills":
        return parse_skill_list(text, kb)
    if kind == "text":
        answer = clean(text)[:200]
        if not answer:
            raise Unclear("Please answer in a few words.")
        return answer
    raise ValueError(f"unknown question kind {kind!r}")


def in_range(q: Question, value: float) -> float:
    """A number or amount within the question's bounds, or `Unclear` saying them."""
    low, high = q.minimum or 0, q.maximum if q.maximum is not None else float("inf")
    if not low <= value <= high:
        unit = f" {q.unit}" if q.unit else ""
        raise Unclear(f"That should be between {low:g} and {high:g}{unit}.")
    return round(value, 2)


def choices_for(q: Question, kb: KnowledgeBase) -> list[Choice]:
    """Buttons for a question: yes/no, or its options."""
    if q.kind == "yesno":
        return [Choice(label="Yes", value="yes"), Choice(label="No", value="no")]
    if q.kind in ("choice", "multi"):
        return [Choice(label=o.label, value=o.value) for o in options_for(q, kb)]
    return []


def question_reply(
    q: Question,
    answers: dict[str, Any],
    history: list[str],
    kb: KnowledgeBase,
    granted: list[str] | None = None,
) -> Reply:
    """The question as asked: numbered, with its choices (`granted`: the consents given)."""
    text, _ = question_text(q, answers, kb, granted)
    # Questions that may still be asked count from the start, so the total only shrinks
    # (a "no" skips the follow-ups) and never grows after an answer.
    asked = [x.id for x in may_be_asked(answers)]
    number = asked.index(q.id) + 1 if q.id in asked else len(history) + 1
    return Reply(
        text=f"({number}/{len(asked)}) {text}",
        choices=choices_for(q, kb),
        multiple=q.kind == "multi",
    )


def describe_answer(q: Question, value: Any, kb: KnowledgeBase) -> str:
    """A short echo of what was understood, so the person can correct it with 'back'."""
    if value is None:
        return "Skipped."
    if q.kind in ("ratings", "extra_ratings"):
        if not value:
            return "Nothing added."
        return "Noted: " + ", ".join(f"{kb.skills[s].name} {r:g}" for s, r in value.items()) + "."
    if q.kind == "choice":
        label = next((o.label for o in options_for(q, kb) if o.value == value), value)
        return f"Noted: {label}."
    if q.kind == "multi":
        labels = [o.label for o in options_for(q, kb) if o.value in value]
        return "Noted: " + (", ".join(labels) if labels else "none") + "."
    if q.kind == "yesno":
        return "Noted: yes." if value else "Noted: no."
    if q.kind == "percent":
        return f"Noted: {percent(value)}."
    if q.kind == "money":
        return f"Noted: ${value:g}."
    if q.kind == "metrics":
        return "Noted: " + ", ".join(metric_shown(k, v) for k, v in value.items()) + "."
    if q.kind == "text":
        return f"Noted: {value}."
    if q.kind == "skills":
        return "Noted: " + (", ".join(kb.skills[s].name for s in value) or "none") + "."
    unit = f" {q.unit}" if q.unit else ""
    if value == 1 and unit.endswith("s"):
        unit = unit[:-1]  # "1 year", "1 client", "1 hour"
    return f"Noted: {value:g}{unit}."


def build_profile(
    answers: dict[str, Any], user: str, kb: KnowledgeBase, as_of: dt.date
) -> dict[str, Any]:
    """Turn interview answers into profile data for `tools.profile.validate_profile`."""
    ratings: dict[str, float] = {}
    for key in (
        "technical_ratings",
        "lifecycle_ratings",
        "ethics_ratings",
        "power_ratings",
        "other_skills",
    ):
        ratings.update(answers.get(key) or {})
    self_ratings = {s: r for s, r in ratings.items() if kb.skills[s].pillar != Pillar.CAREER}
    soft = {s: r for s, r in ratings.items() if kb.skills[s].pillar == Pillar.CAREER}
    evidence = [
        {"skill": skill, "source": "self_rating", "strength": PRACTICE_STRENGTH, "observed": as_of.isoformat(),
         "detail": "done in a real project in the last year (interview)"}
        for skill in answers.get("ethics_practice") or []
    ]  # fmt: skip
    # Skills described in a conversation, with the person's evidence (an explicit rating wins).
    for skill, stated in (answers.get("stated_skills") or {}).items():
        if skill in ratings or skill not in kb.skills:
            continue
        evidence.append(
            {"skill": skill, "source": "self_rating", "strength": round(stated["rating"] / 5, 4),
             "observed": as_of.isoformat(), "detail": f"{stated['evidence']} (said in the interview)",
             "origin": "interview"}
        )  # fmt: skip
    diversification = _diversification(answers)
    if diversification is not None:
        evidence.append(
            {"skill": "income_diversification", "source": "self_rating", "strength": diversification,
             "observed": as_of.isoformat(), "detail": "from clients, top-client share and income streams (interview)"}
        )  # fmt: skip
    data: dict[str, Any] = {
        "user": user,
        "target_role": answers["target_role"],
        "self_ratings": self_ratings,
        "soft_skills": soft,
        "evidence": evidence,
        "high_stakes": bool(answers.get("high_stakes")),
    }
    # Stated income (no records): the audit shows concentration from these.
    if answers.get("clients") is not None:
        data["clients"] = int(answers["clients"])
    share = answers.get("top_client_share")
    if share is not None and 0 <= share <= 1:
        data["top_client_share"] = share
    streams = answers.get("income_streams")
    if streams is None and answers.get(EMPLOYED):
        streams = ["employment"]  # "1, full-time employee", and the streams not named
    data["income_streams"] = list(streams or [])
    if answers.get(EXPERIENCE):
        data["experience_elsewhere"] = dict(answers[EXPERIENCE])
    for key in ("career_stage", "years_experience", "weekly_learning_hours", "learning_budget_usd"):
        if answers.get(key) is not None:
            data[key] = answers[key]
    if answers.get("has_model") and answers.get("model_task") and answers.get("model_metrics"):
        data["models"] = [model_report(answers, kb)]
    return data


# Work whose models decide about people's health, money, jobs, safety or rights.
_HIGH_STAKES = re.compile(
    r"\b(?:loans?|lending|credit|mortgages?|insurance|underwrit\w*|banking|banks?|financ\w*|"
    r"fintech|payments?|fraud|medical|medicine|"
    r"health\w*|clinical|patients?|diagnos\w*|triage|hospitals?|radiology|pharma\w*|drugs?|"
    r"hiring|recruit\w*|candidates?|resumes?|cvs|safety|autonomous|self[- ]driving|aviation|"
    r"criminal|police|policing|justice|courts?|welfare|benefits|housing|admissions?|grading|"
    r"children|child)\b"
)


_HEDGED = re.compile(r"\b(?:no|not|never|nope|nah|sometimes|partly|maybe|depends|rarely)\b")
_NOTHING = re.compile(r"(?!)")


def model_report(answers: dict[str, Any], kb: KnowledgeBase) -> dict[str, Any]:
    """The model the answers describe, as a profile's model (the interview's and /model's)."""
    model: dict[str, Any] = {"name": "your model", "task": answers["model_task"],
                             "metrics": answers["model_metrics"]}  # fmt: skip
    for key, name in (("model_positive_rate", "positive_rate"), ("model_personal_data", "personal_data"),
                       ("model_legal_basis", "legal_basis"), (MODEL_CLASSES, "classes")):  # fmt: skip
        if answers.get(key) is not None:
            model[name] = answers[key]
    dataset = answers.get(MODEL_DATASET)
    if dataset and kb.resolve_dataset(answers["model_task"], dataset) is not None:
        model["dataset"] = dataset  # named in passing, and of the task given
        if answers.get(MODEL_MEDAL):
            model["medal"] = answers[MODEL_MEDAL]
    return model


def _yes_when_named(text: str, named: re.Pattern[str], ask: str | None = None) -> bool:
    """Yes or no; naming, without a hedge, what makes the answer yes is a yes. `ask`: the
    question back when neither is clear (else the yes-or-no one)."""
    try:
        return parse_yes_no(text)
    except Unclear:
        folded = normalize(text)
        if named.search(folded) and not _HEDGED.search(folded):
            return True
        if ask is None:
            raise
        raise Unclear(ask) from None


_CLASSES = re.compile(
    r"\b(\d{1,5})[- ]?(?:(?:balanced|equal|even|different|distinct|roughly equal)\s+)?"
    r"(?:classes|class|categories|labels|way)\b"
)
_SPLIT_SHARES = re.compile(r"(?<![\d.])\d+(?:\.\d+)?%?(?:\s*/\s*\d+(?:\.\d+)?%?){2,}(?![\d.])")


def _shares(folded: str) -> list[float]:
    """Three or more class shares in percent that add up to about 100 ("60/30/10"), or []."""
    split = _SPLIT_SHARES.search(folded)
    parts = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", split.group())] if split else []
    return parts if 95 <= sum(parts) <= 105 else []


_BALANCED = re.compile(r"\b(?:balanced|equal(?:ly)?|even(?:ly)?|same size)\b")


def classes_in(text: str) -> int | None:
    """How many classes a model answer says it tells apart ("10 classes", "binary")."""
    folded = normalize(text)
    said = _CLASSES.search(folded)
    if said is not None and int(said.group(1)) >= 2:
        return int(said.group(1))
    shares = _shares(folded)  # "50/30/15/5": four classes
    if shares:
        return len(shares)
    return 2 if re.search(r"\bbinary\b", folded) else None


# "Do you have a model...?": "a few", "several" are a yes.
# A model described instead ("just my thesis model, a CNN on CIFAR-10, 91% accuracy") is a yes too.
_SOME_MODELS = re.compile(
    r"\b(?:a few|several|many|a couple|multiple|lots|plenty|a bunch)\b"
    r"|\b(?:my|a|one|the) (?:[\w-]+ ){0,2}(?:models?|classifiers?|cnn|network|regressor|forecaster)\b"
    r"|\b(?:cnn|lstm|xgboost|lightgbm|catboost|random forest|logistic regression|bert)\b"
    r"|\b(?:accuracy|auc|roc[- ]?auc|f1|rmse|mae|r2|map|ndcg)\b"
)


def _high_stakes(text: str) -> bool:
    """A domain named instead of yes ("it decides loans", "medical triage") is a yes."""
    return _yes_when_named(
        text,
        _HIGH_STAKES,
        "Do your models affect people's health, money, jobs, safety or rights? Then yes; "
        "otherwise no.",
    )


# Data about people, as GDPR reads it: pseudonymised data (ids, hashed e-mails) still is.
_PERSONAL = re.compile(
    r"\b(?:names?|e-?mails?|addresses|phone|messages?|chats?|user ?ids?|customer ?ids?|ids|"
    r"customers?|users?|patients?|employees?|applicants?|health|medical|locations?|gps|ip "
    r"addresses|faces?|photos of people|voices?|transactions|purchases|browsing|pseudonymi[sz]ed|"
    r"hashed)\b"
)
_ANONYMISED = re.compile(r"\banonymi[sz]ed\b|\banonymous\b")


def _personal_data(text: str) -> bool:
    """Data about people named instead of yes ("customer e-mails", "only user ids") is a yes;
    "anonymised" is asked about (ids or other keys left in keep it personal data)."""
    folded = normalize(text)
    if _ANONYMISED.search(folded) and not re.search(r"\bpseudonymi[sz]ed\b", folded):
        return _yes_when_named(
            text,
            _NOTHING,
            "Truly anonymised data (nobody can be picked out, even with other data) is not "
            "personal data; if ids or other keys remain, it still is. Which is it: yes or no?",
        )
    return _yes_when_named(text, _PERSONAL)


def _diversification(answers: dict[str, Any]) -> float | None:
    """Approximate 1 - HHI from the client count, top-client share and number of streams."""
    clients = answers.get("clients")
    streams = answers.get("income_streams")
    if clients is None and streams is None:
        return None
    n = int(clients or 0)
    share = answers.get("top_client_share")
    if n <= 0 or n == 1:
        client_part = 0.0
    else:
        top = share if share is not None else 1 / n
        client_part = 1 - (top**2 + (1 - top) ** 2 / (n - 1))
    count = len(streams or [])
    stream_part = 1 - 1 / count if count else 0.0
    return round(max(0.0, min(1.0, 0.5 * client_part + 0.5 * stream_part)), 4)
