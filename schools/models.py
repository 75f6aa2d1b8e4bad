"""Schools, their groups (classes), pupils and staff."""

from __future__ import annotations

import itertools
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from basispoort.lib.hashers import check_child_secret, make_child_secret
from schools.pictures import Picture

BRIN_PATTERN = r"^[0-9]{2}[A-Z0-9]{2}$"
LOCATION_PATTERN = r"^[0-9]{2}$"
PIN_PATTERN = r"[0-9]{4}"


class NetworkEnvironment(models.TextChoices):
    """School network environments that take over home login from the portal."""

    MOO = "moo", "MOO"
    ZULUCONNECT = "zuluconnect", "ZuluConnect"
    SKOOL = "skool", "Skool/Miloo"
    EDUGRIP = "edugrip", "EDUgrip"
    CLOUDWISE = "cloudwise", "Cloudwise Xcool"
    RATHO = "ratho", "Ratho Portaal"
    ACTACOM = "actacom", "Actacom"
    ONLINEKLAS = "onlineklas", "OnlineKlas"
    PROWISE = "prowise", "Prowise"
    MIJNONDERWIJSPORTAAL = "mijnonderwijsportaal", "MijnOnderwijsPortaal"


class School(models.Model):
    """A school location, known by its BRIN number and location (dependance) code."""

    # The primary key is random so that no URL, admin included, shows a counter.
    code = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("naam"), max_length=200)
    brin = models.CharField(
        _("BRIN"),
        max_length=4,
        validators=[
            RegexValidator(
                BRIN_PATTERN,
                _(
                    "Een BRIN-nummer is vier tekens: twee cijfers en dan twee letters of "
                    "cijfers, bijv. 12AB."
                ),
            )
        ],
        help_text=_("Vier tekens: twee cijfers en twee letters of cijfers, bijv. 12AB."),
    )
    location_code = models.CharField(
        _("vestigingscode"),
        max_length=2,
        default="00",
        validators=[RegexValidator(LOCATION_PATTERN, _("De vestigingscode is twee cijfers."))],
        help_text=_("Twee cijfers; 00 voor de hoofdvestiging."),
    )
    home_login_allowed = models.BooleanField(
        _("thuis inloggen toegestaan"),
        default=True,
        help_text=_("Uit: geen enkele leerling van deze school kan thuis inloggen."),
    )
    network_environment = models.CharField(
        _("schoolnetwerkomgeving"),
        max_length=32,
        choices=NetworkEnvironment.choices,
        blank=True,
        help_text=_(
            "Gebruikt de school een eigen netwerkomgeving, dan loggen leerlingen daar thuis in "
            "en niet hier. Ouders krijgen dan een uitleg in plaats van een tegel."
        ),
    )
    picture_password_length = models.PositiveSmallIntegerField(
        _("lengte plaatjeswachtwoord"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(3)],
        help_text=_(
            "Hoeveel plaatjes een leerling na elkaar aantikt (1 tot 3). Na een wijziging "
            "hebben leerlingen met plaatjes een nieuw plaatjeswachtwoord nodig."
        ),
    )
    created_at = models.DateTimeField(_("aangemaakt op"), auto_now_add=True)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("scholen")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["brin", "location_code"], name="school_brin_unique"),
            models.CheckConstraint(
                condition=models.Q(brin__regex=BRIN_PATTERN), name="school_brin_format"
            ),
            models.CheckConstraint(
                condition=models.Q(location_code__regex=LOCATION_PATTERN),
                name="school_location_code_format",
            ),
            models.CheckConstraint(
                condition=models.Q(picture_password_length__gte=1)
                & models.Q(picture_password_length__lte=3),
                name="school_picture_password_length_1_3",
            ),
            models.CheckConstraint(
                condition=models.Q(network_environment__in=["", *NetworkEnvironment.values]),
                name="school_network_environment_known",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.brin}{self.location_code})"

    def clean_fields(self, exclude=None):
        # Normalise before the length and format checks run.
        self.brin = (self.brin or "").strip().upper()
        self.location_code = (self.location_code or "").strip()
        super().clean_fields(exclude)

    @property
    def home_login_available(self) -> bool:
        """Parents of this school log in here (not in a school network environment)."""
        return self.home_login_allowed and not self.network_environment


