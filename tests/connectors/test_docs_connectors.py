"""docs/connectors.md stays true to the code: its repository skill lists are the ones the
detection tables can reach, pillar by pillar."""

from __future__ import annotations

import re
from pathlib import Path

from knowledge.base import KnowledgeBase
from tools.connectors.code_signals import repository_skills
from tools.params import SourceKind

DOC = Path(__file__).resolve().parents[2] / "docs" / "connectors.md"
PILLARS = {"Technical": "technical", "Model lifecycle": "lifecycle", "Ethical governance": "ethics"}


def test_repository_skills_in_the_docs_match_the_detection_tables(kb: KnowledgeBase) -> None:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- repository-skills:begin -->")[1].split(
        "<!-- repository-skills:end -->"
    )[0]
    documented: dict[str, set[str]] = {}
    for line in block.strip().splitlines():
        title, _, listed = line.removeprefix("- ").partition(":")
        documented[PILLARS[title]] = set(re.findall(r"`([a-z_]+)`", listed))
    reachable = repository_skills(lambda n: s.id if (s := kb.resolve_skill(n)) else None)
    for pillar in PILLARS.values():
        expected = {s for s in reachable if kb.skills[s].pillar.value == pillar}
        assert documented[pillar] == expected, (pillar, documented[pillar] ^ expected)
    assert not {s for s in reachable if kb.skills[s].pillar.value == "career"}


def test_every_skill_named_in_the_docs_exists(kb: KnowledgeBase) -> None:
    named = set(re.findall(r"`([a-z][a-z_]+)`", DOC.read_text(encoding="utf-8")))
    skills = {n for n in named if "_" in n or n in kb.skills}
    options = {"local_git", "income_csv", "job_postings", "tabular_binary", "text_classification",
               "image_classification", "positive_label", "positive_rate", "pos_rate", "base_rate",
               "class_balance", "minority_rate", "event_rate", "node_modules", "test_", "val_", "train_"}  # fmt: skip
    kinds = {kind.value for kind in SourceKind}  # the kinds of evidence named in the table
    assert sorted(s for s in skills - options - kinds if s not in kb.skills) == []
