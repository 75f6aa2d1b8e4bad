from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = _("Inloggen bij uitgevers")

    def ready(self):
        from sso import launch  # noqa: F401 (connects the login signal that drops a ticket)
