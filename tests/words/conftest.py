"""The words tests' fixtures: the shared tiny recogniser and text encoder (tests/conftest.py) under the
names these tests use, and a toy text task that a words head can learn."""

from __future__ import annotations

from pathlib import Path

import pytest

TOY = {"freeze": ["block my card", "my card was stolen please block it", "i lost my card stop it", "freeze my card"],
       "balance": ["how much money do i have", "what is my balance", "my account balance please",
                   "how much is left in my account"],
       "pay_bill": ["pay my electricity bill", "pay the water bill", "i have a phone bill to pay", "pay a bill"]}


@pytest.fixture(scope="session")
def tiny_whisper(tiny_recogniser) -> Path:
    """Here a Whisper that can transcribe (it has a tokenizer): the shared tiny recogniser."""
    return tiny_recogniser


@pytest.fixture(scope="session")
def tiny_bert(tiny_text_encoder) -> Path:
    return tiny_text_encoder


@pytest.fixture(scope="session")
def toy_phrases() -> dict[str, list[str]]:
    return TOY
