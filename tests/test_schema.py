"""The JSON Schemas are generated from the models, committed current, and accept the real data."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pabx.loader.layout import Kind, discover, schema_file, schema_reference
from pabx.loader.yamlpos import parse
from pabx.schema import render_schemas, stale_schemas
from tests.conftest import ROOT


def test_committed_schemas_are_current() -> None:
    assert stale_schemas(ROOT) == [], "run `pabx schema` and commit the result"


def test_fields_carry_the_seed_terms_as_titles() -> None:
    tenant = json.loads(render_schemas()[schema_file(Kind.TENANT)])
    assert tenant["title"] == "Cliente"
    assert tenant["properties"]["service_code"]["title"] == "Código de serviço"
    numbers = json.loads(render_schemas()[schema_file(Kind.NUMBERS)])
    assert numbers["items"]["$ref"].endswith("NumberEntry")
    entry = numbers["$defs"]["NumberEntry"]["properties"]
    assert entry["reverse_billing"]["title"] == "Tarifação reversa"
    assert entry["owner"]["title"] == "Proprietário"


def _data_files() -> list[tuple[str, Kind]]:
    return discover(ROOT)[0]


@pytest.mark.parametrize(("rel", "kind"), _data_files(), ids=[rel for rel, _ in _data_files()])
def test_repository_data_matches_its_json_schema(rel: str, kind: Kind) -> None:
    text = (ROOT / rel).read_text(encoding="utf-8")
    assert text.splitlines()[0] == schema_reference(rel, kind)
    data, _ = parse(text, rel)
    schema = json.loads((ROOT / schema_file(kind)).read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(json.dumps(data, default=str)), schema)


def test_json_schema_rejects_an_unknown_key(tmp_path: Path) -> None:
    schema = json.loads(render_schemas()[schema_file(Kind.PLAN)])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "x", "limitz": {}}, schema)
