"""Generate the acterr demo dataset: four fictional Occitanie organisations, exercice 2025.

Run from the repository root:

    .venv/bin/python samples/generate_samples.py

Writes, deterministically (fixed seed, no network):
- samples/questionnaires/<slug>_2025.xlsx  one filled questionnaire per organisation;
- samples/liasse_2025.csv                   the canonical federation liasse (DATA.md §2);
- samples/loyers/exemple_carte_loyers_{appartements,maisons}_2024.csv
                                            market rents in the « Carte des loyers » layout for every
                                            commune of the Patrimoine sheets: SAMPLE values, not the
                                            published map (see MARKET_RENTS);
- the totals block of samples/README.md     (between the « totaux » markers).

The organisations, their SIRENs, suppliers and QPV codes are invented; the communes and EPCI are
real (COG 2026). Every commune code is checked against the Etalab découpage administratif when the
shared tarball is available (../shared/data, or $ACTERR_SHARED). All consistency rules are asserted
before anything is written, and every workbook is read back with fastexcel and compared.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import sys
import tarfile
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent
ROOT = SAMPLES.parent
sys.path.insert(0, str(ROOT))

import fastexcel  # noqa: E402

from acterr_cli.inputs import questionnaire_schema as qs  # noqa: E402
from acterr_cli.inputs.loyers import read_loyers  # noqa: E402
from acterr_cli.outputs.questionnaire_template import write_questionnaire  # noqa: E402
from acterr_cli.territory.reference import TerritorialReference  # noqa: E402

SEED = 2025
EXERCICE = 2025
CREATED = "2026-01-15T09:00:00Z"  # pinned workbook creation date, so reruns give identical files
ETALAB_TGZ = "etalab-decoupage-administratif-6.0.0.tgz"
OCCITANIE = "76"

# ─── Territory: every commune used, with its EPCI (COG 2026, checked against Etalab) ───

TM, MURETAIN, SICOVAL, GOT = "243100518", "200068641", "243100633", "243100781"
MMM, NIMES, SETE, BEZIERS, LUNEL, OR = "243400017", "243000643", "200066355", "243400769", "243400520", "243400470"
CARCA, LIMOUXIN, LEZIGNAN, NARBONNE, HERAULT_MED = "200035715", "200071926", "200035863", "241100593", "243400819"
PMM = "200027183"

EPCI = {
    TM: "Toulouse Métropole",
    MURETAIN: "CA Le Muretain Agglo",
    SICOVAL: "CA du Sicoval",
    GOT: "CC Le Grand Ouest Toulousain",
    "248200099": "CA Grand Montauban",
    "248100737": "CA de l'Albigeois (C2A)",
    MMM: "Montpellier Méditerranée Métropole",
    NIMES: "CA de Nîmes Métropole",
    SETE: "CA Sète Agglopôle Méditerranée",
    BEZIERS: "CA de Béziers-Méditerranée",
    LUNEL: "CA Lunel Agglo",
    OR: "CA du Pays de l'Or",
    "200066918": "CA Alès Agglomération",
    CARCA: "CA Carcassonne Agglo",
    LIMOUXIN: "CC du Limouxin",
    LEZIGNAN: "CC Région Lézignanaise, Corbières et Minervois",
    NARBONNE: "CA Le Grand Narbonne",
    HERAULT_MED: "CA Hérault-Méditerranée",
    PMM: "CU Perpignan Méditerranée Métropole",
    "200043602": "CC des Albères, de la Côte Vermeille et de l'Illibéris",
    "246600449": "CC des Aspres",
    "200054781": "Métropole du Grand Paris",
    "200046977": "Métropole de Lyon",
    "243300316": "Bordeaux Métropole",
    "200054807": "Métropole d'Aix-Marseille-Provence",
}

COMMUNES = {  # code: (name, EPCI SIREN)
    # Haute-Garonne, Tarn-et-Garonne, Tarn
    "31555": ("Toulouse", TM), "31149": ("Colomiers", TM), "31069": ("Blagnac", TM),
    "31157": ("Cugnaux", TM), "31557": ("Tournefeuille", TM), "31044": ("Balma", TM),
    "31506": ("Saint-Orens-de-Gameville", TM), "31561": ("L'Union", TM), "31022": ("Aucamville", TM),
    "31488": ("Saint-Jean", TM), "31490": ("Saint-Jory", TM), "31032": ("Aussonne", TM),
    "31116": ("Castelginest", TM),
    "31395": ("Muret", MURETAIN), "31433": ("Portet-sur-Garonne", MURETAIN), "31248": ("Labarthe-sur-Lèze", MURETAIN),
    "31446": ("Ramonville-Saint-Agne", SICOVAL), "31113": ("Castanet-Tolosan", SICOVAL),
    "31424": ("Plaisance-du-Touch", GOT), "31291": ("Léguevin", GOT),
    "82121": ("Montauban", "248200099"), "81004": ("Albi", "248100737"),
    # Hérault, Gard
    "34172": ("Montpellier", MMM), "34057": ("Castelnau-le-Lez", MMM), "34129": ("Lattes", MMM),
    "34123": ("Juvignac", MMM), "34270": ("Saint-Jean-de-Védas", MMM), "34198": ("Pérols", MMM),
    "30189": ("Nîmes", NIMES), "30258": ("Saint-Gilles", NIMES), "30156": ("Marguerittes", NIMES),
    "34301": ("Sète", SETE), "34108": ("Frontignan", SETE),
    "34032": ("Béziers", BEZIERS), "34336": ("Villeneuve-lès-Béziers", BEZIERS),
    "34145": ("Lunel", LUNEL), "34154": ("Mauguio", OR), "30007": ("Alès", "200066918"),
    "34199": ("Pézenas", HERAULT_MED), "34003": ("Agde", HERAULT_MED),
    # Aude
    "11069": ("Carcassonne", CARCA), "11397": ("Trèbes", CARCA),
    "11206": ("Limoux", LIMOUXIN), "11203": ("Lézignan-Corbières", LEZIGNAN),
    "11262": ("Narbonne", NARBONNE), "11106": ("Coursan", NARBONNE), "11170": ("Gruissan", NARBONNE),
    # Pyrénées-Orientales
    "66136": ("Perpignan", PMM), "66172": ("Saint-Estève", PMM), "66028": ("Cabestany", PMM),
    "66037": ("Canet-en-Roussillon", PMM), "66164": ("Rivesaltes", PMM), "66195": ("Le Soler", PMM),
    "66213": ("Toulouges", PMM), "66144": ("Pollestres", PMM), "66038": ("Canohès", PMM),
    "66021": ("Bompas", PMM),
    "66065": ("Elne", "200043602"), "66210": ("Thuir", "246600449"),
    # outside Occitanie: head offices of national suppliers
    "75056": ("Paris", "200054781"), "92050": ("Nanterre", "200054781"), "69123": ("Lyon", "200046977"),
    "33063": ("Bordeaux", "243300316"), "13055": ("Marseille", "200054807"),
}
NATIONAL_SUPPLIER_COMMUNES = ["75056", "92050", "69123", "33063", "13055"]

# Invented QPV codes in the 2024 format (QN + département on 3 digits + number + M).
QPV_CODES = {
    "31555": ["QN03101M", "QN03102M", "QN03103M", "QN03104M", "QN03105M"],
    "31149": ["QN03108M"], "31069": ["QN03109M"], "31157": ["QN03110M"], "31395": ["QN03112M"],
    "34172": ["QN03401M", "QN03402M", "QN03403M", "QN03404M"],
    "30189": ["QN03001M", "QN03002M", "QN03003M"], "30258": ["QN03007M"],
    "34301": ["QN03410M"], "34108": ["QN03411M"], "34032": ["QN03406M", "QN03407M"],
    "11069": ["QN01101M", "QN01102M"], "11206": ["QN01105M"], "11203": ["QN01104M"], "11262": ["QN01103M"],
    "66136": ["QN06601M", "QN06602M", "QN06603M", "QN06604M"],
}

# ─── The four organisations ───
# communes: (code, dwellings at 31/12, share in QPV, share of individual houses)
# production: code -> (mises en service, mises en chantier, réhabilitations); other communes: 0
# invest_logt: € per dwelling and year (neuf, réhabilitation, gros entretien)
# salaries: commune of residence -> weight
# fournisseurs: EPCI -> communes where its local suppliers are; "region": other Occitanie communes
# qpv (optional): commune -> the QPV where the organisation has dwellings (default: all of the commune's)
#
# Two EPCI are shared, to show the consolidation of several organisations in one territory:
# Toulouse Métropole (Garonne Habitat + Occitanie Logis, in Toulouse and Tournefeuille) and
# CA Le Grand Narbonne (Coop'Hab Pays d'Oc in Coursan and Gruissan + Roussillon Habitat SEM in Narbonne).

ALL_SHEETS = ("Patrimoine", "Production", "Fiscalite", "Salaries", "Achats", "Actions_sociales", "Attributions", "Energie")

ORGANISATIONS = [
    {
        "slug": "garonne_habitat",
        "siren": "999310014",
        "raison_sociale": "Garonne Habitat",
        "famille": "OPH",
        "sheets": ALL_SHEETS,
        "siege": "31555",
        "communes": [
            ("31555", 10050, 0.46, 0.02), ("31149", 1650, 0.42, 0.04), ("31069", 980, 0.30, 0.05),
            ("31157", 760, 0.28, 0.10), ("31557", 640, 0.0, 0.14), ("31044", 520, 0.0, 0.08),
            ("31506", 430, 0.0, 0.16), ("31561", 380, 0.0, 0.12), ("31022", 260, 0.0, 0.09),
            ("31395", 410, 0.36, 0.11),
        ],
        "production": {
            "31555": (170, 190, 300), "31149": (40, 30, 60), "31069": (25, 40, 0), "31157": (20, 0, 30),
            "31557": (18, 35, 0), "31044": (0, 24, 0), "31506": (15, 0, 0), "31022": (12, 20, 0),
            "31395": (0, 0, 32),
        },
        "sorties": 46,  # ventes + démolitions of the year
        "loyer_m2": 6.65,
        "tfpb_brute_logt": 500,
        "invest_logt": (2050, 850, 450),
        "entretien_courant_logt": 250,
        "etp_par_1000": 16.6,
        "salaire_moyen": 47_800,
        "salaries": {
            "31555": 48, "31149": 7, "31069": 5, "31557": 6, "31157": 4, "31044": 3, "31561": 3,
            "31488": 3, "31395": 4, "31446": 4, "31113": 3, "31424": 3, "31433": 2, "31291": 2, "82121": 1,
        },
        "fournisseurs": {
            TM: ["31555", "31555", "31555", "31149", "31069", "31561", "31488", "31490", "31032", "31157", "31044", "31116"],
            MURETAIN: ["31395", "31433", "31248"],
            "region": ["31446", "31113", "31424", "82121", "81004", "11069", "34172"],
        },
        "achats_lignes": 150,
        "energie_chauffage": ["Gaz", "Gaz", "Réseau de chaleur", "Électricité"],
        "dpe_decalage": 0.0,
        "conseil": (23, 11, 5),  # administrateurs, dont femmes, dont locataires
        "satisfaction": 81.4,
        "liasse": {"taux_vacance_pct": 2.7, "taux_recouvrement_pct": 98.6, "cout_gestion_logt": 1240, "autofinancement_pct": 10.8},
    },
    {
        "slug": "occitanie_logis",
        "siren": "999340029",
        "raison_sociale": "Occitanie Logis",
        "famille": "ESH",
        "sheets": ALL_SHEETS,
        "siege": "34172",
        "communes": [
            ("34172", 3450, 0.38, 0.02), ("34057", 420, 0.0, 0.07), ("34129", 330, 0.0, 0.12),
            ("30189", 1820, 0.52, 0.04), ("30258", 310, 0.32, 0.18), ("34301", 880, 0.31, 0.05),
            ("34108", 430, 0.22, 0.09), ("34032", 1000, 0.41, 0.06), ("34336", 160, 0.0, 0.35),
            # its Toulouse agency: shares Toulouse Métropole (and two of its QPV) with Garonne Habitat
            ("31555", 900, 0.40, 0.02), ("31557", 300, 0.0, 0.15),
        ],
        "qpv": {"31555": ["QN03102M", "QN03104M"]},
        "production": {
            "34172": (80, 95, 120), "34057": (30, 25, 0), "34129": (24, 40, 0), "30189": (30, 20, 70),
            "34301": (18, 0, 40), "34108": (0, 30, 0), "34032": (12, 0, 0),
            "31555": (28, 35, 60), "31557": (20, 0, 0),
        },
        "sorties": 22,
        "loyer_m2": 6.75,
        "tfpb_brute_logt": 490,
        "invest_logt": (2300, 700, 430),
        "entretien_courant_logt": 240,
        "etp_par_1000": 16.2,
        "salaire_moyen": 46_900,
        "salaries": {
            "34172": 40, "34057": 6, "34129": 5, "34123": 4, "34270": 4, "34198": 3, "34154": 3,
            "30189": 13, "30156": 2, "34301": 5, "34108": 3, "34032": 7, "34145": 3,
            "31555": 6, "31557": 2, "31149": 1,
        },
        "fournisseurs": {
            MMM: ["34172", "34172", "34172", "34057", "34129", "34123", "34270", "34198"],
            NIMES: ["30189", "30189", "30156", "30258"],
            SETE: ["34301", "34108"],
            BEZIERS: ["34032", "34032", "34336"],
            TM: ["31555", "31555", "31555", "31557", "31149", "31069"],
            "region": ["34145", "34154", "30007", "34003", "11262", "31555"],
        },
        "achats_lignes": 100,
        "energie_chauffage": ["Gaz", "Électricité", "Électricité", "Réseau de chaleur"],
        # its Toulouse agency reports one operation from the meters (final energy), see energie_finale()
        "energie_finale": ("31555", "Électricité"),
        "dpe_decalage": -0.02,
        "conseil": (18, 8, 3),
        "satisfaction": 78.9,
        "liasse": {"taux_vacance_pct": 3.4, "taux_recouvrement_pct": 98.1, "cout_gestion_logt": 1180, "autofinancement_pct": 11.6},
    },
    {
        "slug": "coophab_pays_doc",
        "siren": "999110034",
        "raison_sociale": "Coop'Hab Pays d'Oc",
        "famille": "COOP",
        "sheets": ("Patrimoine", "Production", "Fiscalite"),
        "siege": "11069",
        "communes": [
            ("11206", 270, 0.18, 0.34), ("11203", 250, 0.15, 0.40), ("11069", 240, 0.27, 0.18),
            ("34199", 160, 0.0, 0.45), ("11397", 110, 0.0, 0.55), ("11106", 100, 0.0, 0.50),
            ("11170", 70, 0.0, 0.30),
        ],
        "production": {"11206": (0, 0, 20), "11203": (12, 0, 0), "11069": (0, 18, 0), "34199": (12, 0, 0), "11397": (0, 12, 0)},
        "sorties": 4,
        "loyer_m2": 6.05,
        "tfpb_brute_logt": 450,
        "invest_logt": (2100, 600, 380),
        "entretien_courant_logt": 230,
        "etp_par_1000": 16.8,
        "salaire_moyen": 45_600,
        "energie_chauffage": [],
        "dpe_decalage": -0.03,
        "conseil": (12, 5, 2),
        "satisfaction": 85.2,
        "liasse": {"taux_vacance_pct": 2.1, "taux_recouvrement_pct": 99.1, "cout_gestion_logt": 1090, "autofinancement_pct": 9.4},
    },
    {
        "slug": "roussillon_habitat_sem",
        "siren": "999660046",
        "raison_sociale": "Roussillon Habitat SEM",
        "famille": "SEM",
        # no Production sheet: its investment comes from the liasse totals
        "sheets": ("Patrimoine", "Fiscalite", "Salaries", "Attributions"),
        "siege": "66136",
        "communes": [
            ("66136", 2220, 0.55, 0.03), ("66172", 240, 0.0, 0.22), ("66028", 230, 0.0, 0.25),
            ("66037", 190, 0.0, 0.10), ("66164", 170, 0.0, 0.28), ("66195", 130, 0.0, 0.30),
            ("66213", 120, 0.0, 0.33),
            # outside the métropole: shares CA Le Grand Narbonne with Coop'Hab Pays d'Oc
            ("11262", 200, 0.30, 0.12),
        ],
        "production": {"66136": (36, 40, 85), "66028": (20, 0, 0), "66037": (0, 24, 0)},
        "sorties": 9,
        "loyer_m2": 5.95,
        "tfpb_brute_logt": 470,
        "invest_logt": (1800, 830, 500),
        "entretien_courant_logt": 260,
        "etp_par_1000": 16.4,
        "salaire_moyen": 46_400,
        "salaries": {"66136": 30, "66172": 4, "66028": 4, "66037": 3, "66195": 3, "66213": 3, "66164": 2, "66144": 2, "66065": 2, "66210": 1, "11262": 2},
        "energie_chauffage": [],
        "dpe_decalage": 0.03,
        "conseil": (15, 6, 2),
        "satisfaction": 76.5,
        "liasse": {"taux_vacance_pct": 4.6, "taux_recouvrement_pct": 97.4, "cout_gestion_logt": 1310, "autofinancement_pct": 7.9},
    },
]

# The one organisation whose liasse differs from its questionnaire (~0.5 %, the liasse is kept in k€).
LIASSE_ECART = {"slug": "occitanie_logis", "champ": "loyers_quittances_eur", "facteur": 1.0048}

# Energy-label distribution of the social stock (A..G, unknown): A–C 35 %, F–G 10 %, 3 % unknown.
DPE_BASE = (0.02, 0.08, 0.25, 0.33, 0.19, 0.07, 0.03, 0.03)

# Primary energy coefficient of electricity in the DPE (arrêté du 31 mars 2021; 1,9 from 2026):
# an operation reported in final energy gives the kWh its meters show, the DPE figure ÷ 2,3.
COEF_EP_ELECTRICITE = 2.3

# ─── Market rents (« Carte des loyers » layout) ───
# SAMPLE DATA, NOT THE PUBLISHED MAP: plausible advertised rents, charges included, €/m²/month, for
# every commune of the Patrimoine sheets (apartment, house): about 13–14 € in Toulouse, 15 € in
# Montpellier, 10–11 € in Nîmes, Perpignan or Narbonne, 8–10 € in the small towns of the Aude. The
# published millésime (data.gouv.fr, « Carte des loyers ») gives the real values: import it instead.
LOYERS_MILLESIME = 2024
MARKET_RENTS = {
    "31555": (13.6, 12.6), "31149": (12.4, 11.3), "31069": (13.2, 12.0), "31157": (12.3, 11.2), "31557": (12.8, 11.6),
    "31044": (13.3, 12.2), "31506": (12.9, 11.8), "31561": (12.5, 11.4), "31022": (12.6, 11.3), "31395": (11.2, 10.2),
    "34172": (15.4, 14.2), "34057": (14.6, 13.5), "34129": (14.5, 13.6), "30189": (11.2, 10.6), "30258": (10.0, 9.6),
    "34301": (13.4, 13.0), "34108": (12.9, 12.1), "34032": (10.0, 9.3), "34336": (10.4, 9.7),
    "11206": (8.3, 7.6), "11203": (8.9, 8.2), "11069": (9.6, 8.7), "11397": (9.2, 8.5), "34199": (10.4, 9.5),
    "11106": (10.1, 9.3), "11170": (12.7, 11.8),
    "66136": (10.5, 9.8), "66172": (11.0, 10.3), "66028": (11.1, 10.4), "66037": (12.9, 12.0), "66164": (10.0, 9.2),
    "66195": (10.6, 9.8), "66213": (10.8, 10.0), "11262": (10.8, 10.0),
}
LOYERS_COLUMNS = ["id_zone", "INSEE_C", "LIBGEO", "EPCI", "DEP", "REG", "loypredm2", "lwr.IPm2", "upr.IPm2", "TYPPRED",
                  "nbobs_com", "nbobs_mail", "R2_adj"]

# Purchases: share of the lines, and where the suppliers of each nature are (local, region, national).
ACHATS_NATURES = {
    "Construction neuve": (0.15, (0.60, 0.30, 0.10)),
    "Réhabilitation": (0.12, (0.65, 0.25, 0.10)),
    "Gros entretien": (0.18, (0.70, 0.20, 0.10)),
    "Entretien courant": (0.24, (0.80, 0.15, 0.05)),
    "Services et exploitation": (0.15, (0.70, 0.15, 0.15)),
    "Frais généraux": (0.12, (0.40, 0.20, 0.40)),
    "Autre": (0.04, (0.60, 0.20, 0.20)),
}
METIERS = {
    "Construction neuve": ["Constructions", "Bâtiment", "Gros œuvre", "Charpentes", "Menuiseries", "Électricité générale",
                           "Plomberie Chauffage", "Atelier d'architecture", "Bureau d'études", "Terrassements"],
    "Réhabilitation": ["Isolation", "Façades", "Menuiseries", "Ravalement", "Génie climatique", "Rénovation"],
    "Gros entretien": ["Étanchéité", "Toitures", "Ascenseurs", "Chaufferies", "Peintures", "Réseaux"],
    "Entretien courant": ["Plomberie", "Serrurerie", "Multiservices", "Vitrerie", "Électricité", "Peinture et sols"],
    "Services et exploitation": ["Propreté", "Espaces verts", "Maintenance ascenseurs", "Sécurité", "Hygiène 3D", "Collecte"],
    "Frais généraux": ["Informatique", "Conseil", "Assurances", "Imprimerie", "Expertise", "Télécoms"],
    "Autre": ["Formation", "Location de véhicules", "Traiteur", "Communication"],
}
NOMS = ["Sarrabère", "Estrade", "Lafforgue", "Cazals", "Fabre", "Roumagnac", "Bergés", "Pujol", "Sicard", "Vidalenc",
        "Carrère", "Lassalle", "Gaubert", "Laporte", "Marty", "Bonnafous", "Cabrol", "Delpech", "Espinasse", "Ferran",
        "Gineste", "Issaly", "Jougla", "Lacombe", "Miquel", "Nègre", "Ourliac", "Pradal", "Rouquette", "Teisseire",
        "Valette", "Abadie", "Baylac", "Crouzet", "Daurat", "Escaffre", "Fourcade", "Gasc", "Héral", "Lherm"]
FORMES = ["SAS", "SARL", "SA", "EURL"]
ESS_NOMS = {  # social and solidarity economy suppliers (ess = oui), by nature
    "Réhabilitation": ["SCOP {m} {n}"],
    "Entretien courant": ["SCOP {m} {n}", "{m} {n} Insertion"],
    "Services et exploitation": ["ESAT {n}", "Association intermédiaire {n}", "Chantier d'insertion {m} {n}"],
}


# ─── Small helpers ───

def luhn_valid(code: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(code)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def with_luhn_key(stem: str) -> str:
    return next(stem + str(k) for k in range(10) if luhn_valid(stem + str(k)))


def split_int(total: int, weights: list[float]) -> list[int]:
    """Split an integer total in proportion to weights (largest remainder): parts sum to total."""
    s = sum(weights)
    if total == 0 or s == 0:
        return [0] * len(weights)
    raw = [total * w / s for w in weights]
    parts = [int(x) for x in raw]
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)[: total - sum(parts)]:
        parts[i] += 1
    return parts


def noisy(rng: random.Random, value: float, spread: float) -> float:
    return value * rng.uniform(1 - spread, 1 + spread)


def epci_of(code: str) -> str:
    return COMMUNES[code][1]


# ─── Derived tables, one function per sheet ───

def patrimoine(org: dict, rng: random.Random) -> list[dict]:
    rows = []
    for code, logts, part_qpv, part_indiv in org["communes"]:
        qpv = round(logts * part_qpv)
        indiv = round(logts * part_indiv)
        surface = round((logts - indiv) * rng.uniform(61, 67) + indiv * rng.uniform(78, 86))
        loyer_m2 = min(max(noisy(rng, org["loyer_m2"], 0.08), 6.5 * 0.85), 6.5 * 1.15)
        # Older, QPV-heavy stock has worse labels; the organisation's shift moves A–C vs E–G.
        shift = org["dpe_decalage"] + 0.04 * (part_qpv - 0.3)
        probs = [p * rng.uniform(0.8, 1.2) for p in DPE_BASE]
        probs = [p * (1 - 3 * shift) if i < 3 else p * (1 + 3 * shift) if 3 < i < 7 else p for i, p in enumerate(probs)]
        dpe = split_int(logts, probs)
        rows.append({
            "commune": code,
            "logements": logts,
            "logements_qpv": qpv,
            "logements_individuels": indiv,
            "surface_m2": surface,
            "loyers_annuels_eur": round(surface * loyer_m2 * 12),
            "logements_pmr": round(logts * rng.uniform(0.03, 0.07)),
            **{f"dpe_{x}": n for x, n in zip("abcdefg", dpe[:7])},
            "dpe_inconnu": dpe[7],
            "ges_fg": round(logts * rng.uniform(0.05, 0.10)),
        })
    return rows


def vacants(org: dict, patri: list[dict]) -> None:
    """« dont vacants »: the liasse's vacancy rate (2 to 5 %), spread over the communes. Its own
    random stream, so that the other figures stay those of the samples before this column."""
    rng = random.Random(f"{SEED}-{org['slug']}-vacants")
    total = round(sum(r["logements"] for r in patri) * org["liasse"]["taux_vacance_pct"] / 100)
    for r, n in zip(patri, split_int(total, [r["logements"] * rng.uniform(0.6, 1.4) for r in patri])):
        r["logements_vacants"] = n


def production(org: dict, patri: list[dict], rng: random.Random) -> list[dict]:
    n = sum(r["logements"] for r in patri)
    neuf, rehab, ge = (round(noisy(rng, x * n, 0.04)) for x in org["invest_logt"])
    prod = [org["production"].get(r["commune"], (0, 0, 0)) for r in patri]
    w_neuf = [(mes + mec) / 2 * rng.uniform(0.85, 1.15) for mes, mec, _ in prod]
    w_rehab = [rh * rng.uniform(0.85, 1.15) for _, _, rh in prod]
    w_ge = [r["logements"] * rng.uniform(0.7, 1.3) for r in patri]
    rows = []
    for r, (mes, mec, rh), a, b, c in zip(patri, prod, split_int(neuf, w_neuf), split_int(rehab, w_rehab), split_int(ge, w_ge)):
        rows.append({"commune": r["commune"], "mises_en_service": mes, "mises_en_chantier": mec, "rehabilitations": rh,
                     "invest_neuf_eur": a, "invest_rehab_eur": b, "gros_entretien_eur": c})
    return rows


def fiscalite(org: dict, patri: list[dict], rng: random.Random) -> list[dict]:
    """TFPB per commune: a gross tax per dwelling, of which 30 % is abated on QPV dwellings."""
    rows = []
    for r in patri:
        brute_logt = noisy(rng, org["tfpb_brute_logt"], 0.10)
        hors_qpv = (r["logements"] - r["logements_qpv"]) * brute_logt
        qpv = r["logements_qpv"] * brute_logt
        rows.append({"commune": r["commune"], "tfpb_eur": round(hors_qpv + 0.7 * qpv), "abattement_tfpb_eur": round(0.3 * qpv)})
    return rows


def salaries(org: dict, logements: int, rng: random.Random) -> list[dict]:
    """ETP by commune of residence, in tenths, summing exactly to the organisation's total."""
    tenths = round(logements / 1000 * org["etp_par_1000"] * 10)
    codes = list(org["salaries"])
    parts = split_int(tenths, [org["salaries"][c] * rng.uniform(0.9, 1.1) for c in codes])
    return [{"commune": c, "etp": p / 10, "masse_salariale_eur": round(p / 10 * noisy(rng, org["salaire_moyen"], 0.06))}
            for c, p in zip(codes, parts) if p]


