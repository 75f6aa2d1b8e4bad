"""Two gunicorn servers on one database, as behind a load balancer: what one counts or
remembers, the other knows.

Both get the same settings (one SECRET_KEY, as every host of a deployment has) on their own
port; a visitor's requests alternate between them. The counters that slow down guessing
(accounts/throttle.py for parents' passwords, Pupil.try_to_log_in for children's PINs) and
the sessions live in PostgreSQL, never in a server's memory: failures on one server count
on the other, and a log-out on one ends the session on both.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.throttle import FREE_FAILURES
from bench.seed import PASSWORD, PIN, family_email
from bench.server import free_port
from schools.models import CHILD_FREE_FAILURES
from tests.faults.client import Browser

pytestmark = pytest.mark.faults

WRONG_LOGIN = "Dit e-mailadres en wachtwoord horen niet bij elkaar."
THROTTLED = "Te veel pogingen met dit e-mailadres."
PIN_WAIT = "Probeer het nog eens over"


@pytest.fixture(scope="module")
def database(module_database):
    return module_database  # each test takes families of its own


@pytest.fixture(scope="module")
def two_servers(database, module_processes):
    env_a = module_processes.env(database)
    env_b = {**env_a, "PORT": str(free_port())}
    return (
        module_processes.portal(env_a, name="gunicorn_a"),
        module_processes.portal(env_b, name="gunicorn_b"),
    )


def row(postgres, database, query, params):
    with postgres.connect(database.rsplit("/", 1)[1]) as connection:
        return connection.execute(query, params).fetchone()


def test_wrong_passwords_on_one_server_count_on_the_other(postgres, database, two_servers, figures):
    a, b = two_servers
    address = family_email(0)
    browser = Browser(a.port)
    # FREE_FAILURES wrong passwords, taking turns: neither server alone sees them all.
    ports = [a.port if turn % 2 == 0 else b.port for turn in range(FREE_FAILURES)]
    for port in ports:
        answer = browser.log_in(address, "niet-het-wachtwoord", port=port)
        assert answer.status == 200 and WRONG_LOGIN in answer.text, (port, answer.status)

    # Now even the right password must wait, on both servers.
    refused = {}
    for server in (b, a):
        answer = browser.log_in(address, PASSWORD, port=server.port)
        refused[server.name] = answer.status == 200 and THROTTLED in answer.text
    failures, blocked = row(
        postgres,
        database,
        "SELECT failures, blocked_until IS NOT NULL FROM accounts_loginthrottle WHERE key = %s",
        [address],
    )
    # Another parent is not held up by it, on either server.
    other = [Browser(s.port).log_in(family_email(1), PASSWORD).status for s in (a, b)]

    figures(
        wrong_on_a=ports.count(a.port),
        wrong_on_b=ports.count(b.port),
        failures_stored=failures,
        right_password_refused_on=sorted(name for name, was in refused.items() if was),
    )
    assert failures == FREE_FAILURES and blocked
    assert refused == {"gunicorn_b": True, "gunicorn_a": True}
    assert other == [302, 302]


def test_wrong_pins_on_one_server_count_on_the_other(postgres, database, two_servers, figures):
    a, b = two_servers
    browser = Browser(a.port)
    assert browser.log_in(family_email(2), PASSWORD).status == 302
    pad = browser.tile("Emma", port=b.port)  # the session from A works on B
    assert pad is not None, browser.last.text[:500]

    ports = [a.port if turn % 2 == 0 else b.port for turn in range(CHILD_FREE_FAILURES)]
    for port in ports:
        wrong = browser.enter_pin(pad, "1357", port=port)
        assert wrong.status == 302 and wrong.location == pad, (port, wrong.status)

    # The right PIN must now wait, whichever server gets it.
    right = browser.enter_pin(pad, PIN, port=b.port)
    shown_on_a = browser.get(pad, port=a.port)
    (failed_attempts,) = row(
        postgres,
        database,
        "SELECT failed_attempts FROM schools_pupil WHERE external_key = %s",
        ["BENCH0002E"],
    )
    figures(
        wrong_on_a=ports.count(a.port),
        wrong_on_b=ports.count(b.port),
        failed_attempts_stored=failed_attempts,
        right_pin_let_in=right.location == "/software/",
    )
    assert failed_attempts == CHILD_FREE_FAILURES
    assert right.status == 302 and right.location == pad, "the right PIN did not have to wait"
    assert shown_on_a.status == 200 and PIN_WAIT in shown_on_a.text


def test_a_session_from_one_server_holds_on_the_other_until_logged_out_on_either(
    two_servers, figures
):
    a, b = two_servers
    browser = Browser(a.port)
    assert browser.log_in(family_email(3), PASSWORD).status == 302
    on_b = browser.get("/kinderen/", port=b.port)
    assert on_b.status == 200 and "Emma" in on_b.text

    kept = dict(browser.cookies)  # as a copied cookie would be
    logged_out = browser.post("/uitloggen/", port=a.port)
    assert logged_out.status == 302

    replayed = Browser(b.port, cookies=kept).get("/kinderen/")
    after = browser.get("/kinderen/", port=b.port)
    figures(
        session_on_a_valid_on_b=on_b.status == 200,
        old_cookie_after_logout_on_a_gets_on_b=f"{replayed.status} {replayed.location}",
    )
    assert replayed.status == 302 and replayed.location.startswith("/?next="), replayed.status
    assert after.status == 302 and after.location.startswith("/?next=")


def test_wrong_passwords_sent_together_are_checked_one_after_another(
    postgres, database, two_servers, figures
):
    """Tries that arrive at the same moment, on both servers, still count one by one: only
    the free ones have their password checked; the rest are told to wait."""
    a, b = two_servers
    address = family_email(4)
    tries = 2 * FREE_FAILURES
    browsers = [Browser(a.port if turn % 2 == 0 else b.port) for turn in range(tries)]
    for browser in browsers:
        browser.get("/")  # each has its form and CSRF cookie before the burst
    start = threading.Barrier(tries)

    def wrong_try(browser):
        start.wait()
        return browser.post("/", {"username": address, "password": "niet-het-wachtwoord"})

    with ThreadPoolExecutor(max_workers=tries) as pool:
        answers = list(pool.map(wrong_try, browsers))
    checked = sum(WRONG_LOGIN in answer.text for answer in answers)
    throttled = sum(THROTTLED in answer.text for answer in answers)
    (failures,) = row(
        postgres,
        database,
        "SELECT failures FROM accounts_loginthrottle WHERE key = %s",
        [address],
    )
    figures(tries_at_once=tries, passwords_checked=checked, told_to_wait=throttled)
    assert [answer.status for answer in answers] == [200] * tries
    assert checked == FREE_FAILURES and throttled == tries - FREE_FAILURES
    assert failures == FREE_FAILURES
