"""The method note (docs/METHODE.md): generated from the référentiel, kept in sync, every
parameter sourced or visibly provisional."""

import re
from datetime import date
from pathlib import Path

import pytest

from acterr_cli.engine.measures import raw_measures
from acterr_cli.referentiel.method_note import ENGINE_PARAMETERS, PROVISIONAL, RULES, render_method_note
from acterr_cli.referentiel.model import load_referentiel

ROOT = Path(__file__).resolve().parents[1]
METHODE = ROOT / "docs" / "METHODE.md"
ENGINE = ROOT / "acterr_cli" / "engine"


@pytest.fixture(scope="module")
def referentiel():
    ref = load_referentiel()
    ref.validate(set(raw_measures()))
    return ref


@pytest.fixture(scope="module")
def note(referentiel):
    return render_method_note(referentiel)


def test_docs_methode_is_in_sync_with_the_referentiel(note):
    assert METHODE.exists(), "docs/METHODE.md absent : lancez « make methode »."
    shipped = METHODE.read_text(encoding="utf-8")
    assert shipped == note, ("docs/METHODE.md ne correspond plus au référentiel livré (catalogue.toml, parametres.toml) : "
                             "lancez « make methode » et ajoutez le fichier au commit.")


def test_note_is_deterministic(referentiel, note):
    assert render_method_note(referentiel) == note
    today = date.today()
    # no date of the run (the référentiel's own dates may be today's)
    dated = note.replace(str(referentiel.meta.get("date")), "").replace(str(referentiel.meta.get("date_parametres", "")), "")
    assert today.isoformat() not in dated and f"{today:%d/%m/%Y}" not in dated


def test_note_describes_every_indicator_and_parameter(referentiel, note):
    for ind in referentiel.indicators:
        section = _section(note, f"### {ind.code} — ")
        assert ind.formule in section, ind.code
        for variant in (ind.formule_basse, ind.formule_haute, ind.formule_repli, ind.formule_forfait):
            assert not variant or variant in section, ind.code
        assert ind.unite in section, ind.code
        assert "Ce que le chiffre laisse de côté, biais connus." in section
        if ind.limites.strip():
            assert " ".join(ind.limites.split()).replace("*", "\\*").replace("<", "&lt;") in section, ind.code
        for name in referentiel.parameters_used(ind):
            assert f"[`{name}`](#p-{name})" in section, (ind.code, name)
        # every input is named with its origin
        for name in referentiel.measure_roots(ind):
            assert f"| `{name}` |" in section, (ind.code, name)
    for p in referentiel.parameters.values():
        section = _section(note, f"### `{p.nom}` — ")
        assert p.source in section or not p.source, p.nom
        assert p.statut in section
    for title, _ in RULES:
        assert f"**{title}.**" in note


def test_inputs_with_their_origin(referentiel, note, tmp_path):
    # a parameter the engine applies to some raw measures is listed with the indicators they enter
    for name, measures in ENGINE_PARAMETERS.items():
        for ind in referentiel.indicators:
            if name in referentiel.parameters and set(measures) & referentiel.measure_roots(ind):
                assert f"[`{name}`](#p-{name})" in _section(note, f"### {ind.code} — "), (ind.code, name)
    # a derived measure, then what it is made of with its origin
    user = tmp_path / "essai.toml"
    user.write_text('[[mesure]]\nnom = "logements_ou_liasse"\nformule = "COALESCE(logements, liasse_logements)"\n'
                    'description = "Logements ; à défaut, ceux de la liasse"\n\n'
                    '[[indicateur]]\ncode = "AR-01"\nlibelle = "Essai"\naxe = "TER"\nunite = "logements"\n'
                    'formule = "logements_ou_liasse"\n', encoding="utf-8")
    section = _section(render_method_note(load_referentiel(surcharges=[user])), "### AR-01 — ")
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows[0] == ("| `logements_ou_liasse` | Logements ; à défaut, ceux de la liasse | "
                       "calculée : `COALESCE(logements, liasse_logements)` |")
    assert rows[1].startswith("| `logements` | ") and rows[1].endswith(" | feuille Patrimoine |")
    assert rows[2].startswith("| `liasse_logements` | ") and rows[2].endswith(" | liasse |")
    assert "**Part forfaitaire.** aucune (0 %)" in section and "**Paramètres.** aucun" in section
    assert "Registre : Contexte territorial." in note or "Registre : Valeur locale." in note


def test_flat_rate_and_provisional_parameters_are_flagged(tmp_path):
    user = tmp_path / "essai.toml"
    user.write_text('[meta]\ndescription = "Essai"\n\n'
                    '[[parametre]]\nnom = "prix_local"\nlibelle = "Prix local"\nbasse = 1\ncentrale = 2\nhaute = 3\n'
                    'unite = "€"\nsource = "devis"\nstatut = "à vérifier"\n\n'
                    '[[indicateur]]\ncode = "AR-01"\nlibelle = "Essai forfaitaire"\naxe = "SOC"\nunite = "€"\n'
                    'formule = "logements * prix_local"\nformule_forfait = "logements * prix_local"\n'
                    'forfait_remplace_par = "importer les prix locaux"\nlimites = "Ne compte que les logements *gérés*."\n\n'
                    '[[indicateur]]\ncode = "AR-02"\nlibelle = "Sur AR-01"\naxe = "SOC"\nunite = "€/logt"\n'
                    'formule = "AR_01 / NULLIF(logements, 0)"\n', encoding="utf-8")
    ref = load_referentiel(surcharges=[user])
    note = render_method_note(ref)
    assert "Avec le fichier de l'utilisateur essai.toml (Essai)" in note
    ar01, ar02 = _section(note, "### AR-01 — "), _section(note, "### AR-02 — ")
    assert "Ce qui la remplace par des données locales : importer les prix locaux." in ar01
    assert "Ne compte que les logements \\*gérés\\*." in ar01
    assert "⚠ aucune déclarée, mais l'indicateur utilise AR-01" in ar02
    assert "statut : ⚠ à vérifier" in ar01
    param = _section(note, "### `prix_local` — ")
    assert "- Remarque : ⚠ **aucune**" in param
    assert "[`prix_local`](#p-prix_local)" in _section(note, "## Points d'attention")


