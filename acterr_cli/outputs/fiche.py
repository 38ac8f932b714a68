"""The fiche: one picture per territory or organisation, for a newsletter column or a
social-network post — the headline figures of both ledgers side by side, two small charts, the
source. PNG 1080 × 1350 px (4:5, the size social networks show uncropped) and PDF A5.

Rendered with matplotlib's object API on the Agg canvas (no display, no global pyplot state) and
the DejaVu Sans font bundled with matplotlib, so the result is the same on every machine.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from acterr_cli import __version__
from acterr_cli.common.atomic import atomic_output
from acterr_cli.common.formatting import fr_date, fr_number
from acterr_cli.outputs import maps
from acterr_cli.outputs.nature import FLAT, MARK, flat_text, is_flat, replaced_by
from acterr_cli.outputs.reports.charts import missing_note
from acterr_cli.outputs.reports.model import ENSEMBLE, ORGANISME, TERRITOIRE, ReportData
from acterr_cli.outputs.reports.xlsx import range_text
from acterr_cli.outputs.wording import GRADE_SHORT, computed, count, grade, opening, organisations_count, short_reason, value_words
from acterr_cli.results import CALCULE

PNG_SIZE_IN, PNG_DPI = (7.2, 9.0), 150  # 1080 × 1350 px
A5_IN = (148 / 25.4, 210 / 25.4)
NAVY, BLUE, PURPLE, GREY, LIGHT = "#1F3864", "#1F4E79", "#6A1B5F", "#595959", "#F2F2F2"
DPE_COLORS = ("#4E9A06", "#F2C200", "#C00000")
DPE_INK = ("white", "#262626", "white")  # the share inside each segment: dark on yellow, white would not read
BARS = 6


@dataclass
class FicheSubject:
    key: str  # file-name part: « ensemble », a territory code, a SIREN
    name: str
    subtitle: str
    figures: dict[str, dict]  # indicator → result
    bars: list[tuple[str, float]]  # one figure by territory or organisation, largest first
    bars_title: str
    bars_unit: str = "€"  # « € » (shown in M€ or k€, as the largest bar asks) or « logements »
    bars_code: str = ""  # the indicator of the bars
    bars_missing: str = ""  # no chart: why (said where it would have been)
    bars_note: str = ""  # what the chart leaves out (a cut, a territory not computable), said under it
    opening: str = ""  # the sentences under the header, from the figures


def fiche_subjects(data: ReportData) -> list[FicheSubject]:
    """One fiche per territory or organisation selected: the scope itself, plus each territory
    with dwellings in an overview."""
    subjects = [_subject(data, data.headline, _key(data), data.subject, _bars(data))]
    subjects[0].opening = opening(data, missing=False)  # the panels say what is missing
    if data.kind == ENSEMBLE and data.level != "FRANCE":  # at FRANCE level the one territory is the whole
        for t in data.housed:
            figures = {r["indicateur"]: r for r in data.rows if r["code_territoire"] == t.code}
            orgs = [r for r in data.org_rows if r["code_territoire"] == t.code]
            subjects.append(_subject(data, figures, t.code, t.nom, _org_bars(data, orgs), f"{data.level_noun} {t.code}"))
            subjects[-1].opening = opening(data, figures, t.nom, missing=False)
    return subjects


def _key(data: ReportData) -> str:
    raw = {ENSEMBLE: "ensemble", TERRITOIRE: data.scope.code, ORGANISME: data.scope.siren}[data.kind] or "rapport"
    return re.sub(r"[^0-9A-Za-z_-]", "_", raw)


def _subject(data: ReportData, figures: dict, key: str, name: str, bars: tuple, where: str | None = None) -> FicheSubject:
    dwellings = figures.get("TER-00")
    parts = [f"Exercice {data.year}"] if data.year is not None else []
    if where or data.kind == TERRITOIRE:
        parts.append(where or f"{data.level_noun} {data.scope.code}")
    if data.kind == ORGANISME:
        parts.append(f"SIREN {data.scope.siren}")
    if dwellings and dwellings["statut"] == CALCULE:
        parts.append(f"{fr_number(dwellings['valeur'])} logements sociaux")
    n = organisations_count(data, figures)
    if data.kind != ORGANISME and n:
        parts.append(count(n, "organisme Hlm", "organismes Hlm"))
    return FicheSubject(re.sub(r"[^0-9A-Za-z_-]", "_", key), name, " · ".join(parts), figures, *bars)


# What the bar chart shows: the first of the catalogue's `graphique = { fiche = … }` indicators
# with at least two bars (an investment known for one organisation only would give a one-bar chart).


def _bars(data: ReportData) -> tuple:
    if data.kind == TERRITOIRE:
        return _org_bars(data, data.org_rows)
    per_t: dict[str, dict[str, dict]] = {}
    for r in data.rows:
        per_t.setdefault(r["code_territoire"], {})[r["indicateur"]] = r
    return _choose(data, [(t.nom, per_t.get(t.code, {})) for t in data.housed], f"par {data.level_noun}")


def _org_bars(data: ReportData, rows: list[dict]) -> tuple:
    per_org: dict[str, dict[str, dict]] = {}
    names: dict[str, str] = {}
    for r in rows:
        per_org.setdefault(r["siren"], {})[r["indicateur"]] = r
        names[r["siren"]] = r["raison_sociale"] or r["siren"]
    return _choose(data, [(names[s], results) for s, results in per_org.items()], "par organisme")


def _choose(data: ReportData, items: list[tuple[str, dict[str, dict]]], by: str) -> tuple:
    """(bars, title, unit, code, why none, what is left out) of the first indicator of the fiche's
    chart with two bars or more; without any, why the first one has none (said where the chart would be)."""
    charted = data.referentiel.charted("fiche")
    for ind in charted:
        code, title = ind.code, ind.libelle
        shown = [(name, results[code]) for name, results in items if computed(results.get(code))]
        if sum(bool(r["valeur"]) for _, r in shown) >= 2:
            bars = sorted(((name, r["valeur"]) for name, r in shown), key=lambda b: -b[1])[:BARS]
            flat = f" ({MARK} {FLAT})" if any(is_flat(r) for _, r in shown) else ""
            # the chart the fiche would have drawn first, when it falls back to another, says why
            before = _no_bars(data, items, by, charted[0]) if ind is not charted[0] else ""
            note = " ".join(p for p in (before, _left_out(data, items, by, code, len(shown))) if p)
            return bars, f"{title} {by}{flat}", bars_unit(ind.unite), code, "", note
    return [], "", "", "", _no_bars(data, items, by, charted[0] if charted else None), ""


def _left_out(data: ReportData, items: list[tuple[str, dict[str, dict]]], by: str, code: str, known: int) -> str:
    """« Les 6 plus grands sur 11 ; 11 territoires sur 12 : CU Perpignan … non calculable (…) »: the
    bars the chart leaves out, as the workbook's charts say it under theirs (charts.missing_note)."""
    noun = ("organisme", "organismes") if by == "par organisme" else ("territoire", "territoires")
    cut = f"les {BARS} plus grands sur {known}" if known > BARS else ""
    missing = missing_note(data, [(name, results.get) for name, results in items], code, noun, reason_chars=44)
    text = " ; ".join(p for p in (cut, missing) if p)
    return text[:1].upper() + text[1:] + "." if text else ""


