"""Logging in to the staff workspace and to the admin, and enrolling a second factor.

- The login form takes the username, the password and, for anyone with a device (every
  supervisor and administrator once enrolled), the 6-digit code of their authenticator app.
  One message for any mistake, so that it never tells which part was right; a wrong code
  counts as a failed login for the lockout (core/lockout.py), as a wrong password does.
- A supervisor or administrator without a device logs in with the password alone and is
  sent to the enrolment page, the only one they can reach until a first code confirms the
  device (core/staff_sessions.py). Enrolling needs a one-time enrolment code that an
  administrator issues (the admin's staff list, or `manage.py enrolment_code`): the
  password alone never lets anyone put their own device on an account.
- `next` is followed only when it stays on this site.
"""

import django_otp
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import access, services, twofactor

INVALID_LOGIN = gettext_lazy(
    "Identifiant, mot de passe ou code de vérification incorrect. Les superviseurs et "
    "administrateurs saisissent aussi le code à 6 chiffres de leur application "
    "d’authentification."
)


def same_site_url(request: HttpRequest, url: str | None) -> str | None:
    """`url` if it stays on this site (a form's `next`), None otherwise: never an open
    redirect to somewhere else."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


class StaffLoginForm(AuthenticationForm):
    code = forms.CharField(
        label=gettext_lazy("Code de vérification"),
        required=False,
        max_length=12,
        help_text=gettext_lazy(
            "Superviseurs et administrateurs : le code à 6 chiffres de votre application "
            "d’authentification."
        ),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "size": 8,
                "aria-describedby": "code-help",
            }
        ),
    )
    error_messages = {**AuthenticationForm.error_messages, "invalid_login": INVALID_LOGIN}

    def clean(self):
        cleaned = super().clean()  # the password (and the lockout, in the axes backend)
        user = self.get_user()
        device = twofactor.confirmed_device(user)
        if device is None:
            return cleaned
        if not twofactor.check_code(device, cleaned.get("code")):
            # Counted by the lockout as a failed login: codes are not to be guessed either.
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username()},
                request=self.request,
            )
            self.user_cache = None
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        user.otp_device = device  # django_otp marks the session verified at login
        return cleaned


class StaffAdminLoginForm(StaffLoginForm, AdminAuthenticationForm):
    """The same login for the admin, which also refuses accounts without `is_staff`."""


class StaffLoginView(auth_views.LoginView):
    template_name = "staff/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True


# The session's pending device, given by an enrolment code: only this session sees its secret.
ENROLMENT_DEVICE = "enrolment_device"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Enrol the authenticator app, in two steps: the one-time enrolment code an
    administrator gave (without it, whoever knew the password could enrol their own device
    first), then the secret (and its QR code) of a new device and a first code to confirm
    it. Required of supervisors and administrators; open to all."""
    user = request.user
    if twofactor.confirmed_device(user) is not None:
        context = {"enrolled": True, "verified": user.is_verified()}
        return render(request, "staff/two_factor.html", context)
    next_url = same_site_url(request, request.POST.get("next", request.GET.get("next")))
    device = twofactor.pending_device(user, request.session.get(ENROLMENT_DEVICE))
    error = None
    if request.method == "POST" and "enrolment_code" in request.POST:
        try:
            device = services.staff_totp_enrol(
                user=user, enrolment_code=request.POST["enrolment_code"]
            )
        except services.InvalidEnrolmentCode as refusal:
            error = refusal.detail
        else:
            if device is not None:
                request.session[ENROLMENT_DEVICE] = device.pk
    elif request.method == "POST" and device is not None:
        try:
            device = services.staff_totp_confirm(
                user=user, device_id=device.pk, code=request.POST.get("code", "")
            )
        except services.InvalidCode as refusal:
            error = refusal.detail
        else:
            request.session.pop(ENROLMENT_DEVICE, None)
            request.session.cycle_key()  # a new session id for the stronger login
            django_otp.login(request, device)
            messages.success(request, _("Double authentification activée."))
            return redirect(next_url or "staff:home")
    context = {
        "enrolled": False,
        "required": access.two_factor_required(user),
        "device": device,
        "enrolment_hours": settings.ENROLMENT_CODE_HOURS,
        "next": next_url or "",
        "error": error,
    }
    if device is not None:
        context.update(secret=twofactor.secret_grouped(device), qr_svg=twofactor.qr_svg(device))
    return render(request, "staff/two_factor.html", context)
