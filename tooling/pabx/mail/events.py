"""Tenant e-mails an apply brings: Boas-vindas and Nova senha de acesso (the panel address).

After an apply, for each tenant change of the plan whose tenant is live on its server:
- **welcome** when the tenant is new, or its status becomes ativo/pendente from removido or
  inativo. The idempotency key is `welcome:<slug>:<event revision>`, the event revision being the
  commit where the tenant's current ativo/pendente episode began (read from the git history of
  its file): the same event gives the same key whatever the apply's base and however often the
  apply runs, and a tenant that was already welcomed in this episode (created pendente, later
  ativo; or suspended and back) is not welcomed again. A tenant removed and created again later
  starts a new episode and is welcomed again.
- **new access address** when `access_rotation` changed (`pabx tenant reset-access`) and no
  welcome goes out: key `redefinicao:<slug>:<rotation>`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git
import yaml

from pabx.loader import Repository
from pabx.mail import compose
from pabx.mail.model import Draft, Kind, PanelLink
from pabx.mail.outbox import Outbox
from pabx.model import Status, Tenant
from pabx.plan import Plan

ACTIVE = (Status.ATIVO.value, Status.PENDENTE.value)
GONE = (None, Status.REMOVIDO.value)


@dataclass(frozen=True)
class Queued:
    """One tenant e-mail considered by an apply: its id when queued now, None when already there."""

    key: str
    kind: Kind
    tenant: str
    recipient: str
    id: int | None

    def line(self) -> str:
        what = "boas-vindas" if self.kind is Kind.WELCOME else "nova senha de acesso"
        if self.id is None:
            return f"e-mail {what} de {self.tenant} para {self.recipient}: já está no registro ({self.key})"
        return f"e-mail {what} de {self.tenant} para {self.recipient}: na fila (#{self.id})"


def sender_of(repo: Repository) -> str:
    platform = repo.platform
    name = platform.name if platform else "PABX"
    if platform and platform.smtp:
        address = str(platform.smtp.sender)
    elif platform:
        address = f"nao-responda@{platform.domain}"
    else:
        address = "nao-responda@pabx.invalid"
    return compose.sender_address(name, address)


def common_context(repo: Repository) -> dict[str, Any]:
    platform = repo.platform
    return {
        "platform_name": platform.name if platform else "PABX",
        "support_email": str(platform.support_email) if platform and platform.support_email else None,
        "portal_url": platform.portal_url if platform else "",
    }


def _tenant_context(repo: Repository, slug: str, tenant: Tenant) -> dict[str, Any]:
    plan = repo.plans.get(tenant.plan)
    return {
        **common_context(repo),
        "slug": slug,
        "tenant_name": tenant.name,
        "contact": tenant.contact,
        "service_code": tenant.service_code,
        "plan_name": plan.name if plan else tenant.plan,
        "pending": tenant.status is Status.PENDENTE,
    }


def welcome_draft(repo: Repository, env: Any, slug: str, event_revision: str) -> Draft:
    tenant = repo.tenants[slug]
    shown = compose.render_redacted(env, "boas-vindas", _tenant_context(repo, slug, tenant))
    return _tenant_draft(repo, f"welcome:{slug}:{event_revision}", Kind.WELCOME, slug, tenant, shown)


def access_reset_draft(repo: Repository, env: Any, slug: str) -> Draft:
    tenant = repo.tenants[slug]
    shown = compose.render_redacted(env, "redefinicao", _tenant_context(repo, slug, tenant))
    key = f"redefinicao:{slug}:{tenant.access_rotation}"
    return _tenant_draft(repo, key, Kind.ACCESS_RESET, slug, tenant, shown)


def _tenant_draft(
    repo: Repository, key: str, kind: Kind, slug: str, tenant: Tenant, shown: compose.Rendered
) -> Draft:
    platform = repo.platform
    return Draft(
        key=key,
        kind=kind,
        sender=sender_of(repo),
        recipient=str(tenant.email),
        subject=shown.subject,
        body_text=shown.text,
        body_html=shown.html,
        tenant=slug,
        link=PanelLink(slug, tenant.access_rotation),
        reply_to=str(platform.support_email) if platform and platform.support_email else None,
    )


def tenant_mail_drafts(
    repo: Repository, plan: Plan, live_servers: Iterable[str], fallback_revision: str
) -> list[Draft]:
    """The welcome and new-access drafts for the tenant changes of `plan` (see the docstring)."""
    live = set(live_servers)
    env = compose.environment(repo.root)
    drafts: list[Draft] = []
    for change in plan.changes:
        if change.kind != "tenant":
            continue
        slug = change.id.partition(":")[2]
        tenant = repo.tenants.get(slug)
        if tenant is None or tenant.status.value not in ACTIVE or tenant.server not in live:
            continue
        fields = {f.field: f for f in change.fields}
        status = fields.get("status")
        welcome = change.event == "created" or (
            status is not None and status.old in (*GONE, Status.INATIVO.value)
        )
        if welcome:
            drafts.append(welcome_draft(repo, env, slug, event_revision(repo.root, slug, fallback_revision)))
        elif "access_rotation" in fields:
            drafts.append(access_reset_draft(repo, env, slug))
    return drafts


def queue_drafts(outbox: Outbox, drafts: Iterable[Draft]) -> list[Queued]:
    chosen = list(drafts)
    idents = outbox.enqueue_many(chosen)
    return [
        Queued(d.key, d.kind, d.tenant or "", d.recipient, i) for d, i in zip(chosen, idents, strict=True)
    ]


def queue_apply_mails(
    repo: Repository, plan: Plan, live_servers: Iterable[str], revision: str
) -> list[Queued]:
    """The apply's hook: queue the tenant e-mails of `plan` (sending is `pabx mail send`)."""
    drafts = tenant_mail_drafts(repo, plan, live_servers, revision)
    if not drafts:
        return []
    with Outbox.for_repo(repo.root) as outbox:
        return queue_drafts(outbox, drafts)


# -- the event revision, from git -------------------------------------------------------------


def event_revision(root: Path, slug: str, fallback: str) -> str:
    """The commit where the tenant's current ativo/pendente episode began (see the docstring).

    `fallback` (the apply's revision) names an episode that began in uncommitted changes, or
    in a repository outside git.
    """
    try:
        repo = git.Repo(root, search_parent_directories=True)
        workdir = Path(str(repo.working_tree_dir)).resolve()
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return fallback
    path = root.resolve() / "tenants" / f"{slug}.yaml"
    rel = path.relative_to(workdir).as_posix()
    try:
        commits = list(repo.iter_commits("HEAD", paths=rel))
    except (ValueError, git.GitCommandError):  # no commit yet
        commits = []
    start: str | None = None
    head_bytes: bytes | None = None
    for index, commit in enumerate(reversed(commits)):
        data = _blob(commit, rel)
        start = _step(start, _status(data), commit.hexsha)
        if index == len(commits) - 1:
            head_bytes = data
    current = path.read_bytes() if path.exists() else None
    if current != head_bytes:  # uncommitted: the working tree is one more step
        start = _step(start, _status(current), fallback)
    return start or fallback


def _step(start: str | None, status: str | None, revision: str) -> str | None:
    if status in GONE:
        return None
    if status in ACTIVE and start is None:
        return revision
    return start


def _blob(commit: git.Commit, rel: str) -> bytes | None:
    try:
        return bytes(commit.tree[rel].data_stream.read())
    except KeyError:
        return None


def _status(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        doc = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return "?"  # unreadable at that commit: neither ends nor begins an episode
    status = doc.get("status") if isinstance(doc, dict) else None
    return str(status) if status is not None else None
