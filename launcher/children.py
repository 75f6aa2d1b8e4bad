"""The child's session: who is logged in as a child, and for how long.

After a correct PIN or picture sequence the parent's login is ended and the session holds
only the child: a brother or sister needs the parent's password again. The child's session
ends after CHILD_IDLE without a request, with the "klaar" button, or when software opens.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import logout
from django.utils import timezone

from schools.models import Pupil

CHILD_KEY = "child"
SEEN_KEY = "child_seen"
CHILD_IDLE = timedelta(minutes=20)


def start(request, pupil: Pupil) -> None:
    logout(request)  # flushes the parent's session and gives a new key
    request.session[CHILD_KEY] = str(pupil.code)
    request.session[SEEN_KEY] = timezone.now().timestamp()


def current(request) -> Pupil | None:
    """The child of this session, if it has not been idle too long (and may still log in)."""
    code = request.session.get(CHILD_KEY)
    if not code:
        return None
    seen = request.session.get(SEEN_KEY, 0)
    if timezone.now().timestamp() - seen > CHILD_IDLE.total_seconds():
        request.session.flush()
        return None
    pupil = (
        Pupil.objects.home_login_possible().select_related("school", "group").filter(code=code)
    ).first()
    if pupil is None:
        request.session.flush()
        return None
    request.session[SEEN_KEY] = timezone.now().timestamp()
    return pupil


def end(request) -> None:
    request.session.flush()
