"""The dialplan applications the tracer runs, each as its Asterisk module parses and behaves.

Flow: Goto, GotoIf, Gosub, GosubIf, Return, ExecIf. Variables: Set, MSet. Prompts: Background,
WaitExten, Read, Playback. Outcomes: Dial, Queue, VoiceMail, Hangup, Busy, Congestion. The rest
(Answer, NoOp, Verbose, Log, Wait, Progress, Ringing, Playtones...) change nothing a trace shows
but the answered state. An application not listed is a `TraceError` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pabx.dialplan.channel import CONGESTION, NORMAL_CLEARING, USER_BUSY, Channel, cause_from_text
from pabx.dialplan.control import JUMPED, NEXT, Control, Digit, TraceError
from pabx.dialplan.expr import UnknownFunctionError, check_condition, split_args
from pabx.dialplan.functions import write_function
from pabx.dialplan.result import DialInfo, DialTarget, HangupInfo, Mailbox, QueueInfo, VoicemailInfo

if TYPE_CHECKING:
    from pabx.dialplan.engine import Engine

Application = Callable[["Engine", Channel, str], Control]
APPLICATIONS: dict[str, Application] = {}

NO_ROUTE_DESTINATION = 3
DIAL_STATUS_CAUSES = {"BUSY": USER_BUSY, "CONGESTION": CONGESTION, "CHANUNAVAIL": NO_ROUTE_DESTINATION}


def application(*names: str) -> Callable[[Application], Application]:
    def register(function: Application) -> Application:
        for name in names:
            APPLICATIONS[name.lower()] = function
        return function

    return register


def run_application(engine: Engine, channel: Channel, app: str, data: str) -> Control:
    """Run one application (names are case-insensitive, as pbx_findapp compares them)."""
    handler = APPLICATIONS.get(app.lower())
    if handler is None:
        raise TraceError(f"application {app}() is not known to the tracer")
    return handler(engine, channel, data)


def parse_app_options(text: str) -> dict[str, str | None]:
    """ast_app_parse_options: letters, some with `(argument)` (parentheses nest, backslashes escape)."""
    options: dict[str, str | None] = {}
    index = 0
    while index < len(text):
        letter = text[index]
        index += 1
        if index < len(text) and text[index] == "(":
            depth = 1
            quoted = False
            parse_quotes = text[index + 1 : index + 2] == '"'
            index += 1
            argument: list[str] = []
            while index < len(text):
                char = text[index]
                if char == "(" and not quoted:
                    depth += 1
                elif char == ")" and not quoted:
                    depth -= 1
                    if depth == 0:
                        break
                elif char == '"' and parse_quotes:
                    quoted = not quoted
                    index += 1
                    continue
                elif char == "\\" and index + 1 < len(text) and (not quoted or text[index + 1] == '"'):
                    index += 1
                    char = text[index]
                argument.append(char)
                index += 1
            options[letter] = "".join(argument)
            index += 1
        else:
            options[letter] = None
    return options


# --------------------------------------------------------------------------- no effect on the trace


@application(
    "NoOp", "Verbose", "Log", "Wait", "Progress", "Ringing", "Proceeding", "Playtones", "StopPlaytones"
)
def _no_effect(engine: Engine, channel: Channel, data: str) -> Control:
    return NEXT


@application(
    "SayDigits", "SayNumber", "SayAlpha", "SayUnixTime", "MusicOnHold", "StartMusicOnHold", "StopMusicOnHold"
)
def _announcement(engine: Engine, channel: Channel, data: str) -> Control:
    return NEXT


@application("Answer")
def _answer(engine: Engine, channel: Channel, data: str) -> Control:
    channel.answered = True
    return NEXT


# --------------------------------------------------------------------------- variables


def _assign(engine: Engine, channel: Channel, name: str, value: str) -> None:
    if name.endswith(")"):
        try:
            write_function(engine, channel, name, value)
        except UnknownFunctionError as error:
            raise TraceError(str(error)) from error
    else:
        channel.set_variable(name, value)


@application("Set")
def _set(engine: Engine, channel: Channel, data: str) -> Control:
    name, equals, value = data.partition("=")
    if not data or not equals:
        engine.warn("Set requires 'name=value'")
        return NEXT
    if " " in name:
        engine.warn(f"Set: variable name {name!r} contains a space")
    _assign(engine, channel, name, value)
    return NEXT


@application("MSet")
def _mset(engine: Engine, channel: Channel, data: str) -> Control:
    for pair in split_args(data):
        parts = split_args(pair, "=", limit=2)
        if len(parts) == 2:
            _assign(engine, channel, parts[0], parts[1])
        else:
            engine.warn(f"MSet: ignoring '{pair}' (no '=')")
    return NEXT


# --------------------------------------------------------------------------- flow


@application("Goto")
def _goto(engine: Engine, channel: Channel, data: str) -> Control:
    if not data:
        raise TraceError("Goto requires an argument ([[context,]extension,]priority)")
    engine.goto(channel, data)
    return JUMPED


@application("GotoIf")
def _goto_if(engine: Engine, channel: Channel, data: str) -> Control:
    condition, _, branches = data.partition("?")
    if_true, _, if_false = branches.partition(":")
    taken = check_condition(condition)
    branch = if_true if taken else if_false
    engine.note(f"condition {condition!r} is {'true' if taken else 'false'}")
    if not branch:
        return NEXT
    engine.goto(channel, branch)
    return JUMPED


@application("Gosub")
def _gosub(engine: Engine, channel: Channel, data: str) -> Control:
    if not data:
        raise TraceError("Gosub requires an argument")
    engine.gosub(channel, data)
    return JUMPED


@application("GosubIf")
def _gosub_if(engine: Engine, channel: Channel, data: str) -> Control:
    condition = split_args(data, "?", remove_chars=False, limit=2)
    if len(condition) != 2:
        engine.warn("GosubIf requires 'condition?label1:label2'")
        return NEXT
    labels = split_args(condition[1], ":", remove_chars=False, limit=2)
    taken = check_condition(condition[0])
    engine.note(f"condition {condition[0]!r} is {'true' if taken else 'false'}")
    branch = labels[0] if taken else (labels[1] if len(labels) > 1 else "")
    if not branch:
        return NEXT
    engine.gosub(channel, branch)
    return JUMPED


@application("Return")
def _return(engine: Engine, channel: Channel, data: str) -> Control:
    engine.gosub_return(channel, data)
    return JUMPED


def _split_app_call(text: str) -> tuple[str, str]:
    name, has_args, rest = text.partition("(")
    if not has_args:
        return name, ""
    closing = rest.rfind(")")
    return name, rest[:closing] if closing >= 0 else rest


@application("ExecIf")
def _exec_if(engine: Engine, channel: Channel, data: str) -> Control:
    first_comma = data.find(",")
    first_question = data.find("?")
    if first_question < 0 or 0 <= first_comma < first_question:
        parts = split_args(data, limit=3)
        engine.warn("ExecIf: deprecated syntax, use ExecIf(<expr>?<app>(<args>))")
        condition = parts[0] if parts else ""
        if_true = (parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "")
        if_false: tuple[str, str] | None = None
    else:
        expression = split_args(data, "?", remove_chars=False, limit=2)
        if len(expression) < 2 or not expression[1]:
            raise TraceError("ExecIf requires '<expr>?<appiftrue>(<args>)[:<appiffalse>(<args>)]'")
        apps = split_args(expression[1], ":", remove_chars=False, limit=2)
        condition = expression[0]
        if_true = _split_app_call(apps[0])
        if_false = _split_app_call(apps[1]) if len(apps) > 1 else None
    taken = check_condition(condition)
    chosen = if_true if taken else if_false
    engine.note(f"condition {condition!r} is {'true' if taken else 'false'}")
    if chosen is None or not chosen[0]:
        return NEXT
    engine.note(f"runs {chosen[0]}({chosen[1]})")
    return run_application(engine, channel, chosen[0], chosen[1])


# --------------------------------------------------------------------------- prompts and keys


@application("Playback")
def _playback(engine: Engine, channel: Channel, data: str) -> Control:
    args = split_args(data, limit=2)
    options = args[1].lower() if len(args) > 1 else ""
    if not channel.answered and "noanswer" not in options and "skip" not in options:
        channel.answered = True
    channel.set_variable("PLAYBACKSTATUS", "SUCCESS")
    return NEXT


@application("Background")
def _background(engine: Engine, channel: Channel, data: str) -> Control:
    args = split_args(data, limit=4)
    if not args or not args[0]:
        raise TraceError("Background requires an argument (filename)")
    options = args[1] if len(args) > 1 else ""
    context = args[3] if len(args) > 3 and args[3] else channel.context
    skip = options.lower() == "skip" or (options.lower() != "noanswer" and "s" in options)
    no_answer = options.lower() == "noanswer" or (options.lower() != "skip" and "n" in options)
    channel.set_variable("BACKGROUNDSTATUS", "SUCCESS")
    if not channel.answered:
        if skip:
            engine.note("channel not answered: Background skipped ('s' option)")
            return NEXT
        if not no_answer:
            channel.answered = True
    if "p" in options and options.lower() not in ("skip", "noanswer"):
        return NEXT
    key = engine.next_digit()
    if key is None:
        engine.note(f"no key pressed during '{args[0]}'")
        return NEXT
    engine.note(f"caller pressed '{key}' during '{args[0]}'")
    if engine.dialplan.can_match(
        context, key, callerid=channel.caller_num
    ) and not engine.dialplan.match_more(context, key, callerid=channel.caller_num):
        engine.note(f"going to '{key}' of [{context}]")
        engine.jump(channel, context, key, 1)
        return JUMPED
    return Digit(key)


@application("WaitExten")
def _wait_exten(engine: Engine, channel: Channel, data: str) -> Control:
    key = engine.next_digit()
    if key is not None:
        engine.note(f"caller pressed '{key}'")
        return Digit(key)
    if engine.dialplan.exists(
        channel.context, channel.exten, channel.priority + 1, callerid=channel.caller_num
    ):
        engine.note("no key pressed: continuing")
        return NEXT
    engine.response_timeout(channel)
    return JUMPED


@application("Read")
def _read(engine: Engine, channel: Channel, data: str) -> Control:
    args = split_args(data, limit=6)
    variable = args[0] if args else ""
    if not variable:
        engine.warn("Read requires a variable name")
        return NEXT
    maximum = 255
    if len(args) > 2 and args[2].strip().isdigit() and 0 < int(args[2]) < 256:
        maximum = int(args[2])
    options = args[3] if len(args) > 3 else ""
    if not channel.answered:
        if "s" in options:
            channel.set_variable("READSTATUS", "SKIPPED")
            return NEXT
        if "n" not in options:
            channel.answered = True
    digits = ""
    while len(digits) < maximum:
        key = engine.next_digit()
        if key is None or key == "#":
            break
        digits += key
    channel.set_variable(variable, digits)
    channel.set_variable("READSTATUS", "OK" if digits else "TIMEOUT")
    engine.note(f"read '{digits}' into {variable}")
    return NEXT


# --------------------------------------------------------------------------- outcomes


@application("Hangup")
def _hangup(engine: Engine, channel: Channel, data: str) -> Control:
    cause = cause_from_text(data) if data else None
    if data and cause is None:
        engine.warn(f"invalid cause given to Hangup(): {data!r}")
    if cause is None:
        cause = channel.hangup_cause or NORMAL_CLEARING
    channel.hangup_cause = cause
    raise engine.finish(channel, "hangup", "Hangup()", hangup=HangupInfo(cause, "Hangup"))


@application("Busy")
def _busy(engine: Engine, channel: Channel, data: str) -> Control:
    if not channel.answered:
        channel.hangup_cause = USER_BUSY
    raise engine.finish(channel, "hangup", "Busy()", hangup=HangupInfo(channel.hangup_cause, "Busy"))


@application("Congestion")
def _congestion(engine: Engine, channel: Channel, data: str) -> Control:
    if not channel.answered:
        channel.hangup_cause = CONGESTION
    raise engine.finish(
        channel, "hangup", "Congestion()", hangup=HangupInfo(channel.hangup_cause, "Congestion")
    )


def _expand_gosub_target(channel: Channel, target: str) -> str:
    """app_stack's expand_gosub_args: fill in the caller's context and extension."""
    label, has_args, rest = target.partition("(")
    parts = label.split(",")
    if len(parts) == 1:
        context, exten, priority = "", "", parts[0]
    elif len(parts) == 2:
        context, exten, priority = "", parts[0], parts[1]
    else:
        context, exten, priority = parts[0], parts[1], parts[2]
    expanded = f"{context or channel.context},{exten or channel.exten},{priority}"
    if has_args:
        closing = rest.rfind(")")
        arguments = rest[:closing] if closing >= 0 else rest
        if arguments:
            expanded += f"({arguments})"
    return expanded


def _pjsip_destination(
    engine: Engine, technology: str, resource: str
) -> tuple[str | None, str | None, bool | None]:
    """chan_pjsip's reading of a resource: (endpoint, number sent, whether pjsip.conf defines it)."""
    if technology.upper() != "PJSIP":
        return None, None, None
    first = resource.split("/", 1)[0]
    endpoint, number = first, None
    known = engine.pjsip is not None and engine.pjsip.endpoint(first) is not None
    if not known and "@" in first:
        number, _, endpoint = first.partition("@")
    defined = None if engine.pjsip is None else engine.pjsip.endpoint(endpoint) is not None
    return endpoint, number, defined


