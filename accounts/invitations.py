"""Telling parents (and staff) about their account: invitations, notices, new links."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from post_office.models import Email

from accounts.emails import absolute_url, queue
from accounts.models import ParentLink, PasswordLink, PasswordRequest, User
from audit.models import AuditEvent, record
from schools.models import Pupil

#: "Forgot password" requests per address per hour; more are quietly dropped.
MAX_REQUESTS_PER_HOUR = 5


def invitation_days() -> int:
    return max(1, round(settings.INVITATION_LINK_LIFETIME.total_seconds() / 86400))


def reset_minutes() -> int:
    return max(1, round(settings.RESET_LINK_LIFETIME.total_seconds() / 60))


def tell_parent(link: ParentLink) -> Email:
    """Queue an invitation (no password yet) or a short notice (has one) for this child."""
    user, pupil = link.user, link.pupil
    context = {"child": pupil.first_name, "school": pupil.school.name, "email": user.email}
    if user.has_usable_password():
        message = queue("child-added", user.email, context)
    else:
        _link, token = PasswordLink.issue(user, PasswordLink.Purpose.INVITATION)
        context |= {
            "link": absolute_url("set-password", token),
            "days": invitation_days(),
        }
        message = queue("invitation", user.email, context)
        record(AuditEvent.Kind.INVITATION_SENT, pupil=pupil, user=user)
    link.message = message
    link.save(update_fields=["message"])
    return message


def invite_staff(membership) -> Email | None:
    """A new staff member without a password gets a link to choose one."""
    user = membership.user
    if user.has_usable_password():
        return None
    _link, token = PasswordLink.issue(user, PasswordLink.Purpose.INVITATION)
    context = {
        "email": user.email,
        "school": membership.school.name,
        "role": membership.get_role_display(),
        "link": absolute_url("set-password", token),
        "days": invitation_days(),
    }
    record(AuditEvent.Kind.INVITATION_SENT, user=user, school=membership.school_id)
    return queue("staff-invitation", user.email, context)


@transaction.atomic
def tell_parents(links: Iterable[ParentLink]) -> list[Email]:
    return [tell_parent(link) for link in links]


def tell_waiting_parents(pupils, only=None) -> list[ParentLink]:
    """Tell every parent not yet told about a child who can log in at home now.

    An address saved while home login is off (for the pupil or the whole school) waits: the
    invitation says home login is on. ``only`` limits this to the given links.
    """
    waiting = (
        ParentLink.objects.filter(pk__in=[link.pk for link in only])
        if only is not None
        else ParentLink.objects
    )
    links = list(
        waiting.filter(pupil__in=pupils, message__isnull=True)
        .filter(pupil__in=Pupil.objects.home_login_possible())
        .select_related("user", "pupil__school")
    )
    tell_parents(links)
    return links


def request_new_password(email: str) -> None:
    """Record a "forgot password" request; the mail worker decides what to send.

    The same single write happens for every address, known or not, so that nothing about
    an account can be learnt from the response or its timing.
    """
    an_hour_ago = timezone.now() - timedelta(hours=1)
    recent = PasswordRequest.objects.filter(email=email, created_at__gte=an_hour_ago)
    if recent.count() < MAX_REQUESTS_PER_HOUR:
        PasswordRequest.objects.create(email=email)


def handle_password_requests() -> int:
    """Send a fresh link to each known address that asked; returns how many were sent."""
    sent = 0
    now = timezone.now()
    for request in PasswordRequest.objects.filter(handled_at__isnull=True).order_by("pk")[:200]:
        with transaction.atomic():
            # A second worker (say, during a rolling deploy) skips what this one holds.
            request = (
                PasswordRequest.objects.select_for_update(skip_locked=True)
                .filter(pk=request.pk, handled_at__isnull=True)
                .first()
            )
            if request is None:
                continue
            user = User.objects.filter(email=request.email, is_active=True).first()
            if user is not None and _has_a_reason_to_log_in(user):
                _link, token = PasswordLink.issue(user, PasswordLink.Purpose.RESET)
                context = {
                    "email": user.email,
                    "link": absolute_url("set-password", token),
                    "minutes": reset_minutes(),
                }
                queue("password-reset", user.email, context, urgent=True)
                record(AuditEvent.Kind.RESET_LINK_SENT, user=user)
                sent += 1
            request.handled_at = now
            request.save(update_fields=["handled_at"])
    PasswordRequest.objects.filter(created_at__lt=now - timedelta(days=1)).delete()
    return sent


def _has_a_reason_to_log_in(user: User) -> bool:
    return user.parent_links.exists() or user.memberships.exists() or user.is_superuser
