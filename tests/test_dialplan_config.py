"""The Asterisk .conf reader: sections, templates, comments, includes, positioned problems, PJSIP objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from pabx.dialplan.config import Config, parse_config, parse_config_text, prefix_resolver, strip_comments
from pabx.dialplan.pjsip import pjsip_objects

PARSER = Path(__file__).parent / "fixtures" / "dialplan" / "parser"


def options(config: Config, section: str) -> list[tuple[str, str]]:
    found = config.section(section)
    assert found is not None, section
    return [(option.name, option.value) for option in found.options]


def rules(config: Config) -> list[tuple[int, str]]:
    return [(problem.line, problem.rule) for problem in config.problems]


def test_comments_escapes_and_block_comments() -> None:
    config = parse_config(PARSER / "comments.conf")
    assert config.problems == []
    assert options(config, "general") == [
        ("plain", "value"),
        ("escaped", "semi;colon"),
        ("after", "block"),
        ("inline", "before  after"),
        ("nested", "one  two"),
        ("dashes", "a"),
    ]


def test_object_operator_and_append_are_kept() -> None:
    config = parse_config(PARSER / "comments.conf")
    section = config.section("objects")
    assert section is not None
    exten = section.options[0]
    assert (exten.name, exten.value, exten.is_object, exten.operator) == (
        "exten",
        "100,1,NoOp(x)",
        True,
        "=>",
    )
    assert (section.options[1].is_object, section.options[1].operator) == (False, "=")
    assert section.get("appended") == "first second"


def test_every_option_keeps_its_file_and_line() -> None:
    config = parse_config(PARSER / "comments.conf")
    section = config.section("objects")
    assert section is not None
    assert [(option.file.name, option.line) for option in section.options] == [
        ("comments.conf", 13),
        ("comments.conf", 14),
        ("comments.conf", 15),
    ]
    assert (section.file.name, section.line) == ("comments.conf", 12)


@pytest.mark.parametrize(
    ("line", "depth", "expected"),
    [
        ("a = b ; c", 0, ("a = b ", 0)),
        (r"a = b\;c", 0, ("a = b;c", 0)),
        ("a ;-- b", 0, ("a ", 1)),
        ("still inside", 1, (None, 1)),
        ("end --; tail", 1, (" tail", 0)),
        ("x ;-- y --; z ; w", 0, ("x  z ", 0)),
        ("a;---b", 0, ("a", 0)),
        ("value --; oops", 0, ("value --; oops", -1)),
        ("ignored after a stray end", -1, (None, -1)),
    ],
)
def test_strip_comments_follows_config_c(line: str, depth: int, expected: tuple[str | None, int]) -> None:
    assert strip_comments(line, depth) == expected


def test_templates_inheritance_and_appends() -> None:
    config = parse_config(PARSER / "templates.conf")
    assert config.problems == []
    base, phones, endpoint, aor, auth, multi = config.sections
    assert base.is_template and phones.is_template and not endpoint.is_template
    assert phones.bases == ("base",)
    assert [(o.name, o.value, o.inherited_from) for o in endpoint.options] == [
        ("type", "endpoint", "base"),
        ("allow", "ulaw", "base"),
        ("context", "base-context", "base"),
        ("allow", "alaw", "phones"),
        ("context", "phones", "phones"),
        ("callerid", '"Recepcao" <2001>', None),
        ("password", "secret", None),  # [acme_2001](+) appends to the first section of that name
    ]
    assert endpoint.get("context") == "phones"
    assert endpoint.get_all("allow") == ["ulaw", "alaw"]
    assert [o.name for o in endpoint.own_options] == ["callerid", "password"]
    assert aor.get("type") == "aor" and aor.get("max_contacts") == "1"
    assert auth.bases == () and auth.get("username") == "acme_2001"
    assert multi.bases == ("base", "phones")
    assert [s.name for s in config.concrete_sections()] == ["acme_2001", "acme_2001", "acme_2001", "multi"]
    assert config.section("base") is None  # templates are not browsed


def test_pjsip_objects_are_indexed_by_type_then_name() -> None:
    objects = pjsip_objects(parse_config(PARSER / "templates.conf"))
    assert objects.problems == []
    assert sorted(objects.by_type) == ["aor", "auth", "endpoint"]
    endpoint = objects.endpoint("acme_2001")
    assert endpoint is not None
    assert endpoint.type == "endpoint" and endpoint.line == 11
    assert endpoint.get("context") == "phones"
    assert endpoint.get_all("allow") == ["ulaw", "alaw"]
    assert ("type", "endpoint") not in endpoint.options
    aor = objects.get("aor", "acme_2001")
    assert aor is not None and aor.get("max_contacts") == "1"
    assert objects.get("auth", "acme_2001") is not None
    assert sorted(objects.of_type("endpoint")) == ["acme_2001", "multi"]


def test_pjsip_objects_report_missing_type_and_duplicates() -> None:
    config = parse_config_text("[a]\nfoo=1\n[b]\ntype=aor\n[b]\ntype=aor\n", name="pjsip.conf")
    objects = pjsip_objects(config)
    assert [(p.line, p.rule) for p in objects.problems] == [(1, "pjsip.no-type"), (5, "pjsip.duplicate")]


def test_problems_are_positioned_not_raised() -> None:
    config = parse_config(PARSER / "broken.conf")
    assert rules(config) == [
        (1, "conf.option-outside-section"),
        (4, "conf.malformed-line"),
        (5, "conf.malformed-line"),
        (6, "conf.malformed-header"),
        (7, "conf.template-missing"),
        (8, "conf.append-missing"),
        (9, "conf.include-missing"),
        (11, "conf.directive"),
        (12, "conf.directive"),
        (14, "conf.stray-comment-end"),
    ]
    assert all(problem.path.endswith("broken.conf") for problem in config.problems)
    assert options(config, "ok") == [("good", "1")]
    assert options(config, "late") == [("value", "2 --;")]  # and nothing after the stray '--;'


def test_unterminated_block_comment_is_reported_where_it_opens() -> None:
    config = parse_config_text("[a]\nx=1\n;-- never closed\ny=2\n")
    assert rules(config) == [(3, "conf.unterminated-comment")]
    assert options(config, "a") == [("x", "1")]


def test_unreadable_entry_file_is_a_problem(tmp_path: Path) -> None:
    config = parse_config(tmp_path / "missing.conf")
    assert rules(config) == [(0, "conf.unreadable")]


def test_includes_resolve_against_the_config_dir_through_a_prefix() -> None:
    release = PARSER / "release"
    config = parse_config(
        release / "extensions.conf", resolver=prefix_resolver(Path("/etc/asterisk"), {"pabx/": release})
    )
    assert config.problems == []
    assert [s.name for s in config.sections] == ["pabx-shared", "t_acme_phones"]
    included = config.section("t_acme_phones")
    assert included is not None
    assert included.file == release / "tenants" / "acme" / "extensions.conf"
    assert [(o.name, o.value, o.line) for o in included.options] == [
        ("include", "pabx-shared", 2),
        ("exten", "2001,1,NoOp(acme)", 3),
    ]
    assert config.files == [release / "extensions.conf", release / "tenants" / "acme" / "extensions.conf"]


def test_without_the_prefix_the_include_is_missing() -> None:
    config = parse_config(PARSER / "release" / "extensions.conf")
    assert rules(config) == [(5, "conf.include-missing")]


def test_include_relative_paths_use_the_config_dir_not_the_including_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "entry.conf").write_text('[a]\n#include "other.conf"\n')
    (tmp_path / "other.conf").write_text("x = from config dir\n")
    (tmp_path / "sub" / "other.conf").write_text("x = from the including file's folder\n")
    config = parse_config(tmp_path / "sub" / "entry.conf", config_dir=tmp_path)
    assert options(config, "a") == [("x", "from config dir")]


def test_an_included_file_continues_the_current_section_and_after_it_the_includer_does(
    tmp_path: Path,
) -> None:
    (tmp_path / "entry.conf").write_text("[a]\n#include inner.conf\ntail = a\n")
    (tmp_path / "inner.conf").write_text("head = a\n[b]\nbody = b\n")
    config = parse_config(tmp_path / "entry.conf")
    assert options(config, "a") == [("head", "a"), ("tail", "a")]
    assert options(config, "b") == [("body", "b")]


def test_glob_includes_read_every_match_in_order(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    for name in ("b", "a"):
        (tmp_path / "conf.d" / f"{name}.conf").write_text(f"[{name}]\n")
    (tmp_path / "entry.conf").write_text('#include "conf.d/*.conf"\n')
    config = parse_config(tmp_path / "entry.conf")
    assert [s.name for s in config.sections] == ["a", "b"]


def test_include_loops_are_reported(tmp_path: Path) -> None:
    (tmp_path / "a.conf").write_text("[a]\n#include b.conf\n")
    (tmp_path / "b.conf").write_text("#include a.conf\n")
    config = parse_config(tmp_path / "a.conf")
    assert ("conf.include-loop" in {p.rule for p in config.problems}) and len(config.sections) == 1


def test_in_memory_files_through_a_reader() -> None:
    files = {Path("/build/extensions.conf"): '#include "pabx/t.conf"\n', Path("/build/t.conf"): "[t]\nx=1\n"}

    def reader(path: Path) -> str:
        if path not in files:
            raise FileNotFoundError(path)
        return files[path]

    config = parse_config(
        Path("/build/extensions.conf"),
        resolver=prefix_resolver(Path("/build"), {"pabx/": Path("/build")}),
        reader=reader,
    )
    assert config.problems == []
    assert options(config, "t") == [("x", "1")]


def test_section_names_in_inheritance_are_case_insensitive_and_not_stripped() -> None:
    config = parse_config_text("[Base](!)\nx=1\n[a](base)\n[b](!, base)\n")
    assert options(config, "a") == [("x", "1")]
    assert rules(config) == [(4, "conf.template-missing")]
    assert "does not strip spaces" in config.problems[0].message


def test_utf8_bom_and_escaped_first_character() -> None:
    config = parse_config_text("\ufeff[a]\n\\[weird=1\n")
    assert options(config, "a") == [("[weird", "1")]
