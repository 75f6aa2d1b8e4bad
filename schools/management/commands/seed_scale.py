"""python manage.py seed_scale --pupils N [--seed 1] [--batch-size 5000]

Fills a database with fictional data at national scale, for performance work: schools of
50–600 pupils with groups 1–8, pupils, their parents' accounts, one ICT coordinator per
school, and a catalogue of publishers and products that the schools hold licences for.

Rows are plain tuples, written in batches of 5,000 (``--batch-size``) in one transaction:
on PostgreSQL each batch is one binary COPY, elsewhere (SQLite) one ``bulk_create``. COPY
because model instances and ``bulk_create`` managed about 850 pupils a second on
PostgreSQL on a 2-core machine (20 minutes for a million; most of it Python), COPY about
5,000 a second with everything (3.5 minutes), where the database's own work (indexes, and
the foreign keys it checks at commit) is most of the time. The secrets are hashed once:
every parent and coordinator has the password "thuisportaal-bench", every pupil with a PIN
has 2468 and every pupil with pictures "kat" + "zon" (the same Argon2 strings on every row;
hashing per row would take hours). On PostgreSQL the tables are analysed afterwards, so
that a benchmark right after gets realistic query plans.

The command only adds. A second run (same seed or not) continues where the data is: BRIN
numbers already in use are skipped and parents' addresses go on after the highest
``ouderN@example.net``, so nothing collides; the catalogue is found by name and reused.
The same ``--seed`` gives the same schools, names and families, under other BRINs and
addresses. Should a row still collide (say, a run at the same moment), the transaction rolls
back and nothing is added.

School sizes: every school has 50–600 pupils; only when ``--pupils`` is below 50 is there
one smaller school with them all. (The plan never leaves a rest below 50 for the end.)
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Iterator
from datetime import date
from itertools import accumulate, product

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, connection, transaction
from django.db.models import AutoField
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import ParentLink, User
from launcher.models import Licence, Product, Publisher
from schools.models import (
    Group,
    LoginMethod,
    NetworkEnvironment,
    Pupil,
    School,
    StaffMembership,
    StaffRole,
)

BENCH_PASSWORD = "thuisportaal-bench"  # noqa: S105 (published on purpose: benchmark data only)
BENCH_PIN = "2468"
BENCH_PICTURES = ("kat", "zon")
BATCH = 5000
DOMAIN = "example.net"
PARENT_EMAIL_REGEX = r"^ouder[0-9]+@example\.net$"
ICT_EMAIL_REGEX = r"^ict-[0-9a-z]{4}@example\.net$"

MIN_SCHOOL, MAX_SCHOOL, USUAL_SCHOOL = 50, 600, 150
MAX_GROUP = 30  # a year level with more pupils gets parallel groups (3A, 3B, ...)
SHARE_HOME_LOGIN = 0.80
SHARE_ECK_ID = 0.03
SHARE_SECOND_PARENT = 0.30
SHARE_SCHOOL_NO_HOME_LOGIN = 0.05
SHARE_SCHOOL_NETWORK = 0.04
SHARE_LICENCE_EXPIRED = 0.15
LICENCES_PER_SCHOOL = (5, 15)
# Children per family: mostly 1–3, a few with 4–6.
FAMILY_SIZES = (1, 2, 3, 4, 5, 6)
FAMILY_CUM_WEIGHTS = tuple(accumulate((40, 40, 15, 3, 1.5, 0.5)))
# Licence scopes: (scope, cumulative weight).
# Plain strings (the values): a row goes to the database as it is.
SCOPES = (Licence.Scope.SCHOOL.value, Licence.Scope.YEAR_LEVELS.value, Licence.Scope.GROUPS.value)
SCOPE_CUM_WEIGHTS = tuple(accumulate((55, 30, 15)))

FIRST_NAMES = (
    "Daan", "Sem", "Lucas", "Levi", "Finn", "Milan", "Noah", "Luuk", "Bram", "Liam", "Jesse",
    "Thomas", "Sven", "Julian", "Mees", "Thijs", "Ruben", "Stijn", "Gijs", "Jens", "Mohammed",
    "Adam", "Ayoub", "Emma", "Julia", "Mila", "Tess", "Sophie", "Zoë", "Sara", "Nora", "Yara",
    "Eva", "Liv", "Lotte", "Saar", "Fenna", "Noor", "Anna", "Evi", "Lieke", "Fleur", "Isa",
    "Femke", "Roos", "Yasmine", "Aya", "Amira", "Sanne", "Jip", "Max", "Siem", "Olivia",
    "Hugo", "Otis", "Boaz", "Mats", "Jan", "Teun", "Lars", "Ilias", "Rayan", "Nina", "Lina",
    "Maud", "Elin", "Feline", "Hanna", "Ella", "Vera", "Loïs", "Romy", "Ties", "Tijn", "Kiki",
)  # fmt: skip
LAST_NAMES = (
    ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("van", "Dijk"), ("", "Bakker"),
    ("", "Visser"), ("", "Smit"), ("", "Meijer"), ("de", "Boer"), ("", "Mulder"),
    ("de", "Groot"), ("", "Bos"), ("", "Vos"), ("", "Peters"), ("", "Hendriks"),
    ("van", "Leeuwen"), ("", "Dekker"), ("", "Brouwer"), ("de", "Wit"), ("", "Dijkstra"),
    ("", "Smits"), ("de", "Graaf"), ("van der", "Meer"), ("van der", "Linden"), ("", "Kok"),
    ("", "Jacobs"), ("de", "Haan"), ("", "Vermeulen"), ("van den", "Heuvel"),
    ("van der", "Veen"), ("van den", "Broek"), ("de", "Bruijn"), ("de", "Jong"),
    ("", "El Amrani"), ("", "Yılmaz"), ("", "Öztürk"), ("", "Wijaya"), ("", "Kramer"),
    ("van", "Beek"), ("", "Prins"), ("", "Postma"), ("", "Kuipers"), ("", "Huisman"),
    ("", "Willems"), ("", "Schouten"), ("van", "Vliet"), ("", "Hoekstra"), ("", "Bosman"),
    ("", "Maas"), ("", "Verhoeven"), ("", "Koster"), ("", "Bouali"), ("", "Nguyen"),
)  # fmt: skip
SCHOOL_NAMES = (
    "De Regenboog", "Het Kompas", "De Wilgen", "De Springplank", "De Vlinder", "Het Palet",
    "De Zonnewijzer", "De Klimop", "Het Anker", "De Windroos", "De Notenboom", "De Fontein",
    "Het Mozaïek", "De Horizon", "De Boomgaard", "De Ark", "Het Baken", "De Sterrenwacht",
    "De Linde", "De Tweemaster", "Het Klaverblad", "De Bron", "De Meander", "Het Startpunt",
    "De Vuurtoren", "De Kameleon", "De Eendracht", "Het Talent", "De Duizendpoot", "De Es",
)  # fmt: skip
SCHOOL_KINDS = ("OBS", "CBS", "RKBS", "Basisschool", "IKC", "Montessorischool", "Daltonschool")
TOWNS = (
    "Amsterdam", "Rotterdam", "Utrecht", "Den Haag", "Eindhoven", "Groningen", "Tilburg",
    "Almere", "Breda", "Nijmegen", "Apeldoorn", "Arnhem", "Haarlem", "Enschede", "Amersfoort",
    "Zaanstad", "Zwolle", "Leiden", "Leeuwarden", "Maastricht", "Dordrecht", "Ede", "Emmen",
    "Venlo", "Deventer", "Delft", "Helmond", "Hengelo", "Assen", "Middelburg", "Goes", "Sneek",
)  # fmt: skip

# (publisher, [(product, year levels or "" for all, usable at home)]): 10 publishers, 50
# products. Fixed, not drawn: a second run finds the catalogue by these names and reuses it.
CATALOGUE = (
    ("Uitgeverij Zonnebloem", (
        ("Rekenroute", "", True), ("Taalkompas", "345678", True), ("Leesladder", "345", True),
        ("Spellingsprint", "45678", True), ("Woordenschatkist", "", True),
    )),
    ("Educatief Atelier Noord", (
        ("Tafeldiploma", "4567", True), ("Klokwijzer", "345", True), ("Breukenbaan", "678", True),
        ("Meetlab", "5678", False), ("Geldwijs", "34", True),
    )),
    ("De Leerfabriek", (
        ("Topowereld", "5678", True), ("Tijdreizigers", "5678", True), ("Natuurkijker", "", True),
        ("Proefjespaleis", "678", False), ("Weerwoord", "78", True),
    )),
    ("Uitgeverij Blauwe Reiger", (
        ("Engels Avontuur", "5678", True), ("Hello Kids", "1234", True), ("Word Quest", "78", True),
        ("Say It", "5678", True), ("Storytime", "12", True),
    )),
    ("Studio Spelenderwijs", (
        ("Klankkast", "12", True), ("Letterkoffer", "123", True), ("Rijmrups", "12", True),
        ("Lettertrein", "23", True), ("Woordpuzzel", "", True),
    )),
    ("Kinderkennis", (
        ("Codeerkamp", "5678", True), ("Robotlab", "678", False), ("Mediawijzer", "", True),
        ("Typetuin", "5678", True), ("Muisvaardig", "123", True),
    )),
    ("Uitgeverij Vuurtoren", (
        ("Tekstverkenner", "5678", True), ("Boekenbus", "", True), ("Leeslamp", "34", True),
        ("Schrijfwerkplaats", "678", True), ("Begrijpend Lezen Plus", "45678", True),
    )),
    ("Denkwerk Educatie", (
        ("Puzzelplein", "", True), ("Slim Verder", "5678", True), ("Denksport", "345", True),
        ("Logicaland", "678", True), ("Plusklas Online", "", False),
    )),
    ("Muziek & Beweging", (
        ("Zingzang", "1234", True), ("Ritmeroute", "", True), ("Gymkaart", "", False),
        ("Tekenatelier", "", True), ("Beweegwijzer", "", True),
    )),
    ("Wereldwijzer Media", (
        ("Kaartlezer", "5678", True), ("Verkeersheld", "4567", True),
        ("Burgerschap Nu", "78", True), ("Gezond Gedrag", "", True),
        ("Wereldnieuws Junior", "678", True),
    )),
)  # fmt: skip

LicenceGroup = Licence.groups.through


class Table:
    """How rows of one model are written: the fields a row gives, in order, and the rest.

    A row is a plain tuple (a model instance per row costs more than the insert itself).
    Fields a row does not give get their model default, computed once: ``auto_now`` fields
    the moment the run started, other defaults as the model says, ``constants`` as given.
    A unique field must come with the row: one default for every row would collide.
    """

    def __init__(self, model, fields: tuple[str, ...], constants: dict | None = None):
        self.model, self.fields = model, fields
        self.constants = constants or {}
        opts = model._meta
        now = timezone.now()
        rest = []
        for field in opts.concrete_fields:
            if field.attname in fields or (field.primary_key and isinstance(field, AutoField)):
                continue
            if field.attname in self.constants:
                value = self.constants[field.attname]
            elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            elif field.unique or field.primary_key:
                raise ValueError(f"seed_scale: {opts.label}.{field.name} must be in each row")
            else:
                value = field.get_default()
            db_type = field.db_type(connection).partition("(")[0]
            rest.append((field.column, db_type, field.get_db_prep_save(value, connection)))
        self.db_table = opts.db_table
        given = [opts.get_field(name) for name in fields]
        self.columns = [field.column for field in given] + [column for column, _, _ in rest]
        # Database types (without lengths) for a binary COPY: no text for the server to parse.
        self.types = [field.db_type(connection).partition("(")[0] for field in given] + [
            db_type for _, db_type, _ in rest
        ]
        self.tail = tuple(value for _, _, value in rest)

    def instances(self, rows) -> list:
        model, fields, constants = self.model, self.fields, self.constants
        return [model(**dict(zip(fields, row, strict=True)), **constants) for row in rows]


class Writer:
    """Buffers rows per model and writes them ``batch`` at a time.

    On PostgreSQL a batch is one COPY (with psycopg); elsewhere one bulk_create (which the
    backend may split further, e.g. SQLite's limit on query parameters).

    Users are written with their ids known: on PostgreSQL reserved from the id sequence (one
    query per batch), elsewhere returned by bulk_create. A user row starts with a one-item
    list that receives the id; parent links and staff memberships carry that list as their
    second value and are written in full batches right after each batch of users.

    All other rows have UUIDs made here; their foreign keys may point at rows of a batch
    still in a buffer, because Django creates foreign keys DEFERRABLE INITIALLY DEFERRED:
    the database checks them at commit.
    """

    def __init__(self, tables: dict, batch: int):
        self.tables, self.batch = tables, batch
        self.copies = 0  # COPY statements, which execute_wrapper does not see
        self.copy = connection.vendor == "postgresql"
        self.buffers: dict[type, list] = {model: [] for model in tables}
        self.written: dict[type, int] = dict.fromkeys(tables, 0)

    def add(self, model, row: tuple) -> None:
        buffer = self.buffers[model]
        buffer.append(row)
        if len(buffer) < self.batch or model in NEEDS_USERS:
            return
        self._write(model, buffer)
        self.buffers[model] = []
        if model is User:
            for dependent in NEEDS_USERS:
                rows = self.buffers[dependent]
                full = len(rows) - len(rows) % self.batch
                for start in range(0, full, self.batch):
                    self._write(dependent, rows[start : start + self.batch])
                self.buffers[dependent] = rows[full:]

    def finish(self) -> None:
        for model in self.tables:  # in order: users before the rows that need their ids
            rows = self.buffers[model]
            for start in range(0, len(rows), self.batch):
                self._write(model, rows[start : start + self.batch])
            self.buffers[model] = []

    def _write(self, model, rows: list) -> None:
        table = self.tables[model]
        if model is User:
            rows = self._with_user_ids(table, rows)
        elif model in NEEDS_USERS:
            rows = [(row[0], row[1][0], *row[2:]) for row in rows]
        if self.copy:
            ids = [(User._meta.pk.column, "bigint")] if model is User else []
            columns = [column for column, _ in ids] + table.columns
            types = [db_type for _, db_type in ids] + table.types
            self._copy(table.db_table, columns, types, rows, table.tail)
        elif model is not User:  # users were inserted while their ids were fetched
            model.objects.bulk_create(table.instances(rows), batch_size=self.batch)
        self.written[model] += len(rows)

    def _with_user_ids(self, table, rows: list) -> list:
        """The users' ids into their rows' first item; on PostgreSQL rows to copy."""
        if self.copy:
            ids = self._reserve_ids(User, len(rows))
            for user_id, row in zip(ids, rows, strict=True):
                row[0][0] = user_id
            return [(row[0][0], *row[1:]) for row in rows]
        users = User.objects.bulk_create(table.instances(row[1:] for row in rows))
        if any(user.pk is None for user in users):  # a backend without RETURNING
            ids = dict(
                User.objects.filter(email__in=[user.email for user in users]).values_list(
                    "email", "pk"
                )
            )
            for user in users:
                user.pk = ids[user.email]
        for user, row in zip(users, rows, strict=True):
            row[0][0] = user.pk
        return rows

    def _reserve_ids(self, model, count: int) -> list[int]:
        """``count`` ids from the PostgreSQL sequence of the model's primary key."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, model._meta.pk.column, count],
            )
            return [user_id for (user_id,) in cursor.fetchall()]

    def _copy(self, db_table: str, columns: list, types: list, rows: list, tail: tuple) -> None:
        quote = connection.ops.quote_name
        sql = (
            f"COPY {quote(db_table)} ({', '.join(map(quote, columns))}) FROM STDIN (FORMAT BINARY)"
        )
        # Django's debug cursor logs the COPY (connection.queries, CaptureQueriesContext).
        with connection.cursor() as cursor, cursor.copy(sql) as copy:
            copy.set_types(types)
            write = copy.write_row
            for row in rows:
                write(row + tail)
        self.copies += 1