class YearLevel(models.TextChoices):
    GROUP_1 = "1", _("groep 1")
    GROUP_2 = "2", _("groep 2")
    GROUP_3 = "3", _("groep 3")
    GROUP_4 = "4", _("groep 4")
    GROUP_5 = "5", _("groep 5")
    GROUP_6 = "6", _("groep 6")
    GROUP_7 = "7", _("groep 7")
    GROUP_8 = "8", _("groep 8")
    SPECIAL = "S", _("speciaal")
    COMBINED = "C", _("combinatiegroep (jaargroep per leerling)")


class Group(models.Model):
    """A class ("groep") at one school."""

    # The primary key is random so that no URL, admin included, shows a counter.
    code = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="groups", verbose_name=_("school")
    )
    name = models.CharField(_("naam"), max_length=100)
    year_level = models.CharField(_("jaargroep"), max_length=2, choices=YearLevel.choices)
    external_key = models.CharField(
        _("sleutel administratie"),
        max_length=256,
        blank=True,
        help_text=_("De sleutel uit het administratiesysteem; wordt bij een import gevuld."),
    )

    class Meta:
        verbose_name = _("groep")
        verbose_name_plural = _("groepen")
        ordering = ["school", "year_level", "name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="group_name_unique"),
            models.UniqueConstraint(
                fields=["school", "external_key"],
                condition=~models.Q(external_key=""),
                name="group_external_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(year_level__in=YearLevel.values), name="group_year_level_known"
            ),
        ]

    def __str__(self):
        return self.name


class LoginMethod(models.TextChoices):
    PIN = "pin", _("pincode")
    PICTURES = "pictures", _("plaatjes")


#: A child's PIN or pictures: this many wrong tries in a row are free, then the wait grows
#: (10 s, 20 s, 40 s, ...), and at CHILD_LOCK_AFTER only a teacher can unlock.
CHILD_FREE_FAILURES = 5
CHILD_FIRST_WAIT = timedelta(seconds=10)
CHILD_LOCK_AFTER = 10


@dataclass(frozen=True)
class ChildLogin:
    """The outcome of a child's try; ``wait`` is set when the next try must wait."""

    OK = "ok"
    NO_SECRET = "no_secret"  # noqa: S105 (an outcome: nothing stored to check against)
    WRONG = "wrong"
    WAIT = "wait"
    LOCKED = "locked"

    outcome: str
    wait: timedelta | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == self.OK


class PupilQuerySet(models.QuerySet):
    def active(self):
        return self.filter(left_on__isnull=True)

    def locked(self):
        return self.filter(locked_at__isnull=False)

    def home_login_possible(self):
        """Pupils who can log in at home now: on for them, open at their school."""
        return self.active().filter(
            home_login_enabled=True,
            school__home_login_allowed=True,
            school__network_environment="",
        )


