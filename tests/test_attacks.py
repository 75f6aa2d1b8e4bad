"""Attacks on the portal's doors, written as tests that report what they measured.

Each test plays one attack through the real views with the test client and asserts a limit
that the code documents. The figures (tries, hashes evaluated) are printed (``pytest -s``)
and are in the assertion messages.

Hashes are counted on the hashers themselves (the suite's fast MD5 stand-ins, see
tests/conftest.py): every ``verify`` and every ``encode`` outside a ``verify`` (Django hashes
a typed password once for an unknown address or an account without a password, so that
timing tells nothing) is one evaluation. With the real settings each is an Argon2 run.
"""

from __future__ import annotations

import itertools
import os
import re
import runpy
import secrets
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import MD5PasswordHasher, get_hashers
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import reverse
from post_office.models import Email

from accounts import throttle
from accounts.invitations import MAX_REQUESTS_PER_HOUR
from accounts.models import LoginThrottle, PasswordLink, PasswordRequest, User
from accounts.parents import set_parent_emails
from basispoort.lib.hashers import CHILD_SECRET_ALGORITHM
from schools.models import (
    CHILD_FIRST_WAIT,
    CHILD_FREE_FAILURES,
    CHILD_LOCK_AFTER,
    Pupil,
    StaffMembership,
    StaffRole,
)
from schools.pictures import Picture
from tests.conftest import PASSWORD, make_user
from tests.helpers import fresh, html, link_works, log_in, says_link_is_dead

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 9, 19, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
#: The attack scripts try once a second: fast for a person, and the clock can jump the waits.
STEP = timedelta(seconds=1)
ATTEMPTS = 10_000
FORM = "application/x-www-form-urlencoded"
CHILD = "child secret"
PARENT = "password"


def report(line: str) -> str:
    print(f"\n[attack] {line}")
    return line


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def hashes(monkeypatch) -> Counter:
    """Hash evaluations by kind (CHILD or PARENT) from the moment the test clears it."""
    assert all(isinstance(hasher, MD5PasswordHasher) for hasher in get_hashers()), (
        "every configured hasher must be counted"
    )
    counted: Counter = Counter()
    inside_verify = []
    real_verify, real_encode = MD5PasswordHasher.verify, MD5PasswordHasher.encode

    def kind(hasher) -> str:
        return CHILD if hasher.algorithm == CHILD_SECRET_ALGORITHM else PARENT

    def verify(self, password, encoded):
        counted[kind(self)] += 1
        inside_verify.append(True)
        try:
            return real_verify(self, password, encoded)
        finally:
            inside_verify.pop()

    def encode(self, password, salt):
        if not inside_verify:
            counted[kind(self)] += 1
        return real_encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "verify", verify)
    monkeypatch.setattr(MD5PasswordHasher, "encode", encode)
    return counted


def browser(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)  # no hash: only the attack's own hashes are counted
    return client


def logged_in_as(client) -> str | None:
    """The account id the server holds for this browser's session (without making one)."""
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    stored = cookie and Session.objects.filter(session_key=cookie.value).first()
    return stored.get_decoded().get(SESSION_KEY) if stored else None


def form_post(client, url: str, data: dict, **extra):
    """A form posted the way a browser does it (urlencoded), not the test client's multipart."""
    return client.post(url, urlencode(data), content_type=FORM, **extra)


def from_ip(number: int) -> dict[str, str]:
    """A different client address for every try, and a forwarded-for header that lies too."""
    return {
        "REMOTE_ADDR": f"10.{number >> 16 & 255}.{number >> 8 & 255}.{number & 255}",
        "HTTP_X_FORWARDED_FOR": f"198.18.{number >> 8 & 255}.{number & 255}",
    }


# --- 1. guessing a child's PIN or pictures ------------------------------------------------
#
# schools/models.py: CHILD_FREE_FAILURES wrong tries in a row are free, then a wait of
# CHILD_FIRST_WAIT doubling with every failure, and at CHILD_LOCK_AFTER failures a lock only
# a teacher lifts; during a wait or a lock the secret is not checked at all.
#
# A script trying once a second (try n at n - 1 seconds) is checked at tries 1-5, then after
# the waits of 10, 20, 40, 80 and 160 seconds: tries 15, 35, 75, 155 and 315. The tenth
# failure locks. So at most CHILD_LOCK_AFTER = 10 hashes, whatever the number of tries.
CHILD_TRIES_CHECKED = [1, 2, 3, 4, 5, 15, 35, 75, 155, 315]


def test_the_figures_below_are_the_documented_child_limits():
    assert (
        5,
        timedelta(seconds=10),
        10,
    ) == (CHILD_FREE_FAILURES, CHILD_FIRST_WAIT, CHILD_LOCK_AFTER), (
        "the schedules in this file assume these limits: recompute them"
    )
    assert len(CHILD_TRIES_CHECKED) == CHILD_LOCK_AFTER


