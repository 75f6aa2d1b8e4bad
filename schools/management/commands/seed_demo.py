"""Create the fictional demo school "De Regenboog" with its staff, pupils and a parent."""

from __future__ import annotations

import json
import os
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.parents import set_parent_emails
from launcher.models import Licence, Product, Publisher
from schools.models import Group, LoginMethod, Pupil, School, StaffMembership, StaffRole
from sso.models import Client

DEMO_PASSWORD = "thuisportaal-demo"  # noqa: S105 (published on purpose: demo data only)
DEMO_BRIN, DEMO_LOCATION = "99RB", "00"

PARENT = "ouder@example.com"
TEACHER = "juf@example.com"
ICT = "ict@example.com"

# (key, first name, infix, last name, year level). Emma and Daan are the demo parent's.
PUPILS = [
    ("RB001", "Emma", "", "de Vries", "5"),
    ("RB002", "Daan", "", "de Vries", "2"),
    ("RB003", "Noor", "", "Jansen", "1"),
    ("RB004", "Sem", "van", "Dijk", "1"),
    ("RB005", "Julia", "", "Bakker", "1"),
    ("RB006", "Lucas", "", "Visser", "2"),
    ("RB007", "Tess", "", "Smit", "2"),
    ("RB008", "Finn", "", "Meijer", "3"),
    ("RB009", "Mila", "de", "Boer", "3"),
    ("RB010", "Levi", "", "Mulder", "3"),
    ("RB011", "Sara", "de", "Groot", "4"),
    ("RB012", "Milan", "", "Bos", "4"),
    ("RB013", "Yara", "", "Vos", "4"),
    ("RB014", "Noah", "", "Peters", "5"),
    ("RB015", "Zoë", "", "Hendriks", "5"),
    ("RB016", "Adam", "van", "Leeuwen", "6"),
    ("RB017", "Lotte", "", "Dekker", "6"),
    ("RB018", "Mohammed", "", "El Amrani", "6"),
    ("RB019", "Fenna", "", "Brouwer", "7"),
    ("RB020", "Jesse", "de", "Wit", "7"),
    ("RB021", "Sophie", "", "Dijkstra", "7"),
    ("RB022", "Bram", "", "Smits", "8"),
    ("RB023", "Liv", "de", "Graaf", "8"),
    ("RB024", "Ravi", "", "Sharma", "8"),
    ("RB025", "Isa", "van der", "Meer", "5"),
]

LOGINS = f"""
Demo-logins (wachtwoord voor alle drie: {DEMO_PASSWORD})
  Ouder:           {PARENT}  (kinderen Emma, pincode 2468, en Daan, plaatjes kat + zon)
  Leerkracht:      {TEACHER}  (groep 2 en groep 5)  -> /beheer/
  ICT-coördinator: {ICT}  (hele school)  -> /beheer/
Rekenrups opent met single sign-on bij de demo-uitgever (poort 8001).
"""


# (publisher, product, icon, description, usable at home, licence scope)
# Emma (group 5) and Daan (group 2) see different lists; Digibord is for school only and
# Wereldwijs's licence has run out.
CATALOGUE = [
    ("Uitgeverij Klimop", "Rekenrups", "rekenrups", "Rekenen met de rups", True, "school"),
    ("Uitgeverij Klimop", "Taaltuin", "taaltuin", "Lezen en woordjes", True, ["1", "2", "3"]),
    ("Uitgeverij Klimop", "Klokkijken", "klokkijken", "Hoe laat is het?", True, ["2", "3", "4"]),
    ("Leerlab Noord", "Woordwolk", "woordwolk", "Spelen met woorden", True, ["4", "5", "6"]),
    ("Leerlab Noord", "Tafelturbo", "tafelturbo", "Oefen de tafels", True, ["Groep 5"]),
    ("Leerlab Noord", "Spellingspoor", "spellingspoor", "Spelling oefenen", False, "school"),
    ("De Wereldbol", "Wereldwijs", "wereldwijs", "Aardrijkskunde", True, "expired"),
    ("De Wereldbol", "Natuurlab", "natuurlab", "Proefjes en natuur", True, ["5", "6", "7", "8"]),
]


