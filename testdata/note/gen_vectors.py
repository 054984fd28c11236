#!/usr/bin/env python3
"""Generate signed-note / checkpoint / cosignature vectors with an implementation that is
independent of signet-proto (Python `cryptography`).

Ed25519 is deterministic, so the Ed25519 and cosignature lines are reproducible byte for byte.
ECDSA signatures are randomized: the ECDSA key is fixed (derived from a constant scalar), the
signature line changes on each run, and the tests only verify it.

Usage: python3 testdata/note/gen_vectors.py > testdata/note/python_vectors.json
"""
import base64
import hashlib
import json
import struct

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def key_hash(name: str, typ: int, key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([typ]) + key).digest()[:4]


def raw_pub(priv) -> bytes:
    return priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def spki(pub) -> bytes:
    return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def line(name: str, raw: bytes) -> str:
    return f"\u2014 {name} {b64(raw)}\n"


log_seed = hashlib.sha256(b"signet test log ed25519 seed").digest()
w1_seed = hashlib.sha256(b"signet test witness 1 seed").digest()
w2_seed = hashlib.sha256(b"signet test witness 2 seed").digest()
ec_scalar = int.from_bytes(hashlib.sha256(b"signet test log p256 scalar").digest(), "big")

log_name = "log.example.com"
log_key = ed25519.Ed25519PrivateKey.from_private_bytes(log_seed)
w1 = ed25519.Ed25519PrivateKey.from_private_bytes(w1_seed)
w2 = ed25519.Ed25519PrivateKey.from_private_bytes(w2_seed)
ec_key = ec.derive_private_key(ec_scalar, ec.SECP256R1())

root = hashlib.sha256(b"signet test root").digest()
body = f"{log_name} - 42\n1234567\n{b64(root)}\nextension line\n"

log_h = key_hash(log_name, 1, raw_pub(log_key))
ed_sig = log_key.sign(body.encode())

ec_spki = spki(ec_key.public_key())
ec_hint = hashlib.sha256(ec_spki).digest()[:4]
ec_sig = ec_key.sign(body.encode(), ec.ECDSA(hashes.SHA256()))

ed_spki = spki(log_key.public_key())
ed_hint = hashlib.sha256(ed_spki).digest()[:4]

cosigs = []
for name, k, ts in [("w1.example.org", w1, 1700000000), ("w2.example.org/witness", w2, 1700000123)]:
    msg = f"cosignature/v1\ntime {ts}\n".encode() + body.encode()
    sig = k.sign(msg)
    h = key_hash(name, 4, raw_pub(k))
    cosigs.append({
        "name": name,
        "seed_hex": k.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption()).hex(),
        "vkey": f"{name}+{h.hex()}+{b64(bytes([4]) + raw_pub(k))}",
        "timestamp": ts,
        "line": line(name, h + struct.pack(">Q", ts) + sig),
    })

note = (body + "\n" + line("rekor." + log_name, ec_hint + ec_sig)
        + line(log_name, log_h + ed_sig)
        + "".join(c["line"] for c in cosigs))

out = {
    "generator": "testdata/note/gen_vectors.py (Python cryptography)",
    "checkpoint_body": body,
    "root_hex": root.hex(),
    "ed25519_log": {
        "name": log_name,
        "seed_hex": log_seed.hex(),
        "vkey": f"{log_name}+{log_h.hex()}+{b64(bytes([1]) + raw_pub(log_key))}",
        "skey": f"PRIVATE+KEY+{log_name}+{log_h.hex()}+{b64(bytes([1]) + log_seed)}",
        "spki_b64": b64(ed_spki),
        "rekor_style_line": line(log_name, ed_hint + log_key.sign(body.encode())),
    },
    "ecdsa_log": {
        "name": "rekor." + log_name,
        "spki_b64": b64(ec_spki),
        "scalar_hex": ec_scalar.to_bytes(32, "big").hex(),
    },
    "cosigners": cosigs,
    "signed_note": note,
}
print(json.dumps(out, indent=2, ensure_ascii=False))
