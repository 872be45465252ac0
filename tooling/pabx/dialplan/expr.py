"""Asterisk's `${...}` substitution and `$[...]` expressions, as main/pbx_variables.c and ast_expr2 do them.

Substitution: `${VAR}`, `${VAR_${X}}` (inner first), `${VAR:offset:length}` with negative values,
`${FUNC(args)}`; a missing variable or a failing function reads as empty. Expressions: the
ast_expr2 grammar and its coercions (numbers are decimal floats printed like `%.18Lg`; a value
that is not a number compares as a string, with its quotes; `:` is a regex match anchored at
the start, `=~` one anywhere; `a ? b :: c`; `|` and `&` return operands, not booleans).
Values come from a `Scope` (the channel, in the engine), which raises for unknown functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from typing import Protocol

MAX_SUBSTITUTION_DEPTH = 15  # MAX_VARIABLE_SUB_RECURSE_DEPTH
INT_MAX = 2**31 - 1


class ExpressionError(Exception):
    """A `$[...]` that Asterisk's parser rejects (Asterisk logs it and substitutes 0)."""


class SubstitutionError(Exception):
    """Substitution nested deeper than Asterisk allows."""


class Scope(Protocol):
    """Where substitution reads values from."""

    def variable(self, name: str) -> str | None: ...

    def function(self, name: str, args: str) -> str | None: ...


@dataclass
class MappingScope:
    """A scope over plain variables and optional functions (globals at load time, tests)."""

    variables: Mapping[str, str]
    functions: Mapping[str, Callable[[str], str | None]] | None = None

    def variable(self, name: str) -> str | None:
        return self.variables.get(name)

    def function(self, name: str, args: str) -> str | None:
        if self.functions is None or name not in self.functions:
            raise UnknownFunctionError(name)
        return self.functions[name](args)


