"""Locust users for the load benchmark of the home flow (driven by bench/load.py).

`make bench-load` starts these against a throwaway server. By hand, against a portal whose
database has the demo school and families from bench/seed.py (``seed_families(n)``)::

    BENCH_PRODUCT=<code of Tafelturbo> BENCH_FAMILIES=<n> .venv/bin/locust \
        -f bench/locustfile.py --headless -u 10 -r 10 -t 60s \
        --host http://127.0.0.1:8000 HomeFlowUser

Users (pick one by class name on the command line):

- ``HomeFlowUser``: the complete home flow, again and again without pause: the login page,
  the parent's login, the tile page, the child's tile (the PIN pad), the PIN, the software
  page, the launch of a product without an SSO client, and the "gestart" page. Every step is
  its own request (redirects are followed by hand), so each has its own latency.
- ``TilePageUser``: logs a parent in once, then asks for the tile page (/kinderen/).
- ``SoftwarePageUser``: logs a parent in and enters the PIN once, then asks for /software/.
- ``HealthzUser`` and ``FaviconUser``: the cheapest answers the portal has (there is no bare
  Django view; see load.py).

Each Locust user takes its own family (``bench<NNNN>@example.com`` with a copy of Emma and
Daan, see bench/seed.py), so no two users share a parent account or a pupil row.

Cookies: with DEBUG off the portal's cookies are ``__Host-`` and Secure, and no setting
turns that off (basispoort/settings.py ties it to DEBUG). Python's cookie jar never sends a
Secure cookie over plain http (Locust's own workaround for that no longer works with
geventhttpclient 2.6, which sets ``request.type`` per request), so every POST would get a 403
"CSRF cookie not set". The users here give their cookie jar a policy that also sends Secure
cookies over http, and only when the host is a loopback address: browsers treat
http://127.0.0.1 as a secure context and do the same.

Besides Locust's own statistics, the users record every request here, and at the end the
numbers for the measuring window (from the moment all users are logged in and spawned, plus
a short warm-up, until the run stops) are written as JSON to $BENCH_OUT: requests per second
and exact p50/p95/p99 per step, and complete flows per second.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import time
from collections import defaultdict
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlsplit

from locust import FastHttpUser, events, task

PASSWORD = os.environ.get("BENCH_PASSWORD", "thuisportaal-demo")
PIN = os.environ.get("BENCH_PIN", "2468")
CHILD = os.environ.get("BENCH_CHILD", "Emma")
PRODUCT = os.environ.get("BENCH_PRODUCT", "")  # the code (UUID) of a product without a client
FAMILIES = int(os.environ.get("BENCH_FAMILIES", "1"))
USERS = int(os.environ.get("BENCH_USERS", "1"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "2"))
OUT = os.environ.get("BENCH_OUT", "")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TILE = re.compile(
    r'<a class="tile" href="(/kind/[0-9a-f-]+/)">.*?<span class="tile-name">([^<]+)<', re.S
)

# Step names, in the order of the flow (they sort that way in Locust's tables too).
LOGIN_PAGE = "1 GET / (login page)"
LOGIN = "2 POST / (parent login)"
TILES = "3 GET /kinderen/ (tiles)"
PAD = "4 GET /kind/<code>/ (PIN pad)"
PIN_POST = "5 POST /kind/<code>/ (PIN)"
SOFTWARE = "6 GET /software/"
LAUNCH = "7 POST /software/<code>/openen/"
LAUNCHED = "8 GET /software/<code>/gestart/"
FLOW = "complete home flow"

_family = itertools.count()
_ready = 0
_records: dict[str, list[tuple[float, float, bool]]] = defaultdict(list)
_marks: dict[str, float] = {}


class FlowFailed(Exception):
    pass


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, **kwargs):
    _records[name].append((time.time(), response_time, exception is None))


@events.spawning_complete.add_listener
def _spawned(user_count, **kwargs):
    _marks.setdefault("spawned", time.time())


@events.test_stopping.add_listener
def _stopping(**kwargs):
    _marks.setdefault("stopping", time.time())


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


@events.quitting.add_listener
def _write_summary(environment, **kwargs):
    if not OUT:
        return
    end = _marks.get("stopping", time.time())
    spawned = _marks.get("spawned", end)
    all_ready = _marks.get("ready")
    start = max(spawned, all_ready or spawned) + WARMUP
    window = max(end - start, 1e-9)
    steps = {}
    for name, rows in sorted(_records.items()):
        inside = [row for row in rows if start <= row[0] <= end]
        ok = sorted(ms for _at, ms, good in inside if good)
        steps[name] = {
            "requests_total": len(rows),
            "failures_total": sum(1 for row in rows if not row[2]),
            "requests_in_window": len(inside),
            "failures_in_window": sum(1 for row in inside if not row[2]),
            "per_second": len(ok) / window,
            "p50_ms": _percentile(ok, 0.50),
            "p95_ms": _percentile(ok, 0.95),
            "p99_ms": _percentile(ok, 0.99),
            "max_ms": ok[-1] if ok else float("nan"),
        }
    summary = {
        "window_start": start,
        "window_end": end,
        "window_seconds": window,
        "all_users_ready": all_ready is not None,
        "users": USERS,
        "steps": steps,
    }
    with open(OUT, "w") as file:
        json.dump(summary, file, indent=2)


class PortalUser(FastHttpUser):
    abstract = True
    # Sync gunicorn workers close every connection; a long queue may keep a request waiting.
    network_timeout = 60.0
    connection_timeout = 60.0

    def on_start(self):
        if urlsplit(self.host).hostname in LOOPBACK:
            # Secure cookies over http, on loopback only (see the module's docstring).
            self.client.cookiejar.set_policy(
                DefaultCookiePolicy(secure_protocols=("https", "wss", "http"))
            )
        index = next(_family) % FAMILIES
        self.email = f"bench{index:04d}@example.com"
        self.origin = {"Origin": self.host.rstrip("/")}

    def _ready(self):
        global _ready
        _ready += 1
        if _ready >= USERS:
            _marks.setdefault("ready", time.time())

    # One step: a request whose answer must have this status (and redirect there).
    def step(self, method, path, name, status, location=None, data=None):
        headers = self.origin if method == "POST" else None
        with self.client.request(
            method,
            path,
            name=name,
            data=data,
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != status:
                response.failure(f"{response.status_code} instead of {status}")
                raise FlowFailed(name)
            if location is not None:
                where = response.headers.get("Location", "")
                if not re.fullmatch(location, where):
                    response.failure(f"redirect to {where!r}, expected {location!r}")
                    raise FlowFailed(name)
            return response

    @staticmethod
    def csrf(response) -> str:
        match = CSRF.search(response.text)
        if not match:
            raise FlowFailed("no CSRF token")
        return match.group(1)

    def log_in_parent(self, login_page=LOGIN_PAGE, login=LOGIN):
        page = self.step("GET", "/", login_page, 200)
        self.step(
            "POST",
            "/",
            login,
            302,
            location="/kinderen/",
            data={
                "csrfmiddlewaretoken": self.csrf(page),
                "username": self.email,
                "password": PASSWORD,
            },
        )

    def child_path(self, tiles_response) -> str:
        for path, name in TILE.findall(tiles_response.text):
            if name.strip() == CHILD:
                return path
        raise FlowFailed(f"no tile for {CHILD}")

    def enter_pin(self, child_path, pad_name=PAD, pin_name=PIN_POST):
        pad = self.step("GET", child_path, pad_name, 200)
        self.step(
            "POST",
            child_path,
            pin_name,
            302,
            location="/software/",
            data={"csrfmiddlewaretoken": self.csrf(pad), "entered": PIN},
        )


class HomeFlowUser(PortalUser):
    """The whole home flow per iteration, no think time."""

    def on_start(self):
        super().on_start()
        if not PRODUCT:
            raise RuntimeError("BENCH_PRODUCT must name a product code (without an SSO client)")
        self._ready()

    @task
    def home_flow(self):
        started = time.perf_counter()
        try:
            self.log_in_parent()
            tiles = self.step("GET", "/kinderen/", TILES, 200)
            self.enter_pin(self.child_path(tiles))
            software = self.step("GET", "/software/", SOFTWARE, 200)
            launch = f"/software/{PRODUCT}/openen/"
            if f'action="{launch}"' not in software.text:
                raise FlowFailed("the product is not on the software page")
            launched = f"/software/{PRODUCT}/gestart/"
            self.step(
                "POST",
                launch,
                LAUNCH,
                302,
                location=re.escape(launched),
                data={"csrfmiddlewaretoken": self.csrf(software)},
            )
            self.step("GET", launched, LAUNCHED, 200)
        except FlowFailed as failed:
            events.request.fire(
                request_type="FLOW",
                name=FLOW,
                response_time=(time.perf_counter() - started) * 1000,
                response_length=0,
                exception=failed,
                context={},
            )
            return
        events.request.fire(
            request_type="FLOW",
            name=FLOW,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=None,
            context={},
        )


class TilePageUser(PortalUser):
    """A logged-in parent asking for the tile page again and again."""

    def on_start(self):
        super().on_start()
        try:
            self.log_in_parent("setup: GET /", "setup: POST / (login)")
        except FlowFailed:
            return  # counted as a failure; the page requests of this user then fail too
        self._ready()

    @task
    def tiles(self):
        with contextlib.suppress(FlowFailed):
            self.step("GET", "/kinderen/", TILES, 200)


class SoftwarePageUser(PortalUser):
    """A child (logged in through the parent and the PIN) asking for /software/ again."""

    def on_start(self):
        super().on_start()
        try:
            self.log_in_parent("setup: GET /", "setup: POST / (login)")
            tiles = self.step("GET", "/kinderen/", "setup: GET /kinderen/", 200)
            self.enter_pin(self.child_path(tiles), "setup: GET /kind/", "setup: POST /kind/")
        except FlowFailed:
            return  # counted as a failure; the page requests of this user then fail too
        self._ready()

    @task
    def software(self):
        with contextlib.suppress(FlowFailed):
            self.step("GET", "/software/", SOFTWARE, 200)


class HealthzUser(PortalUser):
    """/healthz: answered by the first middleware with one SELECT 1 (no view, no session)."""

    def on_start(self):
        super().on_start()
        self._ready()

    @task
    def healthz(self):
        with contextlib.suppress(FlowFailed):
            self.step("GET", "/healthz", "GET /healthz", 200)


class BareUser(PortalUser):
    """/bench/leeg/: an empty view behind the whole middleware stack (BENCH_VIEWS=true)."""

    def on_start(self):
        super().on_start()
        self._ready()

    @task
    def bare(self):
        with contextlib.suppress(FlowFailed):
            self.step("GET", "/bench/leeg/", "GET /bench/leeg/", 200)
