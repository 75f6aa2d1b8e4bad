"""The audit log of security events, and parent accounts waiting to be deleted."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class EventKind(models.TextChoices):
    """What happened; the labels are what the admin shows."""

    LOGIN = "login", _("ingelogd")
    LOGIN_FAILED = "login_failed", _("inloggen mislukt")
    CHILD_LOGIN_FAILED = "child_login_failed", _("foute pincode of plaatjes")
    CHILD_LOCKED = "child_locked", _("geblokkeerd na te veel foute pogingen")
    CHILD_UNLOCKED = "child_unlocked", _("blokkade opgeheven")
    INVITATION_SENT = "invitation_sent", _("uitnodiging gestuurd")
    RESET_LINK_SENT = "reset_link_sent", _("link voor een nieuw wachtwoord gestuurd")
    PARENT_ADDED = "parent_added", _("ouderadres toegevoegd")
    PARENT_REMOVED = "parent_removed", _("ouderadres verwijderd")
    LAUNCH = "launch", _("software geopend")
    ACCOUNT_DEACTIVATED = "account_deactivated", _("account uitgezet: geen kinderen meer")
    ACCOUNT_REACTIVATED = "account_reactivated", _("account weer aangezet")


class AuditEvent(models.Model):
    """A security event: what happened, when, to whom, by whom and at which school.

    There is no free-text column, so no password, PIN, token, link or session key can end up
    here. Nothing about the client either (IP address, browser): a family or a whole school
    shares one address, so it identifies no one, and every counter is kept per account.

    When a pupil or an account is deleted, the events only about them go too (see
    ``audit.receivers``); what a staff member did stays, no longer naming them.
    """

    Kind = EventKind

    # Random, like every other key an admin URL shows: no counter of events in any address.
    code = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("gebeurtenis"), max_length=32, choices=EventKind.choices)
    at = models.DateTimeField(_("tijdstip"), default=timezone.now)
    school = models.ForeignKey(
        "schools.School",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # the (school, at) index below serves it
        verbose_name=_("school"),
    )
    pupil = models.ForeignKey(
        "schools.Pupil",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("leerling"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("account"),
        help_text=_("Het account waar het om gaat, meestal dat van een ouder."),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # a partial index below: most events have no actor
        verbose_name=_("door"),
        help_text=_("De medewerker die het deed."),
    )
    product = models.ForeignKey(
        "launcher.Product",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        # No index: every launch would pay for it, and products are rarely deleted.
        db_index=False,
        verbose_name=_("product"),
    )

    class Meta:
        verbose_name = _("gebeurtenis")
        verbose_name_plural = _("logboek")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["at"], name="audit_at"),
            models.Index(fields=["school", "at"], name="audit_school_at"),
            models.Index(
                fields=["actor"], condition=models.Q(actor__isnull=False), name="audit_actor"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=EventKind.values),
                name="audit_kind_known",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({timezone.localtime(self.at):%d-%m-%Y %H:%M})"


def _pk(value):
    return getattr(value, "pk", value)


def record(kind: str, *, pupil=None, user=None, actor=None, school=None, product=None) -> None:
    """Note a security event: one INSERT once the current transaction commits (at once
    outside a transaction), so an action that is rolled back leaves no event behind.

    Never breaks the action that caused it: an event that cannot be written is logged and
    dropped. Each argument is a model instance or a primary key (``user`` may also be a
    subquery); the school is the pupil's unless given.
    """
    event = AuditEvent(
        kind=kind,
        pupil_id=_pk(pupil),
        user_id=_pk(user),
        actor_id=_pk(actor),
        product_id=_pk(product),
        school_id=_pk(school) if school is not None else getattr(pupil, "school_id", None),
    )
    transaction.on_commit(partial(_write, event))


def _write(event: AuditEvent) -> None:
    try:
        event.save(force_insert=True)
    except Exception:
        # The action has happened; a missing line in the log must not undo it or show an error.
        logger.exception("Audit event %r could not be written", event.kind)


def expired_events(now=None):
    """Events older than AUDIT_RETENTION_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    return AuditEvent.objects.filter(at__lt=cutoff)


class OrphanedAccount(models.Model):
    """A parent account left without a child at school, switched off since ``since``.

    Deleted ORPHAN_ACCOUNT_RETENTION_DAYS later (``purge_left_pupils``) unless a school links
    the address to a pupil again first, which switches it back on (see ``audit.orphans``).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="orphaned",
        verbose_name=_("account"),
    )
    since = models.DateTimeField(_("zonder kinderen sinds"), default=timezone.now)

    class Meta:
        verbose_name = _("account zonder kinderen")
        verbose_name_plural = _("accounts zonder kinderen")

    def __str__(self):
        return str(self.user)