ORDER = (School, Group, Pupil, User, ParentLink, StaffMembership, Licence, LicenceGroup)
NEEDS_USERS = (ParentLink, StaffMembership)


def school_sizes(total: int, rng: random.Random) -> list[int]:
    """Sizes of 50–600 pupils that add up to ``total``; never a rest below 50 at the end.

    Only a ``total`` below 50 gives one smaller school.
    """
    sizes, remaining = [], total
    while remaining > 0:
        size = int(rng.triangular(MIN_SCHOOL, MAX_SCHOOL, USUAL_SCHOOL))
        if remaining - size < MIN_SCHOOL:
            # Take the rest, or leave exactly 50 for one more school.
            size = remaining if remaining <= MAX_SCHOOL else remaining - MIN_SCHOOL
        sizes.append(size)
        remaining -= size
    return sizes


def all_brins() -> Iterator[str]:
    """Every BRIN in a fixed order: 10AA, 10AB, ... 99Z9, then 00AA ... 09Z9."""
    tail = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    for number in [*range(10, 100), *range(10)]:
        for first, second in product(tail, tail):
            yield f"{number:02d}{first}{second}"


def school_year() -> tuple[date, date]:
    today = timezone.localdate()
    start = date(today.year if today.month >= 8 else today.year - 1, 8, 1)
    return start, date(start.year + 1, 7, 31)


