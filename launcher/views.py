"""The children's pages: tiles, PIN pad or picture grid, the software page and the launch."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from audit.models import AuditEvent, record
from basispoort.lib.lookup import Prepared
from launcher import children as child_session
from launcher.models import LaunchEvent, Product, home_products
from schools.models import ChildLogin, LoginMethod, Pupil
from schools.pictures import Picture
from sso import launch as hand_off

DIGITS = frozenset("0123456789")
WRONG_TRY_KEY = "wrong_try_for"


@dataclass(frozen=True)
class TileSchool:
    code: uuid.UUID
    name: str


@dataclass(frozen=True)
class Tile:
    code: uuid.UUID
    first_name: str


# What a tile shows, and what decides where a child appears: nothing more is read. Compiled
# once (basispoort/lib/lookup.py): the tile page is the first page of every home login.
_TILES = Prepared(
    lambda user_id: (
        Pupil.objects.active()
        .filter(parent_links__user=user_id, home_login_enabled=True)
        .order_by("first_name", "code")
        .values_list(
            "code",
            "first_name",
            "school_id",
            "school__name",
            "school__home_login_allowed",
            "school__network_environment",
        )
    ),
    parameters=(get_user_model()._meta.pk,),
)


# A tile's child, if it is this parent's and can log in at home (with the school: the pad's
# length is the school's choice). Compiled once, as the tiles are.
_TAPPED = Prepared(
    lambda code, user_id: (
        Pupil.objects.home_login_possible().filter(code=code, parent_links__user=user_id).order_by()
    ),  # one row: nothing to sort
    parameters=(Pupil._meta.pk, get_user_model()._meta.pk),
    related=("school",),
)

# The product a launch page moves on to, with its single sign-on client if it has one.
_LAUNCHED = Prepared(
    lambda code: Product.objects.filter(code=code).order_by(),
    parameters=(Product._meta.pk,),
    related=("client",),
)


def _one(found: list):
    if not found:
        raise Http404
    return found[0]


@never_cache
@require_safe
def children(request):
    """The tile page: one tile per child who can log in at home, grouped by school."""
    if not request.user.is_authenticated:
        if child_session.current(request):
            return redirect("software")
        return redirect_to_login(request.get_full_path())
    # One query for both lists: the tiles, and the schools that use a network environment.
    schools, network_schools = {}, set()
    for code, first_name, school_id, name, allowed, network in _TILES.rows(request.user.pk):
        school = TileSchool(school_id, name)
        if network:
            network_schools.add(school)
        elif allowed:
            schools.setdefault(school, []).append(Tile(code, first_name))
    context = {
        "schools": schools.items(),
        "network_schools": sorted(network_schools, key=lambda school: school.name),
    }
    return render(request, "launcher/children.html", context)


def _pad_state(request, pupil):
    """The digits or pictures entered so far (kept in the form, not in the session)."""
    key = request.POST.get("key", "")
    if pupil.login_method == LoginMethod.PIN:
        entered = [ch for ch in request.POST.get("entered", "") if ch in DIGITS]
        allowed = DIGITS
    else:
        entered = [p for p in request.POST.get("entered", "").split(",") if p in Picture.values]
        allowed = Picture.values
    length = _entry_length(pupil)
    entered = entered[:length]
    if key == "wis":
        entered = entered[:-1]
    elif key in allowed:
        entered = [*entered, key][:length]
    return entered


def _entry_length(pupil) -> int:
    return 4 if pupil.login_method == LoginMethod.PIN else pupil.school.picture_password_length


def _secret_of(pupil, entered: list[str]):
    return "".join(entered) if pupil.login_method == LoginMethod.PIN else entered


def _wait_text(seconds: int) -> str:
    return ngettext(
        "Probeer het nog eens over %(seconds)s seconde.",
        "Probeer het nog eens over %(seconds)s seconden.",
        seconds,
    ) % {"seconds": seconds}


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def child_login(request, code):
    """Tap a tile: the PIN pad or picture grid.

    Keys without script post the entry so far and get the pad back; a full entry is checked
    at once and answered with a redirect, so reloading never sends a wrong PIN twice.
    """
    pupil = _one(_TAPPED.objects(code, request.user.pk))
    entered = []
    if request.method == "POST":
        entered = _pad_state(request, pupil)
        if len(entered) == _entry_length(pupil):
            was_locked = pupil.is_locked
            result = pupil.try_to_log_in(_secret_of(pupil, entered))
            if result.ok:
                child_session.start(request, pupil)
                return redirect("software")
            if result.outcome == ChildLogin.WRONG:
                request.session[WRONG_TRY_KEY] = str(pupil.code)
                record(AuditEvent.Kind.CHILD_LOGIN_FAILED, pupil=pupil, user=request.user)
            elif result.outcome == ChildLogin.LOCKED and not was_locked:
                record(AuditEvent.Kind.CHILD_LOCKED, pupil=pupil, user=request.user)
            return redirect("child-login", code=pupil.code)
    wrong = request.method == "GET" and request.session.get(WRONG_TRY_KEY) == str(pupil.code)
    if wrong:
        del request.session[WRONG_TRY_KEY]
    wait = pupil.wait_remaining()
    wait_seconds = math.ceil(wait.total_seconds()) if wait else 0
    has_secret = (
        pupil.has_pin if pupil.login_method == LoginMethod.PIN else pupil.has_picture_password
    )
    length = _entry_length(pupil)
    context = {
        "pupil": pupil,
        "entered": entered,
        "entered_text": ("" if pupil.login_method == LoginMethod.PIN else ",").join(entered),
        "length": length,
        "slots": [entered[index] if index < len(entered) else "" for index in range(length)],
        "wrong": wrong and not wait_seconds,
        "locked": pupil.is_locked,
        "has_secret": has_secret,
        "wait_seconds": wait_seconds,
        "wait_text": _wait_text(wait_seconds),
        "pictures": Picture.choices,
        "digits": ["1", "2", "3", "4", "5", "6", "7", "8", "9"],
    }
    return render(request, "launcher/child_login.html", context)


@never_cache
@require_safe
def software(request):
    pupil = child_session.current(request)
    if pupil is None:
        return redirect("home")
    products = home_products(pupil)
    context = {"pupil": pupil, "products": products}
    return render(request, "launcher/software.html", context)


@never_cache
@require_POST
def launch(request, code):
    """Record the launch, end the portal session and open the software.

    The answer is a page of our own that moves on to the product: the site's CSP allows
    forms to post only to this site, and browsers apply that to a redirect after a post too.
    """
    pupil = child_session.current(request)
    if pupil is None:
        if child_session.recently_launched(request, code):  # a double click
            return redirect("launched", code=code)
        return redirect("home")
    product = _one([product for product in home_products(pupil) if product.code == code])
    with transaction.atomic():
        LaunchEvent.objects.create(pupil=pupil, product=product)
        parent = request.session.get(child_session.PARENT_KEY)
        record(AuditEvent.Kind.LAUNCH, pupil=pupil, product=product, user=parent)
    child_session.end(request, launched=product)
    if _signs_in(product):
        hand_off.leave_ticket(request, pupil, product)
    return redirect("launched", code=code)


def _signs_in(product: Product) -> bool:
    return product.client_id is not None and product.client.is_active


@never_cache
@require_safe
def launched(request, code):
    """ "Rekenrups gaat open": moves on to the product, also without script."""
    if not child_session.recently_launched(request, code, within=60):
        return redirect("home")
    product = _one(_LAUNCHED.objects(code))
    destination = hand_off.initiate_login_url(product) if _signs_in(product) else product.launch_url
    return render(
        request, "launcher/launched.html", {"product": product, "destination": destination}
    )


@require_safe
def favicon(request):
    # Looked up per request: the hashed file name is only known once static files are collected.
    return redirect(static("favicon.svg"), permanent=True)


@require_POST
def done(request):
    """The big "klaar" button: the child's session ends."""
    child_session.end(request)
    return redirect("home")
