"""The access matrix: every URL of the portal, asked by every kind of visitor.

The table below holds one entry per URL pattern of the URLconf (admin included, every
registered model admin, the admin site's own views, OIDC and the health check). Each entry says
how to build a concrete URL, pointing at an object of school X or at parent A's child Emma
(the object an outsider must not reach), and what each identity gets back. A URL pattern
without an entry fails ``test_every_url_is_in_the_matrix``.

Besides the status (and, for a redirect, where to), every answer is checked for names, codes
and addresses the identity must not see: a 200 on a list or an action is only right if it holds
nothing of someone else's school or family. Admin actions and the other requests that change
data also say whether they changed it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.models import Group as AuthGroup
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.http import QueryDict
from django.templatetags.static import static
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from post_office.models import Attachment, Email, EmailTemplate, Log

from accounts.models import PasswordLink
from accounts.parents import set_parent_emails
from audit.models import AuditEvent
from basispoort.health import HEALTH_PATH
from launcher.models import LaunchEvent, Licence, Product, Publisher
from schools.models import ImportLog, Pupil, StaffMembership
from sso import keys
from sso.keygen import new_private_key_pem
from sso.models import Client as OidcClient
from tests.conftest import Cast, make_cast
from tests.helpers import LOCMEM_MAILERS

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
PARENT_A = "parent_a"  # Emma's and Daan's parent (school X)
PARENT_B = "parent_b"  # Yara's parent (school Y): another family
CHILD_A = "child_a"  # Emma, logged in with her PIN from parent A's session
TEACHER_X = "teacher_x"  # teaches groups 2 and 5 of school X (Daan and Emma)
TEACHER_Y = "teacher_y"  # teaches group 5 of school Y: the outsider on staff
ICT_X = "ict_x"  # ICT coordinator: manages all of school X
SUPERUSER = "superuser"
IDENTITIES = (ANONYMOUS, PARENT_A, PARENT_B, CHILD_A, TEACHER_X, TEACHER_Y, ICT_X, SUPERUSER)

EMMA_PIN = "2468"
SECOND_PARENT_A = "ouder.c@example.com"  # Emma's second parent, invited, no password yet
REDIRECT_URI = "https://rekenrups.example.org/callback"
FAR_FUTURE = date(2100, 1, 1)


# --- the world: the shared cast and one of everything that appears in a URL ----------------


@dataclass
class World:
    cast: Cast
    publisher: Publisher
    product: Product
    client: OidcClient
    licence: Licence
    import_log: ImportLog
    audit_event: AuditEvent
    product_y: Product  # licensed to school Y only
    email: Email
    email_log: Log
    email_template: EmailTemplate
    attachment: Attachment
    auth_group: AuthGroup
    membership: StaffMembership  # teacher X's, at school X
    token: str  # parent A's set-password link
    sessions: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name):  # world.emma, world.school_x, ... come from the cast
        return getattr(self.__dict__["cast"], name)


def build_world() -> World:
    cast = make_cast()
    # Emma has a second, invited parent without a password (for "resend invitations").
    set_parent_emails(cast.emma, [cast.parent_a.email, SECOND_PARENT_A])
    # Daan is locked and has home login off, so that "unlock" and "switch on" change him.
    Pupil.objects.filter(pk=cast.daan.pk).update(
        home_login_enabled=False, failed_attempts=5, locked_at=timezone.now()
    )
    publisher = Publisher.objects.create(name="Uitgeverij Klimop")
    client = OidcClient(
        publisher=publisher,
        name="Rekenrups inloggen",
        redirect_uris=REDIRECT_URI,
        initiate_login_uri="https://rekenrups.example.org/login",
        scopes="profile school",
    )
    client.new_secret()
    client.save()
    product = Product.objects.create(
        publisher=publisher,
        name="Rekenrups",
        launch_url="https://rekenrups.example.org/start",
        client=client,
    )
    licence = Licence.objects.create(
        school=cast.school_x,
        product=product,
        valid_from=date(2000, 1, 1),
        valid_until=FAR_FUTURE,
    )
    product_y = Product.objects.create(
        publisher=publisher, name="Taaltijger", launch_url="https://taaltijger.example.org/"
    )
    Licence.objects.create(
        school=cast.school_y,
        product=product_y,
        valid_from=date(2000, 1, 1),
        valid_until=FAR_FUTURE,
    )
    import_log = ImportLog.objects.create(
        school=cast.school_x, kind=ImportLog.Kind.CSV, file_name="leerlingen.csv", by=cast.ict_x
    )
    email = Email.objects.create(
        from_email="noreply@localhost",
        to=[cast.parent_a.email],
        subject="Thuis inloggen",
        message="Hallo",
        html_message="<p>Hallo</p>",
    )
    email_log = Log.objects.create(email=email, status=0, message="")
    _link, token = PasswordLink.issue(cast.parent_a, PasswordLink.Purpose.RESET)
    world = World(
        cast=cast,
        publisher=publisher,
        product=product,
        client=client,
        licence=licence,
        import_log=import_log,
        audit_event=AuditEvent.objects.create(
            kind=AuditEvent.Kind.CHILD_LOGIN_FAILED,
            pupil=cast.emma,
            school=cast.school_x,
            user=cast.parent_a,
        ),
        product_y=product_y,
        email=email,
        email_log=email_log,
        email_template=EmailTemplate.objects.create(name="brief"),
        attachment=Attachment.objects.create(name="brief.txt", file="attachments/brief.txt"),
        auth_group=AuthGroup.objects.create(name="Oude groep"),
        membership=StaffMembership.objects.get(user=cast.teacher_x, school=cast.school_x),
        token=token,
    )
    for who in IDENTITIES:
        if who not in (ANONYMOUS, CHILD_A):
            browser = Client()
            browser.force_login(getattr(cast, who))
            world.sessions[who] = browser.cookies[settings.SESSION_COOKIE_NAME].value
    world.sessions[CHILD_A] = child_session(cast)
    return world


def child_session(cast: Cast) -> str:
    """Emma's session, opened the way a child opens it: parent's login, tile, PIN pad."""
    browser = Client()
    browser.force_login(cast.parent_a)
    pad = reverse("child-login", args=[cast.emma.code])
    response = browser.post(pad, {"entered": EMMA_PIN[:-1], "key": EMMA_PIN[-1]})
    assert response.status_code == 302
    assert response["Location"] == reverse("software")
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, fast_hashers):
    """Built once; each test runs in a savepoint inside this, so a change never leaks."""
    keys.forget()
    with (
        django_db_blocker.unblock(),
        # Tests run with DEBUG off, where the portal wants a signing key of its own.
        override_settings(
            MAILERS=LOCMEM_MAILERS,
            OIDC_SIGNING_KEY=new_private_key_pem(2048).decode(),
            OIDC_NEXT_SIGNING_KEYS=[],
            OIDC_PREVIOUS_SIGNING_KEYS=[],
        ),
        transaction.atomic(),
    ):
        yield build_world()
        transaction.set_rollback(True)
    keys.forget()


def forbidden_for(world: World, who: str) -> list[str]:
    """What an identity must never find in an answer: names, codes and addresses outside its
    reach (a parent has their own family, a teacher their groups, a coordinator their school).
    """

    def pupil(p):
        return [p.first_name, str(p.code)]

    def school(s):
        return [s.name, str(s.code)]

    emma, daan, lotte, yara = world.emma, world.daan, world.lotte, world.yara
    family_a = [*pupil(emma), *pupil(daan), world.parent_a.email, SECOND_PARENT_A]
    family_b = [*pupil(yara), world.parent_b.email]
    school_x = [*school(world.school_x), world.teacher_x.email, world.ict_x.email]
    school_y = [*school(world.school_y), world.teacher_y.email]
    return {
        ANONYMOUS: [*pupil(emma), *pupil(daan), *pupil(lotte), *family_b, *school_x, *school_y],
        PARENT_A: [*pupil(lotte), *family_b, *school_y],
        PARENT_B: [*family_a, *pupil(lotte), *school_x],
        CHILD_A: [*pupil(daan), *pupil(lotte), *family_b, *school_y],
        TEACHER_X: [*pupil(lotte), *family_b, *school_y],
        TEACHER_Y: [*family_a, *pupil(lotte), *school_x],
        ICT_X: [*family_b, *school_y],
        SUPERUSER: [],
    }[who]


def state_of_pupils(world: World) -> tuple:
    """What pupil actions and the new-PIN button change: Emma, Daan, Lotte and the outbox."""
    pupils = Pupil.objects.filter(pk__in=[world.emma.pk, world.daan.pk, world.lotte.pk])
    pupils = pupils.order_by("first_name")
    fields = ("home_login_enabled", "pin_hash", "failed_attempts", "locked_at")
    return (*pupils.values_list(*fields), Email.objects.count(), Pupil.objects.count())


def state_of_client(world: World) -> tuple:
    return tuple(OidcClient.objects.values_list("secret_digest", "previous_secret_digest"))


def launches(world: World) -> int:
    return LaunchEvent.objects.count()


# --- answers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """An expected answer: the status and, for a redirect, the Location.

    ``{next}`` in ``location`` stands for the requested path and query as a login redirect
    quotes it; ``{url}`` for the requested path itself. ``changed`` says whether the request
    changes the probe's ``state`` (None: the probe watches no state).
    """

    status: int
    location: str | None = None
    changed: bool | None = None

    def __str__(self):
        text = f"{self.status} → {self.location}" if self.location else str(self.status)
        return text + {None: "", True: " (changes)", False: " (changes nothing)"}[self.changed]


OK = Answer(200)
BAD_REQUEST = Answer(400)
UNAUTHORIZED = Answer(401)
FORBIDDEN = Answer(403)
NOT_FOUND = Answer(404)
NOT_ALLOWED = Answer(405)
LOGIN = Answer(302, "/?next={next}")
ADMIN_LOGIN = Answer(302, "/beheer/login/?next={next}")
SAME_PAGE = Answer(302, "{url}")


def to(location: str, status: int = 302) -> Answer:
    return Answer(status, location)


HOME = to("/")
CHILDREN = to("/kinderen/")
SOFTWARE = to("/software/")
ADMIN_INDEX = to("/beheer/")


def changes(answer: Answer) -> Answer:
    return replace(answer, changed=True)


Row = dict[str, Answer]


def row(anonymous, parent_a, parent_b, child_a, teacher_x, teacher_y, ict_x, superuser) -> Row:
    """One line of the matrix, in the order of IDENTITIES."""
    answers = (anonymous, parent_a, parent_b, child_a, teacher_x, teacher_y, ict_x, superuser)
    return dict(zip(IDENTITIES, answers, strict=True))


def everyone(answer: Answer) -> Row:
    return row(*[answer] * len(IDENTITIES))


def admin(teacher_x, teacher_y, ict_x, superuser, *, outsiders=ADMIN_LOGIN) -> Row:
    """An admin URL: whoever is not staff (parents, a child, nobody) goes to the admin login."""
    return row(outsiders, outsiders, outsiders, outsiders, teacher_x, teacher_y, ict_x, superuser)


def admin_all(answer: Answer, *, outsiders=ADMIN_LOGIN) -> Row:
    return admin(answer, answer, answer, answer, outsiders=outsiders)


#: Models only the portal's operators manage: every page 403 for school staff.
SUPERUSER_ONLY = admin(FORBIDDEN, FORBIDDEN, FORBIDDEN, OK)
#: An admin page nobody gets (for instance "add" where nothing is added by hand).
NOBODY = admin_all(FORBIDDEN)
#: Every staff member sees it (their own scope of it).
ALL_STAFF = admin_all(OK)
#: An object of school X that teacher X sees: teacher Y is told it does not exist.
SEEN_BY_SCHOOL_X = admin(OK, NOT_FOUND, OK, OK)
#: An object of school X only its managers (and operators) may open or change.
MANAGERS_OF_X = admin(FORBIDDEN, NOT_FOUND, OK, OK)
#: A page about managing a school as a whole: managers and operators only.
MANAGERS_ONLY = admin(FORBIDDEN, FORBIDDEN, OK, OK)
#: An object of school X that only operators may delete or add; staff of X may look.
OPERATORS_CHANGE_X = admin(FORBIDDEN, NOT_FOUND, FORBIDDEN, OK)
#: A POST-only admin view, asked with GET by staff.
POST_ONLY_IN_ADMIN = admin_all(NOT_ALLOWED)


# --- the table: one entry per URL pattern ---------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One request to a URL: how to build it and what each identity gets.

    ``args`` names World attributes whose primary keys fill the pattern's arguments, or is a
    callable returning the ``reverse()`` kwargs. ``path`` builds the URL of a pattern without
    a name. ``state`` reads what the request may change (compared before and after).
    ``secure`` sends the request over HTTPS, the way publishers reach the OIDC endpoints.
    ``private=False`` skips the check for others' names and addresses in the answer.
    """

    answers: Row
    method: str = "get"
    args: tuple[str, ...] | Callable[[World], dict] = ()
    path: Callable[[World], str] | None = None
    query: dict | Callable[[World], dict] | None = None
    data: dict | Callable[[World], dict] | None = None
    state: Callable[[World], object] | None = None
    secure: bool = False
    private: bool = True
    label: str = ""

    def url(self, key: str, world: World) -> str:
        if self.path is not None:
            url = self.path(world)
        elif callable(self.args):
            url = reverse(key, kwargs=self.args(world))
        else:
            url = reverse(key, args=[getattr(world, name).pk for name in self.args])
        query = self.query(world) if callable(self.query) else self.query
        return f"{url}?{urlencode(query)}" if query else url


