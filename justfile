# Signet recipes. New machine? Use ./x RECIPE, which installs what is missing first.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Runs the whole test suite (what CI runs).
default: test

# The whole test suite: every crate's unit, vector, property and integration tests, then the
# purity check. Servers are started by the tests themselves on loopback ports.
test:
    cargo test --workspace --locked --no-fail-fast
    just purity

# fmt, clippy -D warnings, rustdoc -D warnings, no module cycle inside a crate
# (scripts/module_cycles.py), no declared-but-unused dependency (cargo-machete, in the
# workspace and in the fuzz crate), and the fuzz smoke run. CI runs this after the tests.
lint:
    python3 scripts/module_cycles.py
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked
    command -v cargo-machete >/dev/null || cargo install cargo-machete --locked
    cargo machete
    cd fuzz && cargo machete
    just fuzz-smoke

# The hygiene gate: lint (docs included) and the whole test suite.
check: lint test

# The spec crates must stay pure: no async runtime, no HTTP, no storage in their dependency tree.
purity:
    #!/usr/bin/env bash
    set -euo pipefail
    for p in signet-proto signet-verifier; do
      bad=$(cargo tree -p "$p" -e normal --prefix none --locked | grep -E '^(tokio|axum|rocksdb|reqwest|hyper) ' || true)
      if [ -n "$bad" ]; then echo "$p depends on I/O crates:"; echo "$bad"; exit 1; fi
      echo "$p is pure"
    done

# Fuzz one parser for SECONDS (default 60). Targets: `cd fuzz && cargo fuzz list` (README table).
fuzz TARGET SECONDS="60":
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
    cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run {{TARGET}} corpus/{{TARGET}} -- -max_total_time={{SECONDS}}

# Smoke run of every fuzz target: all built in one cargo invocation (a target that no longer
# builds fails), then each run over its committed seeds (every seed executed; a crash or failed
# assertion fails) and fuzzed for SECONDS more, new inputs going to a scratch directory (the
# committed corpus is not modified). BUILD is cargo-fuzz's build flags: by default unoptimised
# and without sanitizer (debug assertions and overflow checks on), a third of the CPU time of
# cargo-fuzz's default (`BUILD=""`: AddressSanitizer, optimised). The build lives outside the
# clone and persists: $SIGNET_FUZZ_TARGET_DIR, else /var/cache/signet/fuzz when writable, else
# fuzz/target.
fuzz-smoke SECONDS="5" BUILD="--dev -s none":
    #!/usr/bin/env bash
    set -euo pipefail
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
    dir="${SIGNET_FUZZ_TARGET_DIR:-}"
    if [ -z "$dir" ]; then
      if mkdir -p /var/cache/signet/fuzz 2>/dev/null && [ -w /var/cache/signet/fuzz ]; then
        dir=/var/cache/signet/fuzz
      else
        dir="$PWD/fuzz/target"
      fi
    fi
    export CARGO_TARGET_DIR="$dir" RUSTC_BOOTSTRAP=1
    cd fuzz
    start=$(date +%s)
    cargo fuzz build {{BUILD}}
    echo "fuzz-smoke: built every target in $(( $(date +%s) - start )) s (flags: {{BUILD}}; CARGO_TARGET_DIR=$dir)"
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    for t in $(cargo fuzz list); do
      [ -d "corpus/$t" ] || { echo "fuzz-smoke: $t has no seed corpus in fuzz/corpus/$t"; exit 1; }
      mkdir -p "$scratch/$t"
      echo "fuzz-smoke: $t ($(ls "corpus/$t" | wc -l) seeds, then {{SECONDS}} s)"
      if ! cargo fuzz run {{BUILD}} "$t" "$scratch/$t" "corpus/$t" -- -max_total_time={{SECONDS}} \
          >"$scratch/$t.log" 2>&1; then
        cat "$scratch/$t.log"
        echo "fuzz-smoke: $t FAILED to build or run (log above; a failing input is kept in fuzz/artifacts/$t/)"
        exit 1
      fi
      grep -E '^(INFO: seed corpus|Done)' "$scratch/$t.log" || tail -n 2 "$scratch/$t.log"
    done
    echo "fuzz-smoke: every target ran over its seeds in $(( $(date +%s) - start )) s"

# Every fuzz target (as `cargo fuzz list` names them from fuzz/Cargo.toml) for SECONDS each.
fuzz-all SECONDS="60":
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
    for t in $(cd fuzz && cargo fuzz list); do just fuzz $t {{SECONDS}}; done

# Benchmarks (current figures in BENCHMARKS.md; each new set goes to docs/benchmarks-history.md). The dev profile of this workspace is optimised.
bench:
    cargo bench -p signet-proto --bench proofs --profile dev --locked

