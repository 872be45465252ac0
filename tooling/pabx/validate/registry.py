"""The rule registry: every cross-file rule has a stable id, a one-line summary and a check."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pabx.errors import Problem

Check = Callable[["Repository"], Iterable[Problem]]  # type: ignore[name-defined]  # noqa: F821


@dataclass(frozen=True)
class Rule:
    id: str
    summary: str
    check: Check


RULES: dict[str, Rule] = {}

# Rules raised by the loader itself (not registered checks), listed for documentation.
LOADER_RULES: dict[str, str] = {
    "yaml-syntax": "the file is valid UTF-8 YAML",
    "duplicate-key": "no key appears twice in one mapping",
    "schema": "every field has the right type and value (pydantic models)",
    "unknown-key": "no key the model does not know (typos are errors)",
    "unexpected-file": "data folders hold only .yaml files (warning)",
    "schema-header": "each data file starts with its yaml-language-server $schema line (warning)",
}


def rule(rule_id: str, summary: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        if rule_id in RULES:
            raise RuntimeError(f"rule {rule_id} registered twice")
        RULES[rule_id] = Rule(rule_id, summary, check)
        return check

    return register


def all_rule_docs() -> dict[str, str]:
    docs = dict(LOADER_RULES)
    docs.update({r.id: r.summary for r in RULES.values()})
    return dict(sorted(docs.items()))
