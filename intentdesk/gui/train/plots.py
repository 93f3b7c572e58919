"""Training curves and the confusion-matrix heatmap (pyqtgraph)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

SMOOTHING = 0.9


def smoothed(values: list[float], weight: float = SMOOTHING) -> list[float]:
    """Exponential moving average with bias correction (like TensorBoard's smoothing)."""
    out, average = [], 0.0
    for i, value in enumerate(values, start=1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight ** i))
    return out


class TrainingCurves(QWidget):
    """Top: training loss per step (raw points + smoothed line) and eval loss per epoch.
    Bottom: eval accuracy and macro-F1 per epoch. The best epoch gets a vertical marker."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.loss_plot = pg.PlotWidget(title="Loss")
        self.loss_plot.setLabel("bottom", "epoch")
        self.loss_plot.addLegend(offset=(-10, 10))
        self.loss_plot.showGrid(x=True, y=True, alpha=0.2)
        self.raw_loss = self.loss_plot.plot(pen=None, symbol="o", symbolSize=3, symbolBrush=(59, 111, 216, 90),
                                            symbolPen=None, name="train (steps)")
        self.smooth_loss = self.loss_plot.plot(pen=pg.mkPen("#3b6fd8", width=2), name="train (smoothed)")
        self.eval_loss = self.loss_plot.plot(pen=pg.mkPen("#e07b00", width=2), symbol="s", symbolSize=7,
                                             symbolBrush="#e07b00", name="eval")
        self.score_plot = pg.PlotWidget(title="Eval accuracy and macro-F1")
        self.score_plot.setLabel("bottom", "epoch")
        self.score_plot.setYRange(0, 1)
        self.score_plot.addLegend(offset=(-10, -10))
        self.score_plot.showGrid(x=True, y=True, alpha=0.2)
        self.accuracy = self.score_plot.plot(pen=pg.mkPen("#2a9d4b", width=2), symbol="o", symbolSize=7,
                                             symbolBrush="#2a9d4b", name="accuracy")
        self.macro_f1 = self.score_plot.plot(pen=pg.mkPen("#8e44ad", width=2, style=pg.QtCore.Qt.DashLine),
                                             symbol="t", symbolSize=7, symbolBrush="#8e44ad", name="macro-F1")
        self.best_lines = [pg.InfiniteLine(angle=90, pen=pg.mkPen("#c0392b", width=1, style=pg.QtCore.Qt.DotLine),
                                           label="best", labelOpts={"position": 0.9, "color": "#c0392b"})
                           for _ in range(2)]
        for plot, line in zip((self.loss_plot, self.score_plot), self.best_lines):
            plot.addItem(line)
            line.hide()
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.score_plot, 2)
        self.clear()

    def clear(self) -> None:
        self.steps: list[float] = []
        self.step_epochs: list[float] = []
        self.epochs: list[dict] = []
        self._redraw()
        for line in self.best_lines:
            line.hide()

    def add_step(self, epoch_position: float, loss: float) -> None:
        self.step_epochs.append(epoch_position)
        self.steps.append(loss)
        if len(self.steps) % 5 == 0 or len(self.steps) < 20:
            self._redraw_steps()

    def add_epoch(self, epoch: int, eval_loss: float, accuracy: float, macro_f1: float, is_best: bool) -> None:
        self.epochs.append({"epoch": epoch, "eval_loss": eval_loss, "accuracy": accuracy, "macro_f1": macro_f1})
        if is_best:
            self.mark_best(epoch)
        self._redraw()

    def mark_best(self, epoch: int | None) -> None:
        for line in self.best_lines:
            if epoch is None:
                line.hide()
            else:
                line.setValue(epoch)
                line.show()

    def load_history(self, history: list[dict], step_losses: list[float], best_epoch: int | None) -> None:
        """Show a finished run's curves (from its metrics.json)."""
        self.clear()
        per_epoch = len(step_losses) / max(1, len(history))
        self.steps = list(step_losses)
        self.step_epochs = [(i + 1) / per_epoch for i in range(len(step_losses))] if per_epoch else []
        self.epochs = [{"epoch": h["epoch"], "eval_loss": h["eval_loss"], "accuracy": h["accuracy"],
                        "macro_f1": h["macro_f1"]} for h in history]
        self.mark_best(best_epoch)
        self._redraw()

    def _redraw_steps(self) -> None:
        self.raw_loss.setData(self.step_epochs, self.steps)
        self.smooth_loss.setData(self.step_epochs, smoothed(self.steps))

    def _redraw(self) -> None:
        self._redraw_steps()
        x = [e["epoch"] for e in self.epochs]
        self.eval_loss.setData(x, [e["eval_loss"] for e in self.epochs])
        self.accuracy.setData(x, [e["accuracy"] for e in self.epochs])
        self.macro_f1.setData(x, [e["macro_f1"] for e in self.epochs])


class ConfusionMatrixView(pg.PlotWidget):
    """Rows: true label; columns: predicted. Counts written in the cells."""

    def __init__(self, parent=None) -> None:
        # A short title with the axes named: the long title's label alone asked for 382 px, so at
        # the Results tab's usual width the plot overflowed its widget and lost its last columns.
        super().__init__(parent, title="Confusion matrix")
        self.setLabel("left", "true")
        self.setLabel("bottom", "predicted")
        self.setAspectLocked(True)
        self.invertY(True)
        self.image = pg.ImageItem()
        white_to_blue = pg.ColorMap([0.0, 1.0], [(255, 255, 255), (33, 82, 178)])
        self.image.setLookupTable(white_to_blue.getLookupTable(0.0, 1.0, 256))
        self.addItem(self.image)
        self._texts: list[pg.TextItem] = []
        self.matrix = np.zeros((0, 0))

    def set_matrix(self, matrix: list[list[int]], labels: list[str]) -> None:
        for text in self._texts:
            self.removeItem(text)
        self._texts = []
        self.matrix = np.asarray(matrix, dtype=float)
        if self.matrix.size == 0:
            self.image.clear()
            return
        rows = self.matrix.sum(axis=1, keepdims=True)
        self.image.setImage((self.matrix / np.maximum(rows, 1)).T, levels=(0, 1))
        n = len(labels)
        for i in range(n):
            for j in range(n):
                if self.matrix[i, j]:
                    text = pg.TextItem(str(int(self.matrix[i, j])), anchor=(0.5, 0.5),
                                       color="w" if self.matrix[i, j] / max(rows[i, 0], 1) > 0.5 else "k")
                    text.setPos(j + 0.5, i + 0.5)
                    self.addItem(text)
                    self._texts.append(text)
        # Names on the left ("3 balance"), numbers below: long intent names never overlap.
        self.getAxis("left").setTicks([[(k + 0.5, f"{k + 1} {label}") for k, label in enumerate(labels)]])
        self.getAxis("bottom").setTicks([[(k + 0.5, str(k + 1)) for k in range(n)]])
        self.getAxis("left").setWidth(max(60, 7 * max(len(label) for label in labels) + 24))
        self.setRange(xRange=(0, n), yRange=(0, n), padding=0.02)
