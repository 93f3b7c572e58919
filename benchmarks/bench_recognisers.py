"""Speech recognisers side by side, through the product's own `Transcriber`: word error rate and the cost
of one clip at a time (what classifying a clip adds), calls interleaved clip by clip so that a busy phase of
the machine hits every recogniser alike.

    python benchmarks/bench_recognisers.py CORPUS --recogniser tiny.en=DIR --recogniser base=DIR
        [--clips 40] [--language en] [--prompt] [--transformers-suppression] [--without-no-speech-check]

CORPUS is a `make_corpus.py` folder (metadata.csv with `text`); every k-th clip is taken so the sample
spreads over intents and voices. `--prompt` gives each recogniser the intent-name prompt training uses.
No transcript cache: every call is heard. `--transformers-suppression` adds, for each recogniser, a twin
that suppresses tokens the way transformers does by itself (a vocabulary search at every step) instead of
the product's mask made once (`core/words/suppress.py`): the baseline for that change, interleaved with it,
with the number of clips whose transcripts differ. `--without-no-speech-check` adds a twin that transcribes
every clip (`no_speech_threshold=None`, as words parts before the check did): what the check costs.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as every IntentDesk command sets (core/threads.py)

from bench_words import word_error  # noqa: E402 - the same word error rate as the words benchmark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--recogniser", action="append", required=True, help="NAME=FOLDER or NAME=HUB_ID")
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--language", default="en")
    parser.add_argument("--prompt", action="store_true")
    parser.add_argument("--transformers-suppression", action="store_true")
    parser.add_argument("--without-no-speech-check", action="store_true")
    args = parser.parse_args()

    import torch

    from intentdesk.core.audio.io import load_audio
    from intentdesk.core.words.asr import RATE, Transcriber, vocabulary_prompt

    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    with open(args.corpus / "metadata.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    step = max(1, len(rows) // args.clips)
    sample = rows[::step][: args.clips]
    waves = [load_audio(args.corpus / row["file_name"], RATE)[0] for row in sample]
    labels = sorted({row["label"] for row in rows})
    prompt = vocabulary_prompt(labels) if args.prompt else ""
    recognisers = {}
    for entry in args.recogniser:
        name, source = entry.split("=", 1)
        recognisers[name] = Transcriber(source, prompt=prompt, language=args.language, cache_dir=False)
        if args.transformers_suppression:
            recognisers[f"{name}, transformers' suppression"] = twin = Transcriber(
                source, prompt=prompt, language=args.language, cache_dir=False)
            twin._suppressed = None  # generate() then applies generation_config.suppress_tokens itself
        if args.without_no_speech_check:
            recognisers[f"{name}, no no-speech check"] = Transcriber(
                source, prompt=prompt, language=args.language, cache_dir=False, no_speech_threshold=None)
    for recogniser in recognisers.values():
        recogniser.transcribe([waves[0]])  # the first call sets things up: not timed
    seconds = {name: [] for name in recognisers}
    texts = {name: [] for name in recognisers}
    for wave in waves:
        for name, recogniser in recognisers.items():
            started = time.perf_counter()
            texts[name].append(recogniser.transcribe([wave])[0])
            seconds[name].append(time.perf_counter() - started)
    print(f"{len(sample)} clips of {args.corpus.name}, one at a time, language {args.language}, prompt "
          f"{'on' if args.prompt else 'off'}, {torch.get_num_threads()} threads; load average "
          f"{os.getloadavg()[0]:.1f} at the end\n")
    print("| recogniser | ms per clip (median) | ms per clip (mean) | word error rate | transcripts differing |")
    print("|---|---|---|---|---|")
    for name in recognisers:
        edits = [word_error(row["text"], text) for row, text in zip(sample, texts[name])]
        wer = sum(e for e, _ in edits) / max(1, sum(n for _, n in edits))
        own = name.split(", ")[0]
        differing = sum(a != b for a, b in zip(texts[own], texts[name]))
        print(f"| {name} | {statistics.median(seconds[name]) * 1000:.0f} | "
              f"{statistics.mean(seconds[name]) * 1000:.0f} | {wer:.3f} | {differing} of {len(sample)} |")


if __name__ == "__main__":
    main()
