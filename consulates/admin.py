from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

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
class MissionAdmin(admin.ModelAdmin):
    form = MissionAdminForm
    list_display = ["office", "centre", "pouch_days"]
    list_select_related = ["office", "centre__office"]
    search_fields = ["office__code", "office__name", "office__city"]

    @admin.display(description=_("jours de valise"))
    def pouch_days(self, obj: Mission) -> str:
        return ", ".join(str(label) for label in obj.pouch_weekday_labels)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "office":
            kwargs["queryset"] = db_field.related_model.objects.filter(kind="mission")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ShipmentItemInline(admin.TabularInline):
    model = ShipmentItem
    extra = 0
    can_delete = False
    fields = ["file", "received"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    """Pouches are sent and received through consulates.services: read-only here."""

    list_display = ["mission", "centre", "status", "expected_count", "received_count", "sent_at"]
    list_filter = ["status", "mission", "centre"]
    list_select_related = ["mission__office", "centre__office"]
    inlines = [ShipmentItemInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
