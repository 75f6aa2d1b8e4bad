"""The shared cast: two schools, their staff, pupils and parents."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm
from django.utils import translation

from accounts.models import User
from accounts.parents import set_parent_emails
from schools.models import Group, LoginMethod, Pupil, School, StaffMembership, StaffRole

PASSWORD = "correct-horse-battery"
FAST_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "tests.helpers.FastChildSecretHasher",
]


@pytest.fixture(autouse=True, scope="session")
def fast_hashers():
    """Argon2 at full cost would make the suite slow; one test proves the real parameters."""
    from django.conf import settings

    real = settings.PASSWORD_HASHERS
    settings.PASSWORD_HASHERS = FAST_HASHERS
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()
    yield
    settings.PASSWORD_HASHERS = real
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()


@pytest.fixture(autouse=True, scope="session")
def var_dir(tmp_path_factory):
    """Files the portal writes under var/ (development signing key, demo publisher's
    configuration) go to a temporary folder, not to a developer's own var/."""
    from django.conf import settings

    real = settings.VAR_DIR
    settings.VAR_DIR = tmp_path_factory.mktemp("var")
    yield settings.VAR_DIR
    settings.VAR_DIR = real


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class Cast:
    school_x: School
    school_y: School
    group_x5: Group
    group_x2: Group
    group_x7: Group
    group_y5: Group
    emma: Pupil  # school X, group 5, parent A
    daan: Pupil  # school X, group 2, parent A
    lotte: Pupil  # school X, group 7 (not teacher X's group)
    yara: Pupil  # school Y, group 5
    parent_a: User
    parent_b: User
    teacher_x: User  # teaches groups 5 and 2 at school X
    teacher_y: User  # teaches group 5 at school Y: the outsider
    ict_x: User
    admin_x: User
    superuser: User


def make_user(email: str, **extra) -> User:
    return User.objects.create_user(email, PASSWORD, **extra)


def make_cast() -> Cast:
    school_x = School.objects.create(name="De Regenboog", brin="12AB", location_code="00")
    school_y = School.objects.create(name="De Zonnewijzer", brin="34CD", location_code="01")
    group_x2 = Group.objects.create(school=school_x, name="Groep 2", year_level="2")
    group_x5 = Group.objects.create(school=school_x, name="Groep 5", year_level="5")
    group_x7 = Group.objects.create(school=school_x, name="Groep 7", year_level="7")
    group_y5 = Group.objects.create(school=school_y, name="Groep 5", year_level="5")

    emma = Pupil.objects.create(group=group_x5, first_name="Emma", last_name="Visser")
    emma.set_pin("2468")
    emma.home_login_enabled = True
    emma.save()
    daan = Pupil.objects.create(
        group=group_x2, first_name="Daan", last_name="Visser", login_method=LoginMethod.PICTURES
    )
    daan.set_picture_password(["kat", "zon"])
    daan.save()
    lotte = Pupil.objects.create(group=group_x7, first_name="Lotte", last_name="Dekker")
    yara = Pupil.objects.create(group=group_y5, first_name="Yara", last_name="Vos")

    parent_a = make_user("ouder.a@example.com")
    parent_b = make_user("ouder.b@example.com")
    set_parent_emails(emma, [parent_a.email])
    set_parent_emails(daan, [parent_a.email])
    set_parent_emails(yara, [parent_b.email])

    teacher_x = make_user("juf.x@regenboog.nl")
    teacher_y = make_user("juf.y@zonnewijzer.nl")
    ict_x = make_user("ict.x@regenboog.nl")
    admin_x = make_user("directie.x@regenboog.nl")
    superuser = User.objects.create_superuser("beheer@thuisportaal.nl", PASSWORD)
    StaffMembership.objects.create(
        user=teacher_x, school=school_x, role=StaffRole.TEACHER
    ).groups.set([group_x5, group_x2])
    StaffMembership.objects.create(
        user=teacher_y, school=school_y, role=StaffRole.TEACHER
    ).groups.set([group_y5])
    StaffMembership.objects.create(user=ict_x, school=school_x, role=StaffRole.ICT_COORDINATOR)
    StaffMembership.objects.create(user=admin_x, school=school_x, role=StaffRole.SCHOOL_ADMIN)
    return Cast(
        school_x=school_x,
        school_y=school_y,
        group_x5=group_x5,
        group_x2=group_x2,
        group_x7=group_x7,
        group_y5=group_y5,
        emma=emma,
        daan=daan,
        lotte=lotte,
        yara=yara,
        parent_a=parent_a,
        parent_b=parent_b,
        teacher_x=teacher_x,
        teacher_y=teacher_y,
        ict_x=ict_x,
        admin_x=admin_x,
        superuser=superuser,
    )


@pytest.fixture
def cast(db) -> Cast:
    return make_cast()


@pytest.fixture(autouse=True)
def reset_language():
    """A request in English must not leave the next test speaking English."""
    yield
    translation.deactivate()


#: Where e-mailed links must point, whatever host a request came in on.
SITE_URL = "https://thuis.example.nl"


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs what waits for the end of the transaction, as after a real request."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def site_url(settings) -> str:
    settings.SITE_URL = SITE_URL
    return SITE_URL


@pytest.fixture
def teacher(client, cast):
    """A client logged in as teacher X (groups 5 and 2 of school X: Emma and Daan)."""
    client.force_login(cast.teacher_x)
    return client


@pytest.fixture
def mail_server_down(settings):
    """Until the test sets ``settings.MAILERS = LOCMEM_MAILERS``, sending fails."""
    from tests.helpers import unreachable_mailers

    settings.MAILERS = unreachable_mailers()
