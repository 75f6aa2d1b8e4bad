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
from audit import orphans
from schools.imports.data import ImportRefused, SchoolFile
from schools.models import Group, Pupil, School, StaffMembership, StaffRole

BATCH = 1000
EMAIL_MAX = 254
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
    teachers_left: int = 0
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
            f"Leerkrachten: {self.teachers_created} nieuw, {self.teachers_updated} gewijzigd, "
            f"{self.teachers_left} niet meer in het bestand (groepen eraf).",
        ]
        if self.teachers_created:
            lines.append(
                "Nieuwe leerkrachten kiezen hun wachtwoord met 'Wachtwoord vergeten?' op de "
                "inlogpagina van het beheer."
            )
        if not self.changes_anything:
            lines.append("Er verandert niets: het portaal komt al overeen met dit bestand.")
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
        groups, from_file = _sync_groups(school, file, report)
        _sync_pupils(school, file, groups, report, today)
        # A parent whose last child at school left is switched off; one whose child is back, on.
        orphans.settle_on_commit(User.objects.filter(parent_links__pupil__school=school))
        if file.has_teachers:
            _sync_teachers(school, file, groups, from_file, report)
        if dry_run:
            transaction.set_rollback(True)
    return school, report


def _sync_groups(school: School, file: SchoolFile, report: Report) -> tuple[dict, set]:
    """The file's groups by key, and the groups that came from the administration system."""
    existing = list(school.groups.all())
    original_names = {group.pk: group.name for group in existing}
    by_key = {group.external_key: group for group in existing if group.external_key}
    by_name = {group.name: group for group in existing}
    keys_in_file = {row.key for row in file.groups}
    result, new, changed = {}, [], []
    for row in file.groups:
        if file.groups_by_name:
            group = by_name.get(row.name)
            key = group.external_key if group is not None else ""
        else:
            group = by_key.get(row.key)
            by_its_name = by_name.get(row.name)
            # A group typed in admin (or whose key left the file) takes the file's key.
            if group is None and by_its_name and by_its_name.external_key not in keys_in_file:
                group = by_its_name
            key = row.key
        if group is None:
            group = Group(school=school, name=row.name, year_level=row.year_level)
            group.external_key = key
            new.append(group)
        elif (group.name, group.year_level, group.external_key) != (row.name, row.year_level, key):
            group.name, group.year_level, group.external_key = row.name, row.year_level, key
            changed.append(group)
        result[row.key] = group
    final_names = [group.name for group in existing] + [group.name for group in new]
    twice = sorted({name for name in final_names if final_names.count(name) > 1})
    if twice:
        raise ImportRefused(
            f"Na deze import zouden twee groepen '{twice[0]}' heten: een groep in het portaal "
            "die niet in het bestand staat, heeft die naam al. Hernoem of verwijder die eerst."
        )
    # Names move in two steps, so that "Groep 5" → "Groep 6" and "Groep 6" → "Groep 7" in one
    # file never meet the unique name in between.
    renamed = [group for group in changed if group.name != original_names[group.pk]]
    if renamed:
        final = {group.pk: group.name for group in renamed}
        for group in renamed:
            group.name = str(group.pk)
        Group.objects.bulk_update(renamed, ["name"], batch_size=BATCH)
        for group in renamed:
            group.name = final[group.pk]
    Group.objects.bulk_update(changed, ["name", "year_level", "external_key"], batch_size=BATCH)
    Group.objects.bulk_create(new, batch_size=BATCH)
    report.groups_created, report.groups_updated = len(new), len(changed)
    from_file = {group.pk for group in [*existing, *new] if group.external_key}
    return result, from_file


