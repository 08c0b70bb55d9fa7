"""The advisor: error codes, verify flags, debug logs and existing headers in; causes and
fixes out. Pure functions over the knowledge base; files are read at the edges (the
commands, configgen/readers.py).

Holds explain (codes and flags), diagnose (debug logs), review and diff (headers), causes
(the cause table causes.toml, security.toml, sizes.toml) and debughelp; known defects of a
release are the knowledge base's (kb/releases.py), asked the same way by all four. May
import the knowledge base, the model, headerfile (a pure parser), values and errors; never
a reader, the probe, the builders (mbedbuild, verify, footprint, prove), the wizard or a
command.
"""