def seed_catalogue(school: School) -> None:
    """Publishers, products and this school year's licences (idempotent)."""
    today = timezone.localdate()
    year_start = date(today.year if today.month >= 8 else today.year - 1, 8, 1)
    year_end = date(year_start.year + 1, 7, 31)
    for publisher_name, name, icon, description, at_home, scope in CATALOGUE:
        publisher, _ = Publisher.objects.get_or_create(name=publisher_name)
        product, _ = Product.objects.get_or_create(
            publisher=publisher,
            name=name,
            defaults={
                "icon": icon,
                "description": description,
                "usable_at_home": at_home,
                "launch_url": f"https://{icon}.example.org/start",
            },
        )
        if Licence.objects.filter(school=school, product=product).exists():
            continue
        licence = Licence(
            school=school, product=product, valid_from=year_start, valid_until=year_end
        )
        if scope == "expired":
            licence.valid_from = date(year_start.year - 1, 8, 1)
            licence.valid_until = date(year_start.year, 7, 31)
        elif isinstance(scope, list) and scope[0].startswith("Groep"):
            licence.scope = Licence.Scope.GROUPS
        elif isinstance(scope, list):
            licence.scope = Licence.Scope.YEAR_LEVELS
            licence.year_levels = scope
        licence.save()
        if licence.scope == Licence.Scope.GROUPS:
            licence.groups.set(school.groups.filter(name__in=scope))


DEMO_PUBLISHER_CONFIG = "demo-publisher.json"


def seed_demo_publisher() -> Client:
    """Rekenrups signs in through the portal, with the demo publisher `make run` starts.

    The secret is kept in clear only in var/demo-publisher.json, for the demo publisher; a
    lost file gets a new secret.
    """
    base_url = settings.DEMO_PUBLISHER_URL
    publisher = Publisher.objects.get(name="Uitgeverij Klimop")
    client, created = Client.objects.get_or_create(
        publisher=publisher,
        name="Rekenrups (demo)",
        defaults={
            "redirect_uris": f"{base_url}/callback",
            "initiate_login_uri": f"{base_url}/login",
            "scopes": "profile school",
        },
    )
    Product.objects.filter(publisher=publisher, name="Rekenrups").update(client=client)
    path = settings.VAR_DIR / DEMO_PUBLISHER_CONFIG
    if created or not path.is_file():
        secret = client.new_secret()
        client.save()
        path.parent.mkdir(parents=True, exist_ok=True)
        config = {
            "issuer": settings.SITE_URL,
            "client_id": client.client_id,
            "client_secret": secret,
            "base_url": base_url,
        }
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(config, file, indent=2)
    return client


class Command(BaseCommand):
    help = "Creates the demo school De Regenboog (idempotent: a second run changes nothing)."

    def handle(self, *args, **options):
        with transaction.atomic():
            created = self.seed()
            seed_catalogue(School.objects.get(brin=DEMO_BRIN, location_code=DEMO_LOCATION))
            seed_demo_publisher()
        verb = "aangemaakt" if created else "was er al"
        self.stdout.write(f"Demoschool De Regenboog {verb}.")
        self.stdout.write(LOGINS)

    def seed(self) -> bool:
        school, created = School.objects.get_or_create(
            brin=DEMO_BRIN,
            location_code=DEMO_LOCATION,
            defaults={"name": "De Regenboog", "picture_password_length": 2},
        )
        if not created:
            return False
        groups = {
            str(level): Group.objects.create(
                school=school, name=f"Groep {level}", year_level=str(level)
            )
            for level in range(1, 9)
        }
        pupils = {
            key: Pupil.objects.create(
                group=groups[level],
                external_key=key,
                first_name=first,
                infix=infix,
                last_name=last,
            )
            for key, first, infix, last, level in PUPILS
        }
        teacher = self._user(TEACHER, "Juf Anouk")
        ict = self._user(ICT, "Meester Karim")
        StaffMembership.objects.create(
            user=teacher, school=school, role=StaffRole.TEACHER
        ).groups.set([groups["2"], groups["5"]])
        StaffMembership.objects.create(user=ict, school=school, role=StaffRole.ICT_COORDINATOR)
        self._user(PARENT, "")

        emma, daan = pupils["RB001"], pupils["RB002"]
        emma.set_pin("2468")
        emma.home_login_enabled = True
        emma.save()
        daan.login_method = LoginMethod.PICTURES
        daan.set_picture_password(["kat", "zon"])
        daan.home_login_enabled = True
        daan.save()
        for child in (emma, daan):
            set_parent_emails(child, [PARENT])
        return True

    def _user(self, email: str, name: str) -> User:
        user = User.objects.for_email(email)
        if not user.has_usable_password():
            user.name = name
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user
