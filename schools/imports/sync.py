"""Applying a school file: a sync, not a copy, in one transaction and a fixed number of queries.

Pupils are matched on the file's key (then on ECK iD). New pupils start with home login off;
names, groups and year levels follow the file; pupils missing from the file or with a leaving
date in the past are marked as left (home login off, gone from the tile page) and deleted by
`purge_left_pupils` after the retention period. What only the portal knows is never touched:
PINs, picture passwords, parents' addresses and home-login switches of pupils who stay.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User, normalize_email
from schools.imports.data import ImportRefused, SchoolFile
from schools.models import Group, Pupil, School, StaffMembership, StaffRole

BATCH = 1000
PUPIL_FIELDS = ("first_name", "infix", "last_name", "year_level", "eck_id")
#: Pupil column → the file's field it follows (a pupil found by ECK iD may have a new key).
FOLLOWS = {**{name: name for name in PUPIL_FIELDS}, "external_key": "key"}


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    moved: int = 0
    left: int = 0
    returned: int = 0
    unchanged: int = 0
    groups_created: int = 0
    groups_updated: int = 0
    teachers_created: int = 0
    teachers_updated: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {name: value for name, value in asdict(self).items() if name != "warnings"}

    @property
    def changes_anything(self) -> bool:
        return any(value for name, value in self.counts.items() if name != "unchanged")

    def lines(self) -> list[str]:
        """The report in Dutch, as the command prints it and admin shows it."""
        lines = [
            f"Leerlingen: {self.created} nieuw, {self.updated} gewijzigd, {self.moved} naar "
            f"een andere groep, {self.left} vertrokken, {self.returned} teruggekomen, "
            f"{self.unchanged} ongewijzigd.",
            f"Groepen: {self.groups_created} nieuw, {self.groups_updated} gewijzigd.",
            f"Leerkrachten: {self.teachers_created} nieuw, {self.teachers_updated} gewijzigd.",
        ]
        if not self.changes_anything:
            lines.append("Er verandert niets: het portaal was al bij met dit bestand.")
        lines += [f"Let op: {warning}" for warning in self.warnings]
        return lines


def school_for(file: SchoolFile, target: School | None) -> School:
    """The school the file is for; an upload may only touch the uploader's own school."""
    if target is not None:
        if (target.brin, target.location_code) != (file.brin, file.location_code):
            raise ImportRefused(
                f"Dit bestand is van school {file.brin}{file.location_code}, niet van "
                f"{target.name} ({target.brin}{target.location_code}). Er is niets veranderd."
            )
        return target
    school, _created = School.objects.get_or_create(
        brin=file.brin,
        location_code=file.location_code,
        defaults={"name": file.school_name or f"School {file.brin}{file.location_code}"},
    )
    return school


def sync(
    file: SchoolFile, *, target: School | None = None, dry_run: bool = False, today=None
) -> tuple[School, Report]:
    """Apply the file; with dry_run everything is computed and then rolled back."""
    report = Report(warnings=list(file.warnings))
    today = today or timezone.localdate()
    with transaction.atomic():
        school = school_for(file, target)
        groups = _sync_groups(school, file, report)
        _sync_pupils(school, file, groups, report, today)
        if file.has_teachers:
            _sync_teachers(school, file, groups, report)
        if dry_run:
            transaction.set_rollback(True)
    return school, report


def _sync_groups(school: School, file: SchoolFile, report: Report) -> dict[str, Group]:
    existing = list(school.groups.all())
    by_key = {group.external_key: group for group in existing if group.external_key}
    by_name = {group.name: group for group in existing}
    result, new, changed = {}, [], []
    for row in file.groups:
        if file.groups_by_name:
            group = by_name.get(row.name)
            key = group.external_key if group is not None else ""
        else:
            group = by_key.get(row.key) or by_name.get(row.name)
            key = row.key
        if group is None:
            group = Group(school=school, name=row.name, year_level=row.year_level)
            group.external_key = key
            new.append(group)
        elif (group.name, group.year_level, group.external_key) != (row.name, row.year_level, key):
            holder = by_name.get(row.name)
            if holder is not None and holder is not group:
                raise ImportRefused(
                    f"Groep '{row.name}' bestaat al in het portaal met een andere sleutel. "
                    "Hernoem of verwijder die groep eerst."
                )
            group.name, group.year_level, group.external_key = row.name, row.year_level, key
            changed.append(group)
        result[row.key] = group
    Group.objects.bulk_create(new, batch_size=BATCH)
    Group.objects.bulk_update(changed, ["name", "year_level", "external_key"], batch_size=BATCH)
    report.groups_created, report.groups_updated = len(new), len(changed)
    return result


