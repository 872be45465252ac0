"""Injection safety: no YAML value can open a section, add an option or dialplan line, or smuggle
a `${...}` / `$[...]` expansion into a rendered file. Hostile values either fail validation or
render into exactly the same structure as harmless ones (parsed back with our config parser)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pabx.dialplan.config import parse_config_text, prefix_resolver
from pabx.loader import Repository, load_valid_repository
from pabx.model import Tenant
from pabx.render import render_servers
from pabx.render.secrets import Secrets
from tests.conftest import ROOT

HOSTILE_BITS = [
    "\n[evil]\nexten => _X.,1,Dial(PJSIP/other_2001)",
    "x;comment",
    "${SHELL(rm -rf /)}",
    "$[1+1]",
    '"quoted" <666>',
    "a,b,c",
    "name=value",
    "\\;",
    "#include /etc/passwd",
    "]",
    "(!)",
    "=>",
    "\r\n",
    "\x00",
    "ção & açúcar",
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE_BITS),
    st.text(min_size=1, max_size=40),
    st.lists(st.sampled_from(HOSTILE_BITS), min_size=1, max_size=4).map("".join),
)

SECRETS = Secrets(
    b"k",
    {
        "PABX_TRUNK_VIVO_SP_PASSWORD": "p1",
        "PABX_TRUNK_CLARO_RJ_PASSWORD": "p2",
        "PABX_TRUNK_EMBRATEL_PASSWORD": "p3",
    },
)


@pytest.fixture(scope="module")
def baseline() -> tuple[Repository, dict[str, dict[str, str]]]:
    repo, _ = load_valid_repository(ROOT)
    return repo, render_servers(repo, SECRETS)


def _structure(files: dict[str, str]) -> list[tuple[str, str, str, bool]]:
    """Every (file, section, option name, object flag), as Asterisk would load the entry files."""
    build = Path("/build")

    def reader(path: Path) -> str:
        return files[path.relative_to(build).as_posix()]

    out: list[tuple[str, str, str, bool]] = []
    for entry in ("pjsip.conf", "extensions.conf", "queues.conf", "voicemail.conf", "cdr.conf"):
        if entry not in files:
            continue
        cfg = parse_config_text(
            files[entry],
            name=f"/build/{entry}",
            resolver=prefix_resolver(build, {"pabx/": build}),
            reader=reader,
        )
        assert cfg.ok, cfg.problems
        for section in cfg.sections:
            for option in section.own_options:
                out.append((option.file.as_posix(), section.name, option.name, option.is_object))
    return out


def _with(tenant: Tenant, **changes: Any) -> Tenant | None:
    data = copy.deepcopy(tenant.model_dump(mode="python"))
    for key, value in changes.items():
        if key == "extension_names":
            for ext, name in zip(data["extensions"], value, strict=False):
                ext["name"] = name
        elif key == "emails":
            for ext, email in zip(data["extensions"], value, strict=False):
                ext["email"] = email
        else:
            data[key] = value
    try:
        return Tenant.model_validate(data)
    except ValidationError:
        return None


def _assert_same_structure(
    baseline: tuple[Repository, dict[str, dict[str, str]]], changed: Tenant | None
) -> None:
    repo, files = baseline
    if changed is None:
        return  # the model refused the value: it never reaches a renderer
    hostile_repo = copy.copy(repo)
    hostile_repo.tenants = {**repo.tenants, "acme": changed}
    rendered = render_servers(hostile_repo, SECRETS)
    for server, server_files in rendered.items():
        assert _structure(server_files) == _structure(files[server])
        blob = "\n".join(server_files.values())
        baseline_blob = "\n".join(files[server].values())
        assert blob.count("${") == baseline_blob.count("${")
        assert blob.count("$[") == baseline_blob.count("$[")
        assert blob.count("\n") == baseline_blob.count("\n")


SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(name=hostile_text, contact=hostile_text, ext_names=st.lists(hostile_text, min_size=1, max_size=4))
def test_hostile_names_cannot_change_the_structure(
    baseline: tuple[Repository, dict[str, dict[str, str]]], name: str, contact: str, ext_names: list[str]
) -> None:
    _assert_same_structure(
        baseline, _with(baseline[0].tenants["acme"], name=name, contact=contact, extension_names=ext_names)
    )


@SETTINGS
@given(emails=st.lists(hostile_text, min_size=1, max_size=3))
def test_hostile_emails_cannot_change_the_structure(
    baseline: tuple[Repository, dict[str, dict[str, str]]], emails: list[str]
) -> None:
    _assert_same_structure(baseline, _with(baseline[0].tenants["acme"], emails=emails))


@pytest.mark.parametrize("bit", [b for b in HOSTILE_BITS if not any(ord(c) < 32 for c in b)])
def test_each_printable_hostile_name_is_accepted_and_neutralized(
    baseline: tuple[Repository, dict[str, dict[str, str]]], bit: str
) -> None:
    changed = _with(baseline[0].tenants["acme"], extension_names=[bit, bit])
    assert changed is not None, "printable names are legitimate input: the renderer must cope"
    _assert_same_structure(baseline, changed)


@pytest.mark.parametrize(
    "field,value",
    [
        ("caller_id", "1130001000\nexten => x"),
        ("server", "pbx-sp-01]\n[x"),
        ("plan", "empresarial;x"),
    ],
)
def test_structured_fields_refuse_hostile_values(
    baseline: tuple[Repository, dict[str, dict[str, str]]], field: str, value: str
) -> None:
    repo, _ = baseline
    assert _with(repo.tenants["acme"], **{field: value}) is None


def test_hostile_greeting_and_destination_are_refused(
    baseline: tuple[Repository, dict[str, dict[str, str]]],
) -> None:
    repo, _ = baseline
    data = repo.tenants["acme"].model_dump(mode="python")
    data["ivrs"][0]["greeting"] = "x,1)\nexten => 1,1,Dial(PJSIP/evil"
    with pytest.raises(ValidationError):
        Tenant.model_validate(data)
    data = repo.tenants["acme"].model_dump(mode="python")
    data["ivrs"][0]["options"]["1"] = "queue:600,1)"
    with pytest.raises(ValidationError):
        Tenant.model_validate(data)