class Pupil(models.Model):
    """A child at a school. PIN and picture password are kept only as Argon2 hashes."""

    # The primary key is random so that no URL, admin included, shows a counter.
    code = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Always the group's school (set in save()); kept on the row so that keys from the
    # administration system can be unique per school in the database.
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="pupils", verbose_name=_("school")
    )
    group = models.ForeignKey(
        Group, on_delete=models.PROTECT, related_name="pupils", verbose_name=_("groep")
    )
    first_name = models.CharField(_("roepnaam"), max_length=100)
    infix = models.CharField(_("tussenvoegsel"), max_length=10, blank=True)
    year_level = models.CharField(
        _("eigen jaargroep"),
        max_length=2,
        blank=True,
        choices=[choice for choice in YearLevel.choices if choice[0] != YearLevel.COMBINED],
        help_text=_("Nodig in een combinatiegroep; leeg: de jaargroep van de groep."),
    )
    last_name = models.CharField(_("achternaam"), max_length=200)
    external_key = models.CharField(
        _("sleutel administratie"),
        max_length=256,
        blank=True,
        help_text=_("De leerlingsleutel uit het administratiesysteem."),
    )
    eck_id = models.CharField(
        _("ECK iD"),
        max_length=256,
        blank=True,
        help_text=_("Het pseudonieme ECK iD, als de school dat heeft."),
    )
    avatar = models.ImageField(
        _("foto"),
        upload_to="avatars/",
        blank=True,
        help_text=_(
            "Een foto of tekening voor de tegel. Zonder foto krijgt de leerling een "
            "vrolijk plaatje."
        ),
    )
    login_method = models.CharField(
        _("inlogmethode"), max_length=16, choices=LoginMethod.choices, default=LoginMethod.PIN
    )
    pin_hash = models.CharField(max_length=255, blank=True, editable=False)
    picture_password_hash = models.CharField(max_length=255, blank=True, editable=False)
    home_login_enabled = models.BooleanField(
        _("thuis inloggen"),
        default=False,
        help_text=_("Aan: de ouders zien de tegel van dit kind na het inloggen."),
    )
    failed_attempts = models.PositiveSmallIntegerField(
        _("mislukte pogingen op rij"), default=0, editable=False
    )
    locked_at = models.DateTimeField(_("geblokkeerd sinds"), null=True, blank=True, editable=False)
    last_failed_at = models.DateTimeField(null=True, blank=True, editable=False)
    left_on = models.DateField(
        _("vertrokken op"),
        null=True,
        blank=True,
        help_text=_("Leeg zolang de leerling op school zit."),
    )
    left_marked_on = models.DateField(
        _("als vertrokken gemarkeerd op"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Vanaf deze dag telt de bewaartermijn."),
    )
    created_at = models.DateTimeField(_("aangemaakt op"), auto_now_add=True)
    updated_at = models.DateTimeField(_("gewijzigd op"), auto_now=True)

    objects = PupilQuerySet.as_manager()

    class Meta:
        verbose_name = _("leerling")
        verbose_name_plural = _("leerlingen")
        ordering = ["first_name", "last_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "external_key"],
                condition=~models.Q(external_key=""),
                name="pupil_external_key_unique",
            ),
            models.UniqueConstraint(
                fields=["school", "eck_id"],
                condition=~models.Q(eck_id=""),
                name="pupil_eck_id_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(login_method__in=LoginMethod.values),
                name="pupil_login_method_known",
            ),
            models.CheckConstraint(
                condition=models.Q(left_on__isnull=True) | models.Q(home_login_enabled=False),
                name="pupil_left_no_home_login",
                violation_error_message=_(
                    "Deze leerling is vertrokken: thuis inloggen kan niet aangezet worden. "
                    "Maak eerst 'vertrokken op' leeg als de leerling weer op school zit."
                ),
            ),
            # A lock is only ever set together with a count of failures.
            models.CheckConstraint(
                condition=models.Q(locked_at__isnull=True) | models.Q(failed_attempts__gt=0),
                name="pupil_lock_has_failures",
            ),
        ]
        indexes = [models.Index(fields=["school", "last_name"])]

    def __str__(self):
        return self.full_name

    def save(self, *args, **kwargs):
        if self.group_id:
            self.school_id = self.group.school_id
        if self.left_on is None:
            self.left_marked_on = None
        elif self.left_marked_on is None:
            self.left_marked_on = timezone.localdate()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "left_on" in update_fields:
            kwargs["update_fields"] = {*update_fields, "left_marked_on"}
        super().save(*args, **kwargs)
        # A replaced or cleared photo of a child is removed, not left behind on disk.
        old = str(getattr(self, "_stored_avatar", "") or "")
        if old and old != str(self.avatar or ""):
            _delete_file_on_commit(self.avatar.storage, old)
        self._stored_avatar = self.avatar.name

    @classmethod
    def from_db(cls, *args, **kwargs):
        pupil = super().from_db(*args, **kwargs)
        pupil._stored_avatar = pupil.__dict__.get("avatar")
        return pupil

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.infix, self.last_name) if part)

    @property
    def effective_year_level(self) -> str:
        """The pupil's own year level (combination groups), else the group's."""
        return self.year_level or self.group.year_level

    @property
    def is_active(self) -> bool:
        return self.left_on is None

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    # --- PIN -------------------------------------------------------------------------------

    def set_pin(self, pin: str) -> None:
        """Store the hash of a four-digit PIN; anything else is refused."""
        pin = (pin or "").strip()
        if not re.fullmatch(PIN_PATTERN, pin):
            raise ValidationError(_("Een pincode is precies vier cijfers."), code="invalid_pin")
        self.pin_hash = make_child_secret(pin)

    def generate_pin(self) -> str:
        """Give the pupil a new random PIN and return it; only its hash is kept."""
        pin = random_pin()
        self.set_pin(pin)
        return pin

    def check_pin(self, pin: str) -> bool:
        return bool(self.pin_hash) and check_child_secret(pin, self.pin_hash, self._pin_upgrader)

    def _pin_upgrader(self, pin: str) -> None:
        self.set_pin(pin)
        type(self).objects.filter(pk=self.pk).update(pin_hash=self.pin_hash)

    @property
    def has_pin(self) -> bool:
        return bool(self.pin_hash)

    # --- Picture password ------------------------------------------------------------------

    def set_picture_password(self, pictures: Sequence[str]) -> None:
        """Store the hash of a sequence of pictures of the school's length."""
        pictures = list(pictures)
        school = self.school if self.school_id else self.group.school
        expected = school.picture_password_length
        if any(picture not in Picture.values for picture in pictures):
            raise ValidationError(_("Kies alleen plaatjes uit de lijst."), code="unknown_picture")
        if len(pictures) != expected:
            raise ValidationError(
                ngettext_lazy(
                    "Het plaatjeswachtwoord van deze school is %(count)d plaatje lang.",
                    "Het plaatjeswachtwoord van deze school is %(count)d plaatjes lang.",
                    "count",
                ),
                code="wrong_length",
                params={"count": expected},
            )
        self.picture_password_hash = make_child_secret(_picture_secret(pictures))

    def check_picture_password(self, pictures: Sequence[str]) -> bool:
        return bool(self.picture_password_hash) and check_child_secret(
            _picture_secret(pictures), self.picture_password_hash, self._pictures_upgrader
        )

    def _pictures_upgrader(self, secret: str) -> None:
        self.picture_password_hash = make_child_secret(secret)
        type(self).objects.filter(pk=self.pk).update(
            picture_password_hash=self.picture_password_hash
        )

    @property
    def has_picture_password(self) -> bool:
        return bool(self.picture_password_hash)

    def try_to_log_in(self, secret) -> ChildLogin:
        """Check a PIN (str) or picture sequence (list) and count failures on this pupil.

        Never keyed on an IP address: a family or a school shares one. While a wait or a
        lock is on, the secret is not even checked.
        """
        with transaction.atomic():
            pupil = type(self).objects.select_for_update().get(pk=self.pk)
            now = timezone.now()
            if pupil.is_locked:
                return ChildLogin(ChildLogin.LOCKED)
            stored = pupil.pin_hash if isinstance(secret, str) else pupil.picture_password_hash
            if not stored:
                return ChildLogin(ChildLogin.NO_SECRET)
            if wait := pupil.wait_remaining(now):
                return ChildLogin(ChildLogin.WAIT, wait)
            if isinstance(secret, str):
                correct = pupil.check_pin(secret)
            else:
                correct = pupil.check_picture_password(secret)
            if correct:
                if pupil.failed_attempts or pupil.last_failed_at:
                    type(self).objects.filter(pk=self.pk).update(
                        failed_attempts=0, last_failed_at=None
                    )
                return ChildLogin(ChildLogin.OK)
            pupil.failed_attempts += 1
            pupil.last_failed_at = now
            if pupil.failed_attempts >= CHILD_LOCK_AFTER:
                pupil.locked_at = now
            type(self).objects.filter(pk=self.pk).update(
                failed_attempts=pupil.failed_attempts,
                last_failed_at=now,
                locked_at=pupil.locked_at,
            )
            if pupil.is_locked:
                return ChildLogin(ChildLogin.LOCKED)
            return ChildLogin(ChildLogin.WRONG, pupil.wait_remaining(now))

    def wait_remaining(self, now=None) -> timedelta | None:
        """How long before the next try, after five or more failures in a row."""
        if self.failed_attempts < CHILD_FREE_FAILURES or self.last_failed_at is None:
            return None
        pause = CHILD_FIRST_WAIT * 2 ** (self.failed_attempts - CHILD_FREE_FAILURES)
        remaining = self.last_failed_at + pause - (now or timezone.now())
        return remaining if remaining > timedelta(0) else None

    def unlock(self) -> None:
        """Lift a lock after too many wrong PINs; only staff can do this."""
        self.failed_attempts = 0
        self.locked_at = None
        self.last_failed_at = None
        self.save(update_fields=["failed_attempts", "locked_at", "last_failed_at", "updated_at"])

    def mark_left(self, on=None) -> None:
        self.left_on = on or timezone.localdate()
        self.home_login_enabled = False
        self.save(update_fields=["left_on", "home_login_enabled", "updated_at"])


