"""Everything the portal keeps about one pupil, for a parent's request for access (AVG art. 15).

Secrets are never part of it: of a PIN or picture password only whether one is set; of codes,
tokens and passwords nothing at all. Staff members who did something are not named (their
data is not the parent's), only that it was the school.
"""

from __future__ import annotations

from django.utils import timezone

from accounts.models import ParentLink
from audit.models import AuditEvent
from launcher.models import LaunchEvent, Licence, products_for
from schools.models import ImportLog, Pupil
from sso.models import AccessToken, AuthorizationCode, LaunchTicket, Pseudonym


def pupil_data(pupil: Pupil) -> dict:
    return {
        "export_gemaakt_op": timezone.now(),
        "leerling": {
            "code": pupil.code,
            "roepnaam": pupil.first_name,
            "tussenvoegsel": pupil.infix,
            "achternaam": pupil.last_name,
            "eigen_jaargroep": pupil.year_level,
            "sleutel_administratie": pupil.external_key,
            "eck_id": pupil.eck_id,
            "foto": pupil.avatar.name or None,
            "vertrokken_op": pupil.left_on,
            "als_vertrokken_gemarkeerd_op": pupil.left_marked_on,
            "aangemaakt_op": pupil.created_at,
            "gewijzigd_op": pupil.updated_at,
        },
        "school": {
            "naam": pupil.school.name,
            "brin": pupil.school.brin,
            "vestigingscode": pupil.school.location_code,
        },
        "groep": {"naam": pupil.group.name, "jaargroep": pupil.group.get_year_level_display()},
        "ouders": _parents(pupil),
        "thuis_inloggen": _home_login(pupil),
        "licenties": [
            {
                "product": licence.product.name,
                "uitgever": licence.product.publisher.name,
                "geldig_vanaf": licence.valid_from,
                "geldig_tot_en_met": licence.valid_until,
                "voor": licence.get_scope_display(),
            }
            for licence in Licence.objects.covering(pupil)
            .select_related("product__publisher")
            .distinct()
            .order_by("product__name", "valid_from")
        ],
        "zichtbare_software": [
            {"product": product.name, "uitgever": product.publisher.name}
            for product in products_for(pupil)
        ],
        "starts": [
            {"product": launch.product.name, "gestart_op": launch.launched_at}
            for launch in LaunchEvent.objects.filter(pupil=pupil).select_related("product")
        ],
        "schuilnamen_bij_uitgevers": [
            {"uitgever": pseudonym.publisher.name, "sub": pseudonym.sub}
            for pseudonym in Pseudonym.objects.filter(pupil=pupil).select_related("publisher")
        ],
        "inlogcodes_voor_uitgevers": [
            {
                "koppeling": str(code.client),
                "aangemaakt_op": code.created_at,
                "gebruikt_op": code.used_at,
            }
            for code in AuthorizationCode.objects.filter(pupil=pupil)
            .select_related("client__publisher")
            .order_by("-created_at")
        ],
        "toegangstokens": [
            {
                "koppeling": str(token.client),
                "uitgegeven_op": token.issued_at,
                "verloopt_op": token.expires_at,
            }
            for token in AccessToken.objects.filter(pupil=pupil)
            .select_related("client__publisher")
            .order_by("-issued_at")
        ],
        "starttickets": [
            {
                "product": ticket.product.name,
                "verloopt_op": ticket.expires_at,
                "gebruikt_op": ticket.spent_at,
            }
            for ticket in LaunchTicket.objects.filter(pupil=pupil)
            .select_related("product")
            .order_by("-expires_at")
        ],
        "logboek": [
            {
                "gebeurtenis": event.get_kind_display(),
                "tijdstip": event.at,
                "account": event.user.email if event.user else None,
                "door_de_school": event.actor_id is not None,
                "product": event.product.name if event.product else None,
            }
            for event in AuditEvent.objects.filter(pupil=pupil).select_related("user", "product")
        ],
        "importen": _imports(pupil),
    }


def _parents(pupil: Pupil) -> list[dict]:
    links = ParentLink.objects.filter(pupil=pupil).select_related("user", "message")
    return [
        {
            "e_mailadres": link.user.email,
            "volgnummer": link.slot,
            "toegevoegd_op": link.created_at,
            "account_actief": link.user.is_active,
            "wachtwoord_gekozen": link.user.has_usable_password(),
            "laatst_thuis_ingelogd": link.user.last_home_login,
            "laatste_bericht": (
                {"status": link.message.get_status_display(), "aangemaakt_op": link.message.created}
                if link.message
                else None
            ),
        }
        for link in links
    ]


def _home_login(pupil: Pupil) -> dict:
    return {
        "aan": pupil.home_login_enabled,
        "school_staat_het_toe": pupil.school.home_login_available,
        "nu_mogelijk": Pupil.objects.home_login_possible().filter(pk=pupil.pk).exists(),
        "inlogmethode": pupil.get_login_method_display(),
        "pincode_ingesteld": pupil.has_pin,
        "plaatjeswachtwoord_ingesteld": pupil.has_picture_password,
        "mislukte_pogingen_op_rij": pupil.failed_attempts,
        "laatste_mislukte_poging": pupil.last_failed_at,
        "geblokkeerd_sinds": pupil.locked_at,
    }


def _imports(pupil: Pupil) -> list[dict]:
    """Imports of the school whose report or (unconfirmed) file names the pupil's keys."""
    keys = [key for key in (pupil.external_key, pupil.eck_id) if key]
    if not keys:
        return []
    found = []
    for log in ImportLog.objects.filter(school=pupil.school_id).order_by("-started_at"):
        where = []
        if any(key in log.message for key in keys):
            where.append("verslag")
        if any(key in warning for warning in log.warnings for key in keys):
            where.append("waarschuwingen")
        if log.upload is not None and any(key.encode() in bytes(log.upload) for key in keys):
            where.append("bestand van een voorvertoning")
        if where:
            found.append(
                {
                    "bestand": log.file_name,
                    "soort": log.get_kind_display(),
                    "ingelezen_op": log.started_at,
                    "alleen_bekeken": log.dry_run,
                    "de_leerling_staat_in": where,
                }
            )
    return found
