"""Detail sheets: the ranking (territories, or organisations of a territory), every consolidated
result (Indicateurs), the view by stakeholder (Parties prenantes) and the benchmark among peers
(Pairs). Each is a named Excel table with frozen headers and a filter per column. The results of
each organisation (Par organisme) are in by_organisation.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from acterr_cli.outputs.nature import (
    LEGEND,
    NON_REPARTI_CODE,
    NON_REPARTI_NOM,
    UNPLACED_WHAT,
    flat_notes,
    flat_remark,
    flat_share,
    wholly_flat,
)
from acterr_cli.outputs.reports import peers as peer_rules
from acterr_cli.outputs.reports.model import ENSEMBLE, ORGANISME, TERRITOIRE, ReportData
from acterr_cli.outputs.reports.xlsx import (
    COVERAGE_FORMAT,
    FR,
    GRADE_MARKS,
    GREY,
    LEDGER_COLORS,
    NAVY,
    NOT_COMPUTABLE,
    ORANGE,
    Col,
    Formats,
    add_table,
    display_format,
    fit_row,
    fit_rows,
    graded_format,
    heading,
    merged,
    note,
    print_setup,
    put,
    range_text,
    table,
    variation_format,
)
from acterr_cli.outputs.wording import GRADE_COLORS, GRADE_LEGEND, GRADES, count, grade
from acterr_cli.referentiel.model import LEDGER_LABELS, STAKEHOLDERS
from acterr_cli.results import CALCULE

EXCEL_MAX_ROWS = 1_048_576
STATUS_LABELS = {"calcule": "calculé", "non_calculable": "non calculable"}
DATA_BARS = {"TER-00": "#BFBFBF", "ECO-01": "#9DC3E6", "SOC-01": "#D5A6CE"}
RANK_NAMES = {ENSEMBLE: "Classement", ORGANISME: "Territoires", TERRITOIRE: "Organismes"}


# ─── ranking ───


def rank_codes(data: ReportData) -> list[tuple[str, str]]:
    """The ranking's columns: the catalogue's `en_tete = { classement = rang }`, with their short labels."""
    return [(i.code, i.short_label) for i in data.referentiel.headlines("classement")]

@dataclass
class _Entity:
    rank: int | None
    name: str
    code: str
    organisations: int | None
    get: Callable[[str], dict | None]


def ranked_entities(data: ReportData) -> list[_Entity]:
    if data.kind == TERRITOIRE:
        per_org: dict[str, dict[str, dict]] = {}
        for r in data.org_rows:
            per_org.setdefault(r["siren"], {})[r["indicateur"]] = r
        names = dict(data.organisations)
        def dwellings(s: str) -> float:
            r = per_org[s].get("TER-00")
            return r["valeur"] if r and r["statut"] == CALCULE and r["valeur"] else 0.0
        order = sorted(per_org, key=lambda s: (-dwellings(s), names.get(s, s).casefold()))
        return [_Entity(i + 1 if dwellings(s) > 0 else None, names.get(s, s), s, None, per_org[s].get)
                for i, s in enumerate(order)]
    per_t: dict[str, dict[str, dict]] = {}
    for r in data.rows:
        per_t.setdefault(r["code_territoire"], {})[r["indicateur"]] = r
    return [_Entity(i + 1 if t.housed else None, t.nom, t.code, t.organismes, per_t.get(t.code, {}).get)
            for i, t in enumerate(data.territories)]


def _figure_cell(ws: Worksheet, fmt: Formats, row: int, col: int, r: dict | None, unit: str, **extra) -> None:
    """A result in a table: the number (orange when partially covered, « ≈ » on a light fill when
    an estimation forfaitaire), « n.c. » when non computable, blank when absent."""
    if r is None:
        ws.write_blank(row, col, None, fmt(**extra))
    elif r["statut"] != CALCULE or r["valeur"] is None:
        ws.write_string(row, col, NOT_COMPUTABLE, fmt.missing(**extra))
    else:
        put(ws, row, col, r["valeur"], fmt.figure({**r, "unite": unit}, **extra))


def ranking(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    name = RANK_NAMES[data.kind]
    ws = wb.add_worksheet(name)
    codes = [(c, label) for c, label in rank_codes(data) if c in data.labels]
    entities = ranked_entities(data)
    housed = sum(e.rank is not None for e in entities)
    first = ["Rang", "Territoire" if data.kind != TERRITOIRE else "Organisme", "Code" if data.kind != TERRITOIRE else "SIREN"]
    with_orgs = data.kind == ENSEMBLE
    # present: dwellings, operations, suppliers or employees there (the terminal counts those housing)
    headers = first + (["Organismes présents"] if with_orgs else []) + [f"{label} ({data.labels[c]['unite']})\n{c}" for c, label in codes]
    widths = [6, 34, 11] + ([10] if with_orgs else []) + [14 if data.labels[c]["unite"].startswith("€") else 11 for c, _ in codes]
    row = heading(ws, fmt, data.title, _ranking_subtitle(data, housed, len(entities)), widths)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    header_fmt = fmt.header()
    fit_row(ws, row, [(h, w, header_fmt) for h, w in zip(headers, widths, strict=True)])
    for i, e in enumerate(entities):
        r = row + 1 + i
        band = {} if e.rank is not None else {"font_color": GREY}
        put(ws, r, 0, e.rank, fmt(align="center", **band))
        wrapped = fmt.wrap(**band)  # long EPCI names wrap in their column instead of running under the next
        ws.write_string(r, 1, e.name, wrapped)
        fit_row(ws, r, [(e.name, widths[1], wrapped)])
        ws.write_string(r, 2, e.code, fmt(**band))
        col = 3
        if with_orgs:
            put(ws, r, 3, e.organisations, fmt.integer(align="center", **band))
            col = 4
        for j, (c, _) in enumerate(codes):
            _figure_cell(ws, fmt, r, col + j, e.get(c), data.labels[c]["unite"])
    last = row + max(1, len(entities))
    add_table(ws, row, 0, last, len(headers) - 1, {
        "name": name, "style": "Table Style Light 9", "autofilter": True,
        "columns": [{"header": h, "header_format": header_fmt} for h in headers],
    })
    col = 4 if with_orgs else 3
    for j, (c, _) in enumerate(codes):
        # no bar drawn from a national flat rate: its length would only repeat the dwellings
        ranked = [e.get(c) for e in entities if e.rank is not None]
        if all(wholly_flat(r) for r in ranked if r is not None and r["statut"] == CALCULE):
            continue
        if c in DATA_BARS and housed:
            ws.conditional_format(row + 1, col + j, row + housed, col + j,
                                  {"type": "data_bar", "bar_color": DATA_BARS[c], "bar_solid": True, "bar_no_border": True})
    below = last + 1
    if data.unplaced:
        _unplaced_row(ws, data, fmt, below, codes, col)
        below += 1
    _total_row(ws, data, fmt, below, codes, col)
    texts = ["En orange : couverture partielle (une partie des organismes n'a pas fourni la donnée). n.c. : non "
             "calculable (motif : feuille « Qualité des données »). Barres : longueur proportionnelle à la valeur dans la colonne."]
    if data.unplaced:
        texts.append(f"« {NON_REPARTI_NOM} » : ce qu'aucun territoire du niveau ne reçoit — {UNPLACED_WHAT} ; les "
                     "territoires plus cette ligne donnent l'ensemble. Ce n'est pas un territoire : ni rang, ni graphique.")
    shown = [e.get(c) for e in entities for c, _ in codes] + [data.figure(c) for c, _ in codes] + \
        [data.unplaced_by_code.get(c) for c, _ in codes]
    notes = flat_notes([r for r in shown if r is not None], data.referentiel, {c: data.labels[c]["libelle"] for c, _ in codes})
    if notes:
        texts.append(f"Sur fond jaune, {LEGEND}")
        texts += notes
    end = below + 2
    for text in texts:
        end = note(ws, fmt, end, text, 0, len(headers) - 1, sum(widths))
    if data.standing:
        _standing(ws, data, fmt, end + 1, widths)
    ws.freeze_panes(row + 1, 2)
    print_setup(ws, data.title, (row, row))


def _standing(ws: Worksheet, data: ReportData, fmt: Formats, row: int, widths: list[float]) -> None:
    """The territory in its région (or département): its share of the sum of the région's
    territories of the same level, and its rank among them, for the headline figures."""
    level, _, name, siblings = data.parent
    noun = {"REGION": "la région", "DEPARTEMENT": "le département"}[level]
    ws.write_string(row, 1, f"{data.subject} dans {noun} {name}", fmt.section())
    headers = ["Indicateur", "Valeur", f"Somme des territoires ({data.level_noun}) de {noun}", "Part", "Rang"]
    spans = [(0, 1), (2, 2), (3, 3), (4, 4), (5, 5)]
    header = fmt.header()
    for (first, last), h in zip(spans, headers, strict=True):
        merged(ws, row + 1, first, last, h, header)
    fit_row(ws, row + 1, [(headers[2], widths[2] if len(widths) > 2 else 10, header)])
    for i, st in enumerate(data.standing):
        r = row + 2 + i
        merged(ws, r, 0, 1, f"{data.labels.get(st.code, {}).get('libelle') or st.code} ({st.code})", fmt())
        put(ws, r, 2, st.value, fmt(num_format=display_format(st.unit, st.value), bold=True, shrink=True))
        put(ws, r, 3, st.total, fmt(num_format=display_format(st.unit, st.total), shrink=True) if st.total is not None else fmt())
        put(ws, r, 4, st.share, fmt(num_format=FR + "0.0" + '" "%', align="center") if st.share is not None else fmt())
        ws.write_string(r, 5, f"{st.rank}e sur {st.ranked}" if st.rank > 1 else f"1er sur {st.ranked}", fmt(align="center"))
    note(ws, fmt, row + 2 + len(data.standing),
         f"Territoires comptés : les {len(siblings)} territoires du niveau {data.level_noun} dont la plupart des communes sont dans "
         f"{noun} {name} ; chiffres des organismes importés (pas tout le parc social). Rang : 1 pour le plus grand chiffre parmi "
         "ceux où il est calculé ; part : pour les montants et effectifs seulement (un taux ne s'additionne pas).",
         0, min(5, len(widths) - 1), sum(widths[:6]))


def _ranking_subtitle(data: ReportData, housed: int, total: int) -> str:
    if data.kind == TERRITOIRE:
        return f"Organismes présents sur {data.subject}, classés par nombre de logements sur le territoire."
    noun = data.level_noun
    text = (f"{count(housed, 'territoire', 'territoires')} ({noun}) où {'l’organisme a' if data.kind == ORGANISME else 'les organismes ont'} "
            "des logements, classés par nombre de logements")
    if total > housed:
        text += f" ; puis {count(total - housed, 'territoire', 'territoires')} sans logement (salariés, fournisseurs), sans rang"
    return text + "."


def _unplaced_row(ws: Worksheet, data: ReportData, fmt: Formats, row: int, codes: list[tuple[str, str]], col: int) -> None:
    """The level's NON_REPARTI figures, between the territories and the total: no rank, outside the
    table (a filter or a sort of the table never mixes it with the territories)."""
    style = {"italic": True, "top": 1, "top_color": GREY}
    ws.write_blank(row, 0, None, fmt(**style))
    ws.write_string(row, 1, NON_REPARTI_NOM, fmt(**style))
    ws.write_string(row, 2, NON_REPARTI_CODE, fmt(font_size=8, **style))
    if col == 4:
        ws.write_blank(row, 3, None, fmt(**style))
    for j, (c, _) in enumerate(codes):
        _figure_cell(ws, fmt, row, col + j, data.unplaced_by_code.get(c), data.labels[c]["unite"], **style)


def _total_row(ws: Worksheet, data: ReportData, fmt: Formats, row: int, codes: list[tuple[str, str]], col: int) -> None:
    label = {ENSEMBLE: "Ensemble des organismes importés", ORGANISME: "Total de l'organisme",
             TERRITOIRE: f"Ensemble du territoire ({data.subject})"}[data.kind]
    top = {"bold": True, "top": 2, "top_color": NAVY}
    ws.write_string(row, 1, label, fmt(**top))
    for j in (0, 2, 3)[: col - 1]:
        ws.write_blank(row, j, None, fmt(**top))
    for j, (c, _) in enumerate(codes):
        _figure_cell(ws, fmt, row, col + j, data.figure(c), data.labels[c]["unite"], **top)


# ─── every result ───

def _result_columns(data: ReportData, fmt: Formats) -> list[Col]:
    def number(key: str, label: str, width: float, bold: bool = False) -> Col:
        return Col(label, width, lambda r: r[key] if r["statut"] == CALCULE else None,
                   lambda r: fmt.figure(r, bold=bold, shrink=True))

    cols = []
    if data.kind != TERRITOIRE:
        cols += [Col("Code territoire", 10, lambda r: r["code_territoire"]), Col("Territoire", 24, lambda r: r["nom_territoire"], lambda r: fmt.wrap())]
    cols += [
        Col("Code indicateur", 9, lambda r: r["indicateur"]),
        Col("Indicateur", 32, lambda r: r["libelle"], lambda r: fmt.wrap()),
        Col("Registre", 13, lambda r: LEDGER_LABELS.get(r["registre"], r["registre"]), lambda r: fmt.wrap(font_size=9)),
        number("valeur", "Valeur", 14, bold=True),
        Col("Fiabilité", 8, lambda r: grade(r) or None, lambda r: fmt(align="center", bold=True, font_color=GRADE_COLORS.get(grade(r), GREY))),
        number("valeur_basse", "Basse", 13), number("valeur_haute", "Haute", 13),
        # centiles of `compute --simulations` (engine/simulation.py), when the results have them
        *([number(k, f"{k.upper()} (simulation)", 13) for k in ("p10", "p50", "p90")] if data.rows and "p10" in data.rows[0] else []),
        Col("Unité", 9, lambda r: r["unite"], lambda r: fmt(align="center")),
        # a figure not computed covers nothing: no « 0 % » beside « non calculable »
        Col("Couverture (%)", 10, lambda r: r["couverture"] if r["statut"] == CALCULE else None,
            lambda r: fmt.coverage(r["couverture"], align="center")),
        Col("Part forfaitaire (%)", 10, lambda r: r.get("part_forfaitaire") if r["statut"] == CALCULE else None, _flat_fmt(fmt)),
    ]
    if data.kind != ORGANISME:
        cols.append(Col("Organismes", 9, lambda r: r["nb_organismes"], lambda r: fmt.integer(align="center")))
    if data.has_previous:
        cols += [
            Col(previous_label(data), 13, lambda r: r.get("valeur_precedente"), lambda r: fmt.number(r["unite"], font_color=GREY)),
            Col("Évolution", 10, _change, lambda r: fmt(num_format=variation_format(r["unite"]), align="center")),
        ]
    cols += [
        Col("Statut", 11, lambda r: STATUS_LABELS.get(r["statut"], r["statut"]),
            lambda r: fmt() if r["statut"] == CALCULE else fmt(font_color=ORANGE)),
        Col("Motif / note", 44, _remark(data), lambda r: fmt.wrap(font_color=GREY, font_size=9)),
    ]
    return cols


def _flat_fmt(fmt: Formats) -> Callable[[dict], Format]:
    """« Part forfaitaire » cells: on the estimation's light fill when there is one."""
    def style(r: dict) -> Format:
        if flat_share(r) is not None:
            return fmt.flat(num_format=COVERAGE_FORMAT, align="center")
        return fmt(num_format=COVERAGE_FORMAT, align="center", font_color=GREY)
    return style