def get(answers: Row, *objs: str, args=None, **kwargs) -> Probe:
    return Probe(answers, "get", objs if args is None else args, **kwargs)


def post(answers: Row, *objs: str, args=None, **kwargs) -> Probe:
    return Probe(answers, "post", objs if args is None else args, **kwargs)


def post_only(post_answers: Row, get_answers: Row, *objs: str, **kwargs) -> list[Probe]:
    """A view that accepts only POST: the POST, and a GET that must be refused."""
    plain = {k: v for k, v in kwargs.items() if k not in ("data", "state")}
    return [post(post_answers, *objs, **kwargs), get(get_answers, *objs, **plain)]


def code_of(name: str) -> Callable[[World], dict]:
    return lambda world: {"code": getattr(world, name).code}


def object_redirect(model: str, obj: str) -> Probe:
    """``<app>/<model>/<id>/``, the admin's old-style address: staff are sent on to the change
    page, which then decides (the redirect itself only repeats the id that was asked for)."""

    def path(world):
        return reverse(f"admin:{model}_changelist") + f"{getattr(world, obj).pk}/"

    return get(admin_all(to("{url}change/")), path=path)


def action(
    name: str, answers: Row, *objs: str, model="schools_pupil", state=None, label=""
) -> Probe:
    """An admin action on the change list, run on the given objects."""

    def data(world):
        selected = [getattr(world, obj).pk for obj in objs]
        return {"action": name, "index": 0, "_selected_action": selected}

    return Probe(
        answers,
        "post",
        path=lambda world: reverse(f"admin:{model}_changelist"),
        data=data,
        state=state or state_of_pupils,
        label=f"action {name}{label}",
    )


