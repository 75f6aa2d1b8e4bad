"""The PIN pad and the picture grid: whatever is tapped or posted, the count stays honest.

The expected outcome is worked out here from the rules a child sees: only the pad's own keys
count (ASCII digits, or the grid's pictures), "wis" takes the last one back, and a full entry
is checked at once, right or wrong.
"""

from __future__ import annotations

from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from schools.models import LoginMethod, Pupil
from schools.pictures import Picture
from tests.fuzz import strategies as fuzzed
from tests.fuzz.support import (
    changed_counts,
    logged_in,
    no_server_error,
    row,
    row_counts,
    with_fixtures,
)

ASCII_DIGITS = "0123456789"


def expected_entry(pupil: Pupil, length: int, entered: str, key: str) -> list[str]:
    if pupil.login_method == LoginMethod.PIN:
        so_far, allowed = [ch for ch in entered if ch in ASCII_DIGITS], set(ASCII_DIGITS)
    else:
        so_far = [p for p in entered.split(",") if p in Picture.values]
        allowed = set(Picture.values)
    so_far = so_far[:length]
    if key == "wis":
        return so_far[:-1]
    if key in allowed:
        return [*so_far, key][:length]
    return so_far


def taps(keys):
    """Posts of (entered so far, key): what the pad sends, or anything else."""
    entered = st.one_of(
        st.text(alphabet=ASCII_DIGITS, min_size=3, max_size=3),
        st.text(alphabet=keys, max_size=6),
        fuzzed.pins(),
        fuzzed.text(),
    )
    key = st.one_of(st.sampled_from(["wis", *keys]), fuzzed.pins(), fuzzed.text(4))
    return st.lists(st.tuples(entered, key), min_size=1, max_size=5)


def play(fuzz, cast, pupil, length, secret, posts, *, with_key=True):
    """Post each tap; check the answer and the pupil's row against the expected outcome."""
    with fuzz.example():
        client = logged_in(cast.parent_a)
        url = reverse("child-login", args=[pupil.code])
        failures = 0
        for entered, key in posts:
            before = row_counts()
            data = {"entered": entered, "key": key} if with_key else {"entered": entered}
            response = client.post(url, data)
            no_server_error(response)
            entry = expected_entry(pupil, length, entered, key if with_key else "")
            after = row(pupil)
            assert changed_counts(before) == {}
            if len(entry) < length:
                fuzz.note("partial")
                assert response.status_code == 200
                assert response.context["entered"] == entry
                assert after["failed_attempts"] == failures
                continue
            assert response.status_code == 302
            if entry == secret:
                fuzz.note("accepted")
                assert response["Location"] == reverse("software")
                assert after["failed_attempts"] == 0
                return
            fuzz.note("refused")
            failures += 1
            assert response["Location"] == url
            assert after["failed_attempts"] == failures
            assert after["locked_at"] is None


@with_fixtures
@example(posts=[("246", "8")])
@example(posts=[("٢٤٦", "8"), ("246", "٨"), ("246", "9"), ("2468", "wis")])
@example(posts=[("24", "6"), ("246", "wis"), ("24", "6"), ("246", "8")])
@given(posts=taps(ASCII_DIGITS + "١٢٣٤٢٤٦٨"))
def test_pin_pad(cast, fuzz, posts):
    play(fuzz, cast, cast.emma, 4, list("2468"), posts)


@with_fixtures
@given(
    posts=st.lists(
        st.tuples(st.one_of(st.just("2468"), fuzzed.pins(), fuzzed.text()), st.just("")),
        min_size=1,
        max_size=3,
    )
)
def test_pin_pad_without_a_key(cast, fuzz, posts):
    """A whole PIN posted at once in ``entered`` (a page with script does that)."""
    play(fuzz, cast, cast.emma, 4, list("2468"), posts, with_key=False)


def picture_entries():
    return st.one_of(
        st.lists(fuzzed.picture_names(), max_size=4).map(",".join),
        fuzzed.text(),
    )


@with_fixtures
@given(
    posts=st.lists(
        st.tuples(picture_entries(), st.one_of(st.just("wis"), fuzzed.picture_names())),
        min_size=1,
        max_size=5,
    )
)
def test_picture_grid(cast, fuzz, posts):
    Pupil.objects.filter(pk=cast.daan.pk).update(home_login_enabled=True)
    play(fuzz, cast, cast.daan, 2, ["kat", "zon"], posts)
