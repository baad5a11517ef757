"""The release signing key (Ed25519, ``cryptography``): made in the instance folder on first
use unless ``VETTING_SIGNING_KEY`` names a PEM file, never overwritten. The public key is served
at ``/releases/signing-key.pem``; a consumer verifies ``index.json.sig`` over ``index.json``
with it (``openssl pkeyutl -verify -pubin -inkey signing-key.pem -rawin -in index.json -sigfile
index.json.sig``)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "signing-key.pem"


def key_path(config: dict[str, Any]) -> Path:
    configured = config.get("VETTING_SIGNING_KEY")
    return Path(configured) if configured else Path(config["VETTING_INSTANCE_PATH"]) / KEY_FILE


def private_key(config: dict[str, Any]) -> Ed25519PrivateKey:
    """The signing key, created (mode 0600) on first use when no key is configured."""
    path = key_path(config)
    if not path.exists():
        if config.get("VETTING_SIGNING_KEY"):
            raise FileNotFoundError(f"VETTING_SIGNING_KEY names {path}, which does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def public_pem(config: dict[str, Any]) -> bytes:
    return private_key(config).public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def sign(config: dict[str, Any], data: bytes) -> bytes:
    return private_key(config).sign(data)


def verify(public_key_pem: bytes, data: bytes, signature: bytes) -> bool:
    key = serialization.load_pem_public_key(public_key_pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the public key is not an Ed25519 key")
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
