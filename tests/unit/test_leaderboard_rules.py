"""Leaderboard rules: masking (Chinese names, combining marks), opt-out, deterministic ties, team
totals and recruits."""
from __future__ import annotations

import random

import pytest

from chalicelib.domain import leaderboards as lb
from chalicelib.domain.errors import InvalidInput


@pytest.mark.parametrize("name, shown", [
    ("王小明", "王*"), ("王", "王*"), ("欧阳娜娜", "欧*"), ("Alice", "A*"), ("  bob ", "b*"),
    ("E\u0301mile", "\u00c9*"),  # a letter and its combining accent stay one character (NFC)
    ("\u0915\u093f\u0930\u0923", "\u0915\u093f*"),  # Devanagari: the vowel sign belongs to the first letter
    ("𠀀abc", "𠀀*"),  # outside the Basic Multilingual Plane: one character, not half of one
    ("", "*"), ("   ", "*"),
])
def test_a_name_shows_its_first_character_and_a_mask(name, shown):
    assert lb.mask(name) == shown


def test_the_mask_hides_everything_but_the_first_character():
    for name in ("王小明", "Alexandra", "José María"):
        shown = lb.mask(name)
        assert shown.endswith("*") and name[1:].strip() not in shown


def test_whoever_opted_out_is_left_out_and_the_rest_rank_without_it():
    rows = lb.ranked([lb.Candidate("P-A", "A", 500), lb.Candidate("P-B", "B", 900, opted_out=True),
                      lb.Candidate("P-C", "C", 300)])
    assert [(r.rank, r.subject_id) for r in rows] == [(1, "P-A"), (2, "P-C")]


def test_nothing_earned_is_not_on_the_board():
    assert lb.ranked([lb.Candidate("P-A", "A", 0), lb.Candidate("P-B", "B", -100)]) == []


def test_ties_go_to_who_reached_the_amount_first_then_to_the_id_whatever_the_input_order():
    candidates = [
        lb.Candidate("P-B", "B", 5, "2026-08-03T00:00:00.000000Z"),
        lb.Candidate("P-A", "A", 5, "2026-08-04T00:00:00.000000Z"),
        lb.Candidate("P-D", "D", 5),  # no time known: after those with one
        lb.Candidate("P-C", "C", 5),
        lb.Candidate("P-E", "E", 7, "2026-08-09T00:00:00.000000Z"),
    ]
    want = ["P-E", "P-B", "P-A", "P-C", "P-D"]
    rng = random.Random(16)
    for _ in range(20):
        rng.shuffle(candidates)
        rows = lb.ranked(candidates)
        assert [r.subject_id for r in rows] == want and [r.rank for r in rows] == [1, 2, 3, 4, 5]


def test_team_sales_are_own_sales_plus_everyone_below_per_currency():
    personal = {"A": {"USD": 100}, "B": {"USD": 50, "CNY": 7}, "C": {"USD": 20}}
    uplines = {"B": ("A",), "C": ("B", "A"), "A": ()}
    assert lb.team_totals(personal, uplines) == {
        "A": {"USD": 170, "CNY": 7}, "B": {"USD": 70, "CNY": 7}, "C": {"USD": 20}}


def test_recruits_count_enrolments_in_the_period_under_their_sponsor_and_when_the_last_came():
    enrolments = [("B", "A", "2026-08-02T00:00:00Z"), ("C", "A", "2026-08-05T00:00:00Z"),
                  ("D", "B", "2026-07-31T23:59:59Z"), ("E", "B", "2026-09-01T00:00:00Z"), ("A", None, "2026-01-01")]
    assert lb.recruits(enrolments, "2026-08-01T00:00:00Z", "2026-09-01T00:00:00Z") == {
        "A": (2, "2026-08-05T00:00:00Z")}


def test_an_unknown_board_is_refused():
    with pytest.raises(InvalidInput):
        lb.check_board("partner_clicks")
    with pytest.raises(InvalidInput):
        lb.check_board(lb.MEMBER_INVITES, lb.PARTNER_BOARDS)
