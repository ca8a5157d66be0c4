"""The staff's forms for member events, turned into the events `cae ingest` takes (docs/events.md).

A form is only a way of writing an event: its fields become the event's JSON,
which goes through the same validators and the same `process` as a line of a
file (or to Kafka, when the deployment has it). The form carries an event id
made when it was shown, so sending it twice is a duplicate, not a second
invoice; a form sent again after a correction settles its dead letter.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from web.inputs import form_for_events

LINES = 3  # document lines a form offers; empty ones are left out


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text, date, month, amount, rate, status, bool


@dataclass(frozen=True, slots=True)
class Form:
    type: str
    title: str
    fields: tuple[Field, ...]
    lines: bool = False


_MEMBER = Field("member_id", "Membre (identifiant)")
FORMS = {form.type: form for form in (
    Form("member.joined", "Entrée d'un membre", (_MEMBER, Field("name", "Nom"), Field("joined_on", "Date d'entrée", "date"),
                                                 Field("status", "Statut", "status"))),
    Form("member.status_changed", "Changement de statut", (_MEMBER, Field("on", "À partir du", "date"),
                                                           Field("status", "Statut", "status"))),
    Form("member.became_associate", "Devient associé", (_MEMBER, Field("on", "Associé depuis le", "date"))),
    Form("member.left", "Départ", (_MEMBER, Field("on", "Dernier jour", "date"))),
    Form("invoice.issued", "Facture", (Field("invoice_id", "Numéro de facture"), _MEMBER,
                                       Field("issued_on", "Date", "date"), Field("client", "Client")), lines=True),
    Form("credit_note.issued", "Avoir", (Field("credit_note_id", "Numéro d'avoir"), Field("invoice_id", "Facture"),
                                         _MEMBER, Field("issued_on", "Date", "date")), lines=True),
    Form("payment.received", "Règlement", (Field("payment_id", "Référence du règlement"), Field("invoice_id", "Facture"),
                                           _MEMBER, Field("received_on", "Reçu le", "date"),
                                           Field("amount", "Montant TTC", "amount"),
                                           Field("from_credit", "Pris sur l'avoir du client", "bool"))),
    Form("expense.recorded", "Dépense", (Field("expense_id", "Référence"), _MEMBER, Field("spent_on", "Date", "date"),
                                         Field("supplier", "Fournisseur"), Field("amount_ht", "Montant HT", "amount"),
                                         Field("vat", "TVA", "amount"),
                                         Field("direct_cost", "Coût direct (achat revendu, sous-traitance)", "bool"))),
    Form("salary.set", "Demande de salaire", (_MEMBER, Field("from_month", "À partir du mois", "month"),
                                              Field("gross", "Brut mensuel", "amount"))),
)}


def _line_fields() -> dict[str, str]:
    """The document lines' fields, with their default (a line's VAT rate is 20 % unless said)."""
    return {name: default for n in range(LINES)
            for name, default in ((f"label_{n}", ""), (f"amount_ht_{n}", ""), (f"vat_rate_{n}", "0.20"))}


EventForm = form_for_events("EventForm", FORMS, [*dict.fromkeys(f.name for form in FORMS.values() for f in form.fields),
                                                 *_line_fields()], _line_fields())


def new_event_id() -> str:
    return f"web-{uuid.uuid4().hex}"


def plain_amount(text: str) -> str:
    """`1 234,56` as the events write it: `1234.56` (anything else is left for the validator to refuse)."""
    return text.strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "").replace(",", ".")


def event_from(form_type: str, fields: dict[str, str]) -> bytes:
    """The event a filled form describes, as the bytes of one line of a `.jsonl` file."""
    form = FORMS[form_type]
    event: dict[str, object] = {"event_id": fields.get("event_id") or new_event_id(), "type": form.type,
                                "occurred_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    for field in form.fields:
        value = fields.get(field.name, "").strip()
        if field.kind == "bool":
            event[field.name] = value in ("on", "true", "1")
        elif field.kind == "amount":
            event[field.name] = plain_amount(value)
        else:
            event[field.name] = value
    if form.lines:
        lines = []
        for n in range(LINES):
            label, amount = fields.get(f"label_{n}", "").strip(), fields.get(f"amount_ht_{n}", "").strip()
            if label or amount:
                lines.append({"label": label, "amount_ht": plain_amount(amount),
                              "vat_rate": plain_amount(fields.get(f"vat_rate_{n}", "0.20"))})
        event["lines"] = lines
    return json.dumps(event, ensure_ascii=False).encode()
