"""`cae tally`, `cae assembly`, `cae attendance`, `cae members`: governance, read from the record.

Each command recomputes from the recorded events (nothing is stored beside
them) with the governance rules of `--config` (its `[[governance]]` blocks
over the packaged ones, DOMAIN.md, Governance). An unknown resolution or
assembly is a user error: one line on stderr, exit 1 (CONTRACT.md §3).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from rich.table import Table

from cli.convocations import send_convocations
from cli.common import console, day_option, db_options, emit_json, json_option, open_db, today, user_errors
from cli.tables import figures, records, show, texts
from engine.extras import require
from engine.money import fmt
from governance.chart import participation_chart
from governance.config import GovernanceConfig, load_governance
from governance.membership import members_view
from governance.participation import Participation, meetings_of, participation
from governance.minutes import minutes_document
from governance.printable import assembly_html
from governance.results import record_of_assembly, tally_resolution
from governance.sheet import AssemblyRecord
from governance.store import (all_resolutions, capital_held, load_attendance, load_meetings, load_members,
                              load_statuses)
from governance.records import Resolution
from governance.tally import Tally

LABELS = {"for": "For", "against": "Against", "abstain": "Abstain", "blank": "Blank"}
STATUSES = {"cape": "CAPE", "salarie": "CESA (salarié)", "left": "left"}


def _yes(flag: bool) -> str:
    return "[green]yes[/]" if flag else "[red]no[/]"


def _regular(flag: bool | None) -> str:
    """G1: an assembly convened too late is flagged wherever its tally shows."""
    return "[yellow]not known (no sending date)[/]" if flag is None else (
        "[green]yes[/]" if flag else "[red]no: irregularly convened[/]")


def tally_table(t: Tally) -> Table:
    table = Table(title=f"Tally of {t.resolution.resolution_id}: {t.resolution.title}",
                  show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    rows = [("Assembly", f"{t.resolution.assembly_id} ({t.kind})"), ("Electorate", str(t.eligible)),
            ("Present", str(t.present)), ("Represented", str(t.represented)),
            ("By correspondence", str(t.postal)),
            ("Quorum required", str(t.quorum_required)), ("Quorum met", _yes(t.quorum_met)),
            ("Convened in time", _regular(t.regular))]
    rows += [(LABELS[choice], str(n)) for choice, n in t.counts]
    rows += [("Majority", ("more than " if t.majority.strict else "at least ") + str(t.majority)),
             ("Adopted", _yes(t.adopted))]
    for label, value in rows:
        table.add_row(label, value)
    return table


def not_counted_table(t: Tally) -> Table:
    table = Table(title=f"{len(t.not_counted)} vote(s) not counted")
    for name in ("Event", "Member", "Cast by", "Choice", "Reason"):
        table.add_column(name)
    for n in t.not_counted:
        table.add_row(n.vote.event_id, n.vote.member_id, n.vote.cast_by or "", n.vote.choice, n.detail)
    return table


@click.command("tally")
@click.argument("resolution_id")
@db_options
@json_option
@user_errors
def tally_command(resolution_id: str, db_url: str | None, config_path: str | None,
                  as_json: bool) -> None:
    """A resolution's tally: electorate, quorum, votes, majority, and the votes not counted."""
    config = load_governance(config_path)
    with open_db(db_url).connect() as conn:
        result = tally_resolution(conn, resolution_id, config)
    if as_json:
        emit_json(result.to_json())
        return
    console.print(tally_table(result))
    if result.not_counted:
        console.print(not_counted_table(result))


@click.command("assemblies")
@db_options
@json_option
@user_errors
def assemblies_command(db_url: str | None, config_path: str | None, as_json: bool) -> None:
    """The assemblies recorded, latest first, with their resolutions: the ids `cae tally` and `cae assembly` take."""
    with open_db(db_url).connect() as conn:
        assemblies, _ = load_meetings(conn)
        resolutions = all_resolutions(conn)
    of: dict[str, list[Resolution]] = {}
    for r in resolutions:
        of.setdefault(r.assembly_id, []).append(r)
    latest = sorted(assemblies, key=lambda a: (a.held_on, a.assembly_id), reverse=True)
    if as_json:
        emit_json({"assemblies": [
            {"assembly_id": a.assembly_id, "kind": a.kind, "held_on": a.held_on.isoformat(),
             "convocation": a.convocation, "resolutions": [{"resolution_id": r.resolution_id, "title": r.title}
                                                           for r in of.get(a.assembly_id, [])]} for a in latest]})
        return
    if not latest:
        console.print("No assembly recorded yet.")
        return
    table = Table(title="Assemblies")
    for name in ("Assembly", "Kind", "Held on", "Convocation", "Resolutions"):
        table.add_column(name)
    for a in latest:
        table.add_row(a.assembly_id, a.kind, a.held_on.isoformat(), str(a.convocation),
                      "\n".join(f"{r.resolution_id}  {r.title}" for r in of.get(a.assembly_id, [])) or "—")
    console.print(table)


