"""The admin of the staff: who works where with which role, and the user accounts, with the
enrolment codes an administrator gives for the authenticator app."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Membership


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
