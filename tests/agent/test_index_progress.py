"""Whoever waits for the course index hears what is happening, from the first moment; a
current snapshot opens silently; a background warm-up nobody waits for is silent."""

from __future__ import annotations

import threading
from pathlib import Path

from agent.config import Settings
from agent.recommend import Recommender
from knowledge.base import KnowledgeBase

Steps = list[tuple[str, int, int]]
HANG_GUARD_S = 600


def test_a_build_reports_each_step_then_a_snapshot_opens_silently(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    settings = Settings(SKILLAUDIT_HOME=tmp_path, DATABASE_URL=None)
    steps: Steps = []
    retriever = Recommender(settings, kb, progress=lambda *s: steps.append(s)).retriever()
    assert steps[0] == ("Opening the course index", 0, 0)
    adding = [s for s in steps if s[0] == "Adding the catalog to the search index"]
    total = len(retriever.catalog) + len(kb.skills)
    assert adding[-1] == ("Adding the catalog to the search index", total, total)
    assert [done for _, done, _ in adding] == sorted(done for _, done, _ in adding)
    again: Steps = []
    reopened = Recommender(settings, kb, progress=lambda *s: again.append(s)).retriever()
    assert again == [] and reopened.index.stats() == retriever.index.stats()


def test_a_caller_waiting_on_another_build_is_told_the_step_under_way(
    tmp_path: Path, kb: KnowledgeBase
) -> None:
    recommender = Recommender(Settings(SKILLAUDIT_HOME=tmp_path, DATABASE_URL=None), kb)
    opening = threading.Event()
    go_on = threading.Event()
    first: Steps = []

    def builder_hears(*step: object) -> None:
        first.append(step)  # type: ignore[arg-type]
        if len(first) == 1:  # hold the build in its first step while the other caller comes
            opening.set()
            assert go_on.wait(HANG_GUARD_S)

    builder = threading.Thread(target=recommender.retriever, args=(builder_hears,))
    builder.start()
    assert opening.wait(HANG_GUARD_S)
    second: Steps = []
    told = threading.Event()

    def waiter_hears(*step: object) -> None:
        second.append(step)  # type: ignore[arg-type]
        told.set()

    results = []
    waiter = threading.Thread(target=lambda: results.append(recommender.retriever(waiter_hears)))
    waiter.start()
    assert told.wait(HANG_GUARD_S)
    # Told at once, while the build is still held in its first step.
    assert second == [("Opening the course index", 0, 0)] and not recommender.ready
    go_on.set()
    builder.join()
    waiter.join()
    assert results and recommender.ready
    assert second[1:] == first[1:]  # every later step, as the builder heard it


def test_a_warm_up_nobody_waits_for_says_nothing(tmp_path: Path, kb: KnowledgeBase) -> None:
    steps: Steps = []
    settings = Settings(SKILLAUDIT_HOME=tmp_path, DATABASE_URL=None)
    recommender = Recommender(settings, kb, progress=lambda *s: steps.append(s))
    recommender.warm_up().join()
    assert recommender.ready and steps == []
    recommender.retriever()  # ready: nothing to wait for, nothing to say
    assert steps == []
