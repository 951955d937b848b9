"""The use cases: what SkillAudit does for a person, as typed functions without chat text.

Every front end reaches the product through these: the guided chat flows and the engine's
commands render their results as replies, the language model's tools wrap them for the
model, and the `skillaudit` subcommands print them. Each takes a `Turn` (one person's
scope in the store plus the knowledge, settings and recommender) and typed inputs, and
returns a typed result or raises a `SkillAuditError` naming the problem.

| module | use cases |
|---|---|
| `evidence` | connect a source, grant or withdraw consent, evidence for audits |
| `audits` | audit a person (interview answers or a profile file), store, re-score |
| `plans` | recommendations and a dated plan (from an audit, a topic or a role) |
| `review` | confirm / adjust prompts, complete an output, the second reviewer |
| `models` | audit one model's metrics |
| `records` | history and progress, reports, export, erasure |
| `reference` | JSON Schemas, known skills, roles and task types |
"""
