"""The advisor: error codes, verify flags, debug logs and existing headers in; causes and
fixes out. Pure functions over the knowledge base; files are read only at the CLI edges.

Holds explain (codes and flags), diagnose (debug logs), review and diff (headers), causes
(the cause table, causes.toml) and debughelp. May import the knowledge base, options,
headerfile and errors; never the probe's transport, the builders (mbedbuild, verify,
footprint), the wizard or a command.
"""
