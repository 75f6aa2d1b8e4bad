"""The teachers' admin ("beheer"): open to superusers and to staff members of a school."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.forms import ThrottledLoginMixin


class PortalAdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _(
            "Vul het juiste e-mailadres en wachtwoord van een schoolaccount in. "
            "Let op: het wachtwoord is hoofdlettergevoelig."
        ),
    }

    def confirm_login_allowed(self, user):
        # Same message as a wrong password, so a parent's address cannot be told apart here.
        if not user.is_active or not user.is_staff:
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login")


class PortalAdminSite(admin.AdminSite):
    site_header = _("Thuisportaal beheer")
    site_title = _("Thuisportaal beheer")
    index_title = _("Leerlingen, groepen en thuis inloggen")
    login_form = PortalAdminLoginForm
    # The admin has no use for "view site" links to the parents' pages.
    site_url = None
    enable_nav_sidebar = False
