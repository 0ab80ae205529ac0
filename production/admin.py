from django.contrib import admin

from appointments.admin import OfficeKindAdminMixin, ReadOnlyAdminMixin
from appointments.models import Office

from .models import Centre, FileEvent, PassportFile


@admin.register(Centre)
class CentreAdmin(OfficeKindAdminMixin, admin.ModelAdmin):
    office_kind = Office.Kind.CENTRE
    list_display = ["office", "daily_capacity"]
    list_select_related = ["office"]
    search_fields = ["office__code", "office__name", "office__city"]


class FileEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Events are append-only (the database refuses changes): shown, never edited."""

    model = FileEvent
    extra = 0
    fields = ["at", "from_status", "to_status", "by", "note"]
    readonly_fields = fields


@admin.register(PassportFile)
class PassportFileAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
