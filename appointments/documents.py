"""What an applicant takes away from a booking: the calendar file, the printable convocation
(PDF with a QR code of the reference) and the personal manage link.

Everything is rendered in the applicant's language and shows times in the office's own
timezone, with its name.
"""

import re
import unicodedata
from datetime import UTC, datetime, tzinfo
from io import BytesIO
from xml.sax.saxutils import escape  # nosec B406 # escapes text for reportlab, parses nothing

import icalendar
import qrcode
import qrcode.constants
from django.conf import settings
from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import (
    Image,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .models import Appointment
from .selectors import utc_offset_label

# What the applicant must bring to the appointment (shown in pages, emails, calendar file
# and convocation).
WHAT_TO_BRING = [
    gettext_lazy(
        "Votre carte NINA ou, pour un premier passeport, votre acte de naissance (original)"
    ),
    gettext_lazy("Votre ancien passeport, pour un renouvellement"),
    gettext_lazy("Le reçu de paiement des frais du service Premium"),
    gettext_lazy("Cette convocation, imprimée ou sur votre téléphone"),
    gettext_lazy("Pour un mineur : la présence d’un parent muni de sa pièce d’identité"),
]

# The QR code holds the reference and nothing else: staff scan it at check-in.
QR_ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
QR_BOX_SIZE = 10
QR_BORDER = 4

ICS_UID_DOMAIN = "premium-passport"


# Links and labels ------------------------------------------------------------------------


def manage_url(appointment: Appointment, token: str) -> str:
    """The applicant's personal link to see, move or cancel the appointment, in their
    language (French URLs have no prefix, English ones start with /en/)."""
    with translation.override(appointment.language):
        path = reverse(
            "appointments:manage",
            kwargs={"reference": appointment.reference, "token": token},
        )
    return f"{settings.PORTAL_URL}{path}"


def portal_url(language: str) -> str:
    """The portal's home page in this language (to book again)."""
    with translation.override(language):
        path = reverse("appointments:home")
    return f"{settings.PORTAL_URL}{path}"


def tracking_url(language: str) -> str:
    """The public tracking page (/suivi/, in English /en/suivi/), where an applicant
    follows an appointment and then its passport file."""
    with translation.override(language):
        path = reverse("track")
    return f"{settings.PORTAL_URL}{path}"


def zone_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)


def local_datetime_label(moment: datetime, tz: tzinfo) -> str:
    """'lundi 24 novembre 2025 à 08:30 (Africa/Bamako, UTC)', in the active language."""
    local = moment.astimezone(tz)
    when = _("%(date)s à %(time)s") % {
        "date": dateformat.format(local, "l j F Y"),
        "time": dateformat.format(local, "H:i"),
    }
    return f"{when} ({zone_name(tz)}, {utc_offset_label(local)})"


# The name messages carry. Whatever the applicant typed as their name goes out in the
# messages to the contacts typed with it, a code's included: a bot could make it an
# advertisement or a link ("Visit http://evil.example") sent in the ministry's name, at its
# cost. So a message never carries it as typed: only letters, marks, spaces, apostrophes,
# hyphens and dots stay (no scheme, slash, @ or digit), a dot gets a space after it
# ("evil. example", which no mail client or phone makes a link), and it is cut to NAME_CHARS
# with an ellipsis. The SMS carry no name at all.
NAME_CHARS = 40
_NAME_SIGNS = frozenset("'’-.")
_GLUED_DOT = re.compile(r"\.(?=\S)")


def applicant_name(appointment: Appointment, *, limit: int | None = NAME_CHARS) -> str:
    """The applicant's name as emails and the convocation show it: never a link, and cut
    to `limit` characters (None: whole, for the convocation checked at the counter)."""
    typed = unicodedata.normalize("NFC", f"{appointment.given_names} {appointment.surname}")
    kept = "".join(
        char if unicodedata.category(char)[0] in "LM" or char in _NAME_SIGNS else " "
        for char in typed
    )
    name = " ".join(_GLUED_DOT.sub(". ", kept).split())
    if limit is not None and len(name) > limit:
        name = name[: limit - 1].rstrip() + "…"
    return name


def address_lines(appointment: Appointment) -> list[str]:
    return [line.strip() for line in appointment.office.address.splitlines() if line.strip()]


# Calendar file ---------------------------------------------------------------------------


