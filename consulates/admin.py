from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from appointments.admin import OfficeKindAdminMixin
from core.admin import ReadOnlyAdminMixin
from core.models import Office

from .models import Mission, Shipment, ShipmentItem, Weekday


class MissionAdminForm(forms.ModelForm):
    pouch_weekdays = forms.TypedMultipleChoiceField(
        label=_("jours de valise diplomatique"),
        choices=Weekday.choices,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Mission
        fields = ["office", "centre", "pouch_weekdays"]


@admin.register(Mission)
class MissionAdmin(OfficeKindAdminMixin, admin.ModelAdmin):
    office_kind = Office.Kind.MISSION
    form = MissionAdminForm
    list_display = ["office", "centre", "pouch_days"]
    list_select_related = ["office", "centre__office"]
    search_fields = ["office__code", "office__name", "office__city"]

    @admin.display(description=_("jours de valise"))
    def pouch_days(self, obj: Mission) -> str:
        return ", ".join(str(label) for label in obj.pouch_weekday_labels)


class ShipmentItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ShipmentItem
    extra = 0
    fields = ["file", "received"]
    readonly_fields = fields


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Pouches are sent and received through consulates.services: read-only here."""

    list_display = ["mission", "centre", "status", "expected_count", "received_count", "sent_at"]
    list_filter = ["status", "mission", "centre"]
    list_select_related = ["mission__office", "centre__office"]
    inlines = [ShipmentItemInline]