def guess_child_secret(cast, frozen, hashes, pupil, entries) -> dict:
    """Post every entry as a finished pad (the last key completes it), one a second.

    The family's three devices take turns, each with the parent logged in, and every try
    comes from another IP address.
    """
    devices = [browser(cast.parent_a) for _ in range(3)]
    url = reverse("child-login", args=[pupil.code])
    hashes.clear()
    checked, seen_ips, got_in = [], set(), []
    began, cpu = time.perf_counter(), time.process_time()
    for number, entry in enumerate(entries, start=1):
        before = hashes[CHILD]
        *so_far, last = entry
        separator = "" if isinstance(entry, str) else ","
        response = form_post(
            devices[number % 3],
            url,
            {"entered": separator.join(so_far), "key": last},
            **from_ip(number),
        )
        assert response.status_code == 302, (number, entry, response.status_code)
        if response["Location"] != url:
            got_in.append((number, entry, response["Location"]))
        if hashes[CHILD] > before:
            checked.append(number)
        seen_ips.add(response.wsgi_request.META["REMOTE_ADDR"])
        frozen.shift(STEP)
    return {
        "checked": checked,
        "hashes": hashes[CHILD],
        "password_hashes": hashes[PARENT],
        "ips": len(seen_ips),
        "got_in": got_in,
        "time": f"{time.perf_counter() - began:.1f} s ({time.process_time() - cpu:.1f} s CPU)",
        "locked_page": devices[0].get(url).context["locked"],
    }


def test_every_pin_against_one_pupil_costs_at_most_ten_hashes(cast, frozen, hashes):
    # All 10,000 PINs, 0000 to 9999: the right one (2468) is among them.
    pins = [f"{n:04d}" for n in range(ATTEMPTS)]
    result = guess_child_secret(cast, frozen, hashes, cast.emma, pins)
    figures = report(
        f"PIN: {len(pins)} tries from {result['ips']} IP addresses over "
        f"{len(pins) * STEP}, {result['hashes']} PIN hashes evaluated (tries "
        f"{result['checked']}), {result['password_hashes']} password hashes, "
        f"in {result['time']}"
    )
    assert result["ips"] == len(pins), figures
    assert result["got_in"] == [], figures
    # The waits refused without a hash: only the documented tries were checked.
    assert result["checked"] == CHILD_TRIES_CHECKED, figures
    assert result["hashes"] == CHILD_LOCK_AFTER, figures
    assert result["password_hashes"] == 0, figures
    emma = fresh(cast.emma)
    assert emma.is_locked and emma.failed_attempts == CHILD_LOCK_AFTER, figures
    assert result["locked_page"] is True


def test_every_picture_pair_against_one_pupil_costs_at_most_ten_hashes(cast, frozen, hashes):
    Pupil.objects.filter(pk=cast.daan.pk).update(home_login_enabled=True)
    pairs = list(itertools.product(Picture.values, repeat=cast.school_x.picture_password_length))
    assert len(pairs) == 144
    # Three rounds through every pair: the right one (kat, zon) comes once in each.
    entries = pairs * 3
    right = [n for n, entry in enumerate(entries, start=1) if list(entry) == ["kat", "zon"]]
    result = guess_child_secret(cast, frozen, hashes, cast.daan, entries)
    figures = report(
        f"pictures: {len(entries)} tries ({len(pairs)} pairs, three rounds), "
        f"{result['hashes']} hashes evaluated (tries {result['checked']}); the right pair "
        f"came at tries {right} and was refused without a hash, in {result['time']}"
    )
    assert result["got_in"] == [], figures
    assert result["checked"] == CHILD_TRIES_CHECKED, figures
    assert not set(right) & set(result["checked"]), figures
    assert fresh(cast.daan).is_locked, figures


# --- 2. guessing a parent's password -----------------------------------------------------
#
# accounts/throttle.py: FREE_FAILURES wrong passwords in a row are free, then every try waits
# FIRST_WAIT, doubling with every failure, up to MAX_WAIT; during a wait even the right
# password is refused unchecked; failures are forgotten after FORGET_AFTER without one.
# There is no lasting lock (so nobody can lock a parent out), hence a steady trickle.
#
# Trying once a second: tries 1-5, then after 30 s, 1, 2, 4 and 8 minutes (tries 35, 95,
# 215, 455, 935), then one try per 15 minutes: 1835, 2735, ... 9935.
PARENT_TRIES_CHECKED = [1, 2, 3, 4, 5, 35, 95, 215, 455, 935, *range(1835, ATTEMPTS, 900)]


def test_the_figures_below_are_the_documented_parent_limits():
    assert (5, timedelta(seconds=30), timedelta(minutes=15), timedelta(hours=1)) == (
        throttle.FREE_FAILURES,
        throttle.FIRST_WAIT,
        throttle.MAX_WAIT,
        throttle.FORGET_AFTER,
    ), "the schedule in this file assumes these limits: recompute it"
    assert len(PARENT_TRIES_CHECKED) == 20


