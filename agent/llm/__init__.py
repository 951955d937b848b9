"""The language-model interviewer: the model phrases, asks and extracts; tools compute.

`conversation` answers one message (or hands it to the guided interviewer), `model` holds the
endpoint with its deadline, retries, tool-calling probe and breaker, `tools` are what the model
may call, `provenance` checks that a recorded value came from the person's own message,
`grounding` checks figures and links in replies, `privacy` redacts what is sent, `asks` maps
the model's question to a guided one, and `faults` keeps the log of failures.
"""
