"""The learning-resource catalog: real entries, validated, covering every skill."""

from __future__ import annotations

from collections import Counter

import pytest

from knowledge.base import KnowledgeBase, default_knowledge
from knowledge.catalog import default_catalog
from knowledge.schema import Category, ResourceType


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
