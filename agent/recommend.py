"""Recommendations for a person: targets from their audit, constraints from their answers.

The retriever (Chroma index, embedding model) is created on first use, or warmed up in the
background by a front end, and shared by every message of the process.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from agent.config import Settings
from knowledge.base import KnowledgeBase
from knowledge.catalog import Catalog
from knowledge.index import Progress
from knowledge.retriever import (
    DEFAULT_HORIZON_WEEKS,
    Advice,
    Constraints,
    Plan,
    Recommendation,
    Retriever,
    Target,
    TopicMatch,
)
from tools.results import AuditResult

log = logging.getLogger(__name__)


class IndexNotReady(BaseException):
    """Slow index work is needed inside a unit of work that must stay short
    (`Recommender.deferred`): loading the index, or embedding the queries of a plan.

    Not an error: the engine rolls the turn back, does `work` (or loads the index) outside
    the transaction and runs the turn again, which then finds it done. A BaseException so
    that `except Exception` on the way (a connector's optional lookup) cannot swallow it and
    carry on without the index.
    """

    def __init__(self, work: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.work = work


class Recommender:
    """Owns the retriever's lazy construction; pass a ready one in tests.

    `progress` is the front end's listener: while a caller waits for the index (built or
    opened by this call, or by the background warm-up it is waiting on), every step is passed
    to it, starting at once with the step under way. A warm-up nobody waits for is silent.
    """

    def __init__(
        self,
        settings: Settings,
        kb: KnowledgeBase,
        retriever: Retriever | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.kb = kb
        self.progress = progress
        self._retriever = retriever
        self._lock = threading.Lock()
        self._warmed = retriever is not None  # the embedding model is loaded too
        self._local = threading.local()
        self._listeners: list[Progress] = []
        self._step: tuple[str, int, int] | None = None  # the build's latest step

    @property
    def ready(self) -> bool:
        return self._retriever is not None

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """While this thread is inside: asking for an index that is not loaded and warm
        raises IndexNotReady instead of loading it (which takes a second or more)."""
        before = getattr(self._local, "deferred", False)
        self._local.deferred = True
        try:
            yield
        finally:
            self._local.deferred = before

    def ready_for(self, targets: list[Target], result: AuditResult | None) -> Retriever:
        """The retriever, with the resource pools advice on these targets reads computed;
        inside a deferred unit of work, missing pools (a query embedding each, ~50 ms) are
        computed outside it."""
        retriever = self.retriever()
        if self._deferred():
            known = proficiencies(result)
            known.update({t.skill: t.proficiency for t in targets if t.proficiency is not None})
            missing = retriever.pools_missing([t.skill for t in targets], known)
            if missing:
                raise IndexNotReady(lambda: retriever.warm_pools(missing))
        return retriever

    def prepare(self, progress: Progress | None = None) -> None:
        """Open or build the index and load its embedding model now, waiting for a warm-up
        under way (call it outside any transaction)."""
        retriever = self.retriever(progress)
        if not self._warmed:
            retriever.index.warm()
            self._warmed = True

    def retriever(self, progress: Progress | None = None) -> Retriever:
        if self._retriever is not None and (self._warmed or not self._deferred()):
            return self._retriever
        if self._deferred():
            raise IndexNotReady
        listener = progress or self.progress
        if listener is not None:
            self._listeners.append(listener)
            if self._step is not None:  # a build under way: say what it does before waiting
                listener(*self._step)
        try:
            with self._lock:
                if self._retriever is None:
                    self._retriever = build_retriever(self.settings, self.kb, self._report)
                return self._retriever
        finally:
            if listener is not None:
                self._listeners.remove(listener)

    def _deferred(self) -> bool:
        return bool(getattr(self._local, "deferred", False))

    def _report(self, what: str, done: int, total: int) -> None:
        self._step = (what, done, total)
        for listener in list(self._listeners):
            listener(what, done, total)

    def warm_up(self) -> threading.Thread:
        """Build or open the index in a background thread so the first answer is quick."""
        thread = threading.Thread(target=self._warm, name="skillaudit-index", daemon=True)
        thread.start()
        return thread

    def _warm(self) -> None:
        try:
            with self._lock:
                if self._retriever is None:
                    self._retriever = build_retriever(self.settings, self.kb, self._report)
            self._retriever.index.warm()  # and the embedding model, for the first query
            self._warmed = True
        except Exception:  # a failed warm-up is retried, with its error shown, on first use
            log.warning("index warm-up failed; it will be retried on first use", exc_info=True)


def build_retriever(
    settings: Settings,
    kb: KnowledgeBase,
    progress: Progress | None = None,
    catalog: Catalog | None = None,
) -> Retriever:
    """Open the configured index, bring it in line with the catalog, and wrap it."""
    from knowledge.catalog import default_catalog
    from knowledge.index import make_index

    config = settings.index_config()
    catalog = catalog or default_catalog()
    try:
        index = make_index(config)
        if index.open_current(catalog, kb):  # a snapshot of this very catalog: no Chroma needed
            return Retriever(kb, catalog, index)
        if progress is not None:
            progress("Opening the course index", 0, 0)
        stats = index.sync(catalog, kb, progress)
    except Exception:
        # A broken embedded index (interrupted write, incompatible version) is derived data:
        # throw it away and build it again. A remote server's errors are not handled here.
        if config.host or config.path is None or not config.path.exists():
            raise
        log.warning(
            "the vector index at %s could not be opened; rebuilding it", config.path, exc_info=True
        )
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()  # forget the broken client for this path
        shutil.rmtree(config.path)
        index = make_index(config)
        stats = index.sync(catalog, kb, progress)
    if stats.changed:
        log.info(
            "index synced: %s added, %s updated, %s removed",
            stats.added,
            stats.updated,
            stats.removed,
        )
    return Retriever(kb, catalog, index)


def targets_from_audit(result: AuditResult, limit: int = 5) -> list[Target]:
    """The audit's top gaps as targets, weighted by severity, each with what it is about when
    the audit's model findings say (a Model Evaluation gap from accuracy on rare positives
    calls for evaluation on imbalanced data, not evaluation in general)."""
    focus: dict[str, list[str]] = {}
    for verdict in result.model_audit:
        for finding in verdict.findings:
            if finding.code in FINDING_FOCUS:
                skill, words = FINDING_FOCUS[finding.code]
                focus.setdefault(skill, []).append(words)
    targets = []
    for g in result.top_gaps[:limit]:
        about = " ".join(dict.fromkeys(focus.get(g.skill, [])))
        targets.append(Target(g.skill, g.severity, g.proficiency, g.demand, g.gap, focus=about))
    return targets


# Model-audit findings and the skill gap each explains, with words for what to learn.
FINDING_FOCUS = {
    "at_or_below_baseline": ("model_evaluation", "imbalanced rare class precision recall baseline"),
    "accuracy_on_imbalanced": ("model_evaluation", "imbalanced rare class precision recall"),
    "pr_auc_missing": ("model_evaluation", "imbalanced rare class precision recall"),
    "fairness_gap": ("bias_testing", "group fairness metrics mitigation"),
}


def targets_for_skills(
    skills: list[str], result: AuditResult | None, kb: KnowledgeBase
) -> list[Target]:
    """Targets for skills named in a question, with the audit's numbers where it has them."""
    known = {s.id: s for s in result.skills} if result is not None else {}
    targets = []
    for rank, skill in enumerate(skills):
        row = known.get(skill)
        weight = 1.0 - 0.1 * rank
        if row is None or row.proficiency is None:
            targets.append(Target(skill=skill, weight=weight))
        else:
            targets.append(
                Target(
                    skill=skill,
                    weight=weight,
                    proficiency=row.proficiency,
                    demand=row.demand,
                    gap=row.gap,
                )
            )
    return targets


