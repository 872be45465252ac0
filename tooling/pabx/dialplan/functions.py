"""The dialplan functions the tracer understands, read (`${F(args)}`) and written (`Set(F(args)=value)`).

Each follows its Asterisk module (func_callerid, func_cdr, func_channel, func_groupcount,
res_pjsip_header_funcs, func_logic, func_strings, func_cut, func_dialplan, func_timeout,
func_global, app_stack's LOCAL). A function not listed here is an `UnknownFunctionError`,
so the templates can only use what the tracer can follow. Function names are case-sensitive,
as in Asterisk. Misuse Asterisk only logs (writing a read-only CDR field, say) is reported
through `host.warn` and the call goes on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pabx.dialplan.channel import Call, Channel
from pabx.dialplan.expr import UnknownFunctionError, check_condition, split_args


class FunctionHost(Protocol):
    """What a function may use besides its channel: the call, the dialplan, the rendered config."""

    call: Call

    def substitute(self, channel: Channel, text: str) -> str: ...

    def warn(self, message: str) -> None: ...

    def extension_exists(self, context: str, exten: str | None, priority: str | None) -> bool: ...

    def global_variable(self, name: str) -> str | None: ...

    def set_global_variable(self, name: str, value: str) -> None: ...

    def pjsip_option(self, object_type: str, name: str, option: str) -> str | None: ...


Reader = Callable[[FunctionHost, Channel, str], str | None]
Writer = Callable[[FunctionHost, Channel, str, str], None]


@dataclass(frozen=True)
class DialplanFunction:
    name: str
    read: Reader | None = None
    write: Writer | None = None


FUNCTIONS: dict[str, DialplanFunction] = {}


def _register(name: str, read: Reader | None = None, write: Writer | None = None) -> None:
    FUNCTIONS[name] = DialplanFunction(name, read, write)


def read_function(host: FunctionHost, channel: Channel, name: str, args: str) -> str | None:
    function = FUNCTIONS.get(name)
    if function is None:
        raise UnknownFunctionError(name)
    if function.read is None:
        host.warn(f"{name}() cannot be read")
        return None
    return function.read(host, channel, args)


def write_function(host: FunctionHost, channel: Channel, call: str, value: str) -> None:
    """`Set(NAME(args)=value)`."""
    name, _, rest = call.partition("(")
    closing = rest.rfind(")")
    args = rest[:closing] if closing >= 0 else rest
    function = FUNCTIONS.get(name)
    if function is None:
        raise UnknownFunctionError(name)
    if function.write is None:
        host.warn(f"{name}() cannot be written")
        return
    function.write(host, channel, args, value)


def split_callerid(text: str) -> tuple[str, str]:
    """ast_callerid_split: `"Name" <1130001000>` → ("Name", "1130001000")."""
    text = text.strip()
    opening = text.find("<")
    closing = text.find(">", opening + 1) if opening >= 0 else -1
    if opening >= 0 and closing >= 0:
        number = text[opening + 1 : closing]
        name = text[:opening].strip()
        if len(name) >= 2 and name.startswith('"') and name.endswith('"'):
            name = name[1:-1].replace('\\"', '"')
        return name, _shrink(number)
    shrunk = _shrink(text)
    if shrunk and all(char in "0123456789*#+" for char in shrunk):
        return "", shrunk
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        text = text[1:-1]
    return text, ""


def _shrink(number: str) -> str:
    return "".join(char for char in number if char not in "()-. ")


def decode_char(text: str) -> tuple[str | None, int]:
    """ast_get_encoded_char: the first character of `text`, decoding \\n, \\t, \\xHH and octal escapes."""
    if not text:
        return None, 0
    if text[0] != "\\":
        return text[0], 1
    if len(text) == 1:
        return None, 1
    escape = text[1]
    simple = {"n": "\n", "r": "\r", "t": "\t", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
    if escape in simple:
        return simple[escape], 2
    if escape == "x":
        digits = re.match(r"[0-9a-fA-F]{1,2}", text[2:])
        return (chr(int(digits.group(0), 16)), 2 + len(digits.group(0))) if digits else ("x", 2)
    if escape == "0":
        digits = re.match(r"[0-7]{0,3}", text[2:])
        count = len(digits.group(0)) if digits else 0
        return chr(int(digits.group(0), 8) if count and digits else 0), 2 + count
    return escape, 2


# --------------------------------------------------------------------------- caller ID


def _callerid_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    parts = split_args(args)
    if not parts or not parts[0]:
        return None
    member = split_args(parts[0], "-")
    item = member[0].lower()
    if len(parts) >= 2:
        name, number = split_callerid(parts[1])
    else:
        name, number = channel.caller_name, channel.caller_num
    if item == "all" and len(member) == 1:
        return f'"{name}" <{number}>'
    if item == "name" and len(member) == 1:
        return name
    if item.startswith("num") and len(member) == 1:
        return number
    if item == "ani":
        return channel.ani or channel.caller_num
    if item == "dnid":
        return channel.dnid
    if item in ("rdnis", "tag"):
        return ""
    host.warn(f"CALLERID({args}) is not followed by the tracer; reads as empty")
    return None


def _callerid_write(host: FunctionHost, channel: Channel, args: str, value: str) -> None:
    parts = split_args(args)
    item = split_args(parts[0], "-")[0].lower() if parts and parts[0] else ""
    if item == "all":
        channel.caller_name, channel.caller_num = split_callerid(value)
    elif item == "name":
        channel.caller_name = value
    elif item.startswith("num"):
        channel.caller_num = value
    elif item == "ani":
        channel.ani = value
    else:
        host.warn(f"CALLERID({args}) cannot be set by the tracer")


def _connectedline_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    item = split_args(args)[0].lower() if args else ""
    if item == "all":
        return f'"{channel.connected_name}" <{channel.connected_num}>'
    if item == "name":
        return channel.connected_name
    if item.startswith("num"):
        return channel.connected_num
    host.warn(f"CONNECTEDLINE({args}) is not followed by the tracer")
    return None


def _connectedline_write(host: FunctionHost, channel: Channel, args: str, value: str) -> None:
    item = split_args(args)[0].lower() if args else ""
    if item == "all":
        channel.connected_name, channel.connected_num = split_callerid(value)
    elif item == "name":
        channel.connected_name = value
    elif item.startswith("num"):
        channel.connected_num = value
    else:
        host.warn(f"CONNECTEDLINE({args}) cannot be set by the tracer")


_register("CALLERID", _callerid_read, _callerid_write)
_register("CONNECTEDLINE", _connectedline_read, _connectedline_write)

# --------------------------------------------------------------------------- CDR and CHANNEL

CDR_READ_ONLY = {
    "clid",
    "src",
    "dst",
    "dcontext",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "uniqueid",
    "linkedid",
    "sequence",
}


def _cdr_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    field = (split_args(args) or [""])[0]
    lowered = field.lower()
    builtin = {
        "accountcode": channel.accountcode,
        "peeraccount": channel.peeraccount,
        "userfield": channel.cdr_userfield,
        "amaflags": channel.cdr_amaflags,
        "src": channel.caller_num,
        "dst": channel.exten,
        "dcontext": channel.context,
        "clid": f'"{channel.caller_name}" <{channel.caller_num}>',
        "channel": channel.name,
        "uniqueid": channel.uniqueid,
        "linkedid": channel.linkedid,
    }
    if lowered in builtin:
        return builtin[lowered]
    if lowered in CDR_READ_ONLY:
        host.warn(f"CDR({field}) is only known once the call ends; the tracer reads it as empty")
        return ""
    return channel.cdr_variables.get(field)


def _cdr_write(host: FunctionHost, channel: Channel, args: str, value: str) -> None:
    field = (split_args(args) or [""])[0]
    lowered = field.lower()
    if lowered == "userfield":
        channel.cdr_userfield = value
    elif lowered == "accountcode":
        host.warn("CDR(accountcode) is deprecated: Asterisk sets CHANNEL(accountcode) instead")
        channel.accountcode = value
    elif lowered == "amaflags":
        channel.cdr_amaflags = value
    elif lowered == "peeraccount":
        host.warn("CDR(peeraccount) cannot be set (use CHANNEL(peeraccount))")
    elif lowered in CDR_READ_ONLY:
        host.warn(f"CDR({field}) is read-only: Asterisk refuses the write")
    else:
        channel.cdr_variables[field] = value


def _channel_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    item = args.strip().lower()
    values = {
        "accountcode": channel.accountcode,
        "peeraccount": channel.peeraccount,
        "language": channel.language,
        "musicclass": channel.musicclass,
        "name": channel.name,
        "uniqueid": channel.uniqueid,
        "linkedid": channel.linkedid,
        "channeltype": channel.name.split("/", 1)[0],
        "state": "Up" if channel.answered else "Ring",
        "amaflags": channel.cdr_amaflags,
    }
    if item in values:
        return values[item]
    if item == "endpoint" and channel.endpoint is not None:
        return channel.endpoint
    host.warn(f"CHANNEL({args}) is not followed by the tracer; reads as empty")
    return None


def _channel_write(host: FunctionHost, channel: Channel, args: str, value: str) -> None:
    item = args.strip().lower()
    if item == "accountcode":
        channel.accountcode = value
    elif item == "peeraccount":
        channel.peeraccount = value
    elif item == "language":
        channel.language = value
    elif item == "musicclass":
        channel.musicclass = value
    elif item == "amaflags":
        channel.cdr_amaflags = value
    elif item == "hangup_handler_push":
        channel.hangup_handlers.append(value)
    else:
        host.warn(f"CHANNEL({args}) cannot be set by the tracer")


_register("CDR", _cdr_read, _cdr_write)
_register("CHANNEL", _channel_read, _channel_write)

# --------------------------------------------------------------------------- GROUP


def _split_group(text: str) -> tuple[str, str]:
    group, _, category = text.partition("@")
    return group, category


def _group_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    for category, group in channel.groups.items():
        if not args or (category and category.lower() == args.lower()):
            return group
    return None


def _group_write(host: FunctionHost, channel: Channel, args: str, value: str) -> None:
    if not value:
        host.warn("GROUP() needs a group name")
        return
    group, category = _split_group(f"{value}@{args}" if args else value)
    channel.join_group(group, category)


def _group_count_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    group, category = _split_group(args)
    if not group:
        for member_category, member_group in channel.groups.items():
            if not category or (member_category and member_category.lower() == category.lower()):
                group, category = member_group, member_category or category
                break
    if not group:
        host.warn(f"GROUP_COUNT({args}): the channel is in no group")
        return None
    return str(host.call.group_count(group, category))


def _group_list_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    return " ".join(channel.group_memberships())


_register("GROUP", _group_read, _group_write)
_register("GROUP_COUNT", _group_count_read)
_register("GROUP_LIST", _group_list_read)

# --------------------------------------------------------------------------- PJSIP


def _header_matches(name: str, wanted: str) -> bool:
    if wanted.endswith("*"):
        return name.lower().startswith(wanted[:-1].lower())
    return name.lower() == wanted.lower()


def _pjsip_header_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    parts = split_args(args)
    if len(parts) < 2 or parts[0].lower() != "read":
        host.warn(f"PJSIP_HEADER({args}): only 'read' can be read")
        return None
    number = int(parts[2]) if len(parts) > 2 and parts[2].strip().isdigit() else 1
    found = [value for name, value in channel.inbound_headers if _header_matches(name, parts[1])]
    if number < 1 or number > len(found):
        return None
    return found[number - 1]


def _pjsip_header_write(host: FunctionHost, channel: Channel, args: str, value: str) -> None:
    parts = split_args(args)
    action = parts[0].lower() if parts else ""
    name = parts[1] if len(parts) > 1 else ""
    if not name:
        host.warn("PJSIP_HEADER() needs a header name")
        return
    if action == "add":
        channel.added_headers.append((name, value))
    elif action == "update":
        number = int(parts[2]) if len(parts) > 2 and parts[2].strip().isdigit() else 1
        matching = [
            index for index, (header, _) in enumerate(channel.added_headers) if _header_matches(header, name)
        ]
        if number <= len(matching):
            channel.added_headers[matching[number - 1]] = (
                channel.added_headers[matching[number - 1]][0],
                value,
            )
        else:
            host.warn(f"PJSIP_HEADER(update,{name}): no such added header")
    elif action == "remove":
        channel.added_headers = [(h, v) for h, v in channel.added_headers if not _header_matches(h, name)]
    else:
        host.warn(f"PJSIP_HEADER({args}): unknown action '{action}'")


def _pjsip_endpoint_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    parts = split_args(args)
    if len(parts) != 2:
        host.warn("PJSIP_ENDPOINT() needs an endpoint and an option")
        return None
    return host.pjsip_option("endpoint", parts[0], parts[1])


_register("PJSIP_HEADER", _pjsip_header_read, _pjsip_header_write)
_register("PJSIP_ENDPOINT", _pjsip_endpoint_read)

# --------------------------------------------------------------------------- logic and strings


def _if_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    condition_and_rest = split_args(args, "?", limit=2)
    if len(condition_and_rest) < 2 or not condition_and_rest[0]:
        host.warn("IF() needs 'condition?true:false'")
        return None
    branches = split_args(condition_and_rest[1], ":", limit=2)
    if_true = branches[0].strip() if branches else ""
    if_false = branches[1].strip() if len(branches) > 1 else ""
    return if_true if check_condition(condition_and_rest[0].strip()) else if_false


def _filter_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    parts = split_args(args, remove_chars=False, limit=2)
    if len(parts) < 2:
        host.warn("FILTER() needs allowed characters and a string")
        return None
    allowed: set[str] = set()
    spec = parts[0]
    index = 0
    while index < len(spec):
        first, used = decode_char(spec[index:])
        index += max(used, 1)
        if first is None:
            break
        if index < len(spec) and spec[index] == "-":
            last, used = decode_char(spec[index + 1 :])
            index += used + 1
            last = last or first
            allowed.update(chr(code) for code in range(ord(first), ord(last) + 1))
        else:
            allowed.add(first)
    return "".join(char for char in parts[1] if char in allowed)


def _regex_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    parts = split_args(args, '"', limit=3)
    if len(parts) != 3:
        host.warn('REGEX() needs "regex" string')
        return None
    subject = parts[2][1:] if parts[2][:1] in (" ", "\t") else parts[2]
    try:
        return "1" if re.search(parts[1], subject) else "0"
    except re.error:
        host.warn(f"REGEX(): malformed regular expression {parts[1]!r}")
        return None


def _variable_value(host: FunctionHost, channel: Channel, name: str) -> str:
    return host.substitute(channel, "${" + name + "}")


def _cut_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    parts = split_args(args, limit=3)
    if len(parts) < 3:
        host.warn("CUT() needs a variable, a delimiter and fields")
        return None
    value = _variable_value(host, channel, parts[0])
    delimiter, _ = decode_char(parts[1])
    delimiter = delimiter or "-"
    if not value:
        return ""
    fields = value.split(delimiter)
    out: list[str] = []
    for spec in parts[2].split("&"):
        match = re.fullmatch(r"\s*(\d*)\s*(-)?\s*(\d*)\s*", spec)
        if not match or not (match.group(1) or match.group(3)):
            host.warn(f"CUT(): invalid field '{spec}'")
            return None
        start = int(match.group(1)) if match.group(1) else 1
        stop = start
        if match.group(2):
            stop = int(match.group(3)) if match.group(3) else len(fields)
        out.extend(fields[max(start, 1) - 1 : stop])
    return delimiter.join(out)


def _shift_or_pop(from_start: bool) -> Reader:
    def read(host: FunctionHost, channel: Channel, args: str) -> str | None:
        parts = split_args(args)
        if not parts or not parts[0]:
            host.warn("SHIFT()/POP() need a variable name")
            return None
        delimiter = (decode_char(parts[1])[0] if len(parts) > 1 and parts[1] else None) or ","
        value = _variable_value(host, channel, parts[0])
        if not value:
            return None
        if delimiter not in value:
            channel.set_variable(parts[0], "")
            return value
        if from_start:
            head, _, tail = value.partition(delimiter)
            channel.set_variable(parts[0], tail)
            return head
        head, _, tail = value.rpartition(delimiter)
        channel.set_variable(parts[0], head)
        return tail

    return read


def _push_write(host: FunctionHost, channel: Channel, args: str, value: str) -> None:
    parts = split_args(args)
    delimiter = (decode_char(parts[1])[0] if len(parts) > 1 and parts[1] else None) or ","
    current = _variable_value(host, channel, parts[0])
    channel.set_variable(parts[0], f"{current}{delimiter}{value}" if current else value)


def _fieldqty_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    parts = split_args(args)
    if len(parts) < 2:
        return "1"
    delimiter = decode_char(parts[1])[0] or ""
    value = _variable_value(host, channel, parts[0])
    if not value:
        return "0"
    return str(len(value.split(delimiter)) if delimiter else 1)


def _set_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    name, equals, value = args.partition("=")
    if not name.strip() or not equals:
        host.warn("SET() needs 'name=value'")
        return None
    channel.set_variable(name.strip(), value.strip())
    return value.strip()


def _local_write(host: FunctionHost, channel: Channel, args: str, value: str) -> None:
    if channel.stack:
        frame = channel.stack[-1]
        if args not in frame.saved:
            frame.saved[args] = channel.variables.get(args)
    channel.set_variable(args, value)


def _dialplan_exists_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    parts = split_args(args)
    if not parts or not parts[0]:
        host.warn("DIALPLAN_EXISTS() needs a context")
        return None
    exten = parts[1] if len(parts) > 1 else None
    priority = parts[2] if len(parts) > 2 else None
    return "1" if host.extension_exists(parts[0], exten, priority) else "0"


def _timeout_read(host: FunctionHost, channel: Channel, args: str) -> str | None:
    kind = args.strip().lower()[:1]
    defaults = {"a": "0", "d": "5", "r": "10"}
    if kind not in defaults:
        host.warn(f"TIMEOUT({args}): expected absolute, digit or response")
        return None
    return channel.timeouts.get(kind, defaults[kind])


def _timeout_write(host: FunctionHost, channel: Channel, args: str, value: str) -> None:
    kind = args.strip().lower()[:1]
    if kind not in ("a", "d", "r"):
        host.warn(f"TIMEOUT({args}): expected absolute, digit or response")
        return
    channel.timeouts[kind] = value


_register("IF", _if_read)
_register("EXISTS", lambda host, channel, args: "1" if args else "0")
_register("ISNULL", lambda host, channel, args: "0" if args else "1")
_register("LEN", lambda host, channel, args: str(len(args.encode("utf-8", "surrogateescape"))))
_register("TOUPPER", lambda host, channel, args: args.upper())
_register("TOLOWER", lambda host, channel, args: args.lower())
_register("FILTER", _filter_read)
_register("REGEX", _regex_read)
_register("CUT", _cut_read)
_register("SHIFT", _shift_or_pop(True))
_register("POP", _shift_or_pop(False))
_register("PUSH", None, _push_write)
_register("FIELDQTY", _fieldqty_read)
_register("SET", _set_read)
_register(
    "GLOBAL",
    lambda host, channel, args: host.global_variable(args),
    lambda host, channel, args, value: host.set_global_variable(args, value),
)
_register("LOCAL", lambda host, channel, args: channel.variables.get(args), _local_write)
_register("DIALPLAN_EXISTS", _dialplan_exists_read)
_register("TIMEOUT", _timeout_read, _timeout_write)
_register(
    "EXCEPTION", lambda host, channel, args: channel.exception if args.strip().lower() == "reason" else None
)
