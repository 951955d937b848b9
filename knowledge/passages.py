"""The passages the index embeds for resources and skills, in our own words.

Kept apart from the index so the shipped vectors (knowledge/vectors.py) and the index
(knowledge/index.py) hash and embed exactly the same texts without importing each other.
"""

from __future__ import annotations

from typing import Any

from knowledge.base import KnowledgeBase
from knowledge.schema import Resource, Skill


def resource_text(resource: Resource, kb: KnowledgeBase) -> str:
    """The passage embedded for a resource: what it is, what it teaches, in our words."""
    skills = ", ".join(kb.skills[s].name for s in resource.skills if s in kb.skills)
    return (
        f"{resource.title} ({resource.provider}). {resource.description} "
        f"Teaches: {skills}. {resource.level.value.capitalize()} {resource.type.value}."
    )


def resource_metadata(resource: Resource) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "provider": resource.provider,
        "type": resource.type.value,
        "level": resource.level.value,
        "hours": resource.hours,
        "cost_usd": resource.cost_usd,
        "format": resource.format.value,
        "language": resource.language,
    }
    # One boolean per covered skill lets Chroma filter on skills: {"s_docker": True}.
    metadata.update({f"s_{skill}": True for skill in resource.skills})
    return metadata


def skill_text(skill: Skill) -> str:
    aliases = f" ({', '.join(skill.aliases)})" if skill.aliases else ""
    return f"{skill.name}{aliases}: {skill.description}"