def _no_bars(data: ReportData, items: list[tuple[str, dict[str, dict]]], by: str, ind) -> str:
    """« Pas de graphique « Investissement injecté par organisme » : connu pour 1 organisme sur 2
    (non fourni : …) »."""
    if ind is None:
        return ""
    known = [r for _, results in items for r in [results.get(ind.code)] if r is not None and r["statut"] == CALCULE and r["valeur"]]
    missing = [r for _, results in items for r in [results.get(ind.code)] if r is not None and r["statut"] != CALCULE]
    noun = ("organisme", "organismes") if by == "par organisme" else ("territoire", "territoires")
    if len(items) < 2:
        return f"Pas de graphique {by} : {'un seul' if items else 'aucun'} {noun[0]}."
    what = f"connu pour {count(len(known), *noun)} sur {len(items)}"
    reason = f" ; ailleurs, {short_reason(missing[0].get('motif'), 70)}" if missing else ""
    return f"Pas de graphique « {ind.libelle} {by} » : {what}{reason}" + ("" if reason.endswith("…") else ".")


def bars_unit(unit: str) -> str:
    """« € » for an amount (shown in M€ or k€, as the largest bar asks; « €/an » too: the title
    says what the year is), else the indicator's unit."""
    return "€" if unit in ("€", "€/an") else unit


# ─── rendering ───

