"""Shipping releases to the servers: ansible-runner around tooling/ansible/, per-server results,
deploy records (git notes and each server's pabx-live.json), drift, registrations, rollback."""

from pabx.deploy.apply import ApplyOptions, ApplyResult, ServerOutcome, apply_repository, check_plan
from pabx.deploy.targets import Target, TargetKind, resolve_target

__all__ = [
    "ApplyOptions",
    "ApplyResult",
    "ServerOutcome",
    "Target",
    "TargetKind",
    "apply_repository",
    "check_plan",
    "resolve_target",
]
