"""The child's session: who is logged in as a child, and for how long.

After a correct PIN or picture sequence the parent's login is ended and the session holds
only the child: a brother or sister needs the parent's password again. The child's session
ends after CHILD_IDLE without a request, with the "klaar" button, or when software opens.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model, logout
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from basispoort.lib.lookup import Prepared
from schools.models import Pupil

CHILD_KEY = "child"
PARENT_KEY = "child_parent"
PARENT_HASH_KEY = "child_parent_hash"
SEEN_KEY = "child_seen"
LAUNCHED_KEY = "launched"
CHILD_IDLE = timedelta(minutes=20)
SEEN_GRANULARITY = 60  # seconds


def start(request, pupil: Pupil) -> None:
    parent = request.user
    logout(request)  # flushes the parent's session and gives a new key
    request.session[CHILD_KEY] = str(pupil.code)
    # The child's session lasts only as long as the parent's account stands as it was.
    request.session[PARENT_KEY] = parent.pk
    request.session[PARENT_HASH_KEY] = parent.get_session_auth_hash()
    request.session[SEEN_KEY] = timezone.now().timestamp()


# The child of a session, with school and group, and the parent's password hash to check
# that the parent's account still stands as it was. Compiled once (basispoort/lib/lookup.py):
# every page a child opens runs it.
_CHILD = Prepared(
    lambda code, parent: (
        Pupil.objects.home_login_possible()
        .filter(code=code, parent_links__user_id=parent, parent_links__user__is_active=True)
        .order_by()
    ),  # one row: nothing to sort
    parameters=(Pupil._meta.pk, get_user_model()._meta.pk),
    related=("school", "group"),
    extra=(("parent_password", "parent_links__user__password"),),
)


def current(request) -> Pupil | None:
    """The child of this session, if it has not been idle too long (and may still log in)."""
    code = request.session.get(CHILD_KEY)
    if not code or request.user.is_authenticated:
        return None
    seen = request.session.get(SEEN_KEY, 0)
    if timezone.now().timestamp() - seen > CHILD_IDLE.total_seconds():
        request.session.flush()
        return None
    found = _CHILD.objects(code, request.session.get(PARENT_KEY))
    pupil = found[0] if found else None
    if pupil is None or not _same_password(request, pupil.parent_password):
        request.session.flush()
        return None
    now = timezone.now().timestamp()
    # Written at most once a minute: otherwise every page the child opens saves the session.
    if now - seen >= SEEN_GRANULARITY:
        request.session[SEEN_KEY] = now
    return pupil


def _same_password(request, password_hash: str) -> bool:
    # The same check Django makes for a logged-in user, on the parent's stored hash.
    parent = get_user_model()(pk=request.session.get(PARENT_KEY), password=password_hash)
    return constant_time_compare(
        request.session.get(PARENT_HASH_KEY, ""), parent.get_session_auth_hash()
    )


def end(request, launched=None) -> None:
    """End the child's session; remember a launch for a few seconds against double clicks."""
    request.session.flush()
    if launched is not None:
        request.session[LAUNCHED_KEY] = [str(launched.code), timezone.now().timestamp()]


def recently_launched(request, code, within: float = 10) -> bool:
    product, when = request.session.get(LAUNCHED_KEY) or ("", 0)
    return product == str(code) and timezone.now().timestamp() - when < within