def appointment_ics(appointment: Appointment) -> bytes:
    """An iCalendar file (METHOD:PUBLISH) with the appointment as one event, times in UTC."""
    slot, office = appointment.slot, appointment.office
    with translation.override(appointment.language):
        office_name = office.display_name
        summary = _("Rendez-vous passeport Premium – %(office)s") % {"office": office_name}
        description = "\n".join(
            [
                _("Référence : %(reference)s") % {"reference": appointment.reference},
                _("Date et heure : %(when)s")
                % {"when": local_datetime_label(slot.starts_at, office.timezone)},
                "",
                _("À apporter :"),
                *(f"- {item}" for item in WHAT_TO_BRING),
            ]
        )
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//République du Mali//Passeport Premium//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = icalendar.Event()
    event.add("uid", f"{appointment.reference}@{ICS_UID_DOMAIN}")
    stamp = appointment.updated_at or timezone.now()
    event.add("dtstamp", stamp.astimezone(UTC))
    # A calendar application replaces its copy of the event (same UID) only by a higher
    # SEQUENCE: seconds between creation and last change grow with every change (a move).
    created = appointment.created_at or stamp
    event.add("sequence", max(0, int((stamp - created).total_seconds())))
    event.add("dtstart", slot.starts_at.astimezone(UTC))
    event.add("dtend", slot.ends_at.astimezone(UTC))
    event.add("summary", summary)
    event.add("location", ", ".join([office_name, *address_lines(appointment)]))
    event.add("description", description)
    event.add("status", "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()


# QR code and convocation -----------------------------------------------------------------


def reference_qr(reference: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(
        error_correction=QR_ERROR_CORRECTION, box_size=QR_BOX_SIZE, border=QR_BORDER
    )
    qr.add_data(reference)
    qr.make(fit=True)
    return qr


def reference_qr_png(reference: str) -> bytes:
    """A PNG of the QR code whose content is exactly the reference."""
    buffer = BytesIO()
    reference_qr(reference).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName="Helvetica", fontSize=11, leading=15)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=12),
        "country": ParagraphStyle(
            "country", parent=base, fontSize=10, textColor=colors.HexColor("#555555")
        ),
        "title": ParagraphStyle(
            "title",
            parent=base,
            fontName="Helvetica-Bold",
            fontSize=20,
            leading=24,
            textColor=colors.HexColor("#14532d"),
        ),
        "label": ParagraphStyle(
            "label", parent=base, fontSize=9, textColor=colors.HexColor("#555555")
        ),
        "reference": ParagraphStyle(
            "reference", parent=base, fontName="Helvetica-Bold", fontSize=30, leading=36
        ),
        "strong": ParagraphStyle("strong", parent=base, fontName="Helvetica-Bold"),
        "warning": ParagraphStyle(
            "warning",
            parent=base,
            fontName="Helvetica-Bold",
            textColor=colors.HexColor("#b91c1c"),
        ),
        "centre": ParagraphStyle("centre", parent=base, fontSize=9, alignment=TA_CENTER),
    }


def appointment_pdf(appointment: Appointment, *, manage_url: str | None) -> bytes:
    """A one-page A4 convocation in the applicant's language.

    Built with reportlab's standard fonts (WinAnsi encoding: French accents and ’ included).
    """
    slot, office = appointment.slot, appointment.office
    style = _styles()
    buffer = BytesIO()
    with translation.override(appointment.language):
        title = _("Convocation %(reference)s") % {"reference": appointment.reference}
        # (gettext calls outside f-strings: xgettext does not look inside them)
        country, service = _("République du Mali"), _("Passeport Premium")
        service_line = f"{country} – {service}"
        document = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=2 * cm,
            rightMargin=2 * cm,
            topMargin=1.8 * cm,
            bottomMargin=1.8 * cm,
            title=title,
            author=service_line,
            lang=appointment.language,
        )

        def text(value: object, name: str = "base") -> Paragraph:
            return Paragraph(escape(str(value)), style[name])

        qr = Image(BytesIO(reference_qr_png(appointment.reference)), 4.5 * cm, 4.5 * cm)
        identity = [
            text(_("Référence du rendez-vous"), "label"),
            text(appointment.reference, "reference"),
            Spacer(1, 0.3 * cm),
            text(_("Demandeur"), "label"),
            text(applicant_name(appointment, limit=None), "strong"),
        ]
        width = document.width - 12  # the frame's default padding: 6 points on each side
        header = Table([[identity, qr]], colWidths=[width - 5 * cm, 5 * cm], hAlign="LEFT")
        header.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        story = [
            text(country, "country"),
            text(" – ".join([service, _("Convocation")]), "title"),
            Spacer(1, 0.6 * cm),
            header,
            Spacer(1, 0.5 * cm),
        ]
        if appointment.status not in Appointment.ACTIVE:
            story += [
                text(
                    _("Ce rendez-vous n’est plus valable (%(status)s).")
                    % {"status": appointment.get_status_display()},
                    "warning",
                ),
                Spacer(1, 0.3 * cm),
            ]
        story += [
            text(_("Date et heure"), "label"),
            text(local_datetime_label(slot.starts_at, office.timezone), "strong"),
            Spacer(1, 0.3 * cm),
            text(_("Lieu"), "label"),
            text(office.display_name, "strong"),
            *(text(line) for line in address_lines(appointment)),
            Spacer(1, 0.5 * cm),
            text(_("À apporter :"), "strong"),
            ListFlowable(
                [ListItem(text(item), leftIndent=12) for item in WHAT_TO_BRING],
                bulletType="bullet",
                start="•",
                leftIndent=12,
            ),
            Spacer(1, 0.5 * cm),
            text(
                _(
                    "Présentez-vous à l’heure indiquée. Le QR code ci-dessus contient votre "
                    "référence : il sera lu à l’accueil."
                )
            ),
        ]
        if manage_url:
            story += [
                Spacer(1, 0.4 * cm),
                text(_("Pour déplacer ou annuler votre rendez-vous :"), "small"),
                text(manage_url, "small"),
            ]
        story += [
            Spacer(1, 0.8 * cm),
            text(service_line, "centre"),
        ]
        document.build(story)
    return buffer.getvalue()
