"""The blank questionnaire: every sheet and header of DATA.md, drop-downs, frozen and locked headers;
the master copy in templates_xlsx/ is what the generator writes."""

from pathlib import Path

import openpyxl
import pytest

from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.outputs.questionnaire_template import (
    ORGANISME_HEADER_ROW,
    TABLE_HEADER_ROW,
    write_questionnaire,
)

MASTER = Path(__file__).parents[1] / "templates_xlsx" / "questionnaire_acterr.xlsx"


def headers(ws, row: int) -> list[str]:
    return [c.value for c in ws[row] if c.value is not None]


@pytest.fixture(scope="module")
def blank(tmp_path_factory):
    return openpyxl.load_workbook(write_questionnaire(tmp_path_factory.mktemp("q") / "q.xlsx"))


def test_every_sheet_and_column(blank):
    for sheet in qs.TABLE_SHEETS:
        ws = blank[sheet.name]
        assert headers(ws, TABLE_HEADER_ROW) == [c.label for c in sheet.columns]
        assert ws.freeze_panes == f"A{TABLE_HEADER_ROW + 1}"
        assert ws.protection.sheet  # header rows locked
    organisme = blank["Organisme"]
    labels = [organisme.cell(r, 1).value.rstrip(" *") for r in range(ORGANISME_HEADER_ROW + 1, ORGANISME_HEADER_ROW + 1 + len(qs.ORGANISME.columns))]
    assert labels == [c.label for c in qs.ORGANISME.columns]


def test_data_cells_are_open_for_input(tmp_path):
    wb = openpyxl.load_workbook(write_questionnaire(tmp_path / "q.xlsx", {}, {"Patrimoine": [{"commune": "31555", "logements": 3}]}))
    ws = wb["Patrimoine"]
    assert ws.cell(TABLE_HEADER_ROW, 1).protection.locked
    assert not ws.cell(TABLE_HEADER_ROW + 1, 1).protection.locked
    assert ws.cell(TABLE_HEADER_ROW + 1, 1).number_format == "@"  # codes stay text: 01053 keeps its zero


def test_drop_down_lists(blank):
    ws = blank["Achats"]
    formulas = [dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert "Listes!$B$2:$B$8" in formulas  # nature: 7 values
    listes = blank["Listes"]
    assert [listes.cell(r, 2).value for r in range(2, 9)] == qs.CHOICES["nature"]
    assert listes.sheet_state == "hidden"


def test_master_copy_matches_generator(blank):
    master = openpyxl.load_workbook(MASTER)
    assert master.sheetnames == blank.sheetnames
    for sheet in qs.TABLE_SHEETS:
        assert headers(master[sheet.name], TABLE_HEADER_ROW) == headers(blank[sheet.name], TABLE_HEADER_ROW)


def test_user_strings_are_never_formulas(tmp_path):
    org = {"siren": "900000001", "raison_sociale": '=HYPERLINK("http://x","y")', "famille": "OPH", "exercice": 2025}
    wb = openpyxl.load_workbook(write_questionnaire(tmp_path / "q.xlsx", org, {}))
    cell = wb["Organisme"]["B6"]
    assert cell.value == '=HYPERLINK("http://x","y")' and cell.data_type == "s"