def _delete_file_on_commit(storage, name: str) -> None:
    transaction.on_commit(lambda: storage.delete(name))


@receiver(post_delete, sender="schools.Pupil")
def _delete_avatar_file(sender, instance, **kwargs):
    # Also runs for the admin's bulk delete, which deletes through the queryset.
    if instance.avatar:
        _delete_file_on_commit(instance.avatar.storage, instance.avatar.name)


def _picture_secret(pictures: Sequence[str]) -> str:
    return ",".join(pictures)


# Easy to guess or to see over a shoulder; never handed out as a new PIN.
_WEAK_PINS = {"1234", "4321", "0123", "3210", "1212", "2580", "0852", "1004", "2000", "6969"}


def random_pin() -> str:
    while True:
        pin = f"{secrets.randbelow(10_000):04d}"
        if len(set(pin)) > 1 and pin not in _WEAK_PINS and not _is_sequence(pin):
            return pin


def _is_sequence(pin: str) -> bool:
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    return steps in ({1}, {-1})


class StaffRole(models.TextChoices):
    TEACHER = "teacher", _("leerkracht")
    ICT_COORDINATOR = "ict", _("ICT-coördinator")
    SCHOOL_ADMIN = "admin", _("schoolbeheerder")


#: Roles that see and manage the whole school, not only their own groups.
MANAGER_ROLES = (StaffRole.ICT_COORDINATOR, StaffRole.SCHOOL_ADMIN)


