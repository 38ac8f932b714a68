"""Small, hand-checkable fixtures: two organisations around Toulouse and Montpellier.

Organisation A (OPH, SIREN 900000001) — all its dwellings in Toulouse Métropole (EPCI 243100518):
  Patrimoine  Toulouse 31555 : 800 logements (300 QPV), 52 000 m², 4 000 000 € de loyers, 40 PMR,
                               DPE A–G 10/90/200/300/120/50/20, inconnu 10, GES F–G 60
              Blagnac  31069 : 250 logements (0 QPV), 16 000 m², 1 350 000 €, 10 PMR,
                               DPE A–G 0/50/60/80/40/15/5, inconnu 0, GES F–G 15
  Production  Toulouse : 40 mis en service, 30 mis en chantier, 100 réhabilités,
                          6 000 000 neuf, 2 000 000 réhab, 500 000 gros entretien
              Blagnac  : 0, 10, 0, 1 500 000, 0, 100 000
  Fiscalite   Toulouse 400 000 € ; Blagnac 120 000 €
  Organisme   logements 1 000 → 1 050, 20 ETP, 900 000 € de masse salariale
Organisation B (ESH, SIREN 900000019) — Toulouse 31555 (200 logements) and Montpellier 34172
  (500 logements, EPCI 243400017); no Production sheet: its investment comes from the liasse.
  Organisme logements 680 → 700, 12 ETP. Liasse: 3 000 000 neuf, 1 000 000 réhab, 200 000 GE,
  12,5 ETP (the liasse wins over the Organisme sheet), 25 réhabilitations.
"""

from __future__ import annotations

from pathlib import Path

from acterr_cli.outputs.questionnaire_template import write_questionnaire  # noqa: F401 (re-exported for tests)

SIREN_A = "900000001"
SIREN_B = "900000019"
TOULOUSE_METROPOLE = "243100518"
MONTPELLIER_METROPOLE = "243400017"


def _dpe(a, b, c, d, e, f, g, inconnu):
    return {"dpe_a": a, "dpe_b": b, "dpe_c": c, "dpe_d": d, "dpe_e": e, "dpe_f": f, "dpe_g": g, "dpe_inconnu": inconnu}


ORG_A = {
    "siren": SIREN_A, "raison_sociale": "Habitat Test A", "famille": "OPH", "exercice": 2025,
    "logements_debut": 1000, "logements_fin": 1050, "etp_total": 20, "masse_salariale_totale": 900000,
    "administrateurs": 20, "administratrices": 9, "admin_locataires": 4, "taux_satisfaction_pct": 82,
}
TABLES_A = {
    "Patrimoine": [
        {"commune": "31555", "logements": 800, "logements_qpv": 300, "logements_individuels": 50, "surface_m2": 52000,
         "loyers_annuels_eur": 4000000, "logements_pmr": 40, **_dpe(10, 90, 200, 300, 120, 50, 20, 10), "ges_fg": 60},
        {"commune": "31069", "logements": 250, "logements_qpv": 0, "logements_individuels": 30, "surface_m2": 16000,
         "loyers_annuels_eur": 1350000, "logements_pmr": 10, **_dpe(0, 50, 60, 80, 40, 15, 5, 0), "ges_fg": 15},
    ],
    "Production": [
        {"commune": "31555", "mises_en_service": 40, "mises_en_chantier": 30, "rehabilitations": 100,
         "invest_neuf_eur": 6000000, "invest_rehab_eur": 2000000, "gros_entretien_eur": 500000},
        {"commune": "31069", "mises_en_service": 0, "mises_en_chantier": 10, "rehabilitations": 0,
         "invest_neuf_eur": 1500000, "invest_rehab_eur": 0, "gros_entretien_eur": 100000},
    ],
    "Fiscalite": [
        {"commune": "31555", "tfpb_eur": 400000, "abattement_tfpb_eur": 60000},
        {"commune": "31069", "tfpb_eur": 120000, "abattement_tfpb_eur": 0},
    ],
}

ORG_B = {
    "siren": SIREN_B, "raison_sociale": "Logis Test B", "famille": "ESH", "exercice": 2025,
    "logements_debut": 680, "logements_fin": 700, "etp_total": 12, "masse_salariale_totale": 560000,
}
TABLES_B = {
    "Patrimoine": [
        {"commune": "31555", "logements": 200, "logements_qpv": 100, "logements_individuels": 0, "surface_m2": 13000,
         "loyers_annuels_eur": 1000000, "logements_pmr": 20, **_dpe(0, 20, 40, 80, 40, 15, 5, 0), "ges_fg": 10},
        {"commune": "34172", "logements": 500, "logements_qpv": 200, "logements_individuels": 0, "surface_m2": 32000,
         "loyers_annuels_eur": 2400000, "logements_pmr": 25, **_dpe(20, 60, 100, 150, 100, 40, 10, 20), "ges_fg": 30},
    ],
    "Fiscalite": [
        {"commune": "31555", "tfpb_eur": 90000},
        {"commune": "34172", "tfpb_eur": 230000},
    ],
}

