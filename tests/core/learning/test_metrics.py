"""The metrics equal scikit-learn's definitions (zero_division=0), edge cases included."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from intentdesk.core.learning.metrics import classification_metrics, uncertain_below


@pytest.mark.parametrize("seed", range(6))
def test_metrics_match_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    classes = int(rng.integers(2, 7))
    n = int(rng.integers(1, 40))
    y_true = rng.integers(0, classes, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, classes, n))
    labels = [f"c{i}" for i in range(classes + 1)]  # the last one in no clip and no answer (typed phrases only)
    ours = classification_metrics(y_true, y_pred, labels)
    ids = list(range(classes + 1))
    assert ours["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    for average in ("micro", "macro", "weighted"):  # over the labels the clips and answers hold, as by default
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)
        assert (ours["precision"][average], ours["recall"][average], ours["f1"][average]) == pytest.approx((p, r, f))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=ids, average=None, zero_division=0)
    for i, label in enumerate(labels):
        row = ours["per_class"][label]
        assert (row["precision"], row["recall"], row["f1"], row["support"]) == pytest.approx((p[i], r[i], f[i], s[i]))
    assert ours["confusion_matrix"] == confusion_matrix(y_true, y_pred, labels=ids).tolist()


def test_training_metrics_do_not_import_scikit_learn():
    import subprocess
    import sys

    code = ("import sys; from intentdesk.core.learning.trainer import train; "
            "from intentdesk.core.inference.evaluation import evaluate_model; print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300).stdout
    assert out.strip() == "False"


def test_uncertain_below_is_a_low_quantile_of_eval_top_scores_within_bounds():
    rng = np.random.default_rng(0)
    sure = np.full((100, 10), 0.01)
    sure[:, 0] = 0.91
    tops = rng.uniform(0.2, 0.45, 100)  # a model unsure of every eval clip: its 3 % quantile of tops
    unsure = np.column_stack([tops, (1 - tops[:, None]) * np.full((100, 9), 1 / 9)])
    assert uncertain_below(sure) == pytest.approx(0.5)  # sure of all: the ceiling, not 0.91
    assert uncertain_below(unsure) == pytest.approx(np.quantile(tops, 0.03))
    flat = np.full((50, 40), 1 / 40)
    assert uncertain_below(flat) == pytest.approx(2 / 40)  # never below twice the flat score
    assert uncertain_below(np.zeros((0, 3))) is None
