"""The audit log in admin: read-only, for operators and, scoped, for a school's staff."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q

from audit.models import AuditEvent
from schools import access
from schools.admin.scoping import ScopedAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ScopedAdmin):
    """Operators see every event. A school's managers see their school's events; a teacher
    sees the events about the pupils of their own groups."""

    list_display = ("at", "kind", "school", "pupil", "user", "actor", "product")
    list_filter = ("kind",)
    list_select_related = ("school", "pupil", "user", "actor", "product")
    search_fields = ("user__email", "pupil__first_name", "pupil__last_name")
    date_hierarchy = "at"
    fields = list_display
    list_per_page = 100

    def scope(self, user):
        events = AuditEvent.objects.select_related(*self.list_select_related)
        if user.is_superuser:
            return events
        return events.filter(
            Q(school__in=access.managed_schools_for(user)) | Q(pupil__in=access.pupils_for(user))
        )

    # A log that can be edited proves nothing.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
