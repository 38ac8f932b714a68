"""The Synthèse sheet: the page a board reads. Headline figures in panels — valeur locale beside
plus-value sociale (never added), then environment and territorial context — each with its
low–high range, coverage and change vs N-1; two charts, one per ledger; reading notes.

Each headline value cell carries a workbook name `acterr_<CODE>` (acterr_ECO_01…), the same
names a user template uses (see template_fill.py).
"""

from __future__ import annotations

from datetime import datetime

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from acterr_cli import __version__
from acterr_cli.common.formatting import fr_datetime, fr_number
from acterr_cli.outputs.nature import LEGEND, MARK, NON_REPARTI_NOM, UNPLACED_WHAT, flat_notes, flat_text
from acterr_cli.outputs.reports.charts import ChartData, synthese_charts
from acterr_cli.outputs.reports.model import ENSEMBLE, ORGANISME, TERRITOIRE, ReportData
from acterr_cli.outputs.reports.peers import MIN_PEERS
from acterr_cli.outputs.reports.xlsx import (
    GREY,
    LEDGER_COLORS,
    NOT_COMPUTABLE,
    ORANGE,
    RED,
    Formats,
    defined_name,
    display_format,
    fit_row,
    merged,
    note,
    print_setup,
    put,
    range_text,
    short_text,
    variation_format,
)
from acterr_cli.outputs.wording import (
    GRADE_COLORS,
    GRADE_LEGEND,
    count,
    grade,
    opening,
    organisations_count,
    overlap_notes,
    short_reason,
)
from acterr_cli.referentiel.model import LEDGER_LABELS, Referentiel
from acterr_cli.results import CALCULE

SHEET = "Synthèse"
LEDGER_SENTENCE = ("Valeur locale et plus-value sociale sont deux registres distincts : ils se lisent côte à côte "
                   "et ne s'additionnent jamais.")
# The four panels, two by two: (ledger, subtitle). Their figures are the catalogue's headlines
# (`en_tete`) of each ledger in their order; a panel shows at most MAX_ROWS, computed ones first.
PANEL_SUBTITLES = (
    ("valeur_locale", "investissement, emplois et fiscalité qui restent sur le territoire"),
    ("plus_value_sociale", "gains des locataires, accès au logement, politique de la ville"),
    ("environnement", "performance énergétique du parc"),
    ("contexte", "le parc des organismes et son territoire"),
)


def panels(referentiel: Referentiel, place: str = "synthese") -> list[tuple[str, str, tuple[str, ...]]]:
    """(ledger, subtitle, headline codes in order) of each panel of a place (« synthese », « terminal »)."""
    return [(ledger, subtitle, tuple(i.code for i in referentiel.headlines(place, ledger))) for ledger, subtitle in PANEL_SUBTITLES]


MAX_ROWS = 7
FLAT_TEXT = "#7F6000"  # the words « estimation forfaitaire » under a label
NC_TEXT = GREY  # the reason under the label of a figure not computed
LABEL_W, VALUE_W, RANGE_W, COVER_W, GRADE_W, EVOL_W, GAP_W = 34, 17, 19, 10, 8, 10, 2


def panel_widths(data: ReportData) -> list[float]:
    return [LABEL_W, VALUE_W, RANGE_W, COVER_W, GRADE_W] + ([EVOL_W] if data.has_previous else [])


def write(wb: Workbook, data: ReportData, fmt: Formats, cd: ChartData) -> None:
    ws = wb.add_worksheet(SHEET)
    ws.hide_gridlines(2)
    widths = panel_widths(data)
    n = len(widths)
    left, right = 1, 1 + n + 1
    ws.set_column(0, 0, 1.5)
    for j, w in enumerate(widths):
        ws.set_column(left + j, left + j, w)
        ws.set_column(right + j, right + j, w)
    ws.set_column(left + n, left + n, GAP_W)
    last_col = right + n - 1
    row = _heading(wb, ws, data, fmt, last_col)
    shown = panels(data.referentiel)
    for pair in (shown[:2], shown[2:]):
        ends = [_panel(wb, ws, data, fmt, row, col, *panel) for panel, col in zip(pair, (left, right), strict=True)]
        row = max(ends) + 1
    row = _charts(wb, ws, data, cd, fmt, row, left, right, sum(widths))
    _notes(ws, data, fmt, row, left, last_col, sum(widths) * 2 + GAP_W)
    print_setup(ws, data.title)
    ws.fit_to_pages(1, 1)  # the board's page: its notes never spill onto a second sheet of paper


