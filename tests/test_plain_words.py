"""Pages a board reads in plain words (issue 15): no indicator code on the Synthèse, the fiche or a
chart's title; counts that agree; opening sentences built from the figures that never claim more
than they are; every missing figure says why where it would have been; the evidence grade beside
every figure, with its legend.

Fixture (builders.py, EPCI level, no market rent): ECO-01 is measured, 14,3 M€ for the two
organisations (10,1 M€ in Toulouse + B's liasse, 4,2 M€, placed nowhere); SOC-01 is the national
flat rate; ECO-03 is not computable (no Achats sheet).
"""

import re

import pytest
from builders import write_all
from openpyxl import load_workbook

from acterr_cli import api
from acterr_cli.api import report_inputs
from acterr_cli.outputs.fiche import fiche_subjects
from acterr_cli.outputs.reports import write_report
from acterr_cli.outputs.reports.model import ReportData, Scope
from acterr_cli.outputs.wording import GRADE_LEGEND, count, short_reason
from acterr_cli.referentiel.model import load_referentiel

pytestmark = pytest.mark.filterwarnings("ignore:.*extension is not supported")
CODE = re.compile(r"\b(ECO|SOC|PV|ENV|GOV|TER)-\d")
NNBSP = "\u202f"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("plain")
    assert not api.import_paths(root / "espace", write_all(root / "entrees")).refused
    return report_inputs(root / "espace", "EPCI", load_referentiel())


@pytest.fixture(scope="module")
def workbook(inputs, tmp_path_factory):
    return load_workbook(write_report(tmp_path_factory.mktemp("classeur") / "r.xlsx", inputs).path)


def texts(ws) -> list[str]:
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def test_count_agrees():
    assert count(1, "organisme") == "1 organisme" and count(0, "territoire") == "0 territoire"
    assert count(4, "organisme Hlm présent", "organismes Hlm présents") == "4 organismes Hlm présents"
    assert count(1200, "logement") == f"1{NNBSP}200 logements"


def test_a_short_reason_is_cut_at_a_whole_word():
    reason = "non fourni : Gros entretien, Investissement construction neuve, Investissement réhabilitation"
    assert short_reason(reason, 50) == "non fourni : Gros entretien, Investissement…"
    assert short_reason("abcdefghij" * 3, 10) == "abcdefghi…"  # one word longer than the room: cut inside it


def test_short_reason_keeps_what_is_missing_without_the_explanations():
    motif = ("aucun organisme présent ne fournit pour ce territoire : Gros entretien (€) (feuille Production ou liasse), "
             "Investissement réhabilitation (€) (feuille Production ou liasse) (les données de niveau organisme ne comptent "
             "que pour un organisme dont tout le patrimoine est dans le territoire)")
    assert short_reason(motif) == "non fourni : Gros entretien, Investissement réhabilitation"
    assert short_reason(None) == "donnée absente"
    assert short_reason("x" * 200, 20) == "x" * 19 + "…"


def test_synthese_in_plain_words(workbook):
    ws = workbook["Synthèse"]
    cells = texts(ws)
    assert not [t for t in cells if CODE.search(t)]  # codes stay in Indicateurs and Méthodologie
    assert not [t for t in cells if "(s)" in t]  # « 2 organismes », never « organisme(s) »
    titles = [c.title.tx.rich.p[0].r[0].t for sheet in ("Synthèse", "Graphiques") for c in workbook[sheet]._charts if c.title]
    assert titles and not [t for t in titles if CODE.search(t)]
    # the opening sentence: the figures as they are — the measured investment, the flat-rate gain said so, with its range
    [opening] = [t for t in cells if t.startswith("En 2025, ")]
    assert opening.startswith("En 2025, les 2 organismes Hlm importés : 14,3 M€ investis en construction, réhabilitation "
                              "et entretien ; ")
    assert re.search(r"M€ gagnés par les locataires chaque année \(≈ estimation forfaitaire : de [\d,]+ à [\d,]+ M€\)\.$", opening)
    # what overlaps is said; a figure missing says why under its label; the grade beside every figure, with its legend
    assert any(t.startswith("« Investissement injecté » recoupe « Achats injectés auprès des entreprises du territoire »")
               and "ne s'additionnent pas" in t for t in cells)
    [purchases] = [t for t in cells if t.startswith("Achats injectés auprès des entreprises du territoire")]
    assert purchases.split("\n")[1].startswith("n.c. — non fourni : Achats HT")
    assert GRADE_LEGEND in cells
    local = workbook.defined_names["acterr_ECO_01"]
    [(_, coord)] = list(local.destinations)
    value = ws[coord.replace("$", "")]
    assert value.offset(column=3).value == "A"  # measured organisations' data, full coverage
    social = workbook.defined_names["acterr_SOC_01"]
    [(_, coord)] = list(social.destinations)
    assert ws[coord.replace("$", "")].offset(column=3).value == "C"  # a national flat rate


def test_fiche_in_plain_words(inputs):
    data = ReportData.build(inputs, Scope())
    subjects = fiche_subjects(data)
    overview = subjects[0]
    assert overview.opening.startswith("En 2025, les 2 organismes Hlm importés : 14,3 M€ investis")
    assert not CODE.search(overview.opening) and "non calculable" not in overview.opening  # the panels say it
    # Montpellier: investment not computable — said in the sentence's stead by the panel, and the chart's place says why
    montpellier = next(s for s in subjects if s.name.startswith("Montpellier"))
    assert "sur le territoire de Montpellier Méditerranée Métropole, l'organisme Hlm présent" in montpellier.opening
    assert montpellier.bars == [] and montpellier.bars_missing == "Pas de graphique par organisme : un seul organisme."
    # the overview's chart falls back from the investment (known in Toulouse only) to the tenants' gain: said under it
    assert overview.bars_title.startswith("Gain de pouvoir d'achat des locataires par EPCI")
    assert overview.bars_note.startswith("Pas de graphique « Investissement injecté par EPCI » : connu pour 1 territoire sur 2 ; "
                                         "ailleurs, non fourni : ")
