"""The page's sections about figures: the headline panels (the two ledgers side by side, then
environment and context), the ranking table, each organisation's contribution, peers.

Everything is read from `ReportData`, as the workbook's sheets are: the same panels
(synthese.panels, from the catalogue's headlines), the same ranking (tables.rank_codes: the catalogue's classement columns, in the same order), the same notes."""

from __future__ import annotations

import polars as pl

from acterr_cli.common.formatting import fr_count, fr_number
from acterr_cli.outputs.html.markup import (
    attrs,
    change_text,
    column_scale,
    computed,
    coverage_text,
    esc,
    figure_html,
    nature_html,
    number_html,
    previous_text,
    range_html,
    sort_value,
)
from acterr_cli.outputs.nature import LEGEND, NON_REPARTI_NOM, UNPLACED_WHAT, flat_notes, is_flat
from acterr_cli.outputs.reports.model import ENSEMBLE, ORGANISME, TERRITOIRE, ReportData
from acterr_cli.outputs.reports.synthese import LEDGER_SENTENCE, panels, unplaced_line
from acterr_cli.outputs.reports.tables import rank_codes, ranked_entities
from acterr_cli.outputs.reports.xlsx import is_additive, short_text
from acterr_cli.outputs.wording import GRADE_LEGEND
from acterr_cli.referentiel.model import LEDGER_LABELS
from acterr_cli.results import CALCULE

MAX_ROWS = 7  # figures per panel, computed ones first (as the Synthèse sheet)
READING = ("Sous chaque valeur, sa fourchette basse – haute : valeurs obtenues avec les paramètres à leurs bornes basse et haute. Couverture : "
           "part des logements des organismes concernés dont les données nécessaires ont été fournies ; * : couverture "
           "partielle, le chiffre est un total partiel. n.c. : non calculable — une donnée manque, ce n'est jamais compté "
           "comme zéro (le motif s'affiche au survol et figure dans le rapport Excel).")


def chosen(data: ReportData, codes: tuple[str, ...]) -> list[dict]:
    rows = [data.headline[c] for c in codes if c in data.headline]
    return ([r for r in rows if r["statut"] == CALCULE] + [r for r in rows if r["statut"] != CALCULE])[:MAX_ROWS]


def label(data: ReportData, code: str) -> str:
    return (data.labels.get(code) or {}).get("libelle") or code


# ─── headline figures ───

def headline(data: ReportData) -> str:
    shown_panels = panels(data.referentiel)
    html_panels = [_panel(data, ledger, subtitle, codes) for ledger, subtitle, codes in shown_panels]
    shown = [r for _, _, codes in shown_panels for r in chosen(data, codes)]
    notes = [READING, GRADE_LEGEND]
    if data.has_previous:
        notes.append("vs N-1 : évolution depuis l'exercice précédent — en % pour les montants et les effectifs, en points (pt) "
                     "pour les parts en % ; la valeur de l'exercice précédent est dessous.")
    flat = flat_notes(shown, data.referentiel, {c: info["libelle"] for c, info in data.labels.items()})
    if flat:
        notes.append(f"Sur fond jaune, en italique, {LEGEND}")
        notes += flat
    if data.kind in (ENSEMBLE, ORGANISME) and data.unplaced:
        notes.append(unplaced_line(data, "du classement"))
    return (f'<section id="chiffres" aria-labelledby="chiffres-titre"><h2 id="chiffres-titre">Chiffres clés</h2>'
            f'<p class="lead">{esc(LEDGER_SENTENCE)}</p>'
            f'<p class="source">Chiffres : {esc(data.headline_source)}.</p>'
            f'<div class="panels">{"".join(html_panels[:2])}</div><div class="panels">{"".join(html_panels[2:])}</div>'
            f'<div class="notes">{"".join(f"<p>{esc(n)}</p>" for n in notes)}</div></section>')


