"""CSV cells a spreadsheet shows as text and never runs: every CSV the app writes goes through here.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (`=HYPERLINK(...)`, `=cmd|' /C calc'!A0`). Labels come from model
folders and datasets other people made, file names from whoever named the file, so each such cell
is written with a leading `'`, which spreadsheets show as text (OWASP's advice). A cell that
starts with `'` gets one more, so that `plain_cell` gives back exactly what was written: the
app's own files (metadata.csv, phrases.csv) read their cells back unchanged.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def safe_cell(value: object) -> str:
    """`value` as a CSV cell that no spreadsheet runs as a formula (see `plain_cell`)."""
    text = "" if value is None else str(value)
    return QUOTE + text if text.startswith((*FORMULA_START, QUOTE)) else text


def plain_cell(text: str) -> str:
    """The value `safe_cell` wrote: the leading `'` it adds taken off. Only that one: a `'` before anything
    else is the person's own (`'twas`, in a metadata.csv made by hand) and stays."""
    return text[1:] if text.startswith(QUOTE) and text[1:].startswith((*FORMULA_START, QUOTE)) else text


def starts_like_a_formula(text: str) -> bool:
    return str(text).startswith(FORMULA_START)
