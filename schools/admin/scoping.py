"""Base class for admin pages that show only what the user's memberships allow."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

from schools import access


class ScopedAdmin(admin.ModelAdmin):
    """Lists, searches, filters, actions and autocompletes see only ``scope(user)``.

    An object outside the scope answers 404 on its change, delete and history pages, the
    same as an object that does not exist.
    """

    show_facets = admin.ShowFacets.NEVER

    def scope(self, user) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self, request):
        queryset = self.scope(request.user)
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404
        return obj

    def response_action(self, request, queryset, *args, **kwargs):
        # Django filters on the posted ids of an action as they are, and an id that is no
        # primary key (never one the list offers) is a server error there. It selects nothing.
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        valid = [value for value in selected if self._is_pk(value)]
        if valid != selected:
            request.POST = request.POST.copy()
            request.POST.setlist(ACTION_CHECKBOX_NAME, valid)
        return super().response_action(request, queryset, *args, **kwargs)

    def _is_pk(self, value: str) -> bool:
        try:
            self.opts.pk.to_python(value)
        except ValidationError:
            return False
        return True

    # Django's per-model permissions are not used for school staff: the role decides.
    def is_staff(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def is_manager(self, request, obj=None) -> bool:
        school = getattr(obj, "school", obj) if obj is not None else None
        # The admin asks this many times per page; one query per school and request will do.
        answers = request.__dict__.setdefault("_is_manager", {})
        key = school.pk if school is not None else None
        if key not in answers:
            answers[key] = self.is_staff(request) and access.is_manager(request.user, school)
        return answers[key]

    def has_module_permission(self, request):
        return self.is_staff(request)

    def has_view_permission(self, request, obj=None):
        return self.is_staff(request)

    def has_change_permission(self, request, obj=None):
        return self.is_manager(request, obj)

    def has_add_permission(self, request):
        return self.is_manager(request)

    def has_delete_permission(self, request, obj=None):
        return self.is_manager(request, obj)
