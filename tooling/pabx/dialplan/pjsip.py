"""PJSIP objects (endpoint, aor, auth, identify, transport...) of a parsed `pjsip.conf`, templates resolved.

Sorcery builds one object per concrete section from its options, inherited ones first (the
config reader already copied them in), keyed by its `type`. Several sections may share a name
when their types differ (`[acme_2001]` as endpoint, aor and auth is common), so objects are
indexed by type, then name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pabx.dialplan.config import Config
from pabx.errors import Problem


@dataclass(frozen=True)
class PjsipObject:
    name: str
    type: str
    options: tuple[tuple[str, str], ...]
    file: Path
    line: int

    def get(self, option: str) -> str | None:
        """The value sorcery keeps for a single-valued option: the last one written."""
        value = None
        for name, option_value in self.options:
            if name == option:
                value = option_value
        return value

    def get_all(self, option: str) -> list[str]:
        """Every value of a list option (`allow`, `set_var`, `match`, `contact`...)."""
        return [value for name, value in self.options if name == option]


@dataclass
class PjsipObjects:
    by_type: dict[str, dict[str, PjsipObject]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def get(self, object_type: str, name: str) -> PjsipObject | None:
        return self.by_type.get(object_type, {}).get(name)

    def endpoint(self, name: str) -> PjsipObject | None:
        return self.get("endpoint", name)

    def of_type(self, object_type: str) -> dict[str, PjsipObject]:
        return self.by_type.get(object_type, {})


def pjsip_objects(config: Config) -> PjsipObjects:
    """Every concrete section of `pjsip.conf` as a typed object; a missing type or a duplicate is a problem."""
    objects = PjsipObjects()
    for section in config.concrete_sections():
        object_type = section.get("type")
        if not object_type:
            objects.problems.append(
                Problem(
                    path=str(section.file),
                    line=section.line,
                    column=1,
                    field=section.name,
                    message="section has no 'type': PJSIP ignores it",
                    rule="pjsip.no-type",
                )
            )
            continue
        of_type = objects.by_type.setdefault(object_type, {})
        if section.name in of_type:
            previous = of_type[section.name]
            objects.problems.append(
                Problem(
                    path=str(section.file),
                    line=section.line,
                    column=1,
                    field=section.name,
                    message=f"{object_type} '{section.name}' is already defined at {previous.file}:{previous.line}",
                    rule="pjsip.duplicate",
                )
            )
            continue
        of_type[section.name] = PjsipObject(
            name=section.name,
            type=object_type,
            options=tuple((option.name, option.value) for option in section.options if option.name != "type"),
            file=section.file,
            line=section.line,
        )
    return objects
