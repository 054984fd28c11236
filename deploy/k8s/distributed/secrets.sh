#!/usr/bin/env bash
# The distributed log's secrets for deploy/k8s/distributed, as Kubernetes manifests on stdout
# (nothing is sent to a cluster; the files stay in DIR, which must not exist yet: keep it, it
# is what to back up):
#
#   deploy/k8s/distributed/secrets.sh DIR | kubectl apply -f -
#
#   Secret    signet-log-keys     log_key.pem, witness_key.pem, ct_key.pem   every log member
#   Secret    signet-s3           s3-secret                                  every log member
#   Secret    signet-garage       rpc_secret, node-0.key .. node-2.key       the Garage nodes
#   ConfigMap signet-garage-config garage.toml (bootstrap_peers by node id)  the Garage nodes
#   Secret    signet-garage-init  the environment of garage-init.sh          the Job
# The S3 key id is the one the members' configs name (config/signet-sequencer-0.toml); it is
# not secret. NAMESPACE names the namespace (default: signet).
set -euo pipefail
dir=${1:?usage: secrets.sh DIR}
ns=${NAMESPACE:-signet}
here=$(cd "$(dirname "$0")" && pwd)
if [ -e "$dir" ]; then
  echo "secrets.sh: $dir exists; it makes new secrets only (new log keys would fork the log)" >&2
  exit 1
fi
umask 077
mkdir -p "$dir"
key_id=$(sed -n 's/^s3_access_key_id = "\(GK[0-9a-f]*\)"$/\1/p' "$here/config/signet-sequencer-0.toml")
[ -n "$key_id" ] || { echo "secrets.sh: no s3_access_key_id in config/signet-sequencer-0.toml" >&2; exit 1; }
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/log_key.pem"
openssl genpkey -algorithm ed25519 -out "$dir/witness_key.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ct_key.pem"
openssl rand -hex 32 > "$dir/s3-secret"
openssl rand -hex 32 | tr -d '\n' > "$dir/rpc_secret"
# Garage node keys: libsodium's Ed25519 secret key (seed, then public key); the node id is the
# public key in hex.
ids=()
for i in 0 1 2; do
  openssl genpkey -algorithm ed25519 -outform DER -out "$dir/k.der"
  openssl pkey -inform DER -in "$dir/k.der" -pubout -outform DER -out "$dir/p.der"
  { tail -c 32 "$dir/k.der"; tail -c 32 "$dir/p.der"; } > "$dir/node-$i.key"
  ids+=("$(tail -c 32 "$dir/p.der" | od -An -tx1 -v | tr -d ' \n')")
  rm "$dir/k.der" "$dir/p.der"
done
cat > "$dir/garage.toml" <<TOML
metadata_dir = "/var/lib/app/meta"
data_dir = "/var/lib/app/data"
replication_factor = 3
rpc_bind_addr = "0.0.0.0:3901"
rpc_secret_file = "/etc/garage/secret/rpc_secret"
bootstrap_peers = ["${ids[0]}@signet-garage-0.signet-garage:3901", "${ids[1]}@signet-garage-1.signet-garage:3901", "${ids[2]}@signet-garage-2.signet-garage:3901"]

[s3_api]
s3_region = "garage"
api_bind_addr = "0.0.0.0:3900"
root_domain = ".s3.garage.localhost"
TOML
k() { kubectl create --dry-run=client -o yaml -n "$ns" "$@"; }
k secret generic signet-log-keys --from-file="$dir/log_key.pem" \
  --from-file="$dir/witness_key.pem" --from-file="$dir/ct_key.pem"
echo ---
k secret generic signet-s3 --from-file=s3-secret="$dir/s3-secret"
echo ---
k secret generic signet-garage --from-file="$dir/rpc_secret" \
  --from-file="$dir/node-0.key" --from-file="$dir/node-1.key" --from-file="$dir/node-2.key"
echo ---
k configmap signet-garage-config --from-file="$dir/garage.toml"
echo ---
k secret generic signet-garage-init \
  --from-literal=GARAGE_RPC_HOST="${ids[0]}@signet-garage-0.signet-garage:3901" \
  --from-literal=GARAGE_RPC_SECRET="$(cat "$dir/rpc_secret")" \
  --from-literal=GARAGE_NODES="${ids[0]},${ids[1]},${ids[2]}" \
  --from-literal=GARAGE_CAPACITY="${GARAGE_CAPACITY:-50G}" \
  --from-literal=S3_KEY_ID="$key_id" \
  --from-literal=S3_SECRET="$(tr -d '\n' < "$dir/s3-secret")" \
  --from-literal=S3_BUCKET=signet-log
