"""How messages name what a user sent: in JSON's terms, the language of the events.

A person who wrote `"amount": true` should read `true` in the reason, not
Python's `True`; a list is `["10.00"]`, nothing is `null`, a text is `"M404"`
(issue 8: error messages name fields and values in JSON terms).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any


def term(value: Any) -> str:
    """`value` as JSON writes it; a Decimal as the number text it came from.

    A lone surrogate stays escaped ("\\udc00"): a message is stored and shown, and no UTF-8
    encoder takes one (issue 14, point 9).
    """
    if isinstance(value, Decimal):
        return json.dumps(str(value))
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = json.dumps(str(value), ensure_ascii=False)
    return _SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


_SURROGATE = re.compile("[\ud800-\udfff]")
