"""The hot pages at 10,000 and at 1,000,000 pupils: latency, queries and query plans.

Run with `make bench-scale` (or `.venv/bin/python -m bench.scale [--pupils 10000]
[--more 990000] [--repeat 200]`); it needs a PostgreSQL server (DATABASE_URL's, else
postgres@127.0.0.1:5432) and takes about eight minutes on two cores, most of it seeding:

1. creates a throwaway database ``thuisportaal_scale_<pid>``, migrates it and seeds it with
   ``seed_scale --pupils 10000`` (no ``seed_demo``), under production settings (DEBUG off, a
   random SECRET_KEY, a fresh OIDC signing key, ALLOWED_HOSTS=127.0.0.1, SECURE_SSL_REDIRECT
   off, static files collected into a temporary folder);
2. measures in this process with Django's test client (https requests), for the parent with
   six children (ouder1@example.net) and the one with one child (ouder2@example.net):
   the tile page /kinderen/, the PIN check (POST /kind/<code>/ with PIN 2468; only the view
   is timed, the parent's login before each try is not), ``Pupil.try_to_log_in`` on its own,
   and the software page /software/; each ``--repeat`` times: median and p95 in ms and the
   queries of one request. The PIN check is also shown without its Argon2 verification
   (the time spent in ``Pupil.check_pin`` subtracted per call), which is what the database
   can change;
3. adds ``seed_scale --pupils 990000`` (the command only adds) and measures again;
4. prints both tables, whether each figure at a million is within 1.25× of that at ten
   thousand, and EXPLAIN (ANALYZE, BUFFERS) of every SELECT of the three pages at a million
   pupils, flagging a sequential scan on the big tables;
5. drops the database, also after an error or Ctrl-C.

Latency is wall-clock time in this process: Django, the ORM, templates, Argon2 and the
round trips to PostgreSQL, without a web server. On a shared two-core machine single
requests vary by a millisecond or two; the median is the figure to compare.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.import_speed import throwaway_database

ROOT = Path(__file__).resolve().parent.parent
PARENTS = (("6 children", "ouder1@example.net"), ("1 child", "ouder2@example.net"))
PIN = "2468"
PICTURES = ["kat", "zon"]
WITHIN = 1.25
WARM = 5
# A sequential scan on one of these is a problem at a million pupils (the catalogue and the
# schools are small). launcher_licence_groups grows with the schools too (some 12,000 rows
# at a million pupils), so it is watched as well.
BIG_TABLES = (
    "schools_pupil",
    "launcher_licence",
    "accounts_parentlink",
    "django_session",
    "launcher_licence_groups",
)
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
SEED_PARENT = re.compile(r"ouder met (6 kinderen|1 kind):\s+(\S+@\S+)")


# --- The database and the settings --------------------------------------------------------


def production_settings(database_url: str, folder: Path) -> None:
    """Production settings, as bench/load.py gives gunicorn, in this process."""
    from sso.keygen import new_private_key_pem

    for key in ("DJANGO_ALLOW_ASYNC_UNSAFE",):
        os.environ.pop(key, None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="basispoort.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL="https://127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=database_url,
        STATIC_ROOT=str(folder / "static"),
        MEDIA_ROOT=str(folder / "media"),
        EMAIL_URL="dummymail://",
        OIDC_SIGNING_KEY=new_private_key_pem(2048).decode(),
    )


def seed(pupils: int) -> dict[str, str]:
    """seed_scale --pupils N, its output shown; the parents it printed."""
    from django.core.management import call_command

    class Tee:
        def __init__(self):
            self.text = []

        def write(self, text):
            self.text.append(text)
            sys.stdout.write(text)

        def flush(self):
            sys.stdout.flush()

    out = Tee()
    call_command("seed_scale", pupils=pupils, stdout=out)
    return dict(SEED_PARENT.findall("".join(out.text)))


# --- Measuring -----------------------------------------------------------------------------


@dataclass
class Figure:
    page: str
    parent: str
    times: list[float]  # ms
    queries: int
    transaction_statements: int

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def count(statements: list[str]) -> tuple[int, int]:
    control = sum(1 for sql in statements if sql.lstrip().upper().startswith(CONTROL))
    return len(statements) - control, control


@contextmanager
def argon2_clock() -> Iterator[list[float]]:
    """Seconds spent in Pupil.check_pin / check_picture_password (the Argon2 verification)."""
    from schools.models import Pupil

    spent = [0.0]
    originals = {name: getattr(Pupil, name) for name in ("check_pin", "check_picture_password")}

    def timed(original):
        def check(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started

        return check

    for name, original in originals.items():
        setattr(Pupil, name, timed(original))
    try:
        yield spent
    finally:
        for name, original in originals.items():
            setattr(Pupil, name, original)


def measure_parent(label: str, email: str, repeat: int, sql: dict | None) -> list[Figure]:
    """The four measurements for one parent; the SQL of each page into ``sql`` if given."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from schools.models import LoginMethod, Pupil

    user = User.objects.get(email=email)
    children = list(
        Pupil.objects.home_login_possible()
        .filter(parent_links__user=user)
        .select_related("school", "group")
    )
    # A child with a PIN (year 3+) when there is one, else the picture password.
    pupil = next((p for p in children if p.login_method == LoginMethod.PIN), children[0])
    if pupil.login_method == LoginMethod.PIN:
        entered, secret = PIN, PIN
    else:
        entered, secret = ",".join(PICTURES), PICTURES
    client = Client(HTTP_HOST="127.0.0.1")
    figures = []

    def check(response, status, location=None):
        if response.status_code != status:
            raise SystemExit(f"{label}: {response.status_code} instead of {status}")
        if location and not response["Location"].endswith(location):
            raise SystemExit(f"{label}: redirected to {response['Location']}, not {location}")

    def timed(page, request, status, location=None, before=None) -> Figure:
        for _ in range(WARM):
            if before:
                before()
            check(request(), status, location)
        if before:
            before()
        with CaptureQueriesContext(connection) as captured:
            check(request(), status, location)
        statements = [query["sql"] for query in captured.captured_queries]
        if sql is not None:
            sql[page] = statements
        times = []
        for _ in range(repeat):
            if before:
                before()
            started = time.perf_counter()
            response = request()
            times.append((time.perf_counter() - started) * 1000)
            check(response, status, location)
        return Figure(page, label, times, *count(statements))

    # The tile page, logged in as the parent.
    client.force_login(user)
    response = client.get("/kinderen/", secure=True)
    check(response, 200)
    tiles = response.content.decode().count('class="tile"')
    if tiles != len(children):
        raise SystemExit(f"{label}: {tiles} tiles for {len(children)} children")
    figures.append(
        timed("GET /kinderen/", lambda: client.get("/kinderen/", secure=True), 200),
    )

    # The PIN check: the view only; the parent logs in again (untimed) before each try,
    # since a correct PIN ends the parent's session.
    path = f"/kind/{pupil.code}/"
    with argon2_clock() as spent:
        marks = []

        def post():
            marks.append(spent[0])
            return client.post(path, {"entered": entered}, secure=True)

        view = timed(
            f"POST /kind/<code>/ ({pupil.login_method})",
            post,
            302,
            "/software/",
            before=lambda: client.force_login(user),
        )
        figures.append(view)
        # Argon2 per timed call: the clock's growth between one call and the next.
        argon = [(b - a) * 1000 for a, b in zip(marks, [*marks[1:], spent[0]], strict=True)]
        argon = argon[-repeat:]
        figures.append(
            Figure(
                "  same, minus Argon2",
                label,
                [t - a for t, a in zip(view.times, argon, strict=True)],
                view.queries,
                view.transaction_statements,
            )
        )

    # The software page, in the child's session the last PIN check started.
    figures.append(timed("GET /software/", lambda: client.get("/software/", secure=True), 200))

    # Pupil.try_to_log_in on its own, minus its Argon2 verification.
    with argon2_clock() as spent:
        for _ in range(WARM):
            assert pupil.try_to_log_in(secret).ok
        with CaptureQueriesContext(connection) as captured:
            assert pupil.try_to_log_in(secret).ok
        times, without = [], []
        for _ in range(repeat):
            before = spent[0]
            started = time.perf_counter()
            result = pupil.try_to_log_in(secret)
            took = time.perf_counter() - started
            assert result.ok
            times.append(took * 1000)
            without.append((took - (spent[0] - before)) * 1000)
    statements = [query["sql"] for query in captured.captured_queries]
    figures.append(Figure("try_to_log_in()", label, times, *count(statements)))
    figures.append(Figure("  same, minus Argon2", label, without, *count(statements)))
    client.logout()
    return figures


