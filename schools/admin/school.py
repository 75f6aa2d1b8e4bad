"""Admin for schools, groups and staff memberships."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.invitations import invite_staff, tell_waiting_parents
from schools import access
from schools.admin.imports import import_view
from schools.admin.scoping import ScopedAdmin
from schools.forms import GroupAdminForm, StaffMembershipForm
from schools.models import Group, School, StaffMembership


@admin.register(School)
class SchoolAdmin(ScopedAdmin):
    list_display = ("name", "brin", "location_code", "home_login_allowed", "network_environment")
    list_filter = ("home_login_allowed", "network_environment")
    search_fields = ("name", "brin")
    fields = (
        "name",
        "brin",
        "location_code",
        "home_login_allowed",
        "network_environment",
        "picture_password_length",
    )

    def scope(self, user):
        return access.schools_for(user)

    def get_urls(self):
        view = self.admin_site.admin_view(
            lambda request, object_id: import_view(self, request, object_id)
        )
        return [
            path("<path:object_id>/importeren/", view, name="schools_school_import"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        school = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), "can_import": self.is_manager(request, school)}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_readonly_fields(self, request, obj=None):
        # BRIN and location identify the school in imports; only operators change them.
        return () if request.user.is_superuser else ("brin", "location_code")

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        opened = {"home_login_allowed", "network_environment"} & set(form.changed_data)
        if change and opened and obj.home_login_available:
            # Addresses saved while the school had home login closed get their invitation now.
            tell_waiting_parents(obj.pupils.all())
        if change and "picture_password_length" in form.changed_data:
            # Old sequences have the wrong length now; the children need new ones.
            cleared = obj.pupils.exclude(picture_password_hash="").update(picture_password_hash="")
            if cleared:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d leerling heeft nu een nieuw plaatjeswachtwoord nodig.",
                        "%(count)d leerlingen hebben nu een nieuw plaatjeswachtwoord nodig.",
                        cleared,
                    )
                    % {"count": cleared},
                    messages.WARNING,
                )


@admin.register(Group)
class GroupAdmin(ScopedAdmin):
    form = GroupAdminForm
    list_display = ("name", "year_level", "school", "pupil_count")
    list_filter = (("school", admin.RelatedOnlyFieldListFilter), "year_level")
    search_fields = ("name",)
    ordering = ("school__name", "year_level", "name")
    fields = ("school", "name", "year_level", "external_key")

    def get_readonly_fields(self, request, obj=None):
        # Moving a group to another school would leave its pupils behind.
        return ("school",) if obj is not None else ()

    def scope(self, user):
        return (
            access.groups_for(user).select_related("school").annotate(pupil_count=Count("pupils"))
        )

    @admin.display(description=_("leerlingen"), ordering="pupil_count")
    def pupil_count(self, obj):
        return obj.pupil_count

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "school":
            kwargs["queryset"] = access.managed_schools_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(StaffMembership)
class StaffMembershipAdmin(ScopedAdmin):
    form = StaffMembershipForm
    list_display = ("user", "role", "school", "group_names")
    list_filter = (("school", admin.RelatedOnlyFieldListFilter), "role")
    search_fields = ("user__email", "user__name")
    filter_horizontal = ("groups",)

    def scope(self, user):
        return (
            access.memberships_for(user).select_related("user", "school").prefetch_related("groups")
        )

    def has_module_permission(self, request):
        return self.is_manager(request)

    def has_view_permission(self, request, obj=None):
        return self.is_manager(request, obj)

    @admin.display(description=_("groepen"))
    def group_names(self, obj):
        return ", ".join(group.name for group in obj.groups.all())

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "school":
            kwargs["queryset"] = access.managed_schools_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = access.groups_of_managed_schools(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and invite_staff(obj):
            self.message_user(
                request,
                _(
                    "Er staat een e-mail klaar voor %(email)s met een link om een wachtwoord "
                    "te kiezen."
                )
                % {"email": obj.user.email},
                messages.SUCCESS,
            )

    def get_readonly_fields(self, request, obj=None):
        # A membership stays at its school; someone who moves school gets a new one.
        return ("school",) if obj is not None else ()
