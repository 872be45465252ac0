"""What generators produce before templates lay it out: sections with ordered options, and
dialplan contexts with extensions and their priorities."""

from __future__ import annotations

from dataclasses import dataclass, field

from pabx.render.escape import pattern, token


@dataclass
class Section:
    """A config section; options are ordered (key, value) pairs because keys repeat (allow=, set_var=)."""

    name: str
    options: list[tuple[str, str]] = field(default_factory=list)
    templates: tuple[str, ...] = ()
    is_template: bool = False
    arrow: bool = False  # write `key => value` (voicemail boxes) instead of `key=value`

    def add(self, key: str, value: object) -> Section:
        self.options.append((key, str(value)))
        return self

    @property
    def header(self) -> str:
        marks = (["!"] if self.is_template else []) + list(self.templates)
        return f"[{token(self.name)}]" + (f"({','.join(marks)})" if marks else "")

    @property
    def text(self) -> str:
        """The section as Asterisk reads it: header, then one `key=value` line per option, in order."""
        sep = " => " if self.arrow else "="
        return "\n".join([self.header, *(f"{key}{sep}{value}" for key, value in self.options)]) + "\n"


@dataclass(frozen=True)
class Step:
    app: str
    args: str = ""
    label: str | None = None

    @property
    def call(self) -> str:
        return f"{self.app}({self.args})"


@dataclass
class Exten:
    pattern: str
    steps: list[Step] = field(default_factory=list)

    def then(self, app: str, args: str = "", label: str | None = None) -> Exten:
        self.steps.append(Step(app, args, label))
        return self


@dataclass
class Context:
    name: str
    comment: str | None = None
    includes: list[str] = field(default_factory=list)
    extens: list[Exten] = field(default_factory=list)

    @property
    def text(self) -> str:
        """`[name]`, its includes, then each extension as `exten =>` and `same =>` lines."""
        lines = [f"[{token(self.name)}]"]
        if self.comment:
            lines.append(f"; {self.comment}")
        lines += [f"include => {token(inc)}" for inc in self.includes]
        for ext in self.extens:
            for i, step in enumerate(ext.steps):
                head = f"exten => {ext.pattern},1" if i == 0 else " same => n"
                label = f"({step.label})" if step.label else ""
                lines.append(f"{head}{label},{step.app}({step.args})")
        return "\n".join(lines) + "\n"

    def exten(self, name: str) -> Exten:
        ext = Exten(pattern(name))
        self.extens.append(ext)
        return ext
