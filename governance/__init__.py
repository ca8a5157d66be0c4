"""Governance of the cooperative (DOMAIN.md, Governance): assemblies, proxies, votes, rituals.

Pure domain, from recorded events to figures: `records` (the facts),
`config` (quorum, majority, proxy limit, dated), `sitting` (electorate,
presence, proxies), `tally` (a resolution's count), `sheet` (the attendance
sheet and results), `participation` (attendance over the years),
`membership` (the staff's view), `gate` (what the pipeline dead-letters).
At the edges: `store` and `results` read the database, `printable` and
`chart` write documents.
"""
