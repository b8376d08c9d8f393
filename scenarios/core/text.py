"""Text from configs and project files (names, descriptions, titles) is data, never code.

HTML escapes it (``html.escape``, in ``report``); the Excel workbook stores it as
text, never as a formula (``report.write_workbook``); the terminal gets it with
control characters shown as escapes (:func:`terminal_safe`).
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Control characters (C0 but newline and tab, DEL, C1) and bidirectional overrides."""


def terminal_safe(text: str) -> str:
    """``text`` with control characters (ANSI escape sequences, carriage returns, bidi
    overrides) shown as escapes such as ``\\x1b``; newlines and tabs are kept."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)
