"""Output layers: results as terminal text, JSON or Markdown. No work happens here.

Each module turns result objects into text. It may import the types it renders (model/,
advise/, kb.model, probe.names), never the code that runs compilers, servers or the probe
(a contract in pyproject.toml), so printing never loads the builders.
"""
