"""python manage.py export_pupil CODE: everything the portal keeps about one pupil, as JSON."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from audit.export import pupil_data
from schools.models import Pupil


class Command(BaseCommand):
    help = (
        "Prints everything stored about one pupil as JSON, to answer a parent's request for "
        "access. CODE is the pupil's code, as in the address of the pupil's page in /beheer/."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="the pupil's code (a UUID)")

    def handle(self, *args, **options):
        code = options["code"].strip()
        try:
            pupil = Pupil.objects.select_related("school", "group").get(code=code)
        except (Pupil.DoesNotExist, ValidationError):
            raise CommandError(
                f"Er is geen leerling met de code '{code}'. De code staat in het adres van de "
                "pagina van de leerling in het beheer: /beheer/schools/pupil/<code>/change/."
            ) from None
        data = pupil_data(pupil)
        self.stdout.write(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
