"""``json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False)``, the same text, faster.

With ``indent`` set, CPython (before 3.13) encodes in pure Python, a generator step per value;
the C encoder is only used without indent. ``render`` gives the C encoder whole containers and
puts the indentation in itself. That is exact because of two facts about the C encoder's output
with ``ensure_ascii=False``: a string never holds a raw control character (every character below
U+0020 is escaped, ``\\n`` included), and a scalar never ends with ``}``. So a raw newline in the
output is always a separator this module chose, and ``}`` followed by one closes an object.

The shapes taken fast are the ones this app's documents are made of:

- an object or array whose values are all scalars (``str``, ``int``, ``float``, ``bool``, None):
  one C call with ``",\\n" + indent`` between items, opened and closed here;
- an object or array whose values are all objects of scalars (``images`` of prompt_metadata.json,
  ``training_data`` of a manifest): one C call renders every inner object (final already, inside),
  split where one ends and the next begins, and joined again with the outer level's indentation;
- anything else: its items one by one, each rendered the same way.

Anything unusual (a subclass, an object key that is not a string outside an object of scalars, a
value the encoder refuses, a circular reference) is rendered by ``json.dumps`` itself, which then
gives its own text or raises its own error (``ValueError`` for NaN, ``TypeError`` for a value JSON
cannot hold). tests/unit/test_jsonfile.py compares the bytes with ``json.dumps`` on thousands of
random documents.
"""

from __future__ import annotations

import json
from itertools import chain, repeat
from json import encoder as _encoder
from typing import Any, NoReturn

INDENT = "  "
_SCALARS = frozenset({str, int, float, bool, type(None)})  # exact types: no subclass


class _Unusual(Exception):
    """A value the fast path leaves to ``json.dumps``."""


def render(obj: Any) -> str:
    """The text ``json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False)`` gives."""
    if _encoder.c_make_encoder is None or type(obj) is not dict:
        return _stdlib(obj)
    try:
        return _Renderer().value(obj, 0)
    except Exception:  # json.dumps then gives its own text or raises its own error
        return _stdlib(obj)


def _stdlib(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False)


def _refuse(value: Any) -> NoReturn:
    raise _Unusual(type(value).__name__)


class _Renderer:
    def __init__(self) -> None:
        self._encoders: dict[tuple[str, str], Any] = {}

    def _encode(self, value: Any, item_separator: str, key_separator: str = ": ") -> str:
        """``value`` through the C encoder with these separators and no indent."""
        separators = (item_separator, key_separator)
        encode = self._encoders.get(separators)
        if encode is None:
            encode = _encoder.c_make_encoder(
                None, _refuse, _encoder.c_encode_basestring, None,
                key_separator, item_separator, False, False, False,
            )  # fmt: skip
            self._encoders[separators] = encode
        return "".join(encode(value, 0))

    def value(self, value: Any, level: int) -> str:
        kind = type(value)
        if kind is dict or kind is list or kind is tuple:
            return self._container(value, level) if value else ("{}" if kind is dict else "[]")
        if kind in _SCALARS:
            return self._encode(value, ",")
        raise _Unusual(kind.__name__)

    def _container(self, container: Any, level: int) -> str:
        is_dict = type(container) is dict
        values = container.values() if is_dict else container
        kinds = set(map(type, values))
        if kinds <= _SCALARS:
            return self._scalars(container, level)
        if kinds == {dict}:
            fast = self._objects(container, level, is_dict)
            if fast is not None:
                return fast
        return self._items(container, level, is_dict)

    def _scalars(self, container: Any, level: int) -> str:
        inner = INDENT * (level + 1)
        text = self._encode(container, ",\n" + inner)
        return f"{text[0]}\n{inner}{text[1:-1]}\n{INDENT * level}{text[-1]}"

    def _items(self, container: Any, level: int, is_dict: bool) -> str:
        inner = INDENT * (level + 1)
        separator = ",\n" + inner
        if is_dict:
            parts = []
            for key, item in container.items():  # a key not a string: TypeError, to json.dumps
                parts.append(f"{_encoder.c_encode_basestring(key)}: {self.value(item, level + 1)}")
            opening, closing = "{", "}"
        else:
            parts = [self.value(item, level + 1) for item in container]
            opening, closing = "[", "]"
        return f"{opening}\n{inner}{separator.join(parts)}\n{INDENT * level}{closing}"

    def _objects(self, container: Any, level: int, is_dict: bool) -> str | None:
        """An object or array of objects of scalars, its inner objects in one C call; None when
        some inner object holds an object or array. (An outer key that is not a string makes
        ``c_encode_basestring`` raise ``TypeError``: ``json.dumps`` renders it.)"""
        values = list(container.values()) if is_dict else container
        if not set(map(type, chain.from_iterable(map(dict.values, values)))) <= _SCALARS:
            return None
        outer, inner = INDENT * (level + 1), INDENT * (level + 2)
        separator = ",\n" + inner  # between the items of an inner object: final as encoded
        # [{...},\n<inner>{},\n<inner>{...}]: "}" + separator + "{" only ever joins two inner
        # objects (inside one, a separator is followed by a key); an empty one leaves "".
        parts = self._encode(values, separator)[2:-2].split("}" + separator + "{")
        opened, closed = f"{{\n{inner}", f"\n{outer}}}"
        if is_dict:
            keys = map(_encoder.c_encode_basestring, container)
            between = f"{closed},\n{outer}"
            items = chain.from_iterable(zip(keys, repeat(": " + opened), parts, repeat(between)))
            body = "".join(items)[: -len(between)] + closed
            opening, closing = "{", "}"
        else:
            body = opened + f"{closed},\n{outer}{opened}".join(parts) + closed
            opening, closing = "[", "]"
        body = body.replace(opened + closed, "{}")  # the empty inner objects
        return f"{opening}\n{outer}{body}\n{INDENT * level}{closing}"
