"""The learning-resource catalog: real entries, validated, covering every skill."""

from __future__ import annotations

from collections import Counter

import pytest

from knowledge.base import KnowledgeBase, default_knowledge
from knowledge.catalog import default_catalog, load_topics
from knowledge.schema import Category, Level, ResourceType


def test_catalog_is_large_valid_and_dated(kb: KnowledgeBase) -> None:
    catalog = default_catalog()
    assert len(catalog) >= 250
    for resource in catalog.resources.values():
        assert resource.url.scheme == "https", resource.id
        assert resource.description.strip() != resource.title.strip()
        # A date is given only for an entry confirmed against a stored copy of its page.
        assert resource.verified == (resource.last_checked is not None), resource.id
        if resource.last_checked is not None:
            assert resource.last_checked.year >= 2025
    types = Counter(r.type for r in catalog.resources.values())
    for kind in (
        ResourceType.COURSE,
        ResourceType.BOOK,
        ResourceType.DOCS,
        ResourceType.FRAMEWORK,
        ResourceType.PROJECT,
    ):
        assert types[kind] >= 5, kind


@pytest.mark.parametrize("skill_id", sorted(default_knowledge().skills))
def test_every_skill_has_two_resources_one_free(skill_id: str) -> None:
    covering = default_catalog().covering(skill_id)
    assert len(covering) >= 2, f"{skill_id}: {len(covering)} resources"
    assert any(r.free for r in covering), f"{skill_id}: no free resource"


def test_soft_and_business_skills_are_covered(kb: KnowledgeBase) -> None:
    catalog = default_catalog()
    soft = [s.id for s in kb.skills.values() if s.category in (Category.POWER, Category.BUSINESS)]
    assert all(len(catalog.covering(s)) >= 2 for s in soft)


def test_no_description_is_copied_twice() -> None:
    descriptions = Counter(r.description for r in default_catalog().resources.values())
    assert descriptions.most_common(1)[0][1] == 1


@pytest.mark.parametrize("skill_id", sorted(default_knowledge().skills))
def test_every_skill_has_a_beginner_and_an_intermediate_resource(skill_id: str) -> None:
    covering = default_catalog().covering(skill_id)
    levels = {r.level for r in covering}
    assert len(covering) >= 3, f"{skill_id}: {len(covering)} resources"
    assert {Level.BEGINNER, Level.INTERMEDIATE} <= levels, f"{skill_id}: {sorted(levels)}"


def test_moved_and_dated_entries_are_corrected() -> None:
    resources = default_catalog().resources
    assert "microsoft.github.io" not in str(resources["microsoft-presidio"].url)
    assert resources["freecodecamp-data-analysis-with-python"].hours >= 300
    for rid in (
        "full-stack-deep-learning-2022",
        "stanford-cs329s-ml-systems-design",
        "mit-ml-for-healthcare",
    ):
        assert resources[rid].year is not None and resources[rid].year <= 2022
    coursera = [r for r in resources.values() if "coursera.org" in str(r.url)]
    assert coursera and all(
        "audited free" not in r.cost_note and "free to audit" not in r.cost_note for r in coursera
    )


def test_a_level_is_never_below_what_the_title_or_a_prerequisite_says() -> None:
    """'Kaggle Learn: Intermediate Machine Learning' (after Intro to ML) is not beginner.
    ("Advanced" in a title often names a technique, "Advanced RAG", not a level.)"""
    order = [Level.BEGINNER, Level.INTERMEDIATE, Level.ADVANCED]
    resources = default_catalog().resources
    for resource in resources.values():
        if "intermediate" in resource.title.lower():
            assert resource.level != Level.BEGINNER, resource.id
        for needed in resource.prerequisites:
            if needed in resources:
                assert order.index(resources[needed].level) <= order.index(resource.level), (
                    f"{resource.id} needs {needed}"
                )


def test_topics_name_real_skills(kb: KnowledgeBase) -> None:
    topics = load_topics(kb)
    assert len(topics.topics) >= 30
    for topic in topics.topics:
        assert topic.skills or topic.closest
        if not topic.skills and topic.expected_skill is not None:
            assert topic.closest, topic.name
