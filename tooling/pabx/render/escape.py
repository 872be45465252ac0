"""Make values safe for Asterisk config files: nothing from YAML may open a section, add an
option or dialplan line, or smuggle a `${...}` / `$[...]` expansion.

Structured values (slugs, digits, sound names, e-mails) are validated by the models; these
guards re-check them at the boundary and raise InternalError if a model ever lets one through.
Free text (names) is reduced to a conservative alphabet instead.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pabx.errors import InternalError

_TOKEN = re.compile(r"^[A-Za-z0-9_+*#/.:@=-]*$")
_TEXT_KEEP = re.compile(r"[^\w .'()/&@-]", re.UNICODE)


@lru_cache(maxsize=1 << 16)
def _checked(text: str) -> str:
    if not _TOKEN.match(text):
        raise InternalError(f"unsafe value reached the renderer: {text!r}")
    return text


def token(value: object) -> str:
    """A value that may go verbatim into a dialplan argument or an option (no spaces, no , ; $ [ ] ( ))."""
    return _checked(str(value))


_PATTERN = re.compile(r"^(?:_[0-9XZN+*#\[\]\-.!]+|[0-9A-Za-z+*#_-]+)$")


def pattern(value: str) -> str:
    """An extension name or `_` pattern for `exten =>` (digits, X Z N, [ranges], . !, or a word like s/i/t)."""
    if not _PATTERN.match(value):
        raise InternalError(f"unsafe extension pattern reached the renderer: {value!r}")
    return value


def text(value: str, *, limit: int = 60) -> str:
    """Free text (a person's or extension's name) for a config value: letters, digits, spaces and
    a few punctuation marks; everything else becomes a space. Never empty."""
    normalized = unicodedata.normalize("NFC", value)
    kept = _TEXT_KEEP.sub(" ", normalized)
    kept = re.sub(r"\s+", " ", kept).strip()
    return kept[:limit].strip() or "-"


def ascii_text(value: str, *, limit: int = 60) -> str:
    """`text`, folded to ASCII (for SIP display names, which many phones render badly otherwise)."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return text(folded, limit=limit)
