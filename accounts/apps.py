from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        # Instead of Django's own receiver (same dispatch_uid): one UPDATE per login.
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(stamp_login, dispatch_uid="update_last_login")


def stamp_login(sender, user, **kwargs):
    """Record the login; a parent's login at the home page also sets last_home_login, in
    the same UPDATE (the view marks it with ``user.home_login = True``)."""
    from django.utils import timezone

    user.last_login = timezone.now()
    fields = ["last_login"]
    if getattr(user, "home_login", False):
        user.last_home_login = user.last_login
        fields.append("last_home_login")
    user.save(update_fields=fields)
