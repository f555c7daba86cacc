from chalicelib.domain.tree import Node, child_upline, compression_chain, rebase_upline, would_cycle

N = {x: Node(x) for x in "ABCDEFGHIJKLMNOP"}


def test_a_child_gets_its_sponsor_then_the_sponsors_upline_truncated_to_max_depth():
    assert child_upline(N["C"], (N["B"], N["A"]), 2) == (N["C"], N["B"])


def test_moving_keeps_the_path_inside_the_subtree_and_replaces_what_was_above():
    # D under C under B(moved) under A; B moves under X
    d_upline = (N["C"], N["B"], N["A"])
    assert rebase_upline(d_upline, 2, (N["X"] if "X" in N else Node("X"),), 10) == (N["C"], N["B"], Node("X"))


def test_a_move_under_oneself_or_ones_downline_is_a_cycle():
    assert would_cycle("B", "B", [])
    assert would_cycle("B", "D", ["C", "B", "A"])
    assert not would_cycle("B", "E", ["A"])


def test_compression_chain_skips_inactive_and_stops_at_plan_depth():
    chain = compression_chain(N["D"], (Node("C", "inactive"), N["B"], N["A"], N["E"]), 3)
    assert [n.partner_id for n in chain] == ["D", "B", "A"]
