"""Admin for pupils: what a teacher does between two lessons."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Prefetch
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from post_office.models import STATUS

from accounts.invitations import tell_parents, tell_waiting_parents
from accounts.models import ParentLink
from audit.models import AuditEvent, record
from schools import access
from schools.admin.pupil_display import (
    StatusFilter,
    local_time,
    message_status,
    parent_saved_message,
    pupils_csv,
)
from schools.admin.scoping import ScopedAdmin
from schools.forms import PICTURE_FIELDS, PupilAdminForm
from schools.models import Pupil

#: Outbox states of a message that has not been delivered yet.
WAITING = (STATUS.queued, STATUS.requeued)

#: One Argon2 hash per PIN: a class at a time keeps the request short.
MAX_NEW_PINS = 60


@admin.register(Pupil)
class PupilAdmin(ScopedAdmin):
    form = PupilAdminForm
    list_display = (
        "picture",
        "full_name",
        "group",
        "home_login_enabled",
        "login_method",
        "parent_addresses",
        "status",
    )
    list_display_links = ("picture", "full_name")
    list_filter = (
        ("group", admin.RelatedOnlyFieldListFilter),
        "home_login_enabled",
        "login_method",
        StatusFilter,
    )
    search_fields = ("first_name", "last_name", "external_key", "parent_links__user__email")
    list_per_page = 50
    actions = (
        "enable_home_login",
        "disable_home_login",
        "make_new_pins",
        "resend_invitations",
        "unlock",
        "export_csv",
    )
    readonly_fields = (
        "picture_preview",
        "parent_status",
        "secrets_status",
        "new_pin_button",
        "lock_status",
    )
    fieldsets = (
        (None, {"fields": ("picture_preview", "first_name", "infix", "last_name", "group")}),
        (
            _("Thuis inloggen"),
            {
                "fields": (
                    "home_login_enabled",
                    "parent_email_1",
                    "parent_email_2",
                    "confirm_addresses",
                    "parent_status",
                )
            },
        ),
        (
            _("Inloggen van het kind"),
            {
                "fields": (
                    "login_method",
                    "secrets_status",
                    "new_pin",
                    "new_pin_button",
                    ("picture_1", "picture_2", "picture_3"),
                    "lock_status",
                )
            },
        ),
        (_("Foto"), {"fields": ("avatar",)}),
        (
            _("Administratie"),
            {"fields": ("external_key", "eck_id", "left_on"), "classes": ("collapse",)},
        ),
    )

    def scope(self, user):
        return (
            access.pupils_for(user)
            .select_related("group", "school")
            .prefetch_related(
                Prefetch(
                    "parent_links",
                    ParentLink.objects.select_related("user", "message").prefetch_related(
                        "message__logs"
                    ),
                )
            )
        )

    def has_change_permission(self, request, obj=None):
        # Teachers look after their own pupils; the scope already holds only those.
        return self.is_staff(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # A pupil changes group within their school only, among the groups the user may
        # see; only a school's manager adds pupils, and only to that school's groups.
        if obj is None:
            groups = access.groups_of_managed_schools(request.user)
        else:
            groups = access.groups_for(request.user).filter(school=obj.school_id)
        field = form.base_fields["group"]
        field.queryset = groups.select_related("school")
        if obj is None and access.managed_schools_for(request.user)[:2].count() > 1:
            field.label_from_instance = lambda group: f"{group.name} ({group.school.name})"
        return form

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not self.is_manager(request, obj):
            # Identities from the administration system are the school's to change.
            readonly += ["external_key", "eck_id"]
        return readonly

    @method_decorator(sensitive_post_parameters("new_pin", *PICTURE_FIELDS))
    def changeform_view(self, request, *args, **kwargs):
        return super().changeform_view(request, *args, **kwargs)

    def get_urls(self):
        new_pin = path(
            "<path:object_id>/nieuwe-pincode/",
            self.admin_site.admin_view(self.new_pin_view),
            name="schools_pupil_new_pin",
        )
        return [new_pin, *super().get_urls()]

    @method_decorator(require_POST)
    def new_pin_view(self, request, object_id):
        """The "new PIN" button on a pupil's page: one pupil, same page as the action."""
        pupil = self.get_object(request, object_id)
        return self.make_new_pins(request, Pupil.objects.filter(pk=pupil.pk))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        new_links = form.save_parent_links(by=request.user)
        # Queued in this same transaction: saved address and e-mail stand or fall together.
        told = []
        if obj.home_login_enabled and "home_login_enabled" in form.changed_data:
            told = tell_waiting_parents([obj])  # also addresses saved while it was off
        elif obj.home_login_enabled:
            told = tell_waiting_parents([obj], only=new_links)
        for link in told:
            self.message_user(request, parent_saved_message(link), messages.SUCCESS)
        if new_links and not obj.home_login_enabled:
            self.message_user(
                request,
                _(
                    "Het adres is opgeslagen. De ouder krijgt de uitnodiging zodra thuis "
                    "inloggen aan staat."
                ),
                messages.INFO,
            )
        if form.cleaned_data.get("new_pin"):
            self.message_user(
                request,
                _("De nieuwe pincode van %(name)s is opgeslagen.") % {"name": obj.first_name},
            )

    # --- list columns ------------------------------------------------------------------------

    @admin.display(description=_("foto"))
    def picture(self, obj):
        return format_html(
            '<img src="{}" width="40" height="40" alt="" class="pupil-picture">',
            reverse("pupil-picture", args=[obj.code]),
        )

    @admin.display(description=_("tegel"))
    def picture_preview(self, obj):
        if obj._state.adding:
            return "—"
        return format_html(
            '<img src="{}" width="120" height="120" alt="{}">',
            reverse("pupil-picture", args=[obj.code]),
            obj.first_name,
        )

    @admin.display(description=_("stand van zaken"))
    def parent_status(self, obj):
        links = [] if obj._state.adding else list(obj.parent_links.all())
        if not links:
            return _("Nog geen ouderadres.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    link.user.email,
                    message_status(link.message),
                    _("gekozen") if link.user.has_usable_password() else _("nog niet gekozen"),
                    local_time(link.user.last_home_login)
                    if link.user.last_home_login
                    else _("nog nooit"),
                )
                for link in links
            ),
        )
        return format_html(
            '<table class="parent-status"><thead><tr><th scope="col">{}</th><th scope="col">{}'
            '</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>{}</tbody>'
            "</table>",
            _("adres"),
            _("laatste e-mail"),
            _("wachtwoord"),
            _("laatst thuis ingelogd"),
            rows,
        )

    @admin.display(description=_("naam"), ordering="first_name")
    def full_name(self, obj):
        return obj.full_name

    @admin.display(description=_("ouderadressen"))
    def parent_addresses(self, obj):
        return ", ".join(link.user.email for link in obj.parent_links.all()) or "—"

    @admin.display(description=_("status"))
    def status(self, obj):
        if not obj.is_active:
            return _("vertrokken")
        if obj.is_locked:
            return _("geblokkeerd")
        return _("op school")

    @admin.display(description=_("ingesteld"))
    def secrets_status(self, obj):
        pin = _("pincode ingesteld") if obj.has_pin else _("nog geen pincode")
        pictures = (
            _("plaatjeswachtwoord ingesteld")
            if obj.has_picture_password
            else _("nog geen plaatjeswachtwoord")
        )
        return f"{pin}; {pictures}"

    @admin.display(description=_("of"))
    def new_pin_button(self, obj):
        if obj._state.adding:
            return "—"
        # Submits the page's own form (with its CSRF token) to the new-PIN view.
        return format_html(
            '<button type="submit" class="button" formaction="{}" formnovalidate>{}</button>',
            reverse("admin:schools_pupil_new_pin", args=[obj.pk]),
            _("Maak een nieuwe pincode en laat hem één keer zien"),
        )

    @admin.display(description=_("blokkade"))
    def lock_status(self, obj):
        if not obj.is_locked:
            return _("niet geblokkeerd")
        return _("geblokkeerd sinds %(when)s na %(count)d foute pogingen") % {
            "when": local_time(obj.locked_at),
            "count": obj.failed_attempts,
        }

    # --- actions -----------------------------------------------------------------------------

    @admin.action(description=_("Thuis inloggen aanzetten"))
    @method_decorator(transaction.atomic)
    def enable_home_login(self, request, queryset):
        switched = list(
            queryset.active().filter(home_login_enabled=False).values_list("pk", flat=True)
        )
        count = queryset.active().update(home_login_enabled=True)
        tell_waiting_parents(switched)
        self.message_user(
            request,
            ngettext(
                "Thuis inloggen staat aan voor %(count)d leerling.",
                "Thuis inloggen staat aan voor %(count)d leerlingen.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Thuis inloggen uitzetten"))
    def disable_home_login(self, request, queryset):
        count = queryset.update(home_login_enabled=False)
        self.message_user(
            request,
            ngettext(
                "Thuis inloggen staat uit voor %(count)d leerling.",
                "Thuis inloggen staat uit voor %(count)d leerlingen.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Nieuwe pincodes maken (eenmalig zichtbaar)"))
    def make_new_pins(self, request, queryset):
        pupils = list(queryset.active().select_related("group")[: MAX_NEW_PINS + 1])
        if len(pupils) > MAX_NEW_PINS:
            self.message_user(
                request,
                _("Kies hoogstens %(max)d leerlingen tegelijk, bijvoorbeeld één groep.")
                % {"max": MAX_NEW_PINS},
                messages.ERROR,
            )
            return None
        new_pins = [(pupil, pupil.generate_pin()) for pupil in pupils]
        # All or nothing: a PIN that was stored but never shown would lock a child out.
        Pupil.objects.bulk_update(pupils, ["pin_hash"])
        response = TemplateResponse(
            request,
            "admin/schools/pupil/new_pins.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Nieuwe pincodes"),
                "opts": self.opts,
                "new_pins": new_pins,
            },
        )
        # The PINs exist in clear only on this page: keep it out of every cache.
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Uitnodigingen opnieuw sturen"))
    @method_decorator(transaction.atomic)
    def resend_invitations(self, request, queryset):
        # One invitation per person, and none while an earlier one is still on its way.
        candidates = [
            link
            for pupil in queryset.home_login_possible()
            for link in pupil.parent_links.all()
            if not link.user.has_usable_password()
        ]
        on_its_way = set(
            ParentLink.objects.filter(
                user__in=[link.user_id for link in candidates], message__status__in=WAITING
            ).values_list("user_id", flat=True)
        )
        links = {}
        for link in candidates:
            if link.user_id not in on_its_way:
                links.setdefault(link.user_id, link)
        links = list(links.values())
        tell_parents(links)
        self.message_user(
            request,
            ngettext(
                "Er staat %(count)d nieuwe uitnodiging klaar. Ouders die al een wachtwoord "
                "hebben en leerlingen zonder thuis inloggen krijgen er geen.",
                "Er staan %(count)d nieuwe uitnodigingen klaar. Ouders die al een wachtwoord "
                "hebben en leerlingen zonder thuis inloggen krijgen er geen.",
                len(links),
            )
            % {"count": len(links)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Blokkade opheffen"))
    def unlock(self, request, queryset):
        unlocked = list(queryset.locked().values_list("pk", "school_id"))
        count = queryset.locked().update(failed_attempts=0, locked_at=None, last_failed_at=None)
        for pupil, school in unlocked:
            record(AuditEvent.Kind.CHILD_UNLOCKED, pupil=pupil, school=school, actor=request.user)
        self.message_user(
            request,
            ngettext(
                "De blokkade van %(count)d leerling is opgeheven.",
                "De blokkade van %(count)d leerlingen is opgeheven.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Exporteren als CSV"))
    def export_csv(self, request, queryset):
        return pupils_csv(queryset)
