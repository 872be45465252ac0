"""Cross-file rules, each with a stable id; all problems are collected, never first-error-only."""

from __future__ import annotations

from pathlib import Path

from pabx.errors import Report
from pabx.loader.repo import Repository, load_repository, paused_gc
from pabx.validate import edge, fleet, identity, internal, numbers, references, secrets, users  # noqa: F401  (registers)
from pabx.validate.registry import RULES, all_rule_docs


def run_rules(repo: Repository, report: Report) -> None:
    with paused_gc():
        for registered in RULES.values():
            report.extend(registered.check(repo))


def validate_repository(root: Path, *, use_cache: bool = True) -> tuple[Repository, Report]:
    """Load every file and run every rule; the report holds all problems found."""
    report = Report()
    repo = load_repository(root, report, use_cache=use_cache)
    run_rules(repo, report)
    return repo, report


__all__ = ["RULES", "all_rule_docs", "run_rules", "validate_repository"]
