"""Training speed on the CPU: the Hugging Face `Trainer` recipe vs IntentDesk's Full mode.

    python benchmarks/bench_training.py DATASET_DIR [--clips 64] [--max-seconds 8] [--full-length]

Same model (Wav2Vec2-base architecture, random weights, 14 labels), same clips (the first
`--clips` of the dataset, cut to `--max-seconds`), same batch size (8), one epoch each, no
augmentation. The Trainer is set up as in the audio-classification tutorial (feature extractor
with truncation, the whole model trainable, fp32, AdamW 3e-5 with 10 % warm-up); Full mode runs
its stage 2 as the app does (convolutional front end frozen, bf16 autocast where the CPU has
it, length-bucketed batches). Each contender runs in its own process, so peak RSS is its own.
samples/s leaves out the first step (one-off warm-up) of both.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from intentdesk.core.audio.io import SAMPLE_RATE

os.environ.setdefault("HF_HUB_OFFLINE", "1")
BATCH = 8


def load_clips(folder: str, count: int, max_seconds: float, full_length: bool = False):
    from intentdesk.core.data.store import DatasetStore
    from intentdesk.core.models.inputs import load_waves

    store = DatasetStore.open(Path(folder))
    clips = store.clips[:count]
    waves, errors = load_waves([store.path_of(c) for c in clips], SAMPLE_RATE, max_seconds)
    assert not errors, errors
    if full_length:  # every clip repeated up to exactly max_seconds: the memory worst case
        size = int(SAMPLE_RATE * max_seconds)
        waves = [np.resize(w, size) for w in waves]
    labels = sorted({c.label for c in store.clips})
    return waves, [labels.index(c.label) for c in clips], labels


def make_model(labels):
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

    torch.manual_seed(0)
    config = Wav2Vec2Config(num_labels=len(labels), id2label=dict(enumerate(labels)),
                            label2id={label: i for i, label in enumerate(labels)})
    return Wav2Vec2ForSequenceClassification(config), Wav2Vec2FeatureExtractor(return_attention_mask=False)


def run_trainer(waves, y, labels, max_seconds) -> list[float]:
    from datasets import Dataset
    from transformers import Trainer, TrainerCallback, TrainingArguments

    model, extractor = make_model(labels)
    features = extractor(waves, sampling_rate=SAMPLE_RATE, max_length=int(SAMPLE_RATE * max_seconds), truncation=True)
    dataset = Dataset.from_dict({"input_values": features["input_values"], "label": y})
    stamps: list[float] = []

    class Stamp(TrainerCallback):
        def on_step_end(self, *_args, **_kwargs):
            stamps.append(time.perf_counter())

    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, per_device_train_batch_size=BATCH, learning_rate=3e-5,
                                 warmup_steps=0.1, num_train_epochs=1, save_strategy="no", eval_strategy="no",
                                 report_to=[], use_cpu=True, logging_steps=1000, dataloader_num_workers=0)
        Trainer(model=model, args=args, train_dataset=dataset, processing_class=extractor,
                callbacks=[Stamp()]).train()
    return stamps


def run_full_mode(waves, y, labels, max_seconds) -> list[float]:
    import threading

    from intentdesk.core.events import Progress, Stage, StepEvent
    from intentdesk.core.learning.loop import fit
    from intentdesk.core.learning.prepared import PreparedData, TrainingRun
    from intentdesk.core.learning.settings import TrainSettings
    from intentdesk.core.learning.task import FullTask
    from intentdesk.core.models import backbone
    from intentdesk.core.models.inputs import InputBuilder
    from intentdesk.core.runs import RunRecord

    model, extractor = make_model(labels)
    backbone.freeze_front_end(model)
    device = torch.device("cpu")
    data = PreparedData(labels, waves, torch.tensor(y), waves[:BATCH], torch.tensor(y[:BATCH]))
    settings = TrainSettings(mode="full", epochs=1, batch_size=BATCH, learning_rate=3e-5,
                             speed_perturbation=(), max_seconds=max_seconds).resolved()
    stamps: list[float] = []

    def on_event(event):
        if isinstance(event, StepEvent):
            stamps.append(time.perf_counter())

    run = TrainingRun(model, InputBuilder(extractor), data, settings, device, Progress(on_event, {}),
                      threading.Event(), RunRecord())
    fit(run, FullTask(run), Stage.FINE_TUNING)
    return stamps


def child(kind: str, args) -> None:
    waves, y, labels = load_clips(args.data, args.clips, args.max_seconds, args.full_length)
    stamps = (run_trainer if kind == "trainer" else run_full_mode)(waves, y, labels, args.max_seconds)
    rate = (len(stamps) - 1) * BATCH / (stamps[-1] - stamps[0])
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(json.dumps({"samples_per_s": rate, "peak_rss_gb": rss, "steps": len(stamps)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data")
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--max-seconds", type=float, default=8.0)
    parser.add_argument("--full-length", action="store_true", help="repeat every clip up to --max-seconds")
    parser.add_argument("--child", choices=["trainer", "full"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args)
        return
    results = {}
    for kind in ("trainer", "full"):
        cmd = [sys.executable, __file__, args.data, "--clips", str(args.clips), "--max-seconds",
               str(args.max_seconds), "--child", kind] + (["--full-length"] if args.full_length else [])
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        results[kind] = json.loads(out.strip().splitlines()[-1])
    waves, _, _ = load_clips(args.data, args.clips, args.max_seconds, args.full_length)
    mean = np.mean([len(w) for w in waves]) / SAMPLE_RATE
    print(f"{args.clips} clips (mean {mean:.1f} s, cut at {args.max_seconds:g} s), batch {BATCH}, "
          f"Wav2Vec2-base architecture, torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("| recipe | samples/s | peak RSS (GB) |")
    print("|---|---|---|")
    for kind, name in (("trainer", "Trainer (tutorial recipe)"), ("full", "IntentDesk Full mode")):
        print(f"| {name} | {results[kind]['samples_per_s']:.2f} | {results[kind]['peak_rss_gb']:.1f} |")
    print(f"\nspeed-up: {results['full']['samples_per_s'] / results['trainer']['samples_per_s']:.2f}x")


if __name__ == "__main__":
    main()
