"""Telegram's HTML parse mode, ported from TDLib: visible text, entities, and errors.

The fake parses every ``parse_mode="HTML"`` text the way the Bot API server does, so a tag
Telegram refuses fails the test with Telegram's own message, and lengths are counted on what
the user sees (after tags and entities), as Telegram counts them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from tests.fakes.objects import JSONDict


class HtmlParseError(ValueError):
    """Why Telegram cannot parse an HTML text, in TDLib's words (e.g. ``Unsupported start tag
    "p" at byte offset 0``). The Bot API prefixes it with ``Bad Request: can't parse entities:``.
    """


_ALLOWED_TAGS: Final = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre",
        "span", "tg-spoiler", "blockquote", "tg-emoji", "tg-time",
    }
)  # fmt: skip
_SIMPLE_ENTITIES: Final[Mapping[str, str]] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES: Final[Mapping[bytes, int]] = {
    b"lt": 0x3C,
    b"gt": 0x3E,
    b"amp": 0x26,
    b"quot": 0x22,
}
_LT, _GT, _AMP, _SLASH, _EQ, _DQ, _SQ, _SEMI = (ord(c) for c in "<>&/=\"';")
_SPACES: Final = frozenset(b" \t\r\n\v\x00")  # TDLib's is_space counts the terminating NUL
_USER_LINK = re.compile(r"tg://user\?id=(\d+)$", re.IGNORECASE)


def _is_alpha(byte: int) -> bool:
    return 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


def _is_digit(byte: int) -> bool:
    return 0x30 <= byte <= 0x39


def _is_hex(byte: int) -> bool:
    return _is_digit(byte) or 0x41 <= byte <= 0x46 or 0x61 <= byte <= 0x66


@dataclass
class _OpenTag:
    name: str
    argument: str
    offset: int  # UTF-16 offset in the visible text where the tag starts
    result_pos: int  # byte position in the visible text where the tag starts


class _HtmlParser:
    """A port of TDLib's ``do_parse_html`` (error messages and byte offsets included)."""

    def __init__(self, text: str, *, strict: bool) -> None:
        self.data = text.encode("utf-8")
        self.strict = strict
        self.out = bytearray()
        self.entities: list[JSONDict] = []
        self.stack: list[_OpenTag] = []
        self.utf16 = 0
        self.bad_surrogate = False

    def at(self, i: int) -> int:
        """The byte at ``i``, or 0 past the end (TDLib reads a NUL-terminated string)."""
        return self.data[i] if i < len(self.data) else 0

    def decode_entity(self, pos: int) -> tuple[int, int, bool] | None:
        """Decode ``&...`` at ``pos``: (code point, end position, ended with ';') or None."""
        end = pos + 1
        code = 0
        if self.at(pos + 1) == ord("#"):
            end += 1
            if self.at(pos + 2) == ord("x"):
                end += 1
                while _is_hex(self.at(end)):
                    code = code * 16 + int(chr(self.at(end)), 16)
                    end += 1
            else:
                while _is_digit(self.at(end)):
                    code = code * 10 + self.at(end) - 0x30
                    end += 1
            if code == 0 or code >= 0x10FFFF or end - pos >= 10:
                return None
        else:
            while _is_alpha(self.at(end)):
                end += 1
            named = _NAMED_ENTITIES.get(bytes(self.data[pos + 1 : end]))
            if named is None:
                return None
            code = named
        if self.at(end) == _SEMI:
            return code, end + 1, True
        return code, end, False

    def append_code_point(self, code: int, into: bytearray) -> None:
        if 0xD800 <= code <= 0xDFFF:
            self.bad_surrogate = True
            return
        into += chr(code).encode("utf-8")

    def parse(self) -> tuple[str, list[JSONDict]]:
        i = 0
        n = len(self.data)
        while i < n:
            c = self.data[i]
            if c == _AMP:
                decoded = self.decode_entity(i)
                if decoded is not None:
                    code, end, terminated = decoded
                    if self.strict and not terminated:
                        raise HtmlParseError(
                            f"Character reference at byte offset {i} must end with ';'"
                        )
                    self.append_code_point(code, self.out)
                    self.utf16 += 2 if code > 0xFFFF else 1
                    i = end
                    continue
                if self.strict:
                    raise HtmlParseError(
                        f"Character '&' at byte offset {i} must be escaped as &amp;"
                    )
            if c != _LT:
                if self.strict and c == _GT:
                    raise HtmlParseError(
                        f"Character '>' at byte offset {i} must be escaped as &gt;"
                    )
                if c & 0xC0 != 0x80:  # first byte of a UTF-8 sequence
                    self.utf16 += 2 if c >= 0xF0 else 1
                self.out.append(c)
                i += 1
                continue
            i = self.end_tag(i) if self.at(i + 1) == _SLASH else self.start_tag(i)
        if self.stack:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)  # a language only counts for <pre><code>
        if self.bad_surrogate:
            raise HtmlParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return self.out.decode("utf-8"), self.entities

    def start_tag(self, begin: int) -> int:
        """Parse ``<tag attr=...>`` at ``begin``; return the position after ``>``."""
        at = self.at
        i = begin + 1
        while at(i) not in _SPACES and at(i) != _GT:
            i += 1
        if at(i) == 0:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
        tag = self.data[begin + 1 : i].decode("utf-8", "replace").lower()
        if tag not in _ALLOWED_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
        argument = ""
        while at(i) != _GT:
            while at(i) != 0 and at(i) in _SPACES:
                i += 1
            if at(i) == _GT:
                break
            attr_begin = i
            while at(i) not in _SPACES and at(i) not in (_EQ, _GT, _SLASH, _DQ, _SQ):
                i += 1
            attribute = self.data[attr_begin:i].decode("utf-8", "replace")
            if not attribute:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                )
            while at(i) != 0 and at(i) in _SPACES:
                i += 1
            if at(i) != _EQ:
                if at(i) == 0:
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if tag == "blockquote" and attribute == "expandable":
                    argument = "1"
                continue
            i += 1
            while at(i) != 0 and at(i) in _SPACES:
                i += 1
            if at(i) == 0:
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            value, i = self.attribute_value(i)
            if at(i) == 0:
                raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
            if (tag, attribute) in (("a", "href"), ("tg-emoji", "emoji-id")):
                argument = value
            elif (tag, attribute) == ("code", "class") and value.startswith("language-"):
                argument = value.removeprefix("language-")
            elif (tag, attribute) == ("span", "class") and value.startswith("tg-"):
                argument = value.removeprefix("tg-")
            elif (tag, attribute) == ("blockquote", "expandable"):
                argument = "1"
        if tag == "span" and argument != "spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        self.stack.append(_OpenTag(tag, argument, self.utf16, len(self.out)))
        return i + 1

    def attribute_value(self, i: int) -> tuple[str, int]:
        """Read a quoted string or a name token at ``i``; return it and the position after."""
        at = self.at
        quote = at(i)
        if quote not in (_DQ, _SQ):
            token_begin = i
            while _is_alpha(at(i)) or _is_digit(at(i)) or at(i) in (ord("."), ord("-")):
                i += 1
            if at(i) not in _SPACES and at(i) != _GT:
                raise HtmlParseError(f"Unexpected end of name token at byte offset {token_begin}")
            return self.data[token_begin:i].decode("ascii").lower(), i
        i += 1
        value = bytearray()
        while at(i) != quote and at(i) != 0:
            if at(i) == _AMP:
                decoded = self.decode_entity(i)
                if decoded is not None:
                    self.append_code_point(decoded[0], value)
                    i = decoded[1]
                    continue
            value.append(at(i))
            i += 1
        if at(i) == quote:
            i += 1
        return value.decode("utf-8", "replace"), i

    def end_tag(self, begin: int) -> int:
        """Parse ``</tag>`` at ``begin``, closing the innermost open tag."""
        at = self.at
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
        i = begin + 2
        while at(i) not in _SPACES and at(i) != _GT:
            i += 1
        end_name = self.data[begin + 2 : i].decode("utf-8", "replace").lower()
        while at(i) != 0 and at(i) in _SPACES:
            i += 1
        if at(i) != _GT:
            raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
        open_tag = self.stack[-1]
        if end_name and end_name != open_tag.name:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{open_tag.name}>", '
                f'found "</{end_name}>"'
            )
        if self.utf16 > open_tag.offset:
            self.add_entity(open_tag, self.utf16 - open_tag.offset)
        self.stack.pop()
        return i + 1

    def add_entity(self, tag: _OpenTag, length: int) -> None:
        """Turn a closed tag into the MessageEntity Telegram would report."""
        entity: JSONDict = {"offset": tag.offset, "length": length}
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and last["offset"] == tag.offset and last["length"] == length
        if tag.name in _SIMPLE_ENTITIES:
            self.entities.append({"type": _SIMPLE_ENTITIES[tag.name], **entity})
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or not 0 < int(tag.argument) < 2**63:
                raise HtmlParseError("Invalid custom emoji identifier specified")
            self.entities.append(
                {"type": "custom_emoji", **entity, "custom_emoji_id": tag.argument}
            )
        elif tag.name == "a":
            url = tag.argument or self.out[tag.result_pos :].decode("utf-8", "replace")
            user_link = _USER_LINK.match(url)
            if user_link:
                user = {"id": int(user_link.group(1)), "is_bot": False, "first_name": "User"}
                self.entities.append({"type": "text_mention", **entity, "user": user})
            elif url:
                self.entities.append({"type": "text_link", **entity, "url": url})
        elif tag.name == "pre":
            if same_span and last is not None and last["type"] == "code" and "language" in last:
                last["type"] = "pre"
            else:
                self.entities.append({"type": "pre", **entity})
        elif tag.name == "code":
            if same_span and last is not None and last["type"] == "pre" and tag.argument:
                last["language"] = tag.argument
            else:
                code: JSONDict = {"type": "code", **entity}
                if tag.argument:
                    code["language"] = tag.argument
                self.entities.append(code)
        elif tag.name == "blockquote":
            kind = "expandable_blockquote" if tag.argument else "blockquote"
            self.entities.append({"type": kind, **entity})
        # tg-time: a date_time entity; its text is shown as is, so nothing to record here.


def parse_html(text: str, *, strict: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Telegram HTML into (visible text, MessageEntity dicts with UTF-16 offsets).

    Follows TDLib, the Bot API server: supported tags are ``b strong i em u ins s strike del
    a code pre span(class="tg-spoiler") tg-spoiler blockquote(expandable) tg-emoji tg-time``;
    tags must nest and close; ``&lt; &gt; &amp; &quot;`` and numeric references are decoded;
    a ``<`` that does not start a valid tag is an error. With ``strict`` (the default) a stray
    ``&`` or ``>``, or a reference without ``;``, is an error too: Telegram's documentation
    requires escaping them although the server tolerates them.

    Raises:
        HtmlParseError: with TDLib's description of the first problem.
    """
    return _HtmlParser(text, strict=strict).parse()


def visible_text(text: str, parse_mode: str | None = "HTML") -> str:
    """What the user sees of ``text``: tags stripped and entities decoded for HTML.

    Lenient (never raises): invalid HTML is returned as is.
    """
    if parse_mode is None or parse_mode.upper() != "HTML":
        return text
    try:
        return parse_html(text, strict=False)[0]
    except HtmlParseError:
        return text
