"""Evidence connectors: one module per source, each returning a `ConnectorResult`.

Every connector takes typed inputs, reads only what it is pointed at, treats what it reads
as data (never as instructions), bounds sizes and API calls, and turns expected failures
into `problems` on a partial result rather than an exception. Consent and caching are the
engine's job (agent/usecases/evidence.py); tokens come from the settings
(agent/sources.py passes them in), never from the person.
"""
