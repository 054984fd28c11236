#!/usr/bin/env bash
# The Signet demo: a real OIDC provider, a real OCI registry, a C2SP witness and `signet serve`,
# all on loopback; an image pushed, signed keylessly, verified by signet (with the witness
# policy) and by sigstore-python; a file signed by sigstore-python against Signet and verified
# by signet; SLSA provenance attested and verified; the tag moved and
# verification failing; a short report; the
# log audited and monitored with an identity watch; a CA and log shard rotation, after which
# what was signed before and after both verify; everything stopped again.
# Run it through `./x demo`, which installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
: "${CARGO_TARGET_DIR:=$ROOT/target}"
SIGNET="$CARGO_TARGET_DIR/debug/signet"

say() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 200); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done; echo "timed out waiting for $1" >&2; return 1; }

WORK=$(mktemp -d /tmp/signet-demo.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

say "1. building signet"
cargo build --locked -q -p signet-cli --bin signet

say "2. starting a real OIDC provider (oauth2-mock-server) and a real registry (docker-registry)"
OIDC_PORT=$(free_port)
ISSUER="http://127.0.0.1:$OIDC_PORT"
# The provider exits when its stdin closes, so keep a pipe open for it.
tail -f /dev/null | node "$ROOT/ca/tests/js/oidc.mjs" "$OIDC_PORT" ES256 >"$WORK/oidc.log" 2>&1 &
PIDS+=($!)
REG_PORT=$(free_port)
mkdir -p "$WORK/registry"
cat >"$WORK/registry.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $WORK/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REG_PORT
YML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
wait_http "$ISSUER/.well-known/openid-configuration"
wait_http "http://127.0.0.1:$REG_PORT/v2/"
echo "issuer   $ISSUER"
echo "registry 127.0.0.1:$REG_PORT"

say "3. starting a witness and signet serve (CA + transparency log, keys generated on first start)"
SIGNET_PORT=$(free_port)
SIGNET_URL="http://127.0.0.1:$SIGNET_PORT"
start_signet() { # $@ = extra serve arguments
  "$SIGNET" serve --data-dir "$WORK/signet-data" --listen "127.0.0.1:$SIGNET_PORT" --oidc-issuer "$ISSUER" "$@" \
    >>"$WORK/signet.log" 2>&1 &
  SIGNET_PID=$!
  PIDS+=($SIGNET_PID)
  wait_http "$SIGNET_URL/readyz"
}
# A first start creates the log's keys and tree: the witness is configured with its origin and
# note key, then the log is restarted with the witness policy, so every checkpoint it hands out
# carries the witness's cosignature.
start_signet
ORIGIN=$(curl -fsS "$SIGNET_URL/checkpoint" | head -n 1)
LOG_VKEY=$(curl -fsS "$SIGNET_URL/signet/v1/log_vkey")
kill -TERM "$SIGNET_PID"; wait "$SIGNET_PID" 2>/dev/null || true
WITNESS_VKEY=$("$SIGNET" witness --generate-key "$WORK/witness.key" --name witness.demo/w1)
WITNESS_PORT=$(free_port)
cat >"$WORK/witness.toml" <<TOML
listen = "127.0.0.1:$WITNESS_PORT"
name = "witness.demo/w1"
key = "$WORK/witness.key"
state_dir = "$WORK/witness-state"
[[log]]
origin = "$ORIGIN"
vkey = "$LOG_VKEY"
TOML
"$SIGNET" witness --config "$WORK/witness.toml" >"$WORK/witness.log" 2>&1 &
PIDS+=($!)
wait_http "http://127.0.0.1:$WITNESS_PORT/healthz"
printf 'witness w1 %s http://127.0.0.1:%s\nquorum 1\n' "$WITNESS_VKEY" "$WITNESS_PORT" >"$WORK/witnesses.policy"
cat >"$WORK/signet.toml" <<TOML
[log]
witness_policy = "$WORK/witnesses.policy"
TOML
start_signet --config "$WORK/signet.toml"
echo "signet   $SIGNET_URL (data in $WORK/signet-data)"
echo "witness  http://127.0.0.1:$WITNESS_PORT ($WITNESS_VKEY)"

say "4. pushing a small image with umoci + skopeo"
IMAGE="127.0.0.1:$REG_PORT/demo/hello"
make_image() { # $1 = content of /hello.txt, $2 = tag
  rm -rf "$WORK/oci" "$WORK/rootfs"
  umoci init --layout "$WORK/oci" >/dev/null
  umoci new --image "$WORK/oci:$2" >/dev/null
  umoci unpack --rootless --image "$WORK/oci:$2" "$WORK/bundle" >/dev/null
  echo "$1" >"$WORK/bundle/rootfs/hello.txt"
  umoci repack --image "$WORK/oci:$2" "$WORK/bundle" >/dev/null
  rm -rf "$WORK/bundle"
  skopeo copy -q --dest-tls-verify=false "oci:$WORK/oci:$2" "docker://$IMAGE:$2"
}
make_image "hello from signet" v1
echo "pushed $IMAGE:v1"

say "5. signing it keylessly with a token from the OIDC provider"
IDENTITY="demo@signet.example"
TOKEN=$(curl -fsS -X POST "$ISSUER/token" -d grant_type=client_credentials -d aud=sigstore \
  -d sub="$IDENTITY" -d email="$IDENTITY" -d email_verified=true \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
"$SIGNET" sign "$IMAGE:v1" --signing-config "$WORK/signet-data/signing_config.json" \
  --identity-token "$TOKEN" --bundle "$WORK/image.sigstore.json"

say "6a. verifying with signet verify (by tag, offline against trusted_root.json)"
"$SIGNET" verify "$IMAGE:v1" --trusted-root "$WORK/signet-data/trusted_root.json" \
  --certificate-identity "$IDENTITY" --certificate-oidc-issuer "$ISSUER" \
  --witness-policy "$WORK/witnesses.policy" --output json >"$WORK/verify.json"
python3 -m json.tool "$WORK/verify.json"

say "6b. verifying the same bundle with sigstore-python"
DIGEST=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$WORK/verify.json")
echo "sigstore verify identity --offline ... $DIGEST"
sigstore --trust-config "$WORK/signet-data/trust_config.json" verify identity --offline \
  --bundle "$WORK/image.sigstore.json" --cert-identity "$IDENTITY" --cert-oidc-issuer "$ISSUER" "$DIGEST"

say "6c. attaching SLSA provenance (an in-toto attestation in a DSSE bundle) and verifying it"
cat >"$WORK/provenance.json" <<JSON
{"buildDefinition": {"buildType": "https://signet.example/demo-build/v1",
                     "externalParameters": {"source": "demo.sh"}},
 "runDetails": {"builder": {"id": "https://signet.example/demo-builder"}}}
JSON
"$SIGNET" attest "$IMAGE:v1" --predicate "$WORK/provenance.json" --type slsaprovenance1 \
  --signing-config "$WORK/signet-data/signing_config.json" --identity-token "$TOKEN"
"$SIGNET" verify-attestation "$IMAGE:v1" --type slsaprovenance1 \
  --trusted-root "$WORK/signet-data/trusted_root.json" \
  --certificate-identity "$IDENTITY" --certificate-oidc-issuer "$ISSUER" --output json \
  | python3 -c 'import json,sys; r=json.load(sys.stdin); s=r["results"][0]["statement"]; print("verified", s["predicateType"], "for", s["subject"][0]["name"], "sha256:" + s["subject"][0]["digest"]["sha256"])'

say "6d. Sigstore's own client signs against Signet: sigstore-python sign, then signet verify-blob"
echo "a release note signed by sigstore-python" >"$WORK/release.txt"
sigstore --trust-config "$WORK/signet-data/trust_config.json" sign --identity-token "$TOKEN" \
  --bundle "$WORK/release.sigstore.json" "$WORK/release.txt"
"$SIGNET" verify-blob "$WORK/release.txt" --bundle "$WORK/release.sigstore.json" \
  --trusted-root "$WORK/signet-data/trusted_root.json" \
  --certificate-identity "$IDENTITY" --certificate-oidc-issuer "$ISSUER"

say "7. moving the tag to other content: verification of the tag must now fail"
make_image "something else entirely" v1
if "$SIGNET" verify "$IMAGE:v1" --trusted-root "$WORK/signet-data/trusted_root.json" \
     --certificate-identity "$IDENTITY" --certificate-oidc-issuer "$ISSUER" 2>"$WORK/fail.txt"; then
  echo "ERROR: verification of the moved tag succeeded" >&2; exit 1
fi
echo "verification failed as it should:"; sed 's/^/    /' "$WORK/fail.txt"

say "8. report"
python3 - "$WORK/verify.json" "$WORK/image.sigstore.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = [x for x in r["results"] if x["ok"]][0]
entry = json.load(open(sys.argv[2]))["verificationMaterial"]["tlogEntries"][0]
proof = entry["inclusionProof"]
print(f"identity             {ok['identity']}")
print(f"issuer               {ok['issuer']}")
print(f"image digest         {r['digest']}")
print(f"log index            {ok['logIndex']}")
print(f"inclusion proof      {len(proof['hashes'])} hashes, tree size {proof['treeSize']}")
print("checkpoint:")
for line in proof["checkpoint"]["envelope"].splitlines():
    print("    " + line)
PY

say "9. an auditor: signet audit recomputes the whole tree, signet monitor follows the log"
"$SIGNET" audit --log "$SIGNET_URL" --trusted-root "$WORK/signet-data/trusted_root.json"
"$SIGNET" monitor --log "$SIGNET_URL" --trusted-root "$WORK/signet-data/trusted_root.json" \
  --state "$WORK/monitor.json" --once
echo "monitor: first checkpoint trusted and recorded"
cat >"$WORK/monitor-policy.toml" <<TOML
[[watch]]
name = "demo signer"
san = "$IDENTITY"
TOML
echo "signing a file as $IDENTITY, then running the monitor with a watch on that identity:"
echo "release notes" >"$WORK/notes.txt"
"$SIGNET" sign-blob "$WORK/notes.txt" --signing-config "$WORK/signet-data/signing_config.json" \
  --identity-token "$TOKEN" --bundle "$WORK/notes.sigstore.json"
rc=0
"$SIGNET" monitor --log "$SIGNET_URL" --trusted-root "$WORK/signet-data/trusted_root.json" \
  --state "$WORK/monitor.json" --policy "$WORK/monitor-policy.toml" --once >"$WORK/alerts.jsonl" || rc=$?
if [ "$rc" != 5 ]; then echo "ERROR: expected watch alerts (exit 5), got exit $rc" >&2; exit 1; fi
sed 's/^/    /' "$WORK/alerts.jsonl"

say "10. rotation: a new CA intermediate and a new log shard; what was signed before still verifies"
# Both rotations are offline commands on the data directory; serve picks them up at its start.
kill -TERM "$SIGNET_PID"; wait "$SIGNET_PID" 2>/dev/null || true
"$SIGNET" ca rotate --data-dir "$WORK/signet-data"
"$SIGNET" log rotate --data-dir "$WORK/signet-data" --new-key
# The new shard has a new checkpoint origin and key, which the witness does not know yet (it
# would be added to its [[log]] list, docs/ROTATION.md): the demo restarts without the policy.
start_signet
"$SIGNET" sign-blob "$WORK/notes.txt" --signing-config "$WORK/signet-data/signing_config.json" \
  --identity-token "$TOKEN" --bundle "$WORK/notes-rotated.sigstore.json"
for b in notes notes-rotated; do
  "$SIGNET" verify-blob "$WORK/notes.txt" --bundle "$WORK/$b.sigstore.json" \
    --trusted-root "$WORK/signet-data/trusted_root.json" \
    --certificate-identity "$IDENTITY" --certificate-oidc-issuer "$ISSUER"
  sigstore --trust-config "$WORK/signet-data/trust_config.json" verify identity --offline \
    --bundle "$WORK/$b.sigstore.json" --cert-identity "$IDENTITY" --cert-oidc-issuer "$ISSUER" \
    "$WORK/notes.txt"
done
python3 - "$WORK/notes.sigstore.json" "$WORK/notes-rotated.sigstore.json" <<'PY'
import json, sys
for name in sys.argv[1:]:
    e = json.load(open(name))["verificationMaterial"]["tlogEntries"][0]
    origin = e["inclusionProof"]["checkpoint"]["envelope"].splitlines()[0]
    print(f"{name.rsplit('/', 1)[-1]:28} log index {e['logIndex']:>3}  shard {origin}")
PY
curl -fsS "$SIGNET_URL/api/v1/log" | python3 -c 'import json,sys; i=json.load(sys.stdin); print("frozen shards:", [(s["treeID"], s["treeSize"]) for s in i.get("inactiveShards", [])])'

say "11. stopping everything"
kill -TERM "$SIGNET_PID"; wait "$SIGNET_PID" 2>/dev/null || true
echo "demo finished"
