"""The training ETA counts what is still ahead: steps, every evaluation pass, the final scoring and saving."""

import pytest

from intentdesk.core.events import Progress, Stage
from intentdesk.core.learning.eta import TrainingEta, save_seconds


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def simulate(eta: TrainingEta, clock: Clock, step_s: float, eval_s: float, prep_s: float = 0.0) -> list[tuple]:
    """Run `eta`'s stage on the fake clock as the epoch loop does; (epoch, step, now, estimate) per step."""
    seen = []
    for epoch in range(1, eta.epochs + 1):
        eta.begin_epoch()
        clock.now += prep_s  # the epoch's batches are made before its first step
        for step in range(1, eta.steps_per_epoch + 1):
            clock.now += step_s
            eta.step_done()
            seen.append((epoch, step, clock.now, eta.remaining()))
        eta.begin_eval()
        clock.now += eval_s
        eta.end_eval()
    return seen


def test_constant_step_and_eval_times_give_the_exact_remaining_time_from_the_second_epoch():
    clock = Clock()
    eta = TrainingEta(steps_per_epoch=5, epochs=4, eval_train_ratio=0.25, last_stage=True, save_s=1.5, clock=clock)
    seen = simulate(eta, clock, step_s=2.0, eval_s=3.0)
    end = clock.now + 3.0 + 1.5  # the final scoring is one more evaluation pass, then saving
    for epoch, _step, now, estimate in seen:
        if epoch >= 2:
            assert estimate == pytest.approx(end - now)
    # The step time alone (the old ETA) would say 0 s after the last step; 3 passes + saving are left.
    assert seen[-1][3] == pytest.approx(3.0 + 3.0 + 1.5)


def test_the_estimate_forgets_a_slow_start():
    clock = Clock()
    eta = TrainingEta(steps_per_epoch=4, epochs=3, eval_train_ratio=1.0, last_stage=True, save_s=0.0, clock=clock)
    for epoch, (step_s, eval_s) in enumerate([(3.0, 6.0), (1.0, 2.0)], 1):  # the first epoch warms up
        eta.begin_epoch()
        for _ in range(4):
            clock.now += step_s
            eta.step_done()
        if epoch == 1:
            eta.begin_eval()
            clock.now += eval_s
            eta.end_eval()
    assert eta.step_seconds() == pytest.approx(1.0)
    eta.begin_eval()
    clock.now += 2.0
    eta.end_eval()
    assert eta.remaining() == pytest.approx(4 * 1.0 + 2 * 2.0)  # epoch 3 and its pass, the scoring


def test_before_the_first_pass_is_timed_it_is_estimated_from_an_epoch_and_the_clip_ratio():
    clock = Clock()
    eta = TrainingEta(steps_per_epoch=5, epochs=2, eval_train_ratio=0.25, last_stage=True, save_s=0.0, clock=clock)
    eta.begin_epoch()
    clock.now += 2.0
    eta.step_done()
    assert eta.eval_seconds() == pytest.approx(2.0 * 5 * 0.25)
    assert eta.remaining() == pytest.approx(9 * 2.0 + 3 * 2.5)


def test_a_stage_that_is_not_the_last_leaves_out_the_scoring_and_saving():
    clock = Clock()
    eta = TrainingEta(steps_per_epoch=3, epochs=2, eval_train_ratio=1.0, last_stage=False, save_s=9.0, clock=clock)
    seen = simulate(eta, clock, step_s=1.0, eval_s=4.0)
    assert seen[-1][3] == pytest.approx(4.0)  # only the last epoch's own evaluation pass
    assert seen[3][3] == pytest.approx(2 * 1.0 + 4.0)  # epoch 2, step 1: two steps and one pass


