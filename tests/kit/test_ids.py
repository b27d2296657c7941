"""Encrypted, type-tagged IDs (docs/contract.md §4)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relance.kit.ids import ALPHABET, IdCodec, MalformedId

# A fixed key, so that any failure can be replayed.
from relance.resources import Resource

# A fixed key, so that any failure can be replayed.
CODEC = IdCodec(bytes(range(32)), Resource)
KEYS = st.integers(min_value=1, max_value=2**64 - 1)


@given(key=KEYS, resource=st.sampled_from(Resource))
def test_an_id_decodes_to_its_key(key: int, resource: Resource) -> None:
    public = CODEC.encode(resource, key)
    assert re.fullmatch(r"[0-9A-Za-z]{22}", public)
    assert CODEC.decode(resource, public) == key


@given(key=KEYS)
def test_an_id_of_one_resource_is_malformed_as_another(key: int) -> None:
    with pytest.raises(MalformedId):
        CODEC.decode(Resource.FOLLOWUP, CODEC.encode(Resource.DEBT, key))


@given(key=KEYS, position=st.integers(0, 21), char=st.sampled_from(ALPHABET))
def test_an_altered_id_is_malformed(key: int, position: int, char: str) -> None:
    public = CODEC.encode(Resource.FOLLOWUP, key)
    altered = public[:position] + char + public[position + 1 :]
    if altered != public:
        with pytest.raises(MalformedId):
            CODEC.decode(Resource.FOLLOWUP, altered)


def test_consecutive_keys_give_unrelated_ids() -> None:
    first, second = (CODEC.encode(Resource.FOLLOWUP, key) for key in (1, 2))
    shared = sum(a == b for a, b in zip(first, second, strict=True))
    assert shared < 8


def test_another_deployment_key_reads_no_id() -> None:
    other = IdCodec(bytes(range(1, 33)), Resource)
    with pytest.raises(MalformedId):
        other.decode(Resource.FOLLOWUP, CODEC.encode(Resource.FOLLOWUP, 42))


@pytest.mark.parametrize(
    "text", ["", "abc", "z" * 22, "0" * 21, "0" * 23, "é" * 22, "-" * 22, "zzzzzzzzzzzzzzzzzzzzz!"]
)
def test_strings_that_are_not_ids_are_malformed(text: str) -> None:
    with pytest.raises(MalformedId):
        CODEC.decode(Resource.FOLLOWUP, text)
