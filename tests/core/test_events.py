"""Progress: one fraction of the whole job that only moves forward, phase by phase."""

from intentdesk.core.events import Progress, Stage, StageEvent


def test_fraction_covers_the_whole_job_and_never_goes_back():
    events = []
    progress = Progress(events.append, {Stage.LOADING_AUDIO: 1, Stage.CACHING_FEATURES: 1, Stage.TRAINING: 2})
    progress.stage(Stage.LOADING_AUDIO, "Loading audio")
    progress.stage(Stage.CACHING_FEATURES, "Computing 5/10", 5, 10)
    assert progress.fraction(Stage.TRAINING, 0.5) == 0.75
    progress.stage(Stage.LOADING_AUDIO, "late")  # an earlier phase cannot move the bar back
    progress.stage(Stage.EVALUATING, "not planned")  # nor can an unplanned one
    assert [e.fraction for e in events] == [0.0, 0.375, 0.75, 0.75]
    assert events[1] == StageEvent("Computing 5/10", 0.375, Stage.CACHING_FEATURES, 5, 10)
    assert progress.sent_any and progress.fraction(Stage.TRAINING, 1.0) == 1.0


def test_a_phase_with_nothing_to_do_is_done():
    progress = Progress(lambda _e: None, {Stage.CACHING_FEATURES: 1, Stage.TRAINING: 1})
    progress.stage(Stage.CACHING_FEATURES, "Backbone features ready", 0, 0)
    assert progress.fraction(Stage.CACHING_FEATURES) == 0.5


def test_once_the_time_left_is_known_the_fraction_follows_the_time_spent(monkeypatch):
    """A first Quick run spends most of its time listening, which the phases' weights give a quarter of
    the bar: with the whole run's estimate the bar shows the share of time spent, never going back."""
    now = [0.0]
    monkeypatch.setattr("intentdesk.core.events.time.monotonic", lambda: now[0])
    events = []
    progress = Progress(events.append, {Stage.CACHING_FEATURES: 1, Stage.TRAINING: 3})
    progress.after = lambda kind: 10.0 if kind is Stage.CACHING_FEATURES else None
    for step in (0, 10, 20, 90):  # one second a clip once counting has started
        now[0] = float(step)
        progress.stage(Stage.CACHING_FEATURES, "listening", step, 100)
    assert events[-1].run_eta_s == 20.0  # 10 clips left and 10 s after the stage
    assert events[-1].fraction == 90 / 110  # by weights it would be 0.225
    assert events[1].fraction == 0.025  # no estimate yet: the weights
    progress.stage(Stage.TRAINING, "learning", 0, 10)
    assert events[-1].fraction == 90 / 110  # the next phase's start is behind: the bar waits
    assert progress.fraction(Stage.TRAINING, 1.0) == 1.0


def test_the_time_spent_fills_the_bar_only_up_to_a_phase_the_estimate_leaves_out(monkeypatch):
    """The whole run's estimate leaves the words part out until it starts: with 1 s of 100 left the bar
    stops where the words part begins (it read 99 % with the words part still to come), and goes on
    from there once it runs."""
    now = [0.0]
    monkeypatch.setattr("intentdesk.core.events.time.monotonic", lambda: now[0])
    events = []
    progress = Progress(events.append, {Stage.CACHING_FEATURES: 1, Stage.TRAINING: 1, Stage.TRANSCRIBING: 2},
                        untimed=[Stage.TRANSCRIBING, Stage.SAVING])  # a phase the run does not have is ignored
    progress.after = lambda kind: 1.0 if kind is Stage.CACHING_FEATURES else 0.0
    for step in (0, 10, 20, 99):
        now[0] = float(step)
        progress.stage(Stage.CACHING_FEATURES, "listening", step, 100)
    assert events[-1].run_eta_s == 2.0
    assert events[-1].fraction == 99 / 101 * 0.5  # the time share, over the half of the bar before the words
    progress.stage(Stage.TRANSCRIBING, "transcribing", 0, 10)
    assert events[-1].fraction == 0.5
    for step in (1, 2, 9):
        now[0] = 100.0 + step
        progress.stage(Stage.TRANSCRIBING, "transcribing", step, 10)
    assert events[-1].fraction == 109 / 110  # 1 s left of this phase, nothing after it: the whole bar is timed
