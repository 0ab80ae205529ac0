"""The booking pages, in few steps and without JavaScript: the office's month of free days,
then a day's page with its free times as radio buttons inside the booking form (pick a time
and fill the form on one page), the code page, the manage page. From `/`: the office (a
link), the day (a link), the form (a post), the code (a post): four navigations.

The form needs a proof of work (the browser's, protection.py) or else a pacing token (the
server's, pacing.py); the page always carries the latter, so a browser without JavaScript
books like any other. The former booking page of one slot (creneau/<id>/) stays, with the
same form: links in the wild, the next free times offered when a slot is full and the
waiting room lead there.
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from core import clients

from . import errors, month, pacing, protection, selectors, services, waiting_room, waiting_views
from .forms import CHECK_FAILED, BookingForm, DayBookingForm
from .models import Appointment, Slot
from .views import (
    BOOKING_HORIZON_DAYS,
    availability_limited,
    office_context,
    office_or_404,
    parse_day_or_404,
    too_many,
)


@require_safe
def office_detail(request: HttpRequest, code: str) -> HttpResponse:
    if availability_limited(request):
        return too_many(request)
    office = office_or_404(code)
    context = office_context(office)
    context["month"] = month.month_grid(
        office=office,
        today=context["today"],
        horizon_days=BOOKING_HORIZON_DAYS,
        asked=month.parse_month(request.GET.get(month.MONTH_PARAMETER)),
    )
    context["weekdays"] = month.weekdays()
    context["waiting_room"] = waiting_room.window_at(office_id=office.pk, now=timezone.now())
    return render(request, "appointments/office.html", context)


def _admission(request: HttpRequest, office) -> int | HttpResponse | None:
    """The admission's ticket (None outside a reopening's window), or the way to the waiting
    room, to come back to this page once admitted."""
    try:
        return waiting_room.admission_check(request=request, office_id=office.pk)
    except waiting_room.AdmissionRequired as error:
        messages.info(request, error.detail)
        return redirect(waiting_views.waiting_room_url(office, next_url=request.path))


@require_http_methods(["GET", "HEAD", "POST"])
def office_day(request: HttpRequest, code: str, day: str) -> HttpResponse:
    office = office_or_404(code)
    chosen = parse_day_or_404(day)
    if request.method != "POST" and availability_limited(request):
        return too_many(request)
    ticket = _admission(request, office)
    if isinstance(ticket, HttpResponse):
        return ticket
    context = office_context(office)
    form = DayBookingForm(request.POST or None, office=office, day=chosen)
    if request.method == "POST":
        if clients.rate_limited(request, group="booking", rate=settings.BOOKING_RATE):
            return too_many(request)
        if form.is_valid():
            booked = _book(request, form=form, slot=form.cleaned_data["slot"], ticket=ticket)
            if isinstance(booked, HttpResponse):
                return booked
            context.update(booked)
    slots = list(selectors.free_slots(office=office, date_from=chosen, date_to=chosen))
    context.update({"day": chosen, "slots": slots, "chosen_slot": form["slot"].value()})
    return _form_page(request, "appointments/day.html", context, form)


@require_http_methods(["GET", "HEAD", "POST"])
def book(request: HttpRequest, code: str, slot_id: int) -> HttpResponse:
    office = office_or_404(code)
    ticket = _admission(request, office)
    if isinstance(ticket, HttpResponse):
        return ticket
    slot = get_object_or_404(Slot.objects.select_related("office"), pk=slot_id, office=office)
    context = office_context(office)
    context["slot"] = slot
    form = BookingForm(request.POST or None, office=office)
    if request.method == "POST":
        if clients.rate_limited(request, group="booking", rate=settings.BOOKING_RATE):
            return too_many(request)
        if form.is_valid():
            booked = _book(request, form=form, slot=slot, ticket=ticket)
            if isinstance(booked, HttpResponse):
                return booked
            context.update(booked)
    return _form_page(request, "appointments/book.html", context, form)


def _proof(request: HttpRequest, form: BookingForm) -> protection.Solved | None:
    """What vouches for this booking: the browser's proof of work when it holds, else the
    page's pacing token (a lapsed or failed proof of work falls back on it too)."""
    if not settings.BOOKING_CHALLENGE:
        return None
    data = form.cleaned_data
    if data["altcha"]:
        try:
            return protection.challenge_check(data["altcha"])
        except protection.ChallengeFailed:
            if not data["pace"]:
                raise
    return pacing.pace_check(data["pace"], network=clients.hold_network(request))


def _book(request: HttpRequest, *, form: BookingForm, slot: Slot, ticket) -> HttpResponse | dict:
    """Book `slot` for the valid form: the way to the code page (or the manage page), or
    what the page shows besides the refusal, which is put on the form."""
    shown: dict = {"next_free": []}
    on_slot = "slot" if "slot" in form.fields else None
    try:
        full = services.slot_known_full(slot_id=slot.pk)  # refused before it costs
        if full is not None:
            raise full
        appointment, token = services.booking_create(
            slot=slot,
            applicant=form.applicant(),
            network=clients.hold_network(request),
            admission_ticket=ticket,
            challenge=_proof(request, form),
        )
    except protection.ChallengeFailed:
        form.add_error("altcha", CHECK_FAILED)
        shown["fresh_pace"] = True  # the token may be the one used: a new one
    except pacing.PaceTooEarly as error:
        form.add_error(None, error.detail)
    except errors.AlreadyBooked as error:
        form.add_error("national_id", error.detail)
    except errors.SlotFull as error:
        form.add_error(on_slot, error.detail)
        shown["next_free"] = error.extra.get("next_free", [])
    except (errors.BookingClosed, errors.SlotInPast, errors.AdmissionUsed) as error:
        form.add_error(on_slot, error.detail)
    except (errors.TooManyHolds, errors.TooManyCodeFailures) as error:
        form.add_error(None, error.detail)
        shown["retry_after"] = error.extra["retry_after"]
    else:
        if appointment.status == Appointment.Status.PENDING:  # contact verification
            return redirect(
                "appointments:manage-confirm", reference=appointment.reference, token=token
            )
        messages.success(request, _("Votre rendez-vous est réservé."))
        return redirect("appointments:manage", reference=appointment.reference, token=token)
    return shown


def _form_page(request: HttpRequest, template: str, context: dict, form) -> HttpResponse:
    """The page of a booking form, with its pacing token: the one posted, sent again while
    it holds (a person who was refused keeps their wait), else a new one."""
    network = clients.hold_network(request)
    posted = form.data.get("pace", "") if form.is_bound else ""
    if posted and not context.get("fresh_pace") and pacing.pace_reusable(posted, network=network):
        context["pace"] = posted
    else:
        context["pace"] = pacing.pace_issue(request)
    context.update(
        {
            "form": form,
            "challenge_on": settings.BOOKING_CHALLENGE,
            "challenge_seconds": int(protection.CHALLENGE_TTL.total_seconds()),
        }
    )
    context.setdefault("next_free", [])
    status = 200 if request.method != "POST" or not form.errors else 400
    if "retry_after" in context:
        status = 429  # a bound on holds: the same answer as the API's, and when to come back
    response = render(request, template, context, status=status)
    if "retry_after" in context:
        response["Retry-After"] = str(context["retry_after"])
    return response
