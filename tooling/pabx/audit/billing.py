"""Plans in force for billing: the plan (and its tariffs) each tenant had on main on each date.

The plan in force on a date is the one on main at the end of that date in the platform time
zone (the first-parent commit current then, by committer date): a tenant moved to another plan
on the 15th is billed at the old plan up to the 14th and at the new one from the 15th. Tenants
are named by their file's slug at that date, as the CDRs of that date name them (accountcode).
Read from git objects only; never a checkout.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path
from zoneinfo import ZoneInfo

import git
from pydantic import ValidationError

from pabx.audit import parts
from pabx.audit.clock import end_of, platform_timezone
from pabx.audit.gitlog import open_repo, prefix_of, resolve
from pabx.errors import UserError
from pabx.model import Plan

PlanFor = Callable[[str, dt.date], Plan | None]


class PlanHistory:
    """Which plan each tenant had on main at any date; commits and blobs read once each."""

    def __init__(self, root: Path, ref: str | None = None, *, timezone: ZoneInfo | None = None) -> None:
        self.root = root
        self.tz = timezone or platform_timezone(root)
        self._repo: git.Repo = open_repo(root)
        self._prefix = prefix_of(self._repo, root)
        self.ref, tip = resolve(self._repo, ref)
        self.tip = tip
        chain = self._repo.git.log("--first-parent", "--format=%H %ct", tip).split("\n")
        pairs = [line.split() for line in reversed(chain) if line.strip()]
        self._shas = [sha for sha, _ in pairs]
        self._times = [int(ts) for _, ts in pairs]
        # for "the latest commit of the chain not after T", times must not go backwards
        for i in range(1, len(self._times)):
            self._times[i] = max(self._times[i], self._times[i - 1])
        self._by_commit: dict[str, dict[str, Plan]] = {}
        self._plan_slug_of_blob: dict[str, str | None] = {}
        self._plan_of_blob: dict[str, Plan | None] = {}
        self.missing_days: set[dt.date] = set()

    def close(self) -> None:
        self._repo.close()

    def __enter__(self) -> PlanHistory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_current(self) -> bool:
        """The ref still points where it did (a branch read from its ref file: no git process)."""
        try:
            return self._repo.commit(self.ref).hexsha == self.tip
        except (git.BadName, ValueError):
            return False

    def commit_on(self, day: dt.date) -> str | None:
        """The first-parent commit of main current at the end of `day` (None: before history)."""
        moment = int(end_of(day, self.tz).timestamp())
        i = bisect.bisect_right(self._times, moment)
        return self._shas[i - 1] if i else None

    def plans_on(self, day: dt.date) -> dict[str, Plan]:
        """tenant slug -> the Plan in force on `day` (empty before the history this clone has)."""
        commit = self.commit_on(day)
        if commit is None:
            self.missing_days.add(day)
            return {}
        found = self._by_commit.get(commit)
        if found is None:
            found = self._plans_at(commit)
            self._by_commit[commit] = found
        return found

    def plan_for(self, tenant: str, day: dt.date) -> Plan | None:
        """The `PlanFor` of the CDR rating: the tenant's plan on main on that date."""
        return self.plans_on(day).get(tenant)

    def _folder(self, commit: str, folder: str) -> dict[str, str]:
        """{slug: blob id} of the .yaml files directly in `folder` at `commit`."""
        try:
            tree = self._repo.commit(commit).tree / f"{self._prefix}{folder}"
        except KeyError:
            return {}
        return {blob.name[: -len(".yaml")]: blob.hexsha for blob in tree.blobs if blob.name.endswith(".yaml")}

    def _plans_at(self, commit: str) -> dict[str, Plan]:
        plans: dict[str, Plan] = {}
        for slug, blob in self._folder(commit, "plans").items():
            plan = self._plan(blob)
            if plan is not None:
                plans[slug] = plan
        out: dict[str, Plan] = {}
        for slug, blob in self._folder(commit, "tenants").items():
            chosen = self._tenant_plan(blob)
            if chosen is not None and chosen in plans:
                out[slug] = plans[chosen]
        return out

    def _text(self, blob: str) -> str:
        return self._repo.odb.stream(bytes.fromhex(blob)).read().decode("utf-8", errors="replace")

    def _plan(self, blob: str) -> Plan | None:
        if blob not in self._plan_of_blob:
            try:
                data = parts.load(self._text(blob))
                self._plan_of_blob[blob] = Plan.model_validate(data)
            except (parts.Unreadable, ValidationError):
                self._plan_of_blob[blob] = None  # an invalid plan never reached main through CI
        return self._plan_of_blob[blob]

    def _tenant_plan(self, blob: str) -> str | None:
        """The `plan:` of a tenant file, parsing only that key when the file can be cut."""
        if blob in self._plan_slug_of_blob:
            return self._plan_slug_of_blob[blob]
        text = self._text(blob)
        value: object = None
        doc = parts.split(text)
        try:
            if doc is None or doc.shape != parts.MAP:
                raise parts.NotSplittable("parse whole")
            for part in doc.parts:
                if part.text.startswith("plan:"):
                    value = part.value[1]
        except parts.NotSplittable:
            try:
                data = parts.load(text)
                value = data.get("plan") if isinstance(data, dict) else None
            except parts.Unreadable:
                value = None
        slug = value if isinstance(value, str) else None
        self._plan_slug_of_blob[blob] = slug
        return slug


def plans_in_force(
    repo_root: Path, dates: Iterable[dt.date], *, ref: str | None = None
) -> dict[dt.date, dict[str, Plan]]:
    """{date: {tenant: Plan}}: the plan each tenant had on main on each date."""
    with PlanHistory(repo_root, ref) as plans:
        return {day: plans.plans_on(day) for day in sorted(set(dates))}


_SHARED: dict[tuple[Path, str | None], PlanHistory] = {}


def shared_history(root: Path, ref: str | None = None) -> PlanHistory:
    """One PlanHistory per repository and ref in a process, as long as the ref does not move:
    the report site builds one dataset per tenant, each asking the same dates."""
    key = (root.resolve(), ref)
    found = _SHARED.get(key)
    if found is not None and found.is_current():
        return found
    if found is not None:
        found.close()
    found = _SHARED[key] = PlanHistory(root, ref)
    return found


def plan_for_history(root: Path, current: PlanFor, *, ref: str | None = None) -> PlanFor:
    """A `PlanFor` that rates at the plan on main on the call's date, and at `current` (the work
    tree's plans) for a tenant or a date main does not know (not committed yet, before a shallow
    clone's history). Outside git, `current` itself."""
    try:
        history = shared_history(root, ref)
    except UserError:
        return current

    def plan_for(tenant: str, day: dt.date) -> Plan | None:
        found = history.plan_for(tenant, day)
        return found if found is not None else current(tenant, day)

    return plan_for
