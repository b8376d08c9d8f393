"""Numbers as a reader of either language writes them: a decimal point and a thousands comma
in English (``1,664.5``), a decimal comma and a thin space in Swedish (``1 664,5``), a true
minus sign (``−``) for a negative number, and a signed form for a change (``+0,3``)."""

from __future__ import annotations

import math
import re

MINUS = "\u2212"
"""The minus sign (typography; not the hyphen ``-``)."""
THIN_SPACE = "\u202f"
"""Swedish thousands separator (a narrow no-break space, so a number never breaks a line)."""
DASH = "\u2013"
"""Between the ends of a range (``10.8–11.5``, ``2017–2021``)."""


def number(value: float | int | None, digits: int = 1, lang: str = "en", sign: bool = False) -> str:
    """``value`` with ``digits`` decimals in ``lang``'s style; ``sign`` shows ``+`` on a positive
    change. Nothing (``""``) for a missing or not-finite value; never ``-0``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    rounded = round(float(value), digits) + 0.0
    if rounded == 0:
        rounded = 0.0
    text = f"{abs(rounded):,.{digits}f}"
    if lang == "sv":
        text = text.replace(",", THIN_SPACE).replace(".", ",")
    if rounded < 0:
        return MINUS + text
    return "+" + text if sign and rounded > 0 else text


def percent(value: float | None, digits: int = 0, lang: str = "en", sign: bool = False) -> str:
    """A share (0.25) as a percentage (``25 %``, ``+3 %``); nothing for a missing value."""
    if value is None or not math.isfinite(float(value)):
        return ""
    return f"{number(float(value) * 100, digits, lang, sign)} %"


def written(value: object, spec: str = "", lang: str = "en") -> str:
    """``value`` in Python's format ``spec`` (``.2f``, ``+.2f``, ``.4g``; none: as ``str``
    writes it): as it is in English, in Swedish with :func:`decimal_commas`. For terminal and
    chart text whose English form is kept as it was (``number`` adds thousands separators)."""
    text = format(value, spec)
    return decimal_commas(text) if lang == "sv" else text


_DECIMAL_POINT = re.compile(r"(?<=\d)\.(?=\d)")
_HYPHEN_MINUS = re.compile(r"(?<![\w.])-(?=\d)")


def decimal_commas(text: str) -> str:
    """The numbers in ``text`` as Swedish writes them: a decimal comma (``0,25``) and a true
    minus sign (``−3``); a hyphen within a word or exponent (``1e-05``) stays."""
    return _HYPHEN_MINUS.sub(MINUS, _DECIMAL_POINT.sub(",", text))


def interval(low: str, high: str, lang: str = "en") -> str:
    """A closed interval of two written numbers: ``[0.5, 1]``; in Swedish ``[0,5; 1]``, since
    the comma is the decimal sign."""
    return f"[{low}; {high}]" if lang == "sv" else f"[{low}, {high}]"


def span(low: str, high: str) -> str:
    """Two ends as a range (``10.8–11.5``); a range whose ends read the same is one number."""
    return low if low == high else f"{low}{DASH}{high}"


def years(first: int, last: int) -> str:
    """A span of years as a reader writes it (``2017–2021``; one year alone)."""
    return str(first) if first == last else f"{first}{DASH}{last}"