def render_fiche(data: ReportData, subject: FicheSubject, size: tuple[float, float] = PNG_SIZE_IN):
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, facecolor="white")
    fig.set_dpi(PNG_DPI)
    scale = size[0] / PNG_SIZE_IN[0]  # font sizes follow the page width
    with _style():
        _header(fig, subject, scale)
        if subject.opening:  # wrapped for the page's width (about 95 characters at this size)
            fig.text(0.05, 0.862, "\n".join(textwrap.wrap(subject.opening, 100)), color="#262626", fontsize=9 * scale, va="top")
        _ledger(fig, 0.04, "VALEUR LOCALE", "l'argent et les emplois qui restent sur le territoire", BLUE,
                *pick_headlines(data, subject, "valeur_locale"), scale)
        _ledger(fig, 0.52, "PLUS-VALUE SOCIALE", "ce que gagnent les ménages logés et le territoire", PURPLE,
                *pick_headlines(data, subject, "plus_value_sociale"), scale)
        fig.text(0.5, 0.402, "Deux registres distincts : ils ne s'additionnent pas.", ha="center", va="center",
                 fontsize=10 * scale, color=GREY, style="italic")
        mapped = maps.fiche_map(fig, data, subject.key)  # the map beside the bars (outputs/maps.py)
        _bar_chart(fig, subject, scale, 0.25 if mapped else 0.58)
        _dpe_chart(fig, subject, scale)
        _footer(fig, data, subject, scale, maps.CREDIT if mapped else "")
    return fig


def _style():
    import matplotlib

    return matplotlib.rc_context({"font.family": "DejaVu Sans", "axes.spines.top": False, "axes.spines.right": False,
                                  "pdf.fonttype": 42})


FIGURES = 3  # figures per ledger


def pick_headlines(data: ReportData, subject: FicheSubject, ledger: str, place: str = "fiche", shown_max: int = FIGURES,
                   reason_chars: int = 46) -> tuple[list[tuple[dict, str]], list[str]]:
    """The first computed headlines of a ledger (`en_tete` `place` in the catalogue: the fiche's, the
    slide's), each with the words under it (`legende`); and, for those ranked before the last one
    shown that are not computed, why (they take the last figure's place: nothing missing goes
    without a word)."""
    ref = data.referentiel
    shown: list[tuple[dict, str]] = []
    missing: list[str] = []
    for ind in ref.headlines(place, ledger):
        r = subject.figures.get(ind.code)
        if r is None or len(shown) + (1 if missing else 0) >= shown_max:
            continue
        if computed(r):
            shown.append((r, ref.caption(ind.code)))
        elif not shown or len(missing) < 2:
            missing.append(f"{ref.short_label(ind.code)} : non calculable — {short_reason(r.get('motif'), reason_chars)}")
    return shown, missing


def _header(fig, subject: FicheSubject, scale: float) -> None:
    fig.patches.append(_rect(fig, 0, 0.875, 1, 0.125, NAVY))
    size = 24 if len(subject.name) <= 30 else 19 if len(subject.name) <= 42 else 15
    fig.text(0.05, 0.952, _shorten(subject.name, 60), color="white", fontsize=size * scale, fontweight="bold", va="center")
    fig.text(0.05, 0.903, subject.subtitle, color="#D9E1F2", fontsize=11 * scale, va="center")


def _ledger(fig, x: float, title: str, subtitle: str, color: str, figures: list[tuple[dict, str]], missing: list[str],
            scale: float) -> None:
    width, top, bottom = 0.44, 0.80, 0.42
    fig.patches.append(_rect(fig, x, bottom, width, top - bottom, LIGHT))
    fig.patches.append(_rect(fig, x, top - 0.008, width, 0.008, color))
    fig.text(x + 0.025, top - 0.035, title, color=color, fontsize=14 * scale, fontweight="bold", va="center")
    _fitted(fig, x + 0.025, top - 0.065, subtitle, width - 0.04, color=GREY, fontsize=8.5 * scale, va="center")
    if missing:  # where the figures would have been: what is missing and why
        y = top - 0.095 - len(figures) * 0.1
        _wrapped(fig, x + 0.025, y, "\n".join(missing), width - 0.04, color=GREY, fontsize=8 * scale, va="top", style="italic")
    for i, (r, caption) in enumerate(figures):
        y = top - 0.11 - i * 0.1
        flat = flat_text(r)
        value = value_words(r, caption)
        # an estimation forfaitaire never looks measured: marked, in italic, its nature under it
        fig.text(x + 0.025, y, f"{MARK} {value}" if flat else value, color=color, fontsize=25 * scale, fontweight="bold",
                 va="center", style="italic" if flat else "normal")
        # a long caption in a smaller font, on two lines if need be, never past the panel's edge
        _fitted(fig, x + 0.025, y - 0.036, caption, width - 0.04, color="#262626", fontsize=9.5 * scale, va="center")
        spread = range_text(r["valeur_basse"], r["valeur_haute"], r["unite"])
        notes = [f"fiabilité {grade(r)}" if grade(r) else "", flat or "", f"fourchette {spread}" if spread else "",
                 "" if (r["couverture"] or 0) >= 100 - 1e-9 else "couverture partielle"]
        note = " · ".join(n for n in notes if n)
        if note:
            _fitted(fig, x + 0.025, y - 0.06, note, width - 0.04, smallest=0.85, color=GREY, fontsize=8 * scale, va="center")