def _panel(data: ReportData, ledger: str, subtitle: str, codes: tuple[str, ...]) -> str:
    rows = chosen(data, codes)
    ident = f"registre-{ledger}"
    title = (f'<h3 id="{ident}">{esc(LEDGER_LABELS.get(ledger, ledger))} '
             f'<span class="subtitle">— {esc(subtitle)}</span></h3>')
    if not rows:
        return f'<section class="panel {ledger}" aria-labelledby="{ident}">{title}<p>Aucun indicateur de ce registre n\'est calculé.</p></section>'
    head = ["Indicateur", "Valeur", "Couverture", "Fiabilité"] + (["vs N-1"] if data.has_previous else [])
    body = "".join(_figure_row(data, r, head) for r in rows)
    cols = "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
    return (f'<section class="panel {ledger}" aria-labelledby="{ident}">{title}'
            f'<table class="figures"><thead><tr>{cols}</tr></thead><tbody>{body}</tbody></table></section>')


def _figure_row(data: ReportData, r: dict, head: list[str]) -> str:
    code = r["indicateur"]
    # the motif folded (it can be long): a native <details>, readable without script
    motif = "" if computed(r) else (f'<details class="motif"><summary>pourquoi non calculable</summary>'
                                    f'<span class="motif">{esc(r.get("motif") or "non calculable")}</span></details>')
    cells = [
        f'<th scope="row">{esc(label(data, code))} <span class="code">{esc(code)}</span>{motif}</th>',
        f'<td class="value">{figure_html(r)}' + (f'<span class="range">fourchette {spread}</span>' if (spread := range_html(r)) else "") + "</td>",
        f"<td>{esc(coverage_text(r))}</td>",
        f"<td>{nature_html(r)}</td>",
    ]
    if data.has_previous:
        previous = previous_text(r)
        cells.append(f'<td><span class="change">{esc(change_text(r))}</span>'
                     + (f'<span class="previous">N-1 : {esc(previous)}</span>' if previous else "") + "</td>")
    # data-label: the column's name, shown before each cell when the table is stacked on a phone
    cells = [c.replace("<td", f'<td data-label="{esc(h)}"', 1) if i else c for i, (c, h) in enumerate(zip(cells, head, strict=True))]
    return f"<tr>{''.join(cells)}</tr>"


# ─── ranking ───

RANK_TITLES = {ENSEMBLE: "Classement des territoires", ORGANISME: "Ses territoires", TERRITOIRE: "Les organismes présents"}


def ranking(data: ReportData) -> str:
    codes = [(c, name) for c, name in rank_codes(data) if c in data.labels]
    entities = ranked_entities(data)
    territory = data.kind == TERRITOIRE
    with_orgs = data.kind == ENSEMBLE
    housed = sum(e.rank is not None for e in entities)
    scales = {c: column_scale([e.get(c) for e in entities] + [data.figure(c), data.unplaced_by_code.get(c)], data.labels[c]["unite"])
              for c, _ in codes}
    head = (['<th scope="col" data-type="num">Rang</th>', f'<th scope="col">{"Organisme" if territory else "Territoire"}</th>',
             f'<th scope="col">{"SIREN" if territory else "Code"}</th>']
            + (['<th scope="col" data-type="num">Organismes présents</th>'] if with_orgs else [])
            + [f'<th scope="col" data-type="num">{esc(name)} <span class="unit">{esc(scales[c][1])} · {esc(c)}</span></th>'
               for c, name in codes])
    rows = []
    for e in entities:
        cells = [f"<td{attrs(data_v=e.rank)}>{e.rank or ''}</td>", f'<th scope="row">{esc(e.name)}</th>', f"<td>{esc(e.code)}</td>"]
        if with_orgs:
            cells.append(f"<td{attrs(data_v=e.organisations)}>{e.organisations if e.organisations is not None else ''}</td>")
        cells += [_cell(e.get(c), scales[c]) for c, _ in codes]
        rows.append(f'<tr{attrs(class_=None if e.rank else "unranked")}>{"".join(cells)}</tr>')
    foot = []
    lead = 4 if with_orgs else 3
    if data.unplaced:
        foot.append(_foot_row(NON_REPARTI_NOM, lead, [data.unplaced_by_code.get(c) for c, _ in codes], scales, codes, "unplaced"))
    total = {ENSEMBLE: "Ensemble des organismes importés", ORGANISME: "Total de l'organisme",
             TERRITOIRE: f"Ensemble du territoire ({data.subject})"}[data.kind]
    foot.append(_foot_row(total, lead, [data.figure(c) for c, _ in codes], scales, codes, "total"))
    caption = _ranking_caption(data, housed, len(entities))
    notes = ["Les en-têtes de colonne trient le tableau (avec JavaScript) ; « Non réparti » et l'ensemble restent en bas. "
             "Territoires en gris, sans rang : les organismes n'y ont pas de logement (salariés, fournisseurs)."
             if not territory else "Les en-têtes de colonne trient le tableau (avec JavaScript)."]
    if data.unplaced:
        notes.append(f"« {NON_REPARTI_NOM} » : ce qu'aucun territoire du niveau ne reçoit — {UNPLACED_WHAT} ; les territoires plus "
                     "cette ligne donnent l'ensemble. Ce n'est pas un territoire : ni rang, ni place sur la carte.")
    shown = [r for e in entities for c, _ in codes if (r := e.get(c)) is not None]
    flat = flat_notes(shown + [r for c, _ in codes if (r := data.figure(c)) is not None], data.referentiel,
                      {c: data.labels[c]["libelle"] for c, _ in codes})
    if flat:
        notes.append(f"Sur fond jaune, en italique, {LEGEND}")
        notes += flat
    return (f'<section id="classement" aria-labelledby="classement-titre"><h2 id="classement-titre">{RANK_TITLES[data.kind]}</h2>'
            f'<div class="scroll" role="region" aria-labelledby="classement-legende" tabindex="0">'
            f'<table class="ranking sortable"><caption id="classement-legende">{esc(caption)}</caption>'
            f'<thead><tr>{"".join(head)}</tr></thead><tbody>{"".join(rows)}</tbody><tfoot>{"".join(foot)}</tfoot></table></div>'
            f'<div class="notes">{"".join(f"<p>{esc(n)}</p>" for n in notes)}</div></section>')


