"""What SkillAudit knows, for scripts: JSON Schemas and the skills, roles and task types."""

from __future__ import annotations

from typing import Any

from knowledge.base import KnowledgeBase, default_knowledge
from tools.results import AuditResult


def schema_document(name: str) -> dict[str, Any]:
    """JSON Schema of the profile file or of the audit result."""
    if name == "profile":
        from tools.profile import profile_json_schema

        return profile_json_schema()
    return AuditResult.model_json_schema()


def knowledge_table(
    kind: str, kb: KnowledgeBase | None = None
) -> tuple[list[str], list[list[str]]]:
    """Columns and rows listing the known skills, roles or model task types."""
    kb = kb or default_knowledge()
    if kind == "skills":
        return ["id", "name", "pillar", "aliases"], [
            [s.id, s.name, s.pillar.value, ", ".join(s.aliases)] for s in kb.taxonomy.skills
        ]
    if kind == "roles":
        return ["id", "name", "aliases", "skills"], [
            [r.id, r.name, ", ".join(r.aliases), str(len(r.skills))] for r in kb.roles_file.roles
        ]
    return ["id", "name", "metrics"], [
        [t.id, t.name, ", ".join(m.metric for m in t.metrics)] for t in kb.benchmarks_file.tasks
    ]
