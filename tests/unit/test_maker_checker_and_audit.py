"""The one maker-checker rule, and what an audit record says a request did."""
import pytest

from chalicelib.domain.audit import CHANGED, NO_CHANGE, READ, outcome
from chalicelib.domain.errors import Forbidden
from chalicelib.domain.actors import same_person
from chalicelib.domain.maker_checker import require_checker


@pytest.mark.parametrize("a,b", [("bob", "Bob"), (" bob ", "BOB"), ("finance-2", "Finance-2\t")])
def test_identities_that_differ_only_in_case_or_surrounding_space_are_one_person(a, b):
    assert same_person(a, b)


@pytest.mark.parametrize("a,b", [("bob", "rob"), ("bob", None), (None, None), ("", ""), ("bo b", "bob")])
def test_different_or_missing_identities_are_not_one_person(a, b):
    assert not same_person(a, b)


def test_a_checker_among_the_makers_is_refused_whatever_the_case():
    with pytest.raises(Forbidden) as refused:
        require_checker("Alice ", ["system:schedule", None, "alice"], "a second person checks this")
    assert refused.value.code == "maker_checker"
    require_checker("carol", ["alice", "bob", None], "a second person checks this")


def test_the_refusal_reads_as_the_plain_sentence_given_without_the_rule_name_repeated():
    sentence = "You prepared this batch; a second finance user must approve it."
    with pytest.raises(Forbidden) as refused:
        require_checker("bob", ["bob"], sentence)
    assert (refused.value.code, refused.value.message) == ("maker_checker", sentence)


def test_a_request_is_recorded_as_changed_no_change_or_read():
    assert outcome("payout.failed", {"status": "reported"}, {"status": "confirmed"}) == CHANGED
    assert outcome("payout.failed", {"status": "confirmed", "n": 1}, {"n": 1, "status": "confirmed"}) == NO_CHANGE
    assert outcome("partner.enrol", None, {"partner_id": "P-A"}) == CHANGED
    assert outcome("export.download", None, {"sha256": "x"}) == READ
