"""Who is the same person: one rule, used by every maker-checker check."""
import pytest

from chalicelib.domain import actors
from chalicelib.domain.errors import InvalidInput


def test_a_name_in_another_case_or_with_surrounding_spaces_is_the_same_person():
    for other in ("alice", "ALICE", " Alice ", "\tAlice\n", "Ａｌｉｃｅ", "aLiCe"):
        assert actors.same_person("Alice", other), other
    assert actors.same_person("Mary  Ann", "mary ann")


def test_different_names_and_missing_names_are_never_the_same_person():
    assert not actors.same_person("alice", "alicia")
    assert not actors.same_person("alice", None) and not actors.same_person(None, None)
    assert not actors.same_person("", "") and not actors.same_person("  ", " ")


def test_among_finds_a_person_in_any_spelling():
    assert actors.among(" BOB", ["alice", None, "bob"])
    assert not actors.among("carol", ["alice", "bob"])


@pytest.mark.parametrize("name", ["", "   ", None, "system:schedule", " SYSTEM:demo"])
def test_a_person_must_be_named_and_may_not_take_a_system_name(name):
    with pytest.raises(InvalidInput):
        actors.person(name)
    assert actors.person("  fin-1 ") == "fin-1"
