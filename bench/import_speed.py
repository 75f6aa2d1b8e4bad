"""How fast the school-data import is, and whether its query count stays flat as schools grow.

Run with `make bench-import` (or `.venv/bin/python -m bench.import_speed [--postgres]`).

For 1,000 and 8,000 pupils it generates an EDEXML file in memory (Dutch-looking names, 25–30
pupils per group over year levels 1–8, one teacher with an e-mail address per group, a few
ECK iDs) and imports it through `schools.imports.run.run_import`, as `import_edexml` does,
three times: the first import (everything new), a re-import of the same file (nothing
changes), and a "next year" file (10% of the pupils left, 10% new, 20% in another group, 5%
renamed, 10% of the teachers swapped groups). Each step prints wall time, database queries
(counted with `connection.execute_wrapper`, so the count includes savepoints and the import
log), queries per 1,000 pupils and pupils per second, and the summary says whether the query
count stays flat between the sizes: the sync works in bulk, so it may only grow by one query
per extra batch of 1,000 rows.

The database is always a throwaway one: a temporary SQLite file by default; with `--postgres`
(or when DATABASE_URL names a PostgreSQL server) a database `thuisportaal_bench_<pid>` created
on that server (default postgres@127.0.0.1:5432) and dropped afterwards. DEBUG is off while
measuring, as in production, so Django keeps no query log.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape, quoteattr

SIZES = (1000, 8000)
BATCH = 1000  # schools.imports.sync.BATCH
SECONDS_BUDGET = 90  # the next size is skipped once this much time has gone
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"

FIRST_NAMES = (
    "Daan", "Sem", "Lucas", "Levi", "Finn", "Milan", "Noah", "Luuk", "Bram", "Liam", "Jesse",
    "Thomas", "Sven", "Julian", "Mees", "Thijs", "Ruben", "Stijn", "Gijs", "Jens", "Mohammed",
    "Adam", "Ayoub", "Emma", "Julia", "Mila", "Tess", "Sophie", "Zoë", "Sara", "Nora", "Yara",
    "Eva", "Liv", "Lotte", "Saar", "Fenna", "Noor", "Anna", "Evi", "Lieke", "Fleur", "Isa",
    "Femke", "Roos", "Yasmine", "Aya", "Amira", "Sanne", "Jip",
)  # fmt: skip
MIDDLE_NAMES = ("Maria", "Johannes", "Pieter", "Catharina", "Willem", "Hendrika", "Jan", "Anna")
LAST_NAMES = (
    ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"), ("", "Bakker"),
    ("", "Visser"), ("", "Smit"), ("", "Meijer"), ("de", "Boer"), ("", "Mulder"),
    ("de", "Groot"), ("", "Bos"), ("", "Vos"), ("", "Peters"), ("", "Hendriks"),
    ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"), ("de", "Wit"), ("", "Dijkstra"),
    ("", "Smits"), ("de", "Graaf"), ("van der", "Meer"), ("van der", "Linden"), ("", "Kok"),
    ("", "Jacobs"), ("de", "Haan"), ("", "Vermeulen"), ("van den", "Heuvel"),
    ("van der", "Veen"), ("van den", "Broek"), ("de", "Bruijn"), ("de", "Jong"),
    ("", "El Amrani"), ("", "Yılmaz"), ("", "Öztürk"), ("", "Wijaya"), ("", "Kramer"),
    ("van", "Beek"), ("", "Prins"),
)  # fmt: skip


# The school in memory, rendered to EDEXML bytes by render().


@dataclass(frozen=True)
class GroupData:
    key: str
    name: str
    level: int


@dataclass(frozen=True)
class PupilData:
    key: str
    first: str
    middle: str
    infix: str
    last: str
    born: str
    group: GroupData
    eck_id: str = ""


@dataclass(frozen=True)
class TeacherData:
    key: str
    first: str
    infix: str
    last: str
    email: str
    group_keys: tuple[str, ...]


@dataclass
class SchoolData:
    brin: str
    school_year: int  # 2024 for 2024-2025
    groups: list[GroupData]
    pupils: list[PupilData]
    teachers: list[TeacherData]
    next_key: int = field(default=0)


def _suffix(index: int) -> str:
    """a, b, …, z, aa, ab, …: parallel groups of one year level."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _eck_id(rng: random.Random) -> str:
    return "https://ketenid.nl/201703/" + rng.randbytes(64).hex()


