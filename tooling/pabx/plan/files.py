"""Per-server file changes of the masked render: unified diffs, the targeted reloads, restarts.

Reloads come from an allow-list keyed by the Asterisk file a rendered file belongs to; there is
never a `core reload`. PJSIP transports are not reloadable (Asterisk keeps a changed or removed
transport as it was until a restart), so a change to one flags the server as needing a restart.
"""

from __future__ import annotations

import difflib
from pathlib import Path, PurePosixPath

from pabx.dialplan.config import Section, parse_config_text
from pabx.plan.model import Action, FileChange
from pabx.render import naming

# Entry file -> the one CLI command that makes Asterisk read it again, in the order to run them.
RELOADS: dict[str, str] = {
    "pjsip.conf": "module reload res_pjsip.so",
    "extensions.conf": "dialplan reload",
    "queues.conf": "module reload app_queue.so",
    "voicemail.conf": "module reload app_voicemail.so",
    "cdr.conf": "module reload cdr_csv.so",
}
NOT_CONFIG = frozenset({naming.MANIFEST})
CONTEXT_LINES = 3


def unified_diff(path: str, old: str | None, new: str | None) -> str:
    a = [] if old is None else old.splitlines(keepends=True)
    b = [] if new is None else new.splitlines(keepends=True)
    lines = difflib.unified_diff(
        a,
        b,
        fromfile="/dev/null" if old is None else f"a/{path}",
        tofile="/dev/null" if new is None else f"b/{path}",
        n=CONTEXT_LINES,
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def file_changes(base: dict[str, str], head: dict[str, str]) -> dict[str, FileChange]:
    """Changed files of one server (manifest excluded), path -> action and unified diff."""
    out: dict[str, FileChange] = {}
    for path in sorted(set(base) | set(head)):
        if path in NOT_CONFIG:
            continue
        old, new = base.get(path), head.get(path)
        if old == new:
            continue
        action = Action.CREATE if old is None else Action.DELETE if new is None else Action.UPDATE
        out[path] = FileChange(path, action, unified_diff(path, old, new))
    return out


def entry_file(path: str) -> str:
    """The Asterisk entry file a rendered file is part of: tenants/acme/pjsip.conf -> pjsip.conf."""
    return PurePosixPath(path).name


def reloads_for(paths: list[str]) -> tuple[list[str], list[str]]:
    """(reload commands in allow-list order, files with no targeted reload known)."""
    wanted = {entry_file(p) for p in paths}
    reloads = [command for entry, command in RELOADS.items() if entry in wanted]
    unknown = sorted(p for p in paths if entry_file(p) not in RELOADS)
    return reloads, unknown


def transports(text: str | None) -> dict[str, list[tuple[str, str]]]:
    """`type=transport` sections of one pjsip file: name -> its options in order (includes not read)."""
    if not text:
        return {}
    config = parse_config_text(text, name="pjsip.conf", config_dir=Path("/nonexistent"), reader=lambda _p: "")
    out: dict[str, list[tuple[str, str]]] = {}
    for section in config.concrete_sections():
        if _is_transport(section):
            out[section.name] = [(o.name, o.value) for o in section.options]
    return out


def _is_transport(section: Section) -> bool:
    return section.get("type") == "transport"


def restart_reasons(base: dict[str, str], head: dict[str, str], changed: list[str]) -> list[str]:
    """Why a reload is not enough: a PJSIP transport changed or went away."""
    reasons: list[str] = []
    for path in changed:
        if entry_file(path) != "pjsip.conf":
            continue
        before, after = transports(base.get(path)), transports(head.get(path))
        for name in sorted(set(before) | set(after)):
            old, new = before.get(name), after.get(name)
            if old == new or old is None:
                continue  # a new transport is created by the res_pjsip reload
            if new is None:
                reasons.append(
                    f"transporte PJSIP {name} removido ({path}): o Asterisk só o descarta ao reiniciar"
                )
                continue
            diffs = [
                f"{key} {dict(old).get(key, '—')} → {dict(new).get(key, '—')}"
                for key in sorted({k for k, _ in old} | {k for k, _ in new})
                if dict(old).get(key) != dict(new).get(key)
            ]
            reasons.append(
                f"transporte PJSIP {name} alterado ({', '.join(diffs) or 'opções'}; {path}): "
                "o Asterisk não recarrega transportes, é preciso reiniciar"
            )
    for path in changed:
        if entry_file(path) not in RELOADS and path not in NOT_CONFIG:
            reasons.append(f"{path}: nenhum reload específico conhecido para este arquivo")
    return reasons
