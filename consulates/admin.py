from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Mission, Weekday


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
