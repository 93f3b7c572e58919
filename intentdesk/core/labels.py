"""What a label may be: the name of an intent, which people read in tables, menus, exports and terminals.

One rule for every place labels come in from a file (a model's config.json id2label, a dataset's
metadata.csv, phrases.csv and trash): not empty, no space at either end, at most MAX_LABEL_CHARS
characters, and nothing that is not shown as text. Control characters (a newline, an escape sequence
that recolours a terminal), line separators and the bidirectional overrides that make text read
differently from how it is stored are refused. A dataset's labels also become folder names, so
`data.safety` adds its own rules on top.
"""

from __future__ import annotations

import unicodedata

MAX_LABEL_CHARS = 200
_HIDDEN_CATEGORIES = ("Cc", "Zl", "Zp")  # control characters, line and paragraph separators
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def label_text_problem(label: object) -> str | None:
    """Why `label` cannot be a label, as the end of a sentence ("is empty"); None when it can."""
    if not isinstance(label, str):
        return "is not text"
    if not label.strip():
        return "is empty"
    if label != label.strip():
        return "starts or ends with a space"
    if any(unicodedata.category(ch) in _HIDDEN_CATEGORIES or ch in _BIDI_CONTROLS for ch in label):
        return "contains a control character (a line break, a tab or an invisible formatting mark)"
    if len(label) > MAX_LABEL_CHARS:
        return f"is longer than {MAX_LABEL_CHARS} characters"
    return None
