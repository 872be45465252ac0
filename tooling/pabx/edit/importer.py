"""Import tenants, extensions and numbers from another platform's CSV exports, as one change.

Each CSV is one of the seed's list screens, recognized by its header (Portuguese or English,
accents and case ignored): Clientes (tenants), Ramais (extensions) or Números (numbers).
Rows are checked one by one; a row that cannot be imported is rejected with its reason and
the others go on. Files are applied in the order tenants, extensions, numbers, so a number
can point at an extension created by the same import. The whole result is then validated
like any other edit.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pabx.brazil.ddd import is_real_ddd
from pabx.brazil.documents import DocumentKind, document_kind, is_valid_cnpj, is_valid_cpf
from pabx.edit.common import TENANT_ORDER, ascii_fold, destination, parse_date, slugify
from pabx.edit.history import FIRST_ID, used_ids
from pabx.edit.members import MemberFields, add_member
from pabx.edit.numbers import DID_RE, destination_value, insert_entries
from pabx.edit.tenants import (
    TenantFields,
    add_tenant,
    least_loaded_server,
    normalize_choice,
    normalize_document,
    person_type_of,
)
from pabx.edit.users import check_manager
from pabx.edit.workspace import Workspace
from pabx.edit.yamlrt import quoted, set_key, text
from pabx.errors import UserError
from pabx.model import Extension, NumberEntry, Status
from pabx.model.common import SLUG_RE


class Sheet(StrEnum):
    TENANTS = "clientes"
    EXTENSIONS = "ramais"
    NUMBERS = "numeros"


# Accepted headers (after folding: lowercase ASCII, spaces and hyphens as "_") -> field.
TENANT_COLUMNS: dict[str, str] = {
    "id": "id",
    "cliente": "name",
    "nome": "name",
    "razao_social": "name",
    "name": "name",
    "contato": "contact",
    "responsavel": "contact",
    "contact": "contact",
    "tipo_pessoa": "person_type",
    "tipo_de_pessoa": "person_type",
    "person_type": "person_type",
    "documento": "document",
    "cnpj_cpf": "document",
    "cpf_cnpj": "document",
    "cnpj": "document",
    "cpf": "document",
    "document": "document",
    "e_mail": "email",
    "email": "email",
    "status": "status",
    "situacao": "status",
    "permissao": "permission",
    "permission": "permission",
    "codigo_de_servico": "service_code",
    "codigo_servico": "service_code",
    "service_code": "service_code",
    "plano": "plan",
    "plan": "plan",
    "data_de_vencimento": "due_date",
    "vencimento": "due_date",
    "due_date": "due_date",
    "servidor": "server",
    "server": "server",
    "telefone": "phone",
    "phone": "phone",
    "celular": "mobile",
    "mobile": "mobile",
    "endereco": "address",
    "address": "address",
    "cidade": "city",
    "city": "city",
    "uf": "state",
    "estado": "state",
    "state": "state",
    "cep": "zip",
    "zip": "zip",
    "slug": "slug",
    "gerente": "manager",
    "manager": "manager",
}
EXTENSION_COLUMNS: dict[str, str] = {
    "conta": "tenant",
    "proprietario": "tenant",
    "cliente": "tenant",
    "tenant": "tenant",
    "ramal": "number",
    "extension": "number",
    "nome": "name",
    "name": "name",
    "e_mail": "email",
    "email": "email",
    "correio_de_voz": "voicemail",
    "voicemail": "voicemail",
    "bina": "caller_id",
    "caller_id": "caller_id",
    "classes_de_saida": "outbound",
    "outbound": "outbound",
    "terminal": "",  # live data (where the phone registers): not configuration
    "endereco": "",
}
NUMBER_COLUMNS: dict[str, str] = {
    "ddd": "ddd",
    "numero": "number",
    "number": "number",
    "did": "number",
    "rota": "route",
    "route": "route",
    "proprietario": "owner",
    "cliente": "owner",
    "owner": "owner",
    "tarifacao_reversa": "reverse_billing",
    "reverse_billing": "reverse_billing",
    "destino": "destination",
    "destination": "destination",
    "descricao": "description",
    "description": "description",
}
COLUMNS = {Sheet.TENANTS: TENANT_COLUMNS, Sheet.EXTENSIONS: EXTENSION_COLUMNS, Sheet.NUMBERS: NUMBER_COLUMNS}
LABELS = {Sheet.TENANTS: "Cliente", Sheet.EXTENSIONS: "Ramal", Sheet.NUMBERS: "Número"}
TRUE = {"sim", "s", "yes", "y", "true", "1", "x", "ativo", "ativa", "on"}
FALSE = {"nao", "n", "no", "false", "0", "", "off", "inativo"}
NO_OWNER = {"", "disponivel", "-", "livre", "none", "null"}


@dataclass
class Row:
    source: str  # file name
    line: int
    values: dict[str, str]


@dataclass
class Rejection:
    source: str
    line: int
    sheet: Sheet
    key: str
    reason: str

    def format(self) -> str:
        return f"{self.source}:{self.line}: {LABELS[self.sheet]} {self.key}: {self.reason}"


@dataclass
class ImportResult:
    tenants: list[str] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"import: {len(self.tenants)} cliente(s), {len(self.extensions)} ramal(is), "
            f"{len(self.numbers)} número(s) to create; {len(self.rejected)} row(s) rejected"
        ]
        out += [f"  + Cliente {t}" for t in self.tenants]
        out += [f"  + Ramal {e}" for e in self.extensions]
        out += [f"  + Número {n}" for n in self.numbers]
        out += [f"  note: {n}" for n in self.notes]
        out += [f"  rejected: {r.format()}" for r in self.rejected]
        return out


def fold(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", ascii_fold(header).lower()).strip("_")


def read_csv(path: Path) -> tuple[Sheet, list[Row]]:
    """Rows of an export (UTF-8 with or without BOM, or Windows-1252; `,` `;` or tab)."""
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = raw.decode("cp1252")
    sample = content[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(content), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise UserError(f"{path}: the file is empty") from None
    folded = [fold(h) for h in header]
    sheet = detect_sheet(folded, path)
    mapping = COLUMNS[sheet]
    unknown = [h for h, f in zip(header, folded, strict=True) if f and f != "" and f not in mapping]
    if unknown:
        raise UserError(
            f"{path}: unknown column(s) {', '.join(unknown)} for a {sheet.value} export; "
            f"accepted: {', '.join(sorted(mapping))}"
        )
    rows = []
    for number, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        values: dict[str, str] = {}
        for name, cell in zip(folded, record, strict=False):
            target = mapping.get(name, "")
            if target and cell.strip() and target not in values:
                values[target] = cell.strip()
        rows.append(Row(path.name, number, values))
    return sheet, rows


def detect_sheet(folded: Sequence[str], path: Path) -> Sheet:
    names = set(folded)
    if names & {"ramal", "extension"}:
        return Sheet.EXTENSIONS
    if names & {"numero", "number", "did"} and names & {"rota", "route", "ddd"}:
        return Sheet.NUMBERS
    if names & {"cliente", "nome", "razao_social", "name"} and names & {
        "documento",
        "cnpj",
        "cpf",
        "e_mail",
        "email",
        "cnpj_cpf",
        "cpf_cnpj",
        "document",
    }:
        return Sheet.TENANTS
    raise UserError(
        f"{path}: cannot tell which export this is from its header: a Clientes export has Cliente and "
        "Documento/E-mail, a Ramais export has Ramal, a Números export has Número and Rota or DDD"
    )


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    folded = ascii_fold(value).strip().lower()
    if folded in TRUE:
        return True
    if folded in FALSE:
        return False
    raise ValueError(f"{value!r} is not yes/no (Sim/Não)")


def _model_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


class _Importer:
    def __init__(
        self, ws: Workspace, *, route: str | None, managers: Sequence[str], server: str | None
    ) -> None:
        self.ws = ws
        self.result = ImportResult()
        self.default_route = route
        self.managers = list(managers)
        self.default_server = server
        self.ids = used_ids(ws.repo)
        self.codes = {t.service_code for t in ws.repo.tenants.values()}
        self.placed: dict[str, int] = {}
        for tenant in ws.repo.tenants.values():
            if tenant.status is not Status.REMOVIDO:
                self.placed[tenant.server] = self.placed.get(tenant.server, 0) + 1
        # tenants known by slug, and every name they may go by in an export
        self.aliases: dict[str, str] = {}
        for slug, tenant in ws.repo.tenants.items():
            self._alias(slug, slug, str(tenant.id), tenant.service_code, tenant.name)
        self.new_tenants: dict[str, dict[str, list[str]]] = {}  # slug -> targets by kind
        self.plan_names = {fold(p.name): slug for slug, p in ws.repo.plans.items()}
        self.route_names = {fold(r.name): slug for slug, r in ws.repo.routes.items()}
        self.numbers_seen: set[str] = set(ws.repo.numbers)
        self.internal_seen: dict[str, set[str]] = {}
        self.removed: set[str] = set()

    def _alias(self, slug: str, *names: str) -> None:
        for name in names:
            if name:
                self.aliases.setdefault(fold(name), slug)

    def reject(self, row: Row, sheet: Sheet, key: str, reason: str) -> None:
        self.result.rejected.append(Rejection(row.source, row.line, sheet, key, reason))

    def tenant_of(self, ref: str) -> str | None:
        return self.aliases.get(fold(ref))

    # --- Clientes ---------------------------------------------------------------------------

    def tenant(self, row: Row) -> None:
        v = row.values
        name = v.get("name", "")
        key = name or f"(line {row.line})"
        missing = [f for f in ("name", "contact", "document", "email") if not v.get(f)]
        if missing:
            return self.reject(row, Sheet.TENANTS, key, f"missing {', '.join(missing)}")
        slug = v.get("slug") or slugify(name)
        if not SLUG_RE.match(slug):
            return self.reject(
                row, Sheet.TENANTS, key, f"slug {slug!r} is not lowercase letters, digits and '-'"
            )
        if self.ws.exists(f"tenants/{slug}.yaml"):
            return self.reject(row, Sheet.TENANTS, key, f"tenants/{slug}.yaml already exists")
        plan_ref = v.get("plan", "")
        plan = plan_ref if plan_ref in self.ws.repo.plans else self.plan_names.get(fold(plan_ref))
        if plan is None:
            known = ", ".join(sorted(self.ws.repo.plans))
            return self.reject(row, Sheet.TENANTS, key, f"plan {plan_ref!r} does not exist (known: {known})")
        document = normalize_document(v["document"])
        kind = document_kind(document)
        valid = kind is not None and (
            is_valid_cpf(document) if kind is DocumentKind.CPF else is_valid_cnpj(document)
        )
        if not valid:
            return self.reject(
                row, Sheet.TENANTS, key, f"document {v['document']} is not a valid CPF or CNPJ"
            )
        person_type = _person_type(v.get("person_type")) or person_type_of(document)
        status = normalize_choice(v.get("status") or Status.PENDENTE.value)
        if status not in {s.value for s in Status}:
            return self.reject(
                row, Sheet.TENANTS, key, f"status {v['status']!r} is not Ativo, Inativo, Pendente or Removido"
            )
        server = v.get("server") or self.default_server
        if server is None:
            try:
                server = least_loaded_server(self.ws, self.placed)
            except UserError as exc:
                return self.reject(row, Sheet.TENANTS, key, exc.message)
        elif server not in self.ws.repo.servers:
            return self.reject(row, Sheet.TENANTS, key, f"server {server!r} is not an Asterisk host")
        tenant_id: int | None = None
        if v.get("id"):
            legacy = int(v["id"]) if v["id"].isdigit() else None
            if legacy is not None and legacy >= 1 and legacy not in self.ids:
                tenant_id = legacy
            else:
                self.result.notes.append(
                    f"{row.source}:{row.line}: ID {v['id']} is already used: {slug} gets a new one"
                )
        code = v.get("service_code", "").upper() or None
        if code and code in self.codes:
            return self.reject(row, Sheet.TENANTS, key, f"service code {code} is already used")
        due = v.get("due_date")
        try:
            due_date = parse_date(due).isoformat() if due else None
        except UserError as exc:
            return self.reject(row, Sheet.TENANTS, key, exc.message)
        managers = [*([v["manager"]] if v.get("manager") else []), *self.managers]
        for handle in managers:
            try:
                check_manager(self.ws, handle)
            except UserError as exc:
                return self.reject(row, Sheet.TENANTS, key, exc.message)
        fields = TenantFields(
            name=name,
            contact=v["contact"],
            person_type=person_type,
            document=document,
            email=v["email"],
            status=status,
            permission=normalize_choice(v["permission"]) if v.get("permission") else None,
            service_code=code,
            plan=plan,
            due_date=due_date,
            server=server,
            phone=v.get("phone"),
            mobile=v.get("mobile"),
            address=v.get("address"),
            city=v.get("city"),
            state=v.get("state"),
            zip=v.get("zip"),
        )
        probe = _tenant_probe(fields, tenant_id or max(self.ids, default=FIRST_ID - 1) + 1)
        if probe:
            return self.reject(row, Sheet.TENANTS, key, probe)
        try:
            add_tenant(
                self.ws,
                fields,
                slug=slug,
                tenant_id=tenant_id,
                managers=managers,
                taken_ids=self.ids,
                taken_codes=self.codes,
            )
        except UserError as exc:
            return self.reject(row, Sheet.TENANTS, key, exc.message)
        self.placed[server] = self.placed.get(server, 0) + 1
        self._alias(slug, slug, name, v.get("id", ""), code or "")
        tenant = self.ws.open(f"tenants/{slug}.yaml")
        self._alias(slug, str(tenant["id"]), str(tenant["service_code"]))
        self.new_tenants[slug] = {"extension": [], "queue": [], "ivr": [], "numbers": []}
        if status == Status.REMOVIDO.value:
            self.removed.add(slug)
        self.result.tenants.append(f"{slug} (ID {tenant['id']}, {tenant['service_code']}, {plan}, {server})")
        return None

    # --- Ramais -----------------------------------------------------------------------------

    def extension(self, row: Row) -> None:
        v = row.values
        key = f"{v.get('tenant', '?')}/{v.get('number', '?')}"
        slug = self.tenant_of(v.get("tenant", ""))
        if slug is None:
            return self.reject(
                row, Sheet.EXTENSIONS, key, f"no tenant {v.get('tenant', '')!r} (nor in this import)"
            )
        tenant = self.ws.repo.tenants.get(slug)
        if tenant is not None and tenant.status is Status.REMOVIDO:
            return self.reject(row, Sheet.EXTENSIONS, key, f"{slug} is removido")
        number = v.get("number", "")
        if not v.get("name"):
            v["name"] = f"Ramal {number}"
            self.result.notes.append(
                f"{row.source}:{row.line}: {slug}/{number} has no name: named {v['name']!r}"
            )
        outbound = re.split(r"[\s,;|]+", v["outbound"]) if v.get("outbound") else None
        try:
            voicemail = _bool(v.get("voicemail"))
            Extension.model_validate(
                {
                    "number": number,
                    "name": v["name"],
                    "email": v.get("email"),
                    "caller_id": _digits(v["caller_id"]) if v.get("caller_id") else None,
                    "outbound": outbound,
                    "voicemail": bool(voicemail),
                }
            )
        except (ValueError, ValidationError) as exc:
            reason = _model_error(exc) if isinstance(exc, ValidationError) else str(exc)
            return self.reject(row, Sheet.EXTENSIONS, key, reason)
        used = self._internal(slug)
        if number in used:
            return self.reject(row, Sheet.EXTENSIONS, key, f"{slug} already uses {number}")
        fields = MemberFields(
            name=v["name"],
            email=v.get("email"),
            outbound=outbound,
            caller_id=_digits(v["caller_id"]) if v.get("caller_id") else None,
            voicemail=voicemail or None,
        )
        try:
            add_member(self.ws, "extension", slug, number, fields)
        except UserError as exc:
            return self.reject(row, Sheet.EXTENSIONS, key, exc.message)
        used.add(number)
        if slug in self.new_tenants:
            self.new_tenants[slug]["extension"].append(number)
        self.result.extensions.append(f"{slug}/{number} ({v['name']})")
        return None

    def _internal(self, slug: str) -> set[str]:
        if slug not in self.internal_seen:
            tenant = self.ws.repo.tenants.get(slug)
            found: set[str] = set()
            if tenant is not None:
                found = {e.number for e in tenant.extensions} | {q.number for q in tenant.queues}
                found |= {i.number for i in tenant.ivrs}
            self.internal_seen[slug] = found
        return self.internal_seen[slug]

    # --- Números ----------------------------------------------------------------------------

    def number(self, row: Row, pending: list[list[tuple[str, object]]]) -> None:
        v = row.values
        digits = _digits(v.get("number", ""))
        ddd = _digits(v.get("ddd", ""))
        number = digits if ddd == "" or (digits.startswith(ddd) and len(digits) in (10, 11)) else ddd + digits
        key = number or f"(line {row.line})"
        if not DID_RE.match(number):
            return self.reject(
                row, Sheet.NUMBERS, key, "not DDD + number (8 digits 2-5 or 9 digits starting with 9)"
            )
        if not is_real_ddd(number[:2]):
            return self.reject(row, Sheet.NUMBERS, key, f"DDD {number[:2]} does not exist in Brazil")
        if number in self.numbers_seen:
            return self.reject(row, Sheet.NUMBERS, key, "already in numbers/ (or earlier in this import)")
        route_ref = v.get("route") or self.default_route or ""
        route = route_ref if route_ref in self.ws.repo.routes else self.route_names.get(fold(route_ref))
        if route is None:
            known = ", ".join(sorted(self.ws.repo.routes))
            what = f"route {route_ref!r} does not exist" if route_ref else "no route (column Rota or --route)"
            return self.reject(row, Sheet.NUMBERS, key, f"{what} (known: {known})")
        try:
            reverse = bool(_bool(v.get("reverse_billing")))
        except ValueError as exc:
            return self.reject(row, Sheet.NUMBERS, key, f"tarifação reversa: {exc}")
        owner_ref = v.get("owner", "")
        owner = None if fold(owner_ref) in {fold(n) for n in NO_OWNER} else self.tenant_of(owner_ref)
        if owner_ref and owner is None and fold(owner_ref) not in {fold(n) for n in NO_OWNER}:
            return self.reject(row, Sheet.NUMBERS, key, f"no tenant {owner_ref!r} (nor in this import)")
        target: str | None = None
        if owner is not None:
            existing = self.ws.repo.tenants.get(owner)
            if owner in self.removed or (existing is not None and existing.status is Status.REMOVIDO):
                return self.reject(row, Sheet.NUMBERS, key, f"{owner} is removido: it cannot own numbers")
            if v.get("destination"):
                try:
                    target = destination(v["destination"])
                except UserError as exc:
                    return self.reject(row, Sheet.NUMBERS, key, exc.message)
            else:
                target = self._default_destination(owner)
                if target is None:
                    return self.reject(
                        row,
                        Sheet.NUMBERS,
                        key,
                        f"no Destino given and {owner} has no IVR, queue or extension",
                    )
                self.result.notes.append(f"{row.source}:{row.line}: {number} -> {target} (no Destino given)")
        entry = {
            "number": number,
            "route": route,
            "owner": owner,
            "reverse_billing": reverse,
            "destination": target,
        }
        if v.get("description"):
            entry["description"] = v["description"]
        try:
            NumberEntry.model_validate(entry)
        except ValidationError as exc:
            return self.reject(row, Sheet.NUMBERS, key, _model_error(exc))
        items: list[tuple[str, object]] = [
            ("number", quoted(number)),
            ("route", text(route)),
            ("owner", text(owner) if owner else None),
            ("reverse_billing", reverse),
        ]
        if target:
            items.append(("destination", destination_value(target)))
        if v.get("description"):
            items.append(("description", text(v["description"])))
        pending.append(items)
        self.numbers_seen.add(number)
        if owner in self.new_tenants:
            self.new_tenants[owner]["numbers"].append(number)
        self.result.numbers.append(f"{number} ({owner or 'Disponível'}{', ' + target if target else ''})")
        return None

    def default_caller_ids(self) -> None:
        """A tenant created here presents its first imported number, so its calls can go out."""
        for slug, created in self.new_tenants.items():
            doc = self.ws.open(f"tenants/{slug}.yaml")
            if created["numbers"] and "caller_id" not in doc:
                set_key(doc, "caller_id", quoted(created["numbers"][0]), TENANT_ORDER)
                self.result.notes.append(
                    f"{slug}: default caller_id {created['numbers'][0]} (its first number)"
                )

    def _default_destination(self, slug: str) -> str | None:
        """The tenant's first IVR, else its first queue, else its first extension."""
        tenant = self.ws.repo.tenants.get(slug)
        if tenant is not None:
            for kind, items in (
                ("ivr", tenant.ivrs),
                ("queue", tenant.queues),
                ("extension", tenant.extensions),
            ):
                if items:
                    return f"{kind}:{items[0].number}"
            return None
        created = self.new_tenants.get(slug, {})
        for kind in ("ivr", "queue", "extension"):
            if created.get(kind):
                return f"{kind}:{created[kind][0]}"
        return None


