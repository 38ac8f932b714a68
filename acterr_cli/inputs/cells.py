"""Cell-level parsing shared by every reader: header keys, French numbers, identifiers.

All parsers are vectorised Polars expressions over text columns: a workbook is read as text
first (codes keep their leading zeros), then each column is parsed according to its kind.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import polars as pl

# Spaces people (and accounting software) put in numbers: normal, non-breaking, narrow no-break.
_SPACES = r"[\s\u00a0\u202f\u2007]"
# Inside trimmed text: a run of two spaces or more, or one space that is not a plain space.
_SPACE_RUN = r"\s\s+|[^\S ]"


# Units people append to a header, with or without brackets: « en € », « k€ », « EUR »,
# « en milliers d'euros », « m² », « % », « kWh/an ». They do not change which column it is.
_UNIT = re.compile(
    r"(?:\ben\s+)?(?:\b(?:k|m|milliers?\s+d|millions?\s+d)\s*'?\s*)?(?:€|\beuros?\b|\beur\b)"
    r"|(?:\ben\s+)?\bm\s*(?:2|²)(?!\w)|(?:\ben\s+)?%|\bkwh(?:\s*/\s*an)?\b|\bpct\b"
)
_THOUSANDS = re.compile(r"\b(?:k\s*€|keur|k\s*euros?|milliers?\s+d\s*'?\s*euros?)")
_MILLIONS = re.compile(r"\b(?:m\s*€|meur|m\s*euros?|millions?\s+d\s*'?\s*euros?)")
MAX_CELL_CHARS = 32_767  # Excel's own limit: a longer cell was not written by Excel or LibreOffice


def _plain(text: object) -> str:
    """Lower case, no accents, underscores as spaces (« montant_ht_eur » reads like « montant ht eur »)."""
    s = unicodedata.normalize("NFKD", str(text)[:500])
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return s.lower().replace("_", " ")


def header_key(text: object) -> str:
    """Key under which a header or sheet name is matched: no case, accents, spaces,
    punctuation, units nor required-field stars (« Montant HT (€) », « MONTANT HT en € » and
    « montant_ht_eur » → « montantht »)."""
    if text is None:
        return ""
    return _header_key(str(text))


@functools.lru_cache(maxsize=65536)
def _header_key(text: str) -> str:
    """Cached: headers, labels and controlled-list values repeat thousands of times."""
    s = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", _plain(text))
    return re.sub(r"[^a-z0-9]", "", _UNIT.sub(" ", s))


def unit_scale(header: object) -> float:
    """Multiplier a header's unit implies for euro amounts: « Montant HT (k€) » → 1000."""
    s = _plain(header or "")
    if _THOUSANDS.search(s):
        return 1_000.0
    if _MILLIONS.search(s):
        return 1_000_000.0
    return 1.0


def clean_text(col: pl.Expr) -> pl.Expr:
    """Trimmed text, inner runs of spaces (any kind: tab, line break, non-breaking) as one plain
    space, empty string → null."""
    s = col.cast(pl.Utf8).str.strip_chars()
    return pl.when(s != "").then(s.str.replace_all(_SPACE_RUN, " "))  # keeps the column's name


def parse_number(col: pl.Expr) -> pl.Expr:
    """French or plain numbers written as text: « 1 234,56 € », « 12 % », « 1234.5 », « 1.234,5 ».

    Returns Float64; a non-empty cell that is not a number gives null (callers compare with the
    text to report it). Percent signs are dropped: « 12 % » reads as 12 (percent fields are in %)."""
    s = col.cast(pl.Utf8).str.replace_all(_SPACES, "").str.replace_all(r"[€%]|EUR|eur", "")
    # With a decimal comma, dots are thousands separators; otherwise the dot is the decimal mark.
    s = pl.when(s.str.contains(",")).then(s.str.replace_all(r"\.", "").str.replace(",", ".")).otherwise(s)
    s = s.str.replace(r"^\((.*)\)$", "-$1")  # accounting negatives « (1 234) »
    return s.cast(pl.Float64, strict=False)


def digits_only(col: pl.Expr) -> pl.Expr:
    """SIREN/SIRET as typed: spaces removed, a spurious « .0 » of a number cell dropped."""
    return col.cast(pl.Utf8).str.replace_all(_SPACES, "").str.replace(r"\.0$", "")


def luhn_valid(code: str | None) -> bool:
    """Luhn key used by SIREN and SIRET (La Poste's SIRET 356000000xxxxx are the known exception)."""
    if not code or not code.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(code)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0 or (len(code) == 14 and code.startswith("356000000"))


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


YES = {"oui", "o", "yes", "y", "1", "vrai", "true", "x"}
NO = {"non", "n", "no", "0", "faux", "false"}
