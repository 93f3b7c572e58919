"""The one reader of JSON files that come from outside: a model folder or a dataset someone passed around.

`json.loads(path.read_text())` turns a tampered file into bare Python messages ("maximum recursion
depth exceeded" from 100,000 nested brackets) or reads a 5 GB file whole. `read_json` bounds the
size (from the file's size, before reading) and the nesting, refuses a key given twice in an object
(which of the two would count?) and, when asked, numbers that are not finite (NaN, Infinity). Its
`JsonProblem` says why in a few words; the caller puts the file's name before it and what to do after.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

MAX_DEPTH = 32  # a model config nests 3 or 4 levels; a file nested deeper is not one anybody wrote
DEFAULT_MAX_BYTES = 16 << 20


class JsonProblem(ValueError):
    """Why a JSON file cannot be used, as a short phrase ("not valid JSON (line 3, column 5: ...)")."""


def size_text(size: int) -> str:
    """A byte count as people read it: 512 bytes, 40 KB, 16 MB."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


class TooLarge(JsonProblem):
    """A file over the size its kind may have, found from its size before anything was read."""


def read_bounded(path: Path, max_bytes: int) -> bytes:
    """A file's bytes; `TooLarge` from its size alone when it is over `max_bytes` (OSError as it comes)."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        data = handle.read(max_bytes + 1) if size <= max_bytes else b""
    if size > max_bytes or len(data) > max_bytes:  # the size, or what was read if it grew meanwhile
        raise TooLarge(f"{size_text(max(size, len(data)))}, over the {size_text(max_bytes)} such a file may be")
    return data


def read_json(path: Path, max_bytes: int = DEFAULT_MAX_BYTES, finite: bool = False) -> Any:
    """The value in a JSON file (UTF-8, with or without a BOM); `JsonProblem` when it is unreadable,
    over `max_bytes`, nested deeper than MAX_DEPTH, has a key twice, or (with `finite`) holds NaN
    or Infinity."""
    try:
        data = read_bounded(Path(path), max_bytes)
    except OSError as error:
        raise JsonProblem(f"cannot be read ({error.strerror or error})") from error
    return parse_json(data, finite)


def parse_json(data: bytes, finite: bool = False) -> Any:
    """`read_json` for bytes already read (bounded by the caller)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise JsonProblem(f"not UTF-8 text (byte {error.start})") from error
    try:
        value = json.loads(text, object_pairs_hook=_object_without_twins)
    except RecursionError as error:
        raise JsonProblem(f"nested deeper than {MAX_DEPTH} levels") from error
    except json.JSONDecodeError as error:
        raise JsonProblem(f"not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from error
    except JsonProblem:
        raise
    except ValueError as error:  # int(): a number of more than 4,300 digits
        raise JsonProblem("holds a number with too many digits") from error
    problem = _shape_problem(value, finite)
    if problem:
        raise JsonProblem(problem)
    return value


def _object_without_twins(pairs: list[tuple[str, Any]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise JsonProblem(f"names the key {_short(key)} twice in one object")
        result[key] = value
    return result


def _shape_problem(value: Any, finite: bool) -> str | None:
    """Too deep a nesting, or (with `finite`) the first NaN or Infinity, with where it is (`a.b[2]`)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels (at {where})"
        if isinstance(item, dict):
            stack += [(v, f"{where}.{k}" if where else str(k), depth + 1) for k, v in item.items()]
        elif isinstance(item, list):
            stack += [(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(item)]
        elif finite and isinstance(item, float) and not math.isfinite(item):
            return f"{_short(where) if where else 'the value'} is {json.dumps(item)}, not a number"
    return None


def _short(text: str, limit: int = 60) -> str:
    text = str(text)
    return repr(text if len(text) <= limit else text[:limit] + "…")
