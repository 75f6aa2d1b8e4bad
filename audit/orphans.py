"""Parent accounts without a child at school: switched off at once, deleted later.

An account becomes orphaned when none of its parent links leads to a pupil still at school:
a teacher removed the last address, the pupils were deleted, or they all left. It is switched
off at once (its sessions and set-password links stop working) and deleted
ORPHAN_ACCOUNT_RETENTION_DAYS later by ``purge_left_pupils``. If a school enters the address
for a pupil again before then, or the pupil comes back, the account is switched on again with
its password, as if nothing happened. Staff and superusers are never touched; neither is an
account an operator switched off by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import ParentLink, PasswordLink, User
from audit.models import AuditEvent, OrphanedAccount, record


def _has_a_child_at_school():
    return Exists(ParentLink.objects.filter(user=OuterRef("pk"), pupil__left_on__isnull=True))


def _parents():
    return User.objects.filter(is_superuser=False, memberships__isnull=True)


def settle(users: QuerySet | Iterable[int]) -> None:
    """Switch off the accounts among ``users`` (a queryset or ids) that have no child at
    school any more; switch back on those switched off that way that have one again."""
    rows = (
        _parents()
        .filter(pk__in=users)
        .filter(Q(is_active=True) | Q(orphaned__isnull=False))
        .annotate(has_child=_has_a_child_at_school())
        .values_list("pk", "is_active", "orphaned__since", "has_child")
    )
    switch_off, switch_on = [], []
    for pk, is_active, orphaned_since, has_child in rows:
        if is_active and not has_child:
            switch_off.append(pk)
        elif orphaned_since is not None and has_child:
            switch_on.append(pk)
    if switch_off:
        _switch_off(switch_off)
    if switch_on:
        _switch_on(switch_on)


@transaction.atomic
def _switch_off(pks: list[int]) -> None:
    now = timezone.now()
    # An inactive account's sessions are refused on their next request (ModelBackend).
    User.objects.filter(pk__in=pks, is_active=True).update(is_active=False)
    PasswordLink.objects.filter(user__in=pks, used_at__isnull=True).update(used_at=now)
    OrphanedAccount.objects.bulk_create(
        [OrphanedAccount(user_id=pk, since=now) for pk in pks], ignore_conflicts=True
    )
    for pk in pks:
        record(AuditEvent.Kind.ACCOUNT_DEACTIVATED, user=pk)


@transaction.atomic
def _switch_on(pks: list[int]) -> None:
    OrphanedAccount.objects.filter(user__in=pks).delete()
    User.objects.filter(pk__in=pks).update(is_active=True)
    for pk in pks:
        record(AuditEvent.Kind.ACCOUNT_REACTIVATED, user=pk)


def settle_on_commit(users: QuerySet | Iterable[int]) -> None:
    """``settle`` once the current transaction is through, when its links are final (a parent
    who only moves from slot 1 to 2 is never switched off and on again)."""
    transaction.on_commit(lambda: settle(users), robust=True)


def expired(now=None) -> QuerySet[User]:
    """Orphaned accounts whose retention has passed and that still have no child at school."""
    days = settings.ORPHAN_ACCOUNT_RETENTION_DAYS
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return (
        _parents()
        .filter(is_active=False, orphaned__since__lt=cutoff)
        .filter(~_has_a_child_at_school())
    )


def delete_expired(now=None) -> int:
    """Delete the accounts ``expired`` returns; returns how many."""
    return expired(now).delete()[1].get(User._meta.label, 0)
