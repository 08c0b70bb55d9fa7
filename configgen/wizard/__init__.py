"""The wizard: asks, probes, inspects, and writes a project profile and the header.

A front end to what `configgen generate --profile` does, never a second implementation.
Loaded only when `configgen wizard` runs (configgen.commands.wizard), so no other command
loads questionary.
"""

from __future__ import annotations

from configgen.wizard.run import Declined, Wizard, main

__all__ = ["Declined", "Wizard", "main"]