class UnknownFunctionError(Exception):
    """A dialplan function the tracer does not implement (so templates must not use it)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown dialplan function {name}()")
        self.name = name


def substitute_globals(text: str, globals_: Mapping[str, str]) -> str:
    """Substitution with no channel: what pbx_config does to extension names and `[globals]`."""
    return substitute(text, MappingScope(globals_))


# --------------------------------------------------------------------------- substitution


def _find_end(text: str, start: int, opening: str, closing: str) -> tuple[int, int, bool]:
    """Scan a `${...}` or `$[...]` body from `start`: (end of body, index after it, needs inner substitution)."""
    depth = 1
    needs_substitution = False
    index = start
    other_opening = "[" if opening == "{" else "{"
    while depth and index < len(text):
        char = text[index]
        if char == "$" and text[index + 1 : index + 2] == opening:
            needs_substitution = True
            depth += 1
            index += 1
        elif char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
        elif char == "$" and text[index + 1 : index + 2] == other_opening:
            needs_substitution = True
            index += 1
        index += 1
    body_end = index - 1 if depth == 0 else index
    return body_end, index, needs_substitution


def substitute(text: str, scope: Scope, _depth: int = 0) -> str:
    """Expand every `${...}` and `$[...]` in `text`."""
    if _depth >= MAX_SUBSTITUTION_DEPTH:
        raise SubstitutionError(f"substitution nested more than {MAX_SUBSTITUTION_DEPTH} levels in {text!r}")
    out: list[str] = []
    position = 0
    while position < len(text):
        dollar = text.find("$", position)
        if dollar < 0:
            out.append(text[position:])
            break
        kind = text[dollar + 1 : dollar + 2]
        if kind not in ("{", "["):
            out.append(text[position : dollar + 1])
            position = dollar + 1
            continue
        out.append(text[position:dollar])
        closing = "}" if kind == "{" else "]"
        body_end, position, needs_substitution = _find_end(text, dollar + 2, kind, closing)
        body = text[dollar + 2 : body_end]
        if needs_substitution:
            body = substitute(body, scope, _depth + 1)
        if kind == "[":
            out.append(evaluate_expression(body, scope))
            continue
        value = _read_reference(body, scope)
        if value is not None:
            out.append(value)
    return "".join(out)


def split_reference(reference: str) -> tuple[str, int, int, bool]:
    """parse_variable_name: `NAME:offset:length` → (NAME, offset, length, is_function)."""
    parens = 0
    is_function = False
    for index, char in enumerate(reference):
        if char == "(":
            is_function = True
            parens += 1
        elif char == ")":
            parens -= 1
        elif char == ":" and parens == 0:
            offset, length = _scan_offset_length(reference[index + 1 :])
            return reference[:index], offset, length, is_function
    return reference, 0, INT_MAX, is_function


def _scan_offset_length(text: str) -> tuple[int, int]:
    match = re.match(r"\s*([+-]?\d+)(?::\s*([+-]?\d+))?", text)
    if not match:
        return 0, INT_MAX
    offset = int(match.group(1))
    length = int(match.group(2)) if match.group(2) is not None else INT_MAX
    return offset, length


def split_function_call(call: str) -> tuple[str, str]:
    """`CALLERID(num)` → ("CALLERID", "num"): the arguments run to the last ')'."""
    name, _, args = call.partition("(")
    closing = args.rfind(")")
    return name, args[:closing] if closing >= 0 else args


def _read_reference(body: str, scope: Scope) -> str | None:
    name, offset, length, is_function = split_reference(body)
    if is_function:
        function, args = split_function_call(name)
        value = scope.function(function, args)
    else:
        value = scope.variable(name)
    if value is None:
        return None
    return substring(value, offset, length)


def substring(value: str, offset: int, length: int) -> str:
    """`${VAR:offset:length}`: a negative offset counts from the end, a negative length drops from the end."""
    total = len(value)
    if offset == 0 and length >= total:
        return value
    if offset < 0:
        offset = max(total + offset, 0)
    if offset >= total:
        return ""
    if length >= 0:
        return value[offset : offset + length]
    if total > offset - length:
        return value[offset : total + length]
    return ""


def split_args(
    text: str, delimiter: str = ",", *, remove_chars: bool = True, limit: int | None = None
) -> list[str]:
    """__ast_app_separate_args: split on `delimiter` outside (), [] and quotes.

    With `remove_chars` (AST_STANDARD_APP_ARGS) quotes and backslashes are removed; without it
    (the RAW variants) they stay. With `limit`, the last argument keeps the unsplit remainder.
    """
    args: list[str] = []
    index = 0
    length = len(text)
    paren = bracket = 0
    quote = False
    ended_with_delimiter = False
    while index < length and (limit is None or len(args) < limit - 1):
        current: list[str] = []
        ended_with_delimiter = False
        while index < length:
            char = text[index]
            if char == "(":
                paren += 1
            elif char == ")":
                paren = max(paren - 1, 0)
            elif char == "[":
                bracket += 1
            elif char == "]":
                bracket = max(bracket - 1, 0)
            elif char == '"' and delimiter != '"':
                quote = not quote
                if remove_chars:
                    index += 1
                    continue
            elif char == "\\":
                if remove_chars:
                    index += 1
                    if index < length:
                        current.append(text[index])
                        index += 1
                    continue
                current.append(char)
                index += 1
                if index < length:
                    current.append(text[index])
                    index += 1
                continue
            elif char == delimiter and not paren and not quote and not bracket:
                index += 1
                ended_with_delimiter = True
                break
            current.append(char)
            index += 1
        args.append("".join(current))
    if index < length or ended_with_delimiter:
        args.append(text[index:])
    return args


def check_condition(condition: str) -> bool:
    """pbx_checkcondition: empty is false, a leading integer is its own truth, any other text is true."""
    if not condition:
        return False
    match = re.match(r"\s*([+-]?\d+)", condition)
    if match:
        return int(match.group(1)) != 0
    return True


# --------------------------------------------------------------------------- expressions

_OPERATORS = sorted(
    [
        "|",
        "&",
        "=",
        "||",
        "&&",
        "==",
        "=~",
        "~~",
        ">",
        "<",
        ">=",
        "<=",
        "!=",
        "+",
        ",",
        "-",
        "*",
        "/",
        "%",
        "?",
        "!",
        ":",
        "::",
        "(",
        ")",
    ],
    key=len,
    reverse=True,
)
_WORD_CHAR = re.compile(r"[a-zA-Z0-9.';\\_^#@\x80-\U0010ffff]")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_TRAIL_STOP = set("-\t\r \n$():?%/+=*<>!|&")


@dataclass
class Value:
    """An ast_expr2 value: a number, a string that looks numeric, or a plain string."""

    kind: str  # "number" | "numeric" | "string"
    text: str = ""
    number: Decimal = Decimal(0)

    @staticmethod
    def of_number(number: Decimal) -> Value:
        return Value("number", number=number)

    @staticmethod
    def of_text(text: str) -> Value:
        """make_str: text of digits and dots starting with a digit or '.' is numeric."""
        numeric = (
            bool(text)
            and (text[0].isdigit() or text[0] == ".")
            and all(c.isdigit() or c == "." for c in text)
        )
        return Value("numeric" if numeric else "string", text=text)

    def to_number(self) -> bool:
        if self.kind == "number":
            return True
        if self.kind == "string":
            return False
        match = re.match(r"\d*(?:\.\d*)?", self.text)
        digits = match.group(0) if match else ""
        try:
            self.number = Decimal(digits) if digits.strip(".") else Decimal(0)
        except InvalidOperation:
            self.number = Decimal(0)
        self.kind = "number"
        return True

    def to_string(self) -> None:
        if self.kind == "number":
            self.text = format_number(self.number)
            self.kind = "string"

    def strip_quotes(self) -> None:
        if self.kind != "number" and len(self.text) >= 1 and self.text[0] == '"' and self.text[-1] == '"':
            self.text = self.text.replace('"', "")

    def is_string(self) -> bool:
        return self.kind == "string"

    def is_zero_or_null(self) -> bool:
        if self.kind == "number":
            return self.number == 0
        return self.text == "" or (self.to_number() and self.number == 0)

    def render(self) -> str:
        return format_number(self.number) if self.kind == "number" else self.text


def format_number(number: Decimal) -> str:
    """printf("%.18Lg") for the values expressions produce."""
    if number == number.to_integral_value() and abs(number) < Decimal(10) ** 18:
        return str(int(number))
    with localcontext() as context:
        context.prec = 18
        rounded = +number
    exponent = rounded.adjusted()
    if -4 <= exponent < 18:
        text = format(rounded, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    sign, digits, _ = rounded.as_tuple()
    mantissa = "".join(str(digit) for digit in digits).rstrip("0") or "0"
    body = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
    return f"{'-' if sign else ''}{body}e{'+' if exponent >= 0 else '-'}{abs(exponent):02d}"


@dataclass(frozen=True)
class _Token:
    kind: str  # an operator, or "value"
    text: str
    numeric: bool = False


def tokenize(expression: str) -> list[_Token]:
    """The ast_expr2 lexer (longest match; characters no rule accepts are dropped, as flex echoes them)."""
    tokens: list[_Token] = []
    index = 0
    length = len(expression)
    while index < length:
        char = expression[index]
        if char in " \t\r\n":
            index += 1
            continue
        if expression.startswith("${", index):
            end = _gather_variable(expression, index)
            tokens.append(_Token("value", expression[index:end]))
            index = end
            continue
        if char == '"':
            closing = expression.find('"', index + 1)
            if closing >= 0:
                tokens.append(_Token("value", expression[index : closing + 1]))
                index = closing + 1
                continue
        operator = next((op for op in _OPERATORS if expression.startswith(op, index)), None)
        if operator:
            tokens.append(_Token(operator, operator))
            index += len(operator)
            continue
        word_end = index
        while word_end < length:
            current = expression[word_end]
            if _WORD_CHAR.match(current):
                word_end += 1
            elif current == "$" and word_end + 1 < length and expression[word_end + 1] != "{":
                word_end += 2
            else:
                break
        number = _NUMBER.match(expression, index)
        if number and number.end() >= word_end:
            tokens.append(_Token("value", number.group(0), numeric=True))
            index = number.end()
        elif word_end > index and expression.startswith("${", word_end):
            end = _gather_variable(expression, word_end)
            tokens.append(_Token("value", expression[index:end]))
            index = end
        elif word_end > index:
            tokens.append(_Token("value", expression[index:word_end]))
            index = word_end
        else:
            index += 1
    return tokens


def _gather_variable(expression: str, index: int) -> int:
    """A `${...}` left in an expression is one token, with what directly follows it."""
    depth = 0
    position = index + 2
    while position < len(expression):
        char = expression[position]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                position += 1
                break
        position += 1
    while position < len(expression) and expression[position] not in _TRAIL_STOP:
        position += 1
    return position


class _Parser:
    def __init__(self, tokens: list[_Token], scope: Scope) -> None:
        self.tokens = tokens
        self.position = 0
        self.scope = scope

    def peek(self) -> str | None:
        return self.tokens[self.position].kind if self.position < len(self.tokens) else None

    def take(self) -> _Token:
        if self.position >= len(self.tokens):
            raise ExpressionError("syntax error: unexpected end of expression")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expect(self, kind: str) -> None:
        token = self.take()
        if token.kind != kind:
            raise ExpressionError(f"syntax error: expected '{kind}', found '{token.text}'")

    def parse(self) -> Value:
        if not self.tokens:
            return Value("string", "")
        value = self.ternary()
        if self.position != len(self.tokens):
            raise ExpressionError(f"syntax error near '{self.tokens[self.position].text}'")
        return value

    def ternary(self) -> Value:
        value = self.logical_or()
        while self.peek() == "?":
            self.take()
            if_true = self.ternary()
            self.expect("::")
            if_false = self.logical_or()
            value = _op_cond(value, if_true, if_false)
        return value

    def logical_or(self) -> Value:
        value = self.logical_and()
        while self.peek() in ("|", "||"):
            self.take()
            other = self.logical_and()
            value = other if value.is_zero_or_null() else value
        return value

    def logical_and(self) -> Value:
        value = self.comparison()
        while self.peek() in ("&", "&&"):
            self.take()
            other = self.comparison()
            if value.is_zero_or_null() or other.is_zero_or_null():
                value = Value.of_number(Decimal(0))
        return value

    def comparison(self) -> Value:
        value = self.additive()
        while self.peek() in ("=", "==", ">", "<", ">=", "<=", "!="):
            operator = self.take().kind
            value = _op_compare(operator, value, self.additive())
        return value

    def additive(self) -> Value:
        value = self.multiplicative()
        while self.peek() in ("+", "-"):
            operator = self.take().kind
            other = self.multiplicative()
            value = _op_plus(value, other) if operator == "+" else _op_minus(value, other)
        return value

    def multiplicative(self) -> Value:
        value = self.unary()
        while self.peek() in ("*", "/", "%"):
            operator = self.take().kind
            value = _op_arithmetic(operator, value, self.unary())
        return value

    def unary(self) -> Value:
        kind = self.peek()
        if kind == "!":
            self.take()
            return _op_complement(self.unary())
        if kind == "-":
            self.take()
            operand = self.unary()
            if not operand.to_number():
                return Value.of_number(Decimal(0))
            return Value.of_number(-operand.number)
        return self.regex_chain()

    def regex_chain(self) -> Value:
        value = self.primary()
        while self.peek() in (":", "=~", "~~"):
            operator = self.take().kind
            other = self.unary() if self.peek() in ("!", "-") else self.primary()
            value = (
                _op_concat(value, other)
                if operator == "~~"
                else _op_regex(value, other, anchored=operator == ":")
            )
        return value

    def primary(self) -> Value:
        token = self.take()
        if token.kind == "(":
            value = self.ternary()
            self.expect(")")
            return value
        if token.kind != "value":
            raise ExpressionError(f"syntax error near '{token.text}'")
        if self.peek() == "(":
            self.take()
            args = self.arguments()
            result = self.scope.function(token.text, ",".join(args))
            return Value.of_text(result or "")
        return Value("numeric" if token.numeric else "string", text=token.text)

    def arguments(self) -> list[str]:
        args: list[str] = []
        while True:
            if self.peek() == ")":
                self.take()
                if not args:
                    raise ExpressionError("syntax error: a function call needs arguments")
                return args
            value = self.ternary()
            args.append(value.render())
            if self.peek() == ",":
                self.take()
                if self.peek() == ")":
                    args.append("")
                continue
            self.expect(")")
            return args


def _op_cond(condition: Value, if_true: Value, if_false: Value) -> Value:
    if condition.is_string():
        truthy = condition.text not in ("", '""', "0")
    else:
        condition.to_number()
        truthy = condition.number != 0
    return if_true if truthy else if_false


def _op_compare(operator: str, left: Value, right: Value) -> Value:
    if left.is_string() or right.is_string():
        left.to_string()
        right.to_string()
        a: object = left.text.encode("utf-8", "surrogateescape")
        b: object = right.text.encode("utf-8", "surrogateescape")
    else:
        left.to_number()
        right.to_number()
        a, b = left.number, right.number
    outcomes = {
        "=": a == b,
        "==": a == b,
        "!=": a != b,
        ">": a > b,  # type: ignore[operator]
        "<": a < b,  # type: ignore[operator]
        ">=": a >= b,  # type: ignore[operator]
        "<=": a <= b,  # type: ignore[operator]
    }
    return Value.of_number(Decimal(int(outcomes[operator])))


def _op_plus(left: Value, right: Value) -> Value:
    if not left.to_number():
        return right if right.to_number() else Value.of_number(Decimal(0))
    if not right.to_number():
        return left
    return Value.of_number(left.number + right.number)


def _op_minus(left: Value, right: Value) -> Value:
    if not left.to_number():
        return Value.of_number(-right.number) if right.to_number() else Value.of_number(Decimal(0))
    if not right.to_number():
        return left
    return Value.of_number(left.number - right.number)


def _op_arithmetic(operator: str, left: Value, right: Value) -> Value:
    if operator == "/":
        if not left.to_number():
            return Value.of_number(Decimal(0))
        if not right.to_number() or right.number == 0:
            return Value.of_number(Decimal(INT_MAX))
        with localcontext() as context:
            context.prec = 30
            return Value.of_number(left.number / right.number)
    if not left.to_number() or not right.to_number():
        return Value.of_number(Decimal(0))
    if operator == "*":
        return Value.of_number(left.number * right.number)
    if right.number == 0:
        return right
    with localcontext() as context:
        context.prec = 30
        return Value.of_number(left.number % right.number)  # fmod: the sign follows the dividend


def _op_complement(value: Value) -> Value:
    if value.kind == "number":
        truthy = value.number != 0
    elif value.text in ("", "0"):
        truthy = False
    else:
        match = re.match(r"\s*([+-]?\d+)", value.text)
        truthy = bool(int(match.group(1))) if match else False
    return Value.of_number(Decimal(0 if truthy else 1))


def _op_regex(subject: Value, pattern: Value, *, anchored: bool) -> Value:
    subject.to_string()
    pattern.to_string()
    subject.strip_quotes()
    pattern.strip_quotes()
    try:
        compiled = re.compile(pattern.text)
    except re.error:
        return Value.of_text("")
    match = compiled.search(subject.text)
    if match is None or (anchored and match.start() != 0):
        return Value.of_number(Decimal(0)) if compiled.groups == 0 else Value.of_text("")
    if compiled.groups >= 1 and match.start(1) >= 0:
        return Value.of_text(match.group(1))
    return Value.of_number(Decimal(match.end() - match.start()))


def _op_concat(left: Value, right: Value) -> Value:
    left.to_string()
    right.to_string()
    left.strip_quotes()
    right.strip_quotes()
    return Value.of_text(left.text + right.text)


def evaluate_expression(expression: str, scope: Scope) -> str:
    """The text `$[expression]` becomes (after its own substitution)."""
    return _Parser(tokenize(expression), scope).parse().render()
