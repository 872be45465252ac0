"""User rules: unique identities, managed tenants exist, every live tenant has a manager."""

from __future__ import annotations

from collections.abc import Iterator

from pabx.errors import Problem
from pabx.loader.layout import USERS_FILE
from pabx.loader.repo import Repository
from pabx.model import Status
from pabx.model.user import Role
from pabx.validate.registry import rule


@rule(
    "user-unique", "GitHub handles (case-insensitive) and e-mails of users in inventory/users.yaml are unique"
)
def user_unique(repo: Repository) -> Iterator[Problem]:
    if repo.users is None:
        return
    doc = repo.docs[USERS_FILE]
    handles: dict[str, int] = {}
    emails: dict[str, int] = {}
    for i, user in enumerate(repo.users.users):
        first = handles.setdefault(user.github.lower(), i)
        if first != i:
            yield doc.problem(
                ["users", i, "github"],
                f"@{user.github} is already the handle of {repo.users.users[first].name}",
                "user-unique",
            )
        first = emails.setdefault(user.email.lower(), i)
        if first != i:
            yield doc.problem(
                ["users", i, "email"],
                f"{user.email} is already the e-mail of {repo.users.users[first].name}",
                "user-unique",
            )


@rule("user-tenant", "a user's tenants exist; auditors manage none; a tenant_admin manages at least one")
def user_tenant(repo: Repository) -> Iterator[Problem]:
    if repo.users is None:
        return
    doc = repo.docs[USERS_FILE]
    for i, user in enumerate(repo.users.users):
        if user.role is Role.AUDITOR and user.tenants:
            yield doc.problem(
                ["users", i, "tenants"],
                "an auditor reads the history and approves nothing: remove its tenants",
                "user-tenant",
            )
        if user.role is Role.TENANT_ADMIN and not user.tenants:
            yield doc.problem(
                ["users", i, "role"],
                "a tenant_admin manages its own tenant: list it under tenants",
                "user-tenant",
            )
        seen: set[str] = set()
        for ti, slug in enumerate(user.tenants):
            if slug in seen:
                yield doc.problem(["users", i, "tenants", ti], f"{slug} is listed twice", "user-tenant")
            seen.add(slug)
            if slug not in repo.tenants and f"tenants/{slug}.yaml" not in repo.invalid:
                yield doc.problem(
                    ["users", i, "tenants", ti], f"tenant {slug!r} does not exist in tenants/", "user-tenant"
                )


@rule(
    "tenant-manager",
    "every tenant that is not removido is listed by a user (account_manager, tenant_admin or admin)",
)
def tenant_manager(repo: Repository) -> Iterator[Problem]:
    if repo.users is None:  # a repository without users.yaml has no review rules to check
        return
    managed = {slug for user in repo.users.users if user.role is not Role.AUDITOR for slug in user.tenants}
    for slug, tenant in sorted(repo.tenants.items()):
        if tenant.status is not Status.REMOVIDO and slug not in managed:
            yield Problem(
                f"tenants/{slug}.yaml",
                1,
                1,
                "",
                f"no user manages {slug}: add it to a user's tenants in {USERS_FILE} "
                f"(pabx user grant HANDLE {slug}), or its changes have no reviewer",
                "tenant-manager",
            )


@rule("user-admin", "inventory/users.yaml names at least one admin (platform files need one to approve)")
def user_admin(repo: Repository) -> Iterator[Problem]:
    if repo.users is not None and not repo.users.admins():
        yield repo.docs[USERS_FILE].problem(
            ["users"],
            "no user has role admin: inventory/, routes/, plans/ and numbers/ would have no reviewer",
            "user-admin",
        )
