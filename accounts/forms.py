"""Forms for parents: logging in, asking for a new password, choosing one."""

from __future__ import annotations

import math
from datetime import timedelta

from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.contrib.auth.password_validation import UserAttributeSimilarityValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import throttle
from accounts.models import normalize_email, normalize_typed_email


def describe_wait(wait: timedelta) -> str:
    seconds = math.ceil(wait.total_seconds())
    if seconds < 60:
        return ngettext("%(n)d seconde", "%(n)d seconden", seconds) % {"n": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("%(n)d minuut", "%(n)d minuten", minutes) % {"n": minutes}


class ThrottledLoginMixin:
    """Counts wrong passwords per typed address and makes guessing slow (accounts.throttle)."""

    throttled_message = _(
        "Te veel pogingen met dit e-mailadres. Wacht %(wait)s en probeer het dan opnieuw, "
        "of vraag een nieuw wachtwoord aan."
    )

    def clean(self):
        address = normalize_email(self.cleaned_data.get("username"))
        if not address:
            return super().clean()
        # One try at a time per address, so that tries sent together cannot all pass the
        # check before the first failure is counted (throttle.hold). The error is raised
        # after the transaction, which must commit the failure it counted.
        error = cleaned = None
        with transaction.atomic():
            throttle.hold(address)
            wait, counted = throttle.standing(address)
            if wait:
                error = ValidationError(
                    self.throttled_message, code="throttled", params={"wait": describe_wait(wait)}
                )
            else:
                try:
                    cleaned = super().clean()
                except ValidationError as refused:
                    error = refused
                    if self.cleaned_data.get("password"):
                        throttle.record_failure(address)
                else:
                    # Only a correct password clears the count (a blank one never gets here).
                    if self.user_cache is not None and counted:
                        throttle.clear(address)
        if error is not None:
            raise error
        return cleaned


_LOGIN_FAILED = _(
    "Dit e-mailadres en wachtwoord horen niet bij elkaar. Let op hoofdletters in het "
    "wachtwoord. Nog geen wachtwoord, of kwijt? Kies hieronder 'Gebruikersnaam of "
    "wachtwoord vergeten'."
)


class ParentLoginForm(ThrottledLoginMixin, AuthenticationForm):
    # One answer for every failure: unknown address, wrong password, no password yet.
    error_messages = {"invalid_login": _LOGIN_FAILED, "inactive": _LOGIN_FAILED}

    remember = forms.BooleanField(label=_("Onthoud mijn e-mailadres"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("E-mailadres")
        self.fields["username"].widget.attrs.update(
            {"type": "email", "autocomplete": "username", "inputmode": "email"}
        )
        self.fields["password"].label = _("Wachtwoord")


class ForgotPasswordForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mailadres"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        help_text=_("Het adres dat de school van u heeft."),
    )

    def clean_email(self):
        return normalize_typed_email(self.cleaned_data["email"])


class SimilarityValidator(UserAttributeSimilarityValidator):
    """Django's check, with a message that reads naturally in Dutch."""

    def get_error_message(self):
        return _("Het wachtwoord lijkt te veel op uw e-mailadres of naam.")


class NewPasswordForm(SetPasswordForm):
    """Django's own checks (length, common passwords, likeness to the address)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("Nieuw wachtwoord")
        self.fields["new_password2"].label = _("Herhaal het nieuwe wachtwoord")
