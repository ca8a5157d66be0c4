"""How a download is named: `content-disposition` that any name, a member id with `€` or a quote in
it included, can go in (issue 14, point 5).

A header is Latin-1 on the wire and a quote ends a quoted `filename`: a name put in as it is
crashes the answer (`€`) or cuts it short (`"`). RFC 6266: `filename` holds an ASCII stand-in
(what is not a letter, a digit, `.`, `-` or `_` becomes `_`), and `filename*` the name itself,
percent-encoded UTF-8 (RFC 8187), which browsers prefer when they read both.
"""

from __future__ import annotations

import re
from urllib.parse import quote


def attachment(name: str) -> dict[str, str]:
    """The headers of a download saved as `name`."""
    stand_in = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return {"content-disposition": f"attachment; filename=\"{stand_in}\"; filename*=UTF-8''{quote(name, safe='')}"}