def targets_for_role(
    role_id: str, strongest: dict[str, float], kb: KnowledgeBase, limit: int = 5
) -> list[Target]:
    """Without an audit: the role's most needed skills, except the ones named as strongest."""
    role = kb.roles[role_id]
    ranked = sorted(
        (s for s in role.skills if strongest.get(s, 0) < 4),
        key=lambda s: (-role.skills[s] * kb.demand_for(s, role_id), s),
    )
    return [
        Target(
            skill=s,
            weight=role.skills[s] * kb.demand_for(s, role_id) / 500,
            proficiency=_as_proficiency(strongest.get(s)),
        )
        for s in ranked[:limit]
    ]


def _as_proficiency(rating: float | None) -> float | None:
    return None if rating is None else rating * 20


def constraints_from(
    profile: dict[str, Any],
    context: dict[str, Any],
    next_audit: dt.date | None = None,
    today: dt.date | None = None,
) -> Constraints:
    """The person's learning time, budget and formats; items should fit before `next_audit`."""
    budget = profile.get("learning_budget_usd")
    weeks = DEFAULT_HORIZON_WEEKS
    if next_audit is not None and today is not None:
        weeks = max(1.0, (next_audit - today).days / 7)
    return Constraints(
        weekly_hours=float(profile.get("weekly_learning_hours") or 5.0),
        budget_usd=None if budget is None else float(budget),
        formats=tuple(context.get("preferred_formats") or ()),
        horizon_weeks=weeks,
    )


