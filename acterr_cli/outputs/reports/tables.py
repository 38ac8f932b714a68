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
    FR,
    GREY,
    LEDGER_COLORS,
    NAVY,
    NOT_COMPUTABLE,
    ORANGE,
    Col,
    Formats,
    add_table,
    fit_row,
    fit_rows,
    heading,
    note,
    print_setup,
    put,
    table,
    variation_format,
)
from acterr_cli.referentiel.model import LEDGER_LABELS, STAKEHOLDERS
from acterr_cli.results import CALCULE

EXCEL_MAX_ROWS = 1_048_576
STATUS_LABELS = {"calcule": "calculé", "non_calculable": "non calculable"}
RANK_CODES = (("TER-00", "Logements"), ("ECO-01", "Investissement"), ("ECO-06", "Emplois du bâtiment soutenus"),
              ("ECO-10", "TFPB versée"), ("SOC-01", "Gain des locataires"), ("PV-01", "Parc en QPV"),
              ("ENV-01", "DPE A–C"), ("ENV-01b", "DPE F–G"))
DATA_BARS = {"TER-00": "#BFBFBF", "ECO-01": "#9DC3E6", "SOC-01": "#D5A6CE"}
RANK_NAMES = {ENSEMBLE: "Classement", ORGANISME: "Territoires", TERRITOIRE: "Organismes"}


# ─── ranking ───

@dataclass
class _Entity:
    rank: int | None
    name: str
    code: str
    organisations: int | None
    get: Callable[[str], dict | None]


def _entities(data: ReportData) -> list[_Entity]:
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
        ws.write_number(row, col, r["valeur"], fmt.figure({**r, "unite": unit}, **extra))


