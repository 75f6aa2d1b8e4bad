"""PostgreSQL goes down under load and comes back: the portal says "try again in a few
minutes" meanwhile, recovers by itself, and loses nothing it had confirmed.

Parents log in, their Emma enters her PIN and opens Tafelturbo (a launch is a row in
launcher_launchevent), and they ask for a new password (a row in accounts_passwordrequest),
over and over from a few threads. Halfway, PostgreSQL is stopped as abruptly as a crash
(``pg_ctl stop -m immediate``), stays down for OUTAGE seconds and is started again; gunicorn
keeps running throughout.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest

from bench.seed import PASSWORD, PIN, family_email
from tests.faults.client import Browser, Response
from tests.faults.processes import alive

pytestmark = pytest.mark.faults

THREADS = 4
WARM_UP = 3.0  # seconds of normal load before the stop
OUTAGE = 5.0  # seconds PostgreSQL stays down
AFTER = 5.0  # seconds of load after it is back
PRODUCT = "Tafelturbo"  # licensed for Emma's Groep 5, opens without single sign-on
FRIENDLY = "Probeer het over een paar minuten opnieuw."


@dataclass
class Outcome:
    label: str
    response: Response
    expected: bool

    @property
    def friendly_503(self) -> bool:
        response = self.response
        return (
            response.status == 503
            and FRIENDLY in response.text
            and response.headers.get("retry-after") == "60"
            and response.headers.get("content-type", "").startswith("text/html")
            and "Traceback" not in response.text
        )


@dataclass
class Load:
    """A few parents going through the home flow again and again, each on a family of their own."""

    port: int
    outcomes: list[Outcome] = field(default_factory=list)
    launches: Counter = field(default_factory=Counter)  # confirmed, per pupil
    launches_unsure: Counter = field(default_factory=Counter)  # no clear answer
    requests: dict[str, float] = field(default_factory=dict)  # confirmed address → when
    requests_unsure: set[str] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)

    def check(self, label, response, status, location=None, contains=None) -> bool:
        expected = response.status == status
        if expected and location is not None:
            expected = response.location.startswith(location)
        if expected and contains is not None:
            expected = contains in response.text
        self.outcomes.append(Outcome(label, response, expected))
        return expected

    def run(self, index: int) -> None:
        rounds = 0
        while not self.stop.is_set():
            rounds += 1
            if not self.flow(index, rounds):
                self.stop.wait(0.2)  # as a person would, before trying again

    def flow(self, index: int, round_: int) -> bool:
        browser = Browser(self.port, timeout=10)
        pupil = f"BENCH{index:04d}E"
        if not self.check("GET /", browser.get("/"), 200):
            return False
        login = browser.post("/", {"username": family_email(index), "password": PASSWORD})
        if not self.check("POST / (login)", login, 302, "/kinderen/"):
            return False
        pad = browser.tile("Emma")
        if not self.check("GET /kinderen/", browser.last, 200) or pad is None:
            return False
        if not self.check("POST PIN", browser.enter_pin(pad, PIN), 302, "/software/"):
            return False
        software = browser.get("/software/")
        launch = browser.launch_path(software, PRODUCT)
        if not self.check("GET /software/", software, 200) or launch is None:
            return False
        opened = browser.post(launch)
        if self.check("POST launch", opened, 302, launch.replace("openen", "gestart")):
            self.launches[pupil] += 1
        else:
            self.launches_unsure[pupil] += 1
            return False
        address = f"load-{index}-{round_}@example.org"
        if not self.check("GET forgot", browser.get("/wachtwoord-vergeten/"), 200):
            return False
        asked = browser.post("/wachtwoord-vergeten/", {"email": address})
        if self.check("POST forgot", asked, 200, contains="Kijk in uw e-mail"):
            self.requests[address] = asked.finished
            return True
        self.requests_unsure.add(address)
        return False


def test_it_answers_503_while_postgres_is_down_and_recovers_without_losing_writes(
    postgres, database, processes, figures
):
    portal = processes.portal(processes.env(database))
    workers_before = portal.worker_pids()
    load = Load(portal.port)

    # A parent who logged in before the outage: the session must outlive it.
    sticky = Browser(portal.port)
    assert sticky.log_in(family_email(THREADS), PASSWORD).status == 302
    assert sticky.get("/kinderen/").status == 200

    threads = [
        threading.Thread(target=load.run, args=(index,), daemon=True) for index in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(WARM_UP)
        stopping = time.monotonic()
        launches_before = sum(load.launches.values())
        postgres.stop(mode="immediate")
        down = time.monotonic()
        time.sleep(OUTAGE)
        starting = time.monotonic()
        postgres.start()
        up = time.monotonic()
        time.sleep(AFTER)
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a load thread did not stop"

    outcomes = load.outcomes
    during = [o for o in outcomes if down <= o.response.started and o.response.finished <= starting]
    after = [o for o in outcomes if o.response.started >= up]
    no_answer = [o for o in outcomes if o.response.status == 0]
    server_errors = [o for o in outcomes if o.response.status >= 500 and not o.friendly_503]
    unavailable = [o for o in outcomes if o.friendly_503]
    unexpected_before = [o for o in outcomes if o.response.finished < stopping and not o.expected]
    unexpected_during = [o for o in during if not o.expected and not o.friendly_503]
    errors_after = [o for o in after if not o.expected]
    first_success = min(
        (o.response.finished for o in after if o.expected and o.label == "POST / (login)"),
        default=None,
    )

    # What the database holds now, against what the portal had confirmed.
    name = database.rsplit("/", 1)[1]
    with postgres.connect(name) as connection:
        stored_launches = dict(
            connection.execute(
                "SELECT p.external_key, count(*) FROM launcher_launchevent e "
                "JOIN schools_pupil p ON p.code = e.pupil_id "
                "WHERE p.external_key LIKE 'BENCH%%E' GROUP BY p.external_key"
            ).fetchall()
        )
        stored_requests = {
            row[0]
            for row in connection.execute(
                "SELECT email FROM accounts_passwordrequest WHERE email LIKE 'load-%%'"
            )
        }
    missing_launches = {
        pupil: (count, stored_launches.get(pupil, 0))
        for pupil, count in load.launches.items()
        if stored_launches.get(pupil, 0) < count
    }
    phantom_launches = {
        pupil: stored
        for pupil, stored in stored_launches.items()
        if stored > load.launches[pupil] + load.launches_unsure[pupil]
    }
    missing_requests = set(load.requests) - stored_requests
    phantom_requests = stored_requests - set(load.requests) - load.requests_unsure

    log = portal.log_text()
    figures(
        outage_s=round(starting - down, 1),
        unavailable_s=round(up - stopping, 1),
        pg_ctl_stop_s=round(down - stopping, 1),
        pg_ctl_start_s=round(up - starting, 1),
        requests=len(outcomes),
        requests_while_down=len(during),
        answered_503_while_down=sum(o.friendly_503 for o in during),
        pages_without_database_while_down=sum(o.expected for o in during),
        friendly_503_total=len(unavailable),
        server_errors_other_than_503=len(server_errors),
        no_answer=len(no_answer),
        errors_after_recovery=len(errors_after),
        requests_after_recovery=len(after),
        first_login_after_start_s=round(first_success - up, 2) if first_success else None,
        launches_confirmed=sum(load.launches.values()),
        launches_confirmed_before_stop=launches_before,
        launches_unsure=sum(load.launches_unsure.values()),
        launches_stored=sum(stored_launches.get(p, 0) for p in load.launches),
        password_requests_confirmed=len(load.requests),
        password_requests_lost=len(missing_requests),
        launches_lost=sum(c - s for c, s in missing_launches.values()),
        logged_503_from_a_view=log.count("Database unavailable, answered 503"),
        logged_500_turned_into_503=log.count("Internal Server Error"),
    )

    def show(found):
        return [
            (o.label, o.response.status, o.response.error, o.response.text[:200]) for o in found
        ]

    assert launches_before > 0, "no launch went through before the stop: no load to speak of"
    assert not unexpected_before, show(unexpected_before[:5])
    assert not no_answer, show(no_answer[:5])
    assert not server_errors, show(server_errors[:5])
    assert during, "no request was made while PostgreSQL was down"
    assert not unexpected_during, show(unexpected_during[:5])
    assert any(o.friendly_503 for o in during), "no 503 while PostgreSQL was down"
    assert not errors_after, show(errors_after[:5])
    assert any(o.label == "POST launch" and o.expected for o in after), "no launch after"

    # Recovered by itself: the same gunicorn, no worker restarted, the database answers.
    assert alive(portal.process.pid) and portal.process.poll() is None
    assert portal.worker_pids() == workers_before
    health = Browser(portal.port).get("/healthz")
    assert health.status == 200, health.text

    # Nothing confirmed is lost, and nothing unconfirmed appeared from nowhere.
    assert not missing_launches, missing_launches
    assert not missing_requests, sorted(missing_requests)[:5]
    assert not phantom_launches, phantom_launches
    assert not phantom_requests, sorted(phantom_requests)[:5]

    # The session from before the outage still holds.
    tiles = sticky.get("/kinderen/")
    assert tiles.status == 200 and "Emma" in tiles.text, (tiles.status, tiles.location)
