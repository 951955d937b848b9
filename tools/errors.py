"""Domain errors, in one place: tools raise them, front ends turn them into one clear line."""

from __future__ import annotations

from knowledge.base import KnowledgeError

__all__ = [
    "AuditRefused",
    "CheckError",
    "ConfigError",
    "ConnectorError",
    "EndorsementError",
    "KnowledgeError",
    "ProfileError",
    "SkillAuditError",
    "StorageError",
]


class SkillAuditError(Exception):
    """Base of every error a user can cause and fix."""


class ProfileError(SkillAuditError):
    """A profile is malformed; `problems` lists each as 'field: message'."""

    def __init__(self, problems: list[str], source: str = "profile") -> None:
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: " + "; ".join(problems))


class AuditRefused(SkillAuditError):
    """A full audit was asked for too soon after the last one (the fatigue guard)."""


class StorageError(SkillAuditError):
    """A file could not be written (disk full, no permission); nothing half-written is left."""


class ConnectorError(SkillAuditError):
    """A source could not be read at all (missing file, bad credentials, malformed data)."""


class ConfigError(SkillAuditError):
    """The configuration (environment or .env) is invalid, or a configured service is unreachable."""


class CheckError(SkillAuditError):
    """A skill-check step does not fit the check (wrong question, bad choice, unfinished)."""


class EndorsementError(SkillAuditError):
    """An endorsement code or endorsement cannot be used that way (unknown, expired, used)."""
