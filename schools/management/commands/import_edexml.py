"""python manage.py import_edexml FILE [--dry-run]"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from schools.imports import data
from schools.imports.data import TOO_BIG
from schools.imports.run import run_import
from schools.models import ImportLog


class Command(BaseCommand):
    help = "Reads a school's EDEXML file and syncs its groups, pupils and teachers."
    kind = ImportLog.Kind.EDEXML

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would change, change nothing"
        )

    def read(self, path: Path) -> bytes:
        try:
            if path.stat().st_size > data.MAX_FILE_BYTES:
                message = TOO_BIG
                ImportLog.objects.create(
                    kind=self.kind, file_name=path.name[:255], ok=False, message=message
                )
                raise CommandError(message)
            return path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from None

    def handle(self, *args, **options):
        data = self.read(options["file"])
        outcome = run_import(
            self.kind,
            data,
            options["file"].name,
            dry_run=options["dry_run"],
            **self.target(options),
        )
        if outcome.error:
            raise CommandError(outcome.error)
        school = outcome.school
        heading = "Proefimport (er is niets veranderd)" if options["dry_run"] else "Import"
        self.stdout.write(f"{heading} voor {school.name} ({school.brin}{school.location_code}):")
        for line in outcome.report.lines():
            self.stdout.write(f"  {line}")

    def target(self, options) -> dict:
        return {}