def test_per_epoch_batch_preparation_counts_as_training_time():
    clock = Clock()
    eta = TrainingEta(steps_per_epoch=4, epochs=3, eval_train_ratio=0.5, last_stage=True, save_s=0.0, clock=clock)
    seen = simulate(eta, clock, step_s=1.0, eval_s=2.0, prep_s=2.0)
    end = clock.now + 2.0
    at_epoch_ends = [(now, estimate) for epoch, step, now, estimate in seen if step == 4 and epoch >= 2]
    for now, estimate in at_epoch_ends:  # whole epochs left: each costs its preparation too
        assert estimate == pytest.approx(end - now)


def test_a_pass_before_the_epochs_is_measured_but_not_counted_as_done():
    clock = Clock()
    eta = TrainingEta(steps_per_epoch=2, epochs=2, eval_train_ratio=1.0, last_stage=True, save_s=0.0, clock=clock)
    eta.begin_eval()  # full mode's stage 2 first scores the warm start
    clock.now += 5.0
    eta.end_eval(counts_as_epoch=False)
    eta.begin_epoch()
    clock.now += 1.0
    eta.step_done()
    assert eta.remaining() == pytest.approx(3 * 1.0 + 3 * 5.0)


def test_saving_is_estimated_from_the_weights_size():
    assert 0 < save_seconds(33_000_000) < save_seconds(380_000_000) < 5


