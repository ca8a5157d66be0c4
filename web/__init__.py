"""`cae serve`: the pages and the JSON API over the ledger (CONTRACT §4 of the engine's contract).

Who sees what is decided in one place, `web.access`, and applied by the data
layer (`web.data`): every query for a member's figures takes the caller, so a
page or an endpoint cannot forget the rule.
"""
