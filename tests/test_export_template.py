"""User templates: filled through `acterr_…` names and tables, the designer's chart and logo kept;
`acterr modele verifier` says what a template lacks or will lose."""

import importlib.util
import io
import json
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from builders import SIREN_B, TOULOUSE_METROPOLE
from openpyxl import load_workbook
from PIL import Image
from typer.testing import CliRunner

from acterr_cli.api import report_inputs
from acterr_cli.cli.app import app
from acterr_cli.errors import ConfigurationError
from acterr_cli.outputs.reports.model import ReportData, Scope
from acterr_cli.outputs.template_fill import fill_template, verify_template
from acterr_cli.referentiel.model import load_referentiel

ROOT = Path(__file__).parents[1]
runner = CliRunner()
NNBSP = "\u202f"


def logo() -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (60, 30), (200, 30, 30)).save(buf, format="PNG")
    buf.seek(0)
    return buf


def make_template(path: Path, extra=None) -> Path:
    """A template as a user would design it: a logo, named cells, a one-row table and a chart on it."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Couverture")
    ws.insert_image("F1", "logo.png", {"image_data": logo()})
    ws.write("A1", "titre")
    wb.define_name("acterr_titre", "=Couverture!$A$1")
    ws.write_number("B3", 0, wb.add_format({"num_format": "# ##0 €", "bold": True}))
    wb.define_name("acterr_ECO_10", "=Couverture!$B$3")
    ws.write("B4", "")
    wb.define_name("acterr_soc_01", "=Couverture!$B$4")  # names are read without regard to case
    wb.define_name("acterr_SOC_01_fourchette", "=Couverture!$C$4")
    wb.define_name("acterr_exercice", "=Couverture!$B$5")
    wb.define_name("ma_cellule", "=Couverture!$B$9")  # the designer's own names are left alone
    data = wb.add_worksheet("Données")
    data.add_table("A1:C2", {"name": "acterr_territoires", "columns": [{"header": "Territoire"}, {"header": "ECO-10"},
                                                                      {"header": "Ma colonne"}], "data": [["exemple", 1, "x"]]})
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"name": "TFPB", "categories": "=Données!$A$2:$A$2", "values": "=Données!$B$2:$B$2"})
    ws.insert_chart("A12", chart)
    if extra:
        extra(wb, ws)
    wb.close()
    return path


@pytest.fixture
def data(espace) -> ReportData:
    return ReportData.build(report_inputs(espace, "EPCI", load_referentiel()), Scope())


def test_filled_template_keeps_its_chart_and_logo(tmp_path, data):
    template = make_template(tmp_path / "modele.xlsx")
    filled = fill_template(template, tmp_path / "rempli.xlsx", data)
    assert (filled.charts, filled.images) == (1, 1)
    assert filled.tables == {"acterr_territoires": 2}
    with zipfile.ZipFile(filled.path) as z:
        names = z.namelist()
    assert any(n.startswith("xl/media/") for n in names) and any(n.startswith("xl/charts/chart") for n in names)
    wb = load_workbook(filled.path)
    cover = wb["Couverture"]
    assert len(cover._charts) == 1 and len(cover._images) == 1
    assert cover["A1"].value == data.title
    assert cover["B3"].value == pytest.approx(840_000) and cover["B3"].number_format == "# ##0 €"  # the designer's format wins
    assert cover["B4"].value == pytest.approx(5_330_820.6) and "M€" in cover["B4"].number_format  # « Standard » gets acterr's
    assert cover["C4"].value == "4,6 – 5,3 M€" and cover["B5"].value == 2025
    assert cover["B9"].value is None
    table = wb["Données"].tables["acterr_territoires"]
    assert table.ref == "A1:C3"
    rows = [[c.value for c in row] for row in wb["Données"]["A2:C3"]]
    assert rows == [["Toulouse Métropole", pytest.approx(610_000), None], ["Montpellier Méditerranée Métropole", pytest.approx(230_000), None]]
    [series] = cover._charts[0].series
    assert series.val.numRef.f == "Données!$B$2:$B$3"  # the chart follows the table
    assert (series.cat.numRef or series.cat.strRef).f == "Données!$A$2:$A$3"
    assert not [c for row in wb["Données"].iter_rows() for c in row if c.data_type == "f"]


def test_the_shipped_board_template_is_valid_and_fills(tmp_path, data):
    spec = importlib.util.spec_from_file_location("make_board_template", ROOT / "templates_xlsx" / "make_board_template.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build(tmp_path / "modele.xlsx")
    codes = {i.code for i in load_referentiel().indicators}
    for template in (built, ROOT / "templates_xlsx" / "modele_rapport_conseil.xlsx"):
        report = verify_template(template, codes)
        assert report["valide"] and report["problemes"] == [], report["problemes"]
        assert (report["graphiques"], report["images"]) == (1, 1)
    filled = fill_template(built, tmp_path / "rempli.xlsx", data)
    assert (filled.charts, filled.images) == (1, 1) and filled.tables["acterr_indicateurs"] == len(data.headline)


def test_template_without_room_below_a_table_is_refused(tmp_path, data):
    def blocker(wb, ws):
        wb.get_worksheet_by_name("Données").write("A3", "une note du concepteur")

    template = make_template(tmp_path / "modele.xlsx", blocker)
    with pytest.raises(ConfigurationError, match="acterr_territoires.*1 lignes libres"):
        fill_template(template, tmp_path / "rempli.xlsx", data)
    assert not (tmp_path / "rempli.xlsx").exists()


def test_verifier_reports_what_a_template_lacks(espace, tmp_path):
    def faults(wb, ws):
        wb.define_name("acterr_ECO_99", "=Couverture!$D$1")
        wb.define_name("acterr_ECO_01_moyenne", "=Couverture!$D$2")
        wb.define_name("acterr_perimetre", "=Couverture!$D$3:$D$4")
        ws.insert_textbox("H10", "Une zone de texte")

    template = make_template(tmp_path / "modele.xlsx", faults)
    result = runner.invoke(app, ["--espace", str(espace), "modele", "verifier", str(template), "--json"])
    assert result.exit_code == 5, result.output
    report = json.loads(result.stdout)
    problems = {n["nom"]: n["probleme"] for n in report["noms"] if n["probleme"]}
    assert set(problems) == {"acterr_ECO_99", "acterr_ECO_01_moyenne", "acterr_perimetre"}
    assert "indicateur inconnu" in problems["acterr_ECO_99"] and "suffixe inconnu" in problems["acterr_ECO_01_moyenne"]
    assert "une seule cellule" in problems["acterr_perimetre"]
    assert report["perdus"] == ["formes et zones de texte"]
    messages = " ".join(p["message"] for p in report["problemes"])
    assert "« Ma colonne » inconnue" in messages
    assert "registre" not in messages  # both ledgers are there: ECO-10 and SOC-01
    # filling refuses a template with errors, and says where to look
    fill = runner.invoke(app, ["--espace", str(espace), "export", "--modele", str(template), "--sortie", str(tmp_path / "r.xlsx")])
    assert fill.exit_code == 5 and "acterr modele verifier" in " ".join(fill.stderr.split())


def test_verifier_accepts_a_good_template(espace, tmp_path):
    template = make_template(tmp_path / "modele.xlsx")
    result = runner.invoke(app, ["--espace", str(espace), "modele", "verifier", str(template)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "acterr_ECO_10" in out and "Modèle utilisable" in out
    assert "1 graphique(s), 1 image(s)" in out


def test_export_with_a_template_through_the_cli(espace, tmp_path):
    template = make_template(tmp_path / "modele.xlsx")
    out = tmp_path / "sortie" / "conseil.xlsx"
    result = runner.invoke(app, ["--espace", str(espace), "export", "--organisme", SIREN_B, "--modele", str(template),
                                 "--sortie", str(out), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["fichiers"][0]["contenu"] == "modele" and document["graphiques"] == 1
    wb = load_workbook(out)
    assert wb["Couverture"]["B3"].value == pytest.approx(320_000)  # B's TFPB, all its territories
    assert [r[0].value for r in wb["Données"]["A2:A3"]] == ["Montpellier Méditerranée Métropole", "Toulouse Métropole"]
    assert TOULOUSE_METROPOLE  # the territory codes are in the results table, not in this template


def test_unreadable_template(espace, tmp_path):
    bad = tmp_path / "pas_un_classeur.xlsx"
    bad.write_text("bonjour", encoding="utf-8")
    result = runner.invoke(app, ["--espace", str(espace), "modele", "verifier", str(bad)])
    assert result.exit_code == 5 and "lisible" in result.stderr
    missing = runner.invoke(app, ["--espace", str(espace), "modele", "verifier", str(tmp_path / "absent.xlsx")])
    assert missing.exit_code == 4
