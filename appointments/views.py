"""Pages for applicants: the offices, and the manage link (the booking pages, with the
helpers below: booking_views.py).

No account: the manage link (reference + secret token) is the applicant's key. Every page
works without JavaScript; only the anti-bot proof of work on the booking form uses it.
"""

from datetime import date, timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from core import clients
from core.errors import NotFound
from core.models import Office

from . import documents, selectors, services, validation, waiting_room, waiting_views
from .errors import (
    AlreadyBooked,
    BookingClosed,
    HoldExpired,
    NoChannelLeft,
    NotChangeable,
    SlotFull,
    SlotInPast,
    TooManyMoves,
    WrongCode,
)
from .forms import ConfirmForm, NotificationsForm
from .models import Appointment, Slot

BOOKING_HORIZON_DAYS = 60


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    groups = selectors.office_groups(selectors.offices_now())
    return render(request, "appointments/home.html", {"groups": groups})


def office_or_404(code: str) -> Office:
    return get_object_or_404(Office, code=code, active=True)


def too_many(request: HttpRequest) -> HttpResponse:
    return render(request, "appointments/too_many.html", status=429)


def availability_limited(request: HttpRequest) -> bool:
    from django.conf import settings

    return clients.rate_limited(request, group="availability", rate=settings.AVAILABILITY_RATE)


def office_context(office: Office) -> dict:
    now = timezone.now()
    local_now = now.astimezone(office.timezone)
    suspension = selectors.suspension_at(office=office, at=now)
    return {
        "office": office,
        "local_now": local_now,
        "offset_label": selectors.utc_offset_label(local_now),
        "suspension": suspension,
        "today": local_now.date(),
        "what_to_bring": documents.WHAT_TO_BRING,
    }


def free_days(office: Office, today: date) -> list[selectors.FreeDay]:
    return selectors.free_days(
        office=office, date_from=today, date_to=today + timedelta(days=BOOKING_HORIZON_DAYS)
    )


def parse_day_or_404(value: str) -> date:
    day = validation.parse_day(value)
    if day is None:
        raise Http404("bad date")
    return day


# The manage link -------------------------------------------------------------------------


def _appointment(reference: str, token: str) -> Appointment:
    try:
        return services.booking_for_token(reference=reference, token=token)
    except NotFound:
        raise Http404("unknown booking") from None


def _manage_context(appointment: Appointment, token: str) -> dict:
    context = office_context(appointment.office)
    slot = appointment.slot
    pending = appointment.status == Appointment.Status.PENDING
    context.update(
        {
            "appointment": appointment,
            "token": token,
            "slot": slot,
            "manage_url": documents.manage_url(appointment, token),
            "changeable": services.booking_changeable(appointment=appointment, now=timezone.now()),
            "hold_until": documents.local_datetime_label(
                appointment.hold_expires_at, appointment.office.timezone
            )
            if pending
            else "",
        }
    )
    return context