# HTTP ingest benchmark (BENCHMARKS.md "Transparency log"): RUNS fresh `signet-log serve`
# processes on loopback, each fed ENTRIES pre-signed hashedrekord entries by CLIENTS keep-alive
# clients, with `openssl speed ecdsap256` (the P-256 ceiling) before every run.
bench-ingest ENTRIES="100000" CLIENTS="256" RUNS="3":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build -p signet-log --bins --examples --locked
    bin="${CARGO_TARGET_DIR:-target}/debug"
    echo "$(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
    for run in $(seq {{RUNS}}); do
      openssl speed -seconds 3 ecdsap256 2>/dev/null | tail -1
      dir=$(mktemp -d /var/tmp/signet-ingest.XXXXXX)
      out="$dir.out"
      "$bin/signet-log" serve --data-dir "$dir" --listen 127.0.0.1:0 --public-host bench.test >"$out" 2>&1 &
      pid=$!
      addr=""
      for _ in $(seq 100); do addr=$(grep -om1 '127.0.0.1:[0-9]*' "$out" || true); [ -n "$addr" ] && break; sleep 0.1; done
      [ -n "$addr" ] || { cat "$out"; kill $pid; exit 1; }
      "$bin/examples/loadgen" "http://$addr" {{ENTRIES}} {{CLIENTS}} --server-pid $pid | tail -1
      curl -fsS "http://$addr/metrics" | grep -E '^signet_log_batch_(size|commit_seconds)_(sum|count)' | tr '\n' ' '; echo
      kill $pid; wait $pid 2>/dev/null || true
      rm -rf "$dir" "$out"
    done

# Rekor v2 ingest beside v1 (BENCHMARKS.md "Rekor v2 ingest"): in each of RUNS rounds, a fresh
# `signet-log serve` (v1) and a fresh `signet-log serve --rekor-v2`, one after the other on the
# same machine, each fed ENTRIES pre-signed entries by CLIENTS keep-alive clients (v2: request
# to TransparencyLogEntry with proof); then the floor in the same round: nginx answering the
# same v2 requests with one of the log's own answers as a constant (no verification, no log),
# and `openssl speed ecdsap256`. Prints the v2/v1 rate ratio and the most any v2 log could
# reach beside this v1 if the two shared every saving: 1 + X/(V + N), where X is v1's extra
# CPU per entry over v2 (server and load generator), V one P-256 verification (openssl, one
# core) and N nginx's exchange (server and load generator); and 1 + S/V, S one P-256
# signature: the SET, the one step the issue names.
bench-ingest-v2 ENTRIES="50000" CLIENTS="256" RUNS="3":
    #!/usr/bin/env bash
    set -euo pipefail
    command -v nginx >/dev/null || { echo "nginx is missing (the floor of this benchmark): run ./x setup" >&2; exit 1; }
    cargo build -p signet-log --bins --examples --locked
    bin="${CARGO_TARGET_DIR:-target}/debug"
    echo "$(date -u +%FT%TZ) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
    work=$(mktemp -d /var/tmp/signet-ingest-v2.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    ready() { # $1 = log file; prints the address once listening
      for _ in $(seq 100); do a=$(grep -om1 '127.0.0.1:[0-9]*' "$1" || true); [ -n "$a" ] && { echo "$a"; return; }; sleep 0.1; done
      cat "$1" >&2; return 1
    }
    one() { # $1 = "" or --rekor-v2; prints the loadgen line
      dir=$(mktemp -d "$work/log.XXXXXX")
      "$bin/signet-log" serve --data-dir "$dir" --listen 127.0.0.1:0 --public-host bench.test $1 >"$dir.out" 2>&1 &
      pid=$!
      addr=$(ready "$dir.out") || { kill $pid; exit 1; }
      "$bin/examples/loadgen" "http://$addr" {{ENTRIES}} {{CLIENTS}} --server-pid $pid ${1:+--v2 --save-answer $work/answer.json} | tail -1
      curl -fsS "http://$addr/metrics" | grep -E '^signet_log_batch_(size|commit_seconds)_(sum|count)' | tr '\n' ' ' >&2; echo >&2
      kill $pid; wait $pid 2>/dev/null || true
      rm -rf "$dir" "$dir.out"
    }
    floor() { # nginx, one worker process, answering every v2 request with the saved answer
      root=$(mktemp -d "$work/nginx.XXXXXX")
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      answer=$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' "$work/answer.json")
      printf '%s\n' "daemon off; master_process off; worker_processes 1; pid $root/pid; error_log $root/error.log;" \
        "events { worker_connections 1024; }" \
        "http { access_log off; client_body_temp_path $root/b; proxy_temp_path $root/p; fastcgi_temp_path $root/f; uwsgi_temp_path $root/u; scgi_temp_path $root/s;" \
        "  keepalive_requests 100000000; keepalive_timeout 300s; client_body_buffer_size 16k;" \
        "  server { listen 127.0.0.1:$port; location = /api/v2/log/entries { default_type application/json; return 201 \"$answer\"; } } }" >"$root/nginx.conf"
      nginx -c "$root/nginx.conf" -p "$root" &
      pid=$!
      for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
      "$bin/examples/loadgen" "http://127.0.0.1:$port" {{ENTRIES}} {{CLIENTS}} --server-pid $pid --v2 | tail -1
      kill $pid; wait $pid 2>/dev/null || true
    }
    per_entry() { # client + server CPU µs per entry of a loadgen line
      echo "$1" | grep -o '[0-9.]* us/entry' | awk '{t += $1} END {print t}'
    }
    for run in $(seq {{RUNS}}); do
      v1=$(one "")
      echo "$v1"
      v2=$(one --rekor-v2)
      echo "$v2"
      nx=$(floor)
      echo "nginx, constant answer: $nx"
      speed=$(openssl speed -seconds 3 ecdsap256 2>/dev/null | tail -1)
      echo "openssl:$speed"
      r1=$(echo "$v1" | grep -o 'rate=[0-9]*' | cut -d= -f2)
      r2=$(echo "$v2" | grep -o 'rate=[0-9]*' | cut -d= -f2)
      awk -v r1="$r1" -v r2="$r2" -v t1="$(per_entry "$v1")" -v t2="$(per_entry "$v2")" -v n="$(per_entry "$nx")" \
        -v sign="$(echo "$speed" | awk '{print $(NF-1)}')" -v verify="$(echo "$speed" | awk '{print $NF}')" -v run="$run" 'BEGIN {
          v = 1e6 / verify; s = 1e6 / sign; x = t1 - t2
          printf "run %d: v2/v1 rate ratio %.2f; CPU per entry v1 %.1f us, v2 %.1f us, extra of v1 X %.1f us; floor: nginx exchange N %.1f us, P-256 verify V %.1f us, sign S %.1f us; bound 1 + X/(V + N) = %.2f; 1 + S/V = %.2f\n", run, r2 / r1, t1, t2, x, n, v, s, 1 + x / (v + n), 1 + s / v
        }'
    done

