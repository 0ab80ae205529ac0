"""The ministry's administrators change the admission rate of a reopening's waiting room from
the backlog dashboard (appointments/waiting_room/: those already in stay in, the rest come
in at the new rate from now on). The rate weighs on every office's server: administrators
only, 403 for anyone else."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from appointments import waiting_room
from appointments.models import WaitingLine
from core import access

# Far above what any server sustains: a typo of a few zeros is refused, not applied.
MAX_RATE = 1000


class RateForm(forms.Form):
    rate = forms.FloatField(
        label=gettext_lazy("Admissions par seconde"), min_value=0, max_value=MAX_RATE
    )


@login_required
@require_POST
def waiting_line_rate(request: HttpRequest, line_id: int) -> HttpResponse:
    if not access.staff_scope(request.user).is_admin:
        raise PermissionDenied
    line = get_object_or_404(WaitingLine, pk=line_id)
    form = RateForm(request.POST)
    if form.is_valid():
        waiting_room.line_rate_set(line_id=line.pk, rate=form.cleaned_data["rate"])
        messages.success(request, _("Rythme de la salle d’attente mis à jour."))
    else:
        message = _("Indiquez un nombre d’admissions par seconde entre 0 et %(max)d.")
        messages.error(request, message % {"max": MAX_RATE})
    return redirect(reverse("staff:backlog") + "#waiting-lines")
