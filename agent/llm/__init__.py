"""The LLM agent (issue 7, in progress): the model phrases, asks and extracts; tools compute.

Built so far: `grounding` (numbers in a model's reply must come from tool results) and
`privacy` (what may be sent to a remote model). The agent loop itself is not built yet.
"""
