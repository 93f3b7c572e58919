"""Saving a trained model folder, and the fingerprint that keys quick mode's feature cache."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from intentdesk.core.files import stop_when_disk_full
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.models import backbone, model_files
from intentdesk.core.models.checksums import write_checksums
from intentdesk.core.runs import RunRecord
from intentdesk.core.staging import SETTINGS_FILE, check_output_dir, is_trained_model, staged_folder
from intentdesk.core.words.layout import FOLDER as WORDS_FOLDER
from intentdesk.core.words.layout import HEAD as WORDS_HEAD
from intentdesk.core.words.layout import save_words


def save_model_folder(model, feature_extractor, output_dir: Path, record: RunRecord, settings: TrainSettings,
                      words=None, notes: dict | None = None) -> Path:
    """Write the folder next to its final place, then swap it in: never a half-saved model, and
    only ever in place of a model IntentDesk trained (checked again: the folder may have changed
    during training). A standard Hugging Face folder plus metrics.json and run_settings.json,
    and `words/` when `words` (a `core.words.TrainedWords`) is given: the sound model and its words
    part appear together or not at all. On a full disk (`DiskFull`) the partial copy is removed and
    an earlier model in `output_dir` stays as it was. `notes` go into config.json's `intentdesk` entry
    beside the base model and mode: the sound model's own out-of-scope rule (`uncertain_below`), or that its
    sound part never learned (`sound: untrained`, a words-only model). Last, `checksums.json`: the weight
    files' digests, so a copy damaged later is refused rather than loaded (`core.models.checksums`)."""
    output_dir = check_output_dir(output_dir)
    earlier = " (the earlier model there is unchanged)" if is_trained_model(output_dir) else ""
    with stop_when_disk_full(output_dir.parent, f"the model was not saved to {output_dir}{earlier}"), \
            staged_folder(output_dir) as staging:
        model.config.intentdesk = {"base_model": settings.base_model, "mode": settings.mode, **(notes or {})}
        model.save_pretrained(staging)
        feature_extractor.save_pretrained(staging)
        if words is not None:
            save_words(staging, words.config, words.head)
        record.write(staging)
        (staging / SETTINGS_FILE).write_text(json.dumps(asdict(settings), indent=1))
        weights = [file.name for file in model_files.weight_files(staging)]
        write_checksums(staging, weights + ([f"{WORDS_FOLDER}/{WORDS_HEAD}"] if words is not None else []))
    return output_dir


def model_fingerprint(base: str, settings: TrainSettings, window: float | None) -> str:
    """Identifies the frozen part of a backbone and its input window (Whisper's, fitted to the
    clips), for the feature cache: same key, same features."""
    path = Path(base).expanduser()
    device = backbone.pick_device(settings.device)
    # The number formats the feature pass may run in here (`feature_pass`, which records the one it took in the
    # folder); "features-2": earlier folders hold features of autocast or float32 runs and no such record.
    formats = f"features-2:{settings.bf16}:{backbone.uses_bf16(device, settings.bf16)}:{backbone.cpu_has_bf16()}"
    parts = [base, str(settings.max_seconds), str(window), str(settings.quick_layers), formats]
    if path.is_dir():
        files = sorted(f for f in path.iterdir() if f.is_file())
        parts += [f"{f.name}:{f.stat().st_size}:{int(f.stat().st_mtime)}" for f in files]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]