def attributions(patri: list[dict], rng: random.Random) -> list[dict]:
    rows = []
    for r in patri:
        attr = round(r["logements"] * rng.uniform(0.08, 0.10))
        part_qpv = r["logements_qpv"] / r["logements"]
        hors_qpv = attr if part_qpv == 0 else round(attr * (1 - part_qpv) * rng.uniform(0.95, 1.05))
        rows.append({
            "commune": r["commune"],
            "attributions": attr,
            "attributions_dalo": round(attr * rng.uniform(0.05, 0.10)),
            "sortants_hebergement": round(attr * rng.uniform(0.03, 0.06)),
            "mutations_internes": round(attr * rng.uniform(0.18, 0.28)),
            "attributions_hors_qpv": hors_qpv,
            "attributions_hors_qpv_q1": round(hors_qpv * rng.uniform(0.15, 0.26)),
        })
    return rows


def actions_sociales(org: dict, patri: list[dict], fisc: list[dict], prod: list[dict], rng: random.Random) -> list[dict]:
    """In each QPV: actions funded by the TFPB abatement (≈ 1.05–1.2 × the abatement) plus social
    support, so that actions in QPV ≈ 1.3–1.4 × the abatement. Outside QPV: social support and
    eviction prevention. Insertion hours follow the works of the commune."""
    rows = []
    tfpb_types = [("Sur-entretien", 0.35), ("Tranquillité résidentielle", 0.25), ("Lien social", 0.20),
                  ("Participation des locataires", 0.08), ("Insertion et emploi", 0.12)]
    for r, f, p in zip(patri, fisc, prod):
        code, logts, qpv = r["commune"], r["logements"], r["logements_qpv"]
        if qpv:
            qpv_codes = org.get("qpv", {}).get(code, QPV_CODES[code])
            for qcode, (q_logts, q_abatt) in zip(qpv_codes, zip(
                    split_int(qpv, [rng.uniform(0.6, 1.4) for _ in qpv_codes]),
                    split_int(f["abattement_tfpb_eur"], [1.0] * len(qpv_codes)))):
                budget_tfpb = q_abatt * rng.uniform(1.05, 1.2)
                for type_action, share in tfpb_types:
                    row = {"commune": code, "qpv": qcode, "type_action": type_action, "tfpb": "oui",
                           "montant_eur": round(budget_tfpb * share * rng.uniform(0.9, 1.1))}
                    if type_action == "Lien social":
                        row["menages"] = round(q_logts * rng.uniform(0.10, 0.25))
                    elif type_action == "Participation des locataires":
                        row["menages"] = round(q_logts * rng.uniform(0.03, 0.08))
                    elif type_action == "Insertion et emploi":
                        row["menages"] = max(1, round(q_logts * rng.uniform(0.005, 0.01)))
                        row["heures_insertion"] = round(q_logts * rng.uniform(0.8, 1.5))
                    rows.append(row)
                menages = round(q_logts * rng.uniform(0.02, 0.03))
                rows.append({"commune": code, "qpv": qcode, "type_action": "Accompagnement social", "tfpb": "non",
                             "montant_eur": max(round(q_abatt * rng.uniform(0.2, 0.3)), menages * 300), "menages": menages})
        hors = logts - qpv
        menages = round(hors * rng.uniform(0.012, 0.02))
        if menages:
            rows.append({"commune": code, "type_action": "Accompagnement social", "tfpb": "non",
                         "montant_eur": round(menages * rng.uniform(350, 550)), "menages": menages})
        suivis = round(logts * rng.uniform(0.005, 0.008))
        if suivis:
            rows.append({"commune": code, "type_action": "Prévention des expulsions", "tfpb": "non",
                         "montant_eur": round(suivis * rng.uniform(250, 400)), "menages": suivis,
                         "expulsions_evitees": round(suivis * rng.uniform(0.3, 0.45))})
        travaux = p["invest_neuf_eur"] + p["invest_rehab_eur"]
        if travaux > 2_000_000:  # social clauses of the works contracts
            heures = round(travaux / 1000 * rng.uniform(0.6, 0.8))
            rows.append({"commune": code, "type_action": "Insertion et emploi", "tfpb": "non",
                         "montant_eur": round(heures * rng.uniform(1.5, 3)), "menages": max(1, round(heures / 900)),
                         "heures_insertion": heures})
    return rows