LIASSE_HEADER = ("siren;raison_sociale;famille;exercice;logements;loyers_quittances_eur;taux_vacance_pct;"
                 "taux_recouvrement_pct;cout_gestion_eur;cout_maintenance_eur;tfpb_eur;invest_neuf_eur;invest_rehab_eur;"
                 "gros_entretien_eur;etp_total;masse_salariale_totale;autofinancement_net_eur;mises_en_service;rehabilitations")
LIASSE_B = (f"{SIREN_B};Logis Test B;ESH;2025;700;3 400 000;2,5;98,7;1 200 000;800 000;320 000;3 000 000;1 000 000;"
            "200 000;12,5;560 000;-50 000;10;25")


def write_org_a(folder: Path, name: str = "org_a.xlsx") -> Path:
    return write_questionnaire(Path(folder) / name, ORG_A, TABLES_A)


def write_org_b(folder: Path, name: str = "org_b.xlsx") -> Path:
    return write_questionnaire(Path(folder) / name, ORG_B, TABLES_B)


def write_liasse(folder: Path, name: str = "liasse.csv", rows: tuple[str, ...] = (LIASSE_B,)) -> Path:
    path = Path(folder) / name
    path.write_text("\n".join((LIASSE_HEADER, *rows)) + "\n", encoding="utf-8")
    return path


def write_all(folder: Path) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_org_a(folder), write_org_b(folder), write_liasse(folder)]


# Organisation C (COOP, SIREN 900000027) — the étendu sheets, all dwellings in Toulouse Métropole
# (Toulouse 300, Colomiers 200); some employees live in Muret (CA Le Muretain, outside the métropole).
SIREN_C = "900000027"
ORG_C = {
    "siren": SIREN_C, "raison_sociale": "Coop Test C", "famille": "COOP", "exercice": 2025,
    "logements_debut": 480, "logements_fin": 500, "etp_total": 10, "masse_salariale_totale": 450000,
    "cout_gestion_sociale_eur": 60000, "administrateurs": 10, "administratrices": 4, "admin_locataires": 2,
    "taux_satisfaction_pct": 80,
}
TABLES_C = {
    "Patrimoine": [
        {"commune": "31555", "logements": 300, "logements_qpv": 100},
        {"commune": "31149", "logements": 200, "logements_qpv": 50},
    ],
    "Fiscalite": [
        {"commune": "31555", "tfpb_eur": 150000, "abattement_tfpb_eur": 30000},
        {"commune": "31149", "tfpb_eur": 90000, "abattement_tfpb_eur": 15000},
    ],
    "Salaries": [
        {"commune": "31555", "etp": 6, "masse_salariale_eur": 270000},
        {"commune": "31395", "etp": 4, "masse_salariale_eur": 180000},
    ],
    "Achats": [
        {"commune_fournisseur": "31555", "fournisseur": "BTP Toulouse", "nature": "Construction neuve",
         "montant_ht_eur": 1000000, "commune_operation": "31555", "ess": "non"},
        {"commune_fournisseur": "31149", "fournisseur": "Réhab Colomiers", "nature": "Réhabilitation",
         "montant_ht_eur": 400000, "commune_operation": "31555", "ess": "oui"},
        {"commune_fournisseur": "75056", "fournisseur": "Fournisseur Paris", "nature": "Gros entretien",
         "montant_ht_eur": 600000, "commune_operation": "31149", "ess": "non"},
        {"commune_fournisseur": "31395", "fournisseur": "Muret services", "nature": "Services et exploitation",
         "montant_ht_eur": 200000, "ess": "non"},
    ],
    "Actions_sociales": [
        {"commune": "31555", "qpv": "QN03101M", "type_action": "Accompagnement social", "tfpb": "oui",
         "montant_eur": 50000, "menages": 40, "expulsions_evitees": 3, "heures_insertion": 0},
        {"commune": "31149", "type_action": "Insertion et emploi", "tfpb": "non",
         "montant_eur": 20000, "menages": 0, "expulsions_evitees": 0, "heures_insertion": 1607},
        {"commune": "31555", "qpv": "QN03102M", "type_action": "Lien social", "tfpb": "oui",
         "montant_eur": 10000, "menages": 100, "expulsions_evitees": 0, "heures_insertion": 0},
    ],
    "Attributions": [
        {"commune": "31555", "attributions": 40, "attributions_dalo": 5, "sortants_hebergement": 2, "mutations_internes": 8,
         "attributions_hors_qpv": 25, "attributions_hors_qpv_q1": 6},
        {"commune": "31149", "attributions": 20, "attributions_dalo": 1, "sortants_hebergement": 1, "mutations_internes": 4,
         "attributions_hors_qpv": 15, "attributions_hors_qpv_q1": 3},
    ],
    "Energie": [
        {"commune": "31555", "logements_renoves": 20, "conso_avant_kwh": 300000, "conso_apres_kwh": 150000, "energie_chauffage": "Gaz"},
        {"commune": "31149", "logements_renoves": 10, "conso_avant_kwh": 100000, "conso_apres_kwh": 40000,
         "energie_chauffage": "Électricité"},
    ],
}


def write_org_c(folder: Path, name: str = "org_c.xlsx") -> Path:
    return write_questionnaire(Path(folder) / name, ORG_C, TABLES_C)
