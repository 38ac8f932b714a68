"""The validation rules, each declared once: its code (`Problem.regle`, in the import's JSON
report and the error workbook), its severity, what it checks, how to fix it (the « Comment
corriger » column of `--rapport-erreurs`) and, for the rules checked cell by cell, its message.

Readers refer to these constants, never to a bare code. The README's list of rules is written
from this table (`python -m acterr_cli.inputs.rules`, checked by tests/test_rules.py).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from acterr_cli.errors import AVERTISSEMENT, ERREUR

INFORMATION = "information"


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str  # the usual severity
    title: str  # what the rule checks, French
    fix: str  # « Comment corriger », French
    message: str = ""  # French message template (str.format fields), for the rules checked cell by cell
    other_severity: str | None = None  # the severity it takes where said (`when`)
    when: str = ""  # French: where the other severity applies
    messages: dict[str, str] = field(default_factory=dict)  # further templates, by variant

    def text(self, variant: str = "", **fields) -> str:
        """The message, from the template (`variant`: one of `messages`)."""
        return (self.messages[variant] if variant else self.message).format(**fields)

    @property
    def severities(self) -> tuple[str, ...]:
        return (self.severity,) if self.other_severity is None else (self.severity, self.other_severity)


CATALOGUE: dict[str, Rule] = {}


def _rule(code: str, severity: str, title: str, fix: str, **more) -> Rule:
    rule = Rule(code, severity, title, fix, **more)
    assert code not in CATALOGUE, code
    CATALOGUE[code] = rule
    return rule


def of(code: str) -> Rule | None:
    return CATALOGUE.get(code)


# ─── files ───
LECTURE = _rule("lecture", ERREUR, "Le fichier ne peut pas être lu (format, chiffrement, fichier abîmé).",
                "Enregistrez le fichier de nouveau depuis le tableur (xlsx, ods ou csv UTF-8) et renvoyez-le.")
TAILLE = _rule("taille", ERREUR, "Le fichier, une feuille ou une cellule dépasse les limites admises.",
               "Retirez les lignes ou les cellules inutiles (copies, colonnes vides remplies) ou découpez le fichier.")
VIDE = _rule("vide", ERREUR, "Le fichier ne contient aucune donnée à importer.",
             "Vérifiez qu'il s'agit du bon fichier et que ses lignes de données sont remplies.",
             message="aucune donnée à importer.")
INTERNE = _rule("interne", ERREUR, "Une erreur interne d'acterr en lisant le fichier (un bogue, pas une faute du fichier).",
                "Signalez-la avec le fichier ; les autres fichiers du lot sont importés.")
DEPOT = _rule("depot", ERREUR, "Exécution planifiée : un fichier déposé n'est pas lu (lien symbolique, dossier, nom refusé).",
              "Déposez le fichier lui-même, directement dans le dossier surveillé.")
DOUBLON = _rule("doublon", ERREUR, "Le même organisme et le même exercice viennent de deux fichiers ou de deux lignes.",
                "Gardez un seul fichier (ou une seule ligne) par organisme et par exercice.")
EXERCICE = _rule("exercice", ERREUR, "Le fichier porte sur un autre exercice que celui demandé (--exercice).",
                 "Vérifiez la cellule de l'exercice ou le fichier envoyé ; les lignes d'une liasse d'un autre exercice "
                 "sont écartées.", other_severity=AVERTISSEMENT, when="lignes d'une liasse",
                 message="ce classeur porte sur l'exercice {exercice}, alors que l'import demande l'exercice {demande} "
                         "(--exercice {demande}) : vérifiez la cellule « {colonne} » ou le fichier envoyé.")
CORRESPONDANCE = _rule("correspondance", ERREUR, "Des colonnes nommées par le fichier de correspondance manquent.",
                       "Corrigez les noms de colonnes dans le fichier de correspondance (TOML) ou dans la liasse.",
                       other_severity=AVERTISSEMENT, when="colonnes facultatives")
# ─── sheets and tables ───
FEUILLE = _rule("feuille", ERREUR, "La feuille « Organisme » est introuvable : ce n'est pas un questionnaire acterr.",
                "Partez du questionnaire vierge (acterr modele questionnaire) sans renommer ses feuilles.",
                message="feuille « Organisme » introuvable : ce classeur n'est pas un questionnaire acterr.")
FEUILLE_INCONNUE = _rule("feuille_inconnue", AVERTISSEMENT, "Une feuille du classeur n'est pas une feuille du questionnaire : "
                         "elle n'est pas lue.", "Rendez à la feuille son nom d'origine, ou supprimez-la si elle est inutile.",
                         message="feuille « {feuille} » non reconnue, elle n'est pas lue ; {indice}.")
FEUILLE_ABSENTE = _rule("feuille_absente", ERREUR, "Un questionnaire qui en remplace un autre n'a plus une de ses feuilles.",
                        "Rétablissez la feuille, ou confirmez son retrait avec --feuilles-retirees.")
FEUILLE_VIDEE = _rule("feuille_videe", AVERTISSEMENT, "Une feuille est vide : les données importées avant pour elle sont retirées.",
                      "Rien à faire si c'est voulu ; sinon remplissez la feuille et importez de nouveau.",
                      message="feuille « {feuille} » sans ligne de données : celles déjà importées pour {siren}, exercice "
                              "{exercice} (fichier « {fichier} ») sont retirées.")
ENTETES = _rule("entetes", ERREUR, "La ligne d'en-têtes d'une feuille ou d'une liasse est introuvable.",
                "Rétablissez les en-têtes du modèle (ou donnez un fichier de correspondance pour une liasse).",
                message="ligne d'en-têtes introuvable (attendu : {attendu}…).")
COLONNE = _rule("colonne", ERREUR, "Une colonne attendue manque, ou un en-tête n'est pas reconnu ou est en double.",
                "Rétablissez l'en-tête exact du modèle ; supprimez les colonnes en double.",
                other_severity=AVERTISSEMENT, when="en-tête non reconnu ou en double",
                message="colonne « {colonne} » introuvable sur la ligne d'en-têtes (ligne {ligne}).",
                messages={"sans_total": "colonne « {colonne} » présente sans la colonne « {total} ».",
                          "double": "colonne « {colonne} » en double : seule la première est lue, les valeurs de celle-ci "
                                    "sont ignorées.",
                          "proche": "colonne « {colonne} » non reconnue : ses valeurs ne sont pas lues ; est-ce la colonne "
                                    "attendue « {attendue} » ? Si oui, rétablissez son en-tête."})
HYPOTHESE = _rule("hypothese", AVERTISSEMENT, "Une colonne facultative est absente ou vide : une hypothèse est appliquée.",
                  "Remplissez la colonne si la donnée est connue ; sinon l'hypothèse dite dans le message s'applique.",
                  message="colonne « {colonne} » absente : {hypothese}.",
                  messages={"vide": "« {colonne} » vide ({combien}, la première en {cellule}) : {hypothese}."})
SOUS_TOTAL = _rule("sous_total", AVERTISSEMENT, "Des lignes sous la ligne Total ne sont pas lues.",
                   "Placez les données au-dessus de la ligne Total.",
                   message="{lignes} ligne(s) sous la ligne Total (ligne {ligne_total}) ignorée(s) : elles ne sont pas lues "
                           "comme des données.")
LIGNE_MASQUEE = _rule("ligne_masquee", AVERTISSEMENT, "Des lignes masquées sont lues comme les autres.",
                      "Supprimez les lignes masquées qui ne doivent pas compter.",
                      message="{lignes} ligne(s) de données masquée(s) dans le classeur (n° {numeros}) : elles sont lues comme "
                              "les autres ; supprimez-les si elles ne doivent pas compter.")
TOTAL = _rule("total", AVERTISSEMENT, "La ligne Total ne correspond pas à la somme des lignes : elle est ignorée.",
              "Vérifiez les nombres saisis comme du texte (alignés à gauche) et la formule de la ligne Total.",
              message="la ligne Total ({ecrit}) ne correspond pas à la somme des lignes ({calcule}) ; la ligne Total est "
                      "ignorée (une formule SOMME ne compte pas les nombres saisis comme du texte).")
UNITE = _rule("unite", AVERTISSEMENT, "Une colonne est exprimée en k€ ou M€ : ses montants sont convertis en euros.",
              "Rien à faire si l'unité de l'en-tête est la bonne.")
LIGNE_IGNOREE = _rule("ligne_ignoree", AVERTISSEMENT, "Une ligne en erreur n'est pas importée (--ignorer-erreurs).",
                      "Corrigez les erreurs de la ligne et importez de nouveau le fichier.",
                      message="ligne {ligne} non importée (--ignorer-erreurs) : {erreurs} erreur(s) sur cette ligne.")
# ─── cells ───
OBLIGATOIRE = _rule("obligatoire", ERREUR, "Une valeur obligatoire manque.", "Remplissez la cellule.",
                    message="« {colonne} » est obligatoire.",
                    messages={"ligne": "ligne « {colonne} » introuvable dans la feuille Organisme.",
                              "fournisseur": "commune du fournisseur manquante : indiquez son code commune, ou son SIRET (la "
                                             "commune sera retrouvée dans SIRENE, voir acterr import --type sirene)."})
NOMBRE = _rule("nombre", ERREUR, "Un nombre est attendu.", "Saisissez un nombre (chiffres, virgule décimale), sans texte.",
               message="nombre attendu dans « {colonne} ».")
ENTIER = _rule("entier", ERREUR, "Un nombre entier est attendu.", "Saisissez un nombre sans décimale.",
               message="nombre entier attendu dans « {colonne} ».")
POURCENTAGE_INATTENDU = _rule("pourcentage_inattendu", ERREUR, "Un pourcentage est saisi là où un nombre est attendu.",
                              "Écrivez le nombre lui-même, pas une part.",
                              message="« {colonne} » attend un nombre, pas un pourcentage : écrivez le nombre lui-même.")
SEPARATEUR = _rule("separateur", AVERTISSEMENT, "Un nombre ambigu : un point est lu comme une virgule décimale.",
                   "Écrivez les milliers sans point (1234567 ou 1 234 567).",
                   message="nombre ambigu : le point est lu comme une virgule décimale ; si c'est un séparateur de milliers, "
                           "écrivez le nombre sans point.")
POSITIF = _rule("positif", ERREUR, "Un nombre négatif là où il ne peut pas l'être.", "Saisissez la valeur positive.",
                other_severity=AVERTISSEMENT, when="montants",
                message="« {colonne} » ne peut pas être négatif.",
                messages={"montant": "montant négatif dans « {colonne} » : vérifiez qu'il ne s'agit pas d'une erreur de signe."})
POURCENTAGE = _rule("pourcentage", ERREUR, "Un pourcentage hors de 0 à 100.", "Saisissez une valeur entre 0 et 100 (82 pour 82 %).",
                    message="« {colonne} » doit être compris entre 0 et 100.")
ANNEE = _rule("annee", ERREUR, "Une année invraisemblable.", "Saisissez l'année sur quatre chiffres (ex. 2025).",
              message="« {colonne} » : année attendue (ex. 2025).")
LISTE = _rule("liste", ERREUR, "Une valeur hors de la liste des valeurs admises.", "Choisissez une des valeurs de la liste déroulante.",
              message="valeur inconnue dans « {colonne} » ; valeurs admises : {admises}.")
OUI_NON = _rule("oui_non", ERREUR, "« oui » ou « non » est attendu.", "Saisissez oui ou non.",
                message="« oui » ou « non » attendu dans « {colonne} ».")
SIREN = _rule("siren", ERREUR, "Un SIREN invalide.", "Saisissez les 9 chiffres du SIREN (voir annuaire-entreprises.data.gouv.fr).",
              message="SIREN invalide : 9 chiffres avec une clé de contrôle (Luhn) correcte attendus.")
SIRET = _rule("siret", AVERTISSEMENT, "Un SIRET douteux.", "Vérifiez les 14 chiffres du SIRET.",
              message="SIRET douteux : 14 chiffres avec une clé de contrôle correcte attendus.")
QPV = _rule("qpv", AVERTISSEMENT, "Un code QPV de format inattendu.", "Saisissez le code du quartier (ex. QN07511M).",
            message="code QPV inattendu (format QN07511M ou QP066007).")
COMMUNE = _rule("commune", ERREUR, "Un code commune inconnu, ou un nom à la place du code.",
                "Saisissez le code INSEE de la commune (5 caractères, ex. 31555 ; pas le code postal).",
                other_severity=AVERTISSEMENT, when="données publiques (RPLS)",
                message="code commune inconnu dans « {colonne} » (code INSEE à 5 caractères attendu, ex. 31555).{indice}",
                messages={"nom": "« {colonne} » attend un code INSEE (ex. 31555), pas un nom de commune{indice}"})
COMMUNE_NOM = _rule("commune_nom", AVERTISSEMENT, "Un nom de commune est compris comme un code INSEE.",
                    "Saisissez plutôt le code INSEE indiqué.",
                    message="nom de commune compris comme {code} ({nom}, département {departement}) ; saisissez plutôt le code INSEE.")
ERREUR_EXCEL = _rule("erreur_excel", ERREUR, "Une cellule affiche une erreur Excel, ou une formule sans valeur calculée.",
                     "Corrigez la formule ou saisissez la valeur ; un classeur produit par un programme : ouvrez-le et "
                     "enregistrez-le dans un tableur.",
                     message="la cellule affiche l'erreur Excel {erreur} : corrigez la formule ou saisissez la valeur.",
                     messages={"sans_valeur": "formule enregistrée sans sa valeur calculée (classeur produit par un programme et "
                                              "jamais ouvert dans un tableur) : ouvrez-le dans Excel ou LibreOffice, "
                                              "enregistrez-le, puis recommencez."})
# ─── consistency ───
PARTIE_TOTAL = _rule("partie_total", ERREUR, "Une partie (« dont ») dépasse son total sur la même ligne.",
                     "Corrigez la partie ou le total.",
                     message="« {partie} » ({valeur}) dépasse « {total} » ({valeur_total}) sur la même ligne : une partie ne "
                             "peut pas dépasser son total.")
DPE_TOTAL = _rule("dpe_total", ERREUR, "Les étiquettes DPE ne correspondent pas au nombre de logements.",
                  "Répartissez les logements entre les étiquettes, « DPE inconnu » compris.",
                  other_severity=AVERTISSEMENT, when="étiquettes en moins",
                  message="les étiquettes DPE (A à G et inconnu) totalisent {etiquettes} logements pour {logements} logements "
                          "sur la ligne : il y a plus d'étiquettes que de logements.",
                  messages={"moins": "les étiquettes DPE (A à G et inconnu) totalisent {etiquettes} logements pour {logements} "
                                     "logements sur la ligne : complétez « DPE inconnu » pour les logements sans étiquette connue."})
CONSOMMATION = _rule("consommation", AVERTISSEMENT, "La consommation après travaux dépasse celle d'avant.",
                     "Vérifiez les deux colonnes de consommation.",
                     message="la consommation après travaux dépasse la consommation avant travaux : vérifiez les deux colonnes.")
LIASSE_QUESTIONNAIRE = _rule("liasse_questionnaire", AVERTISSEMENT, "La liasse et le questionnaire diffèrent de plus de 1 % "
                             "sur un même chiffre (la liasse est retenue).", "Demandez à l'organisme laquelle des deux valeurs est juste.",
                             message="{libelle} : la liasse donne {liasse}, le questionnaire {questionnaire}{ecart}, écart de plus "
                                     "de 1 % avec {source} ({autre}) ; la liasse sera retenue dans les calculs.")
# ─── public data ───
COUVERTURE = _rule("couverture", AVERTISSEMENT, "Un fichier RPLS ne couvre pas tous les départements.",
                   "Importez le fichier national si les territoires à cheval doivent être calculés.")
CODE = _rule("code", AVERTISSEMENT, "Une valeur codée du RPLS n'est pas reconnue.", "Vérifiez la version du fichier RPLS.")
LOYER = _rule("loyer", AVERTISSEMENT, "Des lignes de la carte des loyers sans commune reconnue ou sans loyer sont ignorées.",
              "Vérifiez le fichier de l'ANIL (millésime, colonnes).",
              message="{lignes} ligne(s) sans commune reconnue ou sans loyer prédit ont été ignorées : {exemples}.")
SIRENE = _rule("sirene", AVERTISSEMENT, "Des SIRET des achats restent sans commune dans le fichier SIRENE.",
               "Saisissez la commune du fournisseur dans la feuille Achats pour les SIRET non trouvés.",
               other_severity=INFORMATION, when="tous retrouvés",
               message="{trouves} SIRET retrouvé(s) sur {cherches} recherché(s) ; {manquants} restent sans commune de fournisseur.")


def readme_table() -> str:
    """The README's list of rules (Markdown), from the catalogue."""
    lines = ["| Règle | Gravité | Ce qu'elle signale | Comment corriger |", "|---|---|---|---|"]
    for rule in CATALOGUE.values():
        severity = rule.severity + (f" ({rule.other_severity} : {rule.when})" if rule.other_severity else "")
        lines.append(f"| `{rule.code}` | {severity} | {rule.title} | {rule.fix} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m acterr_cli.inputs.rules README.md: rewrite the list between its markers
    from acterr_cli.common.docs import replace_between

    replace_between(sys.argv[1], "regles", readme_table())