def energie(org: dict, patri: list[dict], prod: list[dict], rng: random.Random) -> list[dict]:
    """Energy renovations completed in the year: one to three operations per commune with rehabs."""
    rows = []
    for r, p in zip(patri, prod):
        if not p["rehabilitations"]:
            continue
        surface_logt = r["surface_m2"] / r["logements"]
        n_ops = min(3, 1 + p["rehabilitations"] // 60)
        for logts in split_int(p["rehabilitations"], [rng.uniform(0.6, 1.4) for _ in range(n_ops)]):
            surface = logts * surface_logt
            rows.append({
                "commune": r["commune"],
                "logements_renoves": logts,
                "conso_avant_kwh": round(surface * rng.uniform(210, 290)),
                "conso_apres_kwh": round(surface * rng.uniform(75, 115)),
                "energie_chauffage": rng.choice(org["energie_chauffage"]),
                "type_consommation": "Énergie primaire",  # the DPE figures (kWhEP)
            })
    return rows


def energie_finale(org: dict, rows: list[dict]) -> list[dict]:
    """One operation reported from the meters: the first of the commune and heating energy named
    by `energie_finale`, in final energy (for electricity, the DPE figure ÷ 2,3)."""
    if "energie_finale" not in org:
        return rows
    code, chauffage = org["energie_finale"]
    row = next(r for r in rows if r["commune"] == code and r["energie_chauffage"] == chauffage)
    coef = COEF_EP_ELECTRICITE if chauffage == "Électricité" else 1.0
    row.update(type_consommation="Énergie finale", conso_avant_kwh=round(row["conso_avant_kwh"] / coef),
               conso_apres_kwh=round(row["conso_apres_kwh"] / coef))
    return rows


def achats(org: dict, patri: list[dict], prod: list[dict], rng: random.Random) -> list[dict]:
    """One line per supplier and nature; amounts roughly those of the production and maintenance
    figures (the rest of an investment is land, fees and own staff)."""
    n = sum(r["logements"] for r in patri)
    total = lambda f: sum(p[f] for p in prod)  # noqa: E731
    cibles = {
        "Construction neuve": 0.80 * total("invest_neuf_eur"),
        "Réhabilitation": 0.85 * total("invest_rehab_eur"),
        "Gros entretien": 0.90 * total("gros_entretien_eur"),
        "Entretien courant": 0.85 * n * org["entretien_courant_logt"],
        "Services et exploitation": n * 190,
        "Frais généraux": n * 105,
        "Autre": n * 12,
    }
    poids_operation = {
        "Construction neuve": [p["invest_neuf_eur"] for p in prod],
        "Réhabilitation": [p["invest_rehab_eur"] for p in prod],
        "Gros entretien": [p["gros_entretien_eur"] for p in prod],
        "Entretien courant": [r["logements"] for r in patri],
        "Services et exploitation": [r["logements"] for r in patri],
    }
    n_lignes = split_int(org["achats_lignes"], [share for share, _ in ACHATS_NATURES.values()])
    codes = [r["commune"] for r in patri]
    region = org["fournisseurs"]["region"]
    fournisseurs: list[dict] = []
    noms_pris: set[str] = set()
    rows = []

    def nouveau_fournisseur(nature: str, commune: str, ess: bool, national: bool) -> dict:
        while True:
            metier, nom = rng.choice(METIERS[nature]), rng.choice(NOMS)
            if ess:
                name = rng.choice(ESS_NOMS[nature]).format(n=nom, m=metier)
            elif national:
                name = f"{nom} {metier} France SA"
            else:
                name = f"{metier} {nom} {rng.choice(FORMES)}"
            if name not in noms_pris:
                break
        noms_pris.add(name)
        siren = with_luhn_key("98" + "".join(rng.choice("0123456789") for _ in range(6)))
        siret = with_luhn_key(siren + "000" + rng.choice("12345"))
        f = {"nom": name, "siret": siret, "commune": commune, "ess": ess, "natures": {nature}}
        fournisseurs.append(f)
        return f

    for (nature, (_, (p_local, p_region, _))), n_l in zip(ACHATS_NATURES.items(), n_lignes):
        montants = split_int(round(cibles[nature]), [rng.lognormvariate(0, 0.9) for _ in range(n_l)])
        for montant in montants:
            operation = rng.choices(codes, poids_operation[nature])[0] if nature in poids_operation else None
            if nature == "Services et exploitation" and rng.random() < 0.2:
                operation = None  # contracts covering the whole patrimoine
            tirage = rng.random()
            if tirage < p_local:
                epci = epci_of(operation or org["siege"])
                commune = rng.choice(org["fournisseurs"].get(epci, [operation or org["siege"]]))
            elif tirage < p_local + p_region:
                commune = rng.choice(region)
            else:
                commune = rng.choice(NATIONAL_SUPPLIER_COMMUNES)
            national = commune in NATIONAL_SUPPLIER_COMMUNES
            ess = not national and nature in ESS_NOMS and rng.random() < 0.15
            # A maintenance firm often works both in gros entretien and entretien courant.
            reuse = [f for f in fournisseurs if nature not in f["natures"] and f["commune"] == commune
                     and f["natures"] & {"Gros entretien", "Entretien courant"}] if nature in ("Gros entretien", "Entretien courant") else []
            if reuse and rng.random() < 0.5:
                f = rng.choice(reuse)
                f["natures"].add(nature)
            else:
                f = nouveau_fournisseur(nature, commune, ess, national)
            rows.append({"commune_fournisseur": f["commune"], "siret": f["siret"], "fournisseur": f["nom"], "nature": nature,
                         "montant_ht_eur": montant, "commune_operation": operation, "ess": "oui" if f["ess"] else "non"})
    return rows


def build(org: dict) -> dict:
    """All the tables and figures of one organisation."""
    rng = random.Random(f"{SEED}-{org['slug']}")
    patri = patrimoine(org, rng)
    vacants(org, patri)
    logements_fin = sum(r["logements"] for r in patri)
    prod = production(org, patri, rng)
    fisc = fiscalite(org, patri, rng)
    tables = {"Patrimoine": patri, "Production": prod, "Fiscalite": fisc}
    if "Salaries" in org["sheets"]:
        tables["Salaries"] = salaries(org, logements_fin, rng)
        etp = round(sum(r["etp"] for r in tables["Salaries"]), 1)
        masse = sum(r["masse_salariale_eur"] for r in tables["Salaries"])
    else:
        etp = round(logements_fin / 1000 * org["etp_par_1000"], 1)
        masse = round(etp * noisy(rng, org["salaire_moyen"], 0.02))
    if "Attributions" in org["sheets"]:
        tables["Attributions"] = attributions(patri, rng)
    if "Actions_sociales" in org["sheets"]:
        tables["Actions_sociales"] = actions_sociales(org, patri, fisc, prod, rng)
    if "Energie" in org["sheets"]:
        tables["Energie"] = energie_finale(org, energie(org, patri, prod, rng))
    if "Achats" in org["sheets"]:
        tables["Achats"] = achats(org, patri, prod, rng)

    social = sum(a["montant_eur"] for a in tables.get("Actions_sociales", [])
                 if a["type_action"] in ("Accompagnement social", "Prévention des expulsions"))
    mises_en_service = sum(p["mises_en_service"] for p in prod)
    administrateurs, femmes, locataires = org["conseil"]
    organisme = {
        "siren": org["siren"],
        "raison_sociale": org["raison_sociale"],
        "famille": org["famille"],
        "exercice": EXERCICE,
        "logements_debut": logements_fin - mises_en_service + org["sorties"],
        "logements_fin": logements_fin,
        "etp_total": etp,
        "masse_salariale_totale": masse,
        # social workers and their actions: ≈ 90–130 € per dwelling
        "cout_gestion_sociale_eur": round(social + logements_fin * rng.uniform(60, 75)) if social else round(logements_fin * rng.uniform(90, 110)),
        "administrateurs": administrateurs,
        "administratrices": femmes,
        "admin_locataires": locataires,
        "taux_satisfaction_pct": org["satisfaction"],
    }
    add_issue14_fields(org, organisme, tables)
    written = {name: rows for name, rows in tables.items() if name in org["sheets"]}
    return {"org": org, "organisme": organisme, "tables": written, "all": tables, "rng": rng}


def add_issue14_fields(org: dict, organisme: dict, tables: dict) -> None:
    """The questionnaire's columns added with issue 14 (APL households, proximity staff, allocations
    in QPV, digital inclusion), drawn from their own generator so that every other figure of the
    samples stays what it was."""
    rng = random.Random(f"{SEED}-{org['slug']}-issue14")
    for r in tables["Patrimoine"]:  # about half of Hlm tenant households receive the APL
        r["menages_apl"] = round((r["logements"] - r["logements_vacants"]) * rng.uniform(0.42, 0.55))
    organisme["personnel_proximite_etp"] = round(organisme["logements_fin"] / 100 * rng.uniform(0.9, 1.3), 1)
    for r in tables.get("Attributions", []):
        r["attributions_qpv"] = r["attributions"] - r["attributions_hors_qpv"]
        r["attributions_qpv_q234"] = round(r["attributions_qpv"] * rng.uniform(0.42, 0.60))
    for r in tables.get("Actions_sociales", []):
        share = {"Lien social": 0.35, "Accompagnement social": 0.2, "Insertion et emploi": 0.15}.get(r["type_action"], 0.0)
        r["inclusion_numerique"] = "oui" if rng.random() < share else "non"


# ─── The previous exercice (2024): the year-on-year bridge of the demo ───

PREVIOUS = EXERCICE - 1
ENTERING = "coophab_pays_doc"  # imported from 2025 only: « entrée » in the bridge of its EPCI (Narbonne)


def previous_year(built: dict) -> dict:
    """The organisation's 2024 questionnaire: the same dwellings (the stock barely moves in a year),
    rents 3,5 % lower (IRL), investment, purchases and actions a few per cent lower, payroll and TFPB
    lower by their yearly rise. Its own generator: the 2025 files are unchanged."""
    rng = random.Random(f"{SEED}-{built['org']['slug']}-{PREVIOUS}")
    f = rng.uniform(0.90, 0.96)
    scale = {
        "Patrimoine": {"loyers_annuels_eur": 1 / 1.035},
        "Production": {"invest_neuf_eur": f, "invest_rehab_eur": f, "gros_entretien_eur": f},
        "Fiscalite": {"tfpb_eur": 1 / 1.04, "abattement_tfpb_eur": 1 / 1.04},
        "Salaries": {"masse_salariale_eur": 1 / 1.025},
        "Achats": {"montant_ht_eur": f},
        "Actions_sociales": {"montant_eur": f},
    }
    tables = {name: [{**r, **{k: round(r[k] * x) for k, x in scale.get(name, {}).items() if r.get(k) is not None}} for r in rows]
              for name, rows in built["all"].items()}
    previous_counts(tables, random.Random(f"{SEED}-{built['org']['slug']}-{PREVIOUS}-menages"))
    organisme = {**built["organisme"], "exercice": PREVIOUS,
                 "logements_debut": built["organisme"]["logements_debut"] - round(rng.uniform(0.005, 0.01) * built["organisme"]["logements_fin"]),
                 "logements_fin": built["organisme"]["logements_fin"],
                 "masse_salariale_totale": sum(r["masse_salariale_eur"] for r in tables["Salaries"]) if "Salaries" in built["tables"]
                 else round(built["organisme"]["masse_salariale_totale"] / 1.025),
                 "cout_gestion_sociale_eur": round(built["organisme"]["cout_gestion_sociale_eur"] * f)}
    written = {name: rows for name, rows in tables.items() if name in built["tables"]}
    org = {**built["org"], "liasse": {**built["org"]["liasse"],
                                      "taux_vacance_pct": round(built["org"]["liasse"]["taux_vacance_pct"] + 0.3, 1),
                                      "taux_recouvrement_pct": round(built["org"]["liasse"]["taux_recouvrement_pct"] - 0.2, 1)}}
    return {"org": org, "organisme": organisme, "tables": written, "all": tables, "rng": rng}


def previous_counts(tables: dict, rng: random.Random) -> None:
    """Households housed, allocations and supported households of the year before: each count a few
    per cent off this year's (a year's allocations are not last year's), the parts kept within their
    whole (DALO, hors QPV, 1st quartile ≤ allocations; evictions avoided ≤ households followed)."""
    def near(n: int, low: float = 0.9, high: float = 1.08) -> int:
        return round(n * rng.uniform(low, high))

    for r in tables.get("Attributions", []):
        without_qpv = r["attributions_hors_qpv"] == r["attributions"]  # a commune without QPV stays so
        r["attributions"] = near(r["attributions"])
        for k in ("attributions_dalo", "sortants_hebergement", "mutations_internes", "attributions_hors_qpv"):
            r[k] = min(r["attributions"], near(r[k]))
        if without_qpv:
            r["attributions_hors_qpv"] = r["attributions"]
        r["attributions_hors_qpv_q1"] = min(r["attributions_hors_qpv"], near(r["attributions_hors_qpv_q1"]))
        r["attributions_qpv"] = r["attributions"] - r["attributions_hors_qpv"]
        r["attributions_qpv_q234"] = min(r["attributions_qpv"], near(r["attributions_qpv_q234"]))
    for r in tables.get("Actions_sociales", []):
        if r.get("menages"):
            r["menages"] = max(1, near(r["menages"]))
        if r.get("expulsions_evitees") is not None:
            r["expulsions_evitees"] = min(r["menages"], near(r["expulsions_evitees"], 0.8, 1.15))


def liasse_row(built: dict) -> dict:
    """The federation liasse: the questionnaire's totals (the SEM's investment, which its
    questionnaire lacks, comes only from here)."""
    org, o, t, rng = built["org"], built["organisme"], built["all"], built["rng"]
    s = lambda sheet, f: sum(r[f] for r in t[sheet])  # noqa: E731
    n = o["logements_fin"]
    loyers = s("Patrimoine", "loyers_annuels_eur")
    ge = s("Production", "gros_entretien_eur")
    p = org["liasse"]
    row = {
        "siren": o["siren"], "raison_sociale": o["raison_sociale"], "famille": o["famille"], "exercice": o["exercice"],
        "logements": n,
        "loyers_quittances_eur": loyers,
        "taux_vacance_pct": p["taux_vacance_pct"],
        "taux_recouvrement_pct": p["taux_recouvrement_pct"],
        "cout_gestion_eur": round(n * noisy(rng, p["cout_gestion_logt"], 0.02)),
        "cout_maintenance_eur": ge + round(n * org["entretien_courant_logt"]),
        "tfpb_eur": s("Fiscalite", "tfpb_eur"),
        "invest_neuf_eur": s("Production", "invest_neuf_eur"),
        "invest_rehab_eur": s("Production", "invest_rehab_eur"),
        "gros_entretien_eur": ge,
        "etp_total": o["etp_total"],
        "masse_salariale_totale": o["masse_salariale_totale"],
        "autofinancement_net_eur": round(loyers * p["autofinancement_pct"] / 100),
        "mises_en_service": s("Production", "mises_en_service"),
        "rehabilitations": s("Production", "rehabilitations"),
    }
    if org["slug"] == LIASSE_ECART["slug"]:
        champ = LIASSE_ECART["champ"]
        row[champ] = int(round(row[champ] * LIASSE_ECART["facteur"], -3))
    return row


# ─── Checks ───

def check_territory() -> None:
    """Every commune exists in COG 2026 with the stated name and EPCI (Etalab découpage administratif)."""
    shared = Path(os.environ.get("ACTERR_SHARED", ROOT.parent / "shared" / "data"))
    tgz = shared / ETALAB_TGZ
    if not tgz.exists():
        print(f"⚠ {tgz} introuvable : communes non revérifiées (table intégrée au script utilisée).")
        return
    with tarfile.open(tgz) as tar:
        communes = json.load(tar.extractfile("package/data/communes.json"))
        epcis = json.load(tar.extractfile("package/data/epci.json"))
    actuelles = {c["code"]: c for c in communes if c["type"] == "commune-actuelle"}
    membre = {m["code"]: e["code"] for e in epcis for m in e["membres"]}
    noms_epci = {e["code"]: e["nom"] for e in epcis}
    for code, (nom, epci) in COMMUNES.items():
        assert code in actuelles, f"{code} n'est pas une commune actuelle du COG 2026"
        assert actuelles[code]["nom"] == nom, (code, actuelles[code]["nom"], nom)
        assert membre.get(code) == epci, (code, membre.get(code), epci)
        assert noms_epci[epci] == EPCI[epci], (epci, noms_epci[epci])
    for org in ORGANISATIONS:
        for code, *_ in org["communes"]:
            assert actuelles[code]["region"] == OCCITANIE, code
    print(f"✓ {len(COMMUNES)} communes vérifiées contre le COG 2026 (Etalab), avec leur EPCI.")


def check(built: dict) -> None:
    """The rules a careful user would respect, plus the national magnitudes (REFERENTIEL anchors)."""
    org, o, t = built["org"], built["organisme"], built["tables"]
    who = org["slug"]
    assert len(o["siren"]) == 9 and luhn_valid(o["siren"]) and o["siren"].startswith("9"), who
    assert o["famille"] in qs.CHOICES["famille"]
    assert o["administratrices"] <= o["administrateurs"] and o["admin_locataires"] <= o["administrateurs"], who
    assert 0 <= o["taux_satisfaction_pct"] <= 100
    patri = t["Patrimoine"]
    communes = {r["commune"] for r in patri}
    assert len(communes) == len(patri) and communes <= COMMUNES.keys(), who
    n = sum(r["logements"] for r in patri)
    assert n == o["logements_fin"], who
    assert abs(sum(r["logements_vacants"] for r in patri) / n * 100 - org["liasse"]["taux_vacance_pct"]) < 0.05, who
    for r in patri:
        c = r["commune"]
        assert r["logements_qpv"] <= r["logements"] and r["logements_individuels"] <= r["logements"], c
        assert r["ges_fg"] <= r["logements"] and r["logements_pmr"] <= r["logements"], c
        assert 0 <= r["logements_vacants"] <= 0.08 * r["logements"], c
        assert sum(r[f"dpe_{x}"] for x in "abcdefg") + r["dpe_inconnu"] == r["logements"], c
        assert 58 <= r["surface_m2"] / r["logements"] <= 80, c
        assert 6.5 * 0.85 - 0.01 <= r["loyers_annuels_eur"] / r["surface_m2"] / 12 <= 6.5 * 1.15 + 0.01, c
        assert not r["logements_qpv"] or c in QPV_CODES, c  # QPV dwellings only where there is a QPV
    for name in ("Production", "Fiscalite", "Attributions", "Energie"):
        assert {r["commune"] for r in t.get(name, [])} <= communes, (who, name)
    qpv_of = {r["commune"]: r["logements_qpv"] for r in patri}
    for r in t["Fiscalite"]:
        assert r["abattement_tfpb_eur"] <= r["tfpb_eur"] and (qpv_of[r["commune"]] or not r["abattement_tfpb_eur"]), r
    for r in t.get("Attributions", []):
        assert max(r["attributions_dalo"], r["sortants_hebergement"], r["mutations_internes"]) <= r["attributions"], r
        assert r["attributions_hors_qpv_q1"] <= r["attributions_hors_qpv"] <= r["attributions"], r
        assert qpv_of[r["commune"]] or r["attributions_hors_qpv"] == r["attributions"], r
    if "Salaries" in t:
        assert abs(sum(r["etp"] for r in t["Salaries"]) - o["etp_total"]) < 1e-6, who
        assert sum(r["masse_salariale_eur"] for r in t["Salaries"]) == o["masse_salariale_totale"], who
        assert {r["commune"] for r in t["Salaries"]} <= COMMUNES.keys()
    rehab_of = defaultdict(int)
    for r in t.get("Production", []):
        rehab_of[r["commune"]] += r["rehabilitations"]
    renoves = defaultdict(int)
    for r in t.get("Energie", []):
        assert r["conso_apres_kwh"] < r["conso_avant_kwh"] and r["energie_chauffage"] in qs.CHOICES["energie_chauffage"], r
        assert r["type_consommation"] in qs.CHOICES["type_consommation"], r
        renoves[r["commune"]] += r["logements_renoves"]
    assert all(renoves[c] <= rehab_of[c] for c in renoves), who
    for r in t.get("Actions_sociales", []):
        assert r["type_action"] in qs.CHOICES["type_action"] and r["tfpb"] in ("oui", "non"), r
        if r.get("qpv"):
            assert re.fullmatch(r"QN\d{3}\d{2}M", r["qpv"]) and r["qpv"] in QPV_CODES[r["commune"]] and qpv_of[r["commune"]], r
    if "Achats" in t:
        seen = set()
        for r in t["Achats"]:
            assert r["nature"] in qs.CHOICES["nature"] and r["ess"] in ("oui", "non") and r["montant_ht_eur"] > 0, r
            assert len(r["siret"]) == 14 and luhn_valid(r["siret"]), r
            assert r["commune_fournisseur"] in COMMUNES and (r["commune_operation"] is None or r["commune_operation"] in communes), r
            assert (r["siret"], r["nature"]) not in seen, r
            seen.add((r["siret"], r["nature"]))
    # National magnitudes
    a = built["all"]
    invest = sum(p[f] for p in a["Production"] for f in ("invest_neuf_eur", "invest_rehab_eur", "gros_entretien_eur"))
    assert 2800 <= invest / n <= 4000, (who, invest / n)
    assert 15 <= o["etp_total"] / n * 1000 <= 18, who
    assert 44_000 <= o["masse_salariale_totale"] / o["etp_total"] <= 51_000, who
    assert 380 <= sum(r["tfpb_eur"] for r in a["Fiscalite"]) / n <= 520, who
    assert 5.6 <= sum(r["loyers_annuels_eur"] for r in patri) / sum(r["surface_m2"] for r in patri) / 12 <= 7.4, who
    if "Attributions" in t:
        attr = sum(r["attributions"] for r in t["Attributions"])
        assert 0.08 <= attr / n <= 0.10 and 0.05 <= sum(r["attributions_dalo"] for r in t["Attributions"]) / attr <= 0.10, who


SHARED_EPCI = {TM: 2, NARBONNE: 2}  # EPCI where several organisations have dwellings: how many


def check_shared_epci(builts: list[dict]) -> None:
    """The demo shows consolidation: these EPCI hold the dwellings of several organisations, the others one."""
    orgs = defaultdict(set)
    for b in builts:
        for r in b["all"]["Patrimoine"]:
            orgs[epci_of(r["commune"])].add(b["org"]["slug"])
    assert {e: len(s) for e, s in orgs.items() if len(s) > 1} == SHARED_EPCI, {EPCI[e]: sorted(s) for e, s in orgs.items()}


# ─── Writing and reading back ───

def pin_created_date(path: Path) -> None:
    """xlsxwriter stamps the creation time in docProps/core.xml: pin it so reruns are identical."""
    with zipfile.ZipFile(path) as z:
        entries = [(info, z.read(info.filename)) for info in z.infolist()]
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
        with zipfile.ZipFile(tmp, "w") as out:
            for info, data in entries:
                if info.filename == "docProps/core.xml":
                    data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", CREATED.encode(), data)
                out.writestr(info, data)
    os.replace(tmp.name, path)
    os.chmod(path, 0o644)


def read_back(path: Path) -> tuple[dict, dict]:
    """The workbook as a user's Excel would hand it back: Organisme fields and table rows, as text."""
    reader = fastexcel.read_excel(str(path))

    def grid(name: str) -> list[list]:
        df = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string").to_polars()
        return [list(row) for row in df.iter_rows()]

    org_rows = grid(qs.ORGANISME.name)[4:]  # title, help, blank, header
    organisme = {c.field: row[1] for c, row in zip(qs.ORGANISME.columns, org_rows)}
    tables = {}
    for sheet in qs.TABLE_SHEETS:
        rows = grid(sheet.name)
        header = rows[2]
        assert [h for h in header if h] == [c.label for c in sheet.columns], (path.name, sheet.name, header)
        tables[sheet.name] = [{c.field: row[i] for i, c in enumerate(sheet.columns)} for row in rows[3:] if any(row)]
    return organisme, tables


def same(expected, cell) -> bool:
    if expected is None:
        return cell in (None, "")
    if isinstance(expected, (int, float)):
        return cell is not None and abs(float(cell) - expected) < 1e-6
    return str(expected) == cell


def verify_workbook(path: Path, built: dict) -> None:
    organisme, tables = read_back(path)
    for field, value in built["organisme"].items():
        assert same(value, organisme[field]), (path.name, field, value, organisme[field])
    for sheet in qs.TABLE_SHEETS:
        expected = built["tables"].get(sheet.name, [])
        got = tables[sheet.name]
        assert len(got) == len(expected), (path.name, sheet.name, len(got), len(expected))
        for e, g in zip(expected, got):
            for c in sheet.columns:
                assert same(e.get(c.field), g[c.field]), (path.name, sheet.name, c.field, e.get(c.field), g[c.field])


LIASSE_COLUMNS = ["siren", "raison_sociale", "famille", "exercice", "logements", "loyers_quittances_eur",
                  "taux_vacance_pct", "taux_recouvrement_pct", "cout_gestion_eur", "cout_maintenance_eur", "tfpb_eur",
                  "invest_neuf_eur", "invest_rehab_eur", "gros_entretien_eur", "etp_total", "masse_salariale_totale",
                  "autofinancement_net_eur", "mises_en_service", "rehabilitations"]


def french(value) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def write_liasse(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow(LIASSE_COLUMNS)
    for r in rows:
        w.writerow([french(r[c]) for c in LIASSE_COLUMNS])
    path.write_text(buf.getvalue(), encoding="utf-8")


def verify_liasse(path: Path, builts: list[dict], exercice: int = EXERCICE) -> None:
    """The liasse as written equals the workbooks read back, except the designed differences."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    assert list(rows[0]) == LIASSE_COLUMNS
    num = lambda s: float(s.replace(",", ".")) if s not in (None, "") else None  # noqa: E731
    for built, row in zip(builts, rows, strict=True):
        slug = built["org"]["slug"]
        organisme, tables = read_back(SAMPLES / "questionnaires" / f"{slug}_{exercice}.xlsx")
        total = lambda sheet, f: sum(float(r[f]) for r in tables[sheet]) if tables[sheet] else None  # noqa: E731
        from_q = {
            "logements": float(organisme["logements_fin"]),
            "loyers_quittances_eur": total("Patrimoine", "loyers_annuels_eur"),
            "tfpb_eur": total("Fiscalite", "tfpb_eur"),
            "invest_neuf_eur": total("Production", "invest_neuf_eur"),
            "invest_rehab_eur": total("Production", "invest_rehab_eur"),
            "gros_entretien_eur": total("Production", "gros_entretien_eur"),
            "etp_total": float(organisme["etp_total"]),
            "masse_salariale_totale": float(organisme["masse_salariale_totale"]),
            "mises_en_service": total("Production", "mises_en_service"),
            "rehabilitations": total("Production", "rehabilitations"),
        }
        assert row["siren"] == organisme["siren"] and row["exercice"] == str(exercice)
        for field, q in from_q.items():
            liasse = num(row[field])
            if q is None:
                assert liasse and liasse > 0, (slug, field)  # given by the liasse only (SEM)
            elif slug == LIASSE_ECART["slug"] and field == LIASSE_ECART["champ"]:
                assert 0.004 <= liasse / q - 1 <= 0.006, (slug, field, liasse, q)
            else:
                assert abs(liasse - q) < 1e-6, (slug, field, liasse, q)


# ─── Market rents (sample data in the « Carte des loyers » layout) ───

def market_rent_rows(builts: list[dict], type_logement: str) -> list[dict]:
    """One line per commune of the Patrimoine sheets, as the ANIL / DGALN file has it: predicted
    rent, its 95 % prediction interval (wider for houses, fewer ads), the prediction level and
    the number of ads behind it. Invented values (MARKET_RENTS), deterministic."""
    rng = random.Random(f"{SEED}-loyers-{type_logement}")
    logements = defaultdict(int)
    for b in builts:
        for r in b["all"]["Patrimoine"]:
            logements[r["commune"]] += r["logements"]
    zones = {epci: i for i, epci in enumerate(sorted({epci_of(c) for c in logements}), start=1)}
    house = type_logement == "maison"
    rows = []
    for code in sorted(logements):
        central = MARKET_RENTS[code][house]
        ads = round(logements[code] * (rng.uniform(0.08, 0.25) if house else rng.uniform(0.6, 1.6)))
        rows.append({
            "id_zone": str(zones[epci_of(code)] * 10 + (0 if ads >= 100 else 1)), "INSEE_C": code, "LIBGEO": COMMUNES[code][0],
            "EPCI": epci_of(code), "DEP": code[:2], "REG": OCCITANIE, "loypredm2": central,
            "lwr.IPm2": round(central * (rng.uniform(0.72, 0.76) if house else rng.uniform(0.76, 0.80)), 2),
            "upr.IPm2": round(central * (rng.uniform(1.30, 1.36) if house else rng.uniform(1.25, 1.30)), 2),
            "TYPPRED": "commune" if ads >= 100 else "maille", "nbobs_com": ads, "nbobs_mail": ads + rng.randint(150, 2500),
            "R2_adj": round(rng.uniform(0.62, 0.72) if house else rng.uniform(0.72, 0.86), 3),
        })
    return rows


def rents_path(type_logement: str) -> Path:
    plural = {"appartement": "appartements", "maison": "maisons"}[type_logement]
    return SAMPLES / "loyers" / f"exemple_carte_loyers_{plural}_{LOYERS_MILLESIME}.csv"


def write_rents(path: Path, rows: list[dict]) -> None:
    """`;`, decimal comma, latin-1, texts in double quotes: the published file's layout."""
    text = {"id_zone", "INSEE_C", "LIBGEO", "EPCI", "DEP", "REG", "TYPPRED"}

    def cell(column: str, value) -> str:
        if column in text:
            return '"' + str(value).replace('"', '""') + '"'
        return str(value).replace(".", ",")

    lines = [";".join(f'"{c}"' for c in LOYERS_COLUMNS)]
    lines += [";".join(cell(c, r[c]) for c in LOYERS_COLUMNS) for r in rows]
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))


