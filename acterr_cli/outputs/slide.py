"""The slide: one 16:9 picture per territory or organisation, for a presentation or a social
network — the headline figures of both ledgers in plain words, the map, the sources.
PNG 1920 × 1080 px and a one-page PDF (13,33 × 7,5 in, the widescreen slide size).

Same subjects as the fiche (`fiche_subjects`: the report's subject, plus each territory with
dwellings in an overview); its figures are the catalogue's « diapo » headlines (`en_tete`), with
their `legende`; same rules as the fiche: a flat-rate figure carries its
mark and is told in the sources line, the two ledgers are never added. Rendered with matplotlib's
object API on the Agg canvas and the DejaVu Sans font bundled with it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from acterr_cli import __version__
from acterr_cli.common.formatting import fr_date
from acterr_cli.outputs import maps
from acterr_cli.outputs.fiche import FicheSubject, pick_headlines, save_figure
from acterr_cli.outputs.nature import FLAT, MARK, flat_text, is_flat
from acterr_cli.outputs.reports.model import ENSEMBLE, ReportData
from acterr_cli.outputs.reports.xlsx import short_text

PNG_SIZE_IN, PNG_DPI = (16.0, 9.0), 120  # 1920 × 1080 px
PDF_SIZE_IN = (13.333, 7.5)
NAVY, BLUE, PURPLE, GREY, LIGHT = "#1F3864", "#1F4E79", "#6A1B5F", "#595959", "#F2F2F2"
MAP_RECT = (0.57, 0.085, 0.415, 0.75)  # figure fractions
MAP_SIZE_IN, MAP_DPI = (6.6, 5.4), 150  # drawn once, placed in MAP_RECT on both pages
SHOWN = 3  # figures per ledger
REASON_CHARS = 60  # why a figure is missing, in its slot


def slide_name(stem: str, key: str) -> str:
    """« NOM_diapo_CODE »: the report's name, then the territory code, SIREN or « ensemble »."""
    return f"{stem}_diapo_{key}"


def render_slide(data: ReportData, subject: FicheSubject, size: tuple[float, float] = PNG_SIZE_IN):
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    scale = size[0] / PNG_SIZE_IN[0]
    fig = Figure(figsize=size, facecolor="white")
    with matplotlib.rc_context({"font.family": "DejaVu Sans", "pdf.fonttype": 42}):
        fig.patches.append(Rectangle((0, 0.86), 1, 0.14, transform=fig.transFigure, facecolor=NAVY, edgecolor="none", zorder=-1))
        name = textwrap.shorten(subject.name, 70, placeholder="…")
        fig.text(0.03, 0.945, name, color="white", fontsize=(32 if len(name) <= 40 else 24) * scale, fontweight="bold", va="center")
        fig.text(0.03, 0.89, subject.subtitle, color="#D9E1F2", fontsize=15 * scale, va="center")
        local, local_missing = pick_headlines(data, subject, "valeur_locale", "diapo", SHOWN, REASON_CHARS)
        social, social_missing = pick_headlines(data, subject, "plus_value_sociale", "diapo", SHOWN, REASON_CHARS)
        _ledger(fig, 0.025, "VALEUR LOCALE", "l'argent et les emplois qui restent sur le territoire", BLUE, local, scale, local_missing)
        _ledger(fig, 0.295, "PLUS-VALUE SOCIALE", "ce que gagnent les ménages logés et le territoire", PURPLE, social, scale,
                social_missing)
        fig.text(0.285, 0.105, "Deux registres distincts : ils ne s'additionnent pas.", ha="center", va="center",
                 fontsize=12 * scale, color=GREY, style="italic")
        _map(fig, data, subject, scale)
        _sources(fig, data, [r for r, _ in local + social], scale)
    return fig