def sheet_table(record: AssemblyRecord) -> Table:
    a = record.assembly
    table = Table(title=f"Attendance sheet of {a.assembly_id} ({a.kind}, {a.held_on}, "
                        f"convocation {a.convocation})")
    for name in ("Member", "Name", "Attendance", "Holds proxies of"):
        table.add_column(name)
    for line in record.lines + record.others:
        how = line.attendance + (f" by {line.represented_by}" if line.represented_by else "")
        if line in record.others:
            how += " (not in the electorate)"
        table.add_row(line.member_id, line.name, how, ", ".join(line.holds_proxies_of))
    return table


def results_table(record: AssemblyRecord) -> Table:
    table = Table(title=f"Resolutions (quorum {record.quorum_required} required, "
                        f"{'met' if record.quorum_met else 'not met'})")
    for name in ("Resolution", "Title", "For", "Against", "Abstain", "Blank", "Not counted", "Adopted"):
        table.add_column(name, justify="right" if name not in ("Resolution", "Title") else "left")
    for t in record.tallies:
        table.add_row(t.resolution.resolution_id, t.resolution.title,
                      *(str(n) for _, n in t.counts), str(len(t.not_counted)), _yes(t.adopted))
    return table


@click.command("assembly")
@click.argument("assembly_id")
@click.option("--html", "html_path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the printable record (feuille de présence and results) to FILE.")
@click.option("--minutes", "minutes_path", metavar="FILE.pdf|FILE.html",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the minutes (procès-verbal, R225-106) with the attendance sheet (R225-95) annexed.")
@click.option("--send-convocations", "convoke", is_flag=True,
              help="Email the convocation (CAE_SMTP_URL) to each associate who consented, once.")
@click.option("--letters", "letters", metavar="FILE.csv", type=click.Path(dir_okay=False, path_type=Path),
              help="With --send-convocations: list the others, to be convened by letter, in FILE.csv.")
@click.option("--base-url", default="http://127.0.0.1:8000", envvar="CAE_BASE_URL", show_default=True,
              help="Where the web app is served: the convocation links to the assembly's page there.")
@db_options
@json_option
@user_errors
def assembly_command(assembly_id: str, html_path: Path | None, minutes_path: Path | None, convoke: bool,
                     letters: Path | None, base_url: str, db_url: str | None, config_path: str | None,
                     as_json: bool) -> None:
    """An assembly's attendance sheet and the results of its resolutions."""
    config = load_governance(config_path)
    if letters is not None and not convoke:
        raise click.BadParameter("--letters goes with --send-convocations")
    if minutes_path is not None and minutes_path.suffix.lower() not in (".pdf", ".html"):
        raise click.BadParameter("--minutes writes a .pdf or a .html file")
    sent = None
    if convoke:
        sent = send_convocations(open_db(db_url), assembly_id, config_path, letters, base_url)
        if not as_json:
            console.print(f"{sent.emails} convocation(s) emailed, {sent.letters} listed for a letter"
                          + (f" in {letters}" if letters and sent.letters else ""), highlight=False)
    with open_db(db_url).connect() as conn:
        record = record_of_assembly(conn, assembly_id, config)
    if html_path is not None:
        html_path.write_text(assembly_html(record, config.at(record.assembly.held_on)), encoding="utf-8")
    if minutes_path is not None:
        _write_minutes(db_url, assembly_id, config, minutes_path)
    if as_json:
        emit_json({**record.to_json(), **({"convocations_sent": sent.to_json()} if sent else {})})
        return
    s = record.sitting
    console.print(sheet_table(record))
    if s.convocation is not None:
        c = s.convocation
        console.print(f"Convened on {c.convened_on or 'an unrecorded day'}"
                      + (f", {c.days_before} days before" if c.days_before is not None else "")
                      + f" ({c.days_required} required): in time {_regular(c.regular)}", highlight=False)
    console.print(f"Electorate {len(s.electorate)}, present {len(s.present)} "
                  f"(of whom remote {record.count('remote')}), excused {record.excused}, absent {record.absent}"
                  f" (of whom represented {s.counted_represented}), by correspondence {len(s.postal)}; "
                  f"at most {s.proxy_limit} {'proxy' if s.proxy_limit == 1 else 'proxies'} per holder.",
                  highlight=False)
    for o in s.proxies:
        if not o.counts and o.refusal is not None:
            console.print(f"  proxy {o.proxy.from_member} → {o.proxy.to_member} not counted: "
                          f"{s.refusal_words(o.refusal)}", highlight=False)
    console.print(results_table(record))
    if html_path is not None:
        console.print(f"printable record written to {html_path}")
    if minutes_path is not None:
        console.print(f"minutes and attendance sheet written to {minutes_path}")


def _write_minutes(db_url: str | None, assembly_id: str, config: GovernanceConfig, path: Path) -> None:
    """The minutes as HTML, or laid out as a PDF by WeasyPrint (the statement's extra)."""
    with open_db(db_url).connect() as conn:
        html = minutes_document(conn, assembly_id, config)
    if path.suffix.lower() == ".pdf":
        from web.pdf import PdfUnavailable, html_to_pdf  # WeasyPrint, only for a PDF

        try:
            path.write_bytes(html_to_pdf(html))
        except PdfUnavailable as exc:
            raise click.ClickException(str(exc)) from None
    else:
        path.write_text(html, encoding="utf-8")


def participation_tables(report: Participation) -> list[Table]:
    years = Table(title="Participation per kind of ritual and year")
    for name in ("Kind", "Year", "Meetings", "Expected", "Came", "Excused", "Guests", "Rate"):
        years.add_column(name, justify="left" if name == "Kind" else "right")
    for kind, year, n, c in report.by_year:
        years.add_row(kind, str(year), str(n), str(c.expected), str(c.came), str(c.excused),
                      str(c.guests), _percent(c.rate))
    members = Table(title="Per member: came / expected")
    kinds = report.kinds()
    members.add_column("Member")
    members.add_column("Name")
    for kind in kinds:
        members.add_column(kind, justify="right")
    rows: dict[str, dict[str, str]] = {}
    names: dict[str, str] = {}
    for member, kind, c in report.by_member:
        names[member.member_id] = member.name
        rows.setdefault(member.member_id, {})[kind] = f"{c.came}/{c.expected}"
    for member_id, cells in rows.items():
        members.add_row(member_id, names[member_id], *(cells.get(k, "") for k in kinds))
    return [years, members]


def _percent(value: object) -> str:
    return "" if value is None else f"{float(str(value)) * 100:.1f} %"


@click.command("attendance")
@click.option("--from", "start", metavar="YYYY-MM-DD", callback=day_option, help="First day of the period.")
@click.option("--to", "end", metavar="YYYY-MM-DD", callback=day_option, help="Last day of the period.")
@click.option("--kind", "kinds", multiple=True, metavar="KIND",
              help="Only these kinds (universite, groupe_metier, AGO…); repeatable.")
@click.option("--chart", "chart_path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the participation chart (.png, .svg or .pdf).")
@db_options
@json_option
@user_errors
def attendance_command(start: date | None, end: date | None, kinds: tuple[str, ...],
                       chart_path: Path | None, db_url: str | None, config_path: str | None,
                       as_json: bool) -> None:
    """Participation in the rituals: per member and kind, and the rate per year."""
    if start and end and start > end:
        raise click.BadParameter("--from is after --to")
    with open_db(db_url).connect() as conn:
        assemblies, rituals = load_meetings(conn)
        report = participation(meetings_of(assemblies, rituals), load_attendance(conn),
                               load_members(conn), start, end, kinds)
    if chart_path is not None:
        require("charts", "cae attendance --chart")
        participation_chart(report, chart_path)
    if as_json:
        emit_json(report.to_json())
        return
    for table in participation_tables(report):
        console.print(table)
    for kind in report.kinds():
        trend = report.trend(kind)
        if trend is not None:
            console.print(f"{kind}: {'+' if trend >= 0 else ''}{float(trend) * 100:.1f} points "
                          "from the year before", highlight=False)
    if chart_path is not None:
        console.print(f"chart written to {chart_path}")


@click.command("members")
@click.option("--on", "on", metavar="YYYY-MM-DD", callback=day_option,
              help="The day the view is taken on (default: today).")
@db_options
@json_option
@user_errors
def members_command(on: date | None, db_url: str | None, config_path: str | None,
                    as_json: bool) -> None:
    """Members with status, associate since, capital held, and the CESA associate deadline."""
    day = on or today(config_path)
    nominal = load_governance(config_path).at(day).share_nominal
    with open_db(db_url).connect() as conn:
        views = members_view(load_members(conn).values(), load_statuses(conn), capital_held(conn, day), day,
                             nominal)
    if as_json:
        emit_json({"on": day.isoformat(), "share_nominal": fmt(nominal), "members": [v.to_json() for v in views]})
        return
    table = Table(title=f"Members on {day} (shares of {fmt(nominal)})")
    texts(table, "Member", "Name", "Status")
    figures(table, "Associate since", "Capital", "Shares", "Toward next", "CESA since", "Associate by",
            "Days left")
    rows = []
    for v in views:
        status = STATUSES.get(v.status or "", "not yet joined") + (", associate" if v.associate else "")
        left = ("" if v.days_left is None else
                f"passed {-v.days_left} days ago" if v.deadline_passed else str(v.days_left))
        cells = (str(v.associate_on or ""), fmt(v.capital), str(v.shares), fmt(v.toward_next_share),
                 str(v.cesa_since or ""), str(v.associate_by or ""), left)
        table.add_row(v.member_id, v.name, status, *cells[:-1],
                      f"[red]{cells[-1]}[/]" if v.deadline_passed else cells[-1])
        rows.append((f"{v.member_id} {v.name}", [("Status", status)] + list(zip(
            ("Associate since", "Capital", "Shares", "Toward next", "CESA since", "Associate by", "Days left"),
            cells))))
    show(table, lambda: records(f"Members on {day} (shares of {fmt(nominal)})", rows))
