"""Platform users (`inventory/users.yaml`): who may review which files (becomes CODEOWNERS)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field

from pabx.model.common import Email, Slug, Strict, Text


class Role(StrEnum):
    """admin: the whole platform; account_manager: the clients of their portfolio;
    auditor: reads history, approves nothing; tenant_admin: one client's own staff."""

    ADMIN = "admin"
    ACCOUNT_MANAGER = "account_manager"
    AUDITOR = "auditor"
    TENANT_ADMIN = "tenant_admin"


ROLE_LABELS: dict[Role, str] = {
    Role.ADMIN: "Administrador",
    Role.ACCOUNT_MANAGER: "Gerente de contas",
    Role.AUDITOR: "Auditor",
    Role.TENANT_ADMIN: "Administrador do cliente",
}

GITHUB_HANDLE_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


def _github(value: str) -> str:
    handle = value.removeprefix("@")
    if not GITHUB_HANDLE_RE.match(handle):
        raise ValueError(
            f"{value!r} is not a GitHub handle: letters, digits and single hyphens, 1 to 39 characters"
        )
    return handle


GithubHandle = Annotated[str, AfterValidator(_github)]


class User(Strict):
    model_config = Strict.model_config | {"title": "Usuário"}

    name: Text = Field(title="Nome")
    email: Email = Field(title="E-mail", description="The e-mail of the user's git commits")
    github: GithubHandle = Field(title="Usuário no GitHub", description="Handle used in .github/CODEOWNERS")
    role: Role = Field(title="Perfil")
    tenants: list[Slug] = Field(
        default_factory=list,
        title="Clientes",
        description="Tenants this user manages (account_manager, tenant_admin; an admin may list its own)",
    )

    def manages(self, tenant: str) -> bool:
        return tenant in self.tenants


class Users(Strict):
    model_config = Strict.model_config | {"title": "Usuários"}

    users: list[User] = Field(default_factory=list, title="Usuários")

    def by_handle(self, handle: str) -> User | None:
        wanted = handle.removeprefix("@").lower()
        return next((u for u in self.users if u.github.lower() == wanted), None)

    def admins(self) -> list[User]:
        return [u for u in self.users if u.role is Role.ADMIN]

    def managers_of(self, tenant: str) -> list[User]:
        """Users who list `tenant` and may approve changes to it (auditors never do)."""
        return [u for u in self.users if u.role is not Role.AUDITOR and tenant in u.tenants]