def test_ten_thousand_passwords_against_one_parent_cost_twenty_hashes(cast, frozen, hashes):
    devices = [browser() for _ in range(3)]
    address = cast.parent_a.email
    # Every thousandth try is the right password: it must be refused like the rest.
    right = set(range(1000, ATTEMPTS + 1, 1000))
    hashes.clear()
    checked, seen_ips, refused_right = [], set(), []
    began, cpu = time.perf_counter(), time.process_time()
    for number in range(1, ATTEMPTS + 1):
        before = hashes[PARENT]
        password = PASSWORD if number in right else f"gok-{number:05d}"
        response = form_post(
            devices[number % 3], "/", {"username": address, "password": password}, **from_ip(number)
        )
        assert response.status_code == 200, (number, response.status_code)
        if hashes[PARENT] > before:
            checked.append(number)
        if number in right and "Te veel pogingen met dit e-mailadres" in html(response):
            refused_right.append(number)
        seen_ips.add(response.wsgi_request.META["REMOTE_ADDR"])
        frozen.shift(STEP)
    took = f"{time.perf_counter() - began:.1f} s ({time.process_time() - cpu:.1f} s CPU)"
    figures = report(
        f"parent password: {ATTEMPTS} tries from {len(seen_ips)} IP addresses over "
        f"{ATTEMPTS * STEP}, {hashes[PARENT]} password hashes evaluated (tries {checked}); "
        f"the right password was refused as throttled {len(refused_right)} of {len(right)} "
        f"times, in {took}"
    )
    assert len(seen_ips) == ATTEMPTS, figures
    assert checked == PARENT_TRIES_CHECKED, figures
    assert hashes[PARENT] == len(PARENT_TRIES_CHECKED) == 20, figures
    assert hashes[CHILD] == 0, figures
    assert sorted(refused_right) == sorted(right), figures

    # Keyed on the address, not the IP: another parent at one of the attack's addresses gets
    # in at once, for one hash.
    hashes.clear()
    other = browser().post(
        "/", {"username": cast.parent_b.email, "password": PASSWORD}, **from_ip(ATTEMPTS)
    )
    assert other.status_code == 302
    assert hashes[PARENT] == 1
    # No lasting lock: once the wait is over the parent gets in with the right password.
    frozen.shift(throttle.MAX_WAIT)
    assert log_in(browser(), address, PASSWORD).status_code == 302


# --- 3. telling known addresses from unknown ones ----------------------------------------
#
# Every address below is 19 characters long, so that the pages (which show the typed
# address again) have one length and Content-Length can be compared as it is. Normalised
# before comparing, and nothing else: the typed address itself, the CSRF token in the form
# and the CSRF cookie's value (random per browser), and a CSP nonce if there is one.
ADDRESSES = {
    "known parent, wrong password": ("ouder.a@example.com", "helemaal-fout"),
    "unknown address": ("ouder.q@example.com", PASSWORD),
    "no password yet": ("ouder.n@example.com", PASSWORD),
    "deactivated, right password": ("ouder.d@example.com", PASSWORD),
    "teacher, wrong password": ("leraar1@example.com", "helemaal-fout"),
}
#: At the teachers' door a parent's right password must not give the parent away either.
ADMIN_ADDRESSES = {**ADDRESSES, "parent, right password": ("ouder.p@example.com", PASSWORD)}
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
NONCE = re.compile(r"nonce(=\"|-)[A-Za-z0-9+/=_-]+")


@pytest.fixture
def accounts_of_every_kind(cast):
    User.objects.for_email("ouder.n@example.com")
    make_user("ouder.d@example.com", is_active=False)
    set_parent_emails(cast.lotte, [make_user("ouder.p@example.com").email])
    StaffMembership.objects.create(
        user=make_user("leraar1@example.com"), school=cast.school_x, role=StaffRole.TEACHER
    )
    assert {len(address) for address, _password in ADMIN_ADDRESSES.values()} == {19}


def comparable(response, typed: str) -> tuple:
    body = response.content.decode().replace(typed, "<address>")
    body = CSRF_INPUT.sub('name="csrfmiddlewaretoken" value="<csrf>"', body)
    body = NONCE.sub(r"nonce\1<nonce>", body)
    headers = {name: NONCE.sub(r"nonce\1<nonce>", value) for name, value in response.items()}
    cookies = {
        name: {key: value for key, value in morsel.items() if value}
        | {"value": "<csrf>" if "csrf" in name else morsel.value}
        for name, morsel in response.cookies.items()
    }
    return response.status_code, headers, cookies, body


def same_answers(door, cases, hashes, *, last_password=None) -> dict[str, list]:
    """Each case tries FREE_FAILURES + 1 times in its own browser; the answers side by side."""
    answers = {}
    for label, (address, password) in cases.items():
        client = browser()
        tries = []
        for number in range(1, throttle.FREE_FAILURES + 2):
            if number > throttle.FREE_FAILURES and last_password:
                password = last_password.get(label, password)
            before = sum(hashes.values())
            response = client.post(door, {"username": address, "password": password})
            tries.append((comparable(response, address), sum(hashes.values()) - before))
            assert logged_in_as(client) is None, (label, number)
        answers[label] = tries
    return answers