def _cell(r: dict | None, scale: tuple[float, str, int], coverage: bool = True) -> str:
    return f'<td{attrs(data_v=sort_value(r))}>{number_html(r, scale, coverage)}</td>'


def _foot_row(name: str, lead: int, results: list[dict | None], scales: dict, codes, kind: str) -> str:
    # rank, name, then code (and organisations) left blank
    cells = ["<td></td>", f'<th scope="row">{esc(name)}</th>', f'<td colspan="{lead - 2}"></td>']
    # what no territory holds has no coverage of its own: no « * » there
    cells += [_cell(r, scales[c], kind != "unplaced") for r, (c, _) in zip(results, codes, strict=True)]
    return f'<tr class="{kind}">{"".join(cells)}</tr>'


def _ranking_caption(data: ReportData, housed: int, total: int) -> str:
    if data.kind == TERRITOIRE:
        return f"Organismes présents sur {data.subject}, classés par nombre de logements sur le territoire."
    who = "l’organisme a" if data.kind == ORGANISME else "les organismes ont"
    text = f"{fr_count(housed, 'territoire')} ({data.level_noun}) où {who} des logements, classés par nombre de logements"
    if total > housed:
        text += f" ; puis {fr_count(total - housed, 'territoire')} sans logement (salariés, fournisseurs), sans rang"
    return text + "."


# ─── contributions ───



def _contribution_codes(data: ReportData) -> list[str]:
    """The ranking's amounts and counts (a ratio is not shared out between organisations)."""
    return [c for c, _ in rank_codes(data) if c in data.labels and is_additive(data.labels[c]["unite"])]


