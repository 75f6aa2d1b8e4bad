"""Software: publishers, their products, schools' licences and launches."""

from __future__ import annotations

import uuid
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from basispoort.lib.lookup import Prepared
from schools.models import Group, Pupil, School, YearLevel


def _year_levels_text(levels) -> str:
    """Stored as ",3,4," so that one level is found with a plain "contains" on any database."""
    levels = [level for level in YearLevel.values if level in set(levels)]
    return f",{','.join(levels)}," if levels else ""


def _year_levels_list(text: str) -> list[str]:
    return [level for level in (text or "").split(",") if level]


class YearLevelsMixin:
    """``year_levels`` as a list, kept in the ``year_levels_text`` column (empty: all)."""

    @property
    def year_levels(self) -> list[str]:
        return _year_levels_list(self.year_levels_text)

    @year_levels.setter
    def year_levels(self, levels) -> None:
        self.year_levels_text = _year_levels_text(levels)


class Publisher(models.Model):
    """A publisher of educational software."""

    code = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("naam"), max_length=200, unique=True)
    website = models.URLField(_("website"), blank=True)

    class Meta:
        verbose_name = _("uitgever")
        verbose_name_plural = _("uitgevers")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Product(YearLevelsMixin, models.Model):
    """A piece of software a school can hold a licence for."""

    code = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    publisher = models.ForeignKey(
        Publisher, on_delete=models.PROTECT, related_name="products", verbose_name=_("uitgever")
    )
    name = models.CharField(_("naam"), max_length=200)
    icon = models.SlugField(
        _("icoon"),
        max_length=60,
        blank=True,
        help_text=_("Naam van een icoon in static/products/ (zonder .svg)."),
    )
    description = models.CharField(_("korte beschrijving"), max_length=200, blank=True)
    launch_url = models.URLField(
        _("start-URL"),
        max_length=500,
        validators=[URLValidator(schemes=["https"])],
        help_text=_("Het https-adres waar het product begint."),
    )
    usable_at_home = models.BooleanField(
        _("thuis te gebruiken"),
        default=True,
        help_text=_("Uit: alleen op school; leerlingen zien het thuis niet."),
    )
    year_levels_text = models.CharField(_("jaargroepen"), max_length=40, blank=True)
    # One product per client: the client's ID token then says which product the school's
    # licence was checked for, without a claim the publisher might forget to check.
    client = models.OneToOneField(
        "sso.Client",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="product",
        verbose_name=_("koppeling"),
        help_text=_(
            "Met een koppeling logt de leerling met single sign-on in bij het product; "
            "zonder gaat de leerling alleen naar de start-URL. Eén product per koppeling."
        ),
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("producten")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["publisher", "name"], name="product_name_unique"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.client_id and self.client.publisher_id != self.publisher_id:
            raise ValidationError({"client": _("Kies een koppeling van dezelfde uitgever.")})


class LicenceQuerySet(models.QuerySet):
    def current(self, today: date | None = None):
        """Valid today (Europe/Amsterdam), both ends included."""
        today = today or timezone.localdate()
        return self.filter(valid_from__lte=today, valid_until__gte=today)

    def covering(self, pupil: Pupil):
        """Licences of the pupil's school whose scope includes the pupil."""
        return self.covering_place(pupil.school_id, pupil.group_id, pupil.effective_year_level)

    def covering_place(self, school_id, group_id, year_level: str):
        """Licences of a school whose scope includes a pupil of this group and year level."""
        return self.filter(school_id=school_id).filter(
            Q(scope=Licence.Scope.SCHOOL)
            | Q(scope=Licence.Scope.GROUPS, groups=group_id)
            | Q(scope=Licence.Scope.YEAR_LEVELS, year_levels_text__contains=f",{year_level},")
        )


class Licence(YearLevelsMixin, models.Model):
    """A school's right to use a product for a period, for the whole school or part of it."""

    class Scope(models.TextChoices):
        SCHOOL = "school", _("hele school")
        GROUPS = "groups", _("gekozen groepen")
        YEAR_LEVELS = "year_levels", _("gekozen jaargroepen")

    code = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="licences", verbose_name=_("school")
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="licences", verbose_name=_("product")
    )
    valid_from = models.DateField(_("geldig vanaf"))
    valid_until = models.DateField(_("geldig tot en met"))
    scope = models.CharField(_("voor"), max_length=16, choices=Scope.choices, default=Scope.SCHOOL)
    groups = models.ManyToManyField(
        Group, blank=True, related_name="licences", verbose_name=_("groepen")
    )
    year_levels_text = models.CharField(_("jaargroepen"), max_length=40, blank=True)

    objects = LicenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("licentie")
        verbose_name_plural = _("licenties")
        ordering = ["school", "product__name", "valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("valid_from")),
                name="licence_period_not_reversed",
                violation_error_message=_("De einddatum ligt voor de begindatum."),
            ),
            models.CheckConstraint(
                condition=Q(scope__in=["school", "groups", "year_levels"]),
                name="licence_scope_known",
            ),
        ]

    def __str__(self):
        return f"{self.product} – {self.school.name}"

    def clean(self):
        # Not tied to the column: no form has a field for it (the admin's is "year_levels"),
        # and Django refuses an error for a field the form lacks with a server error.
        if self.scope == self.Scope.YEAR_LEVELS and not self.year_levels:
            raise ValidationError(_("Kies minstens één jaargroep."), code="no_year_levels")


