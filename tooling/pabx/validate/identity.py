"""Identity rules: unique IDs and service codes, file names as slugs, CPF/CNPJ."""

from __future__ import annotations

from collections.abc import Iterator

from pabx.brazil.documents import DocumentKind, document_kind, is_valid_cnpj, is_valid_cpf
from pabx.errors import Problem
from pabx.loader.layout import Kind
from pabx.loader.repo import Repository
from pabx.model.common import SLUG_RE
from pabx.model.tenant import PersonType
from pabx.validate.registry import rule


@rule("tenant-id-unique", "tenant IDs are unique across the platform (and never reused)")
def tenant_id_unique(repo: Repository) -> Iterator[Problem]:
    seen: dict[int, str] = {}
    for slug, tenant in sorted(repo.tenants.items()):
        if tenant.id in seen:
            yield repo.doc_of(Kind.TENANT, slug).problem(
                ["id"], f"ID {tenant.id} is already used by tenant {seen[tenant.id]!r}", "tenant-id-unique"
            )
        else:
            seen[tenant.id] = slug


@rule("service-code-unique", "service codes (Código de serviço) are unique")
def service_code_unique(repo: Repository) -> Iterator[Problem]:
    seen: dict[str, str] = {}
    for slug, tenant in sorted(repo.tenants.items()):
        if tenant.service_code in seen:
            yield repo.doc_of(Kind.TENANT, slug).problem(
                ["service_code"],
                f"service code {tenant.service_code} is already used by tenant {seen[tenant.service_code]!r}",
                "service-code-unique",
            )
        else:
            seen[tenant.service_code] = slug


@rule(
    "file-slug", "file names of tenants, plans, routes and trunks are slugs (they become names on the wire)"
)
def file_slug(repo: Repository) -> Iterator[Problem]:
    for doc in repo.docs.values():
        if doc.kind in (Kind.TENANT, Kind.PLAN, Kind.ROUTE, Kind.TRUNK) and not SLUG_RE.match(doc.stem):
            yield Problem(
                doc.path,
                1,
                1,
                "",
                f"file name {doc.stem!r} is not a slug: lowercase letters, digits and '-' "
                "(the tenant slug names its endpoints and contexts)",
                "file-slug",
            )


@rule("document-check", "CPF/CNPJ check digits are right (alphanumeric CNPJ accepted)")
def document_check(repo: Repository) -> Iterator[Problem]:
    for slug, tenant in sorted(repo.tenants.items()):
        doc = repo.doc_of(Kind.TENANT, slug)
        kind = document_kind(tenant.document)
        if kind is None:
            yield doc.problem(
                ["document"],
                f"{tenant.document!r} is neither a CPF (000.000.000-00) nor a CNPJ (00.000.000/0000-00)",
                "document-check",
            )
            continue
        valid = is_valid_cpf(tenant.document) if kind is DocumentKind.CPF else is_valid_cnpj(tenant.document)
        if not valid:
            yield doc.problem(
                ["document"],
                f"{kind.value.upper()} {tenant.document} has wrong check digits",
                "document-check",
            )


@rule("person-type-document", "a juridica tenant has a CNPJ, a fisica tenant a CPF")
def person_type_document(repo: Repository) -> Iterator[Problem]:
    for slug, tenant in sorted(repo.tenants.items()):
        kind = document_kind(tenant.document)
        expected = DocumentKind.CNPJ if tenant.person_type is PersonType.JURIDICA else DocumentKind.CPF
        if kind is not None and kind is not expected:
            yield repo.doc_of(Kind.TENANT, slug).problem(
                ["person_type"],
                f"person_type {tenant.person_type.value} needs a {expected.value.upper()}, "
                f"but document is a {kind.value.upper()}",
                "person-type-document",
            )
