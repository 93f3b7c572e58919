"""Classification metrics: accuracy, P/R/F1 (micro, macro, weighted), per class, confusion matrix.

`evaluate.load("accuracy")` downloads its script from the hub, which fails offline, so the
numbers come from scikit-learn, which computes the same definitions locally.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]) -> dict:
    """All figures as plain JSON-able Python types, labels in the model's id order."""
    ids = list(range(len(labels)))
    y_true, y_pred = np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)
    result: dict = {"labels": list(labels), "count": int(len(y_true)),
                    "accuracy": float(accuracy_score(y_true, y_pred)) if len(y_true) else 0.0}
    for average in ("micro", "macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=ids, average=average, zero_division=0)
        result.setdefault("precision", {})[average] = float(p)
        result.setdefault("recall", {})[average] = float(r)
        result.setdefault("f1", {})[average] = float(f)
    p, r, f, support = precision_recall_fscore_support(y_true, y_pred, labels=ids, average=None, zero_division=0)
    result["per_class"] = {
        label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(support[i])}
        for i, label in enumerate(labels)
    }
    result["confusion_matrix"] = confusion_matrix(y_true, y_pred, labels=ids).tolist()
    return result
