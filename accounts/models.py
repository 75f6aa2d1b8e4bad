"""Accounts: one User model for parents and school staff, and the parent–pupil link."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


def normalize_email(email: str | None) -> str:
    """The one spelling of an address: no surrounding spaces, all lower case.

    Strictly the part before the @ may be case-sensitive, but no mail provider parents use
    treats it so, and a parent who types ``Ouder@Voorbeeld.NL`` means ``ouder@voorbeeld.nl``.
    """
    return (email or "").strip().lower()


def normalize_typed_email(email: str | None) -> str:
    """``normalize_email`` for form input, refusing what no longer fits afterwards."""
    email = normalize_email(email)
    if len(email) > 254:  # lower-casing lengthens a few characters, such as "İ"
        raise ValidationError(_("Dit e-mailadres is te lang."), code="too_long")
    return email


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email=normalize_email(username))

    def for_email(self, email: str) -> User:
        """The account for this address, created without a usable password if new."""
        user, _created = self.get_or_create(
            email=normalize_email(email), defaults={"password": make_password(None)}
        )
        return user

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=normalize_email(email), **extra_fields)
        user.set_password(password)  # None gives an unusable password
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an e-mail address: a parent, a teacher or both."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("e-mailadres"), max_length=254, unique=True)
    name = models.CharField(_("naam"), max_length=150, blank=True)
    is_active = models.BooleanField(
        _("actief"),
        default=True,
        help_text=_("Zet dit uit in plaats van het account te verwijderen."),
    )
    date_joined = models.DateTimeField(_("aangemaakt op"), default=timezone.now)
    last_home_login = models.DateTimeField(_("laatst thuis ingelogd"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["email"]
        constraints = [
            # Also holds for rows written around the model (bulk inserts, raw SQL).
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = normalize_email(self.email)

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        password_changed = self._password is not None
        super().save(*args, **kwargs)
        if password_changed:
            # However the password was set (link, admin, command): no old link works.
            PasswordLink.spend_all(self)

    @cached_property
    def is_staff(self) -> bool:
        """May use the admin: a superuser, or a member of a school's staff."""
        return self.is_superuser or self.memberships.exists()

    def get_full_name(self):
        return self.name or self.email

    def get_short_name(self):
        return self.name or self.email


class ParentLink(models.Model):
    """A parent's address entered by the school for one pupil (at most two per pupil)."""

    class Slot(models.IntegerChoices):
        FIRST = 1, _("ouder 1")
        SECOND = 2, _("ouder 2")

    pupil = models.ForeignKey(
        "schools.Pupil",
        on_delete=models.CASCADE,
        related_name="parent_links",
        verbose_name=_("leerling"),
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="parent_links", verbose_name=_("ouder")
    )
    slot = models.PositiveSmallIntegerField(_("volgnummer"), choices=Slot.choices)
    created_at = models.DateTimeField(_("toegevoegd op"), auto_now_add=True)
    # The last invitation or notice about this child, so the teacher can see if it went out.
    message = models.ForeignKey(
        "post_office.Email",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("laatste bericht"),
    )

    class Meta:
        verbose_name = _("ouderadres")
        verbose_name_plural = _("ouderadressen")
        ordering = ["pupil", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["pupil", "slot"], name="parentlink_one_per_slot"),
            models.UniqueConstraint(fields=["pupil", "user"], name="parentlink_parent_once"),
            models.CheckConstraint(
                condition=models.Q(slot__in=[1, 2]), name="parentlink_at_most_two"
            ),
        ]

    def __str__(self):
        return f"{self.user.email} → {self.pupil}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PasswordLinkQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(used_at__isnull=True, expires_at__gt=timezone.now())


class PasswordLink(models.Model):
    """A single-use, expiring link to set a password. Only a hash of its token is kept."""

    class Purpose(models.TextChoices):
        INVITATION = "invitation", _("uitnodiging")
        RESET = "reset", _("wachtwoord vergeten")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_links")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = PasswordLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("wachtwoordlink")
        verbose_name_plural = _("wachtwoordlinks")
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self):
        return f"{self.get_purpose_display()} voor {self.user}"

    @classmethod
    def issue(cls, user: User, purpose: str) -> tuple[PasswordLink, str]:
        """A new link for ``user``; returns it with the token (which is not stored)."""
        lifetime = (
            settings.INVITATION_LINK_LIFETIME
            if purpose == cls.Purpose.INVITATION
            else settings.RESET_LINK_LIFETIME
        )
        token = secrets.token_urlsafe(32)
        link = cls.objects.create(
            user=user, purpose=purpose, digest=_digest(token), expires_at=timezone.now() + lifetime
        )
        return link, token

    @classmethod
    def find(cls, token: str, *, for_update: bool = False) -> PasswordLink | None:
        """The usable link with this token, or None (unknown, used or expired)."""
        links = cls.objects.usable().select_related("user").filter(user__is_active=True)
        if for_update:
            links = links.select_for_update(of=("self",))
        return links.filter(digest=_digest(token or "")).first()

    @classmethod
    def spend_all(cls, user: User) -> None:
        """Once a password is set, no link of this user works any more."""
        cls.objects.filter(user=user, used_at__isnull=True).update(used_at=timezone.now())


class PasswordRequest(models.Model):
    """A "forgot password" request, handled by the mail worker, never inside the request.

    Every request writes one row, known address or not, so that a response can tell
    nothing about whether an account exists.
    """

    email = models.EmailField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("aanvraag voor een nieuw wachtwoord")
        verbose_name_plural = _("wachtwoordaanvragen")

    def __str__(self):
        return self.email


class LoginThrottle(models.Model):
    """Failed logins per typed address (existing or not), never per IP address."""

    key = models.CharField(max_length=254, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField()
    blocked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.key