def _sync_pupils(
    school: School, file: SchoolFile, groups: dict[str, Group], report: Report, today: date
) -> None:
    existing = list(Pupil.objects.filter(school=school))
    by_key = {pupil.external_key: pupil for pupil in existing if pupil.external_key}
    by_eck = {pupil.eck_id: pupil for pupil in existing if pupil.eck_id}
    seen, new, changed = set(), [], {}
    for row in file.pupils:
        group = groups[row.group_key]
        leaving = row.left_on is not None and row.left_on <= today
        pupil = by_key.get(row.key) or (by_eck.get(row.eck_id) if row.eck_id else None)
        if pupil is None:
            pupil = Pupil(school=school, group=group, external_key=row.key)
            for name in PUPIL_FIELDS:
                setattr(pupil, name, getattr(row, name))
            if leaving:
                pupil.left_on = row.left_on
            new.append(pupil)
            continue
        seen.add(pupil.pk)
        fields = [
            column
            for column, name in FOLLOWS.items()
            if getattr(pupil, column) != getattr(row, name)
        ]
        if fields:
            for column in fields:
                setattr(pupil, column, getattr(row, FOLLOWS[column]))
            report.updated += 1
        if pupil.group_id != group.pk:
            pupil.group = group
            fields.append("group")
            report.moved += 1
        if leaving and pupil.left_on is None:
            pupil.left_on, pupil.home_login_enabled = row.left_on, False
            fields += ["left_on", "home_login_enabled"]
            report.left += 1
        elif not leaving and pupil.left_on is not None:
            pupil.left_on = None  # back at school; home login stays off until a teacher says
            fields.append("left_on")
            report.returned += 1
        if fields:
            pupil.updated_at = timezone.now()
            changed.setdefault(frozenset(fields), []).append(pupil)
        else:
            report.unchanged += 1
    Pupil.objects.bulk_create(new, batch_size=BATCH)
    report.created = len(new)
    # Only the columns that changed, per kind of change: a class moving up writes its group,
    # not ten columns (bulk_update builds one CASE per row and column).
    for fields, pupils in changed.items():
        Pupil.objects.bulk_update(pupils, [*sorted(fields), "updated_at"], batch_size=BATCH)
    gone = [pupil.pk for pupil in existing if pupil.pk not in seen and pupil.left_on is None]
    for start in range(0, len(gone), BATCH):
        report.left += Pupil.objects.filter(pk__in=gone[start : start + BATCH]).update(
            left_on=today, home_login_enabled=False, updated_at=timezone.now()
        )


def _sync_teachers(
    school: School, file: SchoolFile, groups: dict[str, Group], report: Report
) -> None:
    rows, invalid = {}, 0
    for row in file.teachers:
        try:
            validate_email(normalize_email(row.email))
        except ValidationError:
            invalid += 1
            continue
        rows[normalize_email(row.email)] = row
    if invalid:
        report.warnings.append(
            f"{invalid} leerkracht(en) met een ongeldig e-mailadres overgeslagen."
        )
    users = {user.email: user for user in User.objects.filter(email__in=rows)}
    new_users = [
        User(email=email, name=_name(row), password=make_password(None))
        for email, row in rows.items()
        if email not in users
    ]
    User.objects.bulk_create(new_users, batch_size=BATCH)
    users.update({user.email: user for user in new_users})
    memberships = {
        membership.user_id: membership
        for membership in StaffMembership.objects.filter(school=school, user__in=users.values())
    }
    new_memberships = [
        StaffMembership(user=users[email], school=school, role=StaffRole.TEACHER)
        for email in rows
        if users[email].pk not in memberships
    ]
    StaffMembership.objects.bulk_create(new_memberships, batch_size=BATCH)
    report.teachers_created = len(new_memberships)
    memberships.update({membership.user_id: membership for membership in new_memberships})
    through = StaffMembership.groups.through
    current: dict = {}
    for membership_id, group_id in through.objects.filter(
        staffmembership__in=memberships.values()
    ).values_list("staffmembership_id", "group_id"):
        current.setdefault(membership_id, set()).add(group_id)
    add, remove, updated = [], [], set()
    created_ids = {membership.pk for membership in new_memberships}
    for email, row in rows.items():
        membership = memberships[users[email].pk]
        wanted = {groups[key].pk for key in row.group_keys}
        has = current.get(membership.pk, set())
        add += [through(staffmembership=membership, group_id=pk) for pk in wanted - has]
        remove += [(membership.pk, pk) for pk in has - wanted]
        if wanted != has and membership.pk not in created_ids:
            updated.add(membership.pk)
    through.objects.bulk_create(add, batch_size=BATCH)
    if remove:
        lost = Q()
        for membership_id, group_id in remove:
            lost |= Q(staffmembership_id=membership_id, group_id=group_id)
        through.objects.filter(lost).delete()
    report.teachers_updated = len(updated)


def _name(row) -> str:
    return " ".join(part for part in (row.first_name, row.infix, row.last_name) if part)[:150]
