from django.contrib import admin

from appointments.admin import (
    OfficeKindAdminMixin,
    ReadOnlyAdminMixin,
    ViewsRecordedAdminMixin,
)
from core.models import Office

from . import audit
from .models import Centre, FileEvent, FileView, PassportFile


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
class PassportFileAdmin(ViewsRecordedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
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

    def record(self, request, ids: list[int], *, page: bool) -> None:
        # The admin's list shows names; searched by identity number, it is a look at one.
        audit.record_views(user=request.user, files=ids, via=FileView.Via.ADMIN)


@admin.register(FileView)
class FileViewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who saw which file's identity data, and when: append-only, for the ministry's
    administrators (the database refuses changes)."""

    list_display = ["at", "user", "file", "via"]
    list_filter = ["via"]
    list_select_related = ["user", "file"]
    date_hierarchy = "at"
    search_fields = ["file__reference", "user__username"]
    raw_id_fields = ["file", "user"]
