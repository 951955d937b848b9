"""The domain errors front ends catch, in one import (bots import only agent/)."""

from tools.errors import (
    AuditRefused,
    CheckError,
    ConfigError,
    ConnectorError,
    EndorsementError,
    KnowledgeError,
    ProfileError,
    SkillAuditError,
    StorageError,
)

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
