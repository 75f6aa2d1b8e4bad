"""Who may see what: one helper per scope, used by the admin and every view.

A superuser sees everything. An ICT coordinator or school admin sees their whole school.
A teacher sees their school, and of its pupils only those in the groups they teach.
Anything outside a user's scope does not exist for them: callers answer 404.
"""

from __future__ import annotations

from django.db.models import F, Q, QuerySet

from schools.models import MANAGER_ROLES, Group, Pupil, School, StaffMembership


def _managed_school_ids(user) -> QuerySet:
    return StaffMembership.objects.filter(user=user, role__in=MANAGER_ROLES).values("school")


def _taught_group_ids(user) -> QuerySet:
    return StaffMembership.groups.through.objects.filter(
        staffmembership__user=user,
        # Also refused when the link is written (see schools.models); checked again here.
        group__school=F("staffmembership__school"),
    ).values("group")


def schools_for(user) -> QuerySet[School]:
    """Schools the user is a staff member of (all, for a superuser)."""
    if user.is_superuser:
        return School.objects.all()
    return School.objects.filter(memberships__user=user)


def managed_schools_for(user) -> QuerySet[School]:
    """Schools whose data the user may manage as a whole (ICT coordinator, school admin)."""
    if user.is_superuser:
        return School.objects.all()
    return School.objects.filter(pk__in=_managed_school_ids(user))


def groups_for(user) -> QuerySet[Group]:
    if user.is_superuser:
        return Group.objects.all()
    return Group.objects.filter(
        Q(school__in=_managed_school_ids(user)) | Q(pk__in=_taught_group_ids(user))
    )


def groups_of_managed_schools(user) -> QuerySet[Group]:
    return Group.objects.filter(school__in=managed_schools_for(user))


def pupils_for(user) -> QuerySet[Pupil]:
    if user.is_superuser:
        return Pupil.objects.all()
    return Pupil.objects.filter(
        Q(school__in=_managed_school_ids(user)) | Q(group__in=_taught_group_ids(user))
    )


def memberships_for(user) -> QuerySet[StaffMembership]:
    """Memberships a user may see: their own, and everyone's at a school they manage."""
    if user.is_superuser:
        return StaffMembership.objects.all()
    return StaffMembership.objects.filter(Q(user=user) | Q(school__in=_managed_school_ids(user)))


def is_manager(user, school: School | None = None) -> bool:
    """Manages some school (or the given one), or is a superuser."""
    if user.is_superuser:
        return True
    qs = StaffMembership.objects.filter(user=user, role__in=MANAGER_ROLES)
    if school is not None:
        qs = qs.filter(school=school)
    return qs.exists()
