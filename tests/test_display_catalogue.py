"""Display choices are catalogue data: short label, abbreviation, caption, where an indicator is a
headline (`en_tete`), which chart shows it (`graphique`) and its favourable direction (`sens`).
Adding a headline is a catalogue edit: a user file adds one, and the Synthèse, the terminal
summary of `export` and the territories' table of `compute` show it, without code."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import write_all
from openpyxl import load_workbook
from typer.testing import CliRunner

from acterr_cli import api
from acterr_cli.cli.app import app
from acterr_cli.engine.measures import raw_measures
from acterr_cli.errors import ConfigurationError
from acterr_cli.referentiel.model import load_referentiel

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported")
runner = CliRunner()

# A new headline indicator: the organisations' rents, first of the valeur locale panels.
USER_HEADLINE = '''
[meta]
description = "Un chiffre clé de plus"

[[indicateur]]
code = "AR-01"
libelle = "Loyers quittancés aux locataires"
libelle_court = "Loyers quittancés"
abreviation = "Loyers"
axe = "ECO"
unite = "€"
additif = true
formule = "loyers_annuels_eur"
en_tete = ["synthese", "terminal", "terminal_territoires"]
rang = 0
sens = "hausse"
'''


def write(tmp_path: Path, text: str, name: str = "ar.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_shipped_display_choices():
    ref = load_referentiel()
    assert [i.code for i in ref.headlines("synthese", "valeur_locale")][:4] == ["ECO-01", "ECO-06", "ECO-08", "ECO-10"]
    assert [i.code for i in ref.headlines("terminal_territoires")][0] == "TER-00"  # the first ranks the territories
    assert [i.code for i in ref.charted("synthese", "plus_value_sociale")] == ["SOC-01"]
    assert [i.code for i in ref.charted("cascade")] == ["ECO-01", "ECO-11", "SOC-01", "TER-00"]  # the Évolution sheet's waterfalls
    assert [i.code for i in ref.headlines("classement")][:2] == ["TER-00", "ECO-01"]  # the ranking's columns
    assert ref.short_label("ECO-01") == "Investissement" and ref.abbreviation("ECO-01") == "Invest."
    assert ref.short_label("ECO-12-R1").startswith("LM3")  # no libelle_court: the libellé
    assert ref.favourable_direction("ENV-01b") == "baisse" and ref.favourable_direction("ENV-01") == "hausse"
    assert ref.favourable_direction("TER-03") is None
    # every indicator compared with peers says which way is better, but the context figures
    assert all(ref.favourable_direction(i.code) for i in ref.headlines("pairs") if i.code not in ("PV-01", "GOV-01"))
    # every headline of a panel has a short label (a panel's column is narrow)
    assert all(i.libelle_court for place in ("synthese", "terminal", "fiche") for i in ref.headlines(place))
    ref.validate(set(raw_measures()))


def test_list_form_takes_the_rank_and_a_table_one_rank_per_place(tmp_path):
    ref = load_referentiel(surcharges=[write(tmp_path, USER_HEADLINE)])
    assert [i.code for i in ref.headlines("synthese", "valeur_locale")][:2] == ["AR-01", "ECO-01"]
    assert ref.headlines("terminal_territoires")[0].code == "AR-01"
    table = USER_HEADLINE.replace('en_tete = ["synthese", "terminal", "terminal_territoires"]\nrang = 0',
                                  "en_tete = { synthese = 2.5, fiche = 9 }")  # between the 2nd and the 3rd
    ref = load_referentiel(surcharges=[write(tmp_path, table)])
    assert [i.code for i in ref.headlines("synthese", "valeur_locale")][:4] == ["ECO-01", "ECO-06", "AR-01", "ECO-08"]
    assert [i.code for i in ref.headlines("fiche", "valeur_locale")][-1] == "AR-01"
    assert ref.headlines("terminal_territoires")[0].code == "TER-00"


@pytest.mark.parametrize(("change", "message"), [
    ('en_tete = ["synthse"]', "en_tete « synthse » inconnu (vouliez-vous dire synthese ?)"),
    ('graphique = ["graphique"]', "graphique « graphique » inconnu (vouliez-vous dire graphiques ?)"),
    ('sens = "haut"', "sens « haut » inconnu (attendu : hausse ou baisse)"),
    ('abreviation = "Loyers quittancés"', "abréviation « Loyers quittancés » trop longue"),
    ('axe = "GOV"\nen_tete = ["synthese"]', "n'a pas de panneau pour le registre Gouvernance"),
    ('graphique = ["parties"]', "graphique « parties » pour un indicateur qui n'est pas la somme de ses parties"),
    ('additif = false\ngraphique = ["cascade"]', "graphique « cascade » pour un indicateur non additif"),
    ('graphique = ["carte"]', "graphique « carte » pour un total"),
])
def test_wrong_display_choices_are_refused_with_a_reason(tmp_path, change, message):
    key = change.split(" = ")[0]
    lines = [line for line in USER_HEADLINE.splitlines() if not line.startswith((key, "rang", "en_tete"))]
    if key == "axe":
        lines = [line for line in lines if not line.startswith("axe")]
    ref = load_referentiel(surcharges=[write(tmp_path, "\n".join(lines) + "\n" + change + "\n")])
    with pytest.raises(ConfigurationError) as err:
        ref.validate(set(raw_measures()))
    assert message in err.value.message


def test_a_misspelt_display_key_is_refused_with_the_closest_name(tmp_path):
    path = write(tmp_path, USER_HEADLINE.replace("libelle_court =", "libelle_cour ="))
    with pytest.raises(ConfigurationError, match="clé inconnue « libelle_cour » dans \\[indicateur\\] \\(vouliez-vous dire libelle_court \\?\\)"):
        load_referentiel(surcharges=[path])


def test_a_user_headline_shows_in_the_synthese_and_the_terminal_without_code(tmp_path):
    espace = tmp_path / "espace"
    report = api.import_paths(espace, write_all(tmp_path / "entrees"))
    assert not report.refused
    user = write(tmp_path, USER_HEADLINE)
    wide = {"COLUMNS": "160"}
    out = runner.invoke(app, ["--espace", str(espace), "--referentiel", str(user), "export", "--sortie",
                              str(tmp_path / "r.xlsx")], env=wide)
    assert out.exit_code == 0, out.stdout
    panel = next(line for line in out.stdout.splitlines() if "Loyers quittancés" in line)
    assert "Valeur locale" in out.stdout and "M€" in panel  # in the valeur locale panel, with its figure
    # the Synthèse: a row of the valeur locale panel, its value cell named like every headline
    wb = load_workbook(tmp_path / "r.xlsx")
    assert "acterr_AR_01" in wb.defined_names
    labels = [str(c.value) for row in wb["Synthèse"].iter_rows() for c in row if c.value]
    assert any(v.startswith("Loyers quittancés aux locataires") for v in labels)
    # compute: a column of the territories' table, named by its abbreviation, and the table ranked by it
    out = runner.invoke(app, ["--espace", str(espace), "--referentiel", str(user), "compute", "--territoire", "EPCI"], env=wide)
    assert out.exit_code == 0, out.stdout
    assert "Loyers" in out.stdout and "Loyers : Loyers quittancés" in out.stdout
    # without the user file, neither
    out = runner.invoke(app, ["--espace", str(espace), "compute", "--territoire", "EPCI"], env=wide)
    assert "Loyers" not in out.stdout


def test_the_readme_display_example_is_valid(tmp_path):
    """The README's example of a headline added by a user file works as written."""
    readme = (Path(__file__).parents[1] / "README.md").read_text("utf-8")
    section = readme.split("## Adapter le référentiel", 1)[1].split("\n## ", 1)[0]
    examples = [block.split("```", 1)[0] for block in section.split("```toml\n")[1:]]
    assert len(examples) == 2
    user = write(tmp_path, "\n".join(examples))
    ref = load_referentiel(surcharges=[user])
    ref.validate(set(raw_measures()))
    assert ref.headlines("synthese", "valeur_locale")[0].code == "AR-02"
    assert ref.headlines("terminal_territoires")[0].code == "AR-02"
