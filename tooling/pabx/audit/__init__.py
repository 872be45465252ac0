"""The audit trail from git history: field-level history, point-in-time questions, the period
report, and the plans in force for billing.

- `history.history(root, Selector(kind="number", key="1130010000"))`: typed events, renames and
  moves followed;
- `pointintime.point_in_time(root, when, number=... | tenant=...)`: the record as of main then,
  and what each server ran (deploy records);
- `report.audit_report(root, since, until)`: every change of a period, as spreadsheet rows;
- `billing.plans_in_force(root, dates)` / `billing.PlanHistory`: the plan each tenant had on main
  on each date (the CDR rating's `plan_for`);
- `index.AuditIndex`: the SQLite index in the state dir that makes all of it fast, brought up to
  date with new commits on every use. Nothing here writes to git.
"""
