"""Self-invites and repeat customers, decided from hashes alone."""
import pytest

from chalicelib.domain.rewards import Identity, invite_refusal

ANN = Identity("M-ann", "c-ann", "e-ann", "p-ann", "card-ann")


@pytest.mark.parametrize("friend,code", [
    (Identity("M-ann", "c-ann"), "self_invite_member"),
    (Identity("M-x", "c-x", email_hash="e-ann"), "self_invite_email"),
    (Identity("M-x", "c-x", "e-x", phone_hash="p-ann"), "self_invite_phone"),
    (Identity("M-x", "c-x", "e-x", "p-x", payment_hash="card-ann"), "self_invite_payment"),
])
def test_a_friend_who_shares_the_inviters_identity_is_refused(friend, code):
    assert invite_refusal(friend, ANN, claimed_by_others=False).code == code


def test_a_friend_whose_details_belong_to_another_member_is_not_a_new_customer():
    assert invite_refusal(Identity("M-x", "c-x", "e-x"), ANN, claimed_by_others=True).code == "not_new_customer"


def test_a_genuinely_new_friend_passes_and_missing_details_never_match():
    assert invite_refusal(Identity("M-x", "c-x", "e-x"), Identity("M-ann", "c-ann", "e-ann"), False) is None
