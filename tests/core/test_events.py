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
