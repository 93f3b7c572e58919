"""What the CLI writes: messages on stderr (safe without a console) and strict JSON on stdout."""

from __future__ import annotations

import json
import math
import sys


def print_err(*parts: object) -> None:
    """A line on stderr; nothing when there is none (the windowed app has no console)."""
    if sys.stderr is not None:
        print(*parts, file=sys.stderr, flush=True)


def print_json(value: object) -> None:
    """Strict JSON on stdout: a non-finite number (NaN, inf) becomes null rather than the invalid
    `NaN` token that json.dumps writes by default."""
    try:
        text = json.dumps(value, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite_or_null(value), allow_nan=False)
    print(text)


def _finite_or_null(value: object) -> object:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(item) for item in value]
    return value
