"""Classification metrics: accuracy, P/R/F1 (micro, macro, weighted), per class, confusion matrix.

`evaluate.load("accuracy")` downloads its script from the hub, which fails offline, so the
numbers are computed here from the confusion matrix, with scikit-learn's definitions
(`zero_division=0`; the tests check them against scikit-learn). Not importing scikit-learn
matters: its import pulls in pandas, pyarrow and narwhals, ~0.3 s of C initialisation holding
the GIL, which froze the GUI's event loop mid-training.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    numerator, denominator = np.asarray(numerator, float), np.asarray(denominator, float)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def confusion(y_true: np.ndarray, y_pred: np.ndarray, classes: int) -> np.ndarray:
    """Rows: true class, columns: predicted class."""
    matrix = np.zeros((classes, classes), dtype=int)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]) -> dict:
    """All figures as plain JSON-able Python types, labels in the model's id order."""
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    matrix = confusion(y_true, y_pred, len(labels))
    tp = np.diag(matrix)
    predicted, support = matrix.sum(axis=0), matrix.sum(axis=1)
    precision, recall = _ratio(tp, predicted), _ratio(tp, support)
    f1 = _ratio(2 * tp, predicted + support)
    micro_p, micro_r = _ratio(tp.sum(), predicted.sum()), _ratio(tp.sum(), support.sum())
    # macro: over the labels the clips or the answers hold (scikit-learn's default), so an intent with no test
    # clip that is never answered (one learned from typed phrases alone) does not count as a 0
    seen = (support + predicted) > 0
    macro = (lambda values: float(values[seen].mean())) if seen.any() else (lambda _values: 0.0)
    weights = _ratio(support, support.sum())
    result: dict = {"labels": list(labels), "count": int(len(y_true)),
                    "accuracy": float(np.mean(y_true == y_pred)) if len(y_true) else 0.0,
                    "precision": {"micro": float(micro_p), "macro": macro(precision),
                                  "weighted": float(weights @ precision)},
                    "recall": {"micro": float(micro_r), "macro": macro(recall),
                               "weighted": float(weights @ recall)},
                    "f1": {"micro": float(_ratio(2 * tp.sum(), predicted.sum() + support.sum())),
                           "macro": macro(f1), "weighted": float(weights @ f1)}}
    result["per_class"] = {
        label: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                "support": int(support[i])}
        for i, label in enumerate(labels)
    }
    result["confusion_matrix"] = matrix.tolist()
    return result


# The sound model's own out-of-scope rule (a model without words): a clip whose top score is below the
# UNCERTAIN_SHARE quantile of the eval split's top scores is "uncertain", never above UNCERTAIN_CEILING (a
# model sure of every eval clip would otherwise flag any clip it is not 99 % sure of). Chosen on validation
# corpora only (BENCHMARKS.md 8d).
UNCERTAIN_SHARE = 0.03
UNCERTAIN_CEILING = 0.5


def uncertain_below(eval_probabilities: np.ndarray, share: float = UNCERTAIN_SHARE,
                    ceiling: float = UNCERTAIN_CEILING) -> float | None:
    """The top score under which the sound model answers "uncertain", from its eval split's
    probabilities (rows: clips); None without eval clips. At least twice the flat score 1/labels, so
    a model of many labels does not flag everything."""
    probabilities = np.asarray(eval_probabilities, np.float64)
    if probabilities.ndim != 2 or not len(probabilities):
        return None
    floor = min(ceiling, 2.0 / probabilities.shape[1])
    return float(np.clip(np.quantile(probabilities.max(axis=1), share), floor, ceiling))


def sound_notes(eval_probabilities: np.ndarray) -> dict:
    """What config.json's `intentdesk` entry keeps of the eval split's scores: the out-of-scope rule."""
    rule = uncertain_below(eval_probabilities)
    return {} if rule is None else {"uncertain_below": round(rule, 4)}
