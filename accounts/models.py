"""Accounts: one User model for parents and school staff, and the parent–pupil link."""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import PermissionsMixin
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
        super().save(*args, **kwargs)

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