def _dial_target(
    engine: Engine,
    channel: Channel,
    technology: str,
    resource: str,
    options: dict[str, str | None],
    *,
    run_predial: bool,
) -> DialTarget:
    endpoint, number, defined = _pjsip_destination(engine, technology, resource)
    if defined is False:
        engine.warn(f"Dial to PJSIP endpoint '{endpoint}', which pjsip.conf does not define (CHANUNAVAIL)")
    endpoint_config = engine.pjsip.endpoint(endpoint) if engine.pjsip is not None and endpoint else None
    name, uniqueid = engine.call.new_channel_name(f"{technology}/{endpoint or resource}")
    callee = Channel(
        name=name,
        context=(endpoint_config.get("context") if endpoint_config else None) or "default",
        exten=number or "s",
        uniqueid=uniqueid,
        linkedid=channel.linkedid,
        endpoint=endpoint,
        caller_num=channel.caller_num,
        caller_name=channel.caller_name,
        connected_num=channel.caller_num,
        connected_name=channel.caller_name,
        accountcode=(endpoint_config.get("accountcode") if endpoint_config else None) or "",
        language=channel.language,
        musicclass=channel.musicclass,
    )
    # channel_req_accountcodes, BRIDGE_PEER, not precious (what app_dial calls).
    if channel.peeraccount:
        callee.accountcode = channel.peeraccount
    elif channel.accountcode:
        callee.accountcode = channel.accountcode
    if channel.accountcode:
        callee.peeraccount = channel.accountcode
    for variable, (value, level) in channel.inherited_variables().items():
        callee.set_variable("__" + variable if level == 2 else variable, value)
    callee.set_variable("DIALEDPEERNUMBER", resource)
    handler = options.get("b")
    if handler and not run_predial:
        engine.note(f"pre-dial handler of {name} does not run: the channel is never created (CHANUNAVAIL)")
    elif handler:
        engine.add_channel(callee, f"callee {name}")
        target = _expand_gosub_target(channel, handler.replace("^", ","))
        engine.note(f"pre-dial handler {target} runs on {name}")
        caller_step = engine.current_step
        engine.run_subroutine(callee, target)
        engine.current_step = caller_step
    return DialTarget(
        technology=technology,
        resource=resource,
        endpoint=endpoint,
        number=number,
        endpoint_defined=defined,
        accountcode=callee.accountcode,
        peeraccount=callee.peeraccount,
        callerid_num=callee.connected_num,
        callerid_name=callee.connected_name,
        headers=list(callee.added_headers),
    )