def contributions(data: ReportData) -> str:
    """Each organisation's part of the scope's additive figures: on a territory, its results there
    over the territory's; in an overview, its whole figures (FRANCE level) over all organisations'.
    Parts are only given for amounts and counts (a ratio is not shared out)."""
    codes = _contribution_codes(data)
    if data.kind == TERRITOIRE:
        per_org: dict[str, dict[str, dict]] = {}
        for r in data.org_rows:
            per_org.setdefault(r["siren"], {})[r["indicateur"]] = r
        intro = (f"La part de chaque organisme dans les chiffres de {data.subject} : ses résultats sur le territoire, rapportés "
                 "à ceux de l'ensemble des organismes présents.")
    elif data.kind == ENSEMBLE and data.inputs.national is not None and data.year is not None:
        per_org = _national_by_organisation(data)
        intro = ("La part de chaque organisme dans les chiffres de l'ensemble : ses chiffres propres (tout son patrimoine, niveau "
                 "France, données de niveau organisme comprises), rapportés à ceux de l'ensemble des organismes importés.")
    else:
        return ""
    if not per_org or not codes:
        return ""
    names = dict(data.organisations)
    order = sorted(per_org, key=lambda s: (-_value(per_org[s].get("TER-00")), names.get(s, s).casefold()))
    head = ('<th scope="col">Organisme</th><th scope="col">SIREN</th>'
            + "".join(f'<th scope="col" data-type="num">{esc(label(data, c))} <span class="unit">{esc(c)}</span></th>' for c in codes))
    rows = []
    for s in order:
        cells = [f'<th scope="row">{esc(names.get(s, s))}</th>', f"<td>{esc(s)}</td>"]
        cells += [_share_cell(per_org[s].get(c), data.figure(c)) for c in codes]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<section id="organismes" aria-labelledby="organismes-titre"><h2 id="organismes-titre">Contribution de chaque organisme</h2>'
            f"<p>{esc(intro)} Barres : part de l'ensemble, le pourcentage est écrit à côté.</p>"
            f'<div class="scroll" role="region" aria-labelledby="organismes-legende" tabindex="0"><table class="sortable contributions">'
            f'<caption id="organismes-legende">Chiffres et part de chaque organisme ({fr_count(len(order), "organisme")}).</caption>'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></section>')


def _national_by_organisation(data: ReportData) -> dict[str, dict[str, dict]]:
    """siren → indicator → the organisation's own result (FRANCE level: all its dwellings and its
    organisation-level data), for the contributions of an overview."""
    frame = data.inputs.national.results.filter((pl.col("exercice") == data.year) & pl.col("siren").is_not_null()
                                                & pl.col("indicateur").is_in(_contribution_codes(data)))
    out: dict[str, dict[str, dict]] = {}
    for r in frame.iter_rows(named=True):
        out.setdefault(r["siren"], {})[r["indicateur"]] = r
    return out


def _value(r: dict | None) -> float:
    return r["valeur"] if computed(r) else 0.0


def _share_cell(r: dict | None, total: dict | None) -> str:
    if r is None:
        return "<td></td>"
    share = 100 * r["valeur"] / total["valeur"] if computed(r) and computed(total) and total["valeur"] > 0 else None
    if share is None or not 0 <= share <= 100 + 1e-6:  # a negative amount or a partial total: no bar that would mislead
        return f"<td{attrs(data_v=sort_value(r))}>{figure_html(r)}</td>"
    # a native gauge, a few bytes per cell (600 organisations × 5 columns); the percentage is written beside it
    bar = f'<meter class="bar{" flat" if is_flat(r) else ""}" min="0" max="100" value="{share:.1f}" aria-hidden="true"></meter>'
    return (f"<td{attrs(data_v=sort_value(r))}>{figure_html(r)} <span class=\"share\">{fr_number(share, 0)} %</span>{bar}</td>")


# ─── peers ───

def peers(data: ReportData) -> str:
    rows = data.peers if data.kind == ORGANISME else []
    if not rows:
        return ""
    body = "".join(
        f'<tr><th scope="row">{esc(r["libelle"])} <span class="code">{esc(r["indicateur"])}</span></th>'
        f"<td>{esc(short_text(r['valeur'], r['unite']))}</td>"
        + "".join(f"<td>{esc(short_text(r[k], r['unite']) if r[k] is not None else '')}</td>" for k in ("q1", "mediane", "q3"))
        + f"<td>{r['pairs']}</td><td>{esc(r['position'])}</td><td>{esc(r['groupe'])}</td></tr>" for r in rows)
    head = "".join(f'<th scope="col">{h}</th>' for h in ("Indicateur", "L'organisme", "1er quartile des pairs", "Médiane",
                                                         "3e quartile", "Pairs", "Position", "Groupe de comparaison"))
    return (f'<section id="pairs" aria-labelledby="pairs-titre"><h2 id="pairs-titre">Parmi ses pairs</h2>'
            "<p>L'organisme face aux quartiles de ses pairs, sans les nommer (même famille et même région quand ils sont assez "
            "nombreux). Seules les intensités sont comparées ; une position « au-dessus » n'est ni bonne ni mauvaise en soi.</p>"
            f'<div class="scroll" role="region" aria-labelledby="pairs-legende" tabindex="0"><table>'
            f'<caption id="pairs-legende">Position de l\'organisme parmi ses pairs.</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></section>")
