"""What the Train tab's background job runs: the checks that may stop a run (every clip's header, the
models on disk or on the hub), then the trainer; all of it in the worker thread, imports included."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from intentdesk.core.data.store import DatasetStore
from intentdesk.core.events import Stage, StageEvent
from intentdesk.core.learning.settings import TrainSettings
from intentdesk.core.models.catalogue import BASE_MODEL, RECOGNISER, TEXT_ENCODER, Role, missing_reason

WORDS_ROLES = (RECOGNISER, TEXT_ENCODER)


@dataclass(frozen=True)
class NotStarted:
    """What `run_training` gives when the checks before a run found what stops it; `models`: the
    models among them that are missing (the Models dialog opens with these)."""

    problems: list[str]
    models: list[str] = field(default_factory=list)


def missing_models(settings: TrainSettings, roles: tuple[Role, ...]) -> list[str]:
    """Why each of `roles` (as `settings` chooses it) cannot be had now; may ask the hub (1.5 s)."""
    return [reason for role in roles if (reason := missing_reason(role, getattr(settings, role.key)))]


def run_training(data_root: Path, out: Path, settings: TrainSettings, emit, cancel):
    """Runs in the worker thread, imports included (torch takes seconds to import), and the checks
    first: every clip's header and the models, on disk or on the hub (on the GUI thread they froze
    the window on a large dataset or a slow network). The words' models are checked before the
    sound model trains (they failed only after it, offline)."""
    from intentdesk.core.data.health import start_problems

    emit(StageEvent("Checking the clips and the models…", kind=Stage.CHECKING))
    problems = start_problems(DatasetStore.open(data_root), settings.base_model)
    words = missing_models(settings, WORDS_ROLES) if settings.words else []
    if problems or words:
        base = missing_models(settings, (BASE_MODEL,)) if problems else []  # is the base among the problems
        return NotStarted(problems + words, base + words)
    from intentdesk.core.learning.trainer import train

    return train(data_root, out, settings, emit, cancel)