class Command(BaseCommand):
    help = (
        "Adds fictional schools, pupils, parents, staff and licences at national scale for "
        "performance work (bulk inserts; the password of every account is "
        f"{BENCH_PASSWORD})."
    )

    def add_arguments(self, parser):
        parser.add_argument("--pupils", type=int, required=True, help="how many pupils to add")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH,
            help=f"rows per INSERT or COPY (default {BATCH})",
        )

    def handle(self, *args, **options):
        total, batch = options["pupils"], options["batch_size"]
        if total < 1:
            raise CommandError("--pupils moet minstens 1 zijn.")
        if batch < 1:
            raise CommandError("--batch-size moet minstens 1 zijn.")
        self.rng = random.Random(options["seed"])  # noqa: S311 (fictional data, no secrets)
        self.total = total
        self.began = time.perf_counter()
        self.queries = 0
        with connection.execute_wrapper(self._count_query):
            try:
                with transaction.atomic():
                    self.prepare()
                    self.writer = Writer(self.tables(), batch)
                    self.say(f"{len(self.sizes):,} scholen voor {total:,} leerlingen gepland.")
                    self.seed()
                    self.writer.finish()
                    inserted = time.perf_counter()
                self.commit_seconds = time.perf_counter() - inserted
            except IntegrityError as error:
                raise CommandError(
                    f"Botsing met gegevens in de database, er is niets toegevoegd: {error}"
                ) from error
            self.analyze_seconds = self.analyze()
        self.summary()

    def _count_query(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)

    def say(self, message: str) -> None:
        self.stdout.write(f"[{time.perf_counter() - self.began:7.1f} s] {message}")
        self.stdout.flush()

    # --- Before writing: the plan, free identifiers, the hashes, the catalogue -------------

    def prepare(self) -> None:
        self.sizes = school_sizes(self.total, self.rng)
        self.brins = self.free_brins(len(self.sizes))
        self.next_parent = self.highest_parent_number() + 1
        self.first_parent = self.next_parent
        # The three secrets, hashed once (Argon2 in production) and reused on every row.
        probe = Pupil(school=School(picture_password_length=len(BENCH_PICTURES)))
        probe.set_pin(BENCH_PIN)
        probe.set_picture_password(BENCH_PICTURES)
        self.pin_hash = probe.pin_hash
        self.picture_hash = probe.picture_password_hash
        self.password_hash = make_password(BENCH_PASSWORD)
        self.products = self.catalogue()
        self.year_start, self.year_end = school_year()
        self.six_children = self.one_child = ""

    def tables(self) -> dict[type, Table]:
        """What each row gives; in ORDER, the order of the final writes."""
        pupil = (
            "code", "school_id", "group_id", "first_name", "infix", "last_name",
            "external_key", "eck_id", "login_method", "pin_hash", "picture_password_hash",
            "home_login_enabled",
        )  # fmt: skip
        specs = {
            School: (
                "code",
                "name",
                "brin",
                "location_code",
                "home_login_allowed",
                "network_environment",
                "picture_password_length",
            ),
            Group: ("code", "school_id", "name", "year_level", "external_key"),
            Pupil: pupil,
            User: ("code", "email", "name"),
            ParentLink: ("pupil_id", "user_id", "slot"),
            StaffMembership: ("code", "user_id", "school_id", "role"),
            Licence: (
                "code",
                "school_id",
                "product_id",
                "valid_from",
                "valid_until",
                "scope",
                "year_levels_text",
            ),
            LicenceGroup: ("licence_id", "group_id"),
        }
        constants = {User: {"password": self.password_hash}}
        return {model: Table(model, specs[model], constants.get(model)) for model in ORDER}

    def free_brins(self, count: int) -> list[str]:
        """BRINs not used by a school (location 00) nor by an earlier run's coordinator."""
        taken = set(School.objects.filter(location_code="00").values_list("brin", flat=True))
        coordinators = User.objects.filter(email__regex=ICT_EMAIL_REGEX)
        taken |= {email[4:8].upper() for email in coordinators.values_list("email", flat=True)}
        brins = []
        for brin in all_brins():
            if brin not in taken:
                brins.append(brin)
                if len(brins) == count:
                    return brins
        raise CommandError(
            f"Er zijn niet genoeg vrije BRIN-nummers voor {count:,} scholen "
            f"(nog {len(brins):,} vrij)."
        )

    def highest_parent_number(self) -> int:
        """N of the highest ouderN@example.net (the longest address, then the last)."""
        email = (
            User.objects.filter(email__regex=PARENT_EMAIL_REGEX)
            .order_by(Length("email").desc(), "-email")
            .values_list("email", flat=True)
            .first()
        )
        return int(email.removeprefix("ouder").partition("@")[0]) if email else 0

    def catalogue(self) -> list[tuple[Product, list[str]]]:
        """The fixed publishers and products, created where missing; with their year levels."""
        names = [name for name, _products in CATALOGUE]
        publishers = {p.name: p for p in Publisher.objects.filter(name__in=names)}
        new = [
            Publisher(name=name, website=f"https://www.{slugify(name)}.example.org")
            for name in names
            if name not in publishers
        ]
        Publisher.objects.bulk_create(new)
        publishers |= {publisher.name: publisher for publisher in new}
        self.new_publishers = len(new)

        existing = {
            (p.publisher_id, p.name): p
            for p in Product.objects.filter(publisher__in=publishers.values())
        }
        products, new = [], []
        for publisher_name, items in CATALOGUE:
            publisher = publishers[publisher_name]
            for name, levels, at_home in items:
                item = existing.get((publisher.pk, name))
                if item is None:
                    item = Product(
                        publisher=publisher,
                        name=name,
                        launch_url=f"https://{slugify(name)}.example.org/start",
                        usable_at_home=at_home,
                    )
                    item.year_levels = list(levels)
                    new.append(item)
                products.append((item, list(levels) or [str(n) for n in range(1, 9)]))
        Product.objects.bulk_create(new)
        self.new_products = len(new)
        return products

    # --- The schools -----------------------------------------------------------------------

    def seed(self) -> None:
        step = max(math.ceil(self.total / 10), 10_000)
        next_report, done = step, 0
        for index, (size, brin) in enumerate(zip(self.sizes, self.brins, strict=True)):
            self.school(brin, size, first=index == 0)
            done += size
            if done >= next_report and done < self.total:
                rate = done / (time.perf_counter() - self.began)
                self.say(f"{done:,} / {self.total:,} leerlingen ({rate:,.0f} per seconde)")
                next_report += step

    def school(self, brin: str, size: int, *, first: bool) -> None:
        rng, add = self.rng, self.writer.add
        kind, name, town = rng.choice(SCHOOL_KINDS), rng.choice(SCHOOL_NAMES), rng.choice(TOWNS)
        school_name = f"{kind} {name} ({town})"
        home_login, network = True, ""
        if not first:  # the first school is open, for the parents printed at the end
            home_login = rng.random() >= SHARE_SCHOOL_NO_HOME_LOGIN
            if rng.random() < SHARE_SCHOOL_NETWORK:
                network = rng.choice(NetworkEnvironment.values)
        school = uuid.uuid4()
        add(School, (school, school_name, brin, "00", home_login, network, len(BENCH_PICTURES)))

        # Year levels 1–8, about size/8 pupils each; parallel groups above 30 pupils.
        per_level = [size // 8] * 8
        for level in rng.sample(range(8), size % 8):
            per_level[level] += 1
        groups, places = [], []
        for level, count in enumerate(per_level, start=1):
            parallel = max(1, math.ceil(count / MAX_GROUP))
            for number in range(parallel):
                suffix = "ABCDEFGH"[number] if parallel > 1 else ""
                group = uuid.uuid4()
                add(
                    Group,
                    (
                        group,
                        school,
                        f"Groep {level}{suffix}",
                        str(level),
                        f"{brin}-G{level}{suffix}",
                    ),
                )
                groups.append(group)
                share = count // parallel + (number < count % parallel)
                places.extend([(group, level)] * share)
        rng.shuffle(places)

        # Families of 1–3 children (a few 4–6), each with one or two parents.
        forced = [6, 1] if first else []
        key, taken = 0, 0
        random_, choice = rng.random, rng.choice
        pin, pictures = (
            (LoginMethod.PIN.value, self.pin_hash, ""),
            (LoginMethod.PICTURES.value, "", self.picture_hash),
        )
        while taken < len(places):
            children = forced.pop(0) if forced else self.family_size()
            family = places[taken : taken + children]
            taken += children
            email = self.new_parent()
            parents = [[None]]
            add(User, (parents[0], uuid.uuid4(), email, ""))
            if first and len(family) == 6 and not self.six_children:
                self.six_children = email
            elif first and len(family) == 1 and not self.one_child:
                self.one_child = email
            elif random_() < SHARE_SECOND_PARENT:
                parents.append([None])
                add(User, (parents[1], uuid.uuid4(), self.new_parent(), ""))
            always_home = email in (self.six_children, self.one_child)
            infix, last_name = choice(LAST_NAMES)
            for group, level in family:
                key += 1
                code = uuid.uuid4()
                eck_id = (
                    f"https://ketenid.nl/201703/{rng.getrandbits(512):0128x}"
                    if random_() < SHARE_ECK_ID
                    else ""
                )
                method, pin_hash, picture_hash = pin if level >= 3 else pictures
                add(
                    Pupil,
                    (
                        code, school, group, choice(FIRST_NAMES), infix, last_name,
                        f"{brin}-{key:04d}", eck_id, method, pin_hash, picture_hash,
                        always_home or random_() < SHARE_HOME_LOGIN,
                    ),
                )  # fmt: skip
                for slot, parent in enumerate(parents, start=1):
                    add(ParentLink, (code, parent, slot))

        coordinator = [None]
        email = f"ict-{brin.lower()}@{DOMAIN}"
        add(User, (coordinator, uuid.uuid4(), email, f"ICT-coördinator {school_name}"))
        add(StaffMembership, (uuid.uuid4(), coordinator, school, StaffRole.ICT_COORDINATOR.value))
        self.licences(school, groups)

    def family_size(self) -> int:
        return self.rng.choices(FAMILY_SIZES, cum_weights=FAMILY_CUM_WEIGHTS)[0]

    def new_parent(self) -> str:
        email = f"ouder{self.next_parent}@{DOMAIN}"
        self.next_parent += 1
        return email

    def licences(self, school: uuid.UUID, groups: list[uuid.UUID]) -> None:
        """5–15 products; for the whole school, some year levels or some groups."""
        rng, add = self.rng, self.writer.add
        for item, levels in rng.sample(self.products, rng.randint(*LICENCES_PER_SCHOOL)):
            scope = rng.choices(SCOPES, cum_weights=SCOPE_CUM_WEIGHTS)[0]
            valid_from, valid_until = self.year_start, self.year_end
            if rng.random() < SHARE_LICENCE_EXPIRED:  # last school year's
                valid_from = valid_from.replace(year=valid_from.year - 1)
                valid_until = valid_until.replace(year=valid_until.year - 1)
            year_levels = ""
            if scope == Licence.Scope.YEAR_LEVELS:
                start = rng.randrange(len(levels))
                year_levels = f",{','.join(levels[start : start + rng.randint(1, 3)])},"
            code = uuid.uuid4()
            add(Licence, (code, school, item.pk, valid_from, valid_until, scope, year_levels))
            if scope == Licence.Scope.GROUPS:
                for group in rng.sample(groups, min(len(groups), rng.randint(1, 3))):
                    add(LicenceGroup, (code, group))

    # --- Afterwards ------------------------------------------------------------------------

    def analyze(self) -> float:
        """Fresh planner statistics on PostgreSQL, as a benchmark right after needs them."""
        if connection.vendor != "postgresql":
            return 0.0
        began = time.perf_counter()
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in ORDER)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")
        return time.perf_counter() - began

    def summary(self) -> None:
        written, written_copies = self.writer.written, self.writer.copies
        seconds = time.perf_counter() - self.began
        parents = self.next_parent - self.first_parent
        lines = [
            f"Klaar in {seconds:.1f} s ({self.total / seconds:,.0f} leerlingen per seconde, "
            f"{self.queries + written_copies:,} queries; commit met controle van de verwijzingen "
            f"{self.commit_seconds:.1f} s"
            + (f", ANALYZE {self.analyze_seconds:.1f} s" if self.analyze_seconds else "")
            + ").",
            f"  scholen             {written[School]:>10,}",
            f"  groepen             {written[Group]:>10,}",
            f"  leerlingen          {written[Pupil]:>10,}",
            f"  ouders (accounts)   {parents:>10,}",
            f"  ouderadressen       {written[ParentLink]:>10,}",
            f"  ICT-coördinatoren   {written[StaffMembership]:>10,}",
            f"  uitgevers           {self.new_publishers:>10,} nieuw (van {len(CATALOGUE)})",
            f"  producten           {self.new_products:>10,} nieuw (van {len(self.products)})",
            f"  licenties           {written[Licence]:>10,}"
            f" (en {written[LicenceGroup]:,} groepen bij licenties per groep)",
            f"Wachtwoord van alle ouders en coördinatoren: {BENCH_PASSWORD}",
            f"  ouder met 6 kinderen: {self.six_children or '(geen: te weinig leerlingen)'}",
            f"  ouder met 1 kind:     {self.one_child or '(geen)'}",
            f"  inloggen als ouder:   {self.one_child or self.six_children}",
            f"  ICT-coördinator:      ict-{self.brins[0].lower()}@{DOMAIN}",
            f"Pincode van leerlingen (groep 3-8): {BENCH_PIN}; "
            f"plaatjes (groep 1-2): {' + '.join(BENCH_PICTURES)}.",
        ]
        self.stdout.write("\n".join(lines))
