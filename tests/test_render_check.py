"""The release self-check finds nothing in the demo render and finds each kind of broken reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from pabx.loader import load_valid_repository
from pabx.render import render_servers
from pabx.render.check import check_release
from pabx.render.secrets import Secrets


@pytest.fixture(scope="module")
def release() -> dict[str, str]:
    repo, _ = load_valid_repository(Path(__file__).resolve().parent.parent)
    return render_servers(repo, Secrets(None))["pbx-sp-01"]


def test_demo_render_has_no_dangling_reference(release: dict[str, str]) -> None:
    assert check_release(release) == []


def _rules(files: dict[str, str]) -> set[str]:
    return {p.rule for p in check_release(files)}


def test_endpoint_without_its_aor(release: dict[str, str]) -> None:
    files = dict(release)
    files["tenants/acme/pjsip.conf"] = files["tenants/acme/pjsip.conf"].replace(
        "[acme_2001](pabx-aor)\n", "[acme_2001x](pabx-aor)\n"
    )
    problems = check_release(files)
    assert any("aors 'acme_2001' is not a aor" in p.message for p in problems), problems


def test_goto_to_a_missing_context_and_label(release: dict[str, str]) -> None:
    files = dict(release)
    files["tenants/acme/extensions.conf"] = (
        files["tenants/acme/extensions.conf"]
        .replace("Goto(t_acme_internal,600,1)", "Goto(t_acme_nowhere,600,1)", 1)
        .replace(
            'GotoIf($["${DIALSTATUS}" = "ANSWER"]?done)', 'GotoIf($["${DIALSTATUS}" = "ANSWER"]?gone)', 1
        )
    )
    messages = [p.message for p in check_release(files)]
    assert any("t_acme_nowhere" in m for m in messages), messages
    assert any("gone" in m for m in messages), messages


def test_dynamic_route_target_is_expanded(release: dict[str, str]) -> None:
    files = dict(release)
    files["extensions.conf"] = files["extensions.conf"].replace(
        "[pabx-route-sp-principal]", "[pabx-route-renamed]"
    )
    messages = [p.message for p in check_release(files)]
    assert any("pabx-route-sp-principal" in m for m in messages), messages


def test_queue_voicemail_and_dial_targets(release: dict[str, str]) -> None:
    files = dict(release)
    files["tenants/acme/queues.conf"] = files["tenants/acme/queues.conf"].replace(
        "[t_acme_q600]", "[t_acme_q699]"
    )
    files["tenants/acme/voicemail.conf"] = files["tenants/acme/voicemail.conf"].replace("2002 =>", "2992 =>")
    files["tenants/acme/pjsip.conf"] = files["tenants/acme/pjsip.conf"].replace(
        "[acme_2004](t_acme_endpoint)", "[acme_2994](t_acme_endpoint)"
    )
    assert {"check.queue", "check.voicemail", "check.dial"} <= _rules(files)


def test_parse_problems_are_reported(release: dict[str, str]) -> None:
    files = dict(release)
    files["tenants/acme/extensions.conf"] += "option outside = nothing\n[broken\n"
    assert check_release(files)
