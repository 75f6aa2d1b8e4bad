"""Publishers' clients, for the portal's operators: register, rotate the secret, see launches."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from launcher.admin import OperatorsOnly
from launcher.models import LaunchEvent
from sso.models import Client, Scope

RECENT_LAUNCHES = 20


class ClientForm(forms.ModelForm):
    scope_choices = forms.MultipleChoiceField(
        label=_("Gegevens"),
        choices=Scope.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Naast een schuilnaam (sub) die per uitgever verschilt."),
    )

    class Meta:
        model = Client
        fields = ("publisher", "name", "redirect_uris", "initiate_login_uri", "is_active")
        widgets = {"redirect_uris": forms.Textarea(attrs={"rows": 3, "cols": 80})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["scope_choices"] = self.instance.scope_list

    def save(self, commit=True):
        self.instance.scopes = " ".join(self.cleaned_data["scope_choices"])
        return super().save(commit)


@admin.register(Client)
class ClientAdmin(OperatorsOnly, admin.ModelAdmin):
    form = ClientForm
    list_display = ("name", "publisher", "client_id", "is_active", "created_at")
    list_filter = ("is_active", "publisher")
    search_fields = ("name", "client_id", "publisher__name")
    readonly_fields = ("client_id", "recent_launches")
    actions = ("rotate_secret", "replace_secret_now")

    def get_readonly_fields(self, request, obj=None):
        # Another publisher would change every pupil's `sub`: a new client is the way.
        return ("publisher", *self.readonly_fields) if obj else ()

    def get_fields(self, request, obj=None):
        fields = ["publisher", "name", "redirect_uris", "initiate_login_uri", "scope_choices"]
        fields.append("is_active")
        return [*fields, "client_id", "recent_launches"] if obj else fields

    @admin.display(description=_("Recente starts"))
    def recent_launches(self, obj):
        launches = (
            LaunchEvent.objects.filter(product__client=obj)
            .select_related("product", "pupil__school")
            .order_by("-launched_at")[:RECENT_LAUNCHES]
        )
        if not launches:
            return _("Nog geen starts.")
        return format_html_join(
            "",
            "<div>{} · {} · {}</div>",
            (
                (
                    f"{launch.launched_at:%Y-%m-%d %H:%M}",
                    launch.product.name,
                    launch.pupil.school.name,
                )
                for launch in launches
            ),
        )

    def save_model(self, request, obj, form, change):
        if not change:
            request._client_secret = obj.new_secret()
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        return self._show_secret(request, obj, request._client_secret)

    @admin.action(description=_("Nieuw geheim maken (het oude werkt nog 7 dagen)"))
    def rotate_secret(self, request, queryset):
        return self._replace_secret(request, queryset, revoke_old=False)

    @admin.action(description=_("Nieuw geheim maken en het oude meteen intrekken (gelekt)"))
    def replace_secret_now(self, request, queryset):
        return self._replace_secret(request, queryset, revoke_old=True)

    def _replace_secret(self, request, queryset, *, revoke_old: bool):
        if queryset.count() != 1:
            self.message_user(request, _("Kies precies één koppeling."), messages.ERROR)
            return None
        client = queryset.get()
        secret = client.new_secret()
        if revoke_old:
            client.previous_secret_digest, client.previous_secret_until = "", None
        client.save(
            update_fields=["secret_digest", "previous_secret_digest", "previous_secret_until"]
        )
        return self._show_secret(request, client, secret)

    def _show_secret(self, request, client, secret):
        response = TemplateResponse(
            request,
            "admin/sso/client/secret.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Geheim van de koppeling"),
                "opts": self.opts,
                "client": client,
                "secret": secret,
            },
        )
        # The secret exists in clear only on this page: keep it out of every cache.
        response["Cache-Control"] = "no-store"
        return response
