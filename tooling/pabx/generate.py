"""A valid synthetic platform of any size, for tests and benchmarks (`pabx generate`).

The files are written as YAML text with plain string formatting (yaml.dump is far too slow
for 10,000 tenants); every free-text value goes through `yaml_str`, which emits a YAML
double-quoted scalar that reads back as exactly the same string. A seed fixes every choice,
so the same spec always writes byte-identical files.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from pabx.brazil.ddd import ddd_table
from pabx.brazil.documents import make_cnpj, make_cpf
from pabx.errors import UserError
from pabx.loader.layout import DATA_FOLDERS, HOSTS_FILE, PLATFORM_FILE, Kind, schema_reference
from pabx.schema import render_schemas

TENANTS_PER_SERVER = 100
FIRST_ID = 1001
FIRST_EXTENSION = 2001
QUEUE_NUMBERS = ("600", "601")
IVR_NUMBER = "500"
MAX_NUMBERS = 5_000_000
MAX_EXTENSIONS = 5000  # 2001..7000: four digits starting 2-7, clear of every service pattern

# Characters a YAML double-quoted scalar may hold literally. Everything else is escaped:
# controls, DEL, the C1 block (0x85 is a YAML 1.1 line break), U+2028/2029 and the BOM.
_NOT_LITERAL = re.compile(
    "[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)


def yaml_str(text: str) -> str:
    """`text` as a YAML double-quoted scalar that loads back unchanged (JSON escapes are YAML's)."""
    quoted = json.dumps(text, ensure_ascii=False)
    return _NOT_LITERAL.sub(_escape, quoted)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


@dataclass(frozen=True)
class GeneratorSpec:
    """How big a platform to write; the same spec always gives the same files."""

    tenants: int
    extensions_per_tenant: int = 10
    numbers_per_tenant: int = 5
    seed: int = 1

    def __post_init__(self) -> None:
        if self.tenants < 1:
            raise UserError("the generator needs at least one tenant")
        if not 1 <= self.extensions_per_tenant <= MAX_EXTENSIONS:
            raise UserError(f"extensions per tenant must be between 1 and {MAX_EXTENSIONS}")
        if self.numbers_per_tenant < 1:
            raise UserError("every tenant needs at least one number (its caller ID)")
        if self.tenants * self.numbers_per_tenant > MAX_NUMBERS:
            # blocks per DDD stay inside 3xxxxxxx and 99xxxxxxx well below this
            raise UserError(f"the generator writes at most {MAX_NUMBERS:,} numbers")


@dataclass(frozen=True)
class GeneratorStats:
    """What was written."""

    servers: int
    tenants: int
    extensions: int
    numbers: int


# --- vocabulary (pt-BR), quoted once ------------------------------------------------------

_BRANDS = (
    "Acme", "Aurora", "Horizonte", "Atlântico", "Cerrado", "Ipê", "Jacarandá", "Pantanal",
    "Serra Azul", "Vale Verde", "Litoral", "Planalto", "Estrela", "Boa Vista", "Rio Claro",
    "Santa Luzia", "São Bento", "Nova Era", "Pioneira", "Tropical", "Araucária", "Guanabara",
    "Mantiqueira", "Itapuã", "Jequitibá", "Paraná", "Sol Nascente", "Maré Alta",
)  # fmt: skip
_TRADES = (
    "Comércio", "Engenharia", "Contabilidade", "Advocacia", "Logística", "Transportes",
    "Clínica Médica", "Odontologia", "Imobiliária", "Tecnologia", "Alimentos", "Construtora",
    "Farmácia", "Auto Peças", "Escola", "Consultoria", "Turismo", "Hotelaria", "Papelaria",
)  # fmt: skip
_SUFFIXES = ("Ltda", "S.A.", "ME", "EPP", "Eireli")
_FIRST = (
    "Maria", "José", "Ana", "João", "Francisca", "Antônio", "Adriana", "Carlos", "Juliana",
    "Paulo", "Márcia", "Lucas", "Fernanda", "Pedro", "Patrícia", "Rafael", "Aline", "Bruno",
    "Camila", "Diego", "Letícia", "Gustavo", "Beatriz", "Thiago", "Luíza", "Otávio",
)  # fmt: skip
_LAST = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima",
    "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes", "Araújo", "Fernandes",
    "Barbosa", "Conceição", "D'Ávila", "Assunção",
)  # fmt: skip
_DEPARTMENTS = (
    "Recepção", "Vendas", "Financeiro", "Suporte", "Compras", "Diretoria", "RH", "Expedição",
    "Almoxarifado", "Cobrança", "Marketing", "Jurídico", "TI", "Atendimento", "Portaria",
)  # fmt: skip
_STREETS = (
    "Av. Paulista", "Rua das Flores", "Av. Brasil", "Rua XV de Novembro", "Av. Getúlio Vargas",
    "Rua Sete de Setembro", "Av. Beira-Mar", "Rua Tiradentes", "Praça da Sé", "Rua São João",
)  # fmt: skip
_STRATEGIES = ("ringall", "leastrecent", "fewestcalls", "rrmemory", "linear")
_GREETINGS = ("boas-vindas", "institucional/principal", "horario-comercial")
_SITES = ("sp", "rj", "bh", "poa", "cwb", "rec", "ssa", "bsb", "for", "bel")


