""" "Did you mean": edit distance, the closest few, only allowed names."""

from __future__ import annotations

import pytest

from avp_py.check.suggest import MAX_SUGGESTIONS, closest, did_you_mean, distance


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("", "", 0), ("abc", "", 3), ("kitten", "sitting", 3), ("flaw", "lawn", 2), ("ab", "ba", 2)],
)
def test_distance(a: str, b: str, expected: int) -> None:
    assert distance(a, b) == expected == distance(b, a)


def test_closest_nearest_first_case_insensitive_and_allowed_only() -> None:
    names = ["db-password", "DB-PASSWORDS", "db-passw", "db-pass", "team-b-db-password", "x"]

    def allowed(name: str) -> bool:
        return not name.startswith("team-b-")

    # db-password is 1 edit away, DB-PASSWORDS 2 (case does not count), db-passw 4 (too far).
    assert closest("db-pasword", names, allowed) == ["db-password", "DB-PASSWORDS"]
    many = ["key-a", "key-b", "key-c", "key-d", "kez-e"]
    assert closest("key-x", many, allowed) == ["key-a", "key-b", "key-c"]
    assert len(closest("key-x", many, allowed)) == MAX_SUGGESTIONS
    # The same name in another case is not a suggestion: Key Vault would have found it.
    assert closest("DB-PASSWORD", ["db-password"], allowed) == []
    assert closest("team-b-db-pasword", names, allowed) == []  # only refused names are near
    assert closest("abc", ["xyz"], allowed) == []


def test_did_you_mean() -> None:
    assert did_you_mean([]) == ""
    assert did_you_mean(["a"]) == " (did you mean a?)"
    assert did_you_mean(["a", "b", "c"]) == " (did you mean a, b or c?)"
