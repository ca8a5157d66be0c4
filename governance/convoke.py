"""Who is convened how, and the convocation's French text (DOMAIN.md G1; R225-63, R225-66, R225-68).

By email only an associate who consented in writing (their latest `member.contact_set` with
`convocation_by_email`), by letter every other associate of the electorate. An associate already
convened (a `convocation.sent` for the assembly) is not convened again: sending twice sends nobody
twice. Pure: the sending is `streams.smtp`'s, the recording the pipeline's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from governance.records import Assembly, Contact, Convocation, MemberFacts, Resolution

KIND_TITLES = {"AGO": "Assemblée générale ordinaire", "AGE": "Assemblée générale extraordinaire"}


@dataclass(frozen=True, slots=True)
class Recipients:
    by_email: tuple[tuple[MemberFacts, str], ...]  # (member, address)
    by_letter: tuple[MemberFacts, ...]


def recipients(assembly: Assembly, members: Mapping[str, MemberFacts], contacts: Mapping[str, Contact],
               sent: Iterable[Convocation]) -> Recipients:
    done = {c.member_id for c in sent if c.assembly_id == assembly.assembly_id}
    email: list[tuple[MemberFacts, str]] = []
    letter: list[MemberFacts] = []
    for m in sorted(members.values(), key=lambda m: m.member_id):
        if not m.associate_at(assembly.held_on) or m.member_id in done:
            continue
        contact = contacts.get(m.member_id)
        if contact is not None and contact.convocation_by_email:
            email.append((m, contact.email))
        else:
            letter.append(m)
    return Recipients(tuple(email), tuple(letter))


def subject(assembly: Assembly) -> str:
    return f"Convocation : {KIND_TITLES[assembly.kind].lower()} du {assembly.held_on:%d/%m/%Y}"


def body(assembly: Assembly, resolutions: Iterable[Resolution], member: MemberFacts, deadline: datetime,
         page_url: str) -> str:
    """The convocation: agenda, resolutions' text, place, remote participation, correspondence deadline."""
    ordered = sorted(resolutions, key=lambda r: r.seq)
    lines = [f"Bonjour {member.name},", "",
             f"Vous êtes convoqué·e à l'{KIND_TITLES[assembly.kind].lower()} de la coopérative, "
             f"{'sur première' if assembly.convocation == 1 else 'sur deuxième'} convocation, "
             f"le {assembly.held_on:%d/%m/%Y}.", ""]
    lines.append(f"Lieu : {assembly.place}" if assembly.place else "Lieu : précisé sur la page de l'assemblée.")
    if assembly.remote:
        lines.append(f"Participation à distance : le lien de connexion est sur la page de l'assemblée : {page_url}")
    lines += ["", "Ordre du jour :"]
    lines += [f"  {n}. {r.title}" for n, r in enumerate(ordered, start=1)] or ["  (à venir)"]
    for n, r in enumerate(ordered, start=1):
        lines += ["", f"Résolution {n} : {r.title}" + (" (vote à bulletin secret)" if r.secret else "")]
        lines += [r.text] if r.text else []
    lines += ["", f"Vous pouvez voter par correspondance sur toutes les résolutions jusqu'au "
                  f"{deadline:%d/%m/%Y à %H:%M}, ou donner pouvoir à un autre associé, sur la page de "
                  f"l'assemblée : {page_url}", "", "Le conseil d'administration"]
    return "\n".join(lines) + "\n"


def sent_event(assembly_id: str, member_id: str, channel: str, on: date, at: str) -> dict[str, Any]:
    """The `convocation.sent` of one associate; its id is the assembly and the member's, so recording
    it twice (a crash between sending and recording) is a duplicate, never a second convocation."""
    return {"event_id": f"convocation-{assembly_id}-{member_id}"[:128], "type": "convocation.sent",
            "occurred_at": at, "assembly_id": assembly_id, "member_id": member_id, "channel": channel,
            "sent_on": on.isoformat()}
