"""Small HTML pieces shared by the page's sections: escaping, figures as French text, cells.

Every string that comes from data (names, labels, motifs, file names, a user's référentiel) goes
through `esc` before it is put in the page: a raison sociale « <script>… » reads as text. Numbers
are formatted here, never by the browser, so that the page reads the same without JavaScript."""

from __future__ import annotations

import html
from typing import Any

from acterr_cli.common.formatting import fr_number
from acterr_cli.outputs.nature import MARK, flat_text, is_flat
from acterr_cli.outputs.reports.xlsx import (
    FULL_COVERAGE,
    MILLION,
    NOT_COMPUTABLE,
    UNIT_SHORT,
    is_money,
    range_text,
    short_text,
    unit_decimals,
)
from acterr_cli.outputs.wording import GRADES
from acterr_cli.results import CALCULE

MINUS = "\u2212"  # a real minus sign: « −1,2 % » reads as one word


def esc(value: Any) -> str:
    """Text for an element or an attribute value (quotes escaped too); None is empty."""
    return "" if value is None else html.escape(str(value), quote=True)


def attrs(**values: Any) -> str:
    """` name="value"` pairs, escaped; None and False are left out, True is a bare attribute.
    A trailing underscore is dropped (class_) and other underscores become hyphens (data_v)."""
    out = []
    for key, value in values.items():
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-")
        out.append(f" {name}" if value is True else f' {name}="{esc(value)}"')
    return "".join(out)


def computed(r: dict | None) -> bool:
    return r is not None and r.get("statut") == CALCULE and r.get("valeur") is not None


def partial(r: dict | None) -> bool:
    """A computed figure that counts only part of what it covers (coverage below 100 %, or unknown)."""
    return computed(r) and (r.get("couverture") is None or r["couverture"] < FULL_COVERAGE)


def figure_text(r: dict | None, unit: str | None = None) -> str:
    """The figure as plain French text: « 59,1 M€ », « ≈ 16,3 M€ », « n.c. »; a partial coverage
    adds « * » (never told by colour alone)."""
    if r is None:
        return ""
    if not computed(r):
        return NOT_COMPUTABLE
    unit = unit if unit is not None else r.get("unite")
    text = _short_unit(short_text(r["valeur"], unit), unit)
    return (f"{MARK} " if is_flat(r) else "") + text + ("*" if partial(r) else "")


def _short_unit(text: str, unit: str | None) -> str:
    """« 1,95 » for a ratio, « 710 ETP-an », « 30 780 logts » (the workbook's short units)."""
    if unit in UNIT_SHORT and text.endswith(f" {unit}"):
        return (text[: -len(unit)] + UNIT_SHORT[unit]).rstrip()
    if unit and is_money(unit) and unit != "€" and text.endswith(" €"):  # « 12 €/hab », « 6,47 €/m²/mois »
        return text[:-1] + unit
    return text


def figure_html(r: dict | None, unit: str | None = None) -> str:
    """The figure with its marks as HTML: an estimation forfaitaire in italics on a pale yellow
    ground (and « ≈ »), a partial coverage with « * », « n.c. » greyed with its motif as a title."""
    if r is None:
        return ""
    if not computed(r):
        return f'<span class="nc"{attrs(title=r.get("motif"))}>{NOT_COMPUTABLE}</span>'
    classes = " ".join(c for c, on in (("flat", is_flat(r)), ("partial", partial(r))) if on)
    text = esc(figure_text(r, unit))
    return f'<span class="{classes}">{text}</span>' if classes else text


def column_scale(results: list[dict | None], unit: str) -> tuple[float, str, int]:
    """How a table column shows its figures, the same way on every row so that they compare at a
    glance: (divisor, unit for the header, decimals) — millions of euros when one reaches a million."""
    if is_money(unit) and any(computed(r) and abs(r["valeur"]) >= MILLION for r in results):
        return MILLION, "M€", 1
    return 1.0, unit, unit_decimals(unit)


def number_html(r: dict | None, scale: tuple[float, str, int], coverage: bool = True) -> str:
    """A figure in a column of `column_scale`, without its unit (the header has it), with its marks;
    `coverage` False for a figure that has none (the « Non réparti » row)."""
    if r is None:
        return ""
    if not computed(r):
        return figure_html(r)
    divisor, _, decimals = scale
    part = coverage and partial(r)
    text = (f"{MARK} " if is_flat(r) else "") + fr_number(r["valeur"] / divisor, decimals) + ("*" if part else "")
    classes = " ".join(c for c, on in (("flat", is_flat(r)), ("partial", part)) if on)
    return f'<span class="{classes}">{esc(text)}</span>' if classes else esc(text)


def sort_value(r: dict | None) -> str | None:
    """The number a sortable column sorts on (the full value, not the rounded text)."""
    return format(float(r["valeur"]), ".10g") if computed(r) else None


def range_html(r: dict | None) -> str:
    if not computed(r):
        return ""
    return esc(_short_unit(range_text(r.get("valeur_basse"), r.get("valeur_haute"), r.get("unite")), r.get("unite")))


def coverage_text(r: dict | None) -> str:
    if not computed(r):
        return ""
    if r.get("couverture") is None:
        return "partielle"
    return f"{fr_number(r['couverture'], 0)} %" + (" *" if partial(r) else "")


def change_text(r: dict | None) -> str:
    """Change since the previous exercice: relative for amounts and counts (« +4,0 % »), in
    points for a percentage (« −1,2 pt »); empty when there is none."""
    if not computed(r):
        return ""
    percent = r.get("unite") == "%"
    change = r.get("variation") if percent else r.get("variation_pct")
    if change is None:
        return ""
    shown = fr_number(abs(change), 1)
    sign = "" if shown == fr_number(0, 1) else "+" if change > 0 else MINUS  # never « −0,0 pt »
    return f"{sign}{shown} {'pt' if percent else '%'}"


def previous_text(r: dict | None) -> str:
    if r is None or r.get("valeur_precedente") is None:
        return ""
    return _short_unit(short_text(r["valeur_precedente"], r.get("unite")), r.get("unite"))


def nature_html(r: dict | None) -> str:
    """The evidence behind a figure: its grade (A / B / C) and, for a flat-rate figure, how much of it."""
    if not computed(r):
        return ""
    grade = r.get("fiabilite")
    parts = [f'<span class="grade"{attrs(title=f"{grade} : {GRADES[grade]}" if grade in GRADES else None)}>{esc(grade)}</span>'] if grade else []
    flat = flat_text(r)
    if flat:
        parts.append(f'<span class="flat">{MARK} {esc(flat)}</span>')
    return " ".join(parts)


