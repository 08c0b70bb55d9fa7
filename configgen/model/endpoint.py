"""How configgen spells a server's address."""

from __future__ import annotations


def endpoint(host: str, port: int) -> str:
    """host:port, an IPv6 address in brackets ([::1]:443) so the port stays readable."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
