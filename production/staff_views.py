"""The staff workspace at /staff/: pages for agents, supervisors, operators and the
ministry's administrators (not the Django admin). Every read goes through the scoping
selectors; another office's appointment or file answers 404. Writes call the services."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from appointments import services as appointment_services
from appointments.errors import NotChangeable
from appointments.models import Appointment, Membership, Office
from appointments.validation import clean_reference
from epassport.errors import DomainError, NotFound

from . import selectors, services, transitions
from .models import FileStatus

PAGE_SIZE = 50


def _counter_offices(user) -> list[Office]:
    """The offices whose counter this member of staff works at (all, for an administrator)."""
    memberships = Membership.objects.filter(user=user)
    if memberships.filter(role=Membership.Role.ADMIN).exists():
        return list(Office.objects.filter(active=True).order_by("kind", "city"))
    return list(
        Office.objects.filter(
            memberships__user=user,
            memberships__role__in=[Membership.Role.AGENT, Membership.Role.SUPERVISOR],
        )
        .distinct()
        .order_by("kind", "city")
    )


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    offices = _counter_offices(request.user)
    if offices:
        return redirect("staff:agenda", code=offices[0].code)
    return redirect("staff:files")


@login_required
@require_GET
def agenda(request: HttpRequest, code: str) -> HttpResponse:
    offices = _counter_offices(request.user)
    office = next((o for o in offices if o.code == code), None)
    if office is None:
        raise Http404("not an office of yours")
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.now().astimezone(office.timezone).date()
    appointments = list(selectors.agenda(office=office, day=day))
    return render(
        request,
        "staff/agenda.html",
        {"office": office, "offices": offices, "day": day, "appointments": appointments},
    )


@login_required
@require_POST
def appointment_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    try:
        reference = clean_reference(reference)
    except Exception:  # a malformed reference is simply not found
        raise Http404("bad reference") from None
    appointment = get_object_or_404(Appointment, reference=reference)
    try:
        if action == "check-in":
            appointment_services.appointment_check_in(appointment=appointment, by=request.user)
            messages.success(request, _("%(ref)s : présent.") % {"ref": reference})
        elif action == "no-show":
            appointment_services.appointment_no_show(appointment=appointment, by=request.user)
            messages.success(request, _("%(ref)s : absent.") % {"ref": reference})
        elif action == "enrol":
            file, _created = services.file_enrol(appointment=appointment, by=request.user)
            messages.success(request, _("Dossier %(file)s créé.") % {"file": file.reference})
            return redirect("staff:file", reference=file.reference)
        else:
            raise Http404("unknown action")
    except NotFound:
        raise Http404("not an appointment of yours") from None
    except NotChangeable as error:
        messages.error(request, error.detail)
    return redirect(request.POST.get("next") or "staff:home")


@login_required
@require_GET
def find(request: HttpRequest) -> HttpResponse:
    """Check-in desk: a reference typed or the text of the convocation's QR code."""
    query = request.GET.get("q", "")
    try:
        reference = clean_reference(query)
    except Exception:
        messages.error(request, _("Référence inconnue."))
        return redirect("staff:home")
    appointment = (
        Appointment.objects.filter(reference=reference).select_related("office", "slot").first()
    )
    if appointment is None or not appointment_services.staff_may_work_at(
        user=request.user, office_id=appointment.office_id
    ):
        messages.error(request, _("Référence inconnue."))
        return redirect("staff:home")
    return render(request, "staff/appointment.html", {"appointment": appointment})


@login_required
@require_GET
def files(request: HttpRequest) -> HttpResponse:
    query = selectors.files_visible_to(user=request.user).select_related(
        "office", "centre__office"
    )
    status = request.GET.get("status", "")
    if status in FileStatus.values:
        query = query.filter(status=status)
    text = request.GET.get("q", "").strip()
    if text:
        query = query.filter(
            Q(reference__icontains=text)
            | Q(surname__icontains=text)
            | Q(given_names__icontains=text)
        )
    page = Paginator(query.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "staff/files.html",
        {"page": page, "statuses": FileStatus.choices, "status": status, "q": text},
    )


@login_required
def file_detail(request: HttpRequest, reference: str) -> HttpResponse:
    file = (
        selectors.files_visible_to(user=request.user)
        .select_related("office", "centre__office")
        .filter(reference=reference)
        .first()
    )
    if file is None:
        raise Http404("not a file of yours")
    if request.method == "POST":
        try:
            services.file_transition(
                file=file,
                to=request.POST.get("to", ""),
                expected=request.POST.get("expected", ""),
                by=request.user,
                note=request.POST.get("note", ""),
            )
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, _("Statut mis à jour."))
        return redirect("staff:file", reference=reference)
    roles = selectors.roles_for_file(user=request.user, file=file)
    moves = [
        (to, FileStatus(to).label)
        for to in transitions.next_statuses(file.status)
        if roles & transitions.TRANSITIONS[(file.status, to)]
        and transitions.route_allows(
            start=file.status, to=to, enrolled_at_mission=file.office.kind == Office.Kind.MISSION
        )
    ]
    events = file.events.select_related("by").order_by("at", "pk")
    return render(request, "staff/file.html", {"file": file, "events": events, "moves": moves})