def measure(pupils: int, repeat: int, sql: dict | None) -> list[Figure]:
    from django.db import connection

    print(f"\nMeasuring at {pupils:,} pupils ({repeat} requests each) …", flush=True)
    started = time.monotonic()
    figures = []
    for label, email in PARENTS:
        figures += measure_parent(label, email, repeat, sql if label == PARENTS[0][0] else None)
    connection.close()
    print(f"  done in {time.monotonic() - started:.0f} s", flush=True)
    return figures


# --- Printing ------------------------------------------------------------------------------


def print_table(pupils: int, figures: list[Figure]) -> None:
    print(f"\nAt {pupils:,} pupils (ms, wall clock in process):")
    print(f"  {'page':<34} {'parent':<11} {'median':>8} {'p95':>8} {'queries':>8}")
    for f in figures:
        tx = f"+{f.transaction_statements}tx" if f.transaction_statements else ""
        queries = f"{f.queries}{tx}"
        print(f"  {f.page:<34} {f.parent:<11} {f.median:8.2f} {f.p95:8.2f} {queries:>8}")


def print_comparison(small: int, large: int, before: list[Figure], after: list[Figure]) -> bool:
    print(f"\nAt {large:,} against {small:,} pupils (medians, ms; within {WITHIN}×?):")
    print(
        f"  {'page':<34} {'parent':<11} {small // 1000:>6,}k {large // 1000:>7,}k "
        f"{'ratio':>6} {'p95 ratio':>9}  verdict"
    )
    all_within = True
    for a, b in zip(before, after, strict=True):
        ratio, p95_ratio = b.median / a.median, b.p95 / a.p95
        ok = ratio <= WITHIN
        all_within &= ok
        same_queries = "" if a.queries == b.queries else f" (queries {a.queries} → {b.queries})"
        print(
            f"  {a.page:<34} {a.parent:<11} {a.median:7.2f} {b.median:8.2f} {ratio:6.2f} "
            f"{p95_ratio:9.2f}  {'within' if ok else 'SLOWER'}{same_queries}"
        )
    print(
        "  Every median is within 1.25× of the one at ten thousand."
        if all_within
        else "  NOT every median is within 1.25× of the one at ten thousand (see SLOWER)."
    )
    return all_within


