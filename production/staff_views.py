"""The staff workspace at /staff/: pages for agents, supervisors, operators and the
ministry's administrators (not the Django admin). Every read goes through the scoping
selectors; another office's appointment or file answers 404. Writes call the services."""

import contextlib
import csv
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

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


def _filtered_files(request: HttpRequest):
    query = selectors.files_visible_to(user=request.user).select_related(
        "office", "centre__office"
    )
    status = request.GET.get("status", "")
    if status in FileStatus.values:
        query = query.filter(status=status)
    with contextlib.suppress(ValueError):  # the day the file was opened (enrolment)
        query = query.filter(created_at__date=date.fromisoformat(request.GET.get("date", "")))
    text = request.GET.get("q", "").strip()
    if text:
        query = query.filter(
            Q(reference__icontains=text)
            | Q(surname__icontains=text)
            | Q(given_names__icontains=text)
        )
    return query.order_by("-created_at", "-pk"), status, text


@login_required
@require_http_methods(["GET", "POST"])
def files(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        _bulk_transition(request)
        return redirect(request.get_full_path())
    query, status, text = _filtered_files(request)
    page = Paginator(query, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/files.html",
        {
            "page": page,
            "statuses": FileStatus.choices,
            "status": status,
            "q": text,
            "may_export": _is_supervisor(request.user),
        },
    )


def _bulk_transition(request: HttpRequest) -> None:
    """Move the ticked files (a pouch arrived, a batch left QC...), each in its own
    transaction from the status shown on the page; one message sums up the results."""
    references = request.POST.getlist("files")[:500]
    seen = dict(
        selectors.files_visible_to(user=request.user)
        .filter(reference__in=references)
        .values_list("reference", "status")
    )
    done, refused = 0, []
    not_found = _("introuvable")
    for reference in references:
        if reference not in seen:
            refused.append(f"{reference} ({not_found})")
            continue
        try:
            services.file_transition(
                file=selectors.files_visible_to(user=request.user).get(reference=reference),
                to=request.POST.get("to", ""),
                expected=seen[reference],
                by=request.user,
                note=request.POST.get("note", ""),
            )
            done += 1
        except DomainError as error:
            refused.append(f"{reference} ({error.detail})")
    if done:
        messages.success(request, _("%(n)d dossier(s) mis à jour.") % {"n": done})
    if refused:
        messages.error(request, _("Refusés : %(list)s") % {"list": "; ".join(refused)})


def _is_supervisor(user) -> bool:
    return Membership.objects.filter(
        user=user, role__in=[Membership.Role.SUPERVISOR, Membership.Role.ADMIN]
    ).exists()


@login_required
@require_GET
def files_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV, for supervisors and administrators."""
    if not _is_supervisor(request.user):
        raise PermissionDenied
    query, _status, _text = _filtered_files(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="dossiers.csv"'
    response.write("\ufeff")  # so that spreadsheet programs read the accents right
    writer = csv.writer(response)
    writer.writerow(
        [
            "reference",
            "status",
            "office",
            "centre",
            "surname",
            "given_names",
            "national_id",
            "due_date",
            "created_at",
        ]
    )
    for file in query.iterator(chunk_size=2000):
        writer.writerow(
            [
                file.reference,
                file.status,
                file.office.code,
                file.centre.office.code,
                file.surname,
                file.given_names,
                file.national_id,
                file.due_date.isoformat(),
                file.created_at.isoformat(),
            ]
        )
    return response


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
