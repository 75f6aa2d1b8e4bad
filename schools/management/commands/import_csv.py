"""python manage.py import_csv FILE --school BRIN [--location 00] [--dry-run]"""

from __future__ import annotations

from schools.management.commands.import_edexml import Command as EdexmlCommand
from schools.models import ImportLog


class Command(EdexmlCommand):
    help = "Reads a school's pupils from a CSV file (UTF-8) and syncs them."
    kind = ImportLog.Kind.CSV

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--school", required=True, help="the school's BRIN, e.g. 99RB")
        parser.add_argument("--location", default="00", help="the location code (default 00)")

    def target(self, options) -> dict:
        return {"brin": options["school"], "location_code": options["location"]}
