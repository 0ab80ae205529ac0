"""The admin of the staff: who works where with which role, and the user accounts, with the
enrolment codes an administrator gives for the authenticator app; and the outbox of
messages to applicants."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Membership, OutboxMessage
from .outbox import delivery


class ReadOnlyAdminMixin:
    """For a ModelAdmin or an inline of rows written only by services: visible to
    administrators, never added, changed or deleted by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Who works where, with which role (also `manage.py create_staff`)."""

    list_display = ["user", "role", "office"]
    list_filter = ["role", "office"]
    list_select_related = ["user", "office"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Django's user admin, with the enrolment codes an administrator gives to members of
    staff for their authenticator app (shown once here, only a keyed hash is kept)."""

    actions = ["issue_enrolment_code"]

    @admin.action(description=_("Émettre un code d’enregistrement de la double authentification"))
    def issue_enrolment_code(self, request, queryset) -> None:
        for user in queryset.order_by("username"):
            code = services.staff_enrolment_code_issue(user=user, by=request.user)
            self.message_user(
                request,
                _(
                    "%(username)s : code d’enregistrement %(code)s, valable %(hours)s heures, "
                    "à usage unique. Remettez-le en personne ou par un canal sûr ; il ne sera "
                    "plus affiché."
                )
                % {
                    "username": user.username,
                    "code": code,
                    "hours": settings.ENROLMENT_CODE_HOURS,
                },
                messages.WARNING,
            )


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The notifications, as the sweep sends them. Those abandoned after the last attempt
    (status `failed`, the filter) show their error, and the action `retry` gives them a new
    series of attempts (delivery.outbox_retry)."""

    list_display = [
        "created_at",
        "kind",
        "channel",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "error",
    ]
    list_filter = ["status", "channel", "kind"]
    # By the recipient or the event's key (appointment:12:cancelled, file:7:ready:31): an
    # appointment's reference is the appointments app's, which core does not know.
    search_fields = ["recipient", "idempotency_key"]
    exclude = ["payload"]
    actions = ["retry"]

    @admin.display(description=_("dernière erreur"))
    def error(self, message: OutboxMessage) -> str:
        return Truncator(message.last_error).chars(120)

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("core.change_outboxmessage")

    @admin.action(permissions=["retry"], description=_("Renvoyer les messages abandonnés"))
    def retry(self, request, queryset) -> None:
        count = delivery.outbox_retry(message_ids=queryset.values_list("pk", flat=True))
        messages.success(
            request,
            ngettext(
                "%(n)d message abandonné sera renvoyé.",
                "%(n)d messages abandonnés seront renvoyés.",
                count,
            )
            % {"n": count},
        )
