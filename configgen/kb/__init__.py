"""The knowledge base: what one mbedTLS line offers, extracted from its sources.

`load("3.6")` reads the committed data file `mbedtls-3.6.json` (written by
`configgen kb extract`, see extract.py) and returns a KnowledgeBase.

model (the typed KnowledgeBase), cpp (mbedTLS's configuration headers run as a program),
closure (options closed over those headers), releases (patch-level facts and known defects,
releases.toml) and errcodes are pure: they import errors, values, the model floor, the
resource loader and each other (releases also handshake_model, for the size of the message a
defect bites at); the extract* modules read an mbedTLS source tree (configgen.sources).
Nothing here imports the probe, the stages after the knowledge base, the wizard or a command.
"""

from __future__ import annotations

from configgen.kb.model import KnowledgeBase, load

__all__ = ["KnowledgeBase", "load"]