def plan_start(today: dt.date) -> dt.date:
    """Plans start on the next Monday (today when it is one)."""
    return today + dt.timedelta(days=(7 - today.weekday()) % 7)


def proficiencies(result: AuditResult | None) -> dict[str, float]:
    if result is None:
        return {}
    return {s.id: s.proficiency for s in result.skills if s.proficiency is not None}


def next_audit_of(result: AuditResult | None) -> dt.date | None:
    """The next full audit's date from an audit result, when it has one."""
    return None if result is None else result.schedule.next_audit


def make_plan(
    retriever: Retriever,
    picks: list[Recommendation],
    constraints: Constraints,
    today: dt.date,
    result: AuditResult | None,
) -> Plan:
    """Date the picks from the next Monday; a plan past the audit's next date offers a shorter one."""
    return retriever.plan(
        picks, constraints, plan_start(today), proficiencies(result), next_audit_of(result)
    )


@dataclass(frozen=True)
class Advised:
    """What to learn next: the picks, the gaps nothing fits, the dated plan, and for a topic
    question how it was understood (`topic.missing` names a subject the taxonomy lacks)."""

    targets: list[Target]
    advice: Advice
    plan: Plan
    topic: TopicMatch | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "skills": [t.skill for t in self.targets],
            **self.advice.to_dict(),
            "plan": self.plan.to_dict(),
        }
        if self.topic is not None:
            data["topic"] = {
                "subject": self.topic.request.subject,
                "skills": self.topic.skills,
                "missing": self.topic.missing,
                "closest": self.topic.closest,
                "level": None
                if self.topic.request.level is None
                else self.topic.request.level.value,
                "formats": list(self.topic.request.formats),
                "free_only": self.topic.request.free_only,
            }
        return data


def advise(
    retriever: Retriever,
    targets: list[Target],
    constraints: Constraints,
    today: dt.date,
    result: AuditResult | None,
    query: str | None = None,
    topic: TopicMatch | None = None,
) -> Advised:
    """Picks for the targets (every gap covered, or said plainly that nothing fits) and the plan."""
    advice = retriever.advise(targets, constraints, query=query, known=proficiencies(result))
    plan = make_plan(retriever, advice.picks, constraints, today, result)
    return Advised(targets=targets, advice=advice, plan=plan, topic=topic)
