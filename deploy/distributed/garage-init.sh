#!/bin/sh
# One-shot setup of the Garage cluster (compose service garage-init, Kubernetes Job
# signet-garage-init): the layout (every node in zone dc1 with GARAGE_CAPACITY), the log's S3
# key and its bucket. Idempotent: once the bucket exists it does nothing. Reads, from the
# environment (the site's garage/init.env): GARAGE_RPC_HOST (<node id>@<host>:3901 of any
# node), GARAGE_RPC_SECRET, GARAGE_NODES (the node ids, comma-separated), GARAGE_CAPACITY, S3_KEY_ID,
# S3_SECRET, S3_BUCKET.
set -eu
export GARAGE_RPC_HOST GARAGE_RPC_SECRET
n=0
for id in $(printf "%s" "$GARAGE_NODES" | tr "," " "); do
  short=$(printf '%s' "$id" | cut -c1-16)
  until garage status 2>/dev/null | grep -q "^$short"; do
    n=$((n + 1))
    if [ "$n" -gt 120 ]; then
      echo "garage-init: node $short did not join within 120 s" >&2
      garage status >&2 || true
      exit 1
    fi
    sleep 1
  done
done
if garage bucket info "$S3_BUCKET" >/dev/null 2>&1; then
  echo "garage-init: bucket $S3_BUCKET exists; nothing to do"
  exit 0
fi
for id in $(printf "%s" "$GARAGE_NODES" | tr "," " "); do
  garage layout assign -z dc1 -c "$GARAGE_CAPACITY" "$id"
done
garage layout apply --version 1
garage key import --yes "$S3_KEY_ID" "$S3_SECRET" -n signet-log
garage bucket create "$S3_BUCKET"
garage bucket allow --read --write --owner "$S3_BUCKET" --key "$S3_KEY_ID"
echo "garage-init: layout applied, key and bucket $S3_BUCKET made"
