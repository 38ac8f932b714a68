"""The rule catalogue (inputs/rules.py): every rule a reader reports is declared there once, and
the README's list of rules is the catalogue's."""

from __future__ import annotations

import ast
from pathlib import Path

from acterr_cli.common.docs import between
from acterr_cli.inputs import rules

ROOT = Path(__file__).resolve().parent.parent


def _rule_arguments(tree: ast.AST):
    """The values given as a rule: `regle=` of a Problem, the rule argument of ParseContext.add,
    _Check, report_rows, report_overflow, drop_reports_at and excel._located."""
    positions = {"add": 3, "_Check": 0, "report_rows": 4, "report_overflow": 3, "drop_reports_at": 1, "_located": 4}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for keyword in node.keywords:
            if keyword.arg in ("regle", "rule", "keep_rule"):
                yield node.lineno, keyword.value
        if name in positions and len(node.args) > positions[name]:
            yield node.lineno, node.args[positions[name]]


def test_no_rule_is_a_bare_string():
    bare = []
    for path in sorted((ROOT / "acterr_cli").rglob("*.py")):
        for line, value in _rule_arguments(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                bare.append(f"{path.relative_to(ROOT)}:{line} « {value.value} »")
    assert not bare, "declare the rule in inputs/rules.py and refer to it:\n" + "\n".join(bare)


def test_every_rule_is_complete_and_used():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "acterr_cli").rglob("*.py") if p.name != "rules.py")
    for name, value in vars(rules).items():
        if isinstance(value, rules.Rule):
            assert value.title and value.fix and value.severity in ("erreur", "avertissement"), name
            assert f"rules.{name}" in source, f"rule {name} is used nowhere"
            for template in (value.message, *value.messages.values()):
                assert template.strip() == template and ("{" not in template or "}" in template), name


def test_a_message_is_made_from_its_template():
    assert rules.ENTIER.text(colonne="Logements") == "nombre entier attendu dans « Logements »."
    assert rules.POSITIF.severities == ("erreur", "avertissement")


def test_the_readme_lists_the_catalogue():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert between(readme, "regles") == rules.readme_table(), "run `make docs` to rewrite the README's list of rules"
