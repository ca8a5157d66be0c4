"""What is due on each invoice, read from the invoices as issued and their documents.

An invoice row never changes (`ledger.schema`): what is due is its TTC, less
its credit notes' TTC and what was received for it (DOMAIN.md rule 9: from the
bank or from the client's credit). A negative due is an overpayment, the
client's credit balance.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, select

from ledger import schema


def settled(member_id: str | None = None) -> Any:
    """Per invoice: credited TTC and paid, from its documents (a subquery to join on invoice_id).

    With `member_id`, only that member's invoices are summed: a member's page reads a few
    documents through the invoice index instead of grouping the whole table.
    """
    d = schema.documents
    query = (select(d.c.invoice_id,
                    func.sum(case((d.c.kind == "credit_note", d.c.amount), else_=0)).label("credited"),
                    func.sum(case((d.c.kind == "payment", d.c.amount), else_=0)).label("paid"))
             .where(d.c.invoice_id.is_not(None)).group_by(d.c.invoice_id))
    if member_id is not None:
        i = schema.invoices
        query = query.where(d.c.invoice_id.in_(select(i.c.invoice_id).where(i.c.member_id == member_id)))
    return query.subquery("settled")


def with_due(member_id: str | None = None) -> tuple[Select[Any], Any]:
    """(a query of invoices with `credited`, `paid` and `due` in cents, the `due` expression);
    with `member_id`, of that member's invoices only."""
    i, s = schema.invoices, settled(member_id)
    credited, paid = func.coalesce(s.c.credited, 0), func.coalesce(s.c.paid, 0)
    due = i.c.ttc - credited - paid
    query = (select(i.c.invoice_id, i.c.member_id, i.c.client, i.c.issued_on, i.c.ht, i.c.ttc,
                    credited.label("credited"), paid.label("paid"), due.label("due"))
             .select_from(i.outerjoin(s, s.c.invoice_id == i.c.invoice_id)))
    if member_id is not None:
        query = query.where(i.c.member_id == member_id)
    return query, due
