"""Reward program versions on the twin: numbered in turn, never edited, and a publish that loses a
race is numbered after the winner."""
from chalicelib.domain.rewards import Reward
from chalicelib.services import members as svc


def test_versions_are_numbered_in_turn_and_the_one_in_force_is_the_latest(shop):
    assert shop.publish().version == 1
    assert shop.publish(friend_reward=Reward("points", 100)).version == 2
    assert [p.version for p in svc.program_versions(shop.uow).items] == [1, 2]
    shop.register("ann")
    shop.register("bob", invite_from="ann")
    assert shop.rewards("bob")["balances"]["points"] == 100


def test_a_publish_that_loses_a_race_is_numbered_after_the_winner(shop):
    shop.publish()
    shop.meanwhile(lambda rival: rival.publish(min_order_minor=1))
    mine = shop.publish(min_order_minor=2)
    assert mine.version == 3
    assert [(p.version, p.min_order_minor) for p in svc.program_versions(shop.uow).items] == [(1, 2000), (2, 1), (3, 2)]
