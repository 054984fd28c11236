#!/usr/bin/env bash
# The CA's key material for deploy/k8s/base, from `signet ca-init`, as Kubernetes manifests on
# stdout (nothing is sent to a cluster):
#
#   deploy/k8s/ca-secrets.sh DIR | kubectl apply -f -
#
# DIR is created by `signet ca-init` (it must not hold a CA yet) with a random password in
# DIR/password. The manifests carry exactly the file names the configs in
# deploy/k8s/base/config/ read:
#   Secret    signet-ca-key       intermediate.key.enc.pem, chain.pem  -> the CA (/etc/signet/ca-key)
#   Secret    signet-ca-password  password                             -> the CA (/etc/signet/ca-password)
#   ConfigMap signet-ca-root      root.pem                             -> the log's ct_roots
# DIR/root.key.enc.pem, the root key, goes into none of them: keep it offline. SIGNET names the
# signet binary (default: signet on the PATH), NAMESPACE the namespace (default: signet).
set -euo pipefail
dir=${1:?usage: ca-secrets.sh DIR}
signet=${SIGNET:-signet}
ns=${NAMESPACE:-signet}
mkdir -p "$dir"
if [ ! -e "$dir/password" ]; then
  (umask 077 && openssl rand -base64 24 > "$dir/password")
fi
"$signet" ca-init --dir "$dir" --password-file "$dir/password" >&2
k() { kubectl create --dry-run=client -o yaml -n "$ns" "$@"; }
k secret generic signet-ca-key \
  --from-file=intermediate.key.enc.pem="$dir/intermediate.key.enc.pem" \
  --from-file=chain.pem="$dir/chain.pem"
echo ---
k secret generic signet-ca-password --from-file=password="$dir/password"
echo ---
k configmap signet-ca-root --from-file=root.pem="$dir/root.pem"