def _heading(wb: Workbook, ws: Worksheet, data: ReportData, fmt: Formats, last_col: int) -> int:
    ws.set_row(0, 30)
    merged(ws, 0, 1, last_col, data.title, fmt.title())
    defined_name(wb, "acterr_titre", SHEET, 0, 1)
    merged(ws, 1, 1, last_col - 2, context_line(data), fmt(font_size=11, bold=True))
    defined_name(wb, "acterr_perimetre", SHEET, 1, 1)
    meta = data.meta
    ws.write_string(2, 1, f"Rapport du {datetime.now():%d/%m/%Y} — calcul du {fr_datetime(meta.get('calcule_le'))}, acterr "
                          f"{meta.get('acterr', __version__)}, référentiel {data.referentiel.version}. "
                          f"Chiffres de la synthèse : {data.headline_source}.", fmt.note())
    # the opening sentences, from the figures (what they are, estimates said as such)
    words = fmt(font_size=12, text_wrap=True, valign="vcenter")
    text = opening(data, place="synthese")
    merged(ws, 3, 1, last_col, text, words)
    fit_row(ws, 3, [(text, (sum(panel_widths(data)) * 2 + GAP_W) * 0.95, words)], minimum=22)
    defined_name(wb, "acterr_phrase", SHEET, 3, 1)
    ws.set_row(4, 20)
    ws.write_string(4, 1, LEDGER_SENTENCE, fmt(bold=True, font_size=11, font_color=RED, valign="vcenter"))
    if data.year is not None:
        ws.write_number(1, last_col, data.year, fmt(num_format="0", font_size=11, bold=True, align="right"))
        ws.write_string(1, last_col - 1, "Exercice", fmt(font_size=11, align="right"))
        defined_name(wb, "acterr_exercice", SHEET, 1, last_col)
    return 6


def context_line(data: ReportData) -> str:
    orgs = len(data.organisations)
    noun = data.level_noun
    if data.kind == TERRITOIRE:  # present as the opening sentence and the ranking count them (dwellings, operations, suppliers, staff)
        present = organisations_count(data, data.headline)
        return f"{data.level_noun} {data.scope.code} — {count(present, 'organisme Hlm présent', 'organismes Hlm présents')}"
    others = f" (et {len(data.others)} où {'il n’a' if data.kind == ORGANISME else 'ils n’ont'} que des salariés ou des fournisseurs)" \
        if data.others else ""
    where = f"logements dans {count(len(data.housed), 'territoire')} ({noun}){others}"
    if data.kind == ORGANISME:
        return f"SIREN {data.scope.siren} — {where}"
    return f"{count(orgs, 'organisme Hlm', 'organismes Hlm')} — {where}"


def _chosen(data: ReportData, codes: tuple[str, ...]) -> list[str]:
    present = [c for c in codes if c in data.headline]
    computed = [c for c in present if data.headline[c]["statut"] == CALCULE]
    return (computed + [c for c in present if c not in computed])[:MAX_ROWS]


def _panel(wb: Workbook, ws: Worksheet, data: ReportData, fmt: Formats, row: int, col: int,
           ledger: str, subtitle: str, codes: tuple[str, ...]) -> int:
    """One ledger's panel: band, sub-headers, one row per headline figure. Returns the next row."""
    dark, light = LEDGER_COLORS[ledger]
    widths = panel_widths(data)
    ws.set_row(row, 22)
    merged(ws, row, col, col + len(widths) - 1, f"{LEDGER_LABELS[ledger]} — {subtitle}", fmt.band(dark))
    headers = ["", "Valeur", "Fourchette basse – haute", "Couverture", "Fiabilité"] + (["vs N-1"] if data.has_previous else [])
    sub = fmt(bold=True, font_size=9, font_color=dark, bg_color=light, align="center", valign="vcenter", text_wrap=True)
    for j, h in enumerate(headers):
        ws.write_string(row + 1, col + j, h, sub)
    chosen = _chosen(data, codes)
    if not chosen:
        merged(ws, row + 2, col, col + len(widths) - 1, "Aucun indicateur de ce registre n'est calculé.", fmt.note())
        return row + 3
    for i, code in enumerate(chosen):
        _figure_row(wb, ws, data, fmt, row + 2 + i, col, code, dark)
    return row + 2 + len(chosen)


