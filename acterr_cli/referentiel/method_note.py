"""The method note (docs/METHODE.md): the référentiel written out for an auditor, in French.

Everything comes from the loaded référentiel (catalogue, parameters, user overrides) and from the
raw measures the facts provide: the common rules, then per axis and per indicator its formula in
words and as written, its inputs and where they come from, its parameters with their sources, the
part computed from a national flat rate, what it leaves out, its stakeholders; then every
parameter with its source, status and remark. The output is deterministic (no date but the
référentiel's own): `make methode` regenerates docs/METHODE.md and a test keeps it in sync.

    python -m acterr_cli.referentiel.method_note docs/METHODE.md   # or « - » for stdout
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from acterr_cli.referentiel.model import (
    ADDITIONALITY,
    AXES,
    DIRECTIONS,
    LEDGER_LABELS,
    STAKEHOLDERS,
    Indicator,
    Parameter,
    Referentiel,
    _names,  # formula names, parsed once per process
    load_referentiel,
)

if TYPE_CHECKING:
    from acterr_cli.engine.measures import RawMeasure

STAGES = {"PROD": "Production", "ACC": "Accès au logement", "GL": "Gestion locative", "GP": "Gestion de proximité",
          "GS": "Gestion sociale", "PV": "Politique de la ville", "SUP": "Fonctions support"}
LEVELS = {"socle": "socle", "etendu": "étendu"}
FLAGGED_STATUSES = ("à vérifier", "hypothèse")  # provisional figures, or method choices to read as such
PROVISIONAL = "à vérifier"
STATUSES = {
    "vérifié": "chiffre lu dans la source citée",
    "vérifié (source secondaire)": "chiffre lu dans une source qui le reprend d'une autre ; la source première reste à citer",
    "dérivé": "calculé à partir de chiffres sourcés, le calcul étant dit dans la source ou la remarque",
    "hypothèse": "choix de méthode assumé, faute de donnée mesurée : à lire comme tel",
    "à vérifier": "valeur provisoire, pas encore contrôlée dans sa source",
}
MARK = "⚠"  # beside a flagged status
NO_LIMITS = "non documentés dans le catalogue (champ « limites » vide)"
# Parameters the engine applies while it reduces the facts into raw measures, before any formula
# reads them (no formula names them; engine.measures.FACT_PARAMETERS): parameter → the raw
# measures they enter, so that the note lists them with the indicators built on those measures.
_MARKET_VALUES = tuple(f"{m}_{s}" for m in ("gain_marche", "valeur_marche_hc") for s in ("basse", "centrale", "haute"))
_PRIMARY_ENERGY = ("economie_kwh", "economie_kwh_electricite")
ENGINE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "charges_locatives_m2": _MARKET_VALUES,
    "correction_loyer_annonce": _MARKET_VALUES,
    "taux_vacance_defaut": (*_MARKET_VALUES, "logements_loyer_marche", "logements_sans_loyer_marche", "logements_occupes"),
    "coef_energie_primaire_electricite": _PRIMARY_ENERGY,
    "coef_energie_primaire_electricite_2026": _PRIMARY_ENERGY,
}

# The rules every figure follows: (title, text), in plain words (shared with the Méthodologie sheet).
RULES: tuple[tuple[str, str], ...] = (
    ("Des sommes d'abord, les ratios ensuite",
     "Les formules portent sur des mesures qui s'additionnent (montants, logements, heures, ménages). À chaque niveau "
     "(commune, EPCI, département, région, France), ces mesures sont d'abord additionnées sur le territoire, puis la "
     "formule est appliquée à ces sommes : un ratio consolidé (un pourcentage, un montant par logement) est recalculé "
     "à partir des totaux, jamais obtenu en faisant la moyenne des ratios des organismes ou des communes."),
    ("Une donnée absente n'est pas un zéro",
     "Une donnée manquante rend l'indicateur « non calculable », avec le motif (la donnée qui manque et qui devait la "
     "fournir) : elle n'est jamais remplacée par zéro. Une case laissée vide dans un questionnaire est une donnée "
     "inconnue, ni un zéro ni un « non ». Une division par zéro donne aussi « non calculable »."),
    ("Couverture",
     "Chaque résultat porte sa couverture : la part des logements du territoire (ou, quand les organismes comptés n'y "
     "ont pas de logement, la part des organismes présents) dont les données nécessaires étaient fournies. Un total "
     "calculé avec une couverture de 80 % est un total partiel, qui sous-estime celui du territoire. Une valeur "
     "calculée a toujours une couverture supérieure à 0 % ; les chiffres propres au territoire (population, parc "
     "social du RPLS) ont une couverture de 100 %."),
    ("Valeurs basse, centrale et haute",
     "Chaque indicateur est calculé trois fois : avec la valeur basse, la valeur centrale puis la valeur haute de "
     "chaque paramètre, et avec sa formule basse ou haute quand il en a une. La valeur annoncée est la centrale ; la "
     "fourchette va de la plus petite à la plus grande des trois. Un indicateur sans paramètre ni formule propre a "
     "trois valeurs égales : c'est un chiffre déclaré ou compté, pas une estimation."),
    ("Sensibilité : les paramètres qui font la fourchette",
     "Pour chaque chiffre consolidé d'un territoire, chaque paramètre qu'il utilise prend seul sa valeur basse puis "
     "sa valeur haute, les autres restant centraux : l'écart du chiffre, dans son unité, mesure le poids de ce "
     "paramètre dans la fourchette. Les trois paramètres aux écarts les plus larges sont donnés avec le résultat "
     "(moteur_1 à moteur_3, avec l'écart du chiffre au paramètre bas et au paramètre haut), dans « acterr compute "
     "--expliquer » et dans la feuille Sensibilité du rapport (diagramme en tornade). Pour le gain des locataires "
     "(SOC-01, SOC-02, SOC-03), les facteurs du loyer de marché appliqués logement par logement comptent chacun "
     "comme un paramètre : correction des loyers d'annonce, charges récupérables, taux de vacance par défaut, et "
     "l'intervalle de prédiction de la carte des loyers (une donnée, non un paramètre). Un paramètre qui n'entre "
     "que dans la formule basse ou haute d'un indicateur (la part des économies d'énergie réelles) est évalué avec "
     "cette formule. Les chiffres d'un organisme n'ont pas de sensibilité propre : elle suit celle des territoires."),
    ("Incertitude par simulation",
     "Avec « acterr compute --simulations N », chaque paramètre dont les valeurs basse et haute diffèrent est tiré N "
     "fois selon une loi triangulaire sur ses valeurs basse, centrale (la plus probable) et haute ; les facteurs du loyer "
     "de marché aussi, l'intervalle de la carte des loyers entre ses bornes. Les tirages sont indépendants, sauf "
     "corrélation déclarée dans le référentiel ([[correlation]] : deux paramètres et un coefficient, appliqués par une "
     "copule gaussienne). Chaque tirage donne le chiffre à partir de ses valeurs « un paramètre à la fois » (rubrique "
     "précédente) : entre la valeur centrale d'un paramètre et sa valeur basse ou haute, le chiffre varie en ligne "
     "droite. Ses valeurs calculées avec tous les paramètres à leur valeur basse, puis tous à leur valeur haute, disent "
     "comment les paramètres se combinent : leurs variations s'additionnent (une somme de termes) ou leurs facteurs se "
     "multiplient (un produit de paramètres : 1,2 × 1,2 = 1,44 et non 1,40) ; la règle qui retrouve le mieux ces deux "
     "valeurs est retenue, chiffre par chiffre. Une forme plus complexe (un rapport de deux sommes) est approchée par "
     "la règle la plus proche, exacte quand un seul paramètre bouge. Les centiles p10, p50 et p90 des N chiffres sont donnés avec chaque résultat ; 8 tirages "
     "sur 10 tombent entre p10 et p90. Une graine (--graine) redonne les mêmes tirages."),
    ("Valeur brute et valeur nette : l'additionnalité",
     "Les chiffres monétisés de la plus-value sociale (gain des locataires, coûts publics évités) sont d'abord des "
     "valeurs brutes : ce que la situation des ménages vaut, comparée à un contrefactuel (le loyer de marché, "
     "l'hébergement, l'expulsion). Leur valeur nette (valeur_nette, avec sa fourchette) retire, comme le demandent "
     "les principes de la mesure de la valeur sociale (Social Value International, « ne pas surévaluer » ; guide SROI "
     "du Cabinet Office, 2012 ; Additionality Guide de l'agence anglaise du logement, 2014) : l'effet d'aubaine, ce qui "
     "serait arrivé sans l'organisme ; l'attribution, la part due à d'autres acteurs (État, collectivités, "
     "associations, financeurs) ; le déplacement, la valeur retirée à d'autres ménages ou territoires. Valeur nette = "
     "valeur brute × (1 − aubaine) × (1 − attribution) × (1 − déplacement) ; sa valeur basse prend la valeur brute "
     "basse et chaque facteur à sa valeur haute, sa valeur haute l'inverse. L'atténuation dans le temps (drop-off) "
     "ne s'applique pas : chaque chiffre est l'effet d'un exercice, jamais projeté sur les années suivantes. Aucune "
     "évaluation française ne mesure ces parts pour le logement social : ce sont des hypothèses déclarées, placées sur "
     "la grille de l'Additionality Guide (aucun 0 %, faible 25 %, moyen 50 %, fort 75 %), avec une fourchette large ; "
     "la valeur brute reste le chiffre de référence, la nette dit ce qui revient en propre aux organismes."),
    ("Deux registres qui ne s'additionnent jamais",
     "La valeur locale (axe ECO : l'argent que les organismes dépensent sur le territoire en investissements, achats, "
     "salaires et impôts) et la plus-value sociale (axes SOC et PV : gains des locataires, coûts publics évités, "
     "actions sociales) sont de nature différente : un flux de dépenses d'un côté, des gains et des coûts évités "
     "estimés de l'autre. acterr ne les additionne jamais et ne calcule aucun total toutes catégories confondues. "
     "L'environnement, la gouvernance et le contexte territorial sont présentés à part."),
    ("Données de niveau organisme : jamais de répartition au prorata",
     "Certaines données ne sont connues que pour l'organisme entier (feuille Organisme, liasse : effectifs, masse "
     "salariale totale, totaux d'investissement à défaut de détail par commune). Elles ne comptent pour un territoire "
     "que si tous les logements de l'organisme s'y trouvent : acterr ne les répartit jamais au prorata des logements. "
     "À chaque niveau (sauf France et QPV), ce qu'aucun territoire du niveau ne reçoit figure, pour chaque "
     "indicateur qui s'additionne (montants, effectifs), sur une ligne « Non réparti (données de niveau organisme) » "
     "(code NON_REPARTI) : totaux de la liasse ou d'un organisme présent sur plusieurs territoires, données de "
     "communes hors des territoires du niveau, montants des territoires où le chiffre n'est pas calculable. Les "
     "territoires du niveau plus cette ligne donnent exactement le chiffre France ; dans le rapport d'un organisme, "
     "son non réparti est son chiffre entier moins ses territoires. Cette ligne n'est pas un territoire (ni rang, ni "
     "graphique) ; les ratios et pourcentages n'en ont pas."),
    ("Territoire d'ancrage et « local »",
     "Le territoire d'ancrage d'un organisme est l'ensemble des EPCI où il a des logements ou des opérations (une "
     "commune qui n'appartient à aucun EPCI compte seule). Un achat est local si le fournisseur est établi dans ce "
     "territoire d'ancrage, un salaire si le salarié y réside, et cela à tous les niveaux, France et rapport d'un "
     "organisme compris : le fournisseur parisien d'un organisme toulousain n'est pas local. Pour plusieurs "
     "organismes, les montants locaux de chacun s'additionnent. De même, au niveau France, les chiffres rapportés "
     "à la population ou aux ménages (pour 1 000 habitants, par habitant) le sont à ceux du territoire d'ancrage de "
     "l'organisme, ou de la réunion des territoires d'ancrage pour plusieurs organismes, jamais à la population de "
     "la France."),
    ("Part forfaitaire",
     "La part forfaitaire d'un résultat (part_forfaitaire, de 0 à 100 %) est la part de sa valeur centrale calculée "
     "avec une moyenne nationale qui remplace une donnée locale absente (par exemple l'avantage de loyer national par "
     "logement, là où aucun loyer de marché n'est importé), et non avec les données des organismes ou des données "
     "publiques du territoire (loyers de marché, RPLS). Les paramètres qui ajustent une donnée locale (charges "
     "récupérables, correction des loyers de marché) ne rendent pas un chiffre forfaitaire. Un chiffre en partie "
     "forfaitaire est présenté comme une « estimation forfaitaire », avec l'import qui le remplacerait par des "
     "données locales : il ne mesure pas le territoire."),
    ("Statut des paramètres",
     "Chaque paramètre a une source et un statut : " + " ; ".join(f"« {k} » : {v}" for k, v in STATUSES.items())
     + ". Un paramètre « à vérifier » dit pourquoi il est provisoire et ce qui permettrait de trancher (remarque)."),
)


def render_method_note(ref: Referentiel, raw: dict[str, RawMeasure] | None = None) -> str:
    """The method note of a référentiel, in Markdown (French). `raw`: the raw measures with their
    origin (default: those the facts provide, `raw_measures()`)."""
    if raw is None:
        from acterr_cli.engine.measures import raw_measures  # the engine loads the référentiel: imported late

        raw = raw_measures()
    return "\n".join(_Note(ref, raw).lines()).rstrip("\n") + "\n"


class _Note:
    def __init__(self, ref: Referentiel, raw: dict[str, RawMeasure]):
        self.ref, self.raw = ref, raw
        self.used_by: dict[str, list[str]] = {name: [] for name in ref.parameters}
        self.net_only: set[tuple[str, str]] = set()  # (parameter, indicator): an additionality factor
        for ind in ref.indicators:
            for name in self.parameters_of(ind):
                self.used_by.setdefault(name, []).append(ind.code)
            for _, name in ind.additionnalite:  # for its net value only
                self.used_by.setdefault(name, []).append(ind.code)
                self.net_only.add((name, ind.code))

    # ─── the whole note ───

    def lines(self) -> Iterable[str]:
        ref = self.ref
        yield "# Note de méthode d'acterr"
        yield ""
        yield ("<!-- Produit par « make methode » à partir de acterr_cli/referentiel/catalogue.toml et parametres.toml : "
               "ne pas modifier à la main. -->")
        yield ""
        yield from self.header()
        yield from self.contents()
        yield '<a id="regles"></a>'
        yield ""
        yield "## Règles communes"
        yield ""
        for i, (title, text) in enumerate(RULES, 1):
            yield f"{i}. **{title}.** {_text(text)}"
        yield ""
        yield from self.attention()
        for axe, label in AXES.items():
            indicators = [i for i in ref.indicators if i.axe == axe]
            if not indicators:
                continue
            yield f'<a id="axe-{axe}"></a>'
            yield ""
            yield f"## {label}"
            yield ""
            yield f"Registre : {LEDGER_LABELS.get(indicators[0].registre, indicators[0].registre)}."
            yield ""
            for ind in indicators:
                yield from self.indicator(ind)
        yield from self.parameters()
        yield from self.derived_measures()

    def header(self) -> Iterable[str]:
        ref, meta = self.ref, self.ref.meta
        version = f"{meta.get('nom', 'Référentiel')}, version {ref.version}"
        version += f" du {_french_date(meta['date'])}" if meta.get("date") else ""
        version += f" ; paramètres : version {meta['version_parametres']}" if meta.get("version_parametres") else ""
        yield f"{version}. {len(ref.indicators)} indicateurs, {len(ref.parameters)} paramètres."
        yield ""
        for o in meta.get("surcharges") or []:
            yield (f"Avec le fichier de l'utilisateur {o['fichier']}" + (f" ({_text(o['description'])})" if o.get("description") else "")
                   + " : il modifie des paramètres ou ajoute des indicateurs du référentiel livré.")
            yield ""
        yield ("acterr calcule la valeur créée sur leur territoire par les organismes de logement social, à partir de ce "
               "qu'ils déclarent (questionnaire, liasse) et de données publiques (population et ménages de l'INSEE, parc "
               "social du RPLS, loyers de marché de la Carte des loyers). Chaque indicateur est une formule écrite dans le "
               "catalogue ; chaque chiffre qui n'est pas une donnée déclarée ou publique est un paramètre, avec trois "
               "valeurs (basse, centrale, haute), une source et un statut. Cette note est produite à partir de ces deux "
               "fichiers : elle dit exactement ce qui est calculé, avec quoi, et ce que chaque chiffre laisse de côté.")
        yield ""
        yield ("Pour chaque indicateur : ce qui est calculé, en mots ; la formule telle qu'elle est écrite (expression SQL "
               "sur les mesures, les paramètres et d'autres indicateurs, dont le code s'écrit avec « _ » : ECO_01) ; les "
               "données d'entrée et leur origine ; les paramètres, leurs valeurs et leurs sources ; la part forfaitaire ; "
               "les limites et biais connus ; les parties prenantes concernées.")
        yield ""

    def contents(self) -> Iterable[str]:
        yield "## Sommaire"
        yield ""
        yield "- [Règles communes](#regles)"
        yield "- [Points d'attention](#attention)"
        for axe, label in AXES.items():
            codes = [i.code for i in self.ref.indicators if i.axe == axe]
            if codes:
                yield f"- [{label}](#axe-{axe}) : " + ", ".join(f"[{c}](#{c})" for c in codes)
        yield "- [Paramètres](#parametres)"
        yield "- [Mesures dérivées](#mesures)"
        yield ""

    def attention(self) -> Iterable[str]:
        """What an auditor should look at first: provisional parameters, method choices, flat-rate
        figures, undocumented limits, unused parameters."""
        ref = self.ref
        yield '<a id="attention"></a>'
        yield ""
        yield "## Points d'attention"
        yield ""
        items = []
        provisional = [p for p in ref.parameters.values() if PROVISIONAL in p.statut]
        if provisional:
            items.append("Paramètres **à vérifier** (valeurs provisoires) : " + ", ".join(
                f"[`{p.nom}`](#p-{p.nom})" + self.users(p.nom) for p in provisional) + ".")
        unexplained = [p for p in provisional if not _remark(p)]
        if unexplained:
            items.append(f"{MARK} Paramètres à vérifier **sans remarque** disant pourquoi ni ce qui permettrait de trancher : "
                         + ", ".join(f"[`{p.nom}`](#p-{p.nom})" for p in unexplained) + ".")
        assumed = [p for p in ref.parameters.values() if "hypothèse" in p.statut]
        if assumed:
            items.append("Paramètres **hypothèses** (choix de méthode, pas des mesures) : " + ", ".join(
                f"[`{p.nom}`](#p-{p.nom})" + self.users(p.nom) for p in assumed) + ".")
        flat = [i for i in ref.indicators if i.formule_forfait]
        if flat:
            items.append("Indicateurs en partie **forfaitaires** (moyenne nationale à la place d'une donnée locale absente) : "
                         + ", ".join(f"[{i.code}](#{i.code})" for i in flat) + ".")
        inherited = [i for i in ref.indicators if not i.formule_forfait and self.flat_rate_inputs(i)]
        if inherited:
            items.append(f"{MARK} Indicateurs qui utilisent un indicateur forfaitaire sans déclarer eux-mêmes de part "
                         "forfaitaire : " + ", ".join(f"[{i.code}](#{i.code}) ({', '.join(self.flat_rate_inputs(i))})"
                                                      for i in inherited) + ".")
        undocumented = [i for i in ref.indicators if not i.limites.strip()]
        if undocumented:
            items.append("Indicateurs sans limites documentées : " + ", ".join(f"[{i.code}](#{i.code})" for i in undocumented) + ".")
        unused = [name for name, users in self.used_by.items() if not users and name in ref.parameters]
        if unused:
            items.append("Paramètres utilisés par aucun indicateur : " + ", ".join(f"[`{n}`](#p-{n})" for n in unused) + ".")
        yield from (f"- {item}" for item in items) if items else ["Aucun."]
        yield ""

    def users(self, name: str) -> str:
        users = self.used_by.get(name) or []
        return f" ({', '.join(users)})" if users else " (aucun indicateur)"

    # ─── one indicator ───

    def indicator(self, ind: Indicator) -> Iterable[str]:
        ref = self.ref
        yield f'<a id="{ind.code}"></a>'
        yield ""
        yield f"### {ind.code} — {_text(ind.libelle)}"
        yield ""
        facts = [f"Unité : {ind.unite}", f"registre : {LEDGER_LABELS.get(ind.registre, ind.registre)}"]
        if ind.etape:
            facts.append(f"étape : {STAGES.get(ind.etape, ind.etape)}")
        facts.append(f"niveau : {LEVELS.get(ind.niveau, ind.niveau)}")
        facts.append("s'additionne entre territoires (ligne « Non réparti » comprise)" if ind.additif
                     else "ne s'additionne pas entre territoires")
        if ind.somme_des_parties:
            facts.append("consolidé comme la somme de ses parties, chacune sur les organismes qui la fournissent")
        yield _text(" · ".join(facts)) + "."
        yield ""
        yield f"**Ce qui est calculé.** {_text(ind.description) if ind.description.strip() else 'non décrit dans le catalogue.'}"
        yield ""
        yield from self.formulas(ind)
        used = [ref.by_ident[n].code for n in sorted(self.dependencies(ind)) if n in ref.by_ident]
        if used:
            yield "**Indicateurs utilisés.** " + ", ".join(f"[{c}](#{c}) ({_text(ref.by_code[c].libelle)})" for c in used) + "."
            yield ""
        yield from self.inputs(ind)
        yield from self.indicator_parameters(ind)
        yield from self.flat_rate(ind)
        yield from self.additionality(ind)
        yield f"**Ce que le chiffre laisse de côté, biais connus.** {_text(ind.limites) if ind.limites.strip() else NO_LIMITS + '.'}"
        yield ""
        if ind.recoupe:  # figures that overlap this one: said, never added
            others = ", ".join(f"[{c}](#{c}) ({_text(ref.by_code[c].libelle)})" for c in ind.recoupe if c in ref.by_code)
            yield (f"**Recoupe** {others}" + (f" : {_text(ind.recoupe_motif)}" if ind.recoupe_motif else "")
                   + " ; ces chiffres ne s'additionnent pas.")
            yield ""
        if ind.sens:
            yield f"**Lecture.** {DIRECTIONS[ind.sens].capitalize()} (comparaison aux pairs)."
            yield ""
        if ind.note:
            when = f" (quand `{ind.note_si}`)" if ind.note_si else ""
            yield f"**Note affichée avec le résultat**{when} : {_text(ind.note)}."
            yield ""
        if ind.motif_si_nul:
            yield f"**Motif donné quand toutes les données sont là mais que la formule n'a pas de valeur** : {_text(ind.motif_si_nul)}."
            yield ""
        if ind.source:
            yield f"**Source de la méthode.** {_text(ind.source)}"
            yield ""
        parties = ", ".join(STAKEHOLDERS.get(p, p) for p in ind.parties_prenantes) or "non précisées"
        yield f"**Parties prenantes.** {parties}."
        yield ""

    def formulas(self, ind: Indicator) -> Iterable[str]:
        variants = [("Valeur basse", ind.formule_basse), ("Valeur haute", ind.formule_haute)]
        variants = [(label, f) for label, f in variants if f and f != ind.formule]
        if variants:
            yield "**Formule** (valeur centrale) :"
        elif self.parameters_of(ind):
            yield "**Formule** (la même pour les trois valeurs, avec les paramètres à leur valeur basse, centrale ou haute) :"
        else:
            yield "**Formule** :"
        yield ""
        yield from _code(ind.formule)
        for label, formula in variants:
            yield f"{label} :"
            yield ""
            yield from _code(formula)
        if ind.formule_repli:
            yield "Formule de repli, utilisée là où la formule principale n'est pas calculable (signalé avec le résultat) :"
            yield ""
            yield from _code(ind.formule_repli)

    def inputs(self, ind: Indicator) -> Iterable[str]:
        rows = self.input_rows(ind)
        yield "**Données d'entrée** (y compris celles des indicateurs utilisés) :" if rows else "**Données d'entrée.** aucune."
        yield ""
        if rows:
            yield "| Mesure | Ce que c'est | Origine |"
            yield "|---|---|---|"
            for name, label, origin in rows:
                yield f"| `{name}` | {_cell(label)} | {_cell(origin)} |"
            yield ""

    def indicator_parameters(self, ind: Indicator) -> Iterable[str]:
        names = self.parameters_of(ind)
        if not names:
            yield "**Paramètres.** aucun : le chiffre ne dépend d'aucune hypothèse chiffrée du référentiel."
            yield ""
            return
        yield "**Paramètres** (basse / **centrale** / haute) :"
        yield ""
        in_formulas = self.formula_parameters(ind)
        for name in names:
            p = self.ref.parameters[name]
            where = "" if name in in_formulas else (
                " ; appliqué par acterr au calcul des données d'entrée ("
                + ", ".join(f"`{m}`" for m in self.engine_inputs(ind, name)) + "), avant la formule")
            yield (f"- [`{p.nom}`](#p-{p.nom}) — {_text(p.libelle)} : {_values(p)} ; statut : {_status(p)} ; "
                   f"source : {_text(p.source) or 'non indiquée'}{where}")
        yield ""

    def additionality(self, ind: Indicator) -> Iterable[str]:
        if not ind.additionnalite:
            return
        yield ("**Valeur nette d'additionnalité** (valeur brute × Π (1 − facteur) ; basse / **centrale** / haute de chaque "
               "facteur) :")
        yield ""
        for factor, name in ind.additionnalite:
            p = self.ref.parameters[name]
            yield (f"- {_text(ADDITIONALITY.get(factor, factor))} : [`{p.nom}`](#p-{p.nom}) {_values(p)} ; statut : {_status(p)}")
        yield ""

    def flat_rate(self, ind: Indicator) -> Iterable[str]:
        if ind.formule_forfait:
            yield ("**Part forfaitaire.** Partie de la valeur centrale calculée avec une moyenne nationale à la place d'une "
                   "donnée locale absente (part forfaitaire = 100 × cette partie / valeur centrale) :")
            yield ""
            yield from _code(ind.formule_forfait)
            replaced = _text(ind.forfait_remplace_par).rstrip(".") if ind.forfait_remplace_par.strip() else "non indiqué dans le catalogue"
            yield f"Ce qui la remplace par des données locales : {replaced}."
        else:
            inherited = self.flat_rate_inputs(ind)
            if inherited:
                yield (f"**Part forfaitaire.** {MARK} aucune déclarée, mais l'indicateur utilise {', '.join(inherited)}, "
                       "dont une partie est forfaitaire.")
            else:
                yield ("**Part forfaitaire.** aucune (0 %) : aucune partie du chiffre ne remplace une donnée locale absente "
                       "par une moyenne nationale.")
        yield ""

    # ─── inputs, parameters and flat rates behind an indicator ───

    def dependencies(self, ind: Indicator) -> set[str]:
        """Names an indicator's formulas use, its fallback formula's included."""
        return set(self.ref.dependencies(ind)) | (set(_names(ind.formule_repli)) if ind.formule_repli else set())

    def measure_roots(self, ind: Indicator, seen: frozenset[str] = frozenset()) -> set[str]:
        """Measures (raw or derived) behind an indicator, through the indicators it uses."""
        result: set[str] = set()
        for name in self.dependencies(ind):
            used = self.ref.by_ident.get(name)
            if used is not None:
                result |= self.measure_roots(used, seen | {ind.code}) if used.code not in seen else set()
            elif name not in self.ref.parameters:
                result.add(name)
        return result

    def formula_parameters(self, ind: Indicator, seen: frozenset[str] = frozenset()) -> set[str]:
        """Parameters named by an indicator's formulas and by those of the indicators it uses."""
        result: set[str] = set()
        for name in self.dependencies(ind):
            used = self.ref.by_ident.get(name)
            if used is not None:
                result |= self.formula_parameters(used, seen | {ind.code}) if used.code not in seen else set()
            elif name in self.ref.parameters:
                result.add(name)
        return result

    def parameters_of(self, ind: Indicator) -> list[str]:
        """Parameters an indicator depends on: its formulas', its indicators' and those of the
        derived measures behind them."""
        names = self.formula_parameters(ind)
        for kind, key in self.input_keys(ind):
            if kind == "derived":
                names |= {n for n in _names(self.ref.measures[key].formule) if n in self.ref.parameters}
            else:
                names |= {p for p, measures in ENGINE_PARAMETERS.items() if p in self.ref.parameters and key in measures}
        return sorted(names)

    def engine_inputs(self, ind: Indicator, name: str) -> list[str]:
        """The inputs of an indicator an engine parameter enters."""
        return [str(key) for kind, key in self.input_keys(ind) if kind == "raw" and key in ENGINE_PARAMETERS.get(name, ())]

    def flat_rate_inputs(self, ind: Indicator, seen: frozenset[str] = frozenset()) -> list[str]:
        """Indicators with a flat-rate part that `ind` uses, directly or through others."""
        found: list[str] = []
        for name in sorted(self.dependencies(ind)):
            used = self.ref.by_ident.get(name)
            if used is None or used.code in seen:
                continue
            if used.formule_forfait:
                found.append(used.code)
            else:
                found += [c for c in self.flat_rate_inputs(used, seen | {ind.code}) if c not in found]
        return found

    def input_keys(self, ind: Indicator) -> list[tuple[str, object]]:
        """Inputs of an indicator, derived measures followed by what they are made of:
        ("derived", index in ref.measures) or ("raw", name)."""
        keys: list[tuple[str, object]] = []

        def add(name: str, before: int) -> None:
            index = self.derived_index(name, before)
            key = ("raw", name) if index is None else ("derived", index)
            if key in keys:
                return
            keys.append(key)
            if index is not None:
                for n in _names(self.ref.measures[index].formule):
                    if n not in self.ref.parameters:
                        add(n, index)

        for name in sorted(self.measure_roots(ind)):
            add(name, len(self.ref.measures))
        return keys

    def derived_index(self, name: str, before: int) -> int | None:
        """The derived measure a name means where it is used: the last one so named defined
        before `before` (a derived measure may keep the name of the raw one it completes)."""
        for i in range(min(before, len(self.ref.measures)) - 1, -1, -1):
            if self.ref.measures[i].nom == name:
                return i
        return None

    def input_rows(self, ind: Indicator) -> list[tuple[str, str, str]]:
        rows = []
        for kind, key in self.input_keys(ind):
            if kind == "derived":
                m = self.ref.measures[key]
                rows.append((m.nom, m.description or m.nom, f"calculée : `{m.formule}`"))
            else:
                r = self.raw.get(key)
                rows.append((key, r.libelle if r else "", r.origine if r else "mesure inconnue des données importées"))
        return rows

    # ─── parameters and derived measures ───

    def parameters(self) -> Iterable[str]:
        params = list(self.ref.parameters.values())
        yield '<a id="parametres"></a>'
        yield ""
        yield "## Paramètres"
        yield ""
        yield (f"Valeurs utilisées pour les trois scénarios. {MARK} : statut « à vérifier » (valeur provisoire) ou "
               "« hypothèse » (choix de méthode). Le détail de chaque paramètre suit le tableau.")
        yield ""
        yield "| Paramètre | Basse | Centrale | Haute | Unité | Année | Statut | Indicateurs |"
        yield "|---|---:|---:|---:|---|---|---|---|"
        for p in params:
            yield (f"| [`{p.nom}`](#p-{p.nom}) | {_number(p.basse)} | {_number(p.centrale)} | {_number(p.haute)} | {_cell(p.unite)} | "
                   f"{p.annee if p.annee is not None else ''} | {_cell(_status(p))} | {', '.join(self.used_by.get(p.nom) or []) or 'aucun'} |")
        yield ""
        for p in params:
            yield f'<a id="p-{p.nom}"></a>'
            yield ""
            yield f"### `{p.nom}` — {_text(p.libelle)}"
            yield ""
            yield f"- Valeurs : basse {_number(p.basse)} · centrale **{_number(p.centrale)}** · haute {_number(p.haute)} ({_text(p.unite)})"
            if p.annee is not None:
                yield f"- Année des données : {p.annee}"
            meaning = STATUSES.get(p.statut) or next((v for k, v in STATUSES.items() if p.statut.startswith(k)), "")
            yield f"- Statut : {_status(p)}" + (f" — {meaning}" if meaning else "")
            yield f"- Source : {_text(p.source) or 'non indiquée'}"
            remark = _remark(p)
            if remark:
                yield f"- Remarque : {_text(remark)}"
            elif PROVISIONAL in p.statut:
                yield f"- Remarque : {MARK} **aucune** — ni pourquoi la valeur est provisoire, ni ce qui permettrait de trancher."
            users = self.used_by.get(p.nom) or []
            yield "- Utilisé par : " + (", ".join(f"[{c}](#{c})" + (" (valeur nette)" if (p.nom, c) in self.net_only else "")
                                                  for c in users) if users else "aucun indicateur")
            yield ""

    def derived_measures(self) -> Iterable[str]:
        yield '<a id="mesures"></a>'
        yield ""
        yield "## Mesures dérivées"
        yield ""
        yield ("Calculées pour chaque organisme sur chaque territoire, avant consolidation : elles disent d'où vient une "
               "mesure quand plusieurs sources existent (COALESCE(a, b) : a, à défaut b).")
        yield ""
        if not self.ref.measures:
            yield "Aucune."
            yield ""
            return
        yield "| Mesure | Ce que c'est | Formule |"
        yield "|---|---|---|"
        for m in self.ref.measures:
            yield f"| `{m.nom}` | {_cell(m.description)} | `{m.formule}` |"
        yield ""


