"""The wizard: asks, probes, inspects, and writes a project profile and the header.

A front end to what `configgen generate --profile` does, never a second implementation
(STYLE.md, copier rules 1-5). One job a module:

- questions: every question as data (`Question`: name, kind, message, help, validator,
  `when`), and the validators, which call the functions the non-interactive path calls;
- prompts: one question asked through questionary, Enter answering every one (yes/no too);
- answers: the one place answers are layered (this run > an existing profile > defaults from
  the facts > the board's defaults), and an existing profile read back as answers;
- findings: what it tells about the servers, the certificates and the header, as lines;
- profilefile: the answers as the profile's TOML text, the user's comments kept;
- run: the run (ask, probe, show, stage the files under an undo transaction, prove, confirm)
  and `main()`, all that `configgen.commands.wizard` calls.

May import the stages the build path runs, as `generate --profile` runs them (generate, prove,
probe, inspect, chain, profile, sources, kb, sdk.outputs, output), the model types, arguments
and errors; inside, questions imports no other module of the wizard and run imports them all.
Nothing imports the wizard but configgen.commands.wizard, which loads only when the wizard
runs: no other command loads questionary.
"""

from __future__ import annotations

from configgen.wizard.run import Declined, Wizard, main

__all__ = ["Declined", "Wizard", "main"]