def test_engine_parameters_are_known():
    """A parameter the engine reads by name (no formula names it) is listed in ENGINE_PARAMETERS,
    so that the note links it to the indicators whose inputs it enters."""
    ref = load_referentiel()
    in_formulas = set().union(*(ref.parameters_used(i) for i in ref.indicators))
    source = "\n".join(p.read_text(encoding="utf-8") for p in ENGINE.glob("*.py"))
    read = {name for name in ref.parameters if name not in in_formulas and f'"{name}"' in source}
    assert read <= set(ENGINE_PARAMETERS), ("paramètres lus par le moteur, à ajouter à ENGINE_PARAMETERS "
                                            f"(acterr_cli/referentiel/method_note.py) : {sorted(read - set(ENGINE_PARAMETERS))}")


def test_no_parameter_to_verify_without_a_remark(referentiel):
    """« à vérifier » says why, and what would settle it (`remarque`)."""
    missing = [p.nom for p in referentiel.parameters.values() if PROVISIONAL in p.statut and not p.remarque.strip()]
    assert not missing, f"paramètres « à vérifier » sans remarque (pourquoi, et ce qui permettrait de trancher) : {missing}"


def _section(note: str, start: str) -> str:
    """From a heading to the next heading of the same or a higher level."""
    begin = note.index(start)
    level = len(start) - len(start.lstrip("#"))
    after = note.index("\n", begin)
    ends = [m.start() for m in re.finditer(r"^#{1,%d} " % level, note[after:], flags=re.M)]
    return note[begin:after + ends[0]] if ends else note[begin:]


def test_methodology_sheet_says_the_same(espace, tmp_path):
    """The Méthodologie sheet gives the rules, each indicator's flat-rate part and limits; the
    Paramètres sheet each parameter's remark."""
    from openpyxl import load_workbook

    from acterr_cli import api
    from acterr_cli.outputs.reports import write_report

    user = tmp_path / "essai.toml"
    user.write_text('[[parametre]]\nnom = "prix_repere"\nlibelle = "Prix repère"\nbasse = 1\ncentrale = 2\nhaute = 3\n'
                    'unite = "€"\nsource = "CRE"\nstatut = "à vérifier"\nremarque = "Prix repère CRE 2024 à reprendre."\n\n'
                    '[[parametre]]\nnom = "prix_local"\nlibelle = "Prix local"\nbasse = 1\ncentrale = 2\nhaute = 3\n'
                    'unite = "€"\nsource = "devis"\nstatut = "à vérifier"\n\n'
                    '[[indicateur]]\ncode = "AR-01"\nlibelle = "Essai forfaitaire"\naxe = "SOC"\nunite = "€"\n'
                    'formule = "logements * prix_local"\nformule_forfait = "logements * prix_local"\n'
                    'forfait_remplace_par = "importer les prix locaux"\nlimites = "Ne compte que les logements gérés."\n',
                    encoding="utf-8")
    ref = load_referentiel(surcharges=[user])
    computation = api.compute_level(espace, "EPCI", store=False, referentiel=ref)
    wb = load_workbook(write_report(tmp_path / "r.xlsx", computation, referentiel=ref).path)
    texts = [c.value for row in wb["Méthodologie"].iter_rows() for c in row if isinstance(c.value, str)]
    for i, (title, text) in enumerate(RULES, 1):
        assert f"{i}. {title}" in texts and text in texts
    rows = _table(wb["Méthodologie"], "Referentiel_indicateurs")
    ar01 = next(r for r in rows if r["Code"] == "AR-01")
    assert ar01["Limites et biais connus"] == "Ne compte que les logements gérés."
    assert ar01["Part forfaitaire (et ce qui la remplace)"].endswith("Remplacée par des données locales : importer les prix locaux.")
    eco01 = next(r for r in rows if r["Code"] == "ECO-01")
    assert eco01["Part forfaitaire (et ce qui la remplace)"] == "Aucune (0 %)."
    params = {r["Paramètre"]: r for r in _table(wb["Paramètres"], "Parametres")}
    remark = "Remarque (pourquoi provisoire, ce qui permettrait de trancher)"
    assert params["prix_repere"][remark] == "Prix repère CRE 2024 à reprendre."
    assert params["prix_local"][remark].startswith("Aucune remarque")


def _table(ws, name: str) -> list[dict]:
    cells = list(ws[dict(ws.tables.items())[name]])
    headers = [c.value for c in cells[0]]
    return [dict(zip(headers, (c.value for c in row), strict=True)) for row in cells[1:]]


def test_referentiel_command_prints_the_note(note, tmp_path):
    from typer.testing import CliRunner

    from acterr_cli.cli.app import app

    result = CliRunner().invoke(app, ["referentiel", "--methode"])
    assert result.exit_code == 0, result.output
    assert result.stdout == note
    user = tmp_path / "ar.toml"
    name = next(iter(load_referentiel().parameters))
    user.write_text(f'[meta]\ndescription = "AR"\n\n[[parametre]]\nnom = "{name}"\nhaute = 987654\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["--referentiel", str(user), "referentiel", "--methode"])
    assert result.exit_code == 0, result.output
    assert "Avec le fichier de l'utilisateur ar.toml (AR)" in result.stdout and "haute 987\u202f654" in result.stdout
