"""One import from start to log: read, sync (or preview), and keep an ImportLog either way."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import DatabaseError

from schools.imports.csvfile import read_csv
from schools.imports.data import ImportRefused
from schools.imports.edexml import read_edexml
from schools.imports.sync import Report, sync
from schools.models import ImportLog, School


@dataclass
class Outcome:
    log: ImportLog
    report: Report | None
    error: str = ""
    school: School | None = None  # in a preview of a new school: not in the database


def run_import(
    kind: str,
    data: bytes,
    file_name: str,
    *,
    target: School | None = None,
    brin: str = "",
    location_code: str = "00",
    by=None,
    dry_run: bool = False,
) -> Outcome:
    """Nothing is changed unless the whole file is good; a refusal is logged with its reason."""
    log = ImportLog(kind=kind, file_name=file_name[:255], by=by, dry_run=dry_run, school=target)
    try:
        if kind == ImportLog.Kind.EDEXML:
            file = read_edexml(data)
        else:
            if target is not None:
                brin, location_code = target.brin, target.location_code
            file = read_csv(data, brin.upper(), location_code)
        school, report = sync(file, target=target, dry_run=dry_run)
    except DatabaseError:
        # E.g. an ECK iD that a pupil who left still has in the portal.
        return _refused(
            log,
            "Het bestand botst met wat al in het portaal staat (bijvoorbeeld een ECK iD dat "
            "een vertrokken leerling nog heeft). Er is niets veranderd.",
        )
    except ImportRefused as refusal:
        return _refused(log, str(refusal))
    if not dry_run or School.objects.filter(pk=school.pk).exists():
        log.school = school
    log.counts, log.warnings = report.counts, report.warnings
    log.message = "\n".join(report.lines())
    log.save()
    return Outcome(log, report, school=school)


def _refused(log: ImportLog, message: str) -> Outcome:
    log.ok, log.message = False, message
    log.save()
    return Outcome(log, None, message)
