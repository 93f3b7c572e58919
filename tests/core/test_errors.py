"""`first_line`: the one way to put an error on one line, safe for errors without a message."""

from intentdesk.core.errors import first_line


def test_an_error_without_a_message_gives_its_type_name():
    assert first_line(KeyError()) == "KeyError"
    assert first_line(RuntimeError("   \n  ")) == "RuntimeError"


def test_only_the_first_line_is_kept():
    assert first_line(ValueError("bad value\nTraceback (most recent call last): ...")) == "bad value"


def test_a_long_line_is_cut_at_a_word_with_an_ellipsis():
    text = first_line(OSError("word " * 100), limit=22)
    assert text == "word word word word…"
    assert first_line("x" * 50, limit=10) == "x" * 10 + "…"


def test_a_plain_string_without_text_is_never_empty():
    assert first_line("") == "unknown error"