def _sync_pupils(
    school: School, file: SchoolFile, groups: dict[str, Group], report: Report, today: date
) -> None:
    existing = list(Pupil.objects.filter(school=school))
    by_key = {pupil.external_key: pupil for pupil in existing if pupil.external_key}
    by_eck = {pupil.eck_id: pupil for pupil in existing if pupil.eck_id}
    keys_in_file = {row.key for row in file.pupils}
    follows = FOLLOWS if file.has_eck_ids else {c: n for c, n in FOLLOWS.items() if c != "eck_id"}
    seen, new, changed = set(), [], {}
    for row in file.pupils:
        group = groups[row.group_key]
        leaving = row.left_on is not None and row.left_on <= today
        pupil = by_key.get(row.key)
        if pupil is None and row.eck_id:
            # Found by ECK iD under a new key, unless that pupil's own key is still in the file.
            candidate = by_eck.get(row.eck_id)
            if candidate is not None and candidate.external_key not in keys_in_file:
                pupil = candidate
        if pupil is not None and pupil.pk in seen:
            raise ImportRefused(
                f"Leerling '{row.key}' komt overeen met een leerling die al bij een andere "
                "regel van het bestand hoort. Er is niets veranderd."
            )
        if pupil is None:
            if leaving:
                continue  # left before the portal ever knew the pupil: nothing to keep
            pupil = Pupil(school=school, group=group, external_key=row.key)
            for name in PUPIL_FIELDS:
                setattr(pupil, name, getattr(row, name))
            new.append(pupil)
            continue
        seen.add(pupil.pk)
        fields = [
            column
            for column, name in follows.items()
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
            # Retention counts from today, not from a leaving date that may be years old.
            pupil.left_on, pupil.left_marked_on = row.left_on, today
            pupil.home_login_enabled = False
            fields += ["left_on", "left_marked_on", "home_login_enabled"]
            report.left += 1
        elif not leaving and pupil.left_on is not None:
            pupil.left_on = pupil.left_marked_on = None  # back; home login stays off
            fields += ["left_on", "left_marked_on"]
            report.returned += 1
        if fields:
            pupil.updated_at = timezone.now()
            changed.setdefault(frozenset(fields), []).append(pupil)
        else:
            report.unchanged += 1
    # Only the columns that changed, per kind of change: a class moving up writes its group,
    # not ten columns (bulk_update builds one CASE per row and column). Updates go first: a
    # new pupil may bring the ECK iD a staying pupil gives up in the same file.
    for fields, pupils in changed.items():
        Pupil.objects.bulk_update(pupils, [*sorted(fields), "updated_at"], batch_size=BATCH)
    Pupil.objects.bulk_create(new, batch_size=BATCH)
    report.created = len(new)
    gone = [pupil.pk for pupil in existing if pupil.pk not in seen and pupil.left_on is None]
    for start in range(0, len(gone), BATCH):
        report.left += Pupil.objects.filter(pk__in=gone[start : start + BATCH]).update(
            left_on=today, left_marked_on=today, home_login_enabled=False, updated_at=timezone.now()
        )


def _sync_teachers(
    school: School, file: SchoolFile, groups: dict[str, Group], from_file: set, report: Report
) -> None:
    """Teachers' accounts, memberships and groups. Only links to groups that come from the
    administration system are the file's to change; a group typed in admin keeps its teachers.
    Teachers missing from the file lose those groups (their account and membership stay)."""
    rows, invalid = {}, 0
    for row in file.teachers:
        email = normalize_email(row.email)
        try:
            if len(email) > EMAIL_MAX:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            invalid += 1
            continue
        rows[email] = row
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
        for membership in StaffMembership.objects.filter(school=school)
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
        staffmembership__school=school
    ).values_list("staffmembership_id", "group_id"):
        current.setdefault(membership_id, set()).add(group_id)
    row_by_user = {users[email].pk: row for email, row in rows.items()}
    add, remove, updated, gone = [], [], set(), set()
    created_ids = {membership.pk for membership in new_memberships}
    for user_id, membership in memberships.items():
        has = current.get(membership.pk, set())
        if user_id in row_by_user:
            wanted = {groups[key].pk for key in row_by_user[user_id].group_keys}
        elif membership.role == StaffRole.TEACHER:
            wanted = has - from_file
        else:
            continue  # coordinators and school admins are not the file's to change
        add += [through(staffmembership=membership, group_id=pk) for pk in wanted - has]
        lost = (has - wanted) & from_file
        remove += [(membership.pk, pk) for pk in lost]
        if (wanted - has or lost) and membership.pk not in created_ids:
            (updated if user_id in row_by_user else gone).add(membership.pk)
    through.objects.bulk_create(add, batch_size=BATCH)
    if remove:
        links = Q()
        for membership_id, group_id in remove:
            links |= Q(staffmembership_id=membership_id, group_id=group_id)
        through.objects.filter(links).delete()
    report.teachers_updated = len(updated)
    report.teachers_left = len(gone)


def _name(row) -> str:
    return " ".join(part for part in (row.first_name, row.infix, row.last_name) if part)[:150]