def explain(sql: dict[str, list[str]], full: bool) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of every SELECT; returns the flagged sequential scans."""
    from django.db import connection

    flagged = []
    node = re.compile(r"^\s*(->\s+)?[A-Z][A-Za-z ]+(?: on | using |\s*\(cost)")
    print("\nQuery plans at a million pupils (parent with 6 children), plan nodes only:")
    for page, statements in sql.items():
        selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        print(f"\n=== {page}: {len(selects)} SELECT of {len(statements)} statements")
        for number, statement in enumerate(selects, start=1):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement)
                lines = [row[0] for row in cursor.fetchall()]
            # The column list says nothing about the plan: only FROM onwards is shown.
            short = re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", statement, count=1)
            short = short if len(short) <= 700 else short[:700] + " …"
            print(f"\n--- {page} #{number}: {short}")
            for line in lines:
                seq = re.search(r"Seq Scan on (\w+)", line)
                bad = seq is not None and seq.group(1) in BIG_TABLES
                if bad:
                    flagged.append(f"{page} #{number}: {line.strip()}")
                if full or node.match(line) or line.startswith("Execution Time"):
                    print(f"  {line}{'   <-- SEQ SCAN ON A BIG TABLE' if bad else ''}")
    connection.close()
    print()
    if flagged:
        print("Sequential scans on big tables:")
        for line in flagged:
            print(f"  {line}")
    else:
        print(f"No sequential scan on {', '.join(BIG_TABLES)}.")
    return flagged


# --- Main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pupils", type=int, default=10_000, help="the first, small seed")
    parser.add_argument(
        "--more", type=int, default=990_000, help="pupils added for the large run (0: none)"
    )
    parser.add_argument("--repeat", type=int, default=200, help="timed requests per figure")
    parser.add_argument("--full-plans", action="store_true", help="print whole plans")
    args = parser.parse_args()

    began = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="thuisportaal-scale-"))
    try:
        with throwaway_database(postgres=True, prefix="thuisportaal_scale") as database_url:
            run(args, database_url, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{time.monotonic() - began:.0f} s in all.")


def run(args, database_url: str, folder: Path) -> None:
    production_settings(database_url, folder)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    name = connection.settings_dict["NAME"]
    step = time.monotonic()
    print(f"Database {name}: migrating, collecting static files …", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    print(f"  ready in {time.monotonic() - step:.0f} s\n", flush=True)

    seeded = seed(args.pupils)
    expected = {"6 kinderen": PARENTS[0][1], "1 kind": PARENTS[1][1]}
    if seeded != expected:
        raise SystemExit(f"seed_scale printed other parents: {seeded}")
    small = measure(args.pupils, args.repeat, None)
    print_table(args.pupils, small)
    if not args.more:
        return

    total = args.pupils + args.more
    print(f"\nAdding {args.more:,} pupils (seed_scale only adds) …", flush=True)
    seed(args.more)
    sql: dict[str, list[str]] = {}
    large = measure(total, args.repeat, sql)
    print_table(args.pupils, small)
    print_table(total, large)
    print_comparison(args.pupils, total, small, large)
    explain(sql, args.full_plans)


if __name__ == "__main__":
    main()
