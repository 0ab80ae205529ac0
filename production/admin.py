from django.contrib import admin

from .models import Centre, FileEvent, PassportFile


@admin.register(Centre)
class CentreAdmin(admin.ModelAdmin):
    list_display = ["office", "daily_capacity"]
    list_select_related = ["office"]
    search_fields = ["office__code", "office__name", "office__city"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "office":
            kwargs["queryset"] = db_field.related_model.objects.filter(kind="centre")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class FileEventInline(admin.TabularInline):
    """Events are append-only (the database refuses changes): shown, never edited."""

    model = FileEvent
    extra = 0
    can_delete = False
    fields = ["at", "from_status", "to_status", "by", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PassportFile)
class PassportFileAdmin(admin.ModelAdmin):
    """Files change only through production.services.file_transition: read-only here."""

    list_display = [
        "reference",
        "surname",
        "given_names",
        "office",
        "centre",
        "status",
        "due_date",
    ]
    list_filter = ["status", "office", "centre"]
    list_select_related = ["office", "centre__office"]
    search_fields = ["reference", "surname", "national_id"]
    inlines = [FileEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
