"""The knowledge base: what one mbedTLS line offers, extracted from its sources.

`load("3.6")` reads the committed data file `mbedtls-3.6.json` (written by
`configgen kb extract`, see extract.py) and returns a KnowledgeBase.
"""

from __future__ import annotations

from configgen.kb.model import KnowledgeBase, load

__all__ = ["KnowledgeBase", "load"]