@application("Dial")
def _dial(engine: Engine, channel: Channel, data: str) -> Control:
    args = split_args(data, limit=4)
    peers = args[0] if args else ""
    if not peers:
        raise TraceError("Dial requires an argument (technology/resource)")
    timeout = args[1] if len(args) > 1 and args[1] else None
    options_text = args[2] if len(args) > 2 else ""
    options = parse_app_options(options_text)
    caller_handler = options.get("B")
    if caller_handler:
        target = _expand_gosub_target(channel, caller_handler.replace("^", ","))
        engine.note(f"pre-dial handler {target} runs on the caller")
        caller_step = engine.current_step
        engine.run_subroutine(channel, target)
        engine.current_step = caller_step
    destinations: list[tuple[str, str]] = []
    for peer in peers.split("&"):
        technology, slash, resource = peer.strip().partition("/")
        if not slash:
            engine.warn(f"Dial argument {peer!r} is not technology/resource")
            continue
        destinations.append((technology, resource))
    if not destinations:
        raise TraceError("Dial has no valid destination")
    # chan_pjsip cannot create a channel to an endpoint that does not exist: Dial returns at once.
    nowhere = all(_pjsip_destination(engine, *destination)[2] is False for destination in destinations)
    if nowhere:
        status: str | None = "CHANUNAVAIL"
    else:
        status = engine.dial_statuses.popleft().upper() if engine.dial_statuses else None
    # A CHANUNAVAIL Dial created no channel, so no pre-dial handler ran on one.
    targets = [
        _dial_target(engine, channel, technology, resource, options, run_predial=status != "CHANUNAVAIL")
        for technology, resource in destinations
    ]
    info = DialInfo(targets, timeout, options_text, options)
    described = " & ".join(f"{technology}/{resource}" for technology, resource in destinations)
    if nowhere:
        info.status = "CHANUNAVAIL"
        channel.set_variable("DIALSTATUS", "CHANUNAVAIL")
        channel.hangup_cause = NO_ROUTE_DESTINATION
        engine.continued.append(
            engine.outcome(channel, "dial", f"Dial({described}): no such endpoint, CHANUNAVAIL", dial=info)
        )
        engine.note("no destination exists: DIALSTATUS=CHANUNAVAIL and the dialplan goes on")
        return NEXT
    if status is None:
        raise engine.finish(channel, "dial", f"Dial({described})", dial=info)
    info.status = status
    if status == "ANSWER" and "g" not in options:
        raise engine.finish(
            channel, "dial", f"Dial({described}) answered: the call ends with the bridge", dial=info
        )
    channel.set_variable("DIALSTATUS", status)
    if status in DIAL_STATUS_CAUSES:
        channel.hangup_cause = DIAL_STATUS_CAUSES[status]
    engine.continued.append(
        engine.outcome(channel, "dial", f"Dial({described}) with DIALSTATUS={status}", dial=info)
    )
    engine.note(f"assumed DIALSTATUS={status}: the dialplan goes on")
    return NEXT


