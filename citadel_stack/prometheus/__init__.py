"""Prometheus as a part of the embedded stack: Debian's binary, a generated configuration, the rule files.

`rules/` holds the alert rules of the MVP-2 plan plus the predictive and anomaly rules; `tests/` holds
their `promtool test rules` unit tests. `part.start(state)` writes the configuration into the stack's
directory and starts the server; `config.py` builds that configuration from the stack's settings.
"""
