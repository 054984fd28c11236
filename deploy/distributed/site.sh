#!/bin/sh
# Makes the site directory of the distributed topology (deploy/distributed/compose.yaml):
# every secret and config the services mount, in $SIGNET_SITE. Run once, from the repository
# root, with `signet` and `openssl` on the PATH (docs/distributed.md, Deploying):
#   SIGNET_SITE       the directory to make (must not exist yet)
#   SIGNET_LOG_URL    where clients reach the log (the proxy's published port or your load
#                     balancer); fixes the checkpoint origin for good
#   SIGNET_CA_URL     where clients reach the CA
#   SIGNET_OIDC_ISSUER, SIGNET_OIDC_JWKS   an OIDC issuer the CA accepts and its keys (JWKS file)
# What it makes (keep a copy of all of it: see "What to back up"):
#   garage/garage{0,1,2}.toml, garage/node{0,1,2}.key   each node's config and node key (so
#                     every node lists the others in bootstrap_peers before the first start)
#   garage/init.env   what the one-shot garage-init service needs (RPC secret, node ids, S3 key)
#   log/{log_key,witness_key,ct_key}.pem   the log's keys, shared by every member
#   s3-secret         the S3 secret key the members read
#   members/{seq-a,seq-b,reader-1,reader-2}.toml   the four log members' configs
#   ca/ (signet ca-init), ca-password, ca.toml, oidc/jwks.json   the CA
set -eu
: "${SIGNET_SITE:?}" "${SIGNET_LOG_URL:?}" "${SIGNET_CA_URL:?}" "${SIGNET_OIDC_ISSUER:?}" "${SIGNET_OIDC_JWKS:?}"
if [ -e "$SIGNET_SITE" ]; then
  echo "site.sh: $SIGNET_SITE exists; it makes a new site only (new keys would fork the log)" >&2
  exit 1
fi
umask 077
mkdir -p "$SIGNET_SITE/garage" "$SIGNET_SITE/log" "$SIGNET_SITE/members" "$SIGNET_SITE/oidc"
cd "$SIGNET_SITE"

# Garage: an RPC secret, a node key per node (libsodium's Ed25519 secret key: seed then
# public key; the node id is the public key in hex), one config per node.
rpc_secret=$(openssl rand -hex 32)
ids=""
for i in 0 1 2; do
  openssl genpkey -algorithm ed25519 -outform DER -out garage/k.der
  openssl pkey -inform DER -in garage/k.der -pubout -outform DER -out garage/p.der
  tail -c 32 garage/p.der > garage/p.raw
  { tail -c 32 garage/k.der; cat garage/p.raw; } > "garage/node$i.key"
  ids="$ids $(od -An -tx1 -v garage/p.raw | tr -d ' \n')"
  rm garage/k.der garage/p.der garage/p.raw
done
set -- $ids
peers="\"$1@garage0:3901\", \"$2@garage1:3901\", \"$3@garage2:3901\""
for i in 0 1 2; do
  cat > "garage/garage$i.toml" <<TOML
metadata_dir = "/var/lib/app/meta"
data_dir = "/var/lib/app/data"
replication_factor = 3
rpc_bind_addr = "0.0.0.0:3901"
rpc_public_addr = "garage$i:3901"
rpc_secret = "$rpc_secret"
bootstrap_peers = [$peers]

[s3_api]
s3_region = "garage"
api_bind_addr = "0.0.0.0:3900"
root_domain = ".s3.garage.localhost"
TOML
done
s3_key_id="GK$(openssl rand -hex 12)"
s3_secret=$(openssl rand -hex 32)
cat > garage/init.env <<ENV
GARAGE_RPC_HOST=$1@garage0:3901
GARAGE_RPC_SECRET=$rpc_secret
GARAGE_NODES=$1,$2,$3
GARAGE_CAPACITY=${GARAGE_CAPACITY:-10G}
S3_KEY_ID=$s3_key_id
S3_SECRET=$s3_secret
S3_BUCKET=signet-log
ENV
printf '%s\n' "$s3_secret" > s3-secret

# The log's keys: every member signs with the same ones.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out log/log_key.pem
openssl genpkey -algorithm ed25519 -out log/witness_key.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out log/ct_key.pem

# The members: the same config but for role and node_id.
for m in seq-a:sequencer seq-b:sequencer reader-1:reader reader-2:reader; do
  cat > "members/${m%%:*}.toml" <<TOML
data_dir = "/var/lib/signet"
listen = "0.0.0.0:3000"
only = "log"
public_url = "$SIGNET_LOG_URL"

[log]
batch_max_entries = 1024
batch_max_delay_ms = 20
ct_roots = ["/etc/signet/ca/root.pem"]
rekor_v2 = false

[log.distributed]
role = "${m#*:}"
node_id = "${m%%:*}"
etcd_endpoints = ["http://etcd0:2379", "http://etcd1:2379", "http://etcd2:2379"]
s3_endpoints = ["http://garage0:3900", "http://garage1:3900", "http://garage2:3900"]
s3_bucket = "signet-log"
s3_access_key_id = "$s3_key_id"
s3_secret_access_key_file = "/etc/signet/s3-secret"
lease_ttl_secs = 5
TOML
done

# The CA, as in the single-node deployment (README.md, Deploying): it reaches the log through
# the proxy service `log`.
openssl rand -base64 24 > ca-password
signet ca-init --dir ca --password-file ca-password
cd - >/dev/null
sed "s|https://ca.signet.example|$SIGNET_CA_URL|" deploy/config/ca.toml > "$SIGNET_SITE/ca.toml"
cp "$SIGNET_OIDC_JWKS" "$SIGNET_SITE/oidc/jwks.json"
printf '\n[[ca.issuers]]\nurl = "%s"\ntype = "email"\njwks_file = "/etc/signet/oidc/jwks.json"\n' \
  "$SIGNET_OIDC_ISSUER" >> "$SIGNET_SITE/ca.toml"
for c in "$SIGNET_SITE"/members/*.toml "$SIGNET_SITE/ca.toml"; do
  signet serve --check-config --config "$c" >/dev/null
done
