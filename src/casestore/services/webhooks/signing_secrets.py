"""Signing secrets: shown to the partner once, kept wrapped for the worker.

The worker must sign with the secret, so the store cannot keep a hash as it does for
bearer tokens. It keeps the secret encrypted (XChaCha20-Poly1305) under a key derived from
the service master key for this purpose only, with the subscription id as associated
data: a database dump alone yields no secret, and a wrapped secret copied onto another
subscription does not open.
"""

from __future__ import annotations

import base64

import nacl.bindings
from nacl.utils import random

from sharing.keys import MasterKey

PREFIX = "whsec_"  # the Standard Webhooks secret format: whsec_<base64>
SECRET_BYTES = 32
PURPOSE = "casestore/webhook-signing-secrets"
NONCE_BYTES = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES


class SigningSecrets:
    def __init__(self, master: MasterKey) -> None:
        self._key = master.derive(PURPOSE)

    def new(self) -> str:
        return PREFIX + base64.b64encode(random(SECRET_BYTES)).decode("ascii")

    def wrap(self, subscription_id: str, secret: str) -> str:
        nonce = random(NONCE_BYTES)
        sealed = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            secret.encode("ascii"), subscription_id.encode(), nonce, self._key
        )
        return base64.b64encode(nonce + sealed).decode("ascii")

    def unwrap(self, subscription_id: str, wrapped: str) -> str:
        raw = base64.b64decode(wrapped)
        plain = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            raw[NONCE_BYTES:], subscription_id.encode(), raw[:NONCE_BYTES], self._key
        )
        return bytes(plain).decode("ascii")