def _person_type(value: str | None) -> str | None:
    if not value:
        return None
    folded = normalize_choice(value)
    return {"pj": "juridica", "pf": "fisica", "juridica": "juridica", "fisica": "fisica"}.get(folded, folded)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _tenant_probe(fields: TenantFields, tenant_id: int) -> str | None:
    """Why the tenant model would refuse these fields (e-mail, UF, CEP…), or None."""
    from pabx.model import Tenant

    values = fields.given()
    contact = {
        k: values.pop(k) for k in ("phone", "mobile", "address", "city", "state", "zip") if k in values
    }
    data: dict[str, Any] = {
        **values,
        "id": tenant_id,
        "service_code": values.get("service_code") or "PROBE-0001",
        "server": values.get("server") or "probe",
        "status": values.get("status") or "pendente",
        "contact_details": contact,
    }
    if data.get("state"):
        data["state"] = str(data["state"]).upper()
    if "state" in contact:
        contact["state"] = str(contact["state"]).upper()
    try:
        Tenant.model_validate(data)
    except ValidationError as exc:
        return _model_error(exc)
    return None


def import_csv(
    ws: Workspace,
    paths: Iterable[Path],
    *,
    route: str | None = None,
    managers: Sequence[str] = (),
    server: str | None = None,
) -> ImportResult:
    """Read the exports and stage every acceptable row in `ws` (commit it to write)."""
    sheets: dict[Sheet, list[Row]] = {sheet: [] for sheet in Sheet}
    for path in paths:
        if not path.is_file():
            raise UserError(f"{path}: no such file")
        sheet, rows = read_csv(path)
        sheets[sheet].extend(rows)
    if not any(sheets.values()):
        raise UserError("nothing to import: the files have no rows")
    importer = _Importer(ws, route=route, managers=managers, server=server)
    for row in sheets[Sheet.TENANTS]:
        importer.tenant(row)
    for row in sheets[Sheet.EXTENSIONS]:
        importer.extension(row)
    pending: list[list[tuple[str, object]]] = []
    for row in sheets[Sheet.NUMBERS]:
        importer.number(row, pending)
    if pending:
        insert_entries(ws, pending)
    importer.default_caller_ids()
    return importer.result


def columns_doc() -> Mapping[Sheet, dict[str, str]]:
    """Accepted headers per export, for the documentation and `--help`."""
    return COLUMNS


__all__ = ["ImportResult", "Rejection", "Sheet", "import_csv", "read_csv"]
