"""Public pages of production, no account and no JavaScript: the status page (whether each
office is open or suspended and how production is going, in aggregate figures only) and the
tracking page (an applicant's own file, with its reference and date of birth)."""

from datetime import date

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from appointments import documents, validation
from appointments import selectors as office_selectors
from appointments.birth_date import BirthDateField
from core import clients

from . import selectors, tracking


@require_safe
def status(request: HttpRequest) -> HttpResponse:
    groups = office_selectors.office_groups(selectors.public_status())
    return render(request, "production/status.html", {"groups": groups})


class TrackForm(forms.Form):
    reference = forms.CharField(
        label=_("Numéro de dossier ou référence du rendez-vous"),
        max_length=40,
        help_text=_("Par exemple DACDEF-GHJKM (dossier) ou ACDE-FGHJ (rendez-vous)."),
    )
    birth_date = BirthDateField()

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["reference"].widget.attrs.update(
            {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        )

    def clean_birth_date(self) -> date:
        return validation.clean_birth_date(
            self.cleaned_data["birth_date"], today=timezone.localdate()
        )


NOT_FOUND = _(
    "Aucun dossier ni rendez-vous ne correspond à cette référence et à cette date de "
    "naissance. Vérifiez-les et réessayez."
)


@require_http_methods(["GET", "HEAD", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """/suivi/: the applicant's file or appointment. Posted, not in the address, so that a
    date of birth is kept by no history, log or proxy; never cached."""
    found = None
    if request.method == "POST":
        form = TrackForm(request.POST)
        if form.is_valid():
            reference = tracking.clean_reference(form.cleaned_data["reference"])
            if tracking.rate_limited(request, reference=reference):
                context = {"link_form": TrackLinkForm(initial={"reference": reference})}
                response = render(request, "production/track_blocked.html", context, status=429)
                response["Retry-After"] = str(tracking.retry_after())
                return _private(response)
            found = tracking.track(reference=reference, birth_date=form.cleaned_data["birth_date"])
            if found is None:
                tracking.lookup_failed(reference)
                form.add_error(None, NOT_FOUND)
    else:
        form = TrackForm(initial={"reference": request.GET.get("reference", "")[:40]})
    context = {"form": form, "found": found, "what_to_bring": documents.WHAT_TO_BRING}
    return _private(render(request, "production/track.html", context))


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, no_store=True, private=True)
    response["X-Robots-Tag"] = "noindex"
    return response


class TrackLinkForm(forms.Form):
    reference = forms.CharField(
        label=_("Numéro de dossier ou référence du rendez-vous"), max_length=40
    )


@require_http_methods(["GET", "HEAD", "POST"])
def track_link_request(request: HttpRequest) -> HttpResponse:
    """/suivi/lien/: a tracking link sent to the contacts of a reference's appointment. The
    answer is the same whether the reference exists or not; the address's budget counts each
    ask, and one link at most goes out per reference an hour (production/tracking.py)."""
    form = TrackLinkForm(request.POST or None)
    sent = False
    if request.method == "POST" and form.is_valid():
        reference = tracking.clean_reference(form.cleaned_data["reference"])
        if clients.rate_limited(request, group="track-link", rate=settings.TRACK_RATE):
            response = render(request, "appointments/too_many.html", status=429)
            response["Retry-After"] = "60"
            return _private(response)
        tracking.link_send(reference)
        sent = True
    context = {"link_form": form, "sent": sent}
    return _private(render(request, "production/track_blocked.html", context))


@require_safe
def track_by_link(request: HttpRequest, token: str) -> HttpResponse:
    """/suivi/lien/<token>/: the file or appointment of a tracking link, counted against no
    budget (only its holder's contacts received it)."""
    found = tracking.track_by_link(token)
    context = {
        "form": TrackForm(),
        "found": found,
        "link_expired": found is None,
        "what_to_bring": documents.WHAT_TO_BRING,
    }
    status = 200 if found is not None else 404
    return _private(render(request, "production/track.html", context, status=status))
