"""Results as plain JSON data: the one conversion every JSON output and the snapshot use."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from collections.abc import Collection
from enum import Enum
from typing import Any


def plain(value: Any, omit: Collection[str] = ()) -> Any:
    """`value` as lists, dicts, strings, numbers, booleans and None: a dataclass as a dict
    in field order (without the fields named in `omit`, at any depth), an enum as its value,
    bytes as base64, a tuple as a list, a datetime in ISO 8601 (UTC written Z)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), omit)
                for f in dataclasses.fields(value) if f.name not in omit}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (list, tuple)):
        return [plain(v, omit) for v in value]
    if isinstance(value, dict):
        return {key: plain(v, omit) for key, v in value.items()}
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value
