from django.contrib import admin, messages
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdminMixin
from core.models import Office

from . import services, validation, waiting_room
from .audit import record_appointment_views
from .models import (
    Appointment,
    AppointmentView,
    Closure,
    HolidayOverride,
    OpeningHours,
    Slot,
    Suspension,
    WaitingLine,
)


class OfficeKindAdminMixin:
    """For the admin of a Centre or a Mission: its `office` field offers only the offices
    of `office_kind` (the database refuses the others)."""

    office_kind: str

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "office":
            kwargs["queryset"] = Office.objects.filter(kind=self.office_kind)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "city", "country", "timezone", "active"]
    list_filter = ["kind", "active", "country"]
    search_fields = ["code", "name", "name_en", "city"]
    ordering = ["kind", "country", "city"]
    inlines = [OpeningHoursInline]


class BoundedDatesAdminMixin:
    """Dates and times typed in the admin lie within the calendar's bounds (a closure up to
    9999-12-31 would overflow once moved to the office's timezone)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(db_field, models.DateField):  # DateTimeField included
            field.validators.append(validation.within_calendar)
        return field


@admin.register(Closure)
class ClosureAdmin(BoundedDatesAdminMixin, admin.ModelAdmin):
    """Closures go through the service: their slots close and the appointments booked in
    them become `displaced`. A closure is not edited once saved: delete it (its slots
    reopen) and create another. Deleting a public holiday's closure keeps the office open
    that day (a *jour férié maintenu ouvert*, which the holidays' sync respects)."""

    list_display = ["start_date", "end_date", "office", "reason", "source"]
    list_filter = ["source", "office"]
    date_hierarchy = "start_date"

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["office", "start_date", "end_date", "reason", "reason_en", "source"]
        return []

    def save_model(self, request, obj, form, change):
        if change:
            return
        closure, displaced = services.closure_create(
            office=obj.office,
            start_date=obj.start_date,
            end_date=obj.end_date,
            reason=obj.reason,
            reason_en=obj.reason_en,
        )
        obj.pk = closure.pk
        if displaced:
            messages.warning(
                request,
                _("%(n)d rendez-vous déjà réservés sont à reprogrammer.") % {"n": displaced},
            )

    def delete_model(self, request, obj):
        services.closure_delete(closure=obj)

    def delete_queryset(self, request, queryset):
        for closure in queryset:
            services.closure_delete(closure=closure)


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(BoundedDatesAdminMixin, admin.ModelAdmin):
    """Public holidays on which an office stays open. Made by deleting a holiday's closure,
    or here beforehand; deleting one closes the day again (at once within the horizon)."""

    list_display = ["date", "office", "name", "created_at"]
    list_filter = ["office"]
    date_hierarchy = "date"

    def get_readonly_fields(self, request, obj=None):
        return ["office", "date", "name"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        override = services.holiday_keep_open(office=obj.office, day=obj.date, name=obj.name)
        obj.pk = override.pk

    def delete_model(self, request, obj):
        services.holiday_override_delete(override=obj)

    def delete_queryset(self, request, queryset):
        for override in queryset.select_related("office"):
            services.holiday_override_delete(override=override)


@admin.register(Suspension)
class SuspensionAdmin(BoundedDatesAdminMixin, admin.ModelAdmin):
    """Through the services, as the API and the workspace: displacement, held files and the
    clocked tasks of the start and the reopening follow every change."""

    list_display = ["starts_at", "reopens_at", "message"]
    filter_horizontal = ["offices"]

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        fields = {
            "starts_at": data["starts_at"],
            "reopens_at": data.get("reopens_at"),
            "office_codes": [office.code for office in data["offices"]] or None,
            "message_fr": data["message"],
            "message_en": data.get("message_en", ""),
        }
        if change:
            services.suspension_update(suspension=obj, by=request.user, **fields)
        else:
            obj.pk = services.suspension_create(by=request.user, **fields).pk

    def save_related(self, request, form, formsets, change) -> None:
        pass  # the offices are set by the service

    def delete_model(self, request, obj) -> None:
        services.suspension_delete(suspension=obj, by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for suspension in queryset:
            services.suspension_delete(suspension=suspension, by=request.user)


@admin.register(Slot)
class SlotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["office", "starts_at", "capacity", "booked", "is_open"]
    list_filter = ["office", "is_open"]
    list_select_related = ["office"]
    date_hierarchy = "starts_at"


class ViewsRecordedAdminMixin:
    """For the admin of rows that carry a person's identity: every list or search result
    shown, and every page opened, is recorded as a view by that administrator (a search by
    identity number is a look at identity data). `record(request, ids, page)` says how."""

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if response.status_code == 200 and changelist is not None:
            ids = [row.pk for row in changelist.result_list]
            self.record(request, ids, page=False)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200 and str(object_id).isdigit():
            self.record(request, [int(object_id)], page=True)
        return response

    def record(self, request, ids: list[int], *, page: bool) -> None:
        raise NotImplementedError


@admin.register(Appointment)
class AppointmentAdmin(ViewsRecordedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["reference", "office", "slot", "status", "surname", "given_names"]
    list_filter = ["status", "office"]
    list_select_related = ["office", "slot__office"]
    search_fields = ["reference", "surname", "national_id", "email"]
    exclude = ["manage_token_hash"]

    def record(self, request, ids: list[int], *, page: bool) -> None:
        via = AppointmentView.Via.ADMIN if page else AppointmentView.Via.ADMIN_LIST
        record_appointment_views(user=request.user, appointments=ids, via=via)


@admin.register(AppointmentView)
class AppointmentViewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who saw which appointment's identity data, and when: append-only, for the ministry's
    administrators (the database refuses changes)."""

    list_display = ["at", "user", "appointment", "via"]
    list_filter = ["via"]
    list_select_related = ["user", "appointment"]
    date_hierarchy = "at"


@admin.register(WaitingLine)
class WaitingLineAdmin(admin.ModelAdmin):
    """The waiting room of each office at each reopening (appointments/waiting_room/):
    how many took a place, how many are in, and the rate, the one thing to change here
    (through waiting_room.line_rate_set, which keeps those already in)."""

    list_display = ["office", "reopens_at", "rate", "issued", "admitted", "waiting"]
    list_select_related = ["office", "suspension"]
    list_filter = ["office"]
    fields = ["office", "reopens_at", "issued", "admitted", "waiting", "rate"]
    readonly_fields = ["office", "reopens_at", "issued", "admitted", "waiting"]
    ordering = ["-suspension__reopens_at", "office"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # a line opens with its first place

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("réouverture"))
    def reopens_at(self, line: WaitingLine):
        return line.suspension.reopens_at

    def _figures(self, line: WaitingLine) -> tuple[int, int]:
        admitted = waiting_room.admitted_now(line=line)
        return admitted, line.issued - admitted

    @admin.display(description=_("admis"))
    def admitted(self, line: WaitingLine) -> int:
        return self._figures(line)[0]

    @admin.display(description=_("en attente"))
    def waiting(self, line: WaitingLine) -> int:
        return self._figures(line)[1]

    def save_model(self, request, obj, form, change) -> None:
        waiting_room.line_rate_set(line_id=obj.pk, rate=form.cleaned_data["rate"])
