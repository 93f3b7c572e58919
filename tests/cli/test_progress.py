"""The CLI's progress display: counts in, lines out, with a fake terminal flag and a fake clock (no sleeps)."""

import io

import pytest

from intentdesk.cli.progress import ProgressBar, duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def bar(terminal: bool):
    stream, clock = io.StringIO(), Clock()
    return ProgressBar(stream, terminal=terminal, clock=clock), stream, clock


def test_plain_lines_every_tenth_and_at_the_end_not_every_update():
    progress, stream, clock = bar(terminal=False)
    for done in range(0, 1001):
        progress.update("listening", done, 1000)
        clock.now += 0.001  # 1 s in all: the time rule never fires
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11  # 0 %, 10 %, ..., 90 %, done
    assert lines[0].startswith("listening: 0/1,000 (0 %)") and lines[-1].endswith("done")
    assert "listening: 100/1,000 (10 %)" in lines[1] and "\r" not in stream.getvalue()


def test_plain_line_every_ten_seconds_when_a_tenth_takes_longer():
    progress, stream, clock = bar(terminal=False)
    progress.update("transcribing", 0, 1000)
    for done in range(1, 40):
        clock.now += 1.0
        progress.update("transcribing", done, 1000)
    lines = stream.getvalue().splitlines()
    assert [line.split(":")[1].split("/")[0].strip() for line in lines] == ["0", "10", "20", "30"]
    # 10 clips in 10 s: 990 left at one a second
    assert lines[1].endswith("0:10 so far, about 16:30 left")


def test_the_callers_time_left_wins_over_the_rate():
    progress, stream, clock = bar(terminal=False)
    progress.update("training", 0, 10)
    clock.now += 5
    progress.update("training", 5, 10, eta_s=125.0, note="loss 0.5000")
    assert stream.getvalue().splitlines()[1] == "training: 5/10 (50 %), 0:05 so far, about 2:05 left; loss 0.5000"


def test_terminal_bar_redrawn_in_place_at_most_every_tenth_of_a_second():
    progress, stream, clock = bar(terminal=True)
    for done in range(0, 201):
        progress.update("listening", done, 200)
        clock.now += 0.01  # 2 s in all: about 20 redraws, not 200
    text = stream.getvalue()
    assert 15 <= text.count("\r") <= 25 and text.count("\n") == 1 and text.endswith("\n")
    last = text.split("\r")[-1]
    assert last.startswith("listening 100% |" + "█" * 24 + "| 200/200 [0:02<0:00]")


def test_terminal_bar_shows_elapsed_and_time_left():
    progress, stream, clock = bar(terminal=True)
    progress.update("classifying", 0, 40)
    clock.now += 30
    progress.update("classifying", 10, 40)
    drawn = stream.getvalue().split("\r")[-1]
    assert drawn == "classifying  25% |" + "█" * 6 + " " * 18 + "| 10/40 [0:30<1:30]\x1b[K"


def test_a_message_ends_an_open_bar_and_a_new_count_starts_afresh():
    progress, stream, clock = bar(terminal=True)
    progress.update("listening", 3, 10)
    progress.line("epoch 1: accuracy 0.5")
    clock.now += 60
    progress.update("training", 1, 4)
    lines = stream.getvalue().split("\n")
    assert lines[1] == "epoch 1: accuracy 0.5"
    assert lines[2].startswith("\rtraining  25%") and "[0:00<?]" in lines[2]  # its own clock, no rate yet


def test_a_count_that_starts_over_with_the_same_label_is_a_new_count():
    progress, stream, clock = bar(terminal=False)
    progress.update("training", 0, 10)
    progress.update("training", 10, 10)
    progress.update("training", 0, 10)  # learning from all clips: the same steps again
    assert len(stream.getvalue().splitlines()) == 3


def test_nothing_without_a_total_or_a_stream():
    progress, stream, _ = bar(terminal=False)
    progress.update("nothing", 0, 0)
    assert stream.getvalue() == ""
    ProgressBar(terminal=False).update("x", 1, 2)  # stderr: must not raise


@pytest.mark.parametrize(("seconds", "text"), [(None, "?"), (float("inf"), "?"), (7.4, "0:07"), (760, "12:40"),
                                                (3723, "1:02:03")])
def test_durations(seconds, text):
    assert duration(seconds) == text


def test_a_training_run_as_lines_off_a_terminal():
    from intentdesk.cli.progress import RunView
    from intentdesk.core.events import EpochEvent, Stage, StageEvent, StepEvent, TrainStarted

    progress, stream, clock = bar(terminal=False)
    view = RunView(progress)
    view(StageEvent("Loading the base model", 0.0, Stage.LOADING_MODEL))
    for done in range(0, 7128, 16):
        view(StageEvent(f"The base model listens to every clip: {done:,} of 7,128", 0.1, Stage.CACHING_FEATURES,
                        done, 7128, eta_s=(7128 - done) * 0.05 if done else None))
        clock.now += 0.8
    view(StageEvent("The base model has listened to every clip", 0.5, Stage.CACHING_FEATURES, 7128, 7128))
    view(TrainStarted(total_steps=300, epochs=30, train_clips=320, eval_clips=80, labels=["a", "b"], device="cpu",
                      mode="quick"))
    for step in range(1, 301):
        view(StepEvent(step, 300, step / 10, 0.5, 2e-4, step * 0.01, eta_s=(300 - step) * 0.01))
        clock.now += 0.01
    view(EpochEvent(30, 0.25, 0.9, 0.89, 0.3, True, 3.0))
    lines = stream.getvalue().splitlines()
    assert lines[:3] == ["[Loading the base model]", "[The base model listens to every clip: 0 of 7,128]",
                         "listening: 0/7,128 (0 %), 0:00 so far, about ? left"]
    listening = [line for line in lines if line.startswith("listening:")]
    assert 36 <= len(listening) <= 48  # 357 s: every 10 s and every tenth, never each of the 446 batches
    assert listening[-1] == "listening: 7,128/7,128 (100 %), 5:57 so far, done"
    assert "[The base model has listened to every clip]" in lines
    assert lines[lines.index("[The base model has listened to every clip]") + 1].startswith("training quick on cpu")
    steps = [line for line in lines if line.startswith("training:")]
    assert len(steps) == 11 and steps[0].endswith("about 0:03 left; loss 0.5000")  # 1 step done: 299 x 0.01 s
    assert lines[-1] == "epoch 30: eval loss 0.2500 accuracy 0.9000 macro-F1 0.8900 (best) [3s]"


