"""A child's PIN or pictures: friendly retries, a growing wait, then a lock for the teacher."""

from __future__ import annotations

from datetime import timedelta

import pytest

from schools.models import CHILD_FIRST_WAIT, ChildLogin, Pupil

pytestmark = pytest.mark.django_db


def fresh(pupil: Pupil) -> Pupil:
    return Pupil.objects.get(pk=pupil.pk)


def test_it_lets_the_right_pin_in_and_resets_the_count(cast):
    for _ in range(3):
        assert cast.emma.try_to_log_in("1111").outcome == ChildLogin.WRONG
    assert fresh(cast.emma).failed_attempts == 3
    assert cast.emma.try_to_log_in("2468").ok
    assert fresh(cast.emma).failed_attempts == 0


def test_it_checks_a_picture_sequence(cast):
    assert cast.daan.try_to_log_in(["zon", "kat"]).outcome == ChildLogin.WRONG
    assert cast.daan.try_to_log_in(["kat", "zon"]).ok


def test_it_makes_the_child_wait_longer_after_five_failures(cast, time_machine):
    time_machine.move_to("2026-11-28 16:00 +01:00", tick=False)
    for _ in range(4):
        assert cast.emma.try_to_log_in("0000") == ChildLogin(ChildLogin.WRONG)
    fifth = cast.emma.try_to_log_in("0000")
    assert fifth == ChildLogin(ChildLogin.WRONG, CHILD_FIRST_WAIT)
    # During the wait not even the right PIN is checked.
    assert cast.emma.try_to_log_in("2468") == ChildLogin(ChildLogin.WAIT, CHILD_FIRST_WAIT)
    assert fresh(cast.emma).failed_attempts == 5
    time_machine.shift(CHILD_FIRST_WAIT)
    assert cast.emma.try_to_log_in("0000") == ChildLogin(ChildLogin.WRONG, 2 * CHILD_FIRST_WAIT)
    time_machine.shift(2 * CHILD_FIRST_WAIT)
    assert cast.emma.try_to_log_in("2468").ok


def test_it_locks_after_ten_failures_until_a_teacher_unlocks(cast, time_machine):
    time_machine.move_to("2026-11-28 16:00 +01:00", tick=False)
    outcomes = []
    for _ in range(10):
        outcomes.append(cast.emma.try_to_log_in("0000").outcome)
        time_machine.shift(timedelta(hours=1))
    assert outcomes[-1] == ChildLogin.LOCKED
    assert outcomes[:-1] == [ChildLogin.WRONG] * 9
    emma = fresh(cast.emma)
    assert emma.is_locked and emma.failed_attempts == 10
    time_machine.shift(timedelta(days=2))
    assert cast.emma.try_to_log_in("2468").outcome == ChildLogin.LOCKED
    emma.unlock()
    assert cast.emma.try_to_log_in("2468").ok


def test_it_counts_per_pupil_not_per_family(cast):
    for _ in range(5):
        cast.emma.try_to_log_in("0000")
    assert cast.daan.try_to_log_in(["kat", "zon"]).ok
    assert fresh(cast.daan).failed_attempts == 0
