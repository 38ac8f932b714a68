"""The page's method and provenance sections: the référentiel used (rules, indicators with their
formulas, flat-rate parts and limits), the parameters with their sources, the files read with
their SHA-256 — what the workbook's Méthodologie, Paramètres and Sources sheets say, from the
same rows (outputs/reports/method.py)."""

from __future__ import annotations

from datetime import datetime

from acterr_cli import __version__
from acterr_cli.common.formatting import fr_datetime, fr_number
from acterr_cli.outputs.html.markup import esc
from acterr_cli.outputs.reports.method import indicator_rows, parameter_remark, parameter_rows
from acterr_cli.outputs.reports.model import LEVEL_NOUNS, ReportData
from acterr_cli.referentiel.method_note import FLAGGED_STATUSES, RULES


def _table(ident: str, caption: str, head: list[str], rows: list[list[str]], classes: str = "") -> str:
    """A table whose cells are already HTML; the first cell of each row is its header."""
    th = "".join(f'<th scope="col">{esc(h)}</th>' for h in head)
    body = "".join("<tr>" + f'<th scope="row">{r[0]}</th>' + "".join(f"<td>{c}</td>" for c in r[1:]) + "</tr>" for r in rows)
    return (f'<div class="scroll" role="region" aria-labelledby="{ident}" tabindex="0"><table class="{classes}">'
            f'<caption id="{ident}">{esc(caption)}</caption><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>')


def method(data: ReportData) -> str:
    ref, meta = data.referentiel, data.meta
    overrides = ref.meta.get("surcharges") or []
    facts = [
        ("Référentiel", f"{ref.meta.get('nom', 'Référentiel')} — version {ref.version} (paramètres version "
                        f"{ref.meta.get('version_parametres') or '?'})"),
        ("Surcharges de l'utilisateur", " ; ".join(o["fichier"] + (f" — {o['description']}" if o.get("description") else "")
                                                   for o in overrides) or "aucune"),
        ("Référentiel territorial", str(meta.get("territoires") or "")),
        ("Niveau territorial", LEVEL_NOUNS.get(data.level, data.level)),
        ("Exercice", "" if data.year is None else str(data.year)),
        ("Calculé le", fr_datetime(meta.get("calcule_le"))),
    ]
    facts_html = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts if v)
    rules = "".join(f"<li><strong>{esc(title)}.</strong> {esc(text)}</li>" for title, text in RULES)
    indicators = [[f'{esc(r["code"])}', esc(r["libelle"]), f'<code>{esc(r["formules"])}</code>', esc(r["registre"]),
                   esc(r["unite"]), f'<span class="{"flat" if r["forfaitaire"] else ""}">{esc(r["forfait"])}</span>',
                   esc(r["limites"])] for r in indicator_rows(data)]
    params = []
    for r in parameter_rows(data):
        flagged = any(s in (r.get("statut") or "") for s in FLAGGED_STATUSES)
        status = esc(r.get("statut") or "")
        params.append([esc(r["nom"]), esc(r.get("libelle")), _number(r.get("basse")), f"<strong>{_number(r.get('centrale'))}</strong>",
                       _number(r.get("haute")), esc(r.get("unite")), esc(r.get("annee")), esc(r.get("source")),
                       f'<span class="flagged">⚠ {status}</span>' if flagged else status, esc(parameter_remark(r))])
    return (f'<section id="methode" aria-labelledby="methode-titre"><h2 id="methode-titre">Méthode et paramètres</h2>'
            f"<p>Chaque chiffre se recalcule à la main à partir de ce qui suit. Note de méthode complète : "
            f"<code>acterr referentiel --methode</code>.</p><dl class=\"facts\">{facts_html}</dl>"
            f'<h3 id="regles">Règles de calcul</h3><ol class="rules">{rules}</ol>'
            f'<h3 id="indicateurs">Indicateurs du référentiel</h3>'
            + _table("indicateurs-legende", f"{len(indicators)} indicateurs : formule (centrale ; basse et haute si différentes), "
                     "part forfaitaire et ce qui la remplace, limites connues.",
                     ["Code", "Libellé", "Formule", "Registre", "Unité", "Part forfaitaire", "Limites et biais connus"], indicators,
                     "method")
            + '<h3 id="parametres">Paramètres</h3>'
            + _table("parametres-legende", "Paramètres de calcul utilisés (valeurs basse, centrale, haute), leur source et leur "
                     "statut ; ⚠ : « à vérifier » ou « hypothèse », un choix de méthode ou un chiffre à confirmer.",
                     ["Paramètre", "Libellé", "Basse", "Centrale", "Haute", "Unité", "Année", "Source", "Statut", "Remarque"],
                     params, "method")
            + "</section>")


def _number(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        decimals = 0 if float(value).is_integer() else min(4, len(repr(float(value)).split(".")[1]))
        return esc(fr_number(value, decimals))
    return esc(value)


def sources(data: ReportData) -> str:
    files = [[esc(f.get("fichier")), f'<code class="hash">{esc(f.get("sha256"))}</code>', esc(f.get("raison_sociale")),
              esc(f.get("siren")), esc(f.get("type")), esc(f.get("exercice")), esc(fr_datetime(f.get("importe_le")))]
             for f in data.meta.get("entrees") or []]
    ref_files = [[esc(f["fichier"]), f'<code class="hash">{esc(f["sha256"])}</code>'] for f in data.referentiel.sources]
    return ('<section id="sources" aria-labelledby="sources-titre"><h2 id="sources-titre">Fichiers lus</h2>'
            "<p>Les fichiers lus pour ce calcul, avec leur empreinte SHA-256 : un fichier modifié change d'empreinte.</p>"
            + _table("entrees-legende", f"Fichiers d'entrée ({len(files)}).",
                     ["Fichier", "SHA-256", "Organisme", "SIREN", "Type", "Exercice", "Importé le"], files, "files")
            + _table("referentiel-legende", "Fichiers du référentiel.", ["Fichier", "SHA-256"], ref_files, "files")
            + "</section>")


def colophon(data: ReportData) -> str:
    meta = data.meta
    return (f"Page produite le {datetime.now():%d/%m/%Y à %H:%M} par acterr {esc(__version__)} "
            f"(calcul du {esc(fr_datetime(meta.get('calcule_le')))}, acterr {esc(meta.get('acterr', __version__))}, "
            f"référentiel {esc(data.referentiel.version)}). acterr est un logiciel libre : chaque chiffre porte sa formule, "
            "ses paramètres sourcés, sa fourchette et sa couverture.")
