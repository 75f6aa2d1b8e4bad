"""The fixed grid of twelve pictures a picture password is made of."""

from django.db import models
from django.utils.translation import pgettext_lazy


class Picture(models.TextChoices):
    # The stored value is part of the hashed secret: never rename a value.
    SUN = "zon", pgettext_lazy("plaatje", "zon")
    APPLE = "appel", pgettext_lazy("plaatje", "appel")
    CAR = "auto", pgettext_lazy("plaatje", "auto")
    FISH = "vis", pgettext_lazy("plaatje", "vis")
    STAR = "ster", pgettext_lazy("plaatje", "ster")
    HOUSE = "huis", pgettext_lazy("plaatje", "huis")
    TREE = "boom", pgettext_lazy("plaatje", "boom")
    CAT = "kat", pgettext_lazy("plaatje", "kat")
    BALL = "bal", pgettext_lazy("plaatje", "bal")
    MOON = "maan", pgettext_lazy("plaatje", "maan")
    FLOWER = "bloem", pgettext_lazy("plaatje", "bloem")
    BOAT = "boot", pgettext_lazy("plaatje", "boot")
