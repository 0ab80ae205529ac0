"""The counter frees an identity number held by somebody else: whoever booked first with a
person's NINA (a tout, a mistake) keeps it otherwise, with every code for that number going
to their contacts. The agent checks the identity document of the person in front of them,
says which and why; the service ends the bookings and holds made with the number, at any
office, and records the agent and the reason in events nobody can edit."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from appointments import services as appointment_services
from appointments import validation
from appointments.errors import EvictionRefused
from core import access


class EvictionForm(forms.Form):
    national_id = forms.CharField(label=_("NINA ou numéro de passeport"), max_length=40)
    # The kind of document only, never its number: the events are kept for good, and the
    # retention of personal data could not erase a number written in them.
    document = forms.ChoiceField(
        label=_("Pièce d’identité vérifiée"),
        choices=[
            ("carte NINA", _("Carte NINA")),
            ("carte d’identité", _("Carte d’identité nationale")),
            ("passeport", _("Passeport")),
            ("carte consulaire", _("Carte consulaire")),
            ("autre pièce officielle", _("Autre pièce officielle")),
        ],
    )
    reason = forms.CharField(
        label=_("Motif"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sans nom ni numéro : ce motif est conservé et ne peut pas être effacé."),
    )
    checked = forms.BooleanField(
        label=_("J’ai vérifié la pièce d’identité de la personne présente au guichet.")
    )

    def clean_national_id(self) -> str:
        try:
            return validation.clean_national_id(self.cleaned_data["national_id"])
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None


@login_required
@require_http_methods(["GET", "POST"])
def evict(request: HttpRequest, code: str) -> HttpResponse:
    office = access.counter_office(access.staff_scope(request.user), code=code)
    if office is None:
        raise Http404("not an office of yours")
    form = EvictionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ended = appointment_services.appointment_evict(
                national_id=data["national_id"],
                office=office,
                by=request.user,
                reason=f"{data['document']} – {data['reason'].strip()}",
            )
        except EvictionRefused as error:
            form.add_error("reason", error.detail)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)s rendez-vous ou place retenue avec ce numéro a pris fin. La "
                    "personne peut réserver.",
                    "%(count)s rendez-vous ou places retenues avec ce numéro ont pris fin. "
                    "La personne peut réserver.",
                    len(ended),
                )
                % {"count": len(ended)},
            )
            return redirect("staff:agenda", code=office.code)
    status = 400 if form.errors else 200
    return render(request, "staff/evict.html", {"office": office, "form": form}, status=status)
