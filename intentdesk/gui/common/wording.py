"""Numbers in sentences, written the one way the whole GUI writes them: "1 label", "2,927 clips", "99.5%"."""

from __future__ import annotations

IRREGULAR = {"was": "were", "is": "are", "this": "these"}


def count(n: int, word: str, many: str | None = None) -> str:
    """`n` things in words: "1 clip", "0 clips", "1,123 clips" (`many`: the plural when not word + "s")."""
    plural = many or IRREGULAR.get(word) or f"{word}s"
    return f"{n:,} {word if n == 1 else plural}"


def percent(share: float) -> str:
    """A share as a percentage that never claims what did not happen: 220 of 221 right is "99.5%",
    not "100%" (and 1 of 221 is "0.5%", not "0%"); every other share in whole percents. Every
    share the Train tab shows (the summary, the parts compared) is written by this."""
    whole = f"{share:.0%}"
    if (whole == "100%" and share < 1) or (whole == "0%" and share > 0):
        return f"{share:.1%}"
    return whole


def duration(seconds: float) -> str:
    """A length of time as a person says it: "45 s", "3 min 05 s", "1 h 02 min" (never "22:36",
    which beside a clock time reads as one)."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
