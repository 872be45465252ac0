"""Plans: what a change to the repository does, by meaning and per server, before it is applied.

`compute_plan(repo_root, base)` compares the working tree with a git revision (or with what is
deployed, from the deploy records), renders both sides masked, and returns a `Plan`: gates first,
semantic changes, per-server file diffs with the targeted reloads, and a checksum that `apply`
checks against the plan that was reviewed.
"""

from pabx.plan.compute import DEPLOYED, compute_plan
from pabx.plan.model import Action, Change, FieldChange, FileChange, Gate, Plan, ServerPlan

__all__ = [
    "DEPLOYED",
    "Action",
    "Change",
    "FieldChange",
    "FileChange",
    "Gate",
    "Plan",
    "ServerPlan",
    "compute_plan",
]