@application("Queue")
def _queue(engine: Engine, channel: Channel, data: str) -> Control:
    args = split_args(data, limit=9)
    name = args[0] if args else ""
    if not name:
        raise TraceError("Queue requires a queue name")
    options = args[1] if len(args) > 1 else ""
    timeout = args[4] if len(args) > 4 and args[4] else None
    section = engine.queues.section(name) if engine.queues is not None else None
    defined = None if engine.queues is None else section is not None
    if defined is False:
        engine.warn(f"queue '{name}' is not defined in queues.conf")
    info = QueueInfo(
        name=name,
        options=options,
        timeout=timeout,
        defined=defined,
        strategy=(section.get("strategy") or "ringall") if section else None,
        members=[member.split(",")[0].strip() for member in section.get_all("member")] if section else [],
    )
    status = engine.queue_statuses.popleft().upper() if engine.queue_statuses else None
    if status is None:
        raise engine.finish(channel, "queue", f"Queue({name})", queue=info)
    info.status = status
    channel.set_variable("QUEUESTATUS", status)
    engine.continued.append(
        engine.outcome(channel, "queue", f"Queue({name}) with QUEUESTATUS={status}", queue=info)
    )
    engine.note(f"assumed QUEUESTATUS={status}: the dialplan goes on")
    return NEXT


@application("VoiceMail")
def _voicemail(engine: Engine, channel: Channel, data: str) -> Control:
    args = split_args(data, limit=2)
    if not args or not args[0]:
        raise TraceError("VoiceMail requires a mailbox")
    mailboxes: list[Mailbox] = []
    for box in args[0].split("&"):
        mailbox, _, context = box.strip().partition("@")
        context = context or "default"
        defined: bool | None = None
        if engine.voicemail is not None:
            section = engine.voicemail.section(context)
            defined = section is not None and any(option.name == mailbox for option in section.options)
            if not defined:
                engine.warn(f"mailbox {mailbox}@{context} is not defined in voicemail.conf")
        mailboxes.append(Mailbox(mailbox, context, defined))
    info = VoicemailInfo(mailboxes, args[1] if len(args) > 1 else "")
    if any(box.defined is not False for box in mailboxes):
        channel.answered = True  # app_voicemail answers before the greeting; an unknown box fails first
    raise engine.finish(channel, "voicemail", f"VoiceMail({args[0]})", voicemail=info)