@pytest.mark.parametrize(
    ("door", "cases"),
    [("/", ADDRESSES), ("/beheer/login/", ADMIN_ADDRESSES)],
    ids=["home", "admin"],
)
def test_a_login_answers_alike_for_every_kind_of_address(
    cast, accounts_of_every_kind, frozen, hashes, door, cases
):
    # The sixth try falls in the wait: the known parent tries the right password there.
    answers = same_answers(
        door, cases, hashes, last_password={"known parent, wrong password": PASSWORD}
    )
    unknown = answers.pop("unknown address")
    throttled = unknown[-1][0][3]
    assert "Te veel pogingen met dit e-mailadres" in throttled
    costs = [cost for _answer, cost in unknown]
    for label, tries in answers.items():
        for number, ((answer, cost), (expected, expected_cost)) in enumerate(
            zip(tries, unknown, strict=True), start=1
        ):
            assert answer == expected, (
                f"{door}: {label} differs from an unknown address at try {number}"
            )
            assert cost == expected_cost, f"{door}: {label} costs {cost} hashes at try {number}"
    report(
        f"login at {door}: {len(cases)} kinds of address x {throttle.FREE_FAILURES + 1} tries, "
        f"byte-identical after normalising address/CSRF/nonce, hashes per try {costs} for each"
    )
    assert costs == [1] * throttle.FREE_FAILURES + [0]


def test_forgot_password_answers_alike_for_every_kind_of_address_over_the_limit_too(
    cast, accounts_of_every_kind, frozen
):
    kinds = {label: address for label, (address, _password) in ADDRESSES.items()}
    kinds["superuser"] = cast.superuser.email
    asks = MAX_REQUESTS_PER_HOUR + 1  # the last one is dropped quietly
    answers = {}
    for label, address in kinds.items():
        client = browser()
        answers[label] = [
            comparable(client.post("/wachtwoord-vergeten/", {"email": address}), address)
            for _ in range(asks)
        ]
    unknown = answers.pop("unknown address")
    assert unknown[0][0] == 200
    assert unknown[-1] == unknown[0]
    for label, asked in answers.items():
        assert asked == unknown, f"{label} is answered differently from an unknown address"
    assert not Email.objects.exists()  # nothing is sent inside the request
    written = {
        address: PasswordRequest.objects.filter(email=address).count() for address in kinds.values()
    }
    assert set(written.values()) == {MAX_REQUESTS_PER_HOUR}, written
    report(
        f"forgot password: {len(kinds)} kinds of address x {asks} requests, byte-identical "
        f"(after normalising the CSRF token), {MAX_REQUESTS_PER_HOUR} rows written for each"
    )


# --- 4. set-password links -----------------------------------------------------------------


def db_state() -> tuple:
    return (
        list(
            User.objects.order_by("pk").values_list(
                "pk", "email", "password", "last_login", "is_active"
            )
        ),
        list(PasswordLink.objects.order_by("pk").values_list("pk", "user_id", "used_at")),
        sorted(Session.objects.values_list("session_key", flat=True)),
        list(LoginThrottle.objects.values_list("key", "failures")),
        Email.objects.count(),
    )


def assert_refused(path: str, why: str, **extra) -> None:
    """GET and POST both show the dead-link page, log nobody in and change nothing."""
    before = db_state()
    client = browser()
    shown = client.get(path)
    assert says_link_is_dead(shown), f"{why}: GET {path} did not say the link is dead"
    data = {"new_password1": "overgenomen-42!", "new_password2": "overgenomen-42!", **extra}
    posted = client.post(path, data)
    assert says_link_is_dead(posted), f"{why}: POST {path} did not say the link is dead"
    assert logged_in_as(client) is None, why
    assert db_state() == before, f"{why}: the database changed"


def path_for(token: str) -> str:
    return f"/wachtwoord/{token}/"


def test_a_used_link_changes_nothing_a_second_time(cast):
    _link, token = PasswordLink.issue(cast.parent_a, PasswordLink.Purpose.RESET)
    first = browser().post(
        path_for(token), {"new_password1": "zonnebloem-42", "new_password2": "zonnebloem-42"}
    )
    assert first.status_code == 302
    assert_refused(path_for(token), "used link")
    assert fresh(cast.parent_a).check_password("zonnebloem-42")


@pytest.mark.parametrize("purpose", PasswordLink.Purpose.values)
def test_an_expired_link_changes_nothing(cast, frozen, purpose):
    user = User.objects.for_email("nieuw@example.com")
    _link, token = PasswordLink.issue(user, purpose)
    lifetime = (
        settings.INVITATION_LINK_LIFETIME
        if purpose == PasswordLink.Purpose.INVITATION
        else settings.RESET_LINK_LIFETIME
    )
    frozen.shift(lifetime - timedelta(seconds=1))
    assert link_works(path_for(token))
    frozen.shift(timedelta(seconds=1))
    assert_refused(path_for(token), f"{purpose} link at the end of its {lifetime}")
    frozen.shift(timedelta(days=365))
    assert_refused(path_for(token), f"{purpose} link a year on")
    assert not fresh(user).has_usable_password()


