"""One catalogue of what users read: a stable code and its parameters, in English or in French.

The command line and the API speak English, the pages and PDFs French
(issue 15): a refusal is made once, as a `Message` (code + parameters), and
each surface renders it in its language. The code is stable, so the API can
add it to its `error` and a dead letter can keep it beside its English text.

A template names each parameter with its kind after a colon, and the kind
decides how it reads in each language:

- `{member:id}`: an id or a text the user sent, `"M001"` / « M001 »;
- `{known:ids}`: a few of them, `"A", "B"` / « A », « B »;
- `{near:either}`: the same as choices, `"A" or "B"` / « A » ou « B »;
- `{amount:money}`: `1234.50` / `1 234,50 €`;
- `{rate:percent}`: `11.5 %` / `11,5 %`;
- `{day:date}`: `2026-10-03` / `3 octobre 2026`;
- `{month:month}`: `2026-10` / `octobre 2026`;
- `{field:field}`: a field's name, `amount` / « amount »;
- `{detail:detail}`: a parser's own English detail, put in French (`engine.french.detail`);
- `{what:thing}`: what a rule names (`THINGS`), `credit note` / `avoir`;
- `{text:as_is}`: a text as it was written, in either language (not yet in the catalogue);
- `{reason:message}`: another `Message`, in the same language (a field's own refusal);
- `{checks:messages}`, `{members:list}`: several `Message`s in the same language, joined by `; ` or `, `;
- `{more:then}`: the same joined by `; `, each after a `; `: nothing when there are none;
- `{members:names}`: ids or names as they are, joined by `, ` (a listing, not quoted);
- `{n}` (no kind): as it is.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from engine.wording import term

Language = Literal["en", "fr"]


@dataclass(frozen=True, slots=True)
class Message:
    """A code of `CATALOGUE` and its parameters; immutable, so it can travel in an exception."""

    code: str
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, code: str, **params: Any) -> Message:
        if code not in CATALOGUE:
            raise KeyError(f"no message {code!r} in the catalogue")
        return cls(code, tuple(sorted(params.items())))

    def text(self, language: Language = "en") -> str:
        english, french_text = CATALOGUE[self.code]
        return _Formatter(language).vformat(english if language == "en" else french_text, (), dict(self.params))

    def to_json(self) -> dict[str, Any]:
        """The code and its parameters as JSON values (amounts and dates as their strings)."""
        return {"code": self.code, "params": {k: _plain(v) for k, v in self.params}}

    @classmethod
    def from_json(cls, found: Mapping[str, Any]) -> Message:
        """A message `to_json` wrote (a dead letter's, issue 15): the templates' kinds read its strings back."""
        def read(value: Any) -> Any:
            if isinstance(value, dict):
                return cls.from_json(value)
            return tuple(read(v) for v in value) if isinstance(value, list) else value
        params = {k: read(v) for k, v in found["params"].items()}
        return cls.of(found["code"], **params)


class Refused(ValueError):
    """An exception that carries its `Message`; its str() is the English text, for logs and the CLI."""

    def __init__(self, message: Message | str, **params: Any) -> None:
        self.message = message if isinstance(message, Message) else Message.of(message, **params)
        super().__init__(self.message.text("en"))


def text_of(error: BaseException, language: Language) -> str:
    """What to show of an error: its message in `language` when it carries one, else its English text."""
    found = getattr(error, "message", None)
    return found.text(language) if isinstance(found, Message) else str(error)


def _plain(value: Any) -> Any:
    if isinstance(value, Message):
        return value.to_json()
    if isinstance(value, (Decimal, date)):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


class _Formatter(string.Formatter):
    def __init__(self, language: Language) -> None:
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        # Imported here: engine.money, under engine.french, raises this module's messages.
        from engine import french
        from engine.money import fmt

        kind = format_spec
        if kind == "message":
            return str(value.text(self.language))
        if kind in ("messages", "list", "then"):
            joint = ", " if kind == "list" else "; " if self.language == "en" else " ; "
            return (joint if kind == "then" and value else "") + joint.join(m.text(self.language) for m in value)
        if kind == "names":
            return ", ".join(str(v) for v in value)
        if kind == "field":
            return str(value) if self.language == "en" else f"«\u00a0{value}\u00a0»"
        if kind == "as_is":
            return str(value)
        if kind == "thing":
            return str(value) if self.language == "en" else THINGS.get(str(value), str(value))
        if kind == "detail":
            return str(value) if self.language == "en" else french.detail(str(value))
        if kind == "id":
            return term(value) if self.language == "en" else f"«\u00a0{value}\u00a0»"
        if kind in ("ids", "either"):
            joint = ", " if kind == "ids" else " or " if self.language == "en" else " ou "
            return joint.join(self.format_field(v, "id") for v in value)
        if kind == "money":
            return fmt(Decimal(value)) if self.language == "en" else french.euros(Decimal(value))
        if kind == "percent":
            rate = Decimal(value)
            return f"{(rate * 100).normalize():f} %" if self.language == "en" else french.percent(rate)
        if kind == "date":
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
            return day.isoformat() if self.language == "en" else french.day_label(day)
        if kind == "month":
            return str(value) if self.language == "en" else french.month_label(str(value))
        return super().format_field(value, kind)


# What a rule's refusal names (`{what:thing}`), in French.
THINGS: Mapping[str, str] = {
    "document": "document", "invoice": "facture", "credit note": "avoir", "payment": "paiement",
    "expense": "dépense", "association": "entrée au sociétariat", "departure": "départ",
    "status change": "changement de statut", "salary": "salaire",
    # a statement's figures, as the reconciliation checks name them (engine.reconciliation)
    "revenue_ht": "chiffre d'affaires HT", "vat_collected": "TVA collectée", "direct_costs_ht": "coûts directs HT",
    "other_expenses_ht": "autres dépenses HT", "contribution": "contribution", "societariat": "part de sociétariat",
    "gross": "salaire brut", "employer_contributions": "cotisations patronales", "net": "salaire net",
}


# code: (English, French). Codes are stable: add new ones, never reuse or rename one.
CATALOGUE: Mapping[str, tuple[str, str]] = {
    "member.unknown": ('unknown member {word:id} (there is none yet)', "membre inconnu {word:id} (aucun pour l'instant)"),
    "member.unknown.near": ("unknown member {word:id} (did you mean {near:either}?)",
                            "membre inconnu {word:id} (vouliez-vous dire {near:either} ?)"),
    "member.unknown.known": ("unknown member {word:id} (known: {known:ids})", "membre inconnu {word:id} (connus : {known:ids})"),
    "member.unknown.some": ("unknown member {word:id} (known: {known:ids}, … {total} in all)",
                            "membre inconnu {word:id} (connus : {known:ids}, … {total} en tout)"),
    "assembly.unknown": ("unknown assembly {word:id} (there is none yet)",
                         "assemblée inconnue {word:id} (aucune pour l'instant)"),
    "assembly.unknown.near": ("unknown assembly {word:id} (did you mean {near:either}?)",
                              "assemblée inconnue {word:id} (vouliez-vous dire {near:either} ?)"),
    "assembly.unknown.known": ("unknown assembly {word:id} (known: {known:ids})",
                               "assemblée inconnue {word:id} (connues : {known:ids})"),
    "assembly.unknown.some": ("unknown assembly {word:id} (known: {known:ids}, … {total} in all)",
                              "assemblée inconnue {word:id} (connues : {known:ids}, … {total} en tout)"),
    "resolution.unknown": ("unknown resolution {word:id} (there is none yet)",
                           "résolution inconnue {word:id} (aucune pour l'instant)"),
    "resolution.unknown.near": ("unknown resolution {word:id} (did you mean {near:either}?)",
                                "résolution inconnue {word:id} (vouliez-vous dire {near:either} ?)"),
    "resolution.unknown.known": ("unknown resolution {word:id} (known: {known:ids})",
                                 "résolution inconnue {word:id} (connues : {known:ids})"),
    "resolution.unknown.some": ("unknown resolution {word:id} (known: {known:ids}, … {total} in all)",
                                "résolution inconnue {word:id} (connues : {known:ids}, … {total} en tout)"),
    "resolution.assembly_unknown": ("resolution {resolution:id} names unknown assembly {assembly:id}",
                                    "la résolution {resolution:id} renvoie à une assemblée inconnue {assembly:id}"),
    "member.not_yet_joined": ("{member} joined on {joined:date}: there is no statement for {month:month}",
                              "{member} est arrivé(e) le {joined:date} : il n'y a pas d'état des comptes "
                              "pour {month:month}"),
    # Reading an event (engine.events, engine.characters, engine.bounds): a dead letter's reason.
    "event.too_big": ("event of {size} bytes is over the {limit} bytes limit",
                      "événement de {size} octets, au-delà de la limite de {limit} octets"),
    "event.statement_too_big": ("event of {size} bytes is over the {limit} bytes limit ({statement} for a bank "
                                "statement)", "événement de {size} octets, au-delà de la limite de {limit} octets "
                                "({statement} pour un relevé bancaire)"),
    "event.not_utf8": ("not UTF-8 text (byte {at}: {byte})", "ce n'est pas du texte UTF-8 (octet {at} : {byte})"),
    "event.duplicate_key": ("duplicate key {key:id} in a JSON object: each key may appear only once",
                            "clé {key:id} en double dans un objet JSON : chaque clé n'apparaît qu'une fois"),
    "event.not_json": ("not valid JSON ({detail:detail})", "ce n'est pas du JSON valide ({detail:detail})"),
    "event.not_object": ("not a JSON object", "ce n'est pas un objet JSON"),
    "route.no_type": ("no event 'type'", "pas de « type » d'événement"),
    "route.no_account": ("a {type:as_is} event needs an 'account' (the IBAN that keys {topic:as_is})",
                         "un événement {type:as_is} demande un « account » (l'IBAN qui range {topic:as_is})"),
    "route.no_member": ("a {type:as_is} event needs a 'member_id' (the key of {topic:as_is})",
                        "un événement {type:as_is} demande un « member_id » (la clé de {topic:as_is})"),
    "event.type_unknown": ("unknown event type {type:id}", "type d'événement inconnu {type:id}"),
    "event.type_unreadable": ("unknown event type", "type d'événement inconnu"),
    "event.field_missing": ("missing field {field:id}", "champ manquant {field:id}"),
    "event.field_unknown": ("unknown field {field:id}", "champ inconnu {field:id}"),
    "event.field": ("{field:field}: {reason:message}", "{field:field} : {reason:message}"),
    "event.field_detail": ("{field:field}: {detail:detail}", "{field:field} : {detail:detail}"),
    "event.field_name": ("{field:field}: a field name cannot be taken ({reason:message})",
                         "{field:field} : un nom de champ ne peut pas être pris ({reason:message})"),
    "event.email": ('email: {value:id} is not an email address such as "name@example.org"',
                    "email : {value:id} n'est pas une adresse électronique comme « nom@exemple.org »"),
    # What the database or a failing worker said: its own words (English, as_is) in a French frame.
    "event.unreadable": ("cannot be read ({detail:as_is})", "illisible ({detail:as_is})"),
    "ledger.refused": ("refused by the ledger: {detail:as_is}", "refusé par la base de données : {detail:as_is}"),
    "event.undeliverable": ("could not be processed ({detail:as_is}), {tries} tries",
                            "n'a pas pu être traité ({detail:as_is}), {tries} essais"),
    "event.already_processed": ("event id {event:id} was already processed with different content",
                                "l'événement {event:id} a déjà été traité avec un autre contenu"),
    "character.control": ("U+{point} is a control character: not allowed in names, labels and ids",
                          "U+{point} est un caractère de contrôle : interdit dans les noms, libellés et identifiants"),
    "character.separator": ("U+{point} is a line or paragraph separator: not allowed in names, labels and ids",
                            "U+{point} est un séparateur de lignes ou de paragraphes : interdit dans les noms, "
                            "libellés et identifiants"),
    "character.bidi": ("U+{point} is a bidirectional control, which can make a text read other than it is: "
                       "not allowed in names, labels and ids",
                       "U+{point} est une commande de sens d'écriture, qui peut faire lire un texte autrement "
                       "qu'il n'est : interdit dans les noms, libellés et identifiants"),
    "character.surrogate": ("U+{point} is a lone surrogate, not a character: it cannot be stored nor encoded",
                            "U+{point} est un demi-caractère isolé (surrogate) : il ne peut être ni enregistré "
                            "ni encodé"),
    "amount.float": ('{value:id} is a float: amounts are strings such as "{example}"',
                     "{value:id} est un nombre à virgule flottante : un montant s'écrit en chaîne, "
                     "comme « {example} »"),
    "amount.not_string": ('{value:id} is not an amount string such as "{example}"',
                          "{value:id} n'est pas un montant écrit comme « {example} »"),
    "amount.over": ("{amount:money} is over {ceiling:money}, the most one amount may be",
                    "{amount:money} dépasse {ceiling:money}, le plus qu'un montant puisse valoir"),
    "amount.beyond": ("{amount:money} is beyond ±{ceiling:money}, the most it may be",
                      "{amount:money} dépasse ±{ceiling:money}, le plus qu'il puisse valoir"),
    "amount.not_signed": ('{value:id} is not a signed amount string such as "-12.50"',
                          "{value:id} n'est pas un montant signé écrit comme « -12.50 »"),
    "amount.not_positive": ("{value:id} is not a positive amount", "{value:id} n'est pas un montant positif"),
    "amount.zero_bank_line": ("a bank line moves money: its amount is not 0",
                              "une ligne bancaire déplace de l'argent : son montant ne peut être nul"),
    "rate.float": ('{value:id} is a float: rates are strings such as "0.20"',
                   "{value:id} est un nombre à virgule flottante : un taux s'écrit en chaîne, comme « 0.20 »"),
    "rate.not_string": ('{value:id} is not a rate string such as "0.20"',
                        "{value:id} n'est pas un taux écrit comme « 0.20 »"),
    "rate.not_below_one": ('VAT rate {value:id} is not below 1 (write 20 % as "0.20")',
                           "le taux de TVA {value:id} n'est pas inférieur à 1 (20 % s'écrit « 0.20 »)"),
    "money.float": ('{value:id} is a float: amounts must be strings such as "12.50"',
                    "{value:id} est un nombre à virgule flottante : un montant s'écrit en chaîne, comme « 12.50 »"),
    "money.not_number": ("{value:id} is not a number", "{value:id} n'est pas un nombre"),
    "money.decimals": ('{value:id} is not an amount with at most 2 decimals (such as "1250.50")',
                       "{value:id} n'est pas un montant d'au plus 2 décimales (comme « 1250.50 »)"),
    "money.rate": ('{value:id} is not a rate written as a decimal string (such as "0.20")',
                   "{value:id} n'est pas un taux écrit en décimal (comme « 0.20 »)"),
    "money.cents": ("{value} has more than 2 decimals", "{value} a plus de 2 décimales"),
    "bounds.day_before": ("{day:date} is before {first:date}, the first day the engine takes",
                          "le {day:date} est avant le {first:date}, premier jour que le moteur accepte"),
    "bounds.day_after": ("{day:date} is after {last:date}: a date may go to the end of the year after next "
                         "(today is {today:date})",
                         "le {day:date} est après le {last:date} : une date peut aller jusqu'à la fin de "
                         "l'année d'après la suivante (nous sommes le {today:date})"),
    "bounds.month": ("{month:id} is not a month YYYY-MM from {first} to {last}",
                     "{month:id} n'est pas un mois AAAA-MM entre {first} et {last}"),
    "document.over": ("{made_of} make {total:money} TTC, over {ceiling:money}, the most one document may be: split it",
                      "{made_of} font {total:money} TTC, au-delà de {ceiling:money}, le plus qu'un document "
                      "puisse valoir : scindez-le"),
    "iban.invalid": ("{value:id} is not a valid IBAN ({detail:detail})", "{value:id} n'est pas un IBAN valable ({detail:detail})"),
    "bic.invalid": ("{value:id} is not a valid BIC ({detail:detail})", "{value:id} n'est pas un BIC valable ({detail:detail})"),
    # The rules of the cooperative (engine.rules): an event well formed that breaks one.
    "rule.untranslated": ("{text:as_is}", "refus d'une règle, pas encore traduit : {text:as_is}"),
    "rule.member_unknown": ("unknown member {member:id}", "membre inconnu {member:id}"),
    "rule.before_joining": ("{what:thing} dated {on:date} is before member {member} joined on {joined:date}",
                            "{what:thing} du {on:date}, avant l'arrivée de {member} le {joined:date}"),
    "rule.after_leaving": ("{what:thing} dated {on:date} is after member {member} left on {left:date}",
                           "{what:thing} du {on:date}, après le départ de {member} le {left:date}"),
    "rule.document_again": ("{what:thing} {document:id} was already recorded by another event",
                            "{what:thing} {document:id} déjà enregistré(e) par un autre événement"),
    "rule.invoice_unknown": ("unknown invoice {invoice:id}", "facture inconnue {invoice:id}"),
    "rule.invoice_of_another": ("invoice {invoice} belongs to member {owner}, not {member}",
                                "la facture {invoice} est celle de {owner}, pas de {member}"),
    "rule.joined_again": ("member {member} has already joined", "{member} est déjà arrivé(e)"),
    "rule.associate_again": ("member {member} is already an associate since {since:date}",
                             "{member} est déjà associé(e) depuis le {since:date}"),
    "rule.left_again": ("member {member} already left on {left:date}", "{member} est déjà parti(e) le {left:date}"),
    "rule.no_rates": ("{detail:detail}", "pas de taux pour cette date ({detail:detail})"),
    "rule.invoice_again": ("invoice {invoice:id} was already issued by another event",
                           "la facture {invoice:id} a déjà été émise par un autre événement"),
    "rule.credit_rate": ("credit note at a VAT rate of {rate:percent} that invoice {invoice} does not have",
                         "avoir à un taux de TVA de {rate:percent} que la facture {invoice} n'a pas"),
    "rule.credit_over": ("credit note of {ht:money} HT at {rate:percent} is over what is left of invoice {invoice} "
                         "at that rate: {left:money} HT",
                         "avoir de {ht:money} HT à {rate:percent}, au-delà de ce qui reste de la facture {invoice} "
                         "à ce taux : {left:money} HT"),
    "rule.credit_before_invoice": ("credit note dated {on:date} is before its invoice {invoice} ({issued:date})",
                                   "avoir du {on:date}, antérieur à sa facture {invoice} ({issued:date})"),
    "rule.credit_payment_over_due": ("payment from credit of {amount:money} is over the {due:money} still due on "
                                     "invoice {invoice}",
                                     "paiement sur avoir de {amount:money}, au-delà des {due:money} encore dus sur "
                                     "la facture {invoice}"),
    "rule.credit_payment_over_credit": ("payment from credit of {amount:money} is over the {credit:money} of credit "
                                        "{client} has for member {member}",
                                        "paiement sur avoir de {amount:money}, au-delà des {credit:money} d'avoir "
                                        "de {client} pour {member}"),
    "rule.not_member_event": ("{type} is not a member event", "{type} n'est pas un événement de membre"),
    # The close's guards (ledger.closing): the CLI's English says its options, the page's French its buttons.
    "close.not_ended": ("{month:month} has not ended (today is {today:date}): a month is closed once it is over",
                        "{month:month} n'est pas terminé (nous sommes le {today:date}) : un mois se clôture une "
                        "fois passé"),
    "close.year_open": ("{month:month} is after the end of {year}, whose books are not closed: `cae close-year --year "
                        "{year}` opens {next}, then close {month:month}",
                        "{month:month} est après la fin de {year}, dont l'exercice n'est pas clôturé : la "
                        "clôture de l'exercice {year} ouvre {next}, puis clôturez {month:month}"),
    "close.year_open.december": ("{month:month} is after the end of {year}, whose books are not closed: close {year}-12, "
                                 "then `cae close-year --year {year}` opens {next}, then close {month:month}",
                                 "{month:month} est après la fin de {year}, dont l'exercice n'est pas clôturé : "
                                 "clôturez décembre {year}, puis la clôture de l'exercice {year} ouvre {next}, "
                                 "puis clôturez {month:month}"),
    "close.unpaid": ("the payroll of {month:month} has not paid {count} member(s) it should ({names}): run `cae payroll "
                     "run --month {month:month}` first, or close with --without-payroll",
                     "la paie de {month:month} n'a pas payé {count} membre(s) qui devaient l'être ({names}) : "
                     "lancez-la d'abord sur la page Paie, ou cochez « clôturer sans la paie » pour clôturer "
                     "quand même"),
    # The payroll and its corrections (ledger.payroll_run, ledger.corrections): the CLI says which
    # command to run, the page what to do on the page.
    "payroll.ahead": ("{month:month} is more than one month ahead of today ({today:date}): its payroll cannot run yet",
                      "la paie de {month:month} ne peut pas encore être faite : ce mois est à plus d'un mois "
                      "d'aujourd'hui ({today:date})"),
    "payroll.closed": ("month {month:month} is closed: its payroll can no longer run",
                       "{month:month} est clôturé : sa paie ne peut plus être faite"),
    "correction.no_reason": ("a correction needs a reason (--reason)",
                             "une correction demande un motif : écrivez-le dans le champ « motif »"),
    "correction.no_payslip": ("no payroll ran for {member:as_is} in {month:month}: there is no payslip to correct "
                              "(`cae payroll run --month {month:month}` pays whoever is due)",
                              "aucune paie n'a été faite pour {member:as_is} en {month:month} : il n'y a pas de "
                              "bulletin à corriger (la paie du mois, sur cette page, paie ceux qui doivent l'être)"),
    "correction.same_pay": ("{member:as_is}'s payslip of {month:month} computed again pays the same (gross {gross:money}): "
                            "nothing to correct",
                            "le bulletin de {month:month} de {member:as_is}, calculé à nouveau, paie la même chose "
                            "(brut {gross:money}) : rien à corriger"),
    # Accounts of the web application (web.accounts, web.throttle, web.months).
    "account.short_password": ("a password has at least {least} characters",
                               "un mot de passe compte au moins {least} caractères"),
    "account.bad_email": ("{email:id} is not an email address", "{email:id} n'est pas une adresse électronique"),
    "account.taken": ("{email:as_is} already has an account", "{email:as_is} a déjà un compte"),
    "account.bad_role": ("{role:id} is not a role: admin, staff, board or member",
                         "{role:id} n'est pas un rôle : administration, équipe d'appui, conseil ou membre"),
    "account.member_role": ("a member account names its member (--member ID), and only a member account does",
                            "un compte de membre nomme son membre, et seul un compte de membre le fait"),
    "account.unknown_member": ("unknown member {member:id}", "membre inconnu {member:id}"),
    "account.no_id": ("no account #{user}", "pas de compte n° {user}"),
    "account.no_email": ("no account {email:as_is}", "pas de compte {email:as_is}"),
    "account.no_token": ("no live token {token:as_is}", "pas de jeton en cours {token:as_is}"),
    "account.expired": ("the temporary password of {email:as_is} has expired: ask an admin for another",
                        "le mot de passe provisoire de {email:as_is} a expiré : demandez-en un autre à un administrateur"),
    "account.wrong_password": ("the current password is not right", "le mot de passe actuel n'est pas le bon"),
    "account.same_password": ("the new password is the current one",
                              "le nouveau mot de passe est l'actuel : choisissez-en un autre"),
    "login.throttled": ("too many failed logins from this address: wait up to {minutes} minutes",
                        "trop de tentatives depuis cette adresse : réessayez dans {minutes} minutes au plus"),
    "month.outside_window": ("{month:id} is not a month YYYY-MM from {first:month} to {last:month}",
                             "mois invalide : {month:id}. Choisissez un mois de {first:month} à {last:month}"),
    # The staff's dismissal of a dead letter (ledger.deadletters).
    "deadletter.no_reason": ("a dismissal needs a reason (--reason)",
                             "écarter un rejet demande une raison : écrivez-la dans le champ"),
    "deadletter.none": ("no dead letter #{letter}", "pas de rejet n° {letter}"),
    "deadletter.settled": ("dead letter #{letter} is already replayed", "le rejet n° {letter} est déjà rejoué"),
    "deadletter.dismissed": ("dead letter #{letter} is already dismissed", "le rejet n° {letter} est déjà écarté"),
    # The governance record's refusals (governance.gate).
    "governance.resolution_again": ("resolution {resolution:id} was already proposed by another event",
                                    "la résolution {resolution:id} a déjà été proposée par un autre événement"),
    "governance.meeting_unknown": ("unknown meeting {meeting:id} (no ritual held or assembly convened with this id)",
                                   "réunion inconnue {meeting:id} (aucun rituel tenu ni assemblée convoquée "
                                   "sous cet identifiant)"),
    "governance.resolution_unknown": ("unknown resolution {resolution:id}", "résolution inconnue {resolution:id}"),
    "governance.secret_vote_named": ("resolution {resolution:id} is voted by secret ballot: its votes are taken on the "
                                     "assembly's page or its API, never as a vote.cast naming its voter",
                                     "la résolution {resolution:id} se vote à bulletin secret : ses votes se font "
                                     "sur la page de l'assemblée, jamais par un vote qui nomme son auteur"),
    "governance.assembly_id_is_assembly": ("assembly id {meeting:id} is already an assembly convened by another event",
                                           "l'identifiant {meeting:id} est déjà celui d'une assemblée convoquée "
                                           "par un autre événement"),
    "governance.assembly_id_is_ritual": ("assembly id {meeting:id} is already a ritual recorded by another event",
                                         "l'identifiant {meeting:id} est déjà celui d'un rituel enregistré "
                                         "par un autre événement"),
    "governance.ritual_id_is_assembly": ("ritual id {meeting:id} is already an assembly convened by another event",
                                         "l'identifiant {meeting:id} est déjà celui d'une assemblée convoquée "
                                         "par un autre événement"),
    "governance.ritual_id_is_ritual": ("ritual id {meeting:id} is already a ritual recorded by another event",
                                       "l'identifiant {meeting:id} est déjà celui d'un rituel enregistré "
                                       "par un autre événement"),
    "governance.assembly_unknown": ("unknown assembly {assembly:id}", "assemblée inconnue {assembly:id}"),
    # What the server can do (web.pdf): said on the staff's health page, never to a member.
    "pdf.unavailable": ("the PDF needs WeasyPrint: pip install 'cae-engine[pdf]' (and Debian's libpango-1.0-0 "
                        "libpangoft2-1.0-0): {detail:as_is}",
                        "les PDF demandent WeasyPrint, absent ou incomplet sur le serveur : installez "
                        "« cae-engine[pdf] » et les bibliothèques libpango-1.0-0 et libpangoft2-1.0-0 de Debian "
                        "({detail:as_is})"),
    # The reconciliation (engine.reconciliation): each check's outcome, title and detail, and
    # the line a run of it records (ledger.monthly); the CLI, --json and `cae runs` read the English.
    "outcome.ok": ("ok", "bon"),
    "outcome.attention": ("to look at", "à regarder"),
    "outcome.not_ok": ("not ok", "pas bon"),
    "check.balanced": ("trial balance balanced", "balance générale équilibrée"),
    "check.statement_account": ("statements' {key:thing} = account {account}",
                                "{key:thing} des états des comptes = compte {account}"),
    "check.social": ("statements' social contributions = account {account}",
                     "cotisations sociales des états des comptes = compte {account}"),
    "check.mutualisation": ("contribution and sociétariat recomputed from the ledger",
                            "contribution et sociétariat recalculés depuis le grand livre"),
    "check.payroll": ("payroll run for every eligible member", "paie faite pour chaque membre qui y a droit"),
    "check.negative_budget": ("no member with a negative budget", "aucun membre au budget négatif"),
    "check.payslip_budgets": ("payslips' budget before payroll = statements'",
                              "budget avant paie des bulletins = celui des états des comptes"),
    "check.bank": ("bank balances = the last statements' closing balances",
                   "soldes bancaires = soldes de clôture des derniers relevés"),
    "check.unpaid": ("no invoice unpaid after 60 days", "aucune facture impayée après 60 jours"),
    "check.late": ("late events posted from a closed month", "événements tardifs d'un mois clôturé"),
    "check.credits": ("clients' credit balances (overpayments)", "soldes créditeurs de clients (trop-perçus)"),
    "check.dead_letters": ("dead letters pending", "rejets en attente"),
    "check.none": ("none", "rien à signaler"),
    "check.rest": ("…", "etc."),
    "check.rest_count": ("… ({total} in all)", "… ({total} en tout)"),
    "check.recomputed_differ_all": ("{items:messages}", "écarts : {items:messages}"),
    "check.debit_credit": ("debit {debit:money} = credit {credit:money}", "débit {debit:money} = crédit {credit:money}"),
    "check.debit_credit_differ": ("debit {debit:money} != credit {credit:money}",
                                  "débit {debit:money} ≠ crédit {credit:money}"),
    "check.equal": ("{ours:money} = {ledger:money}", "états des comptes {ours:money} = grand livre {ledger:money}"),
    "check.statements_ledger": ("statements {ours:money}, ledger {ledger:money}",
                                "états des comptes {ours:money}, grand livre {ledger:money}"),
    "check.recomputed_agree": ("{count} member-figures of the year agree",
                               "{count} chiffre(s) de membres de l'année concordent"),
    "check.recomputed_differ": ("{member} {what:thing}: posted {posted:money}, rules give {recomputed:money}",
                                "{member}, {what:thing} : {posted:money} passé(s), les règles donnent "
                                "{recomputed:money}"),
    "check.all_paid": ("all paid", "tous payés"),
    "check.not_paid": ("not paid: {members:names}", "pas payé(s) : {members:names}"),
    "check.negative": ("negative: {members:list}", "négatif : {members:list}"),
    "check.member_amount": ("{member} ({amount:money})", "{member} à {amount:money}"),
    "check.payslips_agree": ("{count} payslips agree", "{count} bulletin(s) concordent"),
    "check.payslips_differ": ("differ: {members:list}", "écarts : {members:list}"),
    "check.payslip_differs": ("{member} (payslip {payslip:money}, statement {statement:money})",
                              "{member} (bulletin {payslip:money}, état des comptes {statement:money})"),
    "check.bank_agree": ("{count} account(s) agree", "{count} compte(s) concordent"),
    "check.bank_differ": ("differ: {accounts:list}", "écarts : {accounts:list}"),
    "check.bank_account": ("{iban} on {on:date}: statement {statement:money}, ledger {ledger:money} ({unmatched} "
                           "line(s) unmatched: `cae bank lines --unmatched`)",
                           "{iban} au {on:date} : relevé {statement:money}, grand livre {ledger:money} "
                           "({unmatched} ligne(s) non rapprochée(s), à voir dans les lignes bancaires)"),
    "check.unpaid_invoices": ("{count} unpaid: {invoices:list}", "{count} impayée(s) : {invoices:list}"),
    "check.unpaid_invoice": ("{invoice} ({member}, {issued:date}, {due:money} due)",
                             "{invoice} ({member}, {issued:date}, {due:money} dus)"),
    "check.late_pieces": ("{count} posted here: {pieces:names}", "{count} passé(s) ici : {pieces:names}"),
    "check.client_credits": ("{count}: {credits:list}", "{count} : {credits:list}"),
    "check.client_credit": ("{client} for {member} ({credit:money})", "{client} pour {member} ({credit:money})"),
    "check.pending": ("{count} pending, not in the books: see `cae deadletter list`",
                      "{count} en attente, hors des livres : voir la page Rejets"),
    "check.line": ("{title:message}: {detail:message}", "{title:message} : {detail:message}"),
    # What a run of a monthly job records (ledger.monthly, ledger.runs), said on the runs page.
    "run.reconcile": ("{ok} ok, {attention} to look at, {not_ok} not ok ({members} members){flagged:then}",
                      "{ok} bon(s), {attention} à regarder, {not_ok} pas bon(s) ({members} membres){flagged:then}"),
    "run.checks": ("{outcome:message}: {checks:messages}", "{outcome:message} : {checks:messages}"),
    "run.payroll": ("{count} payslips ({capped} capped), gross {gross:money}, employer cost {cost:money}; "
                    "{posted:message}{stale:then}",
                    "{count} bulletin(s) ({capped} plafonné(s)), brut {gross:money}, coût employeur {cost:money} ; "
                    "{posted:message}{stale:then}"),
    "run.posted": ("{count} posted by this run", "{count} écriture(s) passée(s) par ce traitement"),
    "run.nothing_posted": ("nothing new posted", "rien de nouveau passé"),
    "run.stale": ("{count} would now pay differently (`cae payroll rerun`): {members:names}",
                  "{count} seraient payé(s) autrement aujourd'hui (bulletin à refaire, page Paie) : {members:names}"),
    "run.closed": ("closed; {count} entries got their definitive number{opened:then}",
                   "clôturé ; {count} écriture(s) ont reçu leur numéro définitif{opened:then}"),
    "run.closed_without_payroll": ("closed without payroll; {count} entries got their definitive number{opened:then}",
                                   "clôturé sans la paie ; {count} écriture(s) ont reçu leur numéro "
                                   "définitif{opened:then}"),
    "run.year_opened": ("{year} opened with {lines} à-nouveaux lines", "{year} ouvert avec {lines} ligne(s) d'à-nouveaux"),
    "run.year_closed": ("{year} opened: {lines} à-nouveaux lines, result {result:money}",
                        "{year} ouvert : {lines} ligne(s) d'à-nouveaux, résultat {result:money}"),
    "run.year_already_closed": ("already closed: {lines} à-nouveaux lines, result {result:money}",
                                "déjà clôturé : {lines} ligne(s) d'à-nouveaux, résultat {result:money}"),
    "run.rerun": ("{member} revision {revision}: gross {before:money} -> {after:money} ({reason:as_is})",
                  "{member}, révision {revision} : brut {before:money} → {after:money} ({reason:as_is})"),
    "run.variables": ("{count} members to {files:names}", "{count} membre(s) vers {files:names}"),
    # The treasury (DOMAIN.md rules 10, 11: engine.bank, engine.treasury_rules, ledger.bank_store, treasury/):
    # a statement refused whole, a bank file that cannot be read, an assignment the ledger refuses (issue 16).
    "bank.statement_named": ("statement {id:as_is} of {account}", "relevé {id:as_is} du compte {account}"),
    "bank.statement_dated": ("statement of {account} from {start:date} to {end:date}",
                             "relevé du compte {account} du {start:date} au {end:date}"),
    "bank.currency": ("{statement:message} is in {currency}: only {expected} statements are taken",
                      "{statement:message} est en {currency} : seuls les relevés en {expected} sont acceptés"),
    "bank.not_adding_up": ("{statement:message} does not add up: opening {opening:money} + {count} lines "
                           "{total:money} = {reached:money}, but the closing balance is {closing:money} "
                           "(difference {difference:money})",
                           "{statement:message} ne tombe pas juste : solde d'ouverture {opening:money} + {count} "
                           "lignes {total:money} = {reached:money}, mais le solde de clôture est {closing:money} "
                           "(écart {difference:money})"),
    "bank.not_following": ("{statement:message} does not follow the last one: it opens at {opening:money}, but the "
                           "account's last known closing balance is {closing:money} (a statement is missing in "
                           "between?)",
                           "{statement:message} ne suit pas le précédent : il s'ouvre à {opening:money}, mais le "
                           "dernier solde de clôture connu du compte est {closing:money} (un relevé manque "
                           "entre les deux ?)"),
    "bank.not_following.dated": ("{statement:message} does not follow the last one: it opens at {opening:money}, but "
                                 "the account's last known closing balance is {closing:money} on {on:date} (a "
                                 "statement is missing in between?)",
                                 "{statement:message} ne suit pas le précédent : il s'ouvre à {opening:money}, mais "
                                 "le dernier solde de clôture connu du compte est {closing:money} le {on:date} (un "
                                 "relevé manque entre les deux ?)"),
    "bank.not_following.either": ("{statement:message} does not follow the last one: it opens at {opening:money}, "
                                  "but the account's last known closing balance is {closing:money} on {on:date} or "
                                  "{before:money} on {start:date} (a statement is missing in between?)",
                                  "{statement:message} ne suit pas le précédent : il s'ouvre à {opening:money}, "
                                  "mais le dernier solde de clôture connu du compte est {closing:money} le {on:date}"
                                  ", ou {before:money} le {start:date} (un relevé manque entre les deux ?)"),
    "bank.overlap_disagrees": ("{statement:message} overlaps the statements already taken but does not agree with "
                               "them: {last:money} + {count} new lines {added:money} = {reached:money}, but it "
                               "closes at {closing:money}",
                               "{statement:message} recouvre des relevés déjà pris sans s'accorder avec eux : "
                               "{last:money} + {count} lignes nouvelles {added:money} = {reached:money}, mais il "
                               "se clôt à {closing:money}"),
    "bank.inside_stated": ("{statement:message} ends on {end:date}, inside the period already stated (to "
                           "{last:date}), yet brings {count} lines no statement had: refused rather than rewrite "
                           "that period",
                           "{statement:message} se termine le {end:date}, dans la période déjà relevée (jusqu'au "
                           "{last:date}), mais apporte {count} lignes qu'aucun relevé n'avait : refusé plutôt que "
                           "de réécrire cette période"),
    "bank.ends_before_start": ("{statement:message} ends on {end:date}, before it starts on {start:date}",
                               "{statement:message} se termine le {end:date}, avant de commencer le {start:date}"),
    "bank.splits_total": ("the splits make {total:money}, but the line is {line:money}",
                          "la répartition fait {total:money}, mais la ligne est de {line:money}"),
    "bank.file_empty": ("{format} file unreadable at its beginning: the file is empty",
                        "fichier {format} illisible : il est vide"),
    "bank.file_unknown": ("bank statement file unreadable at its beginning: neither CAMT.053, OFX nor CFONB 120; a "
                          "CSV export needs a mapping file (--mapping)",
                          "relevé bancaire illisible : ce n'est ni du CAMT.053, ni de l'OFX, ni du CFONB 120 ; un "
                          "export CSV demande un fichier de correspondance des colonnes"),
    "bank.file_mapping": ("CSV file unreadable at its mapping: a CSV export needs a mapping file (--mapping)",
                          "fichier CSV illisible : un export CSV demande un fichier de correspondance des colonnes"),
    "bank.file_unreadable": ("{format} file unreadable at {where:as_is}: {why:as_is}",
                             "fichier {format} illisible ({where:as_is}), détail du lecteur pas encore traduit : "
                             "{why:as_is}"),
    "bank.line_unknown": ("no bank line {line:id} on account {account}",
                          "aucune ligne bancaire {line:id} sur le compte {account}"),
    "bank.line_matched": ("bank line {line:id} is already matched", "la ligne bancaire {line:id} est déjà rapprochée"),
    "bank.debit_for_invoice": ("a debit of {amount:money} cannot pay invoice {invoice:id}",
                               "un débit de {amount:money} ne peut pas régler la facture {invoice:id}"),
    "bank.ledger_account_unknown": ("account {account} is not in the chart of accounts",
                                    "le compte {account} n'est pas dans le plan comptable"),
    "transfers.which_account": ("say which account pays the salaries with --from-account IBAN (known: {known:ids})",
                                "dites de quel compte partent les salaires (comptes connus : {known:ids})"),
    "transfers.no_account": ("say which account pays the salaries with --from-account IBAN (known: none yet: import "
                             "a statement or name one in [treasury])",
                             "aucun compte de la coopérative n'est connu : importez un relevé, ou nommez-en un dans "
                             "la configuration ([treasury])"),
    # The staff's assignment form (web.pages_bank): what a form's rows must say.
    "bank.assign_nothing": ("say what the line settles: an invoice, a member's net pay of a month, or an account "
                            "with a label",
                            "dites ce que la ligne règle : une facture, le salaire net d'un membre pour un mois, ou "
                            "un compte avec un libellé"),
    "bank.assign_row": ("row {row}: give exactly one of an invoice, a member and a month, or an account and a label",
                        "ligne {row} : indiquez soit une facture, soit un membre et un mois, soit un compte et un "
                        "libellé"),
    "bank.assign_one_part": ("one part of {amount:money} is not the whole line of {line:money}: split it into "
                             "several parts",
                             "une seule part de {amount:money} n'est pas toute la ligne de {line:money} : "
                             "répartissez-la en plusieurs parts"),
    "bank.assign_split_amount": ("row {row} of the split has no amount",
                                 "la ligne {row} de la répartition n'a pas de montant"),
    "bank.assign_amount": ("{value:id} is not an amount", "{value:id} n'est pas un montant"),
    "bank.assign_gone": ("bank line {line:id} is no longer waiting (already matched, or not in this month)",
                         "la ligne bancaire {line:id} n'attend plus d'affectation (déjà rapprochée, ou pas de "
                         "ce mois)"),
    "currency.unsupported": ("{value:id} is not supported: v1 takes EUR documents only",
                             "{value:id} n'est pas pris en charge : seuls les documents en EUR le sont"),
    # Sending an assembly's convocation (streams.convocations, the board's button; DOMAIN.md G1).
    "convocation.too_late": ("the assembly of {day:date} is too near: a convocation leaves at least {days} days "
                             "before it, {left} are left",
                             "l'assemblée du {day:date} est trop proche : la convocation part au moins {days} "
                             "jours avant, il en reste {left} ; l'assemblée doit être reportée"),
    "convocation.no_smtp": ("no SMTP server: set CAE_SMTP_URL, such as smtp://127.0.0.1:2525",
                            "aucun serveur de courriel n'est configuré (CAE_SMTP_URL) : rien n'a été envoyé"),
    "convocation.smtp_failed": ("the SMTP server {where} did not take the messages: {sent} sent and recorded, "
                                "send again for the others",
                                "le serveur de courriel {where} n'a pas pris les messages : {sent} envoyé(s) et "
                                "enregistré(s), renvoyez pour les autres"),
}