def test_a_counted_phase_gets_an_eta_from_its_rate_after_its_slow_first_batch(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("intentdesk.core.events.time.monotonic", clock)
    events = []
    progress = Progress(events.append, {Stage.CACHING_FEATURES: 1, Stage.TRAINING: 1})
    for step, seconds in [(0, 0.0), (20, 30.0), (40, 10.0), (60, 10.0)]:  # the first 20 clips warm up
        clock.now += seconds
        progress.stage(Stage.CACHING_FEATURES, f"Computing backbone features {step}/100", step, 100)
    progress.stage(Stage.TRAINING, "Training")
    assert [e.eta_s for e in events] == [None, None, pytest.approx(30.0), pytest.approx(20.0), None]


def test_a_real_run_still_counts_time_after_its_last_step(tone_dataset, tiny_wav2vec2, tmp_path):
    """The wiring in the epoch loop. Timing accuracy is not asserted here: a tiny model's steps take
    milliseconds, which a loaded machine makes noise of (benchmarks/bench_eta.py measures it)."""
    from intentdesk.core.events import StepEvent, TrainFinished
    from intentdesk.core.learning.settings import TrainSettings
    from intentdesk.core.learning.trainer import train

    events = []
    settings = TrainSettings(base_model=str(tiny_wav2vec2), epochs=2, batch_size=4)
    train(tone_dataset.root, tmp_path / "model", settings, events.append)
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert isinstance(events[-1], TrainFinished) and steps[-1].step == steps[-1].total_steps
    assert all(e.eta_s >= 0 for e in steps)
    assert steps[-1].eta_s > 0  # two evaluation passes and saving are still ahead


def test_epochs_without_evaluation_passes_still_count_their_time():
    """Quick mode's final pass on all clips evaluates nothing: the time per step must stay right
    across epoch boundaries (it once went negative there)."""
    now = [0.0]
    eta = TrainingEta(steps_per_epoch=4, epochs=3, eval_train_ratio=0.0, last_stage=True, save_s=0.0,
                      clock=lambda: now[0])
    for _epoch in range(2):
        eta.begin_epoch()
        for _ in range(4):
            now[0] += 0.5
            eta.step_done()
    assert eta.remaining() == pytest.approx(4 * 0.5)


def test_a_training_repeated_afterwards_on_more_clips_is_counted():
    now = [0.0]
    eta = TrainingEta(steps_per_epoch=2, epochs=2, eval_train_ratio=0.0, last_stage=True, save_s=0.0,
                      clock=lambda: now[0], train_again=1.5)
    eta.begin_epoch()
    for _ in range(2):
        now[0] += 1.0
        eta.step_done()
    assert eta.remaining() == pytest.approx(2 * 1.0 + 4 * 1.5 * 1.0)


def plan(mode: str = "full", pooled: bool = True, rates=None):
    from intentdesk.core.learning.eta import RunPlan

    return RunPlan(mode, train_clips=900, eval_clips=220, variants=3, epochs=6, warm_start_epochs=30, pooled=pooled,
                   again=0.0, save_s=1.0, rates={} if rates is None else rates)


def test_the_whole_run_estimate_adds_what_follows_the_stage_from_the_feature_pass():
    """Full mode at 25 %: the warm start's own estimate was "13 s", then 7 more minutes came. The fine-tuning
    is estimated from the seconds per feature the feature pass measured (BENCHMARKS.md section 9)."""
    from intentdesk.core.learning.eta import FINE_TUNE_PER_FEATURE, POOLED_EPOCH_S_PER_FEATURE

    rates = {}
    full = plan(rates=rates)
    assert full.after(Stage.WARM_START) is None and full.after(Stage.CACHING_FEATURES) is None  # nothing timed yet
    rates[Stage.CACHING_FEATURES] = 0.03
    fine_tuning = 0.03 * (6 * 900 * FINE_TUNE_PER_FEATURE + 8 * 220) + 1.0  # 6 epochs, 8 test passes, saving
    assert full.after(Stage.WARM_START) == pytest.approx(fine_tuning)
    warm_start = POOLED_EPOCH_S_PER_FEATURE * 900 * 3 * 30
    assert full.after(Stage.CACHING_FEATURES) == pytest.approx(warm_start + fine_tuning)
    assert full.after(Stage.FINE_TUNING) == 0.0  # its own estimate runs to the saved model
    assert plan("quick").after(Stage.CACHING_FEATURES) == pytest.approx(POOLED_EPOCH_S_PER_FEATURE * 900 * 3 * 6 + 1)
    assert plan("quick", pooled=False).after(Stage.CACHING_FEATURES) is None  # top layers: not known before


def test_progress_sends_the_whole_run_estimate_once_it_has_a_rate(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("intentdesk.core.events.time.monotonic", clock)
    events = []
    progress = Progress(events.append, {Stage.CACHING_FEATURES: 1, Stage.FINE_TUNING: 1})
    progress.after = lambda kind: 100.0 if kind is Stage.CACHING_FEATURES else None
    for step in (0, 20, 40):
        progress.stage(Stage.CACHING_FEATURES, "reading", step, 100)
        clock.now += 10.0
    assert [e.run_eta_s for e in events] == [None, None, pytest.approx(30.0 + 100.0)]
    assert progress.item_seconds[Stage.CACHING_FEATURES] == pytest.approx(0.5)


def test_a_real_full_run_estimates_its_fine_tuning_during_the_warm_start(tone_dataset, tiny_wav2vec2, tmp_path):
    from intentdesk.core.events import StageEvent, StepEvent, TrainStarted
    from intentdesk.core.learning.settings import TrainSettings
    from intentdesk.core.learning.trainer import train

    events = []
    settings = TrainSettings(base_model=str(tiny_wav2vec2), mode="full", epochs=1, warm_start_epochs=2, batch_size=4)
    train(tone_dataset.root, tmp_path / "model", settings, events.append)
    reading = [e for e in events if isinstance(e, StageEvent) and e.kind is Stage.CACHING_FEATURES and e.eta_s]
    assert reading and all(e.run_eta_s > e.eta_s for e in reading)  # the fine-tuning after it is counted
    kind, warm = None, []
    for event in events:
        kind = event.kind if isinstance(event, TrainStarted) else kind
        if isinstance(event, StepEvent) and kind is Stage.WARM_START:
            warm.append(event)
    assert warm and all(e.run_eta_s > e.eta_s for e in warm)
    assert all(e.run_eta_s == e.eta_s for e in events if isinstance(e, StepEvent) and e.fraction > warm[-1].fraction)
