"""The state of one traced channel (variables, caller ID, CDR fields, groups, SIP headers) and the call around it.

A `Channel` holds what the dialplan can read and write on one leg; a `Call` holds what legs
share (the platform's GROUP counts, the ids handed out). Variable lookup follows
`ast_str_retrieve_variable`: built-in names first (EXTEN, CONTEXT, PRIORITY, CHANNEL, UNIQUEID,
HANGUPCAUSE, EPOCH), then the channel's variables, then `[globals]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CAUSES: dict[int, str] = {
    1: "UNALLOCATED",
    2: "NO_ROUTE_TRANSIT_NET",
    3: "NO_ROUTE_DESTINATION",
    5: "MISDIALLED_TRUNK_PREFIX",
    6: "CHANNEL_UNACCEPTABLE",
    7: "CALL_AWARDED_DELIVERED",
    8: "PRE_EMPTED",
    14: "NUMBER_PORTED_NOT_HERE",
    16: "NORMAL_CLEARING",
    17: "USER_BUSY",
    18: "NO_USER_RESPONSE",
    19: "NO_ANSWER",
    20: "SUBSCRIBER_ABSENT",
    21: "CALL_REJECTED",
    22: "NUMBER_CHANGED",
    23: "REDIRECTED_TO_NEW_DESTINATION",
    26: "ANSWERED_ELSEWHERE",
    27: "DESTINATION_OUT_OF_ORDER",
    28: "INVALID_NUMBER_FORMAT",
    29: "FACILITY_REJECTED",
    30: "RESPONSE_TO_STATUS_ENQUIRY",
    31: "NORMAL_UNSPECIFIED",
    34: "NORMAL_CIRCUIT_CONGESTION",
    38: "NETWORK_OUT_OF_ORDER",
    41: "NORMAL_TEMPORARY_FAILURE",
    42: "SWITCH_CONGESTION",
    43: "ACCESS_INFO_DISCARDED",
    44: "REQUESTED_CHAN_UNAVAIL",
    50: "FACILITY_NOT_SUBSCRIBED",
    52: "OUTGOING_CALL_BARRED",
    54: "INCOMING_CALL_BARRED",
    57: "BEARERCAPABILITY_NOTAUTH",
    58: "BEARERCAPABILITY_NOTAVAIL",
    65: "BEARERCAPABILITY_NOTIMPL",
    66: "CHAN_NOT_IMPLEMENTED",
    69: "FACILITY_NOT_IMPLEMENTED",
    81: "INVALID_CALL_REFERENCE",
    88: "INCOMPATIBLE_DESTINATION",
    95: "INVALID_MSG_UNSPECIFIED",
    96: "MANDATORY_IE_MISSING",
    97: "MESSAGE_TYPE_NONEXIST",
    98: "WRONG_MESSAGE",
    99: "IE_NONEXIST",
    100: "INVALID_IE_CONTENTS",
    101: "WRONG_CALL_STATE",
    102: "RECOVERY_ON_TIMER_EXPIRE",
    103: "MANDATORY_IE_LENGTH_ERROR",
    111: "PROTOCOL_ERROR",
    127: "INTERWORKING",
}
NORMAL_CLEARING = 16
USER_BUSY = 17
CONGESTION = 34


def cause_from_text(text: str) -> int | None:
    """Hangup()'s argument: a cause name (prefix match, as ast_str2cause) or a positive number."""
    upper = text.upper()
    for number, name in CAUSES.items():
        if upper.startswith(name):
            return number
    match = re.match(r"\s*([+-]?\d+)", text)
    if match is None or int(match.group(1)) <= 0:
        return None
    return int(match.group(1))


@dataclass
class GosubFrame:
    """A Gosub return address and the variables its arguments (and LOCAL()) shadowed."""

    context: str
    exten: str
    priority: int
    saved: dict[str, str | None] = field(default_factory=dict)
    in_subroutine: bool = False  # the channel's AST_FLAG_SUBROUTINE_EXEC before this Gosub


