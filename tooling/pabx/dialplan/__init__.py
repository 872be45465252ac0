"""Asterisk configuration reader and call tracer: what a rendered server does with any call.

Public API (everything else is internal):

- `parse_config(path, resolver=...)` / `parse_config_text(text)` → `Config` (sections, options
  with file and line, `problems`); `prefix_resolver(root, {"pabx/": build})` for includes.
- `pjsip_objects(config)` → `PjsipObjects` (endpoint/aor/auth/... by type and name, templates applied).
- `load_dialplan(config)` → `Dialplan` (contexts, extensions in Asterisk's match order, `find`).
- `match_extension`, `compare_extensions`, `sort_extensions`: Asterisk pattern semantics.
- `substitute`, `evaluate_expression`: `${...}` and `$[...]`.
- `load_rendered(build_dir)` → `RenderedServer`; `trace_call(server, CallSetup(...))` → `TraceResult`
  (`.to_json()` has the stable `{"steps": [...], "result": {...}}` shape).
"""

from pabx.dialplan.config import (
    Config,
    IncludeResolver,
    Option,
    Section,
    config_dir_resolver,
    parse_config,
    parse_config_text,
    prefix_resolver,
)
from pabx.dialplan.expr import evaluate_expression, substitute
from pabx.dialplan.extensions import Context, Dialplan, Extension, Priority, load_dialplan
from pabx.dialplan.pattern import (
    Match,
    MatchMode,
    compare_extensions,
    is_pattern,
    match_extension,
    pattern_to_regex,
    sort_extensions,
)
from pabx.dialplan.pjsip import PjsipObject, PjsipObjects, pjsip_objects
from pabx.dialplan.result import Outcome, Step, TraceResult
from pabx.dialplan.trace import CallSetup, RenderedServer, load_rendered, trace_call

__all__ = [
    "CallSetup",
    "Config",
    "Context",
    "Dialplan",
    "Extension",
    "IncludeResolver",
    "Match",
    "MatchMode",
    "Option",
    "Outcome",
    "PjsipObject",
    "PjsipObjects",
    "Priority",
    "RenderedServer",
    "Section",
    "Step",
    "TraceResult",
    "compare_extensions",
    "config_dir_resolver",
    "evaluate_expression",
    "is_pattern",
    "load_dialplan",
    "load_rendered",
    "match_extension",
    "parse_config",
    "parse_config_text",
    "pattern_to_regex",
    "pjsip_objects",
    "prefix_resolver",
    "sort_extensions",
    "substitute",
    "trace_call",
]
