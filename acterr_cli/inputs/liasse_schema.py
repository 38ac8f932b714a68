"""Canonical layout of the federation liasse (DATA.md §2): one row per organisation × exercice.

Federation exports use member-only layouts; other layouts are read through mapping files onto
these canonical columns. Codes in brackets are the standard OLS ratio codes.
"""

from __future__ import annotations

from acterr_cli.inputs import questionnaire_schema as qs
from acterr_cli.inputs.questionnaire_schema import Column, Sheet

LIASSE = Sheet(
    name="Liasse",
    title="Liasse fédérale (format canonique acterr)",
    dataset="liasse",
    columns=(
        Column("siren", "siren", qs.SIREN, "SIREN de l'organisme"),
        Column("raison_sociale", "raison_sociale", qs.TEXT, "Raison sociale", required=False),
        Column("famille", "famille", qs.CHOICE, "OPH, ESH, COOP, SEM, Autre", required=False, choices="famille"),
        Column("exercice", "exercice", qs.YEAR, "Exercice comptable"),
        Column("logements", "logements", qs.INT, "Logements gérés (A1)", required=False),
        Column("loyers_quittances_eur", "loyers_quittances_eur", qs.AMOUNT, "Loyers quittancés (€)", required=False),
        Column("taux_vacance_pct", "taux_vacance_pct", qs.PERCENT, "Taux de vacance (D11, %)", required=False),
        Column("taux_recouvrement_pct", "taux_recouvrement_pct", qs.AMOUNT, "Taux de recouvrement (D31, %)", required=False),
        Column("cout_gestion_eur", "cout_gestion_eur", qs.AMOUNT, "Coût de gestion (€)", required=False),
        Column("cout_maintenance_eur", "cout_maintenance_eur", qs.AMOUNT, "Coût de maintenance (€)", required=False),
        Column("tfpb_eur", "tfpb_eur", qs.AMOUNT, "TFPB acquittée (€)", required=False),
        Column("invest_neuf_eur", "invest_neuf_eur", qs.AMOUNT, "Investissement construction neuve (€)", required=False),
        Column("invest_rehab_eur", "invest_rehab_eur", qs.AMOUNT, "Investissement réhabilitation (€)", required=False),
        Column("gros_entretien_eur", "gros_entretien_eur", qs.AMOUNT, "Gros entretien (€)", required=False),
        Column("etp_total", "etp_total", qs.AMOUNT, "Effectif total (ETP)", required=False),
        Column("masse_salariale_totale", "masse_salariale_totale", qs.AMOUNT, "Masse salariale brute (€)", required=False),
        Column("autofinancement_net_eur", "autofinancement_net_eur", qs.SIGNED, "Autofinancement net (€)", required=False),
        Column("mises_en_service", "mises_en_service", qs.INT, "Logements mis en service", required=False),
        Column("rehabilitations", "rehabilitations", qs.INT, "Logements réhabilités", required=False),
    ),
)