def verify_rents(path: Path, rows: list[dict], type_logement: str, reference: TerritorialReference) -> None:
    """acterr's own reader takes every line, each commune once, with the values written."""
    parsed = read_loyers(path, reference, type_logement, LOYERS_MILLESIME)
    assert not parsed.problems, [p.message for p in parsed.problems]
    [unit] = parsed.units
    [table] = unit.tables.values()
    got = {r["commune"]: (r["loyer_m2_bas"], r["loyer_m2"], r["loyer_m2_haut"]) for r in table.iter_rows(named=True)}
    assert got == {r["INSEE_C"]: (r["lwr.IPm2"], r["loypredm2"], r["upr.IPm2"]) for r in rows}, path.name
    for r in rows:
        assert r["lwr.IPm2"] < r["loypredm2"] < r["upr.IPm2"], r


def check_rents(builts: list[dict]) -> None:
    """A market rent for every commune of the Patrimoine sheets, and for none other; apartments
    dearer per m² than houses; the magnitudes of the region (Toulouse 13–14 €, small towns 8–10 €)."""
    communes = {r["commune"] for b in builts for r in b["all"]["Patrimoine"]}
    assert set(MARKET_RENTS) == communes, sorted(communes ^ set(MARKET_RENTS))
    for code, (appartement, maison) in MARKET_RENTS.items():
        assert 7.5 <= maison < appartement <= 16, code
    assert 13 <= MARKET_RENTS["31555"][0] <= 14 and all(MARKET_RENTS[c][0] <= 10 for c in ("11206", "11203", "11069"))


