"""Admin forms for pupils and staff memberships."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy

from accounts import typos
from accounts.models import User, normalize_typed_email
from accounts.parents import set_parent_emails
from schools.images import process_avatar
from schools.models import PIN_PATTERN, Group, LoginMethod, Pupil, StaffMembership
from schools.pictures import Picture

PICTURE_FIELDS = ("picture_1", "picture_2", "picture_3")


class SecretInput(forms.TextInput):
    """A text box that never sends its value back to the browser (no PIN in a re-shown form)."""

    def format_value(self, value):
        return None


class BlankHiddenInput(forms.HiddenInput):
    """Sent back empty every time, so an earlier "save anyway" never carries over."""

    def format_value(self, value):
        return None


def _picture_field(position: int) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=format_lazy(_("Plaatje {n}"), n=position),
        choices=[("", "—"), *Picture.choices],
        required=False,
    )


class PupilAdminForm(forms.ModelForm):
    """A pupil, with the parents' addresses and new secrets as plain extra fields.

    Secrets are write-only: the form never shows a stored PIN or picture password.
    """

    error_messages = {
        "incomplete_pictures": ngettext_lazy(
            "Kies precies %(count)d plaatje, of laat de plaatjes allemaal leeg.",
            "Kies precies %(count)d plaatjes, van links naar rechts, of laat ze allemaal leeg.",
            "count",
        ),
        "no_pin": _(
            "Voor thuis inloggen met een pincode heeft het kind een pincode nodig: vul er "
            "een in, of bewaar eerst en maak er dan een met de knop hieronder."
        ),
        "no_pictures": _(
            "Voor thuis inloggen met plaatjes heeft het kind een plaatjeswachtwoord nodig."
        ),
        "duplicate_parent": _("Dit adres staat er twee keer in."),
        "invalid_address": _("Dit is geen geldig e-mailadres."),
        "invalid_address_suggestion": _(
            "Dit is geen geldig e-mailadres. Bedoelt u %(suggestion)s?"
        ),
        "did_you_mean": _(
            "Bedoelt u %(suggestion)s? Klopt het adres toch, vink dan hieronder 'Toch opslaan "
            "zoals ingevuld' aan."
        ),
        "duplicate_key": _("Een andere leerling van deze school heeft deze sleutel al."),
    }

    parent_email_1 = forms.CharField(
        label=_("E-mailadres ouder 1"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "class": "vTextField"}),
    )
    parent_email_2 = forms.CharField(
        label=_("E-mailadres ouder 2"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "class": "vTextField"}),
        help_text=_("Een tweede ouder of verzorger; mag leeg blijven."),
    )
    confirm_addresses = forms.BooleanField(
        label=_("Toch opslaan zoals ingevuld"),
        required=False,
        widget=BlankHiddenInput,
    )
    new_pin = forms.RegexField(
        label=_("Nieuwe pincode"),
        regex=rf"^{PIN_PATTERN}$",
        required=False,
        error_messages={"invalid": _("Een pincode is precies vier cijfers.")},
        help_text=_(
            "Vier cijfers. Leeg laten om de huidige pincode te houden. De pincode wordt "
            "nergens leesbaar bewaard; noteer hem voor het kind."
        ),
        widget=SecretInput(
            attrs={
                "autocomplete": "off",
                "inputmode": "numeric",
                "maxlength": "4",
                "size": "4",
                "data-1p-ignore": "",
                "data-lpignore": "true",
            }
        ),
    )
    picture_1 = _picture_field(1)
    picture_2 = _picture_field(2)
    picture_3 = _picture_field(3)
    avatar = forms.FileField(
        label=_("Foto"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_(
            "JPG, PNG of WebP tot 8 MB. De foto wordt vierkant gemaakt en zonder "
            "locatiegegevens bewaard."
        ),
    )

    class Meta:
        model = Pupil
        fields = (
            "first_name",
            "infix",
            "last_name",
            "group",
            "external_key",
            "eck_id",
            "avatar",
            "home_login_enabled",
            "login_method",
            "left_on",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.parent_emails: list[str] = []
        self.pictures: list[str] = []
        if not self.instance._state.adding:
            for link in self.instance.parent_links.select_related("user"):
                self.initial[f"parent_email_{link.slot}"] = link.user.email
            length = self.instance.school.picture_password_length
            self.fields["picture_1"].help_text = ngettext(
                "Kies %(count)d plaatje. Leeg laten om het huidige plaatjeswachtwoord te houden.",
                "Kies %(count)d plaatjes, van links naar rechts. Leeg laten om het huidige "
                "plaatjeswachtwoord te houden.",
                length,
            ) % {"count": length}

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if isinstance(avatar, UploadedFile):
            return process_avatar(avatar)
        return avatar

    def clean_parent_email_1(self):
        return self._clean_address("parent_email_1")

    def clean_parent_email_2(self):
        return self._clean_address("parent_email_2")

    def _clean_address(self, name: str) -> str:
        raw = self.cleaned_data.get(name) or ""
        address = normalize_typed_email(raw)
        if not address:
            return ""
        try:
            validate_email(address)
        except ValidationError:
            suggestion = typos.repair(raw)
            if suggestion:
                raise ValidationError(
                    self.error_messages["invalid_address_suggestion"],
                    code="invalid_address",
                    params={"suggestion": suggestion},
                ) from None
            raise ValidationError(
                self.error_messages["invalid_address"], code="invalid_address"
            ) from None
        return address

    def _warn_about_addresses(self, cleaned, school) -> None:
        """Likely typos stop the save once; the teacher may then save on purpose."""
        if cleaned.get("confirm_addresses"):
            return
        current = (
            set()
            if self.instance._state.adding
            else {link.user.email for link in self.instance.parent_links.select_related("user")}
        )
        staff = StaffMembership.objects.filter(school=school).values_list("user__email", flat=True)
        domains = typos.school_domains(staff)
        warned = False
        for name in ("parent_email_1", "parent_email_2"):
            address = cleaned.get(name)
            if not address or address in current or name in self.errors:
                continue
            for hint in typos.check_address(address, domains):
                message = hint.message
                if hint.suggestion:
                    message = format_lazy(
                        "{} {}", hint.message, self.error_messages["did_you_mean"]
                    ) % {"suggestion": hint.suggestion}
                self.add_error(name, ValidationError(message, code=hint.code))
                warned = True
        if warned:
            # Never shown ticked: a confirmation holds only for the addresses just warned about.
            self.fields["confirm_addresses"].widget = forms.CheckboxInput(
                check_test=lambda value: False
            )

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("parent_email_1"), cleaned.get("parent_email_2")
        if first and first == second:
            self.add_error("parent_email_2", self.error_messages["duplicate_parent"])
        self.parent_emails = [email for email in (first, second) if email]
        group = cleaned.get("group")
        if group is not None:
            self._warn_about_addresses(cleaned, group.school)
            self._clean_keys(cleaned, group.school_id)
            self._clean_pictures(cleaned, group.school.picture_password_length)
            self._clean_login_method(cleaned)
        return cleaned

    def _clean_keys(self, cleaned, school_id: int) -> None:
        # The database refuses these too; this turns the refusal into a message.
        others = Pupil.objects.filter(school_id=school_id).exclude(pk=self.instance.pk)
        for field in ("external_key", "eck_id"):
            value = cleaned.get(field)
            if value and others.filter(**{field: value}).exists():
                self.add_error(field, self.error_messages["duplicate_key"])

    def _clean_pictures(self, cleaned, length: int) -> None:
        chosen = [cleaned.get(name) or "" for name in PICTURE_FIELDS]
        self.pictures = [picture for picture in chosen if picture]
        # Either all blank, or exactly the first `length` fields filled.
        if self.pictures and chosen[:length] != self.pictures:
            self.add_error(
                "picture_1",
                ValidationError(
                    self.error_messages["incomplete_pictures"],
                    code="incomplete_pictures",
                    params={"count": length},
                ),
            )

    def _clean_login_method(self, cleaned) -> None:
        # Without home login the child never logs in here: any change may be saved.
        if not cleaned.get("home_login_enabled"):
            return
        method = cleaned.get("login_method")
        if method == LoginMethod.PIN and not (cleaned.get("new_pin") or self.instance.has_pin):
            self.add_error("new_pin", self.error_messages["no_pin"])
        if method == LoginMethod.PICTURES and not (
            self.pictures or self.instance.has_picture_password
        ):
            self.add_error("picture_1", self.error_messages["no_pictures"])

    def _post_clean(self):
        super()._post_clean()
        # Hash the new secrets only once the form is otherwise valid.
        if self.errors:
            return
        if pin := self.cleaned_data.get("new_pin"):
            self.instance.set_pin(pin)
        if self.pictures:
            self.instance.school = self.cleaned_data["group"].school
            self.instance.set_picture_password(self.pictures)

    def save_parent_links(self, by=None):
        return set_parent_emails(self.instance, self.parent_emails, by=by)


class GroupAdminForm(forms.ModelForm):
    """A group: its name, and its key from the administration system, once per school."""

    error_messages = {
        "duplicate_name": _("Deze school heeft al een groep met deze naam."),
        "duplicate_key": _("Een andere groep van deze school heeft deze sleutel al."),
    }

    class Meta:
        model = Group
        fields = ("school", "name", "year_level", "external_key")

    def clean(self):
        cleaned = super().clean()
        # On an existing group the school is read-only and not a field of the form, so
        # Django leaves the unique name and key per school unchecked and the database
        # refuses the save instead; this turns that refusal into a message.
        school = cleaned.get("school") or (
            None if self.instance._state.adding else self.instance.school
        )
        if school is None:
            return cleaned
        others = Group.objects.filter(school=school).exclude(pk=self.instance.pk)
        for field, code in (("name", "duplicate_name"), ("external_key", "duplicate_key")):
            value = cleaned.get(field)
            if value and others.filter(**{field: value}).exists():
                self.add_error(field, self.error_messages[code])
        return cleaned


class StaffMembershipForm(forms.ModelForm):
    """A staff member at a school, entered by e-mail address."""

    email = forms.EmailField(label=_("E-mailadres"), max_length=254)

    class Meta:
        model = StaffMembership
        fields = ("email", "school", "role", "groups")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.initial["email"] = self.instance.user.email
            self.fields["email"].disabled = True

    def clean_email(self):
        email = normalize_typed_email(self.cleaned_data["email"])
        # Lower-casing can spoil an address ("İ" becomes "i" and a combining dot): the
        # invitation could then not be sent.
        validate_email(email)
        return email

    def clean(self):
        cleaned = super().clean()
        # On an existing membership the school is read-only and not in cleaned_data.
        school = cleaned.get("school") or (
            None if self.instance._state.adding else self.instance.school
        )
        email = cleaned.get("email")
        groups = cleaned.get("groups") or []
        if school and any(group.school_id != school.pk for group in groups):
            self.add_error("groups", _("Kies alleen groepen van deze school."))
        if school and email:
            already = StaffMembership.objects.filter(school=school, user__email=email)
            if already.exclude(pk=self.instance.pk).exists():
                self.add_error("email", _("Deze persoon is al medewerker van deze school."))
        return cleaned

    def save(self, commit=True):
        if self.instance._state.adding:
            self.instance.user = User.objects.for_email(self.cleaned_data["email"])
        return super().save(commit)
