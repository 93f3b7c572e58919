"""A trained classifier folder: checked file by file, then loaded in float32 with every weight accounted for.

`check_model_folder` is the cheap part (files, sizes, config entries; no model built), so bad input
fails before a slow load; `load_float32` builds the model and refuses one whose weights do not fit
(a base model never trained on intents, a config.json that was changed).
"""

from __future__ import annotations

from pathlib import Path

import torch

from intentdesk.core.errors import ModelError
from intentdesk.core.models import backbone, hub, model_files


def check_model_folder(folder: Path) -> Path:
    """A trained classifier folder, checked file by file before loading (see `model_files.check_classifier_folder`)."""
    return model_files.check_classifier_folder(folder)


def describe_load_error(folder: Path, error: BaseException) -> str:
    """What a failed `from_pretrained` of a checked folder means, in the user's terms."""
    text = str(error)
    if "ignore_mismatched_sizes" not in text and "size mismatch" not in text:
        return hub.error_line(error)
    config = model_files.read_json_object(folder / model_files.CONFIG, model_files.EDITED)
    if model_files.label_names(folder, config) is None:
        return ("config.json has no id2label (the intent names), and the weights do not have the 2 outputs "
                f"that means; {model_files.INCOMPLETE}")
    return ("the weights do not fit config.json (e.g. id2label lists a different number of intents than the "
            f"weights have); {model_files.EDITED}")


def check_loading(folder: Path, loading: dict) -> None:
    """Every weight of the model came from the folder's weight files, and every weight there was used.
    transformers fills missing ones with random numbers and drops unused ones: either way the ranking
    would be noise, from a base model never trained on intents or a config.json that was changed."""
    missing = sorted(loading.get("missing_keys", ()))
    untrained = [key for key in missing if key.split(".")[0] in backbone.HEAD_MODULES]  # nobody trained it to classify
    if untrained:
        raise ModelError(f"{folder}: has no trained classification head ({untrained[0]} is not "
                         "in its weights): it is a base model, not one trained on intents; train on it first "
                         f"(intentdesk train DATA --base {folder} --out NEW_FOLDER)")
    unused = sorted(loading.get("unexpected_keys", ()))
    if missing or unused:
        what = f"{missing[0]} is not in its weights" if missing else \
            f"its weights hold {unused[0]}, which the model has no place for"
        raise ModelError(f"{folder}: the weights do not fit config.json ({what}; a size or count in config.json was "
                         f"changed); {model_files.EDITED}")


def load_float32(folder: Path, feature_extractor, device: torch.device) -> torch.nn.Module:
    """The checked folder's model in float32 on `device`, in eval mode; `ModelError` saying why not."""
    api = backbone.transformers_api()
    config = backbone.load_config(str(folder))
    backbone.check_fits_weights(folder, config)
    try:
        model, loading = api.AutoModelForAudioClassification.from_pretrained(folder, config=config,
                                                                             output_loading_info=True)
    except Exception as error:
        raise ModelError(f"{folder}: cannot load the model: {describe_load_error(folder, error)}") from error
    check_loading(folder, loading)
    backbone.check_inputs(folder, model, feature_extractor)
    return model.to(device).eval()


def sound_uncertain_below(config) -> float | None:
    """The sound model's own out-of-scope rule: the top score under which its answer is "uncertain", from
    config.json's `intentdesk` entry (`learning.metrics.uncertain_below`); None for a model trained before
    there was one, or not by IntentDesk. The folder is someone else's file: a value that is not a share
    between 0 and 1 is refused, naming the entry."""
    extra = getattr(config, "intentdesk", None)
    value = extra.get("uncertain_below") if isinstance(extra, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ModelError(f"config.json: 'intentdesk.uncertain_below' is {value!r}, but it must be a number from 0 to "
                         f"1 (the top score under which an answer is uncertain); {model_files.EDITED}")
    return float(value)