@dataclass(frozen=True)
class _Plan:
    slug: str
    weight: int
    extensions: int
    queues: int
    ivrs: int
    concurrent_calls: int
    allowed: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class _Route:
    slug: str
    weight: int
    text: str


_ALL_CLASSES = ("local_fixo", "local_movel", "ldn_fixo", "ldn_movel", "0300", "0800", "servicos", "ldi")


def _class_list(classes: tuple[str, ...]) -> str:
    return "[" + ", ".join(f'"{c}"' if c[0].isdigit() else c for c in classes) + "]"


def _plans(extensions: int) -> list[_Plan]:
    """Three plans; their extension limits grow with the spec so no tenant exceeds its plan."""
    table = (
        ("basico", "Básico", "89.90", 50, 10, 1, 1, 4,
         ("local_fixo", "local_movel", "ldn_fixo", "0800", "servicos"),
         ("0.09", "0.35", "0.15", "0.30", "0.00", "0.00", "0.00", "2.00"), (3, 30, 6)),
        ("empresarial", "Empresarial", "299.90", 35, 50, 5, 3, 10,
         ("local_fixo", "local_movel", "ldn_fixo", "ldn_movel", "0800", "servicos"),
         ("0.08", "0.29", "0.12", "0.39", "0.30", "0.00", "0.00", "1.50"), (3, 30, 6)),
        ("corporativo", "Corporativo", "899.90", 15, 200, 20, 10, 30, _ALL_CLASSES,
         ("0.06", "0.22", "0.09", "0.29", "0.25", "0.00", "0.00", "0.95"), (0, 60, 6)),
    )  # fmt: skip
    plans = []
    for slug, name, fee, weight, ext, queues, ivrs, calls, allowed, prices, cadence in table:
        ext = max(ext, extensions)
        tariffs = ", ".join(
            f"{_class_list((c,))[1:-1]}: {p}" for c, p in zip(_ALL_CLASSES, prices, strict=True)
        )
        text = (
            f"{schema_reference(f'plans/{slug}.yaml', Kind.PLAN)}\n"
            f"name: {yaml_str(name)}\n"
            f"monthly_fee: {fee}\n"
            f"limits: {{extensions: {ext}, queues: {queues}, ivrs: {ivrs}, concurrent_calls: {calls}}}\n"
            f"allowed_classes: {_class_list(allowed)}\n"
            f"tariffs: {{{tariffs}}}\n"
            f"billing: {{free_under_s: {cadence[0]}, minimum_s: {cadence[1]}, increment_s: {cadence[2]}}}\n"
        )
        plans.append(_Plan(slug, weight, ext, queues, ivrs, calls, allowed, text))
    return plans


_TRUNKS = (
    ("vivo", "Vivo", "sip.vivo.example", "national", "15", True),
    ("embratel", "Embratel", "sip.embratel.example", "csp", "21", False),
    ("tim", "TIM", "sip.tim.example", "e164", "41", True),
    ("algar", "Algar", "sip.algar.example", "national", "12", False),
)

