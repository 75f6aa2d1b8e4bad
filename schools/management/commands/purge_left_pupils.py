"""python manage.py purge_left_pupils [--dry-run]: delete pupils who left long enough ago,
and the other personal data whose retention has passed (accounts without children, old audit
events)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from post_office.models import STATUS, Email

from audit import orphans
from audit.models import expired_events
from schools.admin.imports import PREVIEW_LIFETIME
from schools.models import ImportLog, Pupil


def old_mail(now=None):
    """Sent and failed messages older than MAIL_RETENTION_DAYS; never one still queued."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.MAIL_RETENTION_DAYS)
    return Email.objects.filter(created__lt=cutoff, status__in=[STATUS.sent, STATUS.failed])


def left_long_ago(today=None):
    cutoff = (today or timezone.localdate()) - timedelta(days=settings.LEFT_PUPIL_RETENTION_DAYS)
    # Counted from the day the portal marked the pupil, not from the leaving date in a file.
    return Pupil.objects.filter(left_marked_on__lt=cutoff)


class Command(BaseCommand):
    help = (
        "Deletes pupils marked as left more than LEFT_PUPIL_RETENTION_DAYS ago, with their "
        "parent links, pictures and launches, and files of unconfirmed import previews; "
        "parent accounts without children for ORPHAN_ACCOUNT_RETENTION_DAYS; audit events "
        "older than AUDIT_RETENTION_DAYS; sent and failed e-mails older than "
        "MAIL_RETENTION_DAYS (run daily)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args, **options):
        pupils = left_long_ago()
        if options["dry_run"]:
            self.stdout.write(f"{pupils.count()} vertrokken leerlingen zouden verwijderd worden.")
            self.stdout.write(
                f"{orphans.expired().count()} ouderaccounts zonder kinderen zouden verwijderd "
                "worden."
            )
            self.stdout.write(
                f"{expired_events().count()} gebeurtenissen uit het logboek zouden verwijderd "
                "worden."
            )
            self.stdout.write(f"{old_mail().count()} oude e-mails zouden verwijderd worden.")
            return
        with transaction.atomic():
            deleted = pupils.delete()[1].get("schools.Pupil", 0)
            # Files uploaded for a preview that was never confirmed: names and birth dates.
            ImportLog.objects.filter(
                upload__isnull=False, started_at__lt=timezone.now() - PREVIEW_LIFETIME
            ).update(upload=None)
        days = settings.LEFT_PUPIL_RETENTION_DAYS
        self.stdout.write(f"{deleted} leerlingen verwijderd (langer dan {days} dagen vertrokken).")
        # Parents of the pupils just deleted start their own retention now (see audit.orphans).
        accounts = orphans.delete_expired()
        days = settings.ORPHAN_ACCOUNT_RETENTION_DAYS
        self.stdout.write(
            f"{accounts} ouderaccounts zonder kinderen verwijderd (langer dan {days} dagen uit)."
        )
        events = expired_events().delete()[0]
        days = settings.AUDIT_RETENTION_DAYS
        self.stdout.write(
            f"{events} gebeurtenissen uit het logboek verwijderd (ouder dan {days} dagen)."
        )
        mails = old_mail().delete()[1].get("post_office.Email", 0)
        days = settings.MAIL_RETENTION_DAYS
        self.stdout.write(
            f"{mails} verstuurde of mislukte e-mails verwijderd (ouder dan {days} dagen)."
        )
