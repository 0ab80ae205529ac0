"""The staff workspace at /staff/: pages for agents, supervisors, operators and the
ministry's administrators (not the Django admin). Every read goes through the scoping
selectors; another office's appointment or file answers 404. Writes call the services."""

import csv
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from appointments import services as appointment_services
from appointments import validation
from appointments.audit import record_appointment_views
from appointments.errors import NotChangeable
from appointments.models import Appointment, AppointmentView
from appointments.validation import clean_reference
from core import access
from core.errors import DomainError, NotFound
from core.models import Office
from core.staff_login import same_site_url

from . import audit, charts, dashboard, selectors, services, transitions
from .api.serializers import FileExportSerializer
from .models import FileStatus, FileView

PAGE_SIZE = 50


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    office = access.counter_offices(access.staff_scope(request.user)).first()
    if office is not None:
        return redirect("staff:agenda", code=office.code)
    return redirect("staff:files")


@login_required
@require_safe
def agenda(request: HttpRequest, code: str) -> HttpResponse:
    scope = access.staff_scope(request.user)
    office = access.counter_office(scope, code=code)
    if office is None:
        raise Http404("not an office of yours")
    day = validation.parse_day(request.GET.get("date"))
    if day is None:
        day = timezone.now().astimezone(office.timezone).date()
    appointments = list(selectors.agenda(office=office, day=day))
    record_appointment_views(
        user=request.user, appointments=appointments, via=AppointmentView.Via.AGENDA
    )
    context = {
        "office": office,
        "offices": list(access.counter_offices(scope)),
        "day": day,
        "appointments": appointments,
    }
    return render(request, "staff/agenda.html", context)


@login_required
@require_POST
def appointment_action(request: HttpRequest, reference: str, action: str) -> HttpResponse:
    reference = clean_reference(reference)
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
    return redirect(same_site_url(request, request.POST.get("next")) or "staff:home")


@login_required
@require_safe
def find(request: HttpRequest) -> HttpResponse:
    """Check-in desk: a reference typed or the text of the convocation's QR code."""
    query = request.GET.get("q", "")
    appointment = (
        Appointment.objects.filter(reference=clean_reference(query))
        .select_related("office", "slot")
        .first()
    )
    if appointment is None or not access.staff_scope(request.user).works_at_counter(
        appointment.office_id
    ):
        messages.error(request, _("Référence inconnue."))
        return redirect("staff:home")
    record_appointment_views(
        user=request.user, appointments=[appointment], via=AppointmentView.Via.COUNTER
    )
    return render(request, "staff/appointment.html", {"appointment": appointment})


def _filtered_files(request: HttpRequest):
    status = request.GET.get("status", "")
    status = status if status in FileStatus.values else ""
    # The day the file was opened (enrolment); a malformed date filters nothing.
    opened_on = validation.parse_day(request.GET.get("date"))
    text = request.GET.get("q", "").strip()
    files = selectors.files_search(
        user=request.user, status=status, opened_on=opened_on, text=text
    )
    return files, status, text


@login_required
@require_http_methods(["GET", "POST"])
def files(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        _bulk_transition(request)
        return redirect(request.get_full_path())
    query, status, text = _filtered_files(request)
    page = Paginator(query, PAGE_SIZE).get_page(request.GET.get("page"))
    audit.record_views(user=request.user, files=page.object_list, via=FileView.Via.LIST)
    return render(
        request,
        "staff/files.html",
        {
            "page": page,
            "statuses": FileStatus.choices,
            "status": status,
            "q": text,
            "may_export": access.staff_scope(request.user).is_supervisor,
        },
    )


def _bulk_transition(request: HttpRequest) -> None:
    """Move the ticked files (a pouch arrived, a batch left QC...), each on its own from the
    status it has now; one message sums up the results."""
    try:
        results = services.files_bulk_transition(
            by=request.user,
            references=request.POST.getlist("files"),
            to=request.POST.get("to", ""),
            note=request.POST.get("note", ""),
        )
    except services.TooManyFiles as error:
        messages.error(request, error.detail)
        return
    done = sum(1 for result in results if result["ok"])
    refused = [
        "{} ({})".format(
            result["file"], _("introuvable") if result["code"] == "not_found" else result["detail"]
        )
        for result in results
        if not result["ok"]
    ]
    if done:
        messages.success(request, _("%(n)d dossier(s) mis à jour.") % {"n": done})
    if refused:
        messages.error(request, _("Refusés : %(list)s") % {"list": "; ".join(refused)})


@login_required
@require_safe
def files_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as CSV, for supervisors and administrators."""
    if not access.staff_scope(request.user).is_supervisor:
        raise PermissionDenied
    query, _status, _text = _filtered_files(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="dossiers.csv"'
    response.write("\ufeff")  # so that spreadsheet programs read the accents right
    writer = csv.writer(response)
    columns = FileExportSerializer.Meta.fields
    writer.writerow(columns)
    seen = []
    for file in query.iterator(chunk_size=2000):
        row = FileExportSerializer(file).data
        writer.writerow([csv_cell(row[column]) for column in columns])
        seen.append(file.pk)
    audit.record_views(user=request.user, files=seen, via=FileView.Via.EXPORT)
    return response


# A cell starting with one of these is a formula to a spreadsheet program (CSV injection): a
# name typed "=HYPERLINK(...)" at the counter must reach the supervisor's sheet as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """The value as a CSV cell a spreadsheet reads as text: a leading formula character is
    neutralised with a quote, as OWASP advises."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@login_required
def file_detail(request: HttpRequest, reference: str) -> HttpResponse:
    file = selectors.file_with_events(user=request.user, reference=reference)
    if file is not None:
        audit.record_views(user=request.user, files=[file], via=FileView.Via.PAGE)
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
        (to, FileStatus(to).label) for to in transitions.allowed_moves(file=file, roles=roles)
    ]
    return render(
        request, "staff/file.html", {"file": file, "events": file.events.all(), "moves": moves}
    )


