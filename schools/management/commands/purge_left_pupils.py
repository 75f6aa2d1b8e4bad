"""python manage.py purge_left_pupils [--dry-run]: delete pupils who left long enough ago."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from schools.admin.imports import PREVIEW_LIFETIME
from schools.models import ImportLog, Pupil


def left_long_ago(today=None):
    cutoff = (today or timezone.localdate()) - timedelta(days=settings.LEFT_PUPIL_RETENTION_DAYS)
    # Counted from the day the portal marked the pupil, not from the leaving date in a file.
    return Pupil.objects.filter(left_marked_on__lt=cutoff)


class Command(BaseCommand):
    help = (
        "Deletes pupils marked as left more than LEFT_PUPIL_RETENTION_DAYS ago, with their "
        "parent links, pictures and launches, and files of unconfirmed import previews "
        "(run daily)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args, **options):
        pupils = left_long_ago()
        if options["dry_run"]:
            self.stdout.write(f"{pupils.count()} vertrokken leerlingen zouden verwijderd worden.")
            return
        with transaction.atomic():
            deleted = pupils.delete()[1].get("schools.Pupil", 0)
            # Files uploaded for a preview that was never confirmed: names and birth dates.
            ImportLog.objects.filter(
                upload__isnull=False, started_at__lt=timezone.now() - PREVIEW_LIFETIME
            ).update(upload=None)
        days = settings.LEFT_PUPIL_RETENTION_DAYS
        self.stdout.write(f"{deleted} leerlingen verwijderd (langer dan {days} dagen vertrokken).")
