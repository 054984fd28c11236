#!/usr/bin/env python3
"""Key and signature vectors for signet-proto `keys`, made with Python `cryptography`
(independent of aws-lc). Keys and ECDSA/RSA-PSS signatures are random, so each run changes
the file; the tests only verify.

Usage: python3 testdata/note/gen_keys.py > testdata/note/keys_vectors.json
"""
import base64
import hashlib
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

MSG = b"signet keys test message\n"


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def spki(k) -> bytes:
    return k.public_key().public_bytes(serialization.Encoding.DER,
                                       serialization.PublicFormat.SubjectPublicKeyInfo)


def pem(k) -> str:
    return k.public_key().public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def pkcs8(k) -> str:
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption()).decode()


out = {"message_b64": b64(MSG), "keys": []}

for name, curve, h in [("p256", ec.SECP256R1(), hashes.SHA256()), ("p384", ec.SECP384R1(), hashes.SHA384())]:
    k = ec.generate_private_key(curve)
    dig = hashlib.new(h.name, MSG).digest()
    # a signature over a SHA-256 digest with P-384 (non-default pairing)
    d256 = hashlib.sha256(MSG).digest()
    out["keys"].append({
        "name": name,
        "spki_b64": b64(spki(k)),
        "pem": pem(k),
        "pkcs8_pem": pkcs8(k),
        "sec1_pem": k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption()).decode(),
        "sig_b64": b64(k.sign(MSG, ec.ECDSA(h))),
        "digest_b64": b64(dig),
        "sig_sha256_prehashed_b64": b64(k.sign(d256, ec.ECDSA(utils.Prehashed(hashes.SHA256())))),
        "digest_sha256_b64": b64(d256),
    })

k = ed25519.Ed25519PrivateKey.generate()
out["keys"].append({"name": "ed25519", "spki_b64": b64(spki(k)), "pem": pem(k), "sig_b64": b64(k.sign(MSG))})

for bits in (2048, 3072):
    k = rsa.generate_private_key(65537, bits)
    out["keys"].append({
        "name": f"rsa{bits}",
        "spki_b64": b64(spki(k)),
        "pem": pem(k),
        "sig_b64": b64(k.sign(MSG, padding.PKCS1v15(), hashes.SHA256())),
        "pss_sig_b64": b64(k.sign(MSG, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())),
        "digest_b64": b64(hashlib.sha256(MSG).digest()),
    })

out["rejected"] = {
    "rsa1024_spki_b64": b64(spki(rsa.generate_private_key(65537, 1024))),
    "p521_spki_b64": b64(spki(ec.generate_private_key(ec.SECP521R1()))),
    "secp256k1_spki_b64": b64(spki(ec.generate_private_key(ec.SECP256K1()))),
}
print(json.dumps(out, indent=2))