def _renderer(fig):
    """What measures text as drawn (the Agg canvas; a PDF page keeps the same proportions)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return (fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)).get_renderer()


def _fitted(fig, x: float, y: float, text: str, width: float, smallest: float = 0.8, **props):
    """Text that stays within `width` (a fraction of the figure's width): measured as drawn, in a
    font down to `smallest` times its size, then wrapped (two lines for a caption) at that size."""
    renderer = _renderer(fig)
    artist = fig.text(x, y, text, **props)
    size = props["fontsize"]
    limit = width * fig.bbox.width
    for factor in (0.9, smallest):
        if artist.get_window_extent(renderer).width <= limit:
            return artist
        artist.set_fontsize(size * factor)
    if artist.get_window_extent(renderer).width > limit:
        artist.set_linespacing(1.0)
        _wrap_to(artist, text, limit, renderer)
    return artist


def _wrap_to(artist, text: str, limit: float, renderer) -> None:
    """Wrap the artist's text into the fewest lines no wider than `limit` pixels, as drawn."""
    chars = len(text)
    while chars > 20 and artist.get_window_extent(renderer).width > limit:
        chars -= 3
        artist.set_text("\n".join(line for part in text.split("\n") for line in textwrap.wrap(part, chars)))


def _wrapped(fig, x: float, y: float, text: str, width: float, **props):
    """Text wrapped, as drawn, into lines no wider than `width` (a fraction of the figure's width)."""
    artist = fig.text(x, y, text, **props)
    _wrap_to(artist, text, width * fig.bbox.width, _renderer(fig))
    return artist


def _bar_chart(fig, subject: FicheSubject, scale: float, width: float = 0.58) -> None:
    if len(subject.bars) < 2:
        if subject.bars_missing:  # the place of the chart says why it is empty
            fig.text(0.05, 0.365, "\n".join(textwrap.wrap(subject.bars_missing, 95)), fontsize=9 * scale, color=GREY,
                     style="italic", va="top")
        return
    # what the chart leaves out, under it, on up to three lines left of the map: the bars make room
    ax = fig.add_axes((0.36, 0.262, width, 0.092) if subject.bars_note else (0.36, 0.232, width, 0.122))
    if subject.bars_note:
        _wrapped(fig, 0.05, 0.252, subject.bars_note, 0.31 + width, fontsize=8 * scale, color=GREY, style="italic", va="top",
                 linespacing=1.1)
    labels = [_shorten(name, 30) for name, _ in subject.bars][::-1]
    divisor, unit = _scale(subject)
    values = [v / divisor for _, v in subject.bars][::-1]
    decimals = 1 if max(values) < 100 and divisor > 1 else 0
    bars = ax.barh(labels, values, color=BLUE, height=0.65)
    ax.bar_label(bars, labels=[f"{fr_number(v, decimals)} {unit}" for v in values], padding=3, fontsize=8.5 * scale, color="#262626")
    ax.set_xlim(0, max(values) * 1.25)
    ax.tick_params(axis="y", labelsize=8.5 * scale, length=0)
    ax.xaxis.set_visible(False)  # each bar carries its value: the scale below said nothing more
    ax.spines["bottom"].set_visible(False)
    ax.spines["left"].set_color("#BFBFBF")
    # the title stops short of the map's (beside it when there is one)
    _fitted(fig, 0.05, 0.372, f"{subject.bars_title}, en {unit}", 0.26 + width, fontsize=10.5 * scale, fontweight="bold",
            color=NAVY)


def _dpe_chart(fig, subject: FicheSubject, scale: float) -> None:
    ac, fg = (subject.figures.get(c) for c in ("ENV-01", "ENV-01b"))
    title = "Étiquettes énergie (DPE) des logements à étiquette connue"
    if not computed(ac) or not computed(fg):  # said where the chart would be
        why = next((r for r in (ac, fg) if r is not None and not computed(r)), None)
        fig.text(0.05, 0.178, title, fontsize=10.5 * scale, fontweight="bold", color=NAVY)
        fig.text(0.05, 0.14, "non calculables" + (f" — {short_reason(why.get('motif'), 80)}" if why else
                                                  " — aucun organisme ne fournit ses étiquettes"),
                 fontsize=9 * scale, color=GREY, style="italic", va="center")
        return
    parts = [ac["valeur"], max(0.0, 100 - ac["valeur"] - fg["valeur"]), fg["valeur"]]
    ax = fig.add_axes((0.05, 0.12, 0.9, 0.04))
    left = 0.0
    for value, color, ink in zip(parts, DPE_COLORS, DPE_INK, strict=True):
        ax.barh([0], [value], left=left, color=color, height=1)
        if value >= 6:  # the share inside its segment when it fits; the legend below names all three
            ax.text(left + value / 2, 0, f"{fr_number(value, 0)} %", ha="center", va="center", color=ink,
                    fontsize=10 * scale, fontweight="bold")
        left += value
    ax.set_xlim(0, 100)
    ax.set_axis_off()
    fig.text(0.05, 0.178, title + (f" — fiabilité {grade(ac)}" if grade(ac) else ""), fontsize=10.5 * scale,
             fontweight="bold", color=NAVY)
    for k, (value, color, label) in enumerate(zip(parts, DPE_COLORS, ("A à C", "D ou E", "F ou G"), strict=True)):
        fig.text(0.05 + k * 0.3, 0.097, "■", color=color, fontsize=11 * scale, va="center")
        fig.text(0.085 + k * 0.3, 0.097, f"{label} : {fr_number(value, 1)} %", color="#262626", fontsize=9 * scale, va="center")


def _footer(fig, data: ReportData, subject: FicheSubject, scale: float, credit: str = "") -> None:
    day = fr_date(data.meta.get("calcule_le"))
    text = (f"Source : acterr {data.meta.get('acterr', __version__)}, référentiel {data.referentiel.version}"
            + (f", calcul du {day}" if day else "") + ". Fourchettes : paramètres à leurs bornes basse et haute ; "
            "méthode et sources : rapport Excel, feuille Méthodologie. " + GRADE_SHORT + (f" {credit}" if credit else ""))
    flat = [r for ledger in ("valeur_locale", "plus_value_sociale") for r, _ in pick_headlines(data, subject, ledger)[0] if is_flat(r)]
    if flat or MARK in subject.bars_title:
        codes = dict.fromkeys([r["indicateur"] for r in flat] + ([subject.bars_code] if MARK in subject.bars_title else []))
        replace = " ; ".join(t for t in (replaced_by(data.referentiel, c) for c in codes) if t)
        text = (f"{MARK} {FLAT} : moyenne nationale à la place d'une donnée locale absente, pas une mesure"
                + (f" ; pour la remplacer : {replace}" if replace else "") + ". " + text)
    # from the bottom up: a longer footer (an estimation forfaitaire told) never climbs onto the DPE legend
    fig.text(0.05, 0.012, "\n".join(textwrap.wrap(text, 118)), fontsize=7.5 * scale, color=GREY, va="bottom")


def _rect(fig, x: float, y: float, w: float, h: float, color: str):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, transform=fig.transFigure, facecolor=color, edgecolor="none", zorder=-1)


def _scale(subject: FicheSubject) -> tuple[float, str]:
    """Amounts in M€ from a million up, else in k€; counts as they are."""
    if subject.bars_unit != "€":
        return 1.0, subject.bars_unit
    return (1e6, "M€") if max(v for _, v in subject.bars) >= 1e6 else (1e3, "k€")


def _shorten(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def write_fiche(path: Path, data: ReportData, subject: FicheSubject) -> None:
    """PNG at 1080 × 1350 px, or PDF on an A5 page (laid out for that size), written atomically."""
    save_figure(Path(path), lambda size: render_fiche(data, subject, size), PNG_SIZE_IN, A5_IN, PNG_DPI)


def save_figure(path: Path, render, png_size: tuple[float, float], pdf_size: tuple[float, float], dpi: int) -> None:
    """A figure drawn by `render(size)` at the size of the file's format (.pdf or PNG), written atomically."""
    pdf = path.suffix.lower() == ".pdf"
    fig = render(pdf_size if pdf else png_size)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="pdf" if pdf else "png", dpi=dpi)
