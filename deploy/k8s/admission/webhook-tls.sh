#!/usr/bin/env bash
# The webhook's serving certificate, made offline with openssl: a CA (ca.crt, whose key is
# deleted once it has signed) and a certificate for signet-admission.signet.svc (tls.crt,
# tls.key), valid for a year, written into DIR (default: this folder, where kustomization.yaml
# reads them; they are git-ignored). kustomization.yaml puts them into the Secret
# signet-admission-tls and ca.crt into both webhooks' caBundle. Run it again before the year
# is over, then `kubectl apply -k deploy/k8s/admission`. (With cert-manager, a Certificate
# for the same DNS names can replace this.)
set -euo pipefail
dir=${1:-$(dirname "$0")}
host=signet-admission.signet.svc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
  -subj "/CN=signet-admission-ca" -keyout "$tmp/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$host" \
  -keyout "$dir/tls.key" -out "$tmp/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:%s,DNS:%s.cluster.local,DNS:signet-admission.signet\nextendedKeyUsage=serverAuth\n' \
  "$host" "$host" > "$tmp/ext"
openssl x509 -req -in "$tmp/tls.csr" -CA "$dir/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
  -days 365 -extfile "$tmp/ext" -out "$dir/tls.crt" 2>/dev/null
chmod 600 "$dir/tls.key"
echo "wrote $dir/ca.crt, $dir/tls.crt, $dir/tls.key" >&2
