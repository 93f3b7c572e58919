"""What a clip cut to the model's window says (`core.inference.clips`)."""

import numpy as np

from intentdesk.core.audio.io import AudioLimits
from intentdesk.core.inference.clips import ClipReader, cut_note


def test_the_note_shows_the_figures_apart():
    """A newcomer read "only the first 4.0 s of 4.0 s were used" as if the whole clip had been used."""
    assert cut_note(4.0, 9.5) == "only the first 4.0 s of 9.5 s were used"
    assert cut_note(4.0, 4.04) == "only the first 4.00 s of 4.04 s were used"
    assert cut_note(6.0) == "only the first 6.0 s were used"


def test_a_millisecond_over_the_window_is_cut_without_a_note():
    reader = ClipReader(16000, 4.0, AudioLimits())
    wave, note = reader.fit(np.zeros(64000 + 10, np.float32))
    assert len(wave) == 64000 and note is None
    wave, note = reader.fit(np.zeros(64640, np.float32))
    assert len(wave) == 64000 and note == "only the first 4.00 s of 4.04 s were used"