class LaunchEvent(models.Model):
    """A pupil opened a product from the portal."""

    pupil = models.ForeignKey(
        Pupil, on_delete=models.CASCADE, related_name="launches", verbose_name=_("leerling")
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="launches", verbose_name=_("product")
    )
    launched_at = models.DateTimeField(_("gestart op"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("start van een product")
        verbose_name_plural = _("starts van producten")
        ordering = ["-launched_at"]

    def __str__(self):
        return f"{self.pupil} → {self.product}"


def _licensed_for_home(school_id, group_id, year_level: str, today: date):
    licensed = Licence.objects.current(today).covering_place(school_id, group_id, year_level)
    return Product.objects.filter(pk__in=licensed.values("product"), usable_at_home=True)


def products_for(pupil: Pupil, today: date | None = None):
    """What the software page shows: licensed today, in scope, usable at home, home login on."""
    if not pupil.home_login_enabled or not pupil.is_active:
        return Product.objects.none()
    today = today or timezone.localdate()
    return (
        _licensed_for_home(pupil.school_id, pupil.group_id, pupil.effective_year_level, today)
        .select_related("publisher")
        .order_by("name")
    )


# products_for() as the software page runs it on every visit, compiled once per year level:
# the level is matched as text (year_levels_text LIKE '%,5,%'), which a compiled query cannot
# take as a new value, so each level has its own (basispoort/lib/lookup.py).
_HOME_PRODUCTS: dict[str, Prepared] = {}


def home_products(pupil: Pupil) -> list[Product]:
    """The products of products_for(pupil) today, in the same order, without the publishers."""
    if not pupil.home_login_enabled or not pupil.is_active:
        return []
    level = pupil.effective_year_level
    if level not in YearLevel.values:
        return list(products_for(pupil).select_related(None))
    if level not in _HOME_PRODUCTS:
        _HOME_PRODUCTS[level] = Prepared(
            lambda school, group, today: _licensed_for_home(school, group, level, today).order_by(
                "name"
            ),
            parameters=(School._meta.pk, Group._meta.pk, Licence._meta.get_field("valid_from")),
        )
    return _HOME_PRODUCTS[level].objects(pupil.school_id, pupil.group_id, timezone.localdate())


@receiver(m2m_changed, sender=Licence.groups.through)
def _only_groups_of_the_licence_school(sender, instance, action, pk_set, reverse, **kwargs):
    """A licence of school X never covers a group of school Y, whoever writes it."""
    if action != "pre_add" or not pk_set or reverse:
        return
    if Group.objects.filter(pk__in=pk_set).exclude(school_id=instance.school_id).exists():
        raise ValidationError(_("Een licentie geldt alleen voor groepen van de eigen school."))
