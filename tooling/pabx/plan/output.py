"""The plan for people and machines: text (terminal), markdown (one pull-request comment), json.

Each format is a small class with the same `render(plan) -> str`. The markdown must fit one
GitHub comment (65,536 characters) however big the change: the gates and the semantic list come
first and are kept; diffs are cut to fit, and the comment says so.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Any, ClassVar, Protocol

from pabx.plan.model import Action, Change, Plan, ServerPlan
from pabx.plan.semantic import KIND_LABELS

MARKER = "<!-- pabx-plan -->"  # lets a workflow find its own comment and update it in place
GITHUB_COMMENT_LIMIT = 65_536
SYMBOL = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}
ACTION_LABEL = {Action.CREATE: "criar", Action.UPDATE: "alterar", Action.DELETE: "remover"}


def _value(value: Any, limit: int = 60) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _base_label(plan: Plan) -> str:
    if plan.base == "deployed":
        return "o que está no ar (registros de deploy)"
    return plan.base


def _short(revision: str | None) -> str:
    return revision[:12] if revision else "nada no ar"


def _grouped(changes: Iterable[Change]) -> dict[str, list[Change]]:
    out: dict[str, list[Change]] = {}
    for change in changes:
        out.setdefault(change.kind, []).append(change)
    return out


def _counts_line(plan: Plan) -> str:
    counts = plan.counts()
    total = sum(counts.values())
    servers = len(plan.changed_servers)
    parts = ", ".join(
        f"{counts[str(a)]} {ACTION_LABEL[a]}" for a in (Action.CREATE, Action.UPDATE, Action.DELETE)
    )
    gates = f"; {len(plan.gates)} bloqueio(s)" if plan.gates else ""
    return f"{total} mudança(s) ({parts}) em {servers} servidor(es){gates}"


class TextFormat:
    """For a terminal: everything, diffs in full."""

    name: ClassVar[str] = "text"

    def render(self, plan: Plan) -> str:
        lines = [
            f"Plano: árvore de trabalho ({plan.head_revision}) contra {_base_label(plan)}",
            f"Resumo: {_counts_line(plan)}",
        ]
        if plan.is_empty:
            lines += ["", "Sem mudanças: nada a aplicar."]
        if plan.gates:
            allowed = (
                "permitidos (--allow-destructive)"
                if plan.allow_destructive
                else "o apply recusa sem --allow-destructive"
            )
            lines += ["", f"BLOQUEIOS ({allowed}):"]
            lines += [f"  ! [{g.kind}] {g.reason}" for g in plan.gates]
        if plan.changes:
            lines += ["", "Mudanças:"]
            for kind, changes in _grouped(plan.changes).items():
                lines.append(f"  {KIND_LABELS.get(kind, kind)}")
                for change in changes:
                    lines.append(
                        f"    {SYMBOL[change.action]} {change.id}  {change.summary}  ({change.file})"
                    )
                    lines += [f"        {f.field}: {_value(f.old)} → {_value(f.new)}" for f in change.fields]
        lines += edge_lines(plan)
        lines += ["", "Servidores:"]
        for name, server in plan.servers.items():
            lines += self._server(name, server)
        lines += ["", f"Checksum: {plan.checksum}"]
        return "\n".join(lines) + "\n"

    def _server(self, name: str, server: ServerPlan) -> list[str]:
        base = f"base {_short(server.base_revision)}"
        if not server.changed:
            return [f"  {name} ({base}): sem mudanças"]
        lines = [f"  {name} ({base}): {len(server.files)} arquivo(s)"]
        lines.append(f"    reloads: {', '.join(server.reloads) or 'nenhum'}")
        if server.restart_required:
            lines += [f"    REINÍCIO NECESSÁRIO: {reason}" for reason in server.restart_reasons]
        for path, change in server.files.items():
            lines.append(f"    {SYMBOL[change.action]} {path}")
            lines += [f"      {line}" for line in change.diff.rstrip("\n").splitlines()]
        return lines


# kind of edge map entry -> its label in the report (singular, plural), in the report's order
EDGE_KINDS = (
    ("tenant", "cliente", "clientes"),
    ("did", "número", "números"),
    ("server", "servidor", "servidores"),
    ("carrier", "operadora", "operadoras"),
)


def edge_lines(plan: Plan, limit: int | None = None) -> list[str]:
    """The edge map change (DIDs and tenants changing server) and the order the apply follows."""
    edge = plan.edge
    if edge is None or not edge.changed:
        return []
    from pabx.edge.plan import apply_phases

    counts = ", ".join(
        f"{edge.counts[kind]} {one if edge.counts[kind] == 1 else many}"
        for kind, one, many in EDGE_KINDS
        if edge.counts.get(kind)
    )
    lines = ["", f"Edge SIP ({', '.join(edge.hosts)}): mapa muda ({counts})"]
    shown = edge.changes if limit is None else edge.changes[:limit]
    lines += [f"  ~ {c.describe()}" for c in shown]
    hidden = edge.truncated + len(edge.changes) - len(shown)
    if hidden:
        lines.append(f"  … e mais {hidden} (pabx plan --format json)")
    phases = apply_phases(plan.changed_servers, edge)
    lines.append("  Ordem do apply: " + " → ".join(f"{label} ({', '.join(m)})" for label, m in phases))
    return lines


class JsonFormat:
    """The plan's stable JSON shape (Plan.to_json), for machines."""

    name: ClassVar[str] = "json"

    def render(self, plan: Plan) -> str:
        return json.dumps(plan.to_json(), ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def _md(text: str) -> str:
    """Plain text safe inside markdown and HTML: no tag, no emphasis, no table break."""
    escaped = html.escape(text, quote=False)
    return re.sub(r"([\\`*_\[\]|#~])", r"\\\1", escaped)


def _code(text: str) -> str:
    return f"<code>{html.escape(text, quote=False)}</code>"


def _fence(body: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


class MarkdownFormat:
    """One pull-request comment: summary, gates, semantic changes, then one <details> per server."""

    name: ClassVar[str] = "markdown"
    budget: int = 60_000  # under GitHub's 65,536 with room for what a workflow adds around it
    max_diff_lines: int = 80
    max_field_values: int = 4
    changes_share: float = 0.75  # of the budget, at most, for the semantic list; diffs get the rest

    def __init__(self, budget: int | None = None) -> None:
        if budget is not None:
            self.budget = budget

    def render(self, plan: Plan) -> str:
        head = self._head(plan)
        tail = self._tail(plan)
        changes = self._changes(plan, int(self.budget * self.changes_share) - len(head))
        room = self.budget - len(head) - len(changes) - len(tail)
        edge = "\n".join(_md(line) if line else "" for line in edge_lines(plan, limit=40)) + "\n"
        room -= len(edge)
        servers = self._servers(plan, room)
        text = head + changes + edge + servers + tail
        if len(text) > self.budget:  # never expected: the parts were measured; stay valid regardless
            text = head + changes[: max(0, self.budget - len(head) - len(tail) - 200)] + "\n\n…\n" + tail
        return text

    def _head(self, plan: Plan) -> str:
        out = [MARKER, f"## Plano pabx: {_md(_counts_line(plan))}", ""]
        out.append(
            f"Árvore de trabalho {_code(plan.head_revision[:19])} contra {_md(_base_label(plan))}; "
            "segredos mascarados."
        )
        out.append("")
        if plan.is_empty:
            out += ["**Sem mudanças**: nada a aplicar.", ""]
        if plan.gates:
            verdict = (
                "permitidos por `allow-destructive`"
                if plan.allow_destructive
                else "o apply **recusa** sem o rótulo `allow-destructive` no pull request"
            )
            out += ["> [!WARNING]", f"> **{len(plan.gates)} bloqueio(s)**: {verdict}.", ">"]
            shown = plan.gates[:40]
            out += [f"> - `{g.kind}` {_md(g.reason)}" for g in shown]
            if len(plan.gates) > len(shown):
                out.append(f"> - … e mais {len(plan.gates) - len(shown)} (lista completa no JSON do plano)")
            out.append("")
        if plan.changes:
            counts = plan.counts()
            out += [
                "| | criar | alterar | remover |",
                "|---|---:|---:|---:|",
            ]
            for kind, changes in _grouped(plan.changes).items():
                row = {a: sum(1 for c in changes if c.action is a) for a in Action}
                out.append(
                    f"| {KIND_LABELS.get(kind, kind)} | {row[Action.CREATE]} | {row[Action.UPDATE]} | {row[Action.DELETE]} |"
                )
            out.append(f"| **total** | {counts['create']} | {counts['update']} | {counts['delete']} |")
            out.append("")
        return "\n".join(out) + "\n"

    def _change_line(self, change: Change, compact: bool) -> str:
        """One change; `compact` names the changed fields without their values."""
        line = f"- {SYMBOL[change.action]} `{change.id}`"
        if change.action is not Action.UPDATE or change.event in ("moved", "assigned", "released", "status"):
            line += f" {_md(change.summary)}"
            if change.action is not Action.UPDATE or compact:
                return line
        if compact:
            return line + ": " + _md(", ".join(f.field for f in change.fields))
        fields = change.fields[: self.max_field_values]
        details = "; ".join(
            f"{_md(f.field)}: {_md(_value(f.old, 40))} → {_md(_value(f.new, 40))}" for f in fields
        )
        more = f"; +{len(change.fields) - len(fields)}" if len(change.fields) > len(fields) else ""
        return (
            f"{line} {details}{more}"
            if change.event not in ("moved", "assigned", "released", "status")
            else line
        )

    def _changes(self, plan: Plan, room: int) -> str:
        """The semantic list, with values when it fits, field names only when not, cut as a last resort."""
        if not plan.changes:
            return ""
        for compact in (False, True):
            text, complete = self._change_list(plan, room, compact)
            if complete:
                return text
        return text

    def _change_list(self, plan: Plan, room: int, compact: bool) -> tuple[str, bool]:
        out: list[str] = []
        used = 0
        left = len(plan.changes)
        room = max(room, 4_000)
        for kind, changes in _grouped(plan.changes).items():
            header = f"\n### {KIND_LABELS.get(kind, kind)} ({len(changes)})\n\n"
            out.append(header)
            used += len(header)
            for change in changes:
                line = self._change_line(change, compact) + "\n"
                if used + len(line) > room - 200:
                    out.append(
                        f"\n… e mais {left} mudança(s): a lista completa está em `pabx plan --format json` "
                        "(e no artefato do workflow).\n"
                    )
                    return "".join(out) + "\n", False
                out.append(line)
                used += len(line)
                left -= 1
        if compact:
            out.append(
                "\n_Lista compacta (campos sem valores) para caber no comentário; os valores: `pabx plan`._\n"
            )
        return "".join(out) + "\n", True

    def _servers(self, plan: Plan, room: int) -> str:
        """Every changed server gets at least its <details> with the reloads; diffs share the rest."""
        changed = [(n, s) for n, s in plan.servers.items() if s.changed]
        unchanged = [n for n, s in plan.servers.items() if not s.changed]
        out = ["### Por servidor: arquivos e reloads\n"]
        if unchanged:
            names = ", ".join(unchanged[:30]) + (
                f" e mais {len(unchanged) - 30}" if len(unchanged) > 30 else ""
            )
            out.append(f"Sem mudanças: {_md(names)}.\n")
        notes = 400  # the closing notes below
        room -= sum(len(p) + 1 for p in out) + notes
        minimal = [len(self._server(name, server, 0)[0]) + 1 for name, server in changed]
        shown = len(changed)
        while shown and sum(minimal[:shown]) > room:
            shown -= 1
        extra = room - sum(minimal[:shown])
        truncated = False
        for index, (name, server) in enumerate(changed[:shown]):
            share = minimal[index] + extra // (shown - index)
            block, cut = self._server(name, server, share)
            extra -= len(block) + 1 - minimal[index]
            out.append(block)
            truncated = truncated or cut
        if shown < len(changed):
            rest = ", ".join(name for name, _ in changed[shown:][:50])
            out.append(
                f"\n… e mais {len(changed) - shown} servidor(es) com mudanças: {_md(rest[:300])} (veja `pabx plan`).\n"
            )
            truncated = True
        if truncated:
            out.append(
                "\n_Diffs truncados para caber em um comentário; o plano completo: `pabx plan` "
                "ou o artefato do workflow._\n"
            )
        return "\n".join(out) + "\n"

    def _server(self, name: str, server: ServerPlan, share: int) -> tuple[str, bool]:
        """One server's <details> within `share` characters (diffs cut first); and whether cut."""
        reloads = ", ".join(_code(r) for r in server.reloads) or "nenhum"
        restart = " · <b>reinício necessário</b>" if server.restart_required else ""
        summary = (
            f"<details><summary><b>{html.escape(name)}</b>: {len(server.files)} arquivo(s) · "
            f"reloads: {reloads}{restart}</summary>\n\n"
        )
        lines = [summary, f"Base: {_code(_short(server.base_revision))}\n\n"]
        lines += [f"- ⚠️ {_md(r)}\n" for r in server.restart_reasons]
        if server.restart_reasons:
            lines.append("\n")
        end = "</details>\n"
        short_note = f"Diff omitido para {len(server.files)} arquivo(s) (tamanho do comentário).\n\n"
        used = sum(len(x) for x in lines) + len(end) + len(short_note)  # room kept for the short note
        cut = False
        omitted: list[str] = []
        for path, change in server.files.items():
            diff = change.diff
            diff_lines = diff.splitlines()
            if len(diff_lines) > self.max_diff_lines:
                hidden = len(diff_lines) - self.max_diff_lines
                diff = (
                    "\n".join(diff_lines[: self.max_diff_lines]) + f"\n... ({hidden} linha(s) omitida(s))\n"
                )
                cut = True
            fence = _fence(diff)
            block = f"{SYMBOL[change.action]} `{path}`\n{fence}diff\n{diff.rstrip()}\n{fence}\n\n"
            if used + len(block) > share:
                omitted.append(path)
                continue
            lines.append(block)
            used += len(block)
        if omitted:
            cut = True
            listed = ", ".join(f"`{p}`" for p in omitted[:20])
            more = f" e mais {len(omitted) - 20}" if len(omitted) > 20 else ""
            note = f"Diff omitido (tamanho do comentário) para {len(omitted)} arquivo(s): {listed}{more}.\n\n"
            if used - len(short_note) + len(note) > share:
                note = f"Diff omitido para {len(omitted)} arquivo(s) (tamanho do comentário).\n\n"
            lines.append(note)
        lines.append(end)
        return "".join(lines), cut

    def _tail(self, plan: Plan) -> str:
        return f"\nChecksum do plano: `{plan.checksum}`\n"


class PlanFormat(Protocol):
    def render(self, plan: Plan) -> str: ...


FORMATS: dict[str, type[PlanFormat]] = {
    "text": TextFormat,
    "markdown": MarkdownFormat,
    "json": JsonFormat,
}


def render_plan(plan: Plan, fmt: str) -> str:
    return FORMATS[fmt]().render(plan)


__all__ = ["FORMATS", "MARKER", "JsonFormat", "MarkdownFormat", "PlanFormat", "TextFormat", "render_plan"]