# Inclusion proofs per second per core at SIZE leaves in both storage modes (BENCHMARKS.md
# "Proofs served"): the same tiles in RocksDB and, in the distributed layout, behind the
# distributed reader's read path; uncached, filling and warm passes over COUNT random indexes.
bench-proofs SIZE="10000000" COUNT="20000":
    cargo build -p signet-log --example bench_proofs --locked
    "${CARGO_TARGET_DIR:-target}/debug/examples/bench_proofs" /var/tmp/signet-bench-proofs {{SIZE}} {{COUNT}}

# RFC 3161 timestamps per second (BENCHMARKS.md "Timestamp authority"): the TSA in process and
# over HTTP beside `openssl ts -reply` on the same P-256 key and certificate.
bench-tsa SECS="5":
    BENCH_SECS={{SECS}} cargo bench -p signet-ca --bench tsa --profile dev --locked

# The benchmarks kept out of the test suite as ignored tests: signing latency and the monitor
# following a growing log (current figures in BENCHMARKS.md, every set in docs/benchmarks-history.md).
bench-slow:
    cargo test --locked -p signet-cli --test client_e2e -- --ignored --nocapture sign_blob_latency
    cargo test --locked -p signet-cli --test monitor -- --ignored --nocapture monitor_keeps_up_with_a_growing_log
    just bench-admission
    cargo test --locked -p signet-cli --test distributed -- --ignored --nocapture distributed_ingest_beside_rocksdb
    cargo test --locked -p signet-cli --test distributed -- --ignored --nocapture distributed_reads_with_one_and_two_readers

# Admission webhook latency (BENCHMARKS.md "Admission webhook"): the load generator
# (cli/examples/admission_loadgen.rs, its own process) against the webhook over TLS; prints
# every row with client and server CPU per review. SIGNET_ADMISSION_BEFORE=<signet binary>
# also measures that binary's warm path in the same run.
bench-admission:
    cargo build --locked -p signet-cli --example admission_loadgen
    cargo test --locked -p signet-cli --test admission -- --ignored --nocapture admission_latency

# The demo: servers up, an image signed keylessly and verified, everything stopped.
demo:
    ./deploy/demo.sh
