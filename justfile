# Signet recipes. New machine? Use ./x RECIPE, which installs what is missing first.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Runs the whole test suite (what CI runs).
default: test

# The whole test suite: every crate's unit, vector, property and integration tests, then the
# purity check. Servers are started by the tests themselves on loopback ports.
test:
    SIGNET_REQUIRE_TOOLS=1 cargo test --workspace --locked --no-fail-fast
    just purity

# fmt and clippy -D warnings (CI runs this after the tests).
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings

# The hygiene gate: lint, the whole test suite, docs.
check: lint test
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

# The spec crates must stay pure: no async runtime, no HTTP, no storage in their dependency tree.
purity:
    #!/usr/bin/env bash
    set -euo pipefail
    for p in signet-proto signet-verifier; do
      bad=$(cargo tree -p "$p" -e normal --prefix none --locked | grep -E '^(tokio|axum|rocksdb|reqwest|hyper) ' || true)
      if [ -n "$bad" ]; then echo "$p depends on I/O crates:"; echo "$bad"; exit 1; fi
      echo "$p is pure"
    done

# Fuzz one parser for SECONDS (default 60). Targets: note, checkpoint, tile_path, bundle, witness_request.
fuzz TARGET SECONDS="60":
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
    cd proto/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run {{TARGET}} corpus/{{TARGET}} -- -max_total_time={{SECONDS}}

# Every fuzz target for SECONDS each.
fuzz-all SECONDS="60":
    for t in note checkpoint tile_path bundle witness_request; do just fuzz $t {{SECONDS}}; done

# Benchmarks (figures go to BENCHMARKS.md). The dev profile of this workspace is optimised.
bench:
    cargo bench -p signet-proto --bench proofs --profile dev --locked

# The demo: servers up, an image signed keylessly and verified, everything stopped.
demo:
    ./deploy/demo.sh
