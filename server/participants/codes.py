"""Pseudonymous participant codes: what screens show instead of names."""

from __future__ import annotations

import random
import secrets

# No 0/O, 1/I/L: codes are read aloud and copied by hand.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_code(country: str, rng: random.Random | None = None) -> str:
    chooser = rng.choice if rng is not None else secrets.choice
    return f"{country}-" + "".join(chooser(ALPHABET) for _ in range(6))
