"""The sealing scheme's server side, against a phone-side implementation in tests/support."""

import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from server.sync.keys import KeyRing, generate
from server.sync.sealing import Unreadable, unseal
from tests.support.sealing import family_values, seal


def sealed_to(ring: KeyRing, record_id: str) -> dict[str, str]:
    key = ring.current
    return seal(family_values("p-1"), record_id=record_id, kid=key.kid, spki_b64=key.public_spki())


def test_an_entry_opens_only_with_its_id_and_untouched(tmp_path: Path) -> None:
    ring = KeyRing.load(tmp_path)
    record_id = str(uuid.uuid4())
    sealed = sealed_to(ring, record_id)
    assert unseal(sealed, record_id=record_id, ring=ring)["participant"] == "p-1"
    with pytest.raises(Unreadable):
        unseal(sealed, record_id=str(uuid.uuid4()), ring=ring)
    other = sealed_to(ring, record_id)
    with pytest.raises(Unreadable):  # another entry's ephemeral key
        unseal({**sealed, "epk": other["epk"]}, record_id=record_id, ring=ring)
    with pytest.raises(Unreadable):
        unseal({**sealed, "epk": "AAAA"}, record_id=record_id, ring=ring)


def test_entries_sealed_before_a_rotation_still_open(tmp_path: Path) -> None:
    ring = KeyRing.load(tmp_path)
    record_id = str(uuid.uuid4())
    before = sealed_to(ring, record_id)
    generate(tmp_path)
    rotated = KeyRing.load(tmp_path)
    assert rotated.current.kid != ring.current.kid
    assert unseal(before, record_id=record_id, ring=rotated)["occurred_time"] == "09:15"


def test_rsa_keys_of_the_first_scheme_are_passed_over(tmp_path: Path) -> None:
    old = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = old.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "0001-0123456789abcdef.pem").write_bytes(pem)
    ring = KeyRing.load(tmp_path)
    assert list(ring.keys) == [ring.current.kid]
    assert "0123456789abcdef" not in ring.keys
    assert len(list(tmp_path.glob("*.pem"))) == 2  # the new key is kept beside it
