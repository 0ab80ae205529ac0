"""Suspensions in the staff workspace (`/staff/suspensions/`), for the ministry's
administrators: suspend the service at some offices or all, set or move the reopening,
remove one made by mistake. The same services as the API and the Django admin."""

from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from appointments import services, validation
from appointments.models import Suspension
from core import access
from core.errors import DomainError
from core.models import Office

BAMAKO = ZoneInfo("Africa/Bamako")
LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class BamakoDateTimeField(forms.DateTimeField):
    """A date and time typed in Africa/Bamako time (the ministry's), within the calendar's
    bounds."""

    widget = LOCAL
    default_validators = [validation.within_calendar]

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is not None and timezone.is_aware(moment):
            moment = timezone.make_naive(moment, timezone.get_current_timezone())
        return None if moment is None else moment.replace(tzinfo=BAMAKO)


class SuspensionForm(forms.Form):
    starts_at = BamakoDateTimeField(label=gettext_lazy("Début (heure de Bamako)"))
    reopens_at = BamakoDateTimeField(
        label=gettext_lazy("Réouverture prévue (heure de Bamako)"), required=False
    )
    offices = forms.ModelMultipleChoiceField(
        queryset=Office.objects.filter(active=True).order_by("kind", "city"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Bureaux (aucun coché : tous)"),
    )
    message_fr = forms.CharField(
        label=gettext_lazy("Message public en français"), widget=forms.Textarea(attrs={"rows": 3})
    )
    message_en = forms.CharField(
        label=gettext_lazy("Message public en anglais"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        data = super().clean()
        starts, reopens = data.get("starts_at"), data.get("reopens_at")
        if starts and reopens and reopens <= starts:
            self.add_error("reopens_at", _("La réouverture doit suivre le début."))
        return data


class ReopeningForm(forms.Form):
    reopens_at = BamakoDateTimeField(
        label=gettext_lazy("Réouverture prévue (heure de Bamako)"), required=False
    )


def _admin_only(request: HttpRequest) -> None:
    if not access.staff_scope(request.user).is_admin:
        raise PermissionDenied


def _suspension(pk: int) -> Suspension:
    suspension = Suspension.objects.filter(pk=pk).first()
    if suspension is None:
        raise Http404("no such suspension")
    return suspension


@login_required
@require_http_methods(["GET", "POST"])
def suspensions(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    form = SuspensionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.suspension_create(
                by=request.user,
                starts_at=data["starts_at"],
                reopens_at=data["reopens_at"],
                office_codes=[office.code for office in data["offices"]] or None,
                message_fr=data["message_fr"],
                message_en=data["message_en"],
            )
        except DomainError as error:
            form.add_error(None, error.detail)
        else:
            messages.success(request, _("Suspension enregistrée."))
            return redirect("suspensions:list")
    listed = Suspension.objects.prefetch_related("offices").order_by("-starts_at", "-pk")[:50]
    return render(
        request,
        "staff/suspensions.html",
        {
            "form": form,
            "suspensions": [
                (s, ReopeningForm(initial={"reopens_at": s.reopens_at})) for s in listed
            ],
            "now": timezone.now(),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def suspension_reopening(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    suspension = _suspension(pk)
    form = ReopeningForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Date de réouverture non valable."))
        return redirect("suspensions:list")
    try:
        services.suspension_update(
            suspension=suspension, by=request.user, reopens_at=form.cleaned_data["reopens_at"]
        )
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, _("Réouverture mise à jour."))
    return redirect("suspensions:list")


@login_required
@require_POST
def suspension_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    services.suspension_delete(suspension=_suspension(pk), by=request.user)
    messages.success(request, _("Suspension supprimée."))
    return redirect("suspensions:list")