def test_classify_in_chunks_moves_the_bar_and_keeps_every_result_in_order():
    from intentdesk.cli.models import CHUNK, classify_in_chunks

    class Classifier:
        calls: list[int] = []

        def classify_files(self, files, top_k=None, batch_size=1):
            self.calls.append(len(files))
            return [f"result {f}" for f in files]

    progress, stream, _ = bar(terminal=False)
    files = [f"clip{i}.wav" for i in range(2 * CHUNK + 6)]
    classifier = Classifier()
    assert classify_in_chunks(classifier, files, None, progress) == [f"result {f}" for f in files]
    assert classifier.calls == [CHUNK, CHUNK, 6]
    counts = [line.split(" ")[1] for line in stream.getvalue().splitlines()]
    assert counts == ["0/70", "32/70", "64/70", "70/70"]


def test_a_large_import_counts_its_files_and_a_small_one_says_nothing(tmp_path):
    from tests.helpers import TONES, run_cli, write_tone_folder

    per_label = -(-50 // len(TONES))  # at least 50 files: the import bar's threshold
    large = run_cli("import", write_tone_folder(tmp_path / "large", per_label=per_label), tmp_path / "a")
    total = per_label * len(TONES)
    assert f"importing: {total}/{total} (100 %)" in large.stderr and large.stderr.startswith("importing: 1/")
    small = run_cli("import", write_tone_folder(tmp_path / "small", per_label=2), tmp_path / "b")
    assert "importing" not in small.stderr


def test_the_store_reports_each_file_it_copied_also_the_skipped(tmp_path):
    from intentdesk.core.data.store import DatasetStore
    from tests.helpers import write_tone_folder

    files = sorted(write_tone_folder(tmp_path / "src", per_label=2).rglob("*.wav"))
    (tmp_path / "bad.wav").write_bytes(b"not audio")
    store = DatasetStore.create(tmp_path / "data")
    seen: list[tuple[int, int]] = []
    store.on_copied = lambda done, total: seen.append((done, total))
    report = store.add_files(iter([(f, "x", {}) for f in [*files, tmp_path / "bad.wav"]]))
    total = len(files) + 1
    assert seen == [(n, total) for n in range(1, total + 1)] and len(report.added) == len(files)


def test_messages_between_steps_do_not_restart_the_count():
    progress, stream, clock = bar(terminal=False)
    for step in range(1, 61):
        progress.update("training", step, 60)
        if step % 2 == 0:
            progress.line(f"epoch {step // 2}")
        clock.now += 0.01
    counted = [line for line in stream.getvalue().splitlines() if line.startswith("training:")]
    assert [line.split()[1] for line in counted] == [f"{n}/60" for n in (1, 6, 12, 18, 24, 30, 36, 42, 48, 54, 60)]


def test_a_terminal_bar_comes_back_under_a_message_at_once():
    progress, stream, clock = bar(terminal=True)
    progress.update("training", 1, 60)
    progress.line("epoch 1")
    progress.update("training", 2, 60)  # within the redraw interval, still drawn: the message ended its line
    assert stream.getvalue().split("\n")[1:3] == ["epoch 1", "\rtraining   3% |" + " " * 24 + "| 2/60 [0:00<?]\x1b[K"]


def test_a_phase_that_ends_in_its_own_words_is_not_said_twice():
    from intentdesk.cli.progress import RunView
    from intentdesk.core.events import Stage, StageEvent

    progress, stream, _ = bar(terminal=False)
    view = RunView(progress)
    for done in (0, 30, 60):
        view(StageEvent("Classifying", done / 60, Stage.EVALUATING, done, 60))
    assert stream.getvalue().count("[Classifying]") == 1


def test_news_within_a_phase_is_said_once():
    """What a phase reports in its own words (the transcripts a run wrote into the dataset, or why it could not)
    was lost: only a new phase or a finished count printed a line."""
    from intentdesk.cli.progress import RunView
    from intentdesk.core.events import Stage, StageEvent

    progress, stream, _ = bar(terminal=False)
    view = RunView(progress)
    view(StageEvent("Words: training", 0.9, Stage.TRAINING_WORDS, 3, 3))
    for _ in range(2):
        view(StageEvent("Words: wrote what was heard in 10 clips", 0.9, Stage.TRAINING_WORDS))
    assert stream.getvalue().count("[Words: wrote what was heard in 10 clips]") == 1


def test_a_terminal_that_cannot_show_the_block_gets_hashes():
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    progress = ProgressBar(stream, terminal=True, clock=Clock())
    progress.update("listening", 5, 10)
    stream.flush()
    assert "|############            | 5/10" in stream.buffer.getvalue().decode()
