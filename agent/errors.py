"""The domain errors front ends catch, in one import (bots import only agent/)."""

from tools.errors import (
    AuditRefused,
    ConfigError,
    ConnectorError,
    KnowledgeError,
    ProfileError,
    SkillAuditError,
    StorageError,
)

__all__ = [
    "AuditRefused",
    "ConfigError",
    "ConnectorError",
    "KnowledgeError",
    "ProfileError",
    "SkillAuditError",
    "StorageError",
]