def tampered(token: str) -> dict[str, str]:
    flip = "A" if token[-1] != "A" else "B"
    return {
        "last character changed": token[:-1] + flip,
        "first character changed": ("A" if token[0] != "A" else "B") + token[1:],
        "one character short": token[:-1],
        "one character more": token + "A",
        "case swapped": token.swapcase(),
        "padded": token + "=",
        "with a NUL": token + "%00",
        "with a space": token + "%20",
        "with a newline": "%0A" + token,
        "the stored digest instead": PasswordLink.objects.get().digest,
    }


def test_a_tampered_link_changes_nothing(cast):
    _link, token = PasswordLink.issue(cast.parent_a, PasswordLink.Purpose.RESET)
    for why, variant in tampered(token).items():
        assert_refused(path_for(variant), why)
    # Refused for the tampering: the link itself still works.
    assert link_works(path_for(token))
    report(f"set-password: {len(tampered(token))} tampered forms of a live token refused")


def test_another_accounts_link_cannot_be_turned_on_this_account(cast):
    """Tokens carry no account id: the account is found from the token alone.

    Parent B holds a live link of their own and tries to aim it at parent A.
    """
    victim = cast.parent_a
    _link, token = PasswordLink.issue(cast.parent_b, PasswordLink.Purpose.RESET)
    grafted = {
        "victim's id before the token": f"{victim.pk}-{token}",
        "victim's id after the token": f"{token}-{victim.pk}",
        "victim's code before the token": f"{victim.code}.{token}",
        "victim's address before the token": f"{quote(victim.email)}:{token}",
    }
    for why, variant in grafted.items():
        assert_refused(path_for(variant), why)

    victim_before = User.objects.filter(pk=victim.pk).values().get()
    client = browser()
    aimed = {
        "user": victim.pk,
        "user_id": victim.pk,
        "uid": victim.pk,
        "email": victim.email,
        "username": victim.email,
    }
    page = client.get(path_for(token), aimed)
    assert cast.parent_b.email in html(page) and victim.email not in html(page)
    response = client.post(
        path_for(token) + f"?user={victim.pk}&email={quote(victim.email)}",
        {"new_password1": "overgenomen-42!", "new_password2": "overgenomen-42!", **aimed},
    )
    assert response.status_code == 302
    assert User.objects.filter(pk=victim.pk).values().get() == victim_before
    assert not PasswordLink.objects.filter(user=victim).exists()
    # It was parent B's own link, and only B's password changed.
    assert fresh(cast.parent_b).check_password("overgenomen-42!")
    assert logged_in_as(client) == str(cast.parent_b.pk)


def test_a_deactivated_accounts_link_changes_nothing(cast):
    _link, token = PasswordLink.issue(cast.parent_a, PasswordLink.Purpose.RESET)
    User.objects.filter(pk=cast.parent_a.pk).update(is_active=False)
    assert_refused(path_for(token), "link of a deactivated account")


# --- 5. sessions ---------------------------------------------------------------------------


