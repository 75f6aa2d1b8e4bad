"""Linking parents' e-mail addresses to pupils."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import ParentLink, PasswordLink, User, normalize_email
from audit.models import AuditEvent, record

MAX_PARENTS = 2


def clean_parent_emails(emails: Iterable[str | None]) -> list[str]:
    """Normalise, drop blanks, and refuse what cannot be stored."""
    cleaned = [normalize_email(e) for e in emails if normalize_email(e)]
    if len(cleaned) > MAX_PARENTS:
        raise ValidationError(
            _("Een leerling heeft hoogstens twee ouderadressen."), code="too_many_parents"
        )
    if len(set(cleaned)) != len(cleaned):
        raise ValidationError(_("Dit adres staat er twee keer in."), code="duplicate_parent")
    for email in cleaned:
        validate_email(email)
    return cleaned


@transaction.atomic
def set_parent_emails(pupil, emails: Iterable[str | None], *, by=None) -> list[ParentLink]:
    """Make the pupil's parent addresses exactly ``emails`` (in slot order).

    Returns the links that are new, so that their addresses can be told about the child.
    ``by`` is the staff member making the change, for the audit log.
    """
    wanted = {
        User.objects.for_email(email): slot
        for slot, email in enumerate(clean_parent_emails(emails), start=1)
    }
    # Two teachers saving the same pupil at once take turns instead of clashing.
    type(pupil).objects.select_for_update().filter(pk=pupil.pk).exists()
    current = {link.user: link for link in pupil.parent_links.select_related("user")}
    # A parent who only moves to the other slot keeps the link and what they were told.
    moved = [link for user, link in current.items() if wanted.get(user, link.slot) != link.slot]
    gone = [user for user in current if user not in wanted]
    ParentLink.objects.filter(
        pk__in=[current[user].pk for user in gone] + [m.pk for m in moved]
    ).delete()
    for link in moved:
        ParentLink.objects.create(
            pupil=pupil, user=link.user, slot=wanted[link.user], message=link.message
        )
    for user in gone:
        record(AuditEvent.Kind.PARENT_REMOVED, pupil=pupil, user=user, actor=by)
        if not user.parent_links.exists() and not user.memberships.exists():
            # A removed or corrected address has no reason left to choose a password.
            PasswordLink.spend_all(user)
    new = [
        ParentLink.objects.create(pupil=pupil, user=user, slot=slot)
        for user, slot in wanted.items()
        if user not in current
    ]
    for link in new:
        record(AuditEvent.Kind.PARENT_ADDED, pupil=pupil, user=link.user, actor=by)
    return new