def _change(r: dict) -> float | None:
    if r["statut"] != CALCULE:
        return None
    return r.get("variation") if r["unite"] == "%" else r.get("variation_pct")


def _remark(data: ReportData) -> Callable[[dict], str | None]:
    """Motif and note of a result, and for an estimation forfaitaire what it is and what would replace it."""
    def remark(r: dict) -> str | None:
        parts = [p for p in (flat_remark(r, data.referentiel), r.get("motif"), r.get("note")) if p]
        return " — ".join(parts) if parts else None
    return remark


def _in_reading_order(data: ReportData, rows: list[dict]) -> list[dict]:
    """Territories in the ranking's order (dwellings first); the engine's indicator order within."""
    order = {t.code: i for i, t in enumerate(data.territories)}
    return sorted(rows, key=lambda r: order.get(r["code_territoire"], len(order)))


def indicateurs(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    """Every result of the scope: the overview as a matrix (indicators × territories), one
    territory's or one organisation's report as a list (one row per territory and indicator)."""
    if data.kind == ENSEMBLE:
        indicator_matrix(wb, data, fmt)
    else:
        indicator_list(wb, data, fmt)


# ─── the overview's matrix ───

# Up to this many territories (with the non réparti and the whole), they are the columns and the
# indicators the rows: the regional overview prints on two pages. Beyond, one row per territory and
# one column per indicator (a national overview by EPCI: 1 250 rows × 80 columns, written in a second).
MATRIX_MAX_COLUMNS = 24
MATRIX_FONT = 8


@dataclass
class MatrixColumn:
    """A territory of the matrix (or the non réparti, or the whole): its results by indicator."""

    name: str
    code: str
    results: dict[str, dict]
    style: dict


def _matrix_entities(data: ReportData) -> list[MatrixColumn]:
    per_t: dict[str, dict[str, dict]] = {}
    for r in data.rows:
        per_t.setdefault(r["code_territoire"], {})[r["indicateur"]] = r
    out = [MatrixColumn(t.nom, t.code, per_t.get(t.code, {}), {} if t.housed else {"font_color": GREY}) for t in data.territories]
    if data.unplaced:
        out.append(MatrixColumn(NON_REPARTI_NOM, NON_REPARTI_CODE, data.unplaced_by_code, {"italic": True}))
    out.append(MatrixColumn("Ensemble des organismes importés", "", data.headline, {"bold": True}))
    return out


def _matrix_codes(data: ReportData) -> list[str]:
    present = {r["indicateur"] for r in data.rows} | set(data.headline)
    return [c for c in data.labels if c in present]


def _matrix_cell(ws: Worksheet, fmt: Formats, row: int, col: int, r: dict | None, style: dict) -> None:
    """A result in the matrix: its unit's short format (« 102,3 M€ », « 35,4 % »), orange when
    partially covered, « ≈ » on a light fill when an estimation forfaitaire, « n.c. », or blank."""
    extra = {"font_size": MATRIX_FONT, **style}
    if r is None:
        return
    if r["statut"] != CALCULE or r["valeur"] is None:
        ws.write_string(row, col, NOT_COMPUTABLE, fmt.missing(**{k: v for k, v in extra.items() if k != "font_color"}))
        return
    num_format = graded_format(display_format(r["unite"], r["valeur"]), r.get("fiabilite"))  # « 59,1 M€ᴬ », still a number
    put(ws, row, col, r["valeur"], fmt.figure(r, num_format, shrink=True, **extra))


def indicator_matrix(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    ws = wb.add_worksheet("Indicateurs")
    entities, codes = _matrix_entities(data), _matrix_codes(data)
    transposed = len(entities) > MATRIX_MAX_COLUMNS
    what = ("Tous les résultats consolidés (ensemble des organismes) : "
            + ("une ligne par territoire, une colonne par indicateur" if transposed else "une ligne par indicateur, une colonne "
               "par territoire (classés par nombre de logements)") + ", puis "
            + (f"« {NON_REPARTI_NOM} » (ce qu'aucun territoire ne peut recevoir ; territoires + non réparti = ensemble) et "
               if data.unplaced else "") + "l'ensemble des organismes importés. ")
    what += previous_note(data) + _matrix_legend(data)
    if transposed:
        _matrix_by_territory(ws, data, fmt, entities, codes, what)
    else:
        matrix_by_indicator(ws, data, fmt, entities, codes, what)


NO_PREVIOUS = "exercice précédent non importé"


def previous_label(data: ReportData) -> str:
    """« Exercice 2024 » beside N when N-1 is imported; else what is missing, said once."""
    return f"Exercice {data.year - 1}" if data.year is not None else "Exercice précédent"


def previous_note(data: ReportData) -> str:
    if data.has_previous:
        return (f"{previous_label(data)} et évolution : l'exercice précédent importé, recalculé avec le même référentiel "
                "(en points pour un pourcentage, en % de sa valeur sinon). ")
    return f"N-1 : {NO_PREVIOUS} (importez les fichiers de l'exercice {data.year - 1 if data.year else 'précédent'} pour voir l'évolution). "


def _matrix_legend(data: ReportData) -> str:
    command = f"acterr export --territoire {data.level}" + (f" --exercice {data.year}" if data.year is not None else "")
    flat = any(flat_share(r) is not None for r in data.rows + list(data.headline.values()))
    return (grade_legend(data.rows + list(data.headline.values())) + "En orange : couverture partielle ; " + (f"sur fond jaune, {LEGEND} ; " if flat else "")
            + "n.c. : non calculable (motifs, et où : feuille « Qualité des données ») ; case vide : pas de résultat. "
            f"Fourchette basse – haute, couverture, motif et exercice précédent de chaque chiffre : « {command} --format csv » "
            "(une ligne par résultat) ; ceux des chiffres d'ensemble : feuilles « Synthèse » et « Parties prenantes ».")


def grade_legend(rows: list[dict]) -> str:
    """What the raised letters after the figures say, when some figure has a grade."""
    if not any(r.get("fiabilite") for r in rows):
        return ""
    return ("Lettre en exposant après chaque chiffre (" + ", ".join(GRADE_MARKS.values()) + ") : sa fiabilité — "
            + " ; ".join(f"{g} : {text}" for g, text in GRADES.items()) + ". ")


def _indicator_label(data: ReportData, code: str) -> str:
    info = data.labels[code]
    unit = info["unite"]
    return f"{info['libelle'] or code}" + (f" ({unit})" if unit else "")


def matrix_by_indicator(ws: Worksheet, data: ReportData, fmt: Formats, entities: list[MatrixColumn], codes: list[str],
                         what: str, table_name: str = "Indicateurs", pages_wide: int = 1, pages_tall: int = 0) -> None:
    """Indicators down, territories (or organisations on a territory) across: few of them (a
    regional overview), printed `pages_wide` pages wide (and `pages_tall` tall, 0: as many as needed)."""
    previous = table_name == "Indicateurs" and data.has_previous  # N-1 beside the whole, and its change
    widths = [8.0, 44.0] + [10.0] * (len(entities) + 2 * previous)  # labels on one line at MATRIX_FONT: more rows per page
    row = heading(ws, fmt, data.title, what, widths[: 2 + MATRIX_MAX_COLUMNS // max(1, pages_wide)])
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    header = fmt(**{**_header_props(), "font_size": MATRIX_FONT})
    headers = ["Code", "Indicateur"] + [e.name + (f"\n{e.code}" if e.code and e.code != NON_REPARTI_CODE else "") for e in entities]
    if previous:
        headers += [f"Ensemble — {previous_label(data).lower()}", "Évolution de l'ensemble"]
    fit_row(ws, row, [(h, w, header) for h, w in zip(headers, widths, strict=True)])
    ledger = None
    for i, code in enumerate(codes):
        r = row + 1 + i
        info = data.labels[code]
        color = LEDGER_COLORS.get(info["registre"] or "", (NAVY, "#FFFFFF"))
        first = info["registre"] != ledger  # a thick line above the first indicator of each ledger
        ledger = info["registre"]
        top = {"top": 2, "top_color": color[0]} if first and i else {}
        ws.write_string(r, 0, code, fmt(font_size=MATRIX_FONT, font_color=color[0], bold=True, **top))
        label = fmt(font_size=MATRIX_FONT, text_wrap=True, **top)
        ws.write_string(r, 1, _indicator_label(data, code), label)
        fit_row(ws, r, [(_indicator_label(data, code), widths[1], label)], minimum=11)
        for j, e in enumerate(entities):
            _matrix_cell(ws, fmt, r, 2 + j, e.results.get(code), {**e.style, **top})
        if previous:
            _previous_cells(ws, fmt, r, 2 + len(entities), data.headline.get(code), top)
    last = row + max(1, len(codes))
    add_table(ws, row, 0, last, len(headers) - 1, {
        "name": table_name, "style": TABLE_STYLE_PLAIN, "autofilter": True,
        "columns": [{"header": h, "header_format": header} for h in headers]})
    note(ws, fmt, last + 2, _ledger_key(), 0, min(len(headers), 2 + MATRIX_MAX_COLUMNS // pages_wide) - 1, sum(widths))
    ws.freeze_panes(row + 1, 2)
    print_setup(ws, data.title, (row, row), fit_width=False)
    ws.fit_to_pages(pages_wide, pages_tall)
    ws.repeat_columns(0, 1)


def _previous_cells(ws: Worksheet, fmt: Formats, row: int, col: int, r: dict | None, extra: dict) -> None:
    """N-1 and the change since, in grey beside N (blank when the figure or N-1 is missing)."""
    extra = {"font_size": MATRIX_FONT, **extra}
    before = r.get("valeur_precedente") if r else None
    put(ws, row, col, before, fmt(num_format=display_format(r["unite"], before), font_color=GREY, shrink=True, **extra)
        if before is not None else fmt(**extra))
    change = _change(r) if r else None
    put(ws, row, col + 1, change, fmt(num_format=variation_format(r["unite"]), align="center", **extra)
        if change is not None else fmt(**extra))


def _matrix_by_territory(ws: Worksheet, data: ReportData, fmt: Formats, entities: list[MatrixColumn], codes: list[str],
                         what: str) -> None:
    """Territories down, indicators across: many territories (a national overview)."""
    longest = max((len(e.name) for e in entities), default=10)
    widths = [float(min(40, max(20, longest + 2))), 10.0] + [11.0] * len(codes)
    shown = [w for i, w in enumerate(widths) if sum(widths[: i + 1]) <= 150] or widths[:1]
    row = 3  # the header row, below heading's title and subtitle
    rows, cut = fit_rows(entities, row, EXCEL_MAX_ROWS)
    heading(ws, fmt, data.title, what + (f" {cut}" if cut else ""), shown)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    header_fmts = [fmt.header()] * 2 + [fmt.header(LEDGER_COLORS.get(data.labels[c]["registre"] or "", (NAVY,))[0]) for c in codes]
    headers = ["Territoire", "Code territoire"] + [f"{_indicator_label(data, c)}\n{c}" for c in codes]
    fit_row(ws, row, zip(headers, widths, header_fmts, strict=True))
    # one Format per unit and kind, looked up per cell: a national overview writes 100 000 cells
    for i, e in enumerate(rows):
        r = row + 1 + i
        name = fmt(font_size=MATRIX_FONT, text_wrap=True, **e.style)
        ws.write_string(r, 0, e.name, name)
        ws.write_string(r, 1, e.code, fmt(font_size=MATRIX_FONT, **e.style))
        for k, code in enumerate(codes):
            _matrix_cell(ws, fmt, r, 2 + k, e.results.get(code), e.style)
    last = row + max(1, len(rows))
    add_table(ws, row, 0, last, len(headers) - 1, {
        "name": "Indicateurs", "style": TABLE_STYLE_PLAIN, "autofilter": True,
        "columns": [{"header": h, "header_format": f} for h, f in zip(headers, header_fmts, strict=True)]})
    ws.freeze_panes(row + 1, 2)
    print_setup(ws, data.title, (row, row), fit_width=False)
    ws.set_print_scale(60)
    ws.repeat_columns(0, 1)


TABLE_STYLE_PLAIN = "Table Style Light 1"


def _header_props() -> dict:
    return {"bold": True, "font_color": "#FFFFFF", "bg_color": NAVY, "text_wrap": True, "valign": "vcenter", "border": 1,
            "border_color": "#BFBFBF", "align": "center"}


def _ledger_key() -> str:
    return "Codes en couleur du registre : " + " ; ".join(
        f"{LEDGER_LABELS[k]}" for k in LEDGER_COLORS if k in LEDGER_LABELS) + " (un trait sépare les registres)."


def indicator_list(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    """Every result of one territory or one organisation, one row per territory and indicator."""
    what = {ENSEMBLE: "Tous les résultats consolidés (ensemble des organismes) par territoire.",
            TERRITOIRE: f"Tous les résultats consolidés de {data.subject} (ensemble des organismes présents).",
            ORGANISME: f"Tous les résultats de {data.subject}, par territoire ({data.level_noun})."}[data.kind]
    ws = wb.add_worksheet("Indicateurs")
    # NON_REPARTI after every territory: in the table (it is a result), never among them
    rows, cut = fit_rows(_in_reading_order(data, data.rows) + data.unplaced, 3, EXCEL_MAX_ROWS)
    cols = _result_columns(data, fmt)
    if data.unplaced:
        what += f" En dernier, « {NON_REPARTI_NOM} » : ce qu'aucun territoire ne peut recevoir (territoires + non réparti = ensemble)."
    if any(flat_share(r) is not None for r in rows):
        what += f" Sur fond jaune, {LEGEND}"
    what += " " + previous_note(data) + (GRADE_LEGEND if any(r.get("fiabilite") for r in rows) else "")
    row = heading(ws, fmt, data.title, what + (f" {cut}" if cut else ""), [c.width for c in cols])
    table(ws, fmt, row, cols, rows, "Indicateurs")
    ws.freeze_panes(row + 1, 0 if data.kind == TERRITOIRE else 2)
    print_setup(ws, data.title, (row, row))


# ─── by stakeholder ───

def stakeholders(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    """Indicators grouped by the stakeholders they matter to (the catalogue's parties_prenantes);
    an indicator appears under each of its stakeholders. One table, the stakeholder in its first
    column: no section header can end a printed page alone, and a filter picks a stakeholder."""
    ws = wb.add_worksheet("Parties prenantes")
    # compact, to print in portrait: the value with its unit, the range as text, the ledger in the code's colour
    cols = [
        Col("Partie prenante", 13, lambda r: r["_partie"],
            lambda r: fmt.wrap(bold=True, font_size=8) if r["_first"] else fmt(font_size=8, font_color="#BFBFBF")),
        Col("Code", 8, lambda r: r["indicateur"], lambda r: fmt(bold=True, font_size=9, font_color=_ledger_color(r))),
        Col("Indicateur", 46, lambda r: r["libelle"], lambda r: fmt.wrap()),
        Col("Valeur", 14, lambda r: r["valeur"] if r["statut"] == CALCULE else NOT_COMPUTABLE,
            lambda r: fmt.figure(r, display_format(r["unite"], r["valeur"]), bold=True, shrink=True) if r["statut"] == CALCULE
            else fmt.missing()),
        Col("Fourchette basse – haute", 17, lambda r: range_text(r["valeur_basse"], r["valeur_haute"], r["unite"])
            if r["statut"] == CALCULE else None, lambda r: fmt(font_color=GREY, align="center", shrink=True)),
        Col("Couverture (%)", 9, lambda r: r["couverture"] if r["statut"] == CALCULE else None, lambda r: fmt.coverage(r["couverture"], align="center")),
    ]
    if data.has_previous:
        cols += [Col(previous_label(data), 12, lambda r: r.get("valeur_precedente"),
                     lambda r: fmt(num_format=display_format(r["unite"], r.get("valeur_precedente")), font_color=GREY, shrink=True)),
                 Col("Évolution", 9, _change, lambda r: fmt(num_format=variation_format(r["unite"]), align="center"))]
    remark = _remark(data)
    cols.append(Col("Motif / note", 30, lambda r: remark(r) if r["statut"] == CALCULE else QUALITY_POINTER,
                    lambda r: fmt.wrap(font_color=GREY, font_size=8)))
    legend = f" Sur fond jaune, {LEGEND}" if any(flat_share(r) is not None for r in data.headline.values()) else ""
    row = heading(ws, fmt, data.title, f"Les indicateurs regroupés par partie prenante ({data.headline_source}). "
                                       "Un indicateur peut concerner plusieurs parties prenantes ; son code a la couleur de "
                                       "son registre (" + ", ".join(LEDGER_LABELS[k] for k in LEDGER_COLORS if k in LEDGER_LABELS)
                                       + "). " + previous_note(data) + legend,
                  [c.width for c in cols])
    lines = []
    for key, label in STAKEHOLDERS.items():
        rows = [data.headline[c] for c, info in data.labels.items() if key in (info.get("parties") or ()) and c in data.headline]
        rows.sort(key=lambda r: r["statut"] != CALCULE)  # computed figures first, order of the catalogue within
        counted = f"{label} ({sum(r['statut'] == CALCULE for r in rows)} calculés sur {len(rows)})"
        lines += [{**r, "_partie": counted if i == 0 else label, "_first": i == 0} for i, r in enumerate(rows)]
    end = table(ws, fmt, row, cols, lines, "Parties_prenantes")
    ws.freeze_panes(row + 1, 0)
    print_setup(ws, data.title, (row, row), portrait=True)
    ws.print_area(0, 0, end - 1, len(cols) - 1)


QUALITY_POINTER = "motif (et où) : feuille « Qualité des données »"


def _ledger_color(r: dict) -> str:
    return LEDGER_COLORS.get(r.get("registre") or "", (NAVY,))[0]


def _value_fmt(fmt: Formats) -> Callable[[dict], Format]:
    return lambda r: fmt.figure(r, bold=True) if r["statut"] == CALCULE else fmt.missing()


# ─── peers ───

def pairs(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    ws = wb.add_worksheet("Pairs")
    cols = [
        Col("Organisme", 20, lambda r: r["raison_sociale"], lambda r: fmt.wrap(bold=True, font_size=9)),
        Col("Indicateur", 34, lambda r: f"{r['libelle']} ({r['indicateur']})", lambda r: fmt.wrap(font_size=9)),
        Col("Lecture", 11, lambda r: r["mieux"], lambda r: fmt.wrap(font_size=8, font_color=NAVY if r["sens"] else GREY)),
        Col("Valeur de l'organisme", 12, lambda r: r["valeur"], lambda r: fmt.number(r["unite"], bold=True)),
        Col("1er quartile des pairs", 10, lambda r: r["q1"], lambda r: fmt.number(r["unite"])),
        Col("Médiane des pairs", 10, lambda r: r["mediane"], lambda r: fmt.number(r["unite"])),
        Col("3e quartile des pairs", 10, lambda r: r["q3"], lambda r: fmt.number(r["unite"])),
        Col("Unité", 8, lambda r: r["unite"], lambda r: fmt(align="center", font_size=9)),
        Col("Pairs", 6, lambda r: r["pairs"], lambda r: fmt.integer(align="center")),
        Col("Position", 17, lambda r: r["position"], lambda r: fmt.wrap(font_size=9)),
    ]
    named = data.kind != ORGANISME  # the overview and a territory's report name every organisation's figures elsewhere
    groups = list(dict.fromkeys((r["raison_sociale"], r["groupe"]) for r in data.peers))
    what = (f"Chaque organisme face aux quartiles de ses pairs : même famille, même taille et même région quand ils sont au "
            f"moins {peer_rules.MIN_PEERS}, sinon même famille et même région, sinon même région, sinon tous les organismes "
            "importés. Valeurs de l'organisme entier (niveau France) ; seules les intensités (%, par logement, au m²) sont "
            "comparées ; « Lecture » dit dans quel sens l'écart est favorable. ")
    what += ("Les pairs ne sont pas nommés ici ; les valeurs de chaque organisme importé, nommé, sont dans les feuilles "
             "« Par organisme » et « Indicateurs »." if named else
             "Les pairs ne sont nommés nulle part dans ce rapport : seuls leurs quartiles sont donnés.")
    row = heading(ws, fmt, data.title, what, [c.width for c in cols])
    for name, group in groups:
        row = note(ws, fmt, row, f"Pairs de {name} : {group}.", 0, len(cols) - 1, sum(c.width for c in cols))
    end = table(ws, fmt, row + 1, cols, data.peers, "Pairs")
    note(ws, fmt, end + 1, "Quartiles calculés sur les valeurs des pairs (l'organisme exclu), par interpolation linéaire "
                           "(comme QUARTILE.INCLURE d'Excel). « Au-dessus du 3e quartile » est favorable quand l'indicateur est "
                           "« mieux si plus haut », défavorable quand il est « mieux si plus bas » ; « ni mieux ni moins bien en "
                           "soi » : l'écart se lit avec le contexte de l'organisme.", 0, len(cols) - 1, sum(c.width for c in cols))
    ws.freeze_panes(row + 2, 1)
    print_setup(ws, data.title, (row + 1, row + 1), portrait=True)
