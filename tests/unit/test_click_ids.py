"""Click ids carry the id of the link's partner as a hint; old ones carry none."""
import pytest

from chalicelib.domain.links import new_click_id, partner_hint


def test_a_new_click_id_names_the_partner_of_its_link():
    click_id = new_click_id("A" * 20, "P-HUGO")
    assert click_id == "c_" + "A" * 20 + "P-HUGO"
    assert partner_hint(click_id) == "P-HUGO"


def test_a_click_id_without_a_partner_part_gives_no_hint():
    assert partner_hint("c_" + "A" * 20) is None
    assert partner_hint("c_short") is None
    assert partner_hint("shop-made-id") is None
    assert partner_hint(None) is None


def test_a_click_token_must_have_its_fixed_length():
    with pytest.raises(ValueError):
        new_click_id("A" * 19, "P-HUGO")