# ─── text helpers ───

def _remark(p: Parameter) -> str:
    return p.remarque.strip()


def _status(p: Parameter) -> str:
    return f"{MARK} {p.statut}" if any(s in p.statut for s in FLAGGED_STATUSES) else p.statut


def _values(p: Parameter) -> str:
    values = f"{_number(p.basse)} / **{_number(p.centrale)}** / {_number(p.haute)} {_text(p.unite)}".rstrip()
    return values + (f" ({p.annee})" if p.annee is not None else "")


MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre")


def _french_date(value: object) -> str:
    """2026-12-06 → 6 décembre 2026 (another text as it is)."""
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def _number(value: float | None) -> str:
    """A parameter's value as written in French, without trailing zeros: 6 400 ; 0,079 ; 16,2."""
    if value is None:
        return "—"
    text = f"{value:,.6f}".rstrip("0").rstrip(".")
    return text.replace(",", "\u202f").replace(".", ",")


def _text(text: str | None) -> str:
    """Plain text made safe for Markdown: no emphasis or HTML by accident."""
    text = " ".join(str(text or "").split())
    return text.replace("\\", "\\\\").replace("*", "\\*").replace("<", "&lt;")


def _cell(text: str | None) -> str:
    return _text(text).replace("|", "\\|")


def _code(formula: str) -> list[str]:
    return ["```sql", formula.strip(), "```", ""]


# ─── command line: make methode ───

def write_method_note(path: Path, ref: Referentiel | None = None) -> Path:
    """Write the note of `ref` (default: the shipped référentiel, validated) to `path`."""
    from acterr_cli.engine.measures import raw_measures

    raw = raw_measures()
    if ref is None:
        ref = load_referentiel()
        ref.validate(set(raw))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_method_note(ref, raw), encoding="utf-8", newline="\n")
    return path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage : python -m acterr_cli.referentiel.method_note FICHIER.md (ou « - » pour la sortie standard)", file=sys.stderr)
        return 2
    if args[0] == "-":
        from acterr_cli.engine.measures import raw_measures

        ref = load_referentiel()
        ref.validate(set(raw_measures()))
        sys.stdout.write(render_method_note(ref))
        return 0
    print(f"{write_method_note(Path(args[0]))} écrit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
