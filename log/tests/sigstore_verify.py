#!/usr/bin/env python3
"""Offline sigstore-python verification used by tests/ct_sigstore.rs.

usage: sigstore_verify.py DIR IDENTITY ISSUER
DIR holds artifact.txt, artifact.txt.sigstore.json and trusted_root.json.
"""
import sys
from pathlib import Path

from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy

d = Path(sys.argv[1])
identity, issuer = sys.argv[2], sys.argv[3]
verifier = Verifier(trusted_root=TrustedRoot.from_file(str(d / "trusted_root.json")))
bundle = Bundle.from_json((d / "artifact.txt.sigstore.json").read_bytes())
verifier.verify_artifact(
    (d / "artifact.txt").read_bytes(), bundle, policy.Identity(identity=identity, issuer=issuer)
)
print("OK sigstore-python verified the bundle")
