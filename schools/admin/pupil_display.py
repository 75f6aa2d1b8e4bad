"""Columns, filters, texts and the CSV export of the pupil admin."""

from __future__ import annotations

import csv

from django.contrib import admin
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from post_office.models import STATUS

from accounts.models import ParentLink


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("active", _("op school")),
            ("locked", _("geblokkeerd")),
            ("left", _("vertrokken")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.active()
        if self.value() == "locked":
            return queryset.locked()
        if self.value() == "left":
            return queryset.filter(left_on__isnull=False)
        return queryset


def local_time(moment) -> str:
    return timezone.localtime(moment).strftime("%d-%m-%Y %H:%M")


def message_status(message) -> str:
    """What a teacher needs to know about the last e-mail to a parent address."""
    if message is None:
        return _("geen")
    logs = sorted(message.logs.all(), key=lambda log: log.date)
    error = logs[-1].message if logs and message.status != STATUS.sent else ""
    if message.status == STATUS.sent:
        return _("verstuurd op %(when)s") % {"when": local_time(message.last_updated)}
    if message.status == STATUS.failed:
        return _("mislukt: %(error)s") % {"error": error}
    if message.status == STATUS.requeued:
        return _("nog niet verstuurd, wordt opnieuw geprobeerd (%(error)s)") % {"error": error}
    return _("nog niet verstuurd (in de wachtrij)")


def parent_saved_message(link: ParentLink) -> str:
    if link.user.has_usable_password():
        return _(
            "%(email)s heeft al een account en krijgt een korte melding dat %(child)s is "
            "toegevoegd."
        ) % {"email": link.user.email, "child": link.pupil.first_name}
    return _(
        "Er staat een uitnodiging klaar voor %(email)s met een link om een wachtwoord te kiezen."
    ) % {"email": link.user.email}


def spreadsheet_safe(value: str) -> str:
    # A cell starting with one of these is run as a formula by spreadsheet programs.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def pupils_csv(queryset) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="leerlingen.csv"'
    response.write("\ufeff")  # so that Excel reads the file as UTF-8
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            "voornaam",
            "tussenvoegsel",
            "achternaam",
            "groep",
            "thuis inloggen",
            "ouder 1",
            "ouder 2",
        ]
    )
    for pupil in queryset:
        parents = [link.user.email for link in pupil.parent_links.all()]
        row = [
            pupil.first_name,
            pupil.infix,
            pupil.last_name,
            pupil.group.name,
            "ja" if pupil.home_login_enabled else "nee",
            *[*parents, "", ""][:2],
        ]
        writer.writerow([spreadsheet_safe(value) for value in row])
    return response
