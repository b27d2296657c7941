"""Encrypted, type-tagged public IDs (docs/contract.md §4).

An ID is one AES block holding a tag (the kind of thing it names, 1 to 255), a fixed marker and
the internal integer key,
written as 22 base62 characters. Decoding needs no database: a string that does not decrypt to
the marker and the expected tag is malformed. Marker and tag give 64 bits of authenticity, so a
guessed or altered ID is rejected as malformed with near certainty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 22
_MARKER = b"relance"
_MAX_KEY = 2**64 - 1
_REMEMBERED_IDS = 65_536
_SHAPE = re.compile(rf"[0-9A-Za-z]{{{ID_LENGTH}}}")
_DIGIT = {char: value for value, char in enumerate(ALPHABET)}


class MalformedId(ValueError):
    """The string is not an ID of the expected tag made with this key."""


class IdCodec:
    def __init__(self, key: bytes, tags: Iterable[int]) -> None:
        # ECB on a single block is a keyed permutation of that block, which is exactly what a
        # deterministic, reversible, opaque ID needs; no block is ever chained.
        cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305
        self._encryptor = cipher.encryptor()
        self._decryptor = cipher.decryptor()
        self._encoders = {tag: self._cached_encoder(tag) for tag in tags}

    def encode(self, tag: int, key: int) -> str:
        return self._encoders[tag](key)

    def encoder(self, tag: int) -> Callable[[int], str]:
        """`encode` for one tag, for loops over many rows: a plain dict lookup per ID."""
        return self._encoders[tag]

    def _cached_encoder(self, tag: int) -> Callable[[int], str]:
        # Pages repeat IDs (a debt's followups, the newest rows): remember recent ones. A hit is
        # the dict's own C lookup, with no Python call at all.
        return _Remembered(lambda key: self._encrypt(tag, key)).__getitem__

    def _encrypt(self, tag: int, key: int) -> str:
        if not 0 < key <= _MAX_KEY:
            raise ValueError(f"internal key out of range: {key}")
        block = bytes([tag]) + _MARKER + key.to_bytes(8, "big")
        return _to_base62(int.from_bytes(self._encryptor.update(block), "big"))

    def find(self, tag: int, public_id: str) -> int | None:
        """The key behind a public ID, or None if it is not one of this tag's."""
        try:
            return self.decode(tag, public_id)
        except MalformedId:
            return None

    def decode(self, tag: int, public_id: str) -> int:
        if not _SHAPE.fullmatch(public_id):
            raise MalformedId(public_id)
        number = _from_base62(public_id)
        if number >= 2**128:
            raise MalformedId(public_id)
        block = self._decryptor.update(number.to_bytes(16, "big"))
        if block[0] != tag or block[1:8] != _MARKER:
            raise MalformedId(public_id)
        key = int.from_bytes(block[8:], "big")
        if key == 0:
            raise MalformedId(public_id)
        return key


class _Remembered(dict[int, str]):
    """Public IDs by internal key, computed on first use; emptied when it grows too big."""

    def __init__(self, compute: Callable[[int], str]) -> None:
        super().__init__()
        self._compute = compute

    def __missing__(self, key: int) -> str:
        if len(self) >= _REMEMBERED_IDS:
            self.clear()
        public = self[key] = self._compute(key)
        return public


def _to_base62(number: int) -> str:
    chars = []
    for _ in range(ID_LENGTH):
        number, digit = divmod(number, 62)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def _from_base62(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + _DIGIT[char]
    return number


class PrefixedIds:
    """The IDs of one kind shown with a prefix that names it (`evt_`, `we_`), as Stripe and
    Svix show theirs: for the objects GetBill does not have, whose IDs are Relance's own."""

    __slots__ = ("_ids", "_tag", "prefix")

    def __init__(self, ids: IdCodec, tag: int, prefix: str) -> None:
        self._ids = ids
        self._tag = tag
        self.prefix = prefix

    def show(self, key: int) -> str:
        return self.prefix + self._ids.encode(self._tag, key)

    def key(self, public_id: str) -> int | None:
        """The key behind a public ID, None when it is not one of this kind."""
        if not public_id.startswith(self.prefix):
            return None
        return self._ids.find(self._tag, public_id[len(self.prefix) :])
