"""Deterministic tools: MLSAF scoring, career pulse, model audit, schedule, income metrics."""
