"""The French words of the codes the pages show (issue 15, point 1): statuses, roles, actions,
run kinds and outcomes are stored as stable codes, in English; a page says them in French.

A code with no French word here shows as it is: `said` is for codes, never for free text.
"""

from __future__ import annotations

FRENCH = {
    # roles (web.access.Role)
    "admin": "administration", "staff": "équipe d'appui", "board": "conseil", "member": "membre",
    # a member's status (DOMAIN: CAPE then CESA), an assembly's kind of ritual
    "salarie": "salarié(e) en CESA", "cape": "en CAPE", "left": "parti(e)", "universite": "université",
    # dead letters (ledger.deadletters) and their history
    "pending": "en attente", "replayed": "rejoué", "dismissed": "écarté", "retried": "refusé à nouveau",
    "rejected": "refusé",
    # runs (ledger.runs, ledger.monthly): kinds, origins, outcomes
    "payroll": "paie", "reconcile": "rapprochement", "reconciliation": "rapprochement", "close": "clôture",
    "close-year": "clôture de l'exercice", "payroll-rerun": "bulletin refait", "export": "export des variables de paie",
    "manual": "à la main", "scheduled": "planifié",
    "ok": "bon", "warning": "à regarder", "failed": "échec", "running": "en cours",
    # reconciliation outcomes (engine.reconciliation.OUTCOMES)
    "attention": "à regarder", "not_ok": "pas bon",
    # the kinds of events (engine.events), as the staff's month counts them
    "invoice.issued": "factures émises", "credit_note.issued": "avoirs émis", "payment.received": "paiements reçus",
    "expense.recorded": "dépenses", "salary.set": "salaires demandés", "member.joined": "arrivées",
    "member.status_changed": "changements de statut", "member.became_associate": "entrées au sociétariat",
    "member.left": "départs", "member.bank_account_set": "comptes bancaires de membres",
    "assembly.convened": "assemblées convoquées", "resolution.proposed": "résolutions proposées",
    "attendance.recorded": "présences", "proxy.given": "pouvoirs donnés", "vote.cast": "votes",
    "ritual.held": "rituels tenus", "bank.statement_received": "relevés bancaires",
    "bank.line_assigned": "lignes bancaires affectées", "member.contact_set": "coordonnées de membres",
    "convocation.sent": "convocations envoyées", "bureau.appointed": "bureaux d'assemblée désignés",
    "minutes.recorded": "procès-verbaux",
}


def said(code: object) -> str:
    """A code's French word (`"salarie"` → `"salarié(e) en CESA"`); any other value as it is."""
    text = getattr(code, "value", code)
    return FRENCH.get(str(text), str(text)) if text is not None else ""


def sentence(text: object) -> str:
    """A message shown alone as a sentence: its first letter capitalised. The catalogue's messages
    start in lower case because they are also parts of sentences; a message that starts with a
    quoted field (« iban » : …) keeps the field as it is written."""
    found = str(text)
    return found[:1].upper() + found[1:] if found[:1].isalpha() else found
