"""Django's model backend, with the per-request user lookup in one prepared statement."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from basispoort.lib.lookup import fetch


class AccountBackend(ModelBackend):
    """Logging in, permissions and the inactive-account rule are ModelBackend's own; only
    ``get_user``, run on every request of a logged-in user, skips the ORM's query building
    (see basispoort/lib/lookup.py)."""

    def get_user(self, user_id):
        user = fetch(get_user_model(), "pk", user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
