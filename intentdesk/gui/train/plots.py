"""Training curves and the confusion-matrix heatmap (pyqtgraph)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QVBoxLayout, QWidget

SMOOTHING = 0.9
# The step curves are redrawn at most this often: redrawing them every few steps took the GUI thread
# 7.7 s for a 990-step Quick run (more than the training itself), slowing the run it shows.
DRAW_EVERY_MS = 250
FINAL_LEGEND = "all clips, for the saved model (smoothed)"


def smoothed(values: list[float], weight: float = SMOOTHING) -> list[float]:
    """Exponential moving average with bias correction (like TensorBoard's smoothing)."""
    out, average = [], 0.0
    for i, value in enumerate(values, start=1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight ** i))
    return out


def epoch_plot(title: str, legend: tuple[int, int]) -> pg.PlotWidget:
    """A plot against passes over the data, with plain numbers on its axes (never "x0.001")."""
    plot = pg.PlotWidget(title=title)
    plot.setLabel("bottom", "pass over the data (epoch)")
    for side in ("left", "bottom"):
        plot.getAxis(side).enableAutoSIPrefix(False)
    plot.addLegend(offset=legend)
    plot.showGrid(x=True, y=True, alpha=0.2)
    return plot


class TrainingCurves(QWidget):
    """Top: training loss per step (raw points + smoothed line) and eval loss per epoch.
    Bottom: eval accuracy and macro-F1 per epoch. The best epoch gets a vertical marker."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.loss_plot = epoch_plot("Loss: how wrong the model is (lower is better)", legend=(-10, 10))
        self.raw_loss = self.loss_plot.plot(pen=None, symbol="o", symbolSize=3, symbolBrush=(59, 111, 216, 90),
                                            symbolPen=None, name="training clips (each step)")
        self.smooth_loss = self.loss_plot.plot(pen=pg.mkPen("#3b6fd8", width=2), name="training clips (smoothed)")
        self.eval_loss = self.loss_plot.plot(pen=pg.mkPen("#e07b00", width=2), symbol="s", symbolSize=7,
                                             symbolBrush="#e07b00", name="test clips")
        self.final_loss = self.loss_plot.plot(pen=pg.mkPen("#888888", width=2, style=Qt.DashLine))
        self.score_plot = epoch_plot("Score on the test clips (higher is better)", legend=(-10, -10))
        self.score_plot.setYRange(0, 1)
        self.accuracy = self.score_plot.plot(pen=pg.mkPen("#2a9d4b", width=2), symbol="o", symbolSize=7,
                                             symbolBrush="#2a9d4b", name="share right (accuracy)")
        self.macro_f1 = self.score_plot.plot(pen=pg.mkPen("#8e44ad", width=2, style=Qt.DashLine), symbol="t",
                                             symbolSize=7, symbolBrush="#8e44ad",
                                             name="average over labels (macro-F1)")
        self.best_lines = [pg.InfiniteLine(angle=90, pen=pg.mkPen("#c0392b", width=1, style=Qt.DotLine),
                                           label="best", labelOpts={"position": 0.5, "color": "#c0392b"})  # mid-
                           # height: the legends sit at the top right (loss) and bottom right (score)
                           for _ in range(2)]
        for plot, line in zip((self.loss_plot, self.score_plot), self.best_lines):
            plot.addItem(line)
            line.hide()
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.score_plot, 2)
        self._draw_timer = QTimer(self, singleShot=True, interval=DRAW_EVERY_MS, timeout=self._redraw_steps)
        self.clear()

    def clear(self) -> None:
        self.steps: list[float] = []
        self.step_epochs: list[float] = []
        self.final_steps: list[float] = []  # the last training again on all clips (see add_step)
        self.final_epochs: list[float] = []
        self.epochs: list[dict] = []
        self.loss_plot.plotItem.legend.removeItem(self.final_loss)
        self._redraw()
        for line in self.best_lines:
            line.hide()

    def add_step(self, epoch_position: float, loss: float) -> None:
        """One step's training loss. Steps that start counting passes from the beginning again are a
        second training on all clips (Quick mode's "learn from all clips"): they get their own dashed
        line, as drawing them onto the first line would join its end back to its start."""
        final = bool(self.final_steps) or (bool(self.step_epochs) and epoch_position < self.step_epochs[-1])
        if final and not self.final_steps:
            self.loss_plot.plotItem.legend.addItem(self.final_loss, FINAL_LEGEND)
        epochs, steps = (self.final_epochs, self.final_steps) if final else (self.step_epochs, self.steps)
        epochs.append(epoch_position)
        steps.append(loss)
        if len(steps) < 20:
            self._redraw_steps()
        elif not self._draw_timer.isActive():  # the steps until it fires are drawn together
            self._draw_timer.start()

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

    def load_history(self, history: list[dict], step_losses: list[float], best_epoch: int | None,
                     final_pass: list[list[float]] = ()) -> None:
        """Show a finished run's curves (from its metrics.json), its final pass on all clips too, as drawn live."""
        self.clear()
        per_epoch = len(step_losses) / max(1, len(history))
        self.steps = list(step_losses)
        self.step_epochs = [(i + 1) / per_epoch for i in range(len(step_losses))] if per_epoch else []
        if final_pass:
            self.loss_plot.plotItem.legend.addItem(self.final_loss, FINAL_LEGEND)
            self.final_epochs, self.final_steps = [p for p, _ in final_pass], [loss for _, loss in final_pass]
        self.epochs = [{"epoch": h["epoch"], "eval_loss": h["eval_loss"], "accuracy": h["accuracy"],
                        "macro_f1": h["macro_f1"]} for h in history]
        self.mark_best(best_epoch)
        self._redraw()

    def _redraw_steps(self) -> None:
        self.raw_loss.setData(self.step_epochs, self.steps)
        self.smooth_loss.setData(self.step_epochs, smoothed(self.steps))
        self.final_loss.setData(self.final_epochs, smoothed(self.final_steps))

    def _redraw(self) -> None:
        self._redraw_steps()
        x = [e["epoch"] for e in self.epochs]
        self.eval_loss.setData(x, [e["eval_loss"] for e in self.epochs])
        self.accuracy.setData(x, [e["accuracy"] for e in self.epochs])
        self.macro_f1.setData(x, [e["macro_f1"] for e in self.epochs])


class ColumnNamesAxis(pg.AxisItem):
    """A bottom axis that writes each column's name upright (bottom to top), so long intent names
    never overlap, however many columns there are; names too long for `MAX_NAME_PX` are elided."""

    MAX_NAME_PX = 140

    def __init__(self) -> None:
        super().__init__("bottom")
        self.names: list[str] = []
        self.enableAutoSIPrefix(False)

    def set_names(self, names: list[str]) -> None:
        self.names = list(names)
        self.setTicks([[(k + 0.5, "") for k in range(len(names))]])
        metrics = QFontMetrics(self.style["tickFont"] or QFont())
        longest = max((metrics.horizontalAdvance(name) for name in names), default=0)
        self.setHeight(min(longest, self.MAX_NAME_PX) + 12 + (metrics.height() + 4) * self.label.isVisible())
        self.picture = None
        self.update()

    def drawPicture(self, p, axisSpec, tickSpecs, _text) -> None:  # noqa: N802 - pyqtgraph's name
        super().drawPicture(p, axisSpec, tickSpecs, [])  # its texts: ours are drawn turned, below
        low, high = self.range
        if not self.names or high <= low:
            return
        metrics = QFontMetrics(p.font())
        width = self.mapRectFromParent(self.geometry()).width()
        for k, name in enumerate(self.names):
            x = (k + 0.5 - low) * width / (high - low)
            p.save()
            p.translate(x, 6)
            p.rotate(-90)
            text = metrics.elidedText(name, Qt.ElideMiddle, self.MAX_NAME_PX)
            p.drawText(QRectF(-self.MAX_NAME_PX, -metrics.height() / 2, self.MAX_NAME_PX, metrics.height()),
                       int(Qt.AlignRight | Qt.AlignVCenter), text)
            p.restore()


class ConfusionMatrixView(pg.PlotWidget):
    """Rows: the label a clip really has; columns: the label the model chose. Counts in the cells,
    label names on both axes; with no run shown, a sentence instead of meaningless axes."""

    EMPTY_TEXT = "Train a model, or pick a run in Runs,\nto see which labels get mixed up."

    def __init__(self, parent=None) -> None:
        # A short title with the axes named: the long title's label alone asked for 382 px, so at
        # the Results tab's usual width the plot overflowed its widget and lost its last columns.
        self.columns = ColumnNamesAxis()
        super().__init__(parent, title="Confusion matrix", axisItems={"bottom": self.columns})
        self.setToolTip("Each row is the label a clip really has, each column the label the model chose.\n"
                        "Counts on the diagonal are right answers; anything else is a mix-up.")
        self.setLabel("left", "true label")
        self.setLabel("bottom", "label the model chose")
        self.getAxis("left").enableAutoSIPrefix(False)
        self.setAspectLocked(True)
        self.invertY(True)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.image = pg.ImageItem()
        white_to_blue = pg.ColorMap([0.0, 1.0], [(255, 255, 255), (33, 82, 178)])
        self.image.setLookupTable(white_to_blue.getLookupTable(0.0, 1.0, 256))
        self.addItem(self.image)
        self.placeholder = pg.TextItem(self.EMPTY_TEXT, anchor=(0.5, 0.5), color="#777")
        self.addItem(self.placeholder)
        self._texts: list[pg.TextItem] = []
        self.set_matrix([], [])

    def set_matrix(self, matrix: list[list[int]], labels: list[str]) -> None:
        for text in self._texts:
            self.removeItem(text)
        self._texts = []
        self.matrix = np.asarray(matrix, dtype=float)
        if self.matrix.size == 0:
            self._show_empty()
            return
        self.placeholder.hide()
        rows = self.matrix.sum(axis=1, keepdims=True)
        self.image.setImage((self.matrix / np.maximum(rows, 1)).T, levels=(0, 1))
        n = len(labels)
        for i, j in zip(*np.nonzero(self.matrix)):
            dark = self.matrix[i, j] / max(rows[i, 0], 1) > 0.5
            text = pg.TextItem(str(int(self.matrix[i, j])), anchor=(0.5, 0.5), color="w" if dark else "k")
            text.setPos(j + 0.5, i + 0.5)
            self.addItem(text)
            self._texts.append(text)
        self.getAxis("left").setTicks([[(k + 0.5, label) for k, label in enumerate(labels)]])
        self.getAxis("left").setWidth(max(60, 7 * max(len(label) for label in labels) + 24))
        self.columns.set_names(labels)
        self.setRange(xRange=(0, n), yRange=(0, n), padding=0.02)

    def _show_empty(self) -> None:
        self.image.clear()
        self.getAxis("left").setTicks([[]])
        self.getAxis("left").setWidth(None)
        self.columns.set_names([])
        self.placeholder.setPos(0.5, 0.5)
        self.placeholder.show()
        self.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