@dataclass
class Channel:
    """One leg of the call, with everything the dialplan can observe or change on it."""

    name: str
    context: str
    exten: str
    priority: int = 1
    uniqueid: str = "trace.1"
    linkedid: str = "trace.1"
    endpoint: str | None = None
    caller_num: str = ""
    caller_name: str = ""
    connected_num: str = ""
    connected_name: str = ""
    dnid: str = ""
    ani: str = ""
    accountcode: str = ""
    peeraccount: str = ""
    language: str = "en"
    musicclass: str = ""
    answered: bool = False
    hangup_cause: int = 0
    variables: dict[str, str] = field(default_factory=dict)
    inheritance: dict[str, int] = field(default_factory=dict)
    cdr_userfield: str = ""
    cdr_dst: str = ""
    cdr_dcontext: str = ""
    in_subroutine: bool = False  # AST_FLAG_SUBROUTINE_EXEC: set by Gosub, restored by Return
    cdr_amaflags: str = "DOCUMENTATION"
    cdr_variables: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    inbound_headers: list[tuple[str, str]] = field(default_factory=list)
    added_headers: list[tuple[str, str]] = field(default_factory=list)
    timeouts: dict[str, str] = field(default_factory=dict)
    stack: list[GosubFrame] = field(default_factory=list)
    hangup_handlers: list[str] = field(default_factory=list)
    exception: str = ""

    def set_variable(self, name: str, value: str | None) -> None:
        """pbx_builtin_setvar_helper for a plain variable: `_X`/`__X` mark it inherited by dialed legs."""
        bare = name
        level = 0
        if bare.startswith("_"):
            bare = bare[1:]
            level = 1
            if bare.startswith("_"):
                bare = bare[1:]
                level = 2
        self.variables.pop(bare, None)
        self.inheritance.pop(bare, None)
        if value is not None:
            self.variables[bare] = value
            if level:
                self.inheritance[bare] = level

    def inherited_variables(self) -> dict[str, tuple[str, int]]:
        """ast_channel_inherit_variables: `_X` reaches the dialed leg once, `__X` forever."""
        inherited: dict[str, tuple[str, int]] = {}
        for name, level in self.inheritance.items():
            if name in self.variables:
                inherited[name] = (self.variables[name], 2 if level == 2 else 0)
        return inherited

    def join_group(self, group: str, category: str) -> None:
        """GROUP(category)=group: one group per category per channel (ast_app_group_set_channel)."""
        for existing in list(self.groups):
            if existing.lower() == category.lower():
                del self.groups[existing]
        self.groups[category] = group

    def group_memberships(self) -> list[str]:
        return [f"{group}@{category}" if category else group for category, group in self.groups.items()]


@dataclass
class Call:
    """What every leg of one traced call shares."""

    group_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    channels: list[Channel] = field(default_factory=list)
    epoch: int = 1767225600  # 2026-01-01T00:00:00Z: EPOCH is fixed so traces are reproducible
    next_id: int = 1

    @staticmethod
    def group_key(group: str, category: str) -> tuple[str, str]:
        return group.lower(), category.lower()

    def preset_group_counts(self, counts: dict[str, int]) -> None:
        """Counts of *other* calls already in each `group@category` (what GROUP_COUNT adds to)."""
        for key, count in counts.items():
            group, _, category = key.partition("@")
            self.group_counts[self.group_key(group, category)] = count

    def group_count(self, group: str, category: str) -> int:
        members = sum(
            1
            for channel in self.channels
            for member_category, member_group in channel.groups.items()
            if self.group_key(member_group, member_category) == self.group_key(group, category)
        )
        return self.group_counts.get(self.group_key(group, category), 0) + members

    def new_channel_name(self, technology_resource: str) -> tuple[str, str]:
        """A channel name like `PJSIP/acme_2001-00000002` and a unique id for a new leg."""
        self.next_id += 1
        return f"{technology_resource}-{self.next_id:08x}", f"trace.{self.next_id}"
