"""Which existing label a typed name stands for, and which ones it only looks like."""

import pytest

from intentdesk.core.data.label_names import same_label, similar_labels

EXISTING = ["balance", "freeze", "pay bill", "card_lost", "no"]


@pytest.mark.parametrize(("typed", "meant"), [("Balance ", "balance"), ("  PAY   bill", "pay bill"),
                                               ("refund ", "refund"), ("new  one", "new one")])
def test_spaces_and_letter_case_never_make_a_new_label(typed, meant):
    assert same_label(typed, EXISTING) == meant


@pytest.mark.parametrize(("typed", "similar"), [("balances", ["balance"]), ("balnce", ["balance"]),
                                                ("blaance", ["balance"]), ("freze", ["freeze"]),
                                                ("card_list", ["card_lost"]), ("refund", []), ("on", []),
                                                ("pay bills", ["pay bill"]), ("balance", [])])
def test_typos_and_plurals_of_a_label_are_similar(typed, similar):
    assert similar_labels(typed, EXISTING) == similar