def session_key_of(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def with_cookie(key: str) -> Client:
    """Another browser holding a copy of a session cookie (a stale tab, a stolen cookie)."""
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client


def tap(client, pupil, entry):
    *so_far, last = entry
    separator = "" if isinstance(entry, str) else ","
    return client.post(
        reverse("child-login", args=[pupil.code]),
        {"entered": separator.join(so_far), "key": last},
    )


@pytest.fixture
def child(cast) -> tuple[Client, str]:
    """A browser where parent A logged in and Emma then tapped her PIN; the parent's key."""
    Pupil.objects.filter(pk=cast.daan.pk).update(home_login_enabled=True)
    client = browser()
    assert log_in(client, cast.parent_a.email, PASSWORD).status_code == 302
    parent_key = session_key_of(client)
    assert tap(client, cast.emma, "2468")["Location"] == reverse("software")
    return client, parent_key


def test_the_switch_to_a_child_gives_a_new_session_and_ends_the_parents(cast, child):
    client, parent_key = child
    child_key = session_key_of(client)
    assert child_key != parent_key
    assert not Session.objects.filter(session_key=parent_key).exists()
    stored = Session.objects.get(session_key=child_key).get_decoded()
    assert SESSION_KEY not in stored and "_auth_user_hash" not in stored
    # The parent's old cookie (say, another tab of the same browser) is nobody now.
    stale = with_cookie(parent_key)
    assert stale.get(reverse("children"))["Location"] == "/?next=/kinderen/"
    assert stale.get(reverse("software"))["Location"] == reverse("home")
    daan = reverse("child-login", args=[cast.daan.code])
    assert tap(stale, cast.daan, ["kat", "zon"])["Location"] == f"/?next={daan}"


def test_a_child_session_reaches_no_parent_or_admin_page(cast, child):
    client, _parent_key = child
    assert client.get(reverse("children"))["Location"] == reverse("software")
    for pupil in (cast.emma, cast.daan):
        url = reverse("child-login", args=[pupil.code])
        assert client.get(url)["Location"] == f"/?next={url}"
    # The sibling's right pictures need the parent's password first.
    daan = reverse("child-login", args=[cast.daan.code])
    assert tap(client, cast.daan, ["kat", "zon"])["Location"] == f"/?next={daan}"
    for url in (
        reverse("admin:index"),
        reverse("admin:schools_pupil_changelist"),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:password_change"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url
    # Still Emma, and no one else.
    page = client.get(reverse("software"))
    assert page.status_code == 200 and page.context["pupil"] == cast.emma


@pytest.mark.parametrize("how", ["klaar", "admin logout"])
def test_ending_a_session_removes_it_from_the_server(cast, child, how):
    if how == "klaar":
        client, _parent_key = child
        url, page = reverse("done"), reverse("software")
    else:
        client = browser()
        assert (
            client.post(
                reverse("admin:login"), {"username": cast.teacher_x.email, "password": PASSWORD}
            ).status_code
            == 302
        )
        url, page = reverse("admin:logout"), reverse("admin:index")
    key = session_key_of(client)
    assert client.get(page).status_code == 200
    assert client.post(url).status_code in (200, 302)
    assert not Session.objects.filter(session_key=key).exists()
    assert with_cookie(key).get(page).status_code == 302


def still_usable(key: str, user: User) -> bool:
    """Whether a stored session would still let its holder in as ``user``."""
    stored = Session.objects.filter(session_key=key).first()
    if stored is None:
        return False
    data = stored.get_decoded()
    user = fresh(user)
    return (
        data.get(SESSION_KEY) == str(user.pk)
        and data.get("_auth_user_hash") == user.get_session_auth_hash()
    ) or (
        data.get("child_parent") == user.pk
        and data.get("child_parent_hash") == user.get_session_auth_hash()
    )


def test_a_new_password_ends_every_other_session_of_the_parent(cast, child):
    child_browser, _parent_key = child
    laptop = browser()
    assert log_in(laptop, cast.parent_a.email, PASSWORD).status_code == 302
    keys = {"child": session_key_of(child_browser), "parent": session_key_of(laptop)}
    assert all(still_usable(key, cast.parent_a) for key in keys.values())

    phone = browser()
    _link, token = PasswordLink.issue(cast.parent_a, PasswordLink.Purpose.RESET)
    response = phone.post(
        path_for(token), {"new_password1": "zonnebloem-42", "new_password2": "zonnebloem-42"}
    )
    assert response.status_code == 302
    assert not any(still_usable(key, cast.parent_a) for key in keys.values())
    assert with_cookie(keys["parent"]).get(reverse("children")).status_code == 302
    assert with_cookie(keys["child"]).get(reverse("software"))["Location"] == reverse("home")
    assert not Session.objects.filter(session_key__in=keys.values()).exists()
    assert still_usable(session_key_of(phone), cast.parent_a)


def test_a_teachers_password_change_ends_their_other_sessions(cast):
    desk, laptop = browser(), browser()
    for client in (desk, laptop):
        client.post(
            reverse("admin:login"), {"username": cast.teacher_x.email, "password": PASSWORD}
        )
    desk_key, laptop_key = session_key_of(desk), session_key_of(laptop)
    response = desk.post(
        reverse("admin:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "zonnebloem-42",
            "new_password2": "zonnebloem-42",
        },
    )
    assert response.status_code == 302
    assert session_key_of(desk) != desk_key
    assert not Session.objects.filter(session_key=desk_key).exists()
    assert not still_usable(laptop_key, cast.teacher_x)
    assert laptop.get(reverse("admin:index")).status_code == 302
    assert not Session.objects.filter(session_key=laptop_key).exists()
    assert desk.get(reverse("admin:index")).status_code == 200


# --- 6. open redirects -------------------------------------------------------------------

EVIL = [
    "//evil.example",
    "///evil.example",
    "////evil.example/",
    "https://evil.example",
    "http://evil.example/kinderen/",
    "HTTPS://evil.example",
    "https:evil.example",
    "https:/evil.example",
    "http:\\\\evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    " //evil.example",
    "\x00//evil.example",
    "https://testserver@evil.example/",
    "https://testserver.evil.example/",
    "https://evil.example\\@testserver/",
    "javascript:alert(document.cookie)",
    " JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "%2F%2Fevil.example",
    "%5C%5Cevil.example",
    "/%2F/evil.example",
]
SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$", re.S)


def where_a_browser_goes(location: str, page_scheme: str = "http") -> str:
    """The host (or the non-web scheme) a browser opens for a Location header.

    Browsers drop leading and trailing control characters and spaces and any tab or newline,
    read a backslash as a slash in web URLs, and skip any number of slashes before a host.
    """
    url = location.strip("".join(map(chr, range(0x21))))
    url = re.sub(r"[\t\n\r]", "", url).replace("\\", "/")
    if match := SCHEME.match(url):
        scheme, rest = match.group(1).lower(), match.group(2)
        if scheme not in ("http", "https"):
            return f"{scheme}:"
        if scheme == page_scheme and not rest.startswith("/"):
            return "testserver"  # a path relative to the page
        return urlsplit("//" + rest.lstrip("/")).hostname or ""
    if url.startswith("//"):
        return urlsplit("//" + url.lstrip("/")).hostname or ""
    return "testserver"


def test_the_browser_model_takes_every_evil_target_off_the_site():
    *absolute, encoded_1, encoded_2, encoded_3 = EVIL
    for target in absolute:
        assert where_a_browser_goes(target) != "testserver", target
    # Encoded slashes and backslashes stay in the path of this site.
    for target in (encoded_1, encoded_2, encoded_3, "/kinderen/", "kinderen/", "?a=//b"):
        assert where_a_browser_goes(target) == "testserver", target


def encodings(target: str) -> dict[str, str]:
    """The query string forms of ``next``: as typed, encoded once and encoded twice."""
    once = quote(target, safe="")
    return {"encoded once": once, "encoded twice": quote(once, safe="")}


def redirects_within_the_site(response, why: str, *, may_stay: bool = False) -> str:
    if may_stay and response.status_code == 200:
        return ""  # no redirect at all
    assert response.status_code == 302, (why, response.status_code)
    location = response["Location"]
    assert where_a_browser_goes(location) == "testserver", f"{why}: sent to {location!r}"
    return location


@pytest.mark.parametrize("target", EVIL)
def test_no_door_redirects_to_another_site(cast, target):
    checked = 0

    def check(response, why, **kwargs):
        nonlocal checked
        checked += 1
        return redirects_within_the_site(response, f"{why} with next={target!r}", **kwargs)

    # The parents' login: next in the form and in the query string.
    check(log_in(browser(), cast.parent_a.email, PASSWORD, next=target), "login (form field)")
    for form, query in encodings(target).items():
        client = browser()
        response = client.post(
            f"/?next={query}", {"username": cast.parent_a.email, "password": PASSWORD}
        )
        check(response, f"login (query string, {form})")
        # The login page does not carry the target along in a hidden field either.
        page = browser().get(f"/?next={query}")
        assert (
            'name="next"' not in html(page)
            or where_a_browser_goes(page.context["next"]) == "testserver"
        ), (target, form)
    # Logging out takes no target at all.
    parent = browser(cast.parent_a)
    assert (
        check(parent.post(f"/uitloggen/?next={quote(target, safe='')}", {"next": target}), "logout")
        == "/"
    )
    # The language switch: next, and the Referer it falls back on.
    check(browser().post("/i18n/setlang/", {"language": "en", "next": target}), "setlang")
    check(
        browser().post("/i18n/setlang/", {"language": "en"}, HTTP_REFERER=target), "setlang referer"
    )
    check(browser().get(f"/i18n/setlang/?next={quote(target, safe='')}"), "setlang (GET)")
    # The teachers' login and logout.
    admin_login = browser().post(
        reverse("admin:login"),
        {"username": cast.teacher_x.email, "password": PASSWORD, "next": target},
    )
    check(admin_login, "admin login")
    teacher = browser(cast.teacher_x)
    check(teacher.post(reverse("admin:logout"), {"next": target}), "admin logout", may_stay=True)
    assert checked == 9


@pytest.mark.parametrize("target", ["kinderen", "logout", "x%3Ay"])
def test_a_next_without_a_slash_is_a_path_not_a_view_name(cast, target):
    # It used to be looked up as a view name: an error page, or a jump to that view.
    response = log_in(browser(), cast.parent_a.email, PASSWORD, next=target)
    assert response.status_code == 302
    assert response["Location"] == target


def test_the_login_page_escapes_a_local_next(client, db):
    target = '/kinderen/"><script>alert(1)</script>'
    page = html(client.get(f"/?next={quote(target, safe='')}"))
    assert "<script>alert(1)</script>" not in page
    assert 'name="next"' in page


# --- 7. response headers in production ---------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def production():
    """The security settings basispoort/settings.py gives a production start (DEBUG off).

    Read from the settings module itself with a production environment, then applied over
    the test settings; the rest (database, static files) stays as the tests have it.
    """
    env = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver",
        "SITE_URL": "https://testserver",
        "OIDC_SIGNING_KEY": "read only at run time",
        "EMAIL_URL": "smtp+tls://portal:secret@smtp.example.nl:587",
    }
    with mock.patch.dict(os.environ, env):
        for name in list(os.environ):
            if name.startswith(("SECURE_", "SESSION_", "CSRF_", "TRUST_")):
                del os.environ[name]
        values = runpy.run_path(str(ROOT / "basispoort" / "settings.py"))
    return {
        name: value
        for name, value in values.items()
        if name.startswith(("SECURE_", "SESSION_COOKIE_", "CSRF_COOKIE_", "LANGUAGE_COOKIE_"))
        or name == "X_FRAME_OPTIONS"
    }


def csp_of(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def check_headers(response, url: str, *, personal: bool) -> None:
    csp = csp_of(response)
    sources = [source for values in csp.values() for source in values]
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"} & set(sources), (
        url,
        csp,
    )
    assert csp["default-src"] == ["'self'"], url
    assert csp["object-src"] == ["'none'"], url
    assert csp["base-uri"] == ["'none'"], url
    assert csp["frame-ancestors"] == ["'none'"], url
    assert csp["form-action"] == ["'self'"], url
    assert response["X-Frame-Options"] == "DENY", url
    hsts = dict(
        part.strip().partition("=")[::2]
        for part in response["Strict-Transport-Security"].split(";")
    )
    assert int(hsts["max-age"]) >= 365 * 24 * 60 * 60 and "includeSubDomains" in hsts, url
    assert response["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin"), url
    assert response["X-Content-Type-Options"] == "nosniff", url
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", url
    if personal:  # nothing of a parent or child stays in a shared computer's cache
        assert "no-store" in response["Cache-Control"], url
    nonces = re.findall(r'nonce="([^"]+)"', response.content.decode())
    for nonce in nonces:
        assert f"'nonce-{nonce}'" in csp["script-src"], url


def check_cookies(response, url: str) -> list[str]:
    names = []
    for name, morsel in response.cookies.items():
        if not morsel.value:  # a deletion
            continue
        names.append(name)
        assert name.startswith("__Host-"), f"{url}: cookie {name} has no __Host- prefix"
        assert morsel["secure"], f"{url}: cookie {name} is not Secure"
        assert morsel["path"] == "/" and not morsel["domain"], f"{url}: cookie {name}"
        assert morsel["samesite"] in ("Lax", "Strict"), f"{url}: cookie {name} SameSite"
        if "csrf" not in name:  # the CSRF token cookie is Django's one that scripts may read
            assert morsel["httponly"], f"{url}: cookie {name} is not HttpOnly"
    return names


def test_the_pages_send_the_security_headers_in_production(cast, production):
    Pupil.objects.filter(pk=cast.daan.pk).update(home_login_enabled=True)
    with override_settings(**production):
        anonymous, parent, teacher = browser(), Client(), Client()
        pages = []

        def get(client, url, *, personal=True):
            response = client.get(url, secure=True)
            pages.append((url, response, personal))
            return response

        def post(client, url, data, *, personal=True):
            response = client.post(url, data, secure=True)
            pages.append((f"POST {url}", response, personal))
            return response

        assert anonymous.get("/", secure=False).status_code == 301  # to https
        get(anonymous, "/")
        post(anonymous, "/", {"username": "onbekend@example.com", "password": "x"})
        get(anonymous, "/wachtwoord-vergeten/")
        _link, token = PasswordLink.issue(cast.parent_b, PasswordLink.Purpose.RESET)
        get(anonymous, path_for(token))
        get(anonymous, "/bestaat-niet/", personal=False)
        post(anonymous, "/i18n/setlang/", {"language": "en", "next": "/"}, personal=False)
        login = post(
            parent, "/", {"username": cast.parent_a.email, "password": PASSWORD, "remember": "on"}
        )
        assert login.status_code == 302
        get(parent, "/kinderen/")
        get(parent, reverse("child-login", args=[cast.emma.code]))
        pin_pad = pages[-1][1]
        post(parent, reverse("child-login", args=[cast.emma.code]), {"entered": "246", "key": "8"})
        get(parent, "/software/")
        get(teacher, reverse("admin:login"))
        post(
            teacher,
            reverse("admin:login"),
            {"username": cast.teacher_x.email, "password": PASSWORD},
        )
        get(teacher, reverse("admin:index"))
        get(teacher, reverse("admin:schools_pupil_changelist"))

        cookies = set()
        for url, response, personal in pages:
            assert response.status_code in (200, 302, 404), (url, response.status_code)
            check_headers(response, url, personal=personal)
            cookies.update(check_cookies(response, url))
        # The PIN pad has its script, allowed by a nonce that is new for every answer.
        first = re.search(r'nonce="([^"]+)"', pin_pad.content.decode()).group(1)
        again = get(parent, reverse("software"))
        assert re.search(r'nonce="([^"]+)"', again.content.decode()).group(1) != first
    report(
        f"headers: {len(pages)} answers checked under production settings; cookies set: "
        f"{sorted(cookies)}"
    )
    assert cookies == {
        "__Host-sessionid",
        "__Host-csrftoken",
        "__Host-language",
        "__Host-remembered_email",
    }


# --- Forged forms -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "url", "data"),
    [
        ("login", "/", {"username": "ouder.a@example.com", "password": PASSWORD}),
        ("forgotten password", "/wachtwoord-vergeten/", {"email": "ouder.a@example.com"}),
        ("log out", "/uitloggen/", {}),
    ],
)
def test_a_form_posted_without_its_csrf_token_is_refused(cast, name, url, data):
    """The test client skips CSRF checks unless asked: here it is asked, as a browser is."""
    forged = Client(enforce_csrf_checks=True)
    if name == "log out":
        forged.force_login(cast.parent_a)
    before = (Session.objects.count(), Email.objects.count(), PasswordRequest.objects.count())

    answer = form_post(forged, url, data)

    assert answer.status_code == 403, name
    assert (Session.objects.count(), Email.objects.count(), PasswordRequest.objects.count()) == (
        before
    )
