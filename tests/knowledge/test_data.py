"""The bundled knowledge files validate and refer only to ids that exist."""

from __future__ import annotations

from collections import Counter

import pytest

from knowledge.base import KnowledgeBase, KnowledgeError, load_knowledge
from knowledge.schema import Category, Pillar, normalize_name


def test_taxonomy_is_large_and_covers_every_pillar(kb: KnowledgeBase) -> None:
    assert len(kb.skills) >= 90
    per_pillar = Counter(s.pillar for s in kb.skills.values())
    assert set(per_pillar) == set(Pillar)
    assert min(per_pillar.values()) >= 12
    categories = {s.category for s in kb.skills.values()}
    assert {Category.POWER, Category.BUSINESS, Category.BACKGROUND} <= categories


def test_names_and_aliases_are_unambiguous(kb: KnowledgeBase) -> None:
    owners: dict[str, str] = {}
    for skill in kb.skills.values():
        for name in (skill.id, skill.name, *skill.aliases):
            key = normalize_name(name)
            assert owners.setdefault(key, skill.id) == skill.id, f"{name!r} is ambiguous"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("k8s", "kubernetes"),
        ("sklearn", "scikit_learn"),
        ("Scikit-Learn", "scikit_learn"),
        ("torch", "pytorch"),
        ("CI/CD", "ci_cd_ml"),
        ("Technical_Writing", "technical_writing"),
    ],
)
def test_aliases_resolve(kb: KnowledgeBase, name: str, expected: str) -> None:
    skill = kb.resolve_skill(name)
    assert skill is not None and skill.id == expected


def test_transfers_include_work_outside_ml(kb: KnowledgeBase) -> None:
    for source in ("software_engineering", "teaching", "statistics"):
        assert kb.skills[source].related, f"{source} transfers to nothing"
    assert any(r.skill == "communication" for r in kb.skills["teaching"].related)


def test_roles_cover_all_pillars_and_power_skills(kb: KnowledgeBase) -> None:
    assert len(kb.roles) >= 7
    for role in kb.roles.values():
        pillars = Counter(kb.skills[s].pillar for s in role.skills)
        assert set(pillars) == set(Pillar), role.id
        power = [s for s in role.skills if kb.skills[s].category == Category.POWER]
        assert len(power) >= 4, role.id
    freelance = kb.roles["freelance_ml_consultant"].skills
    assert {"pricing", "client_acquisition", "income_diversification"} <= set(freelance)


def test_demand_covers_every_skill_and_role(kb: KnowledgeBase) -> None:
    assert set(kb.demand) == set(kb.skills)
    for role in kb.roles.values():
        for skill_id in role.skills:
            assert role.id in kb.demand[skill_id].by_role, f"{skill_id} lacks demand for {role.id}"
    assert kb.demand_file.as_of.year >= 2025
    assert all(entry.sources for entry in kb.demand.values())
    assert "estimate" in kb.demand_file.method.lower()


def test_benchmarks_cover_common_tasks(kb: KnowledgeBase) -> None:
    expected = {
        "tabular_binary",
        "multiclass",
        "text_classification",
        "image_classification",
        "regression",
        "ranking",
    }
    assert expected <= set(kb.tasks)
    binary = {m.metric for m in kb.tasks["tabular_binary"].metrics}
    assert {"f1", "roc_auc", "pr_auc", "accuracy", "latency_ms"} <= binary


def test_a_dangling_reference_is_refused(
    tmp_path: pytest.TempPathFactory, kb: KnowledgeBase
) -> None:
    import shutil
    from pathlib import Path

    from knowledge.base import DATA_DIR

    target = Path(str(tmp_path))
    for name in ("skills.yaml", "roles.yaml", "demand.yaml", "benchmarks.yaml"):
        shutil.copy(DATA_DIR / name, target / name)
    roles = (target / "roles.yaml").read_text()
    (target / "roles.yaml").write_text(roles.replace("python:", "pythonn:", 1))
    with pytest.raises(KnowledgeError, match="pythonn"):
        load_knowledge(target)