class StaffMembership(models.Model):
    """A user's role at one school; teachers are linked to the groups they teach."""

    # The primary key is random so that no URL, admin included, shows a counter.
    code = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("account"),
    )
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("school")
    )
    role = models.CharField(_("rol"), max_length=16, choices=StaffRole.choices)
    groups = models.ManyToManyField(
        Group,
        blank=True,
        related_name="teachers",
        verbose_name=_("groepen"),
        help_text=_(
            "De groepen van deze leerkracht. De leerkracht ziet alleen de leerlingen van "
            "deze groepen."
        ),
    )
    created_at = models.DateTimeField(_("aangemaakt op"), auto_now_add=True)

    class Meta:
        verbose_name = _("medewerker")
        verbose_name_plural = _("medewerkers")
        ordering = ["school", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "school"], name="membership_once_per_school"),
            models.CheckConstraint(
                condition=models.Q(role__in=StaffRole.values), name="membership_role_known"
            ),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}, {self.school.name})"


@receiver(m2m_changed, sender=StaffMembership.groups.through)
def _only_groups_of_the_membership_school(sender, instance, action, pk_set, reverse, **kwargs):
    """A teacher at school X is never linked to a group of school Y, whoever writes it."""
    if action != "pre_add" or not pk_set:
        return
    if reverse:  # group.teachers.add(membership, ...)
        clash = StaffMembership.objects.filter(pk__in=pk_set).exclude(school_id=instance.school_id)
    else:  # membership.groups.add(group, ...)
        clash = Group.objects.filter(pk__in=pk_set).exclude(school_id=instance.school_id)
    if clash.exists():
        raise ValidationError(_("Een leerkracht kan alleen groepen van de eigen school krijgen."))


class ImportLog(models.Model):
    """One import of a school's file (or a refusal), with its report."""

    class Kind(models.TextChoices):
        EDEXML = "edexml", "EDEXML"
        CSV = "csv", "CSV"

    code = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    school = models.ForeignKey(
        School,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="imports",
        verbose_name=_("school"),
    )
    kind = models.CharField(_("soort"), max_length=8, choices=Kind.choices)
    file_name = models.CharField(_("bestand"), max_length=255)
    started_at = models.DateTimeField(_("ingelezen op"), default=timezone.now, db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("door"),
    )
    dry_run = models.BooleanField(_("alleen bekeken"), default=False)
    ok = models.BooleanField(_("gelukt"), default=True)
    message = models.TextField(_("melding"), blank=True)
    counts = models.JSONField(_("aantallen"), default=dict)
    warnings = models.JSONField(_("waarschuwingen"), default=list)
    #: The uploaded file of a preview in admin, until it is confirmed (or expires).
    upload = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.file_name} ({self.started_at:%Y-%m-%d %H:%M})"
