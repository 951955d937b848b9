"""The data SkillAudit reasons with: taxonomy, roles, demand, benchmarks (and later the catalog)."""
