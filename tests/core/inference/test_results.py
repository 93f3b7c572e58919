"""Results export: the CSV the Classify tab saves, written without Qt."""

import csv

from intentdesk.core.inference.results import CSV_COLUMNS, FileResult, Prediction, write_results_csv


def _results() -> list[FileResult]:
    ranked = [Prediction("balance", 0.91234), Prediction("freeze", 0.05), Prediction("pay_bill", 0.03766)]
    return [FileResult("a.wav", ranked, 12.345),
            FileResult("only_one.wav", [Prediction("freeze", 1.0)], 3.0),
            FileResult("broken.wav", None, 0.0, "not audio, with a comma")]


def test_csv_has_one_row_per_file_with_the_two_best_intents(tmp_path):
    written = write_results_csv(_results(), tmp_path / "intents.csv")
    assert written == tmp_path / "intents.csv"
    with written.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(CSV_COLUMNS)
    assert rows[1] == ["a.wav", "balance", "0.9123", "freeze", "0.0500", "12.3", ""]
    assert rows[2] == ["only_one.wav", "freeze", "1.0000", "", "", "3.0", ""]
    assert rows[3] == ["broken.wav", "", "", "", "", "", "not audio, with a comma"]


def test_a_name_typed_without_extension_gets_csv(tmp_path):
    """Issue #16: a CSV name typed without .csv was saved without the extension."""
    written = write_results_csv(_results(), tmp_path / "intents")
    assert written == tmp_path / "intents.csv" and written.is_file()
    assert not (tmp_path / "intents").exists()
    assert write_results_csv([], tmp_path / "keep.txt") == tmp_path / "keep.txt"


def test_an_export_replaces_the_previous_file_whole(tmp_path):
    path = tmp_path / "intents.csv"
    write_results_csv(_results(), path)
    write_results_csv(_results()[:1], path)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["intents.csv"]