_ROUTES = (
    ("padrao", "Padrão", 60, ("vivo", "vivo", "embratel", "embratel", "vivo", "vivo", "vivo", "embratel")),
    ("economica", "Econômica", 30, ("algar", "tim", "tim", "tim", "algar", "algar", "vivo", "embratel")),
    ("somente-local", "Somente local", 10, ("vivo", "vivo", None, None, None, "vivo", "vivo", None)),
)


def _routes() -> list[_Route]:
    routes = []
    for slug, name, weight, trunks in _ROUTES:
        pairs = ", ".join(
            f"{_class_list((c,))[1:-1]}: {t or 'null'}" for c, t in zip(_ALL_CLASSES, trunks, strict=True)
        )
        text = (
            f"{schema_reference(f'routes/{slug}.yaml', Kind.ROUTE)}\n"
            f"name: {yaml_str(name)}\ntrunks: {{{pairs}}}\n"
        )
        routes.append(_Route(slug, weight, text))
    return routes


def _trunk_text(slug: str, name: str, host: str, fmt: str, csp: str, header: bool, servers: list[str]) -> str:
    lines = [
        schema_reference(f"inventory/trunks/{slug}.yaml", Kind.TRUNK),
        f"name: {yaml_str(name)}",
        f"host: {host}",
        "port: 5060",
        "transport: udp",
        f"username: pabx-{slug}",
        f"password_env: PABX_TRUNK_{slug.upper()}_PASSWORD",
        f"number_format: {fmt}",
        f'csp: "{csp}"',
        "codecs: [alaw, ulaw]",
        "max_channels: 3000",
    ]
    if header:
        lines.append("collect_call_header: {name: X-Call-Type, value: collect}")
    lines.append(f"servers: [{', '.join(servers)}]")
    return "\n".join(lines) + "\n"


def _platform_text() -> str:
    return (
        f"{schema_reference(PLATFORM_FILE, Kind.PLATFORM)}\n"
        f"name: {yaml_str('PABX White Label (sintético)')}\n"
        "domain: pabx.example.com.br\n"
        "portal_url: https://portal.pabx.example.com.br\n"
        "timezone: America/Sao_Paulo\n"
        "support_email: suporte@pabx.example.com.br\n"
        "smtp:\n"
        "  host: smtp.example.com.br\n"
        "  port: 587\n"
        "  security: starttls\n"
        "  user: pabx\n"
        "  password_env: PABX_SMTP_PASSWORD\n"
        "  sender: nao-responda@pabx.example.com.br\n"
        "releases_kept: 5\n"
    )


def _server_names(count: int) -> list[str]:
    per_site: dict[str, int] = defaultdict(int)
    names = []
    for i in range(count):
        site = _SITES[i % len(_SITES)]
        per_site[site] += 1
        names.append(f"pbx-{site}-{per_site[site]:02d}")
    return names


