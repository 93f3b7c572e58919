"""Help > Getting started: the four steps (record, label, train, classify) and the keys, on one page."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

GETTING_STARTED = """
<h2>Getting started</h2>
<ol>
<li><b>Make a dataset.</b> <i>File &gt; New dataset…</i>: give it a name and a place.
    (<i>Open dataset…</i> opens one you made before.)</li>
<li><b>Record and label</b> on the <b>Label</b> tab. Press <b>Space</b> to record and Space again to
    stop; silence at both ends is cut off. Type the label (what the speaker wants, e.g. <i>balance</i>)
    or press <b>1</b>–<b>9</b> to pick one you already have, then press <b>Enter</b> to save.
    Record at least five clips per label, from several voices if you can.
    You can also drop audio files or folders on the tab (folders named after labels keep their labels),
    or use <i>File &gt; Import audio files…</i> (one intent for the files you pick) or <i>Import…</i>
    (a folder of label folders, another dataset, a hub dataset).
    Under <i>Example phrases</i>, type how people say each intent: the model also learns from those
    words, and an intent can even start with typed phrases and no recording.</li>
<li><b>Train</b> on the <b>Train</b> tab: choose a base model and press <i>Start training</i>.
    <i>Quick</i> takes seconds to minutes; the curves show how it learns, and Cancel keeps the best
    model so far. Tick <i>Also learn from the words</i> to have it understand what is said, not only how
    it sounds (it needs the speech recogniser and text encoder: <i>Models…</i> says whether they are here).
    What stops a run, or may make it go badly, is written just above <i>Start training</i>.</li>
<li><b>Classify</b> on the <b>Classify</b> tab: drop audio files, record, or switch on live mode,
    and read the ranked intents. A clip is marked <i>uncertain</i> when its best score is under the
    <i>uncertain below</i> number, or when the model finds it unlike every intent it learned.</li>
</ol>
<h3>Models, and working without internet</h3>
<p>The base model, speech recogniser and text encoder are downloaded the first time they are used. On a
computer without internet, choose folders that hold them instead: <i>File &gt; Models…</i>, then
<i>Choose folder…</i> (or <i>Folder…</i> beside the base model on the Train tab). Each model you train is
listed under <i>Runs</i> on the Train tab: <i>Use in Classify</i> classifies with it, and Classify keeps
the model it used, also after a restart.</p>
<h3>Transcripts</h3>
<p>Training with the words writes what the recogniser heard into the <i>Transcript</i> column of the Label
tab (<i>Transcribe clips</i> does it without training). Double-click a transcript to correct it: the next
run learns from your correction, and the recogniser never overwrites it.</p>
<h3>Keys on the Label tab</h3>
<table cellpadding="3">
<tr><td><b>Space</b></td><td>record / stop</td></tr>
<tr><td><b>1</b>–<b>9</b></td><td>pick a label (the numbers are shown next to the labels and do not change,
    also after a restart: the dataset keeps them)</td></tr>
<tr><td><b>Enter</b></td><td>save the take with its label</td></tr>
<tr><td><b>Del</b></td><td>delete the selected clips</td></tr>
<tr><td><b>Ctrl+Z</b></td><td>undo the last delete or relabel</td></tr>
</table>
"""


class GettingStarted(QDialog):
    """A non-modal page, so it can stay open beside the window while the user follows it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Getting started with IntentDesk")
        self.resize(560, 560)
        self.page = QTextBrowser()
        self.page.setHtml(GETTING_STARTED)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.page)
        layout.addWidget(buttons)
