from django.contrib import admin

from .models import Centre


@admin.register(Centre)
class CentreAdmin(admin.ModelAdmin):
    list_display = ["office", "daily_capacity"]
    list_select_related = ["office"]
    search_fields = ["office__code", "office__name", "office__city"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "office":
            kwargs["queryset"] = db_field.related_model.objects.filter(kind="centre")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
