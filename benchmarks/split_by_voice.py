"""Split a corpus made by shared/corpus/make_corpus.py into two datasets by voice.

Training on some voices and scoring on the others measures what matters for users: how the
model does on speakers it has never heard.

    python benchmarks/split_by_voice.py CORPUS TRAIN_OUT TEST_OUT --test-voices flite:kal,espeak:en-gb+f1
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("train_out", type=Path)
    parser.add_argument("test_out", type=Path)
    parser.add_argument("--test-voices", required=True)
    args = parser.parse_args()
    test_voices = set(args.test_voices.split(","))
    with open(args.corpus / "metadata.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        columns, rows = reader.fieldnames, list(reader)
    for out, keep in ((args.train_out, lambda r: r["voice"] not in test_voices),
                      (args.test_out, lambda r: r["voice"] in test_voices)):
        chosen = [r for r in rows if keep(r)]
        for row in chosen:
            target = out / row["file_name"]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(args.corpus / row["file_name"], target)
        with open(out / "metadata.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(chosen)
        print(f"{out}: {len(chosen)} clips")


if __name__ == "__main__":
    main()