def rents_markdown(rows: dict[str, list[dict]]) -> str:
    lines = ["| Commune | INSEE | Appartements : loyer (intervalle) | Maisons : loyer (intervalle) |", "|---|---|---|---|"]
    maisons = {r["INSEE_C"]: r for r in rows["maison"]}

    def rent(r: dict) -> str:
        return f"{french2(r['loypredm2'])} € ({french2(r['lwr.IPm2'])} – {french2(r['upr.IPm2'])})"

    for r in sorted(rows["appartement"], key=lambda r: r["INSEE_C"]):
        lines.append(f"| {r['LIBGEO']} | {r['INSEE_C']} | {rent(r)} | {rent(maisons[r['INSEE_C']])} |")
    return "\n".join(lines)


def french2(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


# ─── README totals ───

def eur(x: float) -> str:
    return f"{x:,.0f}".replace(",", "\u202f") + " €"


def entier(x: float) -> str:
    return f"{x:,.0f}".replace(",", "\u202f")


def totals_markdown(builts: list[dict], liasse: list[dict]) -> str:
    lines = ["| Organisme | Famille | SIREN | Logements (1/1 → 31/12) | dont QPV | Investissement 2025 (neuf + réhab. + GE) | par logement | TFPB | ETP | Masse salariale |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for b, l in zip(builts, liasse):
        o, a = b["organisme"], b["all"]
        n = o["logements_fin"]
        invest = l["invest_neuf_eur"] + l["invest_rehab_eur"] + l["gros_entretien_eur"]
        qpv = sum(r["logements_qpv"] for r in a["Patrimoine"])
        source = "" if "Production" in b["org"]["sheets"] else " (liasse)"
        lines.append(f"| {o['raison_sociale']} | {o['famille']} | {o['siren']} | {entier(o['logements_debut'])} → {entier(n)} "
                     f"| {entier(qpv)} ({qpv / n * 100:.0f} %) | {eur(invest)}{source} | {eur(invest / n)} | {eur(l['tfpb_eur'])} "
                     f"| {french(o['etp_total'])} | {eur(o['masse_salariale_totale'])} |")
    n = sum(b["organisme"]["logements_fin"] for b in builts)
    invest = sum(l["invest_neuf_eur"] + l["invest_rehab_eur"] + l["gros_entretien_eur"] for l in liasse)
    lines.append(f"| **Ensemble** | | | **{entier(n)}** | | **{eur(invest)}** | {eur(invest / n)} "
                 f"| {eur(sum(l['tfpb_eur'] for l in liasse))} | {french(round(sum(b['organisme']['etp_total'] for b in builts), 1))} "
                 f"| {eur(sum(b['organisme']['masse_salariale_totale'] for b in builts))} |")
    lines.append("")
    lines.append("Communes couvertes (code INSEE → EPCI) :")
    lines.append("")
    for b in builts:
        o = b["organisme"]
        par_epci = defaultdict(list)
        for r in b["all"]["Patrimoine"]:
            par_epci[epci_of(r["commune"])].append(f"{COMMUNES[r['commune']][0]} {r['commune']} ({entier(r['logements'])})")
        lines.append(f"- **{o['raison_sociale']}** : " + " ; ".join(
            f"{EPCI[e]} ({e}) : {', '.join(cs)}" for e, cs in par_epci.items()))
    return "\n".join(lines)


def update_readme(text: str, block: str = "totaux") -> None:
    readme = SAMPLES / "README.md"
    start, end = f"<!-- {block}:debut -->", f"<!-- {block}:fin -->"
    if not readme.exists() or start not in readme.read_text(encoding="utf-8"):
        print(f"⚠ {readme} sans marqueurs {start} / {end} : totaux non mis à jour.")
        return
    content = readme.read_text(encoding="utf-8")
    before, rest = content.split(start, 1)
    after = rest.split(end, 1)[1]
    readme.write_text(f"{before}{start}\n{text}\n{end}{after}", encoding="utf-8")


def main() -> None:
    check_territory()
    builts = [build(org) for org in ORGANISATIONS]
    for b in builts:
        check(b)
    check_shared_epci(builts)
    liasse = [liasse_row(b) for b in builts]
    out = SAMPLES / "questionnaires"
    out.mkdir(exist_ok=True)
    for b in builts:
        path = out / f"{b['org']['slug']}_{EXERCICE}.xlsx"
        write_questionnaire(path, b["organisme"], b["tables"])
        pin_created_date(path)
        verify_workbook(path, b)
        print(f"✓ {path.relative_to(ROOT)} : {', '.join(f'{k} ({len(v)})' for k, v in b['tables'].items())}")
    liasse_path = SAMPLES / f"liasse_{EXERCICE}.csv"
    write_liasse(liasse_path, liasse)
    verify_liasse(liasse_path, builts)
    print(f"✓ {liasse_path.relative_to(ROOT)} : {len(liasse)} organismes")
    previous = [previous_year(b) for b in builts if b["org"]["slug"] != ENTERING]
    for b in previous:
        path = out / f"{b['org']['slug']}_{PREVIOUS}.xlsx"
        write_questionnaire(path, b["organisme"], b["tables"])
        pin_created_date(path)
        verify_workbook(path, b)
        print(f"✓ {path.relative_to(ROOT)} : exercice précédent")
    liasse_path = SAMPLES / f"liasse_{PREVIOUS}.csv"
    write_liasse(liasse_path, [liasse_row(b) for b in previous])
    verify_liasse(liasse_path, previous, PREVIOUS)
    print(f"✓ {liasse_path.relative_to(ROOT)} : {len(previous)} organismes (exercice précédent)")
    check_rents(builts)
    reference = TerritorialReference.load()
    rents = {}
    for type_logement in ("appartement", "maison"):
        rents[type_logement] = market_rent_rows(builts, type_logement)
        path = rents_path(type_logement)
        write_rents(path, rents[type_logement])
        verify_rents(path, rents[type_logement], type_logement, reference)
        print(f"✓ {path.relative_to(ROOT)} : {len(rents[type_logement])} communes (données d'exemple)")
    update_readme(totals_markdown(builts, liasse))
    update_readme(rents_markdown(rents), "loyers")
    print("✓ samples/README.md : totaux et loyers mis à jour")


if __name__ == "__main__":
    main()
