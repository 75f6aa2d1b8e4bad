"""Admin for the catalogue (platform operators) and licences (read-only for school staff)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from launcher.models import Licence, Product, Publisher
from schools import access
from schools.admin.scoping import ScopedAdmin
from schools.models import Group, YearLevel


class OperatorsOnly:
    """Publishers and products are managed by the portal's operators (superusers)."""

    def _operator(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    has_module_permission = has_view_permission = has_change_permission = _operator
    has_add_permission = has_delete_permission = _operator


@admin.register(Publisher)
class PublisherAdmin(OperatorsOnly, admin.ModelAdmin):
    list_display = ("name", "website")
    search_fields = ("name",)


class YearLevelsField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        choices = [choice for choice in YearLevel.choices if choice[0] != YearLevel.COMBINED]
        super().__init__(choices=choices, required=False, **kwargs)


class YearLevelsFormMixin:
    """Shows the instance's year levels in the ``year_levels`` checkboxes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["year_levels"] = self.instance.year_levels


class ProductForm(YearLevelsFormMixin, forms.ModelForm):
    year_levels = YearLevelsField(
        label=_("Jaargroepen"), help_text=_("Leeg: voor alle jaargroepen.")
    )

    class Meta:
        model = Product
        fields = (
            "publisher",
            "name",
            "icon",
            "description",
            "launch_url",
            "usable_at_home",
            "client",
        )

    def save(self, commit=True):
        self.instance.year_levels = self.cleaned_data["year_levels"]
        return super().save(commit)


@admin.register(Product)
class ProductAdmin(OperatorsOnly, admin.ModelAdmin):
    form = ProductForm
    list_display = ("name", "publisher", "usable_at_home")
    list_filter = ("publisher", "usable_at_home")
    search_fields = ("name", "publisher__name")


class LicenceForm(YearLevelsFormMixin, forms.ModelForm):
    year_levels = YearLevelsField(label=_("Jaargroepen"))

    class Meta:
        model = Licence
        fields = ("school", "product", "valid_from", "valid_until", "scope", "groups")

    def clean(self):
        cleaned = super().clean()
        self.instance.year_levels = cleaned.get("year_levels") or []
        school, groups = cleaned.get("school"), cleaned.get("groups") or []
        if school and any(group.school_id != school.pk for group in groups):
            self.add_error("groups", _("Kies alleen groepen van deze school."))
        if cleaned.get("scope") == Licence.Scope.GROUPS and not groups:
            self.add_error("groups", _("Kies minstens één groep."))
        return cleaned


@admin.register(Licence)
class LicenceAdmin(ScopedAdmin):
    """Operators record licences; a school's staff see their own school's, read-only."""

    form = LicenceForm
    list_display = ("product", "school", "valid_from", "valid_until", "scope_column")
    list_filter = (("school", admin.RelatedOnlyFieldListFilter), "scope")
    search_fields = ("product__name",)
    filter_horizontal = ("groups",)

    def scope(self, user):
        return Licence.objects.filter(school__in=access.schools_for(user)).select_related(
            "school", "product"
        )

    @admin.display(description=_("voor"), ordering="scope")
    def scope_column(self, obj):
        return obj.get_scope_display()

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = Group.objects.select_related("school")
        return super().formfield_for_manytomany(db_field, request, **kwargs)
