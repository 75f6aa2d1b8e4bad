"""Importing a school's file in admin: upload → preview of what will change → confirm."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from schools import access
from schools.admin.scoping import ScopedAdmin
from schools.imports.data import MAX_FILE_BYTES
from schools.imports.run import run_import
from schools.models import ImportLog

PREVIEW_LIFETIME = timedelta(hours=1)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Bestand"),
        help_text=_("Een EDEXML-bestand (.xml) of CSV-bestand (.csv, UTF-8) uit de administratie."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("Het bestand is groter dan %(mb)d MB.") % {"mb": MAX_FILE_BYTES // 2**20}
            )
        return upload


def kind_of(name: str, data: bytes) -> str:
    if name.lower().endswith(".xml") or data.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
        return ImportLog.Kind.EDEXML
    return ImportLog.Kind.CSV


def import_view(model_admin, request, object_id):
    school = model_admin.get_object(request, object_id)  # 404 outside the user's scope
    if not model_admin.is_manager(request, school):
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "school": school,
        "title": _("Leerlingen importeren"),
    }
    form = UploadForm()
    if request.method == "POST" and "confirm" in request.POST:
        return _confirm(request, school, request.POST["confirm"])
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            outcome = run_import(
                kind_of(upload.name, data),
                data,
                upload.name,
                target=school,
                by=request.user,
                dry_run=True,
            )
            if outcome.error:
                form.add_error("file", outcome.error)
            else:
                if outcome.report.changes_anything:  # kept only to be confirmed
                    outcome.log.upload = data
                    outcome.log.save(update_fields=["upload"])
                context.update(preview=outcome.log, lines=outcome.report.lines())
                context["changes"] = outcome.report.changes_anything
    context["form"] = form
    context["recent"] = ImportLog.objects.filter(school=school, dry_run=False)[:5]
    return TemplateResponse(request, "admin/schools/school/import.html", context)


def _confirm(request, school, code):
    try:
        preview = ImportLog.objects.get(
            code=code,
            school=school,
            by=request.user,
            dry_run=True,
            upload__isnull=False,
            started_at__gte=timezone.now() - PREVIEW_LIFETIME,
        )
    except (ImportLog.DoesNotExist, ValueError, forms.ValidationError):
        messages.error(request, _("Deze voorvertoning is verlopen. Lees het bestand opnieuw in."))
        return redirect("admin:schools_school_import", school.pk)
    data = bytes(preview.upload)
    # Claimed by one request only: a double click imports once.
    if not ImportLog.objects.filter(pk=preview.pk, upload__isnull=False).update(upload=None):
        return redirect(reverse("admin:schools_importlog_change", args=[preview.pk]))
    outcome = run_import(preview.kind, data, preview.file_name, target=school, by=request.user)
    if outcome.error:  # the school changed since the preview
        messages.error(request, outcome.error)
    else:
        messages.success(request, " ".join(outcome.report.lines()))
    return redirect(reverse("admin:schools_importlog_change", args=[outcome.log.pk]))


@admin.register(ImportLog)
class ImportLogAdmin(ScopedAdmin):
    list_display = ("started_at", "school", "file_name", "kind", "dry_run", "ok", "by")
    list_filter = ("ok", "dry_run", "kind")
    fields = ("school", "file_name", "kind", "started_at", "by", "dry_run", "ok", "report")
    readonly_fields = fields

    def scope(self, user):
        if user.is_superuser:  # also refusals of files for schools that do not exist
            return ImportLog.objects.all()
        return ImportLog.objects.filter(school__in=access.managed_schools_for(user))

    def has_module_permission(self, request):
        return self.is_staff(request) and access.is_manager(request.user)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Verslag"))
    def report(self, obj):
        return format_html_join("", "<div>{}</div>", ((line,) for line in obj.message.splitlines()))