def pupil_action(name: str, answers: Row) -> Probe:
    return action(name, answers, "emma", "daan")


#: A pupil action on Emma and Daan: teacher X and the managers of X change them, teacher Y
#: sees the change list come back without anything changed.
PUPIL_ACTION = admin(changes(SAME_PAGE), SAME_PAGE, changes(SAME_PAGE), changes(SAME_PAGE))

PICTURE_CONTENT_ID = "0" * 32


#: The pupils offered for the "pupil" field of a parent link: a list of the pupils in scope.
AUTOCOMPLETE_QUERY = {
    "app_label": "accounts",
    "model_name": "parentlink",
    "field_name": "pupil",
    "term": "",
}


def authorize_query(world: World) -> dict:
    return {
        "response_type": "code",
        "client_id": world.client.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid",
        "state": "toestand",
        "nonce": "eenmalig",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }


def token_request(world: World) -> dict:
    return {"grant_type": "authorization_code", "code": "verzonnen", "redirect_uri": REDIRECT_URI}


TABLE: dict[str, list[Probe]] = {
    # --- parents and children -------------------------------------------------------------
    # columns: anonymous, parent A, parent B, child A, teacher X, teacher Y, ICT X, superuser
    "home": [get(row(OK, CHILDREN, CHILDREN, SOFTWARE, CHILDREN, CHILDREN, CHILDREN, CHILDREN))],
    "logout": post_only(everyone(HOME), everyone(NOT_ALLOWED)),
    "forgot-password": [get(everyone(OK))],
    "admin_password_reset": [get(everyone(OK))],
    # The link is the credential: whoever holds it sees the form for its owner's address.
    "set-password": [
        get(everyone(OK), args=lambda world: {"token": world.token}, private=False),
    ],
    "children": [get(row(LOGIN, OK, OK, SOFTWARE, OK, OK, OK, OK))],
    "child-login": [
        get(
            row(LOGIN, OK, NOT_FOUND, LOGIN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
            args=code_of("emma"),
        )
    ],
    "software": [get(row(HOME, HOME, HOME, OK, HOME, HOME, HOME, HOME))],
    "launch": [
        post(
            row(HOME, HOME, HOME, changes(to("{launched}")), HOME, HOME, HOME, HOME),
            args=code_of("product"),
            state=launches,
        ),
        get(everyone(NOT_ALLOWED), args=code_of("product")),
        # Software of another school: not on Emma's page, so not hers to open.
        post(
            row(HOME, HOME, HOME, NOT_FOUND, HOME, HOME, HOME, HOME),
            args=code_of("product_y"),
            state=launches,
            label="POST product of school Y",
        ),
    ],
    "launched": [get(everyone(HOME), args=code_of("product"))],
    "done": post_only(everyone(HOME), everyone(NOT_ALLOWED)),
    "pupil-picture": [
        get(
            row(NOT_FOUND, OK, NOT_FOUND, OK, OK, NOT_FOUND, OK, OK),
            args=code_of("emma"),
        ),
        # Emma's brother: his parent sees him, Emma's session does not.
        get(
            row(NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, OK, NOT_FOUND, OK, OK),
            args=code_of("daan"),
            label="GET Daan",
        ),
        # School X, but not teacher X's group.
        get(
            row(NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK, OK),
            args=code_of("lotte"),
            label="GET Lotte",
        ),
    ],
    # Django's language switch; a GET changes nothing and goes back as well.
    "set_language": [
        post(everyone(HOME), data={"language": "nl", "next": "/"}),
        get(everyone(HOME), query={"next": "/"}),
    ],
    "favicon.ico": [get(everyone(to("{favicon}", 301)), path=lambda world: "/favicon.ico")],
    HEALTH_PATH: [get(everyone(OK), path=lambda world: HEALTH_PATH)],
    # --- OpenID Connect (over HTTPS, as publishers use it) ----------------------------------
    "oidc-discovery": [get(everyone(OK), secure=True)],
    "oidc-jwks": [get(everyone(OK), secure=True)],
    # Without a client_id nobody gets anything but the error page; with a known client but
    # no launch in this browser, the client hears "login_required", whoever is logged in.
    "oidc-authorize": [
        get(everyone(BAD_REQUEST), secure=True),
        get(
            everyone(to("{login_required}")),
            query=authorize_query,
            secure=True,
            label="GET known client, no launch",
        ),
    ],
    # A publisher's back channel: no session counts, only the client's credentials.
    "oidc-token": [
        post(everyone(BAD_REQUEST), secure=True, label="POST empty"),
        post(
            everyone(UNAUTHORIZED),
            data=token_request,
            secure=True,
            label="POST without credentials",
        ),
        get(everyone(NOT_ALLOWED), secure=True),
        # Over plain HTTP (a proxy that ends TLS without saying so): an OAuth error answer,
        # not the 500 of Authlib's InsecureTransportError escaping the view.
        post(everyone(BAD_REQUEST), data=token_request, label="POST over http"),
    ],
    # Without a bearer token: nothing, not even for a logged-in session.
    "oidc-userinfo": [
        get(everyone(UNAUTHORIZED), secure=True),
        post(everyone(UNAUTHORIZED), secure=True),
    ],
    # --- the admin site's own pages -----------------------------------------------------------
    "admin/": [get(everyone(ADMIN_INDEX), path=lambda world: "/admin/")],
    "admin:index": [get(ALL_STAFF)],
    "admin:login": [get(row(OK, OK, OK, OK, ADMIN_INDEX, ADMIN_INDEX, ADMIN_INDEX, ADMIN_INDEX))],
    "admin:logout": [
        post(admin_all(OK, outsiders=ADMIN_INDEX)),
        get(admin_all(NOT_ALLOWED, outsiders=ADMIN_INDEX)),
    ],
    "admin:password_change": [get(ALL_STAFF)],
    "admin:password_change_done": [get(ALL_STAFF)],
    "admin:autocomplete": [get(ALL_STAFF, query=AUTOCOMPLETE_QUERY)],
    "admin:jsi18n": [get(ALL_STAFF)],
    # No model has a public page: "view on site" finds nothing, also for operators.
    "admin:view_on_site": [
        get(
            admin_all(NOT_FOUND),
            args=lambda world: {
                "content_type_id": ContentType.objects.get_for_model(Pupil).pk,
                "object_id": world.emma.pk,
            },
        )
    ],
    "admin:app_list": [get(ALL_STAFF, args=lambda world: {"app_label": "schools"})],
    "beheer/(?P<url>.*)$": [
        get(admin_all(NOT_FOUND), path=lambda world: "/beheer/bestaat-niet/"),
    ],
    # --- Django's own groups (not used by the portal): operators only ----------------------
    "admin:auth_group_changelist": [get(SUPERUSER_ONLY)],
    "admin:auth_group_add": [get(SUPERUSER_ONLY)],
    "admin:auth_group_change": [get(SUPERUSER_ONLY, "auth_group")],
    "admin:auth_group_delete": [get(SUPERUSER_ONLY, "auth_group")],
    "admin:auth_group_history": [get(SUPERUSER_ONLY, "auth_group")],
    "beheer/auth/group/<path:object_id>/": [object_redirect("auth_group", "auth_group")],
    # --- the outbox: operators only (messages hold parents' addresses and links) ----------
    "admin:post_office_email_changelist": [get(SUPERUSER_ONLY)],
    "admin:post_office_email_add": [get(NOBODY)],
    "admin:post_office_email_change": [get(SUPERUSER_ONLY, "email")],
    "admin:post_office_email_delete": [get(SUPERUSER_ONLY, "email")],
    "admin:post_office_email_history": [get(SUPERUSER_ONLY, "email")],
    "admin:post_office_email_image": [
        get(
            admin(FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND),
            args=lambda world: {"pk": world.email.pk, "content_id": PICTURE_CONTENT_ID},
        )
    ],
    "admin:post_office_email_preview": [get(SUPERUSER_ONLY, "email")],
    # A GET that sends the message again (post_office's own view): operators only.
    "admin:resend": [
        get(
            admin(FORBIDDEN, FORBIDDEN, FORBIDDEN, changes(to("{email_change}"))),
            "email",
            state=lambda world: Log.objects.count(),
        )
    ],
    "beheer/post_office/email/<path:object_id>/": [object_redirect("post_office_email", "email")],
    "admin:post_office_log_changelist": [get(SUPERUSER_ONLY)],
    "admin:post_office_log_add": [get(SUPERUSER_ONLY)],
    "admin:post_office_log_change": [get(SUPERUSER_ONLY, "email_log")],
    "admin:post_office_log_delete": [get(SUPERUSER_ONLY, "email_log")],
    "admin:post_office_log_history": [get(SUPERUSER_ONLY, "email_log")],
    "beheer/post_office/log/<path:object_id>/": [object_redirect("post_office_log", "email_log")],
    "admin:post_office_emailtemplate_changelist": [get(SUPERUSER_ONLY)],
    "admin:post_office_emailtemplate_add": [get(SUPERUSER_ONLY)],
    "admin:post_office_emailtemplate_change": [get(SUPERUSER_ONLY, "email_template")],
    "admin:post_office_emailtemplate_delete": [get(SUPERUSER_ONLY, "email_template")],
    "admin:post_office_emailtemplate_history": [get(SUPERUSER_ONLY, "email_template")],
    "beheer/post_office/emailtemplate/<path:object_id>/": [
        object_redirect("post_office_emailtemplate", "email_template")
    ],
    "admin:post_office_attachment_changelist": [get(SUPERUSER_ONLY)],
    "admin:post_office_attachment_add": [get(SUPERUSER_ONLY)],
    "admin:post_office_attachment_change": [get(SUPERUSER_ONLY, "attachment")],
    "admin:post_office_attachment_delete": [get(SUPERUSER_ONLY, "attachment")],
    "admin:post_office_attachment_history": [get(SUPERUSER_ONLY, "attachment")],
    "beheer/post_office/attachment/<path:object_id>/": [
        object_redirect("post_office_attachment", "attachment")
    ],
    # --- accounts: operators only ------------------------------------------------------------
    "admin:accounts_user_changelist": [get(SUPERUSER_ONLY)],
    "admin:accounts_user_add": [get(SUPERUSER_ONLY)],
    "admin:accounts_user_change": [get(SUPERUSER_ONLY, "parent_a")],
    "admin:accounts_user_delete": [get(SUPERUSER_ONLY, "parent_a")],
    "admin:accounts_user_history": [get(SUPERUSER_ONLY, "parent_a")],
    "beheer/accounts/user/<path:object_id>/": [object_redirect("accounts_user", "parent_a")],
    # --- pupils: teachers their own groups, managers their school ------------------------------
    "admin:schools_pupil_changelist": [
        get(ALL_STAFF),
        pupil_action("enable_home_login", PUPIL_ACTION),
        pupil_action("disable_home_login", PUPIL_ACTION),
        pupil_action("make_new_pins", admin(changes(OK), OK, changes(OK), changes(OK))),
        # Lotte is at school X but not in teacher X's groups: for teacher X she is not there.
        action(
            "make_new_pins",
            admin(OK, OK, changes(OK), changes(OK)),
            "lotte",
            label=" on Lotte",
        ),
        pupil_action("resend_invitations", PUPIL_ACTION),
        pupil_action("unlock", PUPIL_ACTION),
        pupil_action("export_csv", ALL_STAFF),
        # Teachers have no delete action: the list comes back with "no action chosen".
        # Managers get the confirmation page; nothing is deleted without confirming.
        pupil_action("delete_selected", admin(SAME_PAGE, SAME_PAGE, OK, OK)),
    ],
    "admin:schools_pupil_add": [get(MANAGERS_ONLY)],
    "admin:schools_pupil_change": [
        get(SEEN_BY_SCHOOL_X, "emma"),
        get(admin(NOT_FOUND, NOT_FOUND, OK, OK), "lotte", label="GET Lotte"),
    ],
    "admin:schools_pupil_delete": [get(MANAGERS_OF_X, "emma")],
    "admin:schools_pupil_history": [get(SEEN_BY_SCHOOL_X, "emma")],
    "admin:schools_pupil_new_pin": [
        *post_only(
            admin(changes(OK), NOT_FOUND, changes(OK), changes(OK)),
            POST_ONLY_IN_ADMIN,
            "emma",
            state=state_of_pupils,
        ),
        post(
            admin(NOT_FOUND, NOT_FOUND, changes(OK), changes(OK)),
            "lotte",
            state=state_of_pupils,
            label="POST Lotte",
        ),
    ],
    "beheer/schools/pupil/<path:object_id>/": [object_redirect("schools_pupil", "emma")],
    # --- import logs: the managers of the school ----------------------------------------------
    "admin:schools_importlog_changelist": [get(MANAGERS_ONLY)],
    "admin:schools_importlog_add": [get(NOBODY)],
    "admin:schools_importlog_change": [get(admin(NOT_FOUND, NOT_FOUND, OK, OK), "import_log")],
    "admin:schools_importlog_delete": [
        get(admin(NOT_FOUND, NOT_FOUND, FORBIDDEN, FORBIDDEN), "import_log")
    ],
    "admin:schools_importlog_history": [get(admin(NOT_FOUND, NOT_FOUND, OK, OK), "import_log")],
    "beheer/schools/importlog/<path:object_id>/": [
        object_redirect("schools_importlog", "import_log")
    ],
    # --- schools ---------------------------------------------------------------------------
    "admin:schools_school_changelist": [get(ALL_STAFF)],
    "admin:schools_school_import": [get(MANAGERS_OF_X, "school_x")],
    "admin:schools_school_add": [get(SUPERUSER_ONLY)],
    "admin:schools_school_change": [get(SEEN_BY_SCHOOL_X, "school_x")],
    "admin:schools_school_delete": [get(OPERATORS_CHANGE_X, "school_x")],
    "admin:schools_school_history": [get(SEEN_BY_SCHOOL_X, "school_x")],
    "beheer/schools/school/<path:object_id>/": [object_redirect("schools_school", "school_x")],
    # --- groups ----------------------------------------------------------------------------
    "admin:schools_group_changelist": [get(ALL_STAFF)],
    "admin:schools_group_add": [get(MANAGERS_ONLY)],
    "admin:schools_group_change": [get(SEEN_BY_SCHOOL_X, "group_x5")],
    "admin:schools_group_delete": [get(MANAGERS_OF_X, "group_x5")],
    "admin:schools_group_history": [get(SEEN_BY_SCHOOL_X, "group_x5")],
    "beheer/schools/group/<path:object_id>/": [object_redirect("schools_group", "group_x5")],
    # --- staff memberships: managers only (teacher X's own membership is school X's) --------
    "admin:schools_staffmembership_changelist": [get(MANAGERS_ONLY)],
    "admin:schools_staffmembership_add": [get(MANAGERS_ONLY)],
    "admin:schools_staffmembership_change": [get(MANAGERS_OF_X, "membership")],
    "admin:schools_staffmembership_delete": [get(MANAGERS_OF_X, "membership")],
    "admin:schools_staffmembership_history": [get(MANAGERS_OF_X, "membership")],
    "beheer/schools/staffmembership/<path:object_id>/": [
        object_redirect("schools_staffmembership", "membership")
    ],
    # --- the catalogue: operators only -------------------------------------------------------
    "admin:launcher_publisher_changelist": [get(SUPERUSER_ONLY)],
    "admin:launcher_publisher_add": [get(SUPERUSER_ONLY)],
    "admin:launcher_publisher_change": [get(SUPERUSER_ONLY, "publisher")],
    "admin:launcher_publisher_delete": [get(SUPERUSER_ONLY, "publisher")],
    "admin:launcher_publisher_history": [get(SUPERUSER_ONLY, "publisher")],
    "beheer/launcher/publisher/<path:object_id>/": [
        object_redirect("launcher_publisher", "publisher")
    ],
    "admin:launcher_product_changelist": [get(SUPERUSER_ONLY)],
    "admin:launcher_product_add": [get(SUPERUSER_ONLY)],
    "admin:launcher_product_change": [get(SUPERUSER_ONLY, "product")],
    "admin:launcher_product_delete": [get(SUPERUSER_ONLY, "product")],
    "admin:launcher_product_history": [get(SUPERUSER_ONLY, "product")],
    "beheer/launcher/product/<path:object_id>/": [object_redirect("launcher_product", "product")],
    # --- licences: operators record them, a school's staff read their own -------------------
    "admin:launcher_licence_changelist": [get(ALL_STAFF)],
    "admin:launcher_licence_add": [get(SUPERUSER_ONLY)],
    "admin:launcher_licence_change": [get(SEEN_BY_SCHOOL_X, "licence")],
    "admin:launcher_licence_delete": [get(OPERATORS_CHANGE_X, "licence")],
    "admin:launcher_licence_history": [get(SEEN_BY_SCHOOL_X, "licence")],
    "beheer/launcher/licence/<path:object_id>/": [object_redirect("launcher_licence", "licence")],
    # --- publishers' OIDC clients: operators only ----------------------------------------------
    "admin:sso_client_changelist": [
        get(SUPERUSER_ONLY),
        action(
            "rotate_secret",
            admin(FORBIDDEN, FORBIDDEN, FORBIDDEN, changes(OK)),
            "client",
            model="sso_client",
            state=state_of_client,
        ),
        action(
            "replace_secret_now",
            admin(FORBIDDEN, FORBIDDEN, FORBIDDEN, changes(OK)),
            "client",
            model="sso_client",
            state=state_of_client,
        ),
    ],
    "admin:sso_client_add": [get(SUPERUSER_ONLY)],
    "admin:sso_client_change": [get(SUPERUSER_ONLY, "client")],
    "admin:sso_client_delete": [get(SUPERUSER_ONLY, "client")],
    "admin:sso_client_history": [get(SUPERUSER_ONLY, "client")],
    "beheer/sso/client/<path:object_id>/": [object_redirect("sso_client", "client")],
    # --- the audit log: read-only; managers their school, teachers their pupils --------------
    "admin:audit_auditevent_changelist": [get(ALL_STAFF)],
    "admin:audit_auditevent_add": [get(NOBODY)],
    "admin:audit_auditevent_change": [get(SEEN_BY_SCHOOL_X, "audit_event")],
    "admin:audit_auditevent_delete": [
        get(admin(FORBIDDEN, NOT_FOUND, FORBIDDEN, FORBIDDEN), "audit_event")
    ],
    "admin:audit_auditevent_history": [get(SEEN_BY_SCHOOL_X, "audit_event")],
    "beheer/audit/auditevent/<path:object_id>/": [
        object_redirect("audit_auditevent", "audit_event")
    ],
    # Only with BENCH_VIEWS on (the load benchmark): an empty page for anyone.
    "bench/leeg/": [get(everyone(OK), path=lambda world: "/bench/leeg/")],
}

#: Answered before URL resolution (basispoort.health), so not in the URLconf.
NOT_IN_URLCONF = {HEALTH_PATH}
#: In the URLconf only when a setting turns them on.
OPTIONAL = {"bench/leeg/": lambda: settings.BENCH_VIEWS}


# --- walking the URLconf -------------------------------------------------------------------


def url_keys(resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""):
    """Every pattern of the URLconf, through every include: its name, or its route."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from url_keys(pattern, route, inner)
        elif isinstance(pattern, URLPattern):
            if pattern.name:
                yield f"{namespace}:{pattern.name}" if namespace else pattern.name
            else:
                yield route


def in_use(key: str) -> bool:
    return OPTIONAL.get(key, lambda: True)()


def test_every_url_is_in_the_matrix():
    keys = list(url_keys())
    assert len(keys) == len(set(keys)), "two URL patterns share a name or route"
    missing = sorted(set(keys) - set(TABLE))
    assert not missing, (
        "URL patterns without an entry in the access matrix (tests/test_access_matrix.py, "
        f"TABLE): {', '.join(missing)}"
    )
    gone = sorted(key for key in set(TABLE) - set(keys) - NOT_IN_URLCONF if in_use(key))
    assert not gone, f"Entries in the access matrix for URLs that no longer exist: {gone}"


def test_every_entry_answers_every_identity():
    for key, probes in TABLE.items():
        labels = [probe.label or probe.method.upper() for probe in probes]
        assert len(labels) == len(set(labels)), f"{key}: two probes with the same label"
        for probe in probes:
            assert set(probe.answers) == set(IDENTITIES), key


# --- the cells -----------------------------------------------------------------------------


def cells():
    for key, probes in TABLE.items():
        if not in_use(key):
            continue
        for probe in probes:
            label = probe.label or probe.method.upper()
            for who in IDENTITIES:
                yield pytest.param(key, probe, who, id=f"{key} {label}-{who}")


def browser_for(world: World, who: str) -> Client:
    browser = Client(raise_request_exception=False)
    if who != ANONYMOUS:
        browser.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[who]
    return browser


def placeholders(world: World, url: str) -> dict[str, str]:
    query = QueryDict(mutable=True)
    query["next"] = url
    return {
        "next": query.urlencode(safe="/")[len("next=") :],
        "url": url,
        "launched": reverse("launched", args=[world.product.code]),
        "favicon": static("favicon.svg"),
        "email_change": reverse("admin:post_office_email_change", args=[world.email.pk]),
        "login_required": REDIRECT_URI
        + "?"
        + urlencode({"error": "login_required", "state": "toestand", "iss": settings.SITE_URL}),
    }


def expected_location(answer: Answer, world: World, url: str) -> str:
    return answer.location.format(**placeholders(world, url))


TEXT_TYPES = ("text/", "application/json", "image/svg+xml", "application/javascript")


@pytest.mark.parametrize(("key", "probe", "who"), list(cells()))
def test_access(world, key, probe, who):
    expected = probe.answers[who]
    url = probe.url(key, world)
    data = probe.data(world) if callable(probe.data) else probe.data
    before = probe.state(world) if probe.state else None

    browser = browser_for(world, who)
    response = getattr(browser, probe.method)(url, data or {}, secure=probe.secure)

    got = Answer(response.status_code, response.get("Location"))
    want = f"{probe.method.upper()} {url} as {who}: expected {expected}"
    assert response.status_code == expected.status, f"{want}, got {got}"
    if expected.location is not None:
        assert response["Location"] == expected_location(expected, world, url), f"{want}, got {got}"
    if probe.state is not None:
        changed = probe.state(world) != before
        assert changed == bool(expected.changed), (
            f"{want}, but it {'changed' if changed else 'did not change'} the data"
        )
    text = response.get("Content-Type", "").startswith(TEXT_TYPES) and not response.streaming
    if probe.private and text:
        body = response.content.decode(errors="replace")
        seen = [marker for marker in forbidden_for(world, who) if marker in body]
        assert not seen, f"{probe.method.upper()} {url} as {who} shows {seen}"