def _ledger(fig, x: float, title: str, subtitle: str, color: str, figures: list[tuple[dict, str]], scale: float,
            missing: list[str] = ()) -> None:
    from matplotlib.patches import Rectangle

    width, top, bottom = 0.26, 0.82, 0.14
    fig.patches.append(Rectangle((x, bottom), width, top - bottom, transform=fig.transFigure, facecolor=LIGHT,
                                 edgecolor="none", zorder=-1))
    fig.patches.append(Rectangle((x, top - 0.01), width, 0.01, transform=fig.transFigure, facecolor=color,
                                 edgecolor="none", zorder=-1))
    fig.text(x + 0.015, top - 0.055, title, color=color, fontsize=20 * scale, fontweight="bold", va="center")
    fig.text(x + 0.015, top - 0.1, subtitle, color=GREY, fontsize=11 * scale, va="center")
    if not figures:
        fig.text(x + 0.015, top - 0.2, "non calculable\n(données manquantes : voir le rapport,\nfeuille Qualité des données)",
                 color=GREY, fontsize=14 * scale, va="top")
        return
    for i, (r, caption) in enumerate(figures):
        y = top - 0.2 - i * 0.19
        flat = flat_text(r)
        value = short_text(r["valeur"], r["unite"]).replace(" ETP-année", "").replace(" ménages", "")
        fig.text(x + 0.015, y, f"{MARK} {value}" if flat else value, color=color, fontsize=38 * scale, fontweight="bold",
                 va="center", style="italic" if flat else "normal")
        fig.text(x + 0.015, y - 0.065, textwrap.shorten(caption, 52, placeholder="…"), color="#262626",
                 fontsize=12 * scale, va="center")
        if flat:
            fig.text(x + 0.015, y - 0.1, flat, color=GREY, fontsize=10.5 * scale, va="center")
    if missing:  # in the slot of the next figure, as the fiche does
        lines = [line for text in missing[:2] for line in textwrap.wrap(text, 46)]
        fig.text(x + 0.015, top - 0.2 - len(figures) * 0.19 + 0.04, "\n".join(lines[:5]), color=GREY, fontsize=11 * scale,
                 style="italic", va="top", linespacing=1.3)


def _map(fig, data: ReportData, subject: FicheSubject, scale: float) -> None:
    key = subject.key if data.kind == ENSEMBLE and subject.key != "ensemble" else None
    image = maps.subject_image(data, key, MAP_SIZE_IN, MAP_DPI)
    if image is None:  # said where the map would have been
        reason = ("au niveau France, le territoire est unique" if data.level == "FRANCE"
                  else "aucun indicateur cartographié n'est calculable ici")
        fig.text(MAP_RECT[0] + MAP_RECT[2] / 2, 0.5, f"Pas de carte :\n{reason}.", ha="center", va="center",
                 fontsize=14 * scale, color=GREY)
        return
    maps.place(fig, MAP_RECT, image)


def _sources(fig, data: ReportData, shown: list[dict], scale: float) -> None:
    when = fr_date(data.meta.get("calcule_le"))
    day = f", calcul du {when}" if when else ""
    text = (f"Sources : acterr {data.meta.get('acterr', __version__)}, référentiel {data.referentiel.version}{day} ; "
            f"données des organismes, exercice {data.year if data.year is not None else 'non précisé'} "
            "(contours de la carte : voir sous la carte). Méthode : rapport Excel, feuille Méthodologie.")
    if any(is_flat(r) for r in shown):
        text = f"{MARK} {FLAT} : moyenne nationale à la place d'une donnée locale absente, pas une mesure. " + text
    fig.text(0.03, 0.02, "\n".join(textwrap.wrap(text, 190)), fontsize=10 * scale, color=GREY, va="bottom")


def write_slide(path: Path, data: ReportData, subject: FicheSubject) -> None:
    """PNG at 1920 × 1080 px, or a one-page 16:9 PDF, written atomically."""
    save_figure(Path(path), lambda size: render_slide(data, subject, size), PNG_SIZE_IN, PDF_SIZE_IN, PNG_DPI)