@require_safe
def manage(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    appointment = _appointment(reference, token)
    response = render(request, "appointments/manage.html", _manage_context(appointment, token))
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def manage_notifications(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    """Turn the messages by email or by SMS on or off; one at least stays on. A page of its
    own: the manage page sends no Referer at all, and a form posted from such a page carries
    `Origin: null`, which the CSRF check rightly refuses."""
    appointment = _appointment(reference, token)
    form = NotificationsForm(
        request.POST if request.method == "POST" else None, appointment=appointment
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.booking_notifications_set(
                appointment=appointment,
                email=form.cleaned_data["notify_email"],
                sms=form.cleaned_data["notify_sms"],
            )
        except NoChannelLeft as error:
            form.add_error(None, error.detail)
        else:
            messages.success(request, _("Vos choix de messages sont enregistrés."))
            return redirect("appointments:manage", reference=reference, token=token)
    context = {**_manage_context(appointment, token), "notifications_form": form}
    status = 400 if form.errors else 200
    response = render(request, "appointments/messages.html", context, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def manage_confirm(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    """The code sent to the applicant (contact verification) turns the pending booking into
    a booked one; anything but a pending booking goes to its manage page."""
    from django.conf import settings

    appointment = _appointment(reference, token)
    if appointment.status != Appointment.Status.PENDING:
        return redirect("appointments:manage", reference=reference, token=token)
    form = ConfirmForm(request.POST or None)
    if request.method == "POST":
        if clients.rate_limited(request, group="booking", rate=settings.BOOKING_RATE):
            return too_many(request)
        if form.is_valid():
            try:
                services.booking_confirm(
                    appointment=appointment, code=form.cleaned_data["code"], token=token
                )
            except WrongCode as error:
                if error.extra["attempts_left"] > 0:
                    form.add_error("code", error.detail)
                else:
                    messages.error(request, error.detail)
                    return redirect("appointments:manage", reference=reference, token=token)
            except (HoldExpired, AlreadyBooked, BookingClosed, SlotInPast) as error:
                messages.error(request, error.detail)
                return redirect("appointments:manage", reference=reference, token=token)
            else:
                messages.success(request, _("Votre rendez-vous est confirmé."))
                return redirect("appointments:manage", reference=reference, token=token)
    context = {**_manage_context(appointment, token), "form": form}
    status = 200 if request.method == "GET" or not form.errors else 400
    response = render(request, "appointments/confirm.html", context, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


def _document_gone(request: HttpRequest, appointment, token: str) -> HttpResponse:
    """410 `expired` for the convocation and the calendar entry of a booking that no longer
    holds a seat (a hold never confirmed, a cancelled or displaced appointment): the
    document would send its holder to a seat that is not theirs."""
    context = {"appointment": appointment, "token": token}
    return render(request, "appointments/document_gone.html", context, status=410)


@require_safe
def manage_ics(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    appointment = _appointment(reference, token)
    if appointment.status not in Appointment.SEAT_HOLDING:
        return _document_gone(request, appointment, token)
    response = HttpResponse(documents.appointment_ics(appointment), content_type="text/calendar")
    response["Content-Disposition"] = f'attachment; filename="{appointment.reference}.ics"'
    return response


@require_safe
def manage_pdf(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    appointment = _appointment(reference, token)
    if appointment.status not in Appointment.SEAT_HOLDING:
        return _document_gone(request, appointment, token)
    pdf = documents.appointment_pdf(
        appointment, manage_url=documents.manage_url(appointment, token)
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="convocation-{appointment.reference}.pdf"'
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def manage_cancel(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    appointment = _appointment(reference, token)
    context = _manage_context(appointment, token)
    if request.method == "POST":
        try:
            services.booking_cancel(appointment=appointment)
        except NotChangeable as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, _("Votre rendez-vous est annulé. La place est libérée."))
        return redirect("appointments:manage", reference=reference, token=token)
    return render(request, "appointments/cancel.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def manage_move(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    appointment = _appointment(reference, token)
    context = _manage_context(appointment, token)
    office = appointment.office
    if request.method == "POST":
        try:
            slot_id = int(request.POST.get("slot", ""))
        except ValueError:
            slot_id = 0
        slot = Slot.objects.select_related("office").filter(pk=slot_id, office=office).first()
        if slot is None:
            messages.error(request, _("Choisissez un horaire dans la liste."))
            return redirect(request.path)
        try:  # around a reopening, a move takes a seat in the line's turn like a booking
            if appointment.status != Appointment.Status.DISPLACED:
                waiting_room.admission_check(request=request, office_id=office.pk)
        except waiting_room.AdmissionRequired as error:
            messages.info(request, error.detail)
            return redirect(waiting_views.waiting_room_url(office, next_url=request.path))
        try:
            services.booking_reschedule(appointment=appointment, slot=slot)
        except (SlotFull, BookingClosed, SlotInPast, NotChangeable, TooManyMoves) as error:
            messages.error(request, error.detail)
            return redirect(request.path)
        messages.success(request, _("Votre rendez-vous est déplacé."))
        return redirect("appointments:manage", reference=reference, token=token)
    if availability_limited(request):
        return too_many(request)
    chosen = request.GET.get("jour")
    if chosen:
        day = parse_day_or_404(chosen)
        context.update(
            {
                "day": day,
                "slots": list(selectors.free_slots(office=office, date_from=day, date_to=day)),
            }
        )
    else:
        context["days"] = free_days(office, context["today"])
    context["move_url"] = reverse(
        "appointments:manage-move", kwargs={"reference": reference, "token": token}
    )
    return render(request, "appointments/move.html", context)
