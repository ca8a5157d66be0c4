"""The assembly record as a printable HTML document the chair signs (feuille de présence, résultats).

HTML rather than PDF: it prints from any browser ("save as PDF" included)
without a PDF toolchain on the server, and the text stays searchable. The
document is in French, the language of the meeting; the template escapes
every value (member names come from events).
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from governance.config import GovernanceRules
from governance.records import Assembly, MemberFacts
from governance.sheet import AssemblyRecord
from governance.sitting import ProxyRefusal

_ENV = Environment(loader=PackageLoader("governance", "templates"),
                   autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)

MODES = {"present": "présent", "remote": "à distance", "represented": "représenté",
         "correspondence": "vote par correspondance",
         "excused": "excusé", "absent": "absent"}
REFUSALS = {
    ProxyRefusal.SECOND_PROXY: "seul le premier pouvoir donné compte",
    ProxyRefusal.GIVER_NOT_ASSOCIATE: "le mandant n'est pas associé à la date de l'assemblée",
    ProxyRefusal.GIVER_PRESENT: "le mandant est présent et vote lui-même",
    ProxyRefusal.TO_ONESELF: "pouvoir donné à soi-même",
    ProxyRefusal.HOLDER_NOT_ASSOCIATE: "le mandataire n'est pas associé à la date de l'assemblée",
    ProxyRefusal.HOLDER_ABSENT: "le mandataire n'est pas présent",
    ProxyRefusal.OVER_LIMIT: "au-delà du nombre de pouvoirs qu'un mandataire peut détenir",
}
KIND_TITLES = {"AGO": "Assemblée générale ordinaire", "AGE": "Assemblée générale extraordinaire"}


def assembly_html(record: AssemblyRecord, rules: GovernanceRules) -> str:
    a = record.assembly
    quorum = rules.quorum(a.kind, a.convocation)
    majority = rules.majority(a.kind)
    limit = record.sitting.proxy_limit
    return _ENV.get_template("assembly.html").render(
        title=f"{KIND_TITLES.get(a.kind, a.kind)} du {a.held_on.strftime('%d/%m/%Y')}",
        assembly=a, record=record, modes=MODES, refusals=REFUSALS,
        convocation="première convocation" if a.convocation == 1 else "deuxième convocation",
        quorum_fraction="aucun" if quorum == 0 else f"{quorum.numerator}/{quorum.denominator}",
        majority_words=("plus de " if majority.strict else "au moins ") + str(majority)
        + " des voix exprimées pour ou contre",
        proxy_words="un pouvoir" if limit == 1 else f"{limit} pouvoirs",
        refused=[o for o in record.sitting.proxies if not o.counts])


def letters_html(assembly: Assembly, letters: list[tuple[MemberFacts, str]]) -> str:
    """The convocations to send by letter (G1: the associates who did not consent to email), one
    per printed page, each the text the emails carry (`governance.convoke.body`)."""
    return _ENV.get_template("letters.html").render(
        title=f"Convocations par lettre : {KIND_TITLES.get(assembly.kind, assembly.kind).lower()} du "
              f"{assembly.held_on.strftime('%d/%m/%Y')}", assembly=assembly, letters=letters)