def ranking(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    name = RANK_NAMES[data.kind]
    ws = wb.add_worksheet(name)
    codes = [(c, label) for c, label in RANK_CODES if c in data.labels]
    entities = _entities(data)
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
        ws.write_string(r, 1, e.name, fmt(**band))
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
    ws.freeze_panes(row + 1, 2)
    print_setup(ws, data.title, (row, row))


def _ranking_subtitle(data: ReportData, housed: int, total: int) -> str:
    if data.kind == TERRITOIRE:
        return f"Organismes présents sur {data.subject}, classés par nombre de logements sur le territoire."
    noun = data.level_noun
    text = f"{housed} territoire(s) ({noun}) où {'l’organisme a' if data.kind == ORGANISME else 'les organismes ont'} des logements, classés par nombre de logements"
    if total > housed:
        text += f" ; puis {total - housed} territoire(s) sans logement (salariés, fournisseurs), sans rang"
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
        number("valeur", "Valeur", 14, bold=True), number("valeur_basse", "Basse", 13), number("valeur_haute", "Haute", 13),
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
            Col("Exercice précédent", 13, lambda r: r.get("valeur_precedente"), lambda r: fmt.number(r["unite"], font_color=GREY)),
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
            return fmt.flat(num_format=FR + '0 "%"', align="center")
        return fmt(num_format=FR + '0 "%"', align="center", font_color=GREY)
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
    """Every result of the scope, one row per territory and indicator (consolidated, or the organisation's)."""
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
    row = heading(ws, fmt, data.title, what + (f" {cut}" if cut else ""), [c.width for c in cols])
    table(ws, fmt, row, cols, rows, "Indicateurs")
    ws.freeze_panes(row + 1, 0 if data.kind == TERRITOIRE else 2)
    print_setup(ws, data.title, (row, row))


# ─── by stakeholder ───

def stakeholders(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    """Indicators grouped by the stakeholders they matter to (the catalogue's parties_prenantes);
    an indicator appears under each of its stakeholders."""
    ws = wb.add_worksheet("Parties prenantes")
    cols = [
        Col("Code", 9, lambda r: r["indicateur"], lambda r: fmt(bold=True)),
        Col("Indicateur", 40, lambda r: r["libelle"], lambda r: fmt.wrap()),
        Col("Valeur", 15, lambda r: r["valeur"] if r["statut"] == CALCULE else NOT_COMPUTABLE, _value_fmt(fmt)),
        Col("Unité", 10, lambda r: r["unite"], lambda r: fmt(align="center")),
        Col("Basse", 13, lambda r: r["valeur_basse"] if r["statut"] == CALCULE else None, lambda r: fmt.figure(r, font_color=GREY)),
        Col("Haute", 13, lambda r: r["valeur_haute"] if r["statut"] == CALCULE else None, lambda r: fmt.figure(r, font_color=GREY)),
        Col("Couverture (%)", 10, lambda r: r["couverture"] if r["statut"] == CALCULE else None, lambda r: fmt.coverage(r["couverture"], align="center")),
        Col("Registre", 16, lambda r: LEDGER_LABELS.get(r["registre"], r["registre"]), lambda r: fmt.wrap(font_size=9)),
        Col("Motif / note", 40, _remark(data), lambda r: fmt.wrap(font_color=GREY, font_size=9)),
    ]
    legend = f" Sur fond jaune, {LEGEND}" if any(flat_share(r) is not None for r in data.headline.values()) else ""
    row = heading(ws, fmt, data.title, f"Les indicateurs regroupés par partie prenante ({data.headline_source}). "
                                       "Un indicateur peut concerner plusieurs parties prenantes." + legend,
                  [c.width for c in cols])
    for key, label in STAKEHOLDERS.items():
        rows = [data.headline[c] for c, info in data.labels.items() if key in (info.get("parties") or ()) and c in data.headline]
        rows.sort(key=lambda r: r["statut"] != CALCULE)  # computed figures first, order of the catalogue within
        ws.set_row(row, 22)
        ws.write_string(row, 0, f"{label} — {sum(r['statut'] == CALCULE for r in rows)} indicateur(s) calculé(s) sur {len(rows)}",
                        fmt.section(LEDGER_COLORS["contexte"][0]))
        row = table(ws, fmt, row + 1, cols, rows, f"PP_{key}") + 1
    ws.freeze_panes(3, 0)
    print_setup(ws, data.title)


def _value_fmt(fmt: Formats) -> Callable[[dict], Format]:
    return lambda r: fmt.figure(r, bold=True) if r["statut"] == CALCULE else fmt.missing()


# ─── peers ───

def pairs(wb: Workbook, data: ReportData, fmt: Formats) -> None:
    ws = wb.add_worksheet("Pairs")
    cols = [
        Col("Organisme", 24, lambda r: r["raison_sociale"], lambda r: fmt.wrap(bold=True)),
        Col("Code", 9, lambda r: r["indicateur"]),
        Col("Indicateur", 34, lambda r: r["libelle"], lambda r: fmt.wrap()),
        Col("Valeur de l'organisme", 14, lambda r: r["valeur"], lambda r: fmt.number(r["unite"], bold=True)),
        Col("1er quartile des pairs", 12, lambda r: r["q1"], lambda r: fmt.number(r["unite"])),
        Col("Médiane des pairs", 12, lambda r: r["mediane"], lambda r: fmt.number(r["unite"])),
        Col("3e quartile des pairs", 12, lambda r: r["q3"], lambda r: fmt.number(r["unite"])),
        Col("Unité", 9, lambda r: r["unite"], lambda r: fmt(align="center")),
        Col("Pairs", 7, lambda r: r["pairs"], lambda r: fmt.integer(align="center")),
        Col("Position", 22, lambda r: r["position"], lambda r: fmt.wrap()),
        Col("Groupe de comparaison", 24, lambda r: r["groupe"], lambda r: fmt.wrap(font_color=GREY, font_size=9)),
    ]
    row = heading(ws, fmt, data.title,
                  f"Chaque organisme face aux quartiles de ses pairs, sans les nommer : même famille et même région quand ils sont "
                  f"au moins {peer_rules.MIN_PEERS}, sinon même région, sinon tous les organismes importés. Valeurs de "
                  "l'organisme entier (niveau France) ; seules les intensités (%, par logement, au m²) sont comparées.",
                  [c.width for c in cols])
    end = table(ws, fmt, row, cols, data.peers, "Pairs")
    note(ws, fmt, end + 1, "Quartiles calculés sur les valeurs des pairs (l'organisme exclu), par interpolation linéaire "
                           "(comme QUARTILE.INCLURE d'Excel). Une position « au-dessus » n'est ni bonne ni mauvaise en soi : "
                           "elle dépend de l'indicateur.", 0, len(cols) - 1, sum(c.width for c in cols))
    ws.freeze_panes(row + 1, 1)
    print_setup(ws, data.title, (row, row))