@login_required
@require_safe
def backlog(request: HttpRequest) -> HttpResponse:
    """The backlog dashboard of the offices a supervisor supervises (every office for an
    administrator); 403 for anyone else. The figures are production.dashboard's, as in the
    API; this page only draws them."""
    scope = access.staff_scope(request.user)
    if not dashboard.may_see_backlog(scope):
        raise PermissionDenied
    now = timezone.now()
    panels = [
        _backlog_panel(row, now=now) for row in dashboard.backlog_figures(scope=scope, now=now)
    ]
    groups = [
        {
            "key": "centres",
            "title": _("Centres de production"),
            "panels": [p for p in panels if p["row"].office.kind == Office.Kind.CENTRE],
        },
        {
            "key": "missions",
            "title": _("Ambassades et consulats"),
            "panels": [p for p in panels if p["row"].office.kind == Office.Kind.MISSION],
        },
    ]
    context = {
        "panels": panels,
        "groups": [group for group in groups if group["panels"]],
        "days": dashboard.DAYS,
        "rate_days": dashboard.RATE_DAYS,
        "waiting_lines": dashboard.waiting_lines(scope=scope, now=now),
        "can_change_rate": scope.is_admin,
        # The office whose figures the summary's link asked for: its panel comes open (the
        # panels are closed otherwise, so that the clearing dates fit a phone's screen).
        "open_office": request.GET.get("bureau", ""),
    }
    return render(request, "staff/backlog.html", context)


def _backlog_panel(row: dashboard.OfficeBacklog, *, now) -> dict:
    """An office's figures with their labels and its two charts."""
    office, tz = row.office, row.office.timezone
    start = now - timedelta(days=dashboard.DAYS)
    history = [(point.at, point.backlog) for point in row.history]
    first, last = row.dispatched_per_day[0].day, row.dispatched_per_day[-1].day
    dispatched = [(day.day, day.count) for day in row.dispatched_per_day]
    return {
        "row": row,
        "statuses": [(FileStatus(status).label, n) for status, n in row.by_status.items()],
        "history_chart": charts.line_chart(
            history,
            start=start.astimezone(tz),
            end=now.astimezone(tz),
            title=_("Dossiers en attente, relevé chaque heure : %(office)s")
            % {"office": office.display_name},
            description=_backlog_description(history),
        ),
        "dispatch_chart": charts.bar_chart(
            dispatched,
            title=_("Dossiers pris en production par jour : %(office)s")
            % {"office": office.display_name},
            description=_(
                "Du %(first)s au %(last)s : %(total)d dossier(s) en tout, au plus %(max)d en "
                "un jour."
            )
            % {
                "first": date_format(first, "j F"),
                "last": date_format(last, "j F"),
                "total": sum(count for _day, count in dispatched),
                "max": max(count for _day, count in dispatched),
            },
            bar_label=_("%(day)s : %(count)d dossier(s)"),
        ),
    }


def _backlog_description(history: list) -> str:
    if not history:
        return _("Aucun relevé pour le moment.")
    values = [backlog for _at, backlog in history]
    return _(
        "%(n)d relevé(s) : %(first)d dossier(s) en attente au premier, %(last)d au dernier, "
        "au plus %(max)d."
    ) % {"n": len(values), "first": values[0], "last": values[-1], "max": max(values)}
