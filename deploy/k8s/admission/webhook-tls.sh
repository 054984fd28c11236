#!/usr/bin/env bash
# The webhooks' TLS material, made offline with openssl, valid for a year, written into DIR
# (default: this folder, where kustomization.yaml reads them; they are git-ignored):
# * the serving certificate: a CA (ca.crt, whose key is deleted once it has signed) and a
#   certificate (tls.crt, tls.key) for signet-admission.signet.svc (the validating and
#   mutating webhooks) and signet-imagepolicy.signet.svc (the ImagePolicyWebhook instance);
#   kustomization.yaml puts them into the Secret signet-admission-tls and ca.crt into both
#   webhooks' caBundle;
# * the API server's client certificate for the ImagePolicyWebhook plugin (mutual TLS): a
#   second CA (client-ca.crt, key deleted too) and apiserver-client.crt/.key (clientAuth);
#   client-ca.crt goes into the Secret signet-imagepolicy-client-ca (the instance's
#   --client-ca), and ca.crt (as webhook-ca.crt) and apiserver-client.crt/.key to the
#   control-plane hosts (deploy/k8s/imagepolicy/README.md).
# Run it again before the year is over, then `kubectl apply -k deploy/k8s/admission`. (With
# cert-manager, Certificates for the same names can replace this.)
set -euo pipefail
dir=${1:-$(dirname "$0")}
host=signet-admission.signet.svc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
  -subj "/CN=signet-admission-ca" -keyout "$tmp/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$host" \
  -keyout "$dir/tls.key" -out "$tmp/tls.csr" 2>/dev/null
ip=signet-imagepolicy.signet.svc
printf 'subjectAltName=DNS:%s,DNS:%s.cluster.local,DNS:signet-admission.signet,DNS:%s,DNS:%s.cluster.local,DNS:signet-imagepolicy.signet\nextendedKeyUsage=serverAuth\n' \
  "$host" "$host" "$ip" "$ip" > "$tmp/ext"
openssl x509 -req -in "$tmp/tls.csr" -CA "$dir/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
  -days 365 -extfile "$tmp/ext" -out "$dir/tls.crt" 2>/dev/null
chmod 600 "$dir/tls.key"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
  -subj "/CN=signet-imagepolicy-client-ca" -keyout "$tmp/client-ca.key" -out "$dir/client-ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=kube-apiserver" \
  -keyout "$dir/apiserver-client.key" -out "$tmp/client.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > "$tmp/client-ext"
openssl x509 -req -in "$tmp/client.csr" -CA "$dir/client-ca.crt" -CAkey "$tmp/client-ca.key" \
  -CAcreateserial -days 365 -extfile "$tmp/client-ext" -out "$dir/apiserver-client.crt" 2>/dev/null
chmod 600 "$dir/apiserver-client.key"
echo "wrote $dir/ca.crt, $dir/tls.crt, $dir/tls.key, $dir/client-ca.crt, $dir/apiserver-client.crt, $dir/apiserver-client.key" >&2
