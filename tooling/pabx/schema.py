"""JSON Schema per file kind, generated from the models (the single source of truth)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from pabx.loader.layout import Kind, schema_file
from pabx.loader.repo import MODELS

DESCRIPTIONS: dict[Kind, str] = {
    Kind.PLATFORM: "inventory/platform.yaml: platform settings (SMTP, portal URL, time zone, dialing)",
    Kind.INVENTORY: "inventory/hosts.yml: Ansible YAML inventory; Asterisk servers in the 'asterisk' group",
    Kind.TRUNK: "inventory/trunks/<name>.yaml: a carrier trunk",
    Kind.PLAN: "plans/<slug>.yaml: a commercial plan (Plano)",
    Kind.ROUTE: "routes/<slug>.yaml: an outbound route (Rota), a trunk per call class",
    Kind.TENANT: "tenants/<slug>.yaml: a tenant (Cliente)",
    Kind.NUMBERS: "numbers/<DDD>.yaml: the numbers (Números) of one DDD",
    Kind.USERS: "inventory/users.yaml: platform users, their roles and the tenants each manages (CODEOWNERS)",
}


def schema_for(kind: Kind) -> dict[str, Any]:
    schema = TypeAdapter(MODELS[kind]).json_schema(mode="validation")
    head = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_file(kind),
        "description": DESCRIPTIONS[kind],
    }
    if kind is Kind.NUMBERS:
        head["title"] = "Números"
    return {**head, **schema}


def render_schemas() -> dict[str, str]:
    """Relative path -> file text, for every kind."""
    return {
        schema_file(kind): json.dumps(schema_for(kind), ensure_ascii=False, indent=2, sort_keys=False) + "\n"
        for kind in Kind
    }


def write_schemas(root: Path) -> list[str]:
    """Write the schema files under `root`; return those whose content changed."""
    changed = []
    for rel, text in render_schemas().items():
        path = root / rel
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(rel)
    return changed


def stale_schemas(root: Path) -> list[str]:
    return [
        rel
        for rel, text in render_schemas().items()
        if not (root / rel).is_file() or (root / rel).read_text(encoding="utf-8") != text
    ]
