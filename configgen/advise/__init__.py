"""The advisor: error codes, verify flags, debug logs and existing headers in; causes and
fixes out. Pure functions over the knowledge base; files are read only at the CLI edges."""
