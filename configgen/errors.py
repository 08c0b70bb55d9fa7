"""Errors a person can act on.

Every error that bad input can cause is a ConfiggenError: the command line prints it as one
line (plus an optional hint) and exits 2. Anything else that escapes is a bug in configgen
and keeps its traceback.
"""

from __future__ import annotations


class ConfiggenError(Exception):
    """A problem with the user's input or environment, said so a person can fix it.

    `where` names the file, key or host the problem is in; `hint` says what to do next.
    `exit_code` is what the command line exits with: 2, bad input; 1, a finding.
    """

    exit_code = 2

    def __init__(self, message: str, where: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class SourceTreeError(ConfiggenError):
    """An mbedTLS source tree is missing, not mbedTLS, or of a version configgen does not know."""


class KnowledgeBaseError(ConfiggenError):
    """The knowledge base of an mbedTLS line is missing or malformed."""


class ProfileError(ConfiggenError):
    """A project or board profile is malformed or contradicts itself."""


class CertificateError(ConfiggenError):
    """A certificate or key file cannot be read or parsed."""


class ProbeError(ConfiggenError):
    """A server could not be probed."""


class ResolveConflict(ConfiggenError):
    """Requirements that no option set of the chosen mbedTLS line can satisfy together."""
