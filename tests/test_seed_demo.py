from __future__ import annotations

import json
import stat
from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.models import User
from launcher.models import Product
from schools.models import Group, LoginMethod, Pupil, School, StaffMembership, StaffRole
from sso.models import Client

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_it_creates_the_demo_school():
    output = seed()
    school = School.objects.get(brin="99RB")
    assert school.name == "De Regenboog"
    assert list(school.groups.values_list("year_level", flat=True)) == [str(n) for n in range(1, 9)]
    assert 20 <= school.pupils.count() <= 30
    assert "ouder@example.com" in output and "thuisportaal-demo" in output


def test_it_gives_the_parent_emma_and_daan():
    seed()
    parent = authenticate(username="ouder@example.com", password="thuisportaal-demo")
    assert parent is not None
    children = Pupil.objects.filter(parent_links__user=parent).order_by("first_name")
    assert [child.first_name for child in children] == ["Daan", "Emma"]
    emma, daan = children[1], children[0]
    assert emma.group.name == "Groep 5" and emma.check_pin("2468") and emma.home_login_enabled
    assert daan.group.name == "Groep 2" and daan.login_method == LoginMethod.PICTURES
    assert daan.check_picture_password(["kat", "zon"])


def test_it_creates_the_teacher_and_ict_coordinator():
    seed()
    teacher = authenticate(username="juf@example.com", password="thuisportaal-demo")
    ict = authenticate(username="ict@example.com", password="thuisportaal-demo")
    assert teacher.memberships.get().role == StaffRole.TEACHER
    assert set(teacher.memberships.get().groups.values_list("name", flat=True)) == {
        "Groep 2",
        "Groep 5",
    }
    assert ict.memberships.get().role == StaffRole.ICT_COORDINATOR


def test_it_is_idempotent():
    seed()
    counts = [M.objects.count() for M in (School, Group, Pupil, User, StaffMembership)]
    output = seed()
    assert [M.objects.count() for M in (School, Group, Pupil, User, StaffMembership)] == counts
    assert "was er al" in output


def test_it_gives_emma_and_daan_different_software():
    from launcher.models import Licence, Product, Publisher, products_for

    seed()
    assert Publisher.objects.count() == 3
    assert Product.objects.count() == 8
    emma = Pupil.objects.get(first_name="Emma")
    daan = Pupil.objects.get(first_name="Daan")
    emmas = {product.name for product in products_for(emma)}
    daans = {product.name for product in products_for(daan)}
    assert emmas and daans and emmas != daans
    assert "Spellingspoor" not in emmas | daans  # licensed, but not for home use
    assert "Wereldwijs" not in emmas | daans  # licence has run out
    assert Licence.objects.filter(product__name="Wereldwijs").get().valid_until < date.today()
    seed()
    assert Licence.objects.count() == 8


def test_it_links_rekenrups_to_the_demo_publisher(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.SITE_URL = "http://127.0.0.1:8000"
    settings.DEMO_PUBLISHER_URL = "http://127.0.0.1:8123"
    seed()
    client = Product.objects.get(name="Rekenrups").client
    assert client is not None and client.is_active
    assert client.redirect_uri_list == ["http://127.0.0.1:8123/callback"]
    assert client.initiate_login_uri == "http://127.0.0.1:8123/login"
    assert set(client.scope_list) == {"profile", "school"}
    assert Product.objects.filter(client__isnull=False).count() == 1  # Rekenrups only

    path = settings.VAR_DIR / "demo-publisher.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # the secret, in clear
    written = path.read_text()
    config = json.loads(written)
    assert config == {
        "issuer": "http://127.0.0.1:8000",
        "client_id": client.client_id,
        "client_secret": config["client_secret"],
        "base_url": "http://127.0.0.1:8123",
    }
    assert client.secret_digest != config["client_secret"]
    assert client.check_client_secret(config["client_secret"])

    seed()
    assert Client.objects.get() == client
    assert Client.objects.get().secret_digest == client.secret_digest
    assert Product.objects.get(name="Rekenrups").client == client
    assert path.read_text() == written


def test_it_gives_the_demo_publisher_a_new_secret_when_its_file_is_lost(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    seed()
    path = settings.VAR_DIR / "demo-publisher.json"
    first = json.loads(path.read_text())
    path.unlink()
    seed()
    second = json.loads(path.read_text())
    client = Client.objects.get()
    assert second["client_id"] == first["client_id"] == client.client_id
    assert second["client_secret"] != first["client_secret"]
    assert client.check_client_secret(second["client_secret"])
