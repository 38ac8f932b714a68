"""The questionnaire's layout (DATA.md §1), as data shared by the template writer and the reader.

One definition drives both: the blank workbook acterr generates and the reader that imports it,
so the two can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Field kinds, used by the reader to parse a cell and by the template to set validations.
COMMUNE = "commune"  # INSEE commune code, text
INT = "int"  # count, >= 0
AMOUNT = "amount"  # euros or other quantity, float, expected >= 0
SIGNED = "signed"  # amount that may be negative (e.g. net self-financing)
PERCENT = "percent"  # 0–100
TEXT = "text"
CHOICE = "choice"  # controlled list, see CHOICES
YESNO = "yesno"  # oui / non
SIREN = "siren"
SIRET = "siret"
YEAR = "year"
QPV = "qpv"

CHOICES: dict[str, list[str]] = {
    "famille": ["OPH", "ESH", "COOP", "SEM", "Autre"],
    "nature": [
        "Construction neuve",
        "Réhabilitation",
        "Gros entretien",
        "Entretien courant",
        "Services et exploitation",
        "Frais généraux",
        "Autre",
    ],
    "type_action": [
        "Accompagnement social",
        "Prévention des expulsions",
        "Insertion et emploi",
        "Lien social",
        "Tranquillité résidentielle",
        "Sur-entretien",
        "Participation des locataires",
        "Autre",
    ],
    "energie_chauffage": ["Gaz", "Fioul", "Électricité", "Bois", "Réseau de chaleur", "Autre"],
    # DPE figures are primary energy (electricity × the regulatory coefficient); prices and emission
    # factors are per final kWh: the engine converts, and needs to know which one was written.
    "type_consommation": ["Énergie finale", "Énergie primaire"],
}


@dataclass(frozen=True)
class Column:
    field: str  # canonical name (DATA.md)
    label: str  # French header written in the template
    kind: str
    help: str
    required: bool = True
    choices: str | None = None  # key of CHOICES for kind CHOICE
    aliases: tuple[str, ...] = ()  # other headers or labels people write for the same field


@dataclass(frozen=True)
class Sheet:
    name: str
    title: str
    columns: tuple[Column, ...]
    dataset: str  # workspace dataset the rows are stored in
    help: str = ""
    key_fields: tuple[str, ...] = field(default=())

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)


def _commune(label: str = "Code commune", help: str = "Code INSEE de la commune (5 caractères, ex. 31555)") -> Column:
    return Column("commune", label, COMMUNE, help, aliases=("Code INSEE", "Code commune INSEE", "Code INSEE de la commune"))


ORGANISME = Sheet(
    name="Organisme",
    title="Identification de l'organisme et données de niveau organisme",
    dataset="organismes",
    help="Une ligne par information : saisir la valeur dans la colonne B.",
    columns=(
        Column("siren", "SIREN", SIREN, "9 chiffres, sans espace", aliases=("N° SIREN", "Numéro SIREN", "SIREN de l'organisme")),
        Column("raison_sociale", "Raison sociale", TEXT, "Nom de l'organisme", aliases=("Nom de l'organisme", "Dénomination")),
        Column("famille", "Famille", CHOICE, "OPH, ESH, COOP, SEM ou Autre", choices="famille",
               aliases=("Famille d'organisme", "Type d'organisme")),
        Column("exercice", "Exercice", YEAR, "Année comptable des données (ex. 2025)", aliases=("Exercice comptable", "Année de l'exercice")),
        Column("logements_debut", "Logements au 1er janvier", INT, "Logements familiaux gérés au 1er janvier de l'exercice", required=False),
        Column("logements_fin", "Logements au 31 décembre", INT, "Logements familiaux gérés au 31 décembre de l'exercice", required=False),
        Column("etp_total", "Effectif total (ETP)", AMOUNT, "Effectif en équivalents temps plein", required=False),
        Column("masse_salariale_totale", "Masse salariale brute (€)", AMOUNT, "Salaires bruts de l'exercice", required=False),
        Column("cout_gestion_sociale_eur", "Coût de la gestion sociale (€)", AMOUNT, "Dépenses de gestion sociale (personnel et actions)", required=False),
        Column("administrateurs", "Administrateurs", INT, "Membres du conseil d'administration (ou de surveillance)", required=False),
        Column("administratrices", "dont femmes", INT, "Parmi les administrateurs", required=False),
        Column("admin_locataires", "dont représentants des locataires", INT, "Parmi les administrateurs", required=False),
        Column("taux_satisfaction_pct", "Taux de satisfaction des locataires (%)", PERCENT, "Dernière enquête de satisfaction", required=False),
        Column("personnel_proximite_etp", "Gardiens et personnel de proximité (ETP)", AMOUNT,
               "Gardiens, agents d'immeuble et autres salariés travaillant sur site, en équivalents temps plein au 31 décembre",
               required=False, aliases=("Personnel de proximité (ETP)", "Gardiens (ETP)")),
    ),
)

ACHATS = Sheet(
    name="Achats",
    title="Achats auprès des fournisseurs (une ligne par fournisseur et nature)",
    dataset="achats",
    columns=(
        Column("commune_fournisseur", "Code commune fournisseur", COMMUNE,
               "Code INSEE de la commune de l'établissement fournisseur (ou, à défaut, son SIRET)", required=False),
        Column("siret", "SIRET fournisseur", SIRET, "14 chiffres", required=False),
        Column("fournisseur", "Nom fournisseur", TEXT, "Raison sociale du fournisseur", required=False),
        Column("nature", "Nature", CHOICE, "Nature de la dépense (liste)", choices="nature"),
        Column("montant_ht_eur", "Montant HT (€)", AMOUNT, "Montant hors taxes payé dans l'exercice"),
        Column("commune_operation", "Code commune opération", COMMUNE, "Commune où la prestation a été réalisée (facultatif)", required=False),
        Column("ess", "Structure ESS (oui/non)", YESNO, "Fournisseur de l'économie sociale et solidaire (facultatif)", required=False),
    ),
)
PATRIMOINE = Sheet(
    name="Patrimoine",
    title="Patrimoine au 31 décembre, par commune",
    dataset="patrimoine",
    columns=(
        _commune(),
        Column("logements", "Logements", INT, "Logements familiaux gérés dans la commune"),
        Column("logements_qpv", "dont en QPV", INT, "Parmi eux, logements situés en quartier prioritaire", required=False),
        Column("logements_individuels", "Logements individuels", INT, "Maisons (logements individuels)", required=False),
        Column("surface_m2", "Surface habitable (m²)", AMOUNT, "Somme des surfaces habitables", required=False),
        Column("loyers_annuels_eur", "Loyers annuels quittancés (€)", AMOUNT, "Loyers principaux hors charges quittancés dans l'exercice", required=False),
        Column("logements_pmr", "Logements adaptés PMR", INT, "Logements adaptés au handicap ou au vieillissement", required=False),
        Column("logements_vacants", "dont vacants", INT, "Logements vacants au 31 décembre (le gain des locataires ne compte que les logements occupés)",
               required=False, aliases=("Logements vacants",)),
        *(Column(f"dpe_{x.lower()}", f"DPE {x}", INT, f"Logements d'étiquette énergie {x}", required=False) for x in "ABCDEFG"),
        Column("dpe_inconnu", "DPE inconnu", INT, "Logements sans étiquette énergie connue", required=False),
        Column("ges_fg", "GES F-G", INT, "Logements d'étiquette climat (GES) F ou G", required=False),
        Column("menages_apl", "Ménages bénéficiaires de l'APL", INT,
               "Ménages locataires percevant l'aide personnalisée au logement au 31 décembre (source : CAF ou quittancement)",
               required=False, aliases=("Bénéficiaires APL", "Ménages APL")),
    ),
)

PRODUCTION = Sheet(
    name="Production",
    title="Production et investissement de l'exercice, par commune d'opération",
    dataset="production",
    columns=(
        _commune(),
        Column("mises_en_service", "Logements mis en service", INT, "Livrés dans l'exercice", required=False),
        Column("mises_en_chantier", "Logements mis en chantier", INT, "Ordres de service de l'exercice", required=False),
        Column("rehabilitations", "Logements réhabilités", INT, "Réhabilitations achevées dans l'exercice", required=False),
        Column("invest_neuf_eur", "Investissement construction neuve (€)", AMOUNT, "Dépenses de l'exercice, TTC", required=False),
        Column("invest_rehab_eur", "Investissement réhabilitation (€)", AMOUNT, "Dépenses de l'exercice, TTC", required=False),
        Column("gros_entretien_eur", "Gros entretien (€)", AMOUNT, "Dépenses de l'exercice, TTC", required=False),
    ),
)

SALARIES = Sheet(
    name="Salaries",
    title="Salariés par commune de résidence",
    dataset="salaries",
    columns=(
        _commune("Code commune de résidence", "Commune de résidence des salariés"),
        Column("etp", "ETP", AMOUNT, "Équivalents temps plein résidant dans la commune"),
        Column("masse_salariale_eur", "Masse salariale brute (€)", AMOUNT, "Salaires bruts versés à ces salariés", required=False),
    ),
)

FISCALITE = Sheet(
    name="Fiscalite",
    title="Fiscalité locale, par commune",
    dataset="fiscalite",
    columns=(
        _commune(),
        Column("tfpb_eur", "TFPB acquittée (€)", AMOUNT, "Taxe foncière sur les propriétés bâties payée"),
        Column("abattement_tfpb_eur", "Abattement TFPB QPV (€)", AMOUNT, "Abattement de 30 % obtenu en QPV", required=False),
    ),
)

ACTIONS = Sheet(
    name="Actions_sociales",
    title="Actions sociales et de cohésion, par commune",
    dataset="actions",
    columns=(
        _commune(),
        Column("qpv", "Code QPV", QPV, "Code du quartier prioritaire (facultatif)", required=False),
        Column("type_action", "Type d'action", CHOICE, "Type d'action (liste)", choices="type_action"),
        Column("tfpb", "Financée par l'abattement TFPB (oui/non)", YESNO, "Valorisée au titre de l'abattement TFPB", required=False),
        Column("montant_eur", "Montant (€)", AMOUNT, "Dépense de l'exercice", required=False),
        Column("menages", "Ménages bénéficiaires", INT, "Nombre de ménages", required=False),
        Column("expulsions_evitees", "Expulsions évitées", INT, "Procédures arrêtées grâce à l'action", required=False),
        Column("heures_insertion", "Heures d'insertion", AMOUNT, "Heures de travail en insertion", required=False),
        Column("inclusion_numerique", "Inclusion numérique (oui/non)", YESNO,
               "Action d'inclusion numérique (accès, équipement, accompagnement aux démarches en ligne), quel que soit son type",
               required=False, aliases=("Action d'inclusion numérique",)),
    ),
)

ATTRIBUTIONS = Sheet(
    name="Attributions",
    title="Attributions de logements, par commune",
    dataset="attributions",
    columns=(
        _commune(),
        Column("attributions", "Attributions", INT, "Logements attribués dans l'exercice"),
        Column("attributions_dalo", "dont DALO", INT, "Ménages reconnus prioritaires DALO", required=False),
        Column("sortants_hebergement", "dont sortants d'hébergement", INT, "Ménages sortant d'une structure d'hébergement", required=False),
        Column("mutations_internes", "Mutations internes", INT, "Attributions à des locataires de l'organisme", required=False),
        Column("attributions_hors_qpv", "Attributions hors QPV", INT, "Attributions de logements situés hors QPV", required=False),
        Column("attributions_hors_qpv_q1", "dont 1er quartile", INT, "à des ménages du 1er quartile de revenus", required=False),
        Column("attributions_qpv", "Attributions en QPV", INT, "Attributions de logements situés en quartier prioritaire", required=False),
        Column("attributions_qpv_q234", "dont 2e à 4e quartiles", INT,
               "à des ménages des 2e, 3e et 4e quartiles de revenus (hors 1er quartile)", required=False),
    ),
)

ENERGIE = Sheet(
    name="Energie",
    title="Rénovations énergétiques achevées dans l'exercice",
    dataset="energie",
    columns=(
        _commune(),
        Column("logements_renoves", "Logements rénovés", INT, "Logements de l'opération"),
        Column("conso_avant_kwh", "Consommation avant (kWh/an)", AMOUNT, "Consommation conventionnelle avant travaux"),
        Column("conso_apres_kwh", "Consommation après (kWh/an)", AMOUNT, "Consommation conventionnelle après travaux"),
        Column("energie_chauffage", "Énergie de chauffage", CHOICE, "Énergie de chauffage (liste)", choices="energie_chauffage"),
        Column("type_consommation", "Consommations exprimées en", CHOICE,
               "Énergie finale (kWhEF, facturée) ou énergie primaire (kWhEP, celle de l'étiquette DPE)", required=False,
               choices="type_consommation", aliases=("Type de consommation", "Unité de consommation", "kWh EF ou EP")),
    ),
)

TABLE_SHEETS: tuple[Sheet, ...] = (PATRIMOINE, PRODUCTION, FISCALITE, SALARIES, ACHATS, ACTIONS, ATTRIBUTIONS, ENERGIE)
ALL_SHEETS: tuple[Sheet, ...] = (ORGANISME, *TABLE_SHEETS)

# Facts stored per dataset, besides the sheet's own columns.
PROVENANCE_FIELDS = ("siren", "exercice", "source_fichier", "source_sha256", "feuille", "ligne")