def _figure_row(wb: Workbook, ws: Worksheet, data: ReportData, fmt: Formats, row: int, col: int, code: str, color: str) -> None:
    r = data.headline[code]
    info = data.labels.get(code, {"libelle": r["libelle"], "unite": r["unite"]})
    line = {"bottom": 1, "bottom_color": "#D9D9D9", "valign": "vcenter"}
    label = fmt(text_wrap=True, **line)
    flat = flat_text(r)
    ok = r["statut"] == CALCULE and r["valeur"] is not None
    # under the label: the nature of an estimate, or why a figure is missing (never a bare « n.c. »)
    under = f"{MARK} {flat}" if flat else "" if ok else f"n.c. — {short_reason(r.get('motif'))}"
    # a monetised social figure: the value shown is gross; its net value (additionality) below the label
    net = f"\nvaleur brute ; nette d'additionnalité : {short_text(r['valeur_nette'], r['unite'])}" if ok and r.get("valeur_nette") is not None else ""
    name = info["libelle"] or data.referentiel.short_label(code)
    if under or net:
        ws.write_rich_string(row, col, fmt(font_size=10), name,
                             *([fmt(font_size=8, italic=True, font_color=FLAT_TEXT if flat else NC_TEXT), f"\n{under}"] if under else []),
                             *([fmt(font_size=8, font_color=GREY), net] if net else []), label)
    else:
        ws.write_string(row, col, name, fmt(font_size=10, text_wrap=True, **line))
    fit_row(ws, row, [(name + (f"\n{under}" if under else "") + net, LABEL_W, label)], minimum=21)
    unit = r["unite"]
    if ok:
        # shrunk to its cell rather than « ### » when a long unit does not fit (« 3,4 /100 ménages »)
        put(ws, row, col + 1, r["valeur"], fmt.figure(r, display_format(unit, r["valeur"]), bold=True, font_size=12,
                                                             font_color=color, align="right", shrink=True, **line))
        defined_name(wb, f"acterr_{code.replace('-', '_')}", SHEET, row, col + 1)
    else:
        ws.write_string(row, col + 1, NOT_COMPUTABLE, fmt(italic=True, font_color=GREY, align="right", **line))
    ws.write_string(row, col + 2, range_text(r["valeur_basse"], r["valeur_haute"], unit) if ok else "",
                    (fmt.flat if flat else fmt)(font_color=GREY, align="center", shrink=True, **line))
    if ok and r["couverture"] is not None:
        put(ws, row, col + 3, r["couverture"], fmt.coverage(r["couverture"], align="center", **line))
    else:
        ws.write_string(row, col + 3, "partielle" if ok else "", fmt(font_color=ORANGE, align="center", **line))
    ws.write_string(row, col + 4, grade(r), fmt(bold=True, font_color=GRADE_COLORS.get(grade(r), GREY), align="center", **line))
    if data.has_previous:
        change = r.get("variation") if unit == "%" else r.get("variation_pct")
        if ok and change is not None:
            put(ws, row, col + 5, change, fmt(num_format=variation_format(unit), align="center", **line))
        else:
            ws.write_blank(row, col + 5, None, fmt(**line))


def unplaced_line(data: ReportData, where: str | None = None) -> str:
    """How much of the headline figures no territory holds (the NON_REPARTI row of the level): the
    Synthèse's additive headlines of both ledgers."""
    parts = []
    codes = [i.code for ledger in ("valeur_locale", "plus_value_sociale") for i in data.referentiel.headlines("synthese", ledger)
             if i.additif]
    for code in codes:
        r, total = data.unplaced_by_code.get(code), data.figure(code)
        if r is None or r["statut"] != CALCULE or not r["valeur"] or total is None or total["statut"] != CALCULE:
            continue
        share = f" ({fr_number(100 * r['valeur'] / total['valeur'], 0)} %)" if total["valeur"] else ""
        label = data.labels.get(code, {}).get("libelle") or code
        parts.append(f"{short_text(r['valeur'], r['unite'])} sur {short_text(total['valeur'], total['unite'])}{share} "
                     f"pour « {label} »")
    where = where or f"de la feuille « {'Territoires' if data.kind == ORGANISME else 'Classement'} »"
    line = (f"ligne « {NON_REPARTI_NOM} » {where} : les territoires plus cette ligne donnent les chiffres de la synthèse.")
    if not parts:
        return "Les chiffres clés sont entièrement placés dans les territoires : rien n'est non réparti."
    return (f"Non placé dans un territoire ({UNPLACED_WHAT}) : " + " ; ".join(parts) + f" — {line}")