def _pupil(rng: random.Random, key: int, group: GroupData, school_year: int) -> PupilData:
    infix, last = rng.choice(LAST_NAMES)
    born_year = school_year - 4 - (group.level - 1) - rng.randint(0, 1)
    return PupilData(
        key=str(key),
        first=rng.choice(FIRST_NAMES),
        middle=rng.choice(MIDDLE_NAMES) if rng.random() < 0.4 else "",
        infix=infix,
        last=last,
        born=f"{born_year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        group=group,
        eck_id=_eck_id(rng) if rng.random() < 0.05 else "",
    )


def generate(pupil_count: int, brin: str, seed: int) -> SchoolData:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    school_year = 2024
    group_count = max(8, round(pupil_count / 27))
    groups = [
        GroupData(f"G{level}{_suffix(index)}", f"Groep {level}{_suffix(index)}", level)
        for position in range(group_count)
        for level, index in [(position % 8 + 1, position // 8)]
    ]
    # Dealt out in turn, so every group gets about 27 (never outside 25–30); listed per group.
    places = sorted(
        (groups[i % group_count] for i in range(pupil_count)),
        key=lambda group: (group.level, group.key),
    )
    pupils = [_pupil(rng, 100001 + i, group, school_year) for i, group in enumerate(places)]
    domain = f"school-{brin.lower()}.example"
    teachers = []
    for number, group in enumerate(groups, start=1):
        infix, last = rng.choice(LAST_NAMES)
        first = rng.choice(FIRST_NAMES)
        local = unicodedata.normalize("NFKD", f"{first[0]}.{infix}{last}{number}".lower())
        email = local.replace("ı", "i").encode("ascii", "ignore").decode().replace(" ", "")
        email += f"@{domain}"
        teachers.append(TeacherData(f"LK{number:04d}", first, infix, last, email, (group.key,)))
    return SchoolData(brin, school_year, groups, pupils, teachers, next_key=100001 + pupil_count)


def next_year(school: SchoolData, seed: int) -> SchoolData:
    """10% left, 10% new, 20% to another group, 5% renamed; 10% of teachers swap groups."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    count = len(school.pupils)
    staying = rng.sample(school.pupils, count - count // 10)
    by_level: dict[int, list[GroupData]] = {}
    for group in school.groups:
        by_level.setdefault(group.level, []).append(group)
    moved = set(rng.sample(range(len(staying)), count // 5))
    renamed = set(rng.sample(range(len(staying)), count // 20))
    pupils = []
    for index, pupil in enumerate(staying):
        if index in moved:
            others = [group for group in by_level[pupil.group.level] if group != pupil.group]
            others = others or [group for group in school.groups if group != pupil.group]
            pupil = replace(pupil, group=rng.choice(others))
        if index in renamed:
            infix, last = rng.choice([name for name in LAST_NAMES if name[1] != pupil.last])
            pupil = replace(pupil, infix=infix, last=last)
        pupils.append(pupil)
    key = school.next_key
    for _ in range(count // 10):
        pupils.append(_pupil(rng, key, rng.choice(school.groups), school.school_year + 1))
        key += 1
    teachers = list(school.teachers)
    swapping = rng.sample(range(len(teachers)), (len(teachers) // 20) * 2)
    for first, second in zip(swapping[::2], swapping[1::2], strict=True):
        teachers[first], teachers[second] = (
            replace(teachers[first], group_keys=teachers[second].group_keys),
            replace(teachers[second], group_keys=teachers[first].group_keys),
        )
    return replace(
        school, school_year=school.school_year + 1, pupils=pupils, teachers=teachers, next_key=key
    )


def render(school: SchoolData) -> bytes:
    def element(name: str, text: str) -> str:
        return f"<{name}>{escape(text)}</{name}>" if text else ""

    out = [
        "<?xml version='1.0' encoding='UTF-8'?>\n<EDEX>\n<school>",
        element("schooljaar", f"{school.school_year}-{school.school_year + 1}"),
        element("brincode", school.brin),
        element("dependancecode", "00"),
        element("xsdversie", "2.1"),
        "</school>\n<groepen>\n",
    ]
    for group in school.groups:
        out.append(
            f"<groep key={quoteattr(group.key)}>{element('naam', group.name)}"
            f"{element('jaargroep', str(group.level))}</groep>\n"
        )
    out.append("</groepen>\n<leerlingen>\n")
    for pupil in school.pupils:
        eck = f" eckid={quoteattr(pupil.eck_id)}" if pupil.eck_id else ""
        given = f"{pupil.first} {pupil.middle}".strip()
        out.append(
            f"<leerling key={quoteattr(pupil.key)}{eck}>{element('achternaam', pupil.last)}"
            f"{element('voorvoegsel', pupil.infix)}{element('voornamen', given)}"
            f"{element('roepnaam', pupil.first)}{element('geboortedatum', pupil.born)}"
            f"{element('jaargroep', str(pupil.group.level))}"
            f"<groep key={quoteattr(pupil.group.key)}/></leerling>\n"
        )
    out.append("</leerlingen>\n<leerkrachten>\n")
    for teacher in school.teachers:
        references = "".join(f"<groep key={quoteattr(key)}/>" for key in teacher.group_keys)
        out.append(
            f"<leerkracht key={quoteattr(teacher.key)}>{element('achternaam', teacher.last)}"
            f"{element('voorvoegsel', teacher.infix)}{element('roepnaam', teacher.first)}"
            f"{element('emailadres', teacher.email)}<groepen>{references}</groepen>"
            "</leerkracht>\n"
        )
    out.append("</leerkrachten>\n</EDEX>\n")
    return "".join(out).encode()


# The throwaway database.


@contextmanager
def throwaway_database(postgres: bool, prefix: str = "thuisportaal_bench") -> Iterator[str]:
    """A DATABASE_URL for an empty database that is gone afterwards (on PostgreSQL, named
    ``<prefix>_<pid>``)."""
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://", "pgsql://")):
        postgres, server = True, configured
    else:
        server = DEFAULT_POSTGRES
    if not postgres:
        with tempfile.TemporaryDirectory(prefix="thuisportaal-bench-") as directory:
            yield f"sqlite:///{directory}/bench.sqlite3"
        return

    import psycopg
    from psycopg import sql

    parts = urlsplit(server)
    name = f"{prefix}_{os.getpid()}"
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        if "django" in sys.modules:  # a caller that never set Django up has nothing open
            from django.db import connections

            connections.close_all()
        with psycopg.connect(maintenance, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# Measuring.


@dataclass
class Step:
    size: int
    name: str
    pupils: int
    seconds: float
    parse_seconds: float
    queries: int
    sql_seconds: float
    slowest_seconds: float
    slowest_sql: str
    counts: dict[str, int]


class QueryCounter:
    def __init__(self):
        self.count, self.seconds, self.slowest, self.slowest_sql = 0, 0.0, 0.0, ""

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            self.count += 1
            self.seconds += took
            if took > self.slowest:
                self.slowest, self.slowest_sql = took, sql


def measure(size: int, name: str, school: SchoolData) -> Step:
    from django.db import connection

    from schools.imports.edexml import read_edexml
    from schools.imports.run import run_import
    from schools.models import ImportLog

    data = render(school)
    gc.collect()
    started = time.perf_counter()
    read_edexml(data)  # parsing alone, for the split; run_import parses again
    parse_seconds = time.perf_counter() - started
    counter = QueryCounter()
    gc.collect()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        outcome = run_import(ImportLog.Kind.EDEXML, data, f"bench-{size}-{name}.xml")
        seconds = time.perf_counter() - started
    if outcome.error:
        raise SystemExit(f"{size} pupils, {name}: the import was refused: {outcome.error}")
    return Step(
        size,
        name,
        len(school.pupils),
        seconds,
        parse_seconds,
        counter.count,
        counter.seconds,
        counter.slowest,
        " ".join(counter.slowest_sql.split()[:4]),
        outcome.report.counts,
    )


def run_size(size: int, brin: str) -> list[Step]:
    school = generate(size, brin, seed=size)
    following = next_year(school, seed=size + 1)
    steps = [
        measure(size, "first import", school),
        measure(size, "re-import", school),
        measure(size, "next year", following),
    ]
    expected = (
        {"created": size},
        {"unchanged": size},
        {"created": size // 10, "left": size // 10},
    )
    for step, wanted in zip(steps, expected, strict=True):
        for key, value in wanted.items():
            if step.counts[key] != value:
                raise SystemExit(f"{step.size} {step.name}: {key} {step.counts[key]} != {value}")
    return steps


def print_table(steps: list[Step]) -> None:
    print(
        f"{'pupils':>7} {'step':<13} {'seconds':>8} {'in SQL':>7} {'parse':>6} {'queries':>7} "
        f"{'q/1000 p':>8} {'pupils/s':>8}  slowest query"
    )
    for step in steps:
        print(
            f"{step.size:>7,} {step.name:<13} {step.seconds:>8.3f} {step.sql_seconds:>7.3f} "
            f"{step.parse_seconds:>6.3f} {step.queries:>7} "
            f"{step.queries * 1000 / step.pupils:>8.1f} {step.pupils / step.seconds:>8,.0f}  "
            f"{step.slowest_seconds:.3f} s {step.slowest_sql[:22]}"
        )
    print(
        "(seconds: the whole run_import; in SQL: inside the database calls; parse: "
        "read_edexml alone, measured separately)"
    )
    print("What the imports did (report counts):")
    for step in steps:
        counts = ", ".join(f"{key} {value}" for key, value in step.counts.items() if value)
        print(f"  {step.size:>7,} {step.name:<13} {counts}")


def print_verdict(steps: list[Step]) -> None:
    sizes = sorted({step.size for step in steps})
    if len(sizes) < 2:
        print("Only one size measured: no comparison.")
        return
    small, big = sizes[0], sizes[-1]
    extra_batches = math.ceil(big / BATCH) - math.ceil(small / BATCH)
    flat = True
    print(f"Query count, {small:,} → {big:,} pupils ({extra_batches} more batches of {BATCH}):")
    for name in dict.fromkeys(step.name for step in steps):
        one = next(step for step in steps if step.size == small and step.name == name)
        other = next(step for step in steps if step.size == big and step.name == name)
        growth = other.queries - one.queries
        # Each bulk operation may need one more query per extra batch of 1,000 rows; pupils
        # are the only rows that come in thousands, and at most two bulk operations (create
        # and update) touch them in one import.
        ok = growth <= 2 * extra_batches
        flat &= ok
        scale = (other.seconds / one.seconds) / (big / small)
        print(
            f"  {name:<13} {one.queries:>4} → {other.queries:>4} queries "
            f"(+{growth}, {'only batches' if ok else 'GROWS WITH PUPILS'}); "
            f"time ×{other.seconds / one.seconds:.1f} for ×{big / small:.0f} pupils "
            f"({'linear' if scale < 1.5 else 'worse than linear'}: {scale:.2f} of linear; "
            f"in SQL ×{other.sql_seconds / one.sql_seconds:.1f})"
        )
    if flat:
        print(
            "Verdict: query counts stay flat — they grow only by one query per extra batch of "
            f"{BATCH} rows in a bulk operation, not per pupil."
        )
    else:
        print("Verdict: query counts grow with the number of pupils — see the steps above.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="a throwaway PostgreSQL database (on DATABASE_URL's server or 127.0.0.1:5432)",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    began = time.perf_counter()
    with throwaway_database(args.postgres) as url:
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "basispoort.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test.utils import override_settings

        call_command("migrate", verbosity=0)
        vendor = connection.vendor
        if vendor == "postgresql":
            version = f"{connection.pg_version // 10000}.{connection.pg_version % 10000}"
        else:
            version = connection.Database.sqlite_version
        print(
            f"School-data import (EDEXML via run_import), {vendor} {version} "
            f"{connection.settings_dict['NAME']}, {os.cpu_count()} cores"
        )
        steps: list[Step] = []
        with override_settings(DEBUG=False):
            run_size(50, brin="99WU")  # warm-up: imports, connection, statement caches
            for number, size in enumerate(args.sizes, start=1):
                if time.perf_counter() - began > SECONDS_BUDGET:
                    print(f"Skipped {size:,} pupils: over the {SECONDS_BUDGET} s budget.")
                    continue
                steps += run_size(size, brin=f"{number:02d}BN")
        print_table(steps)
        print_verdict(steps)
    print(f"Done in {time.perf_counter() - began:.1f} s.")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
