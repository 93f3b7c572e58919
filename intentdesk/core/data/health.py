"""Is this dataset ready to train on: what blocks training, and what will make it go badly.

Cheap checks, no torch import, so the Label and Train tabs can explain both before anything
heavy is loaded: blockers stop a run, warnings (thin or imbalanced labels) only advise.
"""

from __future__ import annotations

from intentdesk.core.audio import io as audio
from intentdesk.core.data.store import DatasetStore
from intentdesk.core.errors import IntentDeskError
from intentdesk.core.models import bundled, hub

MIN_CLIPS_PER_LABEL = 2  # fewer blocks training: one clip to train on, one to check with
FEW_CLIPS = 5  # fewer is allowed, but warned about: the model will barely learn the label
IMBALANCE_RATIO = 3.0  # a label with 3x the clips of another is warned about


def label_warnings(counts: dict[str, int]) -> list[str]:
    """What a user should fix before training (clips per label -> sentences): thin labels and strong imbalance."""
    warnings = []
    few = [f"{label} ({n})" for label, n in counts.items() if n < FEW_CLIPS]
    if few:
        warnings.append(f"fewer than {FEW_CLIPS} clips: {', '.join(few)}")
    if len(counts) >= 2 and min(counts.values()) * IMBALANCE_RATIO < max(counts.values()):
        warnings.append(f"imbalanced: {max(counts, key=counts.get)} has {max(counts.values())} clips, "
                        f"{min(counts, key=counts.get)} only {min(counts.values())}")
    return warnings


def typed_only_labels(store: DatasetStore) -> list[str]:
    """Labels with typed phrases and no recordings (sorted): a model that learns from the words learns them."""
    counts = store.label_counts()
    return sorted({label for label, _ in store.texts.phrases() if label not in counts})


def training_blockers(store: DatasetStore, words: bool = False) -> list[str]:
    """Reasons why a dataset cannot be trained on, each a sentence for the user (empty: go). With `words`
    (learning from the words too), labels with typed phrases only count, and a dataset of typed phrases
    alone, no recordings at all, trains a words-only model."""
    counts = store.label_counts()
    typed = typed_only_labels(store) if words else []
    problems = []
    if not counts and len(typed) >= 2:
        return problems  # words only: every label has typed phrases, none has recordings
    if len(counts) + len(typed) < 2:
        hint = "" if words else " (or type how people say each intent, and learn from the words)"
        problems.append(f"the dataset has {len(counts) + len(typed)} label(s); at least 2 are needed to learn to "
                        f"tell them apart{hint}")
    few = [f"{label} ({n})" for label, n in counts.items() if n < MIN_CLIPS_PER_LABEL]
    if few:
        problems.append(f"each label needs at least {MIN_CLIPS_PER_LABEL} clips (one to train, one to check): "
                        + ", ".join(few))
    missing = store.missing_files()
    if missing:
        problems.append(f"{len(missing)} clip file(s) are missing: " + ", ".join(missing[:5]))
    return problems


def unreadable_clips(store: DatasetStore) -> list[str]:
    """Clips whose file cannot even be opened as audio (header check: fast enough before a run)."""
    import soundfile

    bad = []
    for clip in store.clips:
        path = store.path_of(clip)
        try:
            info = soundfile.info(str(path))
            if info.frames == 0:
                bad.append(f"{clip.file_name} (empty)")
        except Exception:
            try:
                audio.load_audio(path, limits=audio.AudioLimits(max_seconds=None))
            except IntentDeskError:
                bad.append(clip.file_name)
    return bad


def base_model_blocker(base: str) -> str | None:
    """Why `base` cannot be loaded now (missing folder, or a hub id with the hub out of reach)."""
    try:
        if hub.check_local_model(base):
            return None
    except IntentDeskError as error:
        return f"the base model {error}"
    if hub.is_cached(base) or bundled.bundled_folder(base) is not None or hub.hub_reachable():
        return None
    return (f"the base model {base} is not downloaded and {hub.OFFLINE_HINT}"
            " (or choose a local model folder)")


def start_problems(store: DatasetStore, base: str) -> list[str]:
    """What stops a run that only reading every clip's header or asking the hub tells (seconds on a
    large dataset or a slow network: run it off the GUI thread)."""
    problems = []
    bad = unreadable_clips(store)
    if bad:
        problems.append(f"{len(bad)} clip(s) cannot be read: {', '.join(bad[:5])} (delete them in the Label tab)")
    blocker = base_model_blocker(base)
    if blocker:
        problems.append(blocker)
    return problems
