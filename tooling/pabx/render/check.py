"""The release self-check: the rendered files read back with the project's own Asterisk config
parser, and every reference between objects resolved (Asterisk has no dry-run).

Checked: the files parse without problems; every PJSIP endpoint's aors, auth, outbound_auth,
transport and context exist; identifies and registrations point at existing objects; every
Goto/GotoIf/Gosub target exists (targets built from channel variables are expanded over every
value the endpoints and contexts can give them); every Queue() names a configured queue, every
VoiceMail() an existing box and every Dial(PJSIP/...) an existing endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from pabx.dialplan.config import Config, Section, parse_config_text, prefix_resolver
from pabx.dialplan.extensions import Dialplan, load_dialplan
from pabx.errors import Problem
from pabx.model import CALL_CLASSES
from pabx.render import naming

BUILD = Path("/build")
_VAR = re.compile(r"\$\{([A-Z_]+)\}")


def parse_release(files: Mapping[str, str], entry: str) -> Config:
    """Parse one entry file of an in-memory release, following its includes."""

    def reader(path: Path) -> str:
        rel = path.relative_to(BUILD).as_posix()
        if rel not in files:
            raise FileNotFoundError(rel)
        return files[rel]

    return parse_config_text(
        files[entry],
        name=str(BUILD / entry),
        resolver=prefix_resolver(BUILD, {f"{naming.INCLUDE_PREFIX}/": BUILD}),
        reader=reader,
    )


def _problem(file: Path | str, line: int, message: str, rule: str) -> Problem:
    path = Path(file)
    rel = path.relative_to(BUILD).as_posix() if path.is_relative_to(BUILD) else str(path)
    return Problem(rel, line, 1, "", message, rule)


def check_release(files: Mapping[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    configs = {entry: parse_release(files, entry) for entry in naming.ENTRY_FILES if entry in files}
    for cfg in configs.values():
        problems += [_problem(p.path, p.line, p.message, p.rule) for p in cfg.problems]
    pjsip = configs.get("pjsip.conf", Config())
    dialplan = load_dialplan(configs.get("extensions.conf", Config()))
    problems += [_problem(p.path, p.line, p.message, p.rule) for p in dialplan.problems if p.path]
    objects: dict[tuple[str, str], Section] = {}
    domains: dict[str, set[str]] = {"PABX_CLASS": {c.value for c in CALL_CLASSES}}
    for section in pjsip.concrete_sections():
        objects[(section.get("type") or "", section.name)] = section
        for assignment in section.get_all("set_var"):
            var, _, value = assignment.partition("=")
            domains.setdefault(var, set()).add(value)
    problems += list(_pjsip_references(pjsip, objects, dialplan))
    queues = {s.name for s in configs.get("queues.conf", Config()).concrete_sections()} - {"general"}
    boxes = {
        f"{option.name}@{section.name}"
        for section in configs.get("voicemail.conf", Config()).concrete_sections()
        for option in section.options
    }
    problems += list(_dialplan_references(dialplan, objects, domains, queues, boxes))
    return sorted(set(problems))


def _pjsip_references(
    pjsip: Config, objects: Mapping[tuple[str, str], Section], dialplan: Dialplan
) -> Iterator[Problem]:
    def need(kind: str, name: str, section: Section, what: str) -> Iterator[Problem]:
        if (kind, name) not in objects:
            yield _problem(
                section.file, section.line, f"{what} '{name}' is not a {kind}", "check.pjsip-reference"
            )

    for section in pjsip.concrete_sections():
        kind = section.get("type")
        if kind == "endpoint":
            for aor in filter(None, (a.strip() for a in (section.get("aors") or "").split(","))):
                yield from need("aor", aor, section, f"endpoint {section.name}: aors")
            for key in ("auth", "outbound_auth"):
                if section.get(key):
                    yield from need(
                        "auth", section.get(key) or "", section, f"endpoint {section.name}: {key}"
                    )
            if section.get("transport"):
                yield from need(
                    "transport",
                    section.get("transport") or "",
                    section,
                    f"endpoint {section.name}: transport",
                )
            context = section.get("context")
            if context and context not in dialplan.contexts:
                yield _problem(
                    section.file,
                    section.line,
                    f"endpoint {section.name}: context '{context}' does not exist",
                    "check.pjsip-reference",
                )
        elif kind == "identify":
            yield from need(
                "endpoint", section.get("endpoint") or "", section, f"identify {section.name}: endpoint"
            )
        elif kind == "registration":
            if section.get("outbound_auth"):
                yield from need(
                    "auth",
                    section.get("outbound_auth") or "",
                    section,
                    f"registration {section.name}: outbound_auth",
                )
            if section.get("transport"):
                yield from need(
                    "transport",
                    section.get("transport") or "",
                    section,
                    f"registration {section.name}: transport",
                )


def _expand(text: str, domains: Mapping[str, set[str]]) -> list[str] | None:
    """Every value `text` can take when its ${VAR}s range over their domains; None if unknown."""
    names = _VAR.findall(text)
    if not names:
        return [text]
    if "${" in _VAR.sub("", text) or any(n not in domains for n in names):
        return None
    values = [text]
    for name in dict.fromkeys(names):
        values = [v.replace("${" + name + "}", d) for v in values for d in sorted(domains[name])]
    return values


def _targets(app: str, data: str) -> list[str]:
    if app in ("GotoIf", "GosubIf"):
        _, _, branches = data.partition("?")
        return [b for b in _split_branches(branches) if b]
    if app in ("Goto", "Gosub"):
        return [data]
    return []


def _split_branches(text: str) -> list[str]:
    depth = 0
    for i, ch in enumerate(text):
        depth += ch in "{[("
        depth -= ch in "}])"
        if ch == ":" and depth == 0:
            return [text[:i], text[i + 1 :]]
    return [text]


def _dialplan_references(
    dialplan: Dialplan,
    objects: Mapping[tuple[str, str], Section],
    domains: Mapping[str, set[str]],
    queues: set[str],
    boxes: set[str],
) -> Iterator[Problem]:
    for context in dialplan.contexts.values():
        for extension in context.extensions:
            for priority in extension.priorities.values():
                app, data = priority.app, priority.data
                where = (priority.file, priority.line)
                for target in _targets(app, data):
                    target = target.split("(", 1)[0]  # Gosub arguments
                    parts = [p.strip() for p in target.split(",")]
                    if len(parts) == 1:
                        parts = [context.name, extension.exten, parts[0]]
                    elif len(parts) == 2:
                        parts = [context.name, *parts]
                    for ctx in _expand(parts[0], domains) or []:
                        if ctx not in dialplan.contexts:
                            yield _problem(
                                *where, f"{app} target context '{ctx}' does not exist", "check.goto-target"
                            )
                            continue
                        for ext in _expand(parts[1], domains) or []:
                            prio = parts[2]
                            found = (
                                dialplan.find(ctx, ext, int(prio))
                                if prio.isdigit()
                                else dialplan.find(ctx, ext, label=prio)
                            )
                            if found is None:
                                yield _problem(
                                    *where,
                                    f"{app} target {ctx},{ext},{prio} does not exist",
                                    "check.goto-target",
                                )
                if app == "Queue":
                    name = data.split(",", 1)[0]
                    if name not in queues:
                        yield _problem(*where, f"queue '{name}' is not in queues.conf", "check.queue")
                if app == "VoiceMail":
                    box = data.split(",", 1)[0]
                    if box not in boxes:
                        yield _problem(
                            *where, f"voicemail box '{box}' is not in voicemail.conf", "check.voicemail"
                        )
                if app == "Dial":
                    for target in data.split(",", 1)[0].split("&"):
                        tech, _, rest = target.partition("/")
                        endpoint = rest.rsplit("@", 1)[-1]
                        if tech == "PJSIP" and "${" not in endpoint and ("endpoint", endpoint) not in objects:
                            yield _problem(
                                *where, f"Dial to '{endpoint}', which is not an endpoint", "check.dial"
                            )