def _charts(wb: Workbook, ws: Worksheet, data: ReportData, cd: ChartData, fmt: Formats, row: int, left: int, right: int,
            width_chars: float) -> int:
    width = int(width_chars * 7 + 5 * len(panel_widths(data)))
    charts = synthese_charts(wb, data, cd, width)
    tallest = 0
    for chart, col in zip(charts, (left, right), strict=True):
        if chart is None:
            continue
        if isinstance(chart, str):  # no chart: why, where it would have been
            ws.write_string(row, col, chart, fmt.note())
            tallest = max(tallest, 20)
            continue
        ws.insert_chart(row, col, chart, {"x_offset": 0, "y_offset": 6})
        tallest = max(tallest, chart.height)
    return row + (tallest // 20 + 2 if tallest else 0)


def _notes(ws: Worksheet, data: ReportData, fmt: Formats, row: int, first: int, last: int, width: float) -> None:
    texts = [
        "Fourchette basse – haute : valeurs obtenues avec les paramètres à leurs bornes basses et hautes (feuille « Paramètres »). "
        "Couverture : part des logements des organismes concernés dont les données nécessaires ont été fournies (en orange "
        "quand elle est incomplète). n.c. : non calculable — une donnée manque ; ce n'est jamais compté comme zéro "
        "(motif en bref sous le libellé, en entier : feuille « Qualité des données »).",
        GRADE_LEGEND,
    ]
    if any(data.headline[c].get("valeur_nette") is not None for _, _, codes in panels(data.referentiel) for c in _chosen(data, codes)):
        texts.append("Valeur brute et valeur nette : les chiffres monétisés de la plus-value sociale sont donnés bruts ; leur "
                     "valeur nette d'additionnalité, écrite sous le libellé, retire l'effet d'aubaine (ce qui serait arrivé sans "
                     "l'organisme), la part due à d'autres acteurs (attribution) et la valeur retirée à d'autres (déplacement) — "
                     "hypothèses déclarées, voir la feuille « Méthodologie ».")
    if data.has_previous:
        texts.append("vs N-1 : évolution par rapport à l'exercice précédent — en % pour les montants et les effectifs, "
                     "en points (pt) pour les parts en %.")
    shown = [data.headline[c] for _, _, codes in panels(data.referentiel) for c in _chosen(data, codes)]
    names = {c: info["libelle"] for c, info in data.labels.items()}
    texts += overlap_notes(data.referentiel, [r["indicateur"] for r in shown], lambda c: names.get(c) or data.referentiel.short_label(c))
    flat = flat_notes(shown, data.referentiel, names, codes=False)
    if flat:
        texts.append(f"Sur fond jaune, {LEGEND}")
        texts += flat
    if data.kind in (ENSEMBLE, ORGANISME) and data.unplaced:
        texts.append(unplaced_line(data))
    elif data.kind == ENSEMBLE and data.headline_source.startswith("ensemble"):
        texts.append("Les chiffres de la synthèse portent sur l'ensemble des organismes importés, y compris leurs données de "
                     "niveau organisme (effectif, liasse) qu'aucun territoire ne peut recevoir seul : ils peuvent donc dépasser "
                     "la somme des territoires de la feuille « Classement ».")
    if not data.peers and len(data.organisations) and data.inputs.national is not None:
        texts.append(f"Comparaison aux pairs (feuille « Pairs ») : il faut au moins {MIN_PEERS} autres organismes importés "
                     "avec l'indicateur calculé ; ce n'est pas le cas ici.")
    if data.kind != TERRITOIRE and data.others:
        texts.append(f"{count(len(data.others), 'autre territoire', 'autres territoires')} où {'l’organisme n’a' if data.kind == ORGANISME else 'les organismes n’ont'} "
                     "pas de logement mais des salariés ou des fournisseurs figurent dans les feuilles de détail, après les "
                     "territoires classés.")
    ws.write_string(row, first, "À lire", fmt.section())
    row += 1
    for text in texts:
        row = note(ws, fmt, row, text, first, last, width)
