"""The CLI's argparse: usage mistakes as one `error:` line (exit 2), and number checks for options."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import NoReturn

from intentdesk.core.errors import IntentDeskError
from intentdesk.core.learning.settings import SettingSpec
from intentdesk.core.models import PRECISIONS


class UsageError(IntentDeskError):
    """A command line argparse refuses (unknown option, missing argument, bad number)."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one `error:` line and exit 2, like every other
    error, instead of a usage block followed by the message."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _number(text: str, kind: type, check: Callable[[float], bool], wanted: str) -> float:
    """argparse type helper: parse `text` as `kind` (finite) and require `check(value)`."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
    if not math.isfinite(value) or not check(value):
        raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    return int(_number(text, int, lambda v: v >= 1, "a whole number of at least 1"))


def spec_number(spec: SettingSpec, kind: type) -> Callable[[str], float]:
    """argparse type for a training setting: a `kind` (int or float) within the spec's bounds."""
    low = -math.inf if spec.minimum is None else spec.minimum
    high = math.inf if spec.maximum is None else spec.maximum
    wanted = f"{'a whole number' if kind is int else 'a number'} between {bounds_text(spec, kind, ' and ')}"

    def parse(text: str) -> float:
        return kind(_number(text, kind, lambda v: low <= v <= high, wanted))

    return parse


def bounds_text(spec: SettingSpec, kind: type, joiner: str = " to ") -> str:
    """"1 to 500", "0.05 to 0.5": a setting's bounds as a person writes them."""
    def show(value: float | None) -> str:
        return "any" if value is None else str(int(value)) if kind is int else f"{value:g}"

    return f"{show(spec.minimum)}{joiner}{show(spec.maximum)}"


def add_precision_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--precision", choices=PRECISIONS, default="auto",
                        help="number format for inference: auto picks the fastest that agrees with fp32 here")
