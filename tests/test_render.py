"""Render: layout, determinism, per-tenant isolation of changes, secrets, and asterisklint."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from pabx.cli import main
from pabx.errors import UserError
from pabx.loader import load_valid_repository
from pabx.render import render_repository, render_servers
from pabx.render.lint import asterisklint
from pabx.render.secrets import MASKED, Secrets

TRUNK_ENV = {
    "PABX_TRUNK_VIVO_SP_PASSWORD": "vivo-secret-value",
    "PABX_TRUNK_CLARO_RJ_PASSWORD": "claro-secret-value",
    "PABX_TRUNK_EMBRATEL_PASSWORD": "embratel-secret-value",
}


def _secrets(key: bytes | None = b"test-key") -> Secrets:
    return Secrets(key, dict(TRUNK_ENV))


def _render(repo: Path, out: Path, secrets: Secrets | None = None) -> dict[str, list[str]]:
    loaded, _ = load_valid_repository(repo)
    result = render_repository(loaded, out, secrets or _secrets(), revision="test")
    return {name: server.written for name, server in result.servers.items()}


def test_every_server_gets_its_entry_files_and_tenant_includes(demo_repo: Path, tmp_path: Path) -> None:
    loaded, _ = load_valid_repository(demo_repo)
    rendered = render_servers(loaded, _secrets())
    assert set(rendered) == set(loaded.servers)
    for server, files in rendered.items():
        for entry in ("pjsip.conf", "extensions.conf", "queues.conf", "cdr.conf"):
            assert entry in files
        placed = [
            slug for slug, t in loaded.tenants.items() if t.server == server and t.status.value != "removido"
        ]
        for slug in placed:
            rel = f"tenants/{slug}/extensions.conf"
            assert rel in files
            assert f'#include "pabx/{rel}"' in files["extensions.conf"]
            assert f'#include "pabx/tenants/{slug}/pjsip.conf"' in files["pjsip.conf"]
        for line in files["extensions.conf"].splitlines():
            assert not line.startswith("#include") or "*" not in line  # explicit includes, no globs


def test_removido_tenant_renders_nothing(demo_repo: Path) -> None:
    loaded, _ = load_valid_repository(demo_repo)
    removed = [slug for slug, t in loaded.tenants.items() if t.status.value == "removido"]
    assert removed, "demo data has a removido tenant"
    for files in render_servers(loaded, _secrets()).values():
        blob = "\n".join(files.values())
        for slug in removed:
            assert f"t_{slug}_" not in blob
            assert f"{slug}_" not in blob


def test_output_is_byte_identical_for_the_same_input(demo_repo: Path) -> None:
    loaded, _ = load_valid_repository(demo_repo)
    first = render_servers(loaded, _secrets())
    again, _ = load_valid_repository(demo_repo)
    assert render_servers(again, _secrets()) == first


def test_changing_one_tenant_rewrites_only_its_files(demo_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    _render(demo_repo, out)
    tenant_file = demo_repo / "tenants" / "acme.yaml"
    text = tenant_file.read_text(encoding="utf-8")
    text = text.replace("extensions:\n", "extensions:\n  - {number: 2999, name: Nova Sala}\n", 1)
    tenant_file.write_text(text, encoding="utf-8")
    written = _render(demo_repo, out)
    changed = {(server, rel) for server, rels in written.items() for rel in rels}
    assert changed == {
        ("pbx-sp-01", "tenants/acme/pjsip.conf"),
        ("pbx-sp-01", "tenants/acme/extensions.conf"),
    }


def test_second_render_writes_nothing(demo_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    _render(demo_repo, out)
    assert all(not rels for rels in _render(demo_repo, out).values())


def test_stale_files_of_a_moved_away_tenant_are_removed(demo_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    _render(demo_repo, out)
    assert (out / "pbx-sp-01" / "tenants" / "acme").is_dir()
    path = demo_repo / "tenants" / "acme.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("server: pbx-sp-01", "server: pbx-rj-01", 1))
    loaded, _ = load_valid_repository(demo_repo)
    result = render_repository(loaded, out, _secrets(), revision="test")
    assert "tenants/acme/pjsip.conf" in result.servers["pbx-sp-01"].removed
    assert not (out / "pbx-sp-01" / "tenants" / "acme").exists()
    assert "tenants/acme/pjsip.conf" in result.servers["pbx-rj-01"].written
    assert '#include "pabx/tenants/acme/pjsip.conf"' not in (out / "pbx-sp-01" / "pjsip.conf").read_text()


def test_secret_files_are_owner_only_and_manifest_has_checksums(demo_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    _render(demo_repo, out)
    server = out / "pbx-sp-01"
    assert stat.S_IMODE((server / "pjsip.conf").stat().st_mode) == 0o600
    assert stat.S_IMODE((server / "tenants" / "acme" / "pjsip.conf").stat().st_mode) == 0o600
    assert stat.S_IMODE((server / "extensions.conf").stat().st_mode) == 0o644
    manifest = (server / "manifest.json").read_text()
    assert '"revision": "test"' in manifest
    assert "tenants/acme/pjsip.conf" in manifest
    for conf in server.rglob("*.conf"):
        assert "test" not in conf.read_text().split("revision")[0] or "revision" not in conf.read_text()


def test_masked_render_leaks_no_secret(demo_repo: Path) -> None:
    loaded, _ = load_valid_repository(demo_repo)
    masked = render_servers(loaded, Secrets(None, dict(TRUNK_ENV)))
    real = render_servers(loaded, _secrets())
    for server, files in masked.items():
        blob = "\n".join(files.values())
        for value in TRUNK_ENV.values():
            assert value not in blob
        assert f"password={MASKED}" in blob
        passwords = set(re.findall(r"^password=(.*)$", "\n".join(real[server].values()), re.M))
        assert passwords and not passwords & set(re.findall(r"^password=(.*)$", blob, re.M))
        assert any(v in "\n".join(real[server].values()) for v in TRUNK_ENV.values())


def test_sip_passwords_differ_per_extension_and_rotate() -> None:
    secrets = _secrets()
    assert secrets.sip_password("acme_2001", 0) != secrets.sip_password("acme_2002", 0)
    assert secrets.sip_password("acme_2001", 0) != secrets.sip_password("acme_2001", 1)
    assert secrets.sip_password("acme_2001", 0) == _secrets().sip_password("acme_2001", 0)
    assert Secrets(b"other-key").sip_password("acme_2001", 0) != secrets.sip_password("acme_2001", 0)


def test_missing_trunk_variable_is_a_user_error(demo_repo: Path) -> None:
    loaded, _ = load_valid_repository(demo_repo)
    with pytest.raises(UserError, match="PABX_TRUNK_"):
        render_servers(loaded, Secrets(b"key", {}))


def test_render_cli_without_key_masks(
    demo_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PABX_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["render", "--repo", str(demo_repo), "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output
    assert "secrets masked" in result.output
    assert f"password={MASKED}" in (tmp_path / "b" / "pbx-sp-01" / "pjsip.conf").read_text()


def test_secrets_show_needs_the_key(demo_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PABX_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["secrets", "show", "acme/2001", "--repo", str(demo_repo)])
    assert result.exit_code == 2
    assert "PABX_SECRET_KEY" in result.output
    monkeypatch.setenv("PABX_SECRET_KEY", "test-key")
    result = CliRunner().invoke(main, ["secrets", "show", "acme/2001", "--repo", str(demo_repo)])
    assert result.exit_code == 0, result.output
    assert _secrets().sip_password("acme_2001", 0) in result.output


def test_asterisklint_finds_nothing_in_the_demo_render(demo_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    written = _render(demo_repo, out)
    for server in written:
        assert asterisklint(out / server) == [], server


def test_asterisklint_would_catch_a_broken_dialplan(demo_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "build"
    _render(demo_repo, out)
    broken = out / "pbx-sp-01" / "tenants" / "acme" / "extensions.conf"
    broken.write_text(broken.read_text() + "\n[t_acme_broken]\nexten => 1,1,NoSuchApp(x\n")
    codes = {f.code for f in asterisklint(out / "pbx-sp-01")}
    assert "E_APP_MISSING" in codes
