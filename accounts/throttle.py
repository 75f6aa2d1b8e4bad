"""Slowing down password guessing, keyed on the typed address and never on an IP address.

A family or a whole school shares one IP address; keying on it would lock them all out.
The limits (also in the README):

- the first FREE_FAILURES wrong passwords in a row for an address cost nothing;
- after that each further try must wait, starting at FIRST_WAIT and doubling with every
  failure, up to MAX_WAIT (a temporary lock);
- a correct password, or a new password set through an e-mailed link, clears the count;
- failures older than FORGET_AFTER are forgotten.

Unknown addresses are counted exactly like known ones, so the answers reveal nothing.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import LoginThrottle, normalize_email

FREE_FAILURES = 5
FIRST_WAIT = timedelta(seconds=30)
MAX_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=1)


def _key(address: str) -> str:
    # Lower-casing can lengthen some characters; the column holds 254.
    return normalize_email(address)[:254]


#: The first of the two keys of PostgreSQL advisory locks taken here ("TP" + "LG").
_LOCK_CLASS = 0x5450_4C47


def hold(address: str) -> None:
    """Make tries for this address take turns until the current transaction ends.

    Without it, tries that arrive together would all read the same count before any of them
    records its failure, and each would get its password checked. On PostgreSQL a
    transaction-scoped advisory lock on the address (no row needed, so a correct first try
    writes nothing); SQLite already runs one writing transaction at a time
    (transaction_mode IMMEDIATE in the settings).
    """
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(_key(address).encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [_LOCK_CLASS, int.from_bytes(digest[:4], "big", signed=True)],
        )


def standing(address: str) -> tuple[timedelta | None, bool]:
    """How long this address must still wait before a try (or None), and whether it has a
    count at all (then a correct password has something to clear)."""
    counted = LoginThrottle.objects.filter(key=_key(address)).values_list("blocked_until").first()
    if counted is None:
        return None, False
    now = timezone.now()
    blocked_until = counted[0]
    return (blocked_until - now if blocked_until and blocked_until > now else None), True


def wait_for(address: str) -> timedelta | None:
    """How long this address must still wait before a try, or None."""
    return standing(address)[0]


def _wait_after(failures: int) -> timedelta | None:
    if failures < FREE_FAILURES:
        return None
    return min(MAX_WAIT, FIRST_WAIT * 2 ** (failures - FREE_FAILURES))


@transaction.atomic
def record_failure(address: str) -> None:
    now = timezone.now()
    throttle, _created = LoginThrottle.objects.select_for_update().get_or_create(
        key=_key(address), defaults={"last_failure_at": now}
    )
    if now - throttle.last_failure_at > FORGET_AFTER:
        throttle.failures = 0
    throttle.failures += 1
    throttle.last_failure_at = now
    wait = _wait_after(throttle.failures)
    throttle.blocked_until = now + wait if wait else None
    throttle.save()


def clear(address: str) -> None:
    LoginThrottle.objects.filter(key=_key(address)).delete()


def forget_old() -> int:
    """Housekeeping for the mail worker: counts nobody can be held to any more."""
    stale = timezone.now() - FORGET_AFTER - MAX_WAIT
    return LoginThrottle.objects.filter(last_failure_at__lt=stale).delete()[0]
