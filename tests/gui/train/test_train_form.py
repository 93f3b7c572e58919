"""The Train form is generated from SETTING_SPECS: every setting, its bounds, help and group come from its spec."""

from dataclasses import fields

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from intentdesk.core.learning.settings import MODE_DEFAULTS, SETTING_SPECS, TrainSettings, default_of
from intentdesk.gui.train.form import HAND_LAID, MODE_TEXTS, SettingsForm


@pytest.fixture
def form(qtbot):
    widget = SettingsForm(["facebook/wav2vec2-base"])
    qtbot.addWidget(widget)
    return widget


def test_every_setting_has_a_field_with_the_specs_bounds_help_and_group(form):
    assert set(form.fields) | set(HAND_LAID) == {f.name for f in fields(TrainSettings)}
    for name in form.fields:
        spec, widget = SETTING_SPECS[name], form.field(name)
        assert widget.toolTip().startswith(spec.help), name
        assert form.advanced.isAncestorOf(widget) == spec.advanced, name
        if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            scale = 100 if spec.percent else 1  # a share shown as a percentage
            assert (widget.minimum(), widget.maximum()) == (scale * spec.minimum, scale * spec.maximum), name
            assert widget.suffix() == (" %" if spec.percent else spec.suffix)
        if isinstance(widget, QComboBox):
            assert tuple(widget.itemText(i) for i in range(widget.count())) == spec.choices
    # The disagreement of issue #13: the form allowed 1-30 s where validation allowed 0.5-30 s.
    assert form.field("max_seconds").minimum() == SETTING_SPECS["max_seconds"].minimum == 0.5


def test_defaults_round_trip_to_the_settings(form):
    settings = form.settings()
    for name in form.fields:
        expected = MODE_DEFAULTS["quick"][name] if SETTING_SPECS[name].mode_default else default_of(name)
        if name == "words":  # "on when its models are here": a form shows what that comes to (off, here)
            expected = TrainSettings().resolved().words
        assert getattr(settings, name) == pytest.approx(expected), name
    assert settings.mode == "quick" and settings.base_model == "facebook/wav2vec2-base"
    assert settings.resolved() == settings  # every value within the spec's bounds


def test_mode_change_takes_the_modes_defaults_and_says_so(form):
    form.set_mode("full")
    assert form.mode() == "full"
    for name, value in MODE_DEFAULTS["full"].items():
        assert form.fields[name].value() == pytest.approx(value)
        assert "full:" in form.field(name).toolTip() and "quick:" in form.field(name).toolTip()
    assert form.note.text() == "Set for Full: epochs 6, learning rate 0.00002, batch size 8."
    form.set_mode("quick")
    assert form.field("epochs").value() == MODE_DEFAULTS["quick"]["epochs"]


def test_plain_words_first_and_a_tooltip_on_every_setting(form):
    for button in form.mode_buttons.values():
        assert "backbone" not in button.text() and button.toolTip()
    assert set(form.mode_buttons) == set(MODE_TEXTS)
    for name in form.fields:
        assert form.field(name).toolTip(), name
    jargon = {"eval_share": "Eval share", "warmup_ratio": "Warmup share", "label_smoothing": "Label smoothing"}
    for name, term in jargon.items():
        assert not SETTING_SPECS[name].label.startswith(term), f"{term}: plain words first"
    assert form.advanced.title() == "Advanced settings"
    assert "defaults suit most datasets" in form.advanced.findChildren(type(form.dataset_label))[0].text()


def test_values_typed_in_the_form_reach_the_settings(form):
    form.advanced.setChecked(True)
    form.field("max_seconds").setValue(2.5)
    form.field("seed").setValue(7)
    form.field("device").setCurrentText("cpu")
    checkbox = form.field("bf16")
    assert isinstance(checkbox, QCheckBox)
    checkbox.setChecked(False)
    form.field("speed_perturbation").setText("0.8, 1.2")
    settings = form.settings()
    assert (settings.max_seconds, settings.seed, settings.device, settings.bf16) == (2.5, 7, "cpu", False)
    assert settings.speed_perturbation == (0.8, 1.2)


def test_unusable_speed_variants_are_named(form):
    form.field("speed_perturbation").setText("fast")
    assert form.problems() == ["Slower and faster copies: write numbers separated by commas, e.g. 0.9, 1.1"]
    form.field("speed_perturbation").setText("0, 1.1")
    assert "above 0" in form.problems()[0]
    form.field("speed_perturbation").setText("")
    assert form.problems() == [] and form.settings().speed_perturbation == ()