def _hosts_text(servers: list[str], calls: dict[str, int], count: dict[str, int]) -> str:
    """Ansible YAML inventory: all > asterisk > asterisk_<site> > hosts, 25% headroom."""
    by_site: dict[str, list[str]] = defaultdict(list)
    for name in servers:
        by_site[name.split("-")[1]].append(name)
    lines = [
        schema_reference(HOSTS_FILE, Kind.INVENTORY),
        "all:",
        "  vars:",
        "    ansible_user: pabx",
        "    ansible_python_interpreter: /usr/bin/python3",
        "  children:",
        "    asterisk:",
        "      children:",
    ]
    address = 0
    for site in _SITES:
        if site not in by_site:
            continue
        lines += [
            f"        asterisk_{site}:",
            "          vars:",
            f"            pabx_site: {site}",
            "          hosts:",
        ]
        for name in by_site[site]:
            address += 1
            concurrent = max(100, -(-calls[name] * 5 // 4 // 100) * 100)
            tenants = max(10, -(-count[name] * 5 // 4 // 10) * 10)
            lines += [
                f"            {name}:",
                f"              ansible_host: 10.{address // 250}.{address % 250}.10",
                f"              pabx_sip_address: {name}.pabx.example.com.br",
                f"              pabx_capacity: {{concurrent_calls: {concurrent}, tenants: {tenants}}}",
            ]
    return "\n".join(lines) + "\n"


def _group_vars_text() -> str:
    return "# Ansible variables of the asterisk group (pabx reads only hosts.yml)\nansible_become: true\n"


# --- tenants and numbers ------------------------------------------------------------------


@dataclass
class _Number:
    number: str
    route: str
    owner: str | None
    destination: str | None
    reverse_billing: bool


class _Numbering:
    """Hands out unique DIDs in blocks per DDD: fixo 3xxxxxxx, móvel 9xxxxxxxx."""

    def __init__(self, rng: random.Random, ddds: list[str]) -> None:
        self.next_fixed = {d: 30_000_000 + rng.randrange(0, 500) * 1000 for d in ddds}
        self.next_mobile = {d: 990_000_000 + rng.randrange(0, 500) * 1000 for d in ddds}

    def block(self, ddd: str, size: int, mobile: bool) -> list[str]:
        table = self.next_mobile if mobile else self.next_fixed
        start = table[ddd]
        table[ddd] = start + size
        return [f"{ddd}{n}" for n in range(start, start + size)]


def _status_of(index: int, total: int, rng: random.Random) -> str:
    """Mostly ativo; the first tenants cover every other status so each is always represented."""
    if total >= 4 and index in (1, 2, 3):
        return ("inativo", "pendente", "removido")[index - 1]
    roll = rng.random()
    if roll < 0.85:
        return "ativo"
    return "pendente" if roll < 0.90 else "inativo" if roll < 0.95 else "removido"


def _document(rng: random.Random, juridica: bool) -> str:
    if juridica:
        if rng.random() < 0.1:  # alphanumeric CNPJ (IN RFB 2.229/2024)
            root = "".join(rng.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(8))
        else:
            root = f"{rng.randrange(10_000_000, 100_000_000)}"
        return make_cnpj(root + "0001")
    while True:
        first9 = f"{rng.randrange(0, 1_000_000_000):09d}"
        if len(set(first9)) > 1:
            return make_cpf(first9)


class _Vocabulary:
    """Every pool value quoted once, with its slug, so the per-tenant loop only concatenates."""

    def __init__(self) -> None:
        self.brands = [(yaml_str(b)[1:-1], _ascii_slug(b)) for b in _BRANDS]
        self.trades = [(yaml_str(t)[1:-1], _ascii_slug(t)) for t in _TRADES]
        self.suffixes = [yaml_str(s)[1:-1] for s in _SUFFIXES]
        self.people = [
            (yaml_str(f"{f} {last}"), _ascii_slug(f).replace("-", ""), _ascii_slug(last).replace("-", ""))
            for f in _FIRST
            for last in _LAST
        ]
        self.departments = [(yaml_str(d)[1:-1], _ascii_slug(d)) for d in _DEPARTMENTS]
        self.streets = [yaml_str(s)[1:-1] for s in _STREETS]
        cities = {}
        for ddd, (uf, region) in ddd_table().items():
            city = region.split(" (")[0].split(" / ")[0].strip()
            cities[ddd] = (yaml_str(city), uf)
        self.cities = cities


def generate_platform(spec: GeneratorSpec, out: Path) -> GeneratorStats:
    """Write a complete, valid repository for `spec` under `out` (which must hold no data yet)."""
    for folder in DATA_FOLDERS:
        if (out / folder).is_dir() and any((out / folder).iterdir()):
            raise UserError(f"{out / folder} is not empty: generate into a new directory")
    rng = random.Random(spec.seed)
    words = _Vocabulary()
    plans = _plans(spec.extensions_per_tenant)
    plan_weights = [p.weight for p in plans]
    routes = _routes()
    route_weights = [r.weight for r in routes]
    ddds = sorted(ddd_table())
    # Every DDD gets tenants once there are enough of them; then the big cities weigh more.
    ddd_weights = [
        12 if d == "11" else 5 if d in ("21", "31", "41", "51", "61", "71", "81") else 1 for d in ddds
    ]
    numbering = _Numbering(rng, ddds)
    server_names = _server_names(-(-spec.tenants // TENANTS_PER_SERVER))
    calls: dict[str, int] = defaultdict(int)
    placed: dict[str, int] = defaultdict(int)
    numbers_by_ddd: dict[str, list[_Number]] = defaultdict(list)
    tenant_files: list[tuple[str, str]] = []
    extensions_total = 0

    for index in range(spec.tenants):
        tenant_id = FIRST_ID + index
        status = _status_of(index, spec.tenants, rng)
        plan = rng.choices(plans, plan_weights)[0]
        route = rng.choices(routes, route_weights)[0].slug
        ddd = ddds[index] if index < len(ddds) else rng.choices(ddds, ddd_weights)[0]
        server = server_names[index % len(server_names)]
        if status != "removido":
            calls[server] += plan.concurrent_calls
            placed[server] += 1
        juridica = rng.random() < 0.8
        person, first_slug, last_slug = rng.choice(words.people)
        if juridica:
            brand, brand_slug = rng.choice(words.brands)
            trade, trade_slug = rng.choice(words.trades)
            name = f'"{brand} {trade} {rng.choice(words.suffixes)}"'
            slug = f"{brand_slug}-{trade_slug}-{tenant_id}"
        else:
            name = person
            slug = f"{first_slug}-{last_slug}-{tenant_id}"
        domain = f"{slug}.com.br"
        city, uf = words.cities[ddd]

        dids = numbering.block(ddd, spec.numbers_per_tenant, mobile=rng.random() < 0.1)
        owned = status != "removido"
        has_queue = plan.queues >= 1 and rng.random() < 0.4
        second_queue = (
            has_queue and plan.queues >= 2 and spec.extensions_per_tenant >= 4 and rng.random() < 0.3
        )
        has_ivr = plan.ivrs >= 1 and rng.random() < 0.25

        ext_lines = []
        ext_count = spec.extensions_per_tenant
        for k in range(ext_count):
            number = FIRST_EXTENSION + k
            if rng.random() < 0.5:
                dept, dept_slug = words.departments[k % len(words.departments)]
                ext_name, local = (f'"{dept}"' if k < len(words.departments) else f'"{dept} {k}"'), dept_slug
            else:
                ext_name, p_first, p_last = rng.choice(words.people)
                local = f"{p_first}.{p_last}"
            parts = [f"number: {number}", f"name: {ext_name}"]
            if rng.random() < 0.7:
                parts.append(f"email: {local}.{number}@{domain}")
            if rng.random() < 0.4:
                parts.append(f"outbound: {_class_list(plan.allowed[: rng.randint(1, len(plan.allowed))])}")
            if owned and rng.random() < 0.2:
                parts.append(f'caller_id: "{rng.choice(dids)}"')
            if k == 0 or rng.random() < 0.3:
                parts.append("voicemail: true")
            ext_lines.append("  - {" + ", ".join(parts) + "}")
        extensions_total += ext_count

        lines = [
            schema_reference(f"tenants/{slug}.yaml", Kind.TENANT),
            f"id: {tenant_id}",
            f"name: {name}",
            f"contact: {person}",
            f"person_type: {'juridica' if juridica else 'fisica'}",
            f'document: "{_document(rng, juridica)}"',
            f"email: contato@{domain}",
            f"status: {status}",
            f"permission: {'revenda' if rng.random() < 0.03 else 'cliente'}",
            f"service_code: {slug[:3].upper()}-{tenant_id:06d}",
            f"plan: {plan.slug}",
            f"due_date: 2026-{rng.randint(1, 12):02d}-{rng.choice((5, 10, 15, 20, 25)):02d}",
            f"server: {server}",
        ]
        if owned:
            lines.append(f'caller_id: "{dids[0]}"')
        if rng.random() < 0.05:
            lines.append(f"access_rotation: {rng.randint(1, 3)}")
        lines.append(
            f'contact_details: {{phone: "+55 {ddd} {dids[0][2:-4]}-{dids[0][-4:]}", '
            f'address: "{rng.choice(words.streets)}, {rng.randint(1, 4000)}", city: {city}, state: {uf}, '
            f'zip: "{rng.randint(10000, 99999)}-{rng.randint(0, 999):03d}"}}'
        )
        lines.append("extensions:")
        lines += ext_lines
        if has_queue:
            members = ", ".join(str(FIRST_EXTENSION + k) for k in range(min(3, ext_count)))
            lines += [
                "queues:",
                f'  - {{number: {QUEUE_NUMBERS[0]}, name: "Atendimento", strategy: {rng.choice(_STRATEGIES)}, '
                f'members: [{members}], timeout: 30, overflow: "voicemail:{FIRST_EXTENSION}"}}',
            ]
            if second_queue:
                members = ", ".join(str(FIRST_EXTENSION + k) for k in range(2, min(6, ext_count)))
                lines.append(
                    f'  - {{number: {QUEUE_NUMBERS[1]}, name: "Suporte", strategy: ringall, '
                    f'members: [{members}], timeout: {rng.choice((20, 30, 45))}, overflow: "queue:{QUEUE_NUMBERS[0]}"}}'
                )
        if has_ivr:
            first_option = f"queue:{QUEUE_NUMBERS[0]}" if has_queue else f"extension:{FIRST_EXTENSION}"
            options = [f'"1": "{first_option}"']
            if ext_count >= 2:
                options.append(f'"2": "extension:{FIRST_EXTENSION + 1}"')
            options.append(f'"0": "extension:{FIRST_EXTENSION}"')
            lines += [
                "ivrs:",
                f'  - {{number: {IVR_NUMBER}, name: "Principal", greeting: {rng.choice(_GREETINGS)}, '
                f"options: {{{', '.join(options)}}}, wait_s: 5, "
                f'timeout: "extension:{FIRST_EXTENSION}", invalid: hangup}}',
            ]
        tenant_files.append((f"tenants/{slug}.yaml", "\n".join(lines) + "\n"))

        for i, did in enumerate(dids):
            if not owned:
                numbers_by_ddd[ddd].append(_Number(did, route, None, None, False))
                continue
            if i == 0:
                dest = (
                    f"ivr:{IVR_NUMBER}"
                    if has_ivr
                    else f"queue:{QUEUE_NUMBERS[0]}"
                    if has_queue
                    else f"extension:{FIRST_EXTENSION}"
                )
            else:
                dest = f"extension:{FIRST_EXTENSION + i % ext_count}"
            numbers_by_ddd[ddd].append(_Number(did, route, slug, dest, rng.random() < 0.05))

    files: list[tuple[str, str]] = [
        (PLATFORM_FILE, _platform_text()),
        (HOSTS_FILE, _hosts_text(server_names, calls, placed)),
        ("inventory/group_vars/asterisk.yml", _group_vars_text()),
    ]
    for slug, name, host, fmt, csp, header in _TRUNKS:
        files.append(
            (f"inventory/trunks/{slug}.yaml", _trunk_text(slug, name, host, fmt, csp, header, server_names))
        )
    files += [(f"plans/{p.slug}.yaml", p.text) for p in plans]
    files += [(f"routes/{r.slug}.yaml", r.text) for r in routes]
    files += tenant_files
    for ddd in sorted(numbers_by_ddd):
        rel = f"numbers/{ddd}.yaml"
        lines = [schema_reference(rel, Kind.NUMBERS)]
        for n in sorted(numbers_by_ddd[ddd], key=lambda n: n.number):
            if n.owner is None:
                lines.append(f'- {{number: "{n.number}", route: {n.route}, owner: null}}')
            else:
                lines.append(
                    f'- {{number: "{n.number}", route: {n.route}, owner: {n.owner}, '
                    f'reverse_billing: {"true" if n.reverse_billing else "false"}, destination: "{n.destination}"}}'
                )
        files.append((rel, "\n".join(lines) + "\n"))

    files += render_schemas().items()  # the files' first lines point editors at these
    made: set[Path] = set()
    for rel, text in files:
        path = out / rel
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(text.encode("utf-8"))
    return GeneratorStats(
        servers=len(server_names),
        tenants=spec.tenants,
        extensions=extensions_total,
        numbers=sum(len(v) for v in numbers_by_ddd.values()),
    )
