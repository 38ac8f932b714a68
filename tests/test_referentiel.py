"""The référentiel as data: validation of every formula, user files that override or extend it."""

import pytest
from builders import TOULOUSE_METROPOLE
from test_indicators import pick
from typer.testing import CliRunner

from acterr_cli import api
from acterr_cli.cli.app import app
from acterr_cli.engine.measures import raw_measures
from acterr_cli.errors import ConfigurationError
from acterr_cli.referentiel.model import load_referentiel

runner = CliRunner()

USER_FILE = """
[meta]
description = "Paramètres de l'AR Hlm, campagne 2026"

[[parametre]]
nom = "r_emplois_travaux"
centrale = 12.0
source = "Étude régionale CERC 2025"

[[parametre]]
nom = "part_locale_loyers"
libelle = "Part des loyers dépensée localement"
basse = 0.5
centrale = 0.6
haute = 0.7
unite = "part"
source = "hypothèse de l'AR"
statut = "hypothèse"

[[indicateur]]
code = "AR-01"
libelle = "Loyers dépensés localement"
axe = "ECO"
unite = "€"
formule = "loyers_annuels_eur * part_locale_loyers"
parties_prenantes = ["collectivites"]
"""


def test_shipped_referentiel_is_valid():
    ref = load_referentiel()
    ref.validate(set(raw_measures()))
    assert len({i.code for i in ref.indicators}) == len(ref.indicators)
    for p in ref.parameters.values():
        assert p.source and p.statut and p.unite, p.nom


def test_user_file_overrides_parameters_and_adds_indicators(tmp_path, espace):
    user = tmp_path / "ar.toml"
    user.write_text(USER_FILE, encoding="utf-8")
    ref = load_referentiel(surcharges=[user])
    assert ref.parameters["r_emplois_travaux"].centrale == 12.0
    assert ref.parameters["r_emplois_travaux"].haute == 16  # fields not given are kept
    results = api.compute_level(espace, "EPCI", referentiel=ref).results
    # ECO-06 central with 12 jobs per M€ of works instead of 10: (7,5 × 0,62 + 2,6 × 0,82) × 12
    assert pick(results, "ECO-06", TOULOUSE_METROPOLE)["valeur"] == pytest.approx((7.5 * 0.62 + 2.6 * 0.82) * 12)
    ar = pick(results, "AR-01", TOULOUSE_METROPOLE)
    assert ar["valeur"] == pytest.approx((4_000_000 + 1_350_000 + 1_000_000) * 0.6)
    assert (ar["valeur_basse"], ar["valeur_haute"]) == pytest.approx((6_350_000 * 0.5, 6_350_000 * 0.7))


def test_cli_uses_the_user_file_and_records_it(tmp_path, espace):
    user = tmp_path / "ar.toml"
    user.write_text(USER_FILE, encoding="utf-8")
    result = runner.invoke(app, ["--espace", str(espace), "--referentiel", str(user), "compute", "--json"])
    assert result.exit_code == 0, result.output
    assert "AR-01" in result.stdout and "ar.toml" in result.stdout
    # an export without the file: computed with the shipped référentiel, said so, the stored results kept
    result = runner.invoke(app, ["--espace", str(espace), "export", "--sortie", str(tmp_path / "r.xlsx")])
    assert result.exit_code == 0, result.output
    assert "les résultats enregistrés ont été calculés avec ar.toml" in result.stderr and "--referentiel ar.toml" in result.stderr
    stored = api.Workspace.open(espace, create=False).load_results("EPCI")[1]
    assert [f["fichier"] for f in stored["referentiel"]["fichiers"]][-1] == "ar.toml"


@pytest.mark.parametrize("content, expected", [
    ('[[indicateur]]\ncode = "X-01"\nlibelle = "x"\naxe = "ECO"\nunite = "€"\nformule = "mesure_inconnue * 2"\n',
     "nom inconnu « mesure_inconnue »"),
    ('[[indicateur]]\ncode = "X-01"\nlibelle = "x"\naxe = "ECO"\nunite = "€"\nformule = "X_02 + 1"\n'
     '[[indicateur]]\ncode = "X-02"\nlibelle = "y"\naxe = "ECO"\nunite = "€"\nformule = "X_01 + 1"\n',
     "définition circulaire"),
    ('[[indicateur]]\ncode = "X-01"\nlibelle = "x"\naxe = "ECO"\nunite = ""\nformule = "logements"\n', "unité manquante"),
    ('[[indicateur]]\ncode = "X-01"\nlibelle = "x"\naxe = "ECO"\nunite = "€"\nformule = "logements +"\n', "formule illisible"),
    ('[[parametre]]\nnom = "r_emplois_travaux"\nbasse = 30\n', "basse ≤ centrale ≤ haute"),
    ("ceci n'est pas du TOML = = \n", "TOML invalide"),
    # a typo is never ignored (the national value would stay without a word)
    ('[[parametre]]\nnom = "r_emplois_travaux"\ncentarle = 14.0\n', "clé inconnue « centarle » dans [parametre] (vouliez-vous dire centrale ?)"),
    ('[[parametres]]\nnom = "r_emplois_travaux"\ncentrale = 14.0\n', "section inconnue « parametres » (vouliez-vous dire parametre ?)"),
    ('[[parametre]]\nnom = "r_emploi_travaux"\ncentrale = 14.0\n', "paramètre inconnu « r_emploi_travaux » (vouliez-vous dire r_emplois_travaux ?)"),
    # computed row by row into a number, or refused here (not a false total everywhere, not a crash later)
    ('[[indicateur]]\ncode = "X-01"\nlibelle = "x"\naxe = "ECO"\nunite = "€"\nformule = "SUM(loyers_annuels_eur)"\n', "agrège (SUM, MAX, COUNT…)"),
    ('[[indicateur]]\ncode = "X-01"\nlibelle = "x"\naxe = "ECO"\nunite = "ratio"\nformule = "COUNT(*)"\n', "agrège"),
    ('[[indicateur]]\ncode = "X-01"\nlibelle = "x"\naxe = "ECO"\nunite = "€"\nformule = "(SELECT 1)"\n', "formule non calculable"),
    ('[[indicateur]]\ncode = "X-01"\nlibelle = "x"\naxe = "ECO"\nunite = "€"\nformule = "logements || \'x\'"\n', "donne un texte"),
])
def test_verifier_reports_invalid_user_files(tmp_path, content, expected):
    user = tmp_path / "faux.toml"
    user.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["referentiel", "--verifier", str(user)])
    assert result.exit_code == 5
    assert expected in result.stderr
    with pytest.raises(ConfigurationError):
        load_referentiel(surcharges=[user]).validate(set(raw_measures()))


def test_the_readme_example_is_valid(tmp_path):
    """The example of « Adapter le référentiel » works as written."""
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text("utf-8")
    section = readme.split("## Adapter le référentiel", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    user = tmp_path / "ar.toml"
    user.write_text(example, encoding="utf-8")
    load_referentiel(surcharges=[user]).validate(set(raw_measures()))


def test_verifier_accepts_a_valid_file(tmp_path):
    user = tmp_path / "ar.toml"
    user.write_text(USER_FILE, encoding="utf-8")
    result = runner.invoke(app, ["referentiel", "--verifier", str(user)])
    assert result.exit_code == 0
    assert "fichier valide" in result.stderr
