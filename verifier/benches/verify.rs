//! Bundles verified per second, in-process on one core: a Signet-style bundle (P-256 CA,
//! P-256 leaf, CT log and Rekor log) and the public staging bundle (P-384 CA chain). In the
//! same run, for comparison: sigstore-python's `Verifier` on the same bundles (a timing loop
//! in python3) and `openssl speed -seconds 3 ecdsap256 ecdsap384`.
//!
//! Run: `cargo bench -p signet-verifier --profile dev --bench verify`.
//!
//! On a shared machine, wall-clock rates depend on the load, so the summary also reports
//! rates per CPU-second of the benchmark thread, and two loops exist for instruction counts,
//! which do not depend on other processes (`valgrind --tool=callgrind`; this VM exposes no
//! hardware counters to `perf stat`): `SIGNET_BENCH_PRIMITIVE_LOOP=N` runs N P-256
//! verifications (16 keys and signatures in turn), `SIGNET_BENCH_BUNDLE_LOOP=N` verifies the
//! P-256 bundle N times; with `SIGNET_BENCH_P384=1`, P-384 verifications and the public P-384
//! bundle instead. Both include a small fixed setup: subtract a run with N = 1.
//!
//! The cost relative to the floor (the signature checks a bundle needs: 5 P-256 verifications
//! for the Signet bundle, 4 P-256 + 1 P-384 for the public one) is measured by alternating
//! short runs of bundle and primitive verifications on the same thread and comparing their
//! CPU time, which holds up under load much better than two separate runs.
//! `SIGNET_BENCH_SUMMARY_ONLY=1` skips the criterion part and prints only the summary.
//! `SIGNET_BENCH_FLOOR_ROUNDS=N` prints only that measurement (N rounds of about 100 ms; the
//! summary uses 40).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    unreachable_pub
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use signet_proto::bundle::Bundle;
use signet_proto::trust::TrustedRoot;
use signet_verifier::{verify, Artifact, IdentityPolicy, Policy, TrustMaterial, UnixTime};

/// The real public bundles vendored in `testdata/sigstore/public/`.
const PUBLIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/sigstore/public");

const PY_LOOP: &str = r#"
import sys, time
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy
from sigstore.hashes import Hashed
from sigstore_models.common.v1 import HashAlgorithm
root_path, bundle_path, digest_hex, identity, issuer = sys.argv[1:6]
verifier = Verifier(trusted_root=TrustedRoot.from_file(root_path))
raw = open(bundle_path, "rb").read()
hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=bytes.fromhex(digest_hex))
pol = policy.Identity(identity=identity, issuer=issuer)
verifier.verify_artifact(hashed, Bundle.from_json(raw), pol)
n, t0 = 0, time.perf_counter()
c0 = time.thread_time()
while time.perf_counter() - t0 < 3.0:
    verifier.verify_artifact(hashed, Bundle.from_json(raw), pol)
    n += 1
wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
print(f"{n / cpu:.0f}/s per CPU-second ({n / wall:.0f}/s wall)")
"#;

/// Nanoseconds this thread has run on a CPU (Linux schedstat), so that rates are per busy
/// core even when other processes compete for the machine. `None` where unavailable.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Operations per wall-clock second and per CPU second of this thread.
struct Rate {
    wall: f64,
    cpu: Option<f64>,
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.cpu {
            Some(c) => write!(f, "{c:.0}/s per CPU-second ({:.0}/s wall)", self.wall),
            None => write!(f, "{:.0}/s wall", self.wall),
        }
    }
}

/// Runs `f` repeatedly for about two seconds.
fn timed(f: &dyn Fn()) -> Rate {
    f();
    let (mut n, t0, c0) = (0u32, Instant::now(), thread_cpu_ns());
    while t0.elapsed() < Duration::from_secs(2) {
        f();
        n += 1;
    }
    let wall = f64::from(n) / t0.elapsed().as_secs_f64();
    let cpu = match (c0, thread_cpu_ns()) {
        #[allow(clippy::cast_precision_loss)]
        (Some(a), Some(b)) if b > a => Some(f64::from(n) / ((b - a) as f64 / 1e9)),
        _ => None,
    };
    Rate { wall, cpu }
}

struct Case {
    name: &'static str,
    /// The signature checks a bundle needs at least: (P-256 verifications, P-384 ones).
    floor: (u32, u32),
    json: Vec<u8>,
    root_json: Vec<u8>,
    digest: [u8; 32],
    identity: String,
    issuer: String,
    now: i64,
}

impl Case {
    fn parts(&self) -> (Bundle, TrustMaterial, Policy) {
        let bundle = Bundle::from_json(&self.json).unwrap();
        let root: TrustedRoot = signet_proto::json::from_slice(&self.root_json).unwrap();
        let trust = TrustMaterial::from_trusted_root(&root).unwrap();
        let policy = Policy::identity(IdentityPolicy::exact(
            self.identity.clone(),
            self.issuer.clone(),
        ));
        (bundle, trust, policy)
    }

    /// Rates for the parsed bundle and for JSON bytes parsed each time.
    fn rate(&self) -> (Rate, Rate) {
        let (bundle, trust, policy) = self.parts();
        let now = Some(UnixTime::from_unix_seconds(self.now));
        let art = Artifact::Sha256Digest(self.digest);
        let parsed = timed(&|| {
            verify(&bundle, art, &policy, &trust, now).unwrap();
        });
        let from_json = timed(&|| {
            let b = Bundle::from_json(&self.json).unwrap();
            verify(&b, art, &policy, &trust, now).unwrap();
        });
        (parsed, from_json)
    }

    fn python(&self) -> String {
        let dir =
            std::env::temp_dir().join(format!("signet-bench-{}-{}", std::process::id(), self.name));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("root.json"), &self.root_json).unwrap();
        std::fs::write(dir.join("bundle.json"), &self.json).unwrap();
        let out = Command::new("python3")
            .args(["-c", PY_LOOP])
            .arg(dir.join("root.json"))
            .arg(dir.join("bundle.json"))
            .args([
                hex::encode(self.digest),
                self.identity.clone(),
                self.issuer.clone(),
            ])
            .output();
        let _ = std::fs::remove_dir_all(&dir);
        match out {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
            Ok(o) => format!(
                "failed: {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ),
            Err(e) => format!("python3 not runnable: {e}"),
        }
    }
}

fn cases() -> Vec<Case> {
    let f = common::build(&common::Knobs::default());
    let digest = signet_proto::keys::HashAlgorithm::Sha256
        .hash(&f.artifact)
        .try_into()
        .unwrap();
    let mut v = vec![Case {
        name: "p256_signet_bundle",
        // Leaf by the intermediate, SCT, artifact, SET, checkpoint.
        floor: (5, 0),
        json: serde_json::to_vec(&f.bundle_json).unwrap(),
        root_json: serde_json::to_vec(&f.trusted_root_json).unwrap(),
        digest,
        identity: f.identity.clone(),
        issuer: f.issuer.clone(),
        now: f.signing_time + 60,
    }];
    let dir = Path::new(PUBLIC);
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("test vector {}: {e}", path.display()))
    };
    v.push(Case {
        name: "p384_public_staging_bundle",
        // Leaf by the P-384 intermediate (ecdsa-with-SHA384); SCT, artifact, SET and
        // checkpoint with P-256 keys.
        floor: (4, 1),
        json: read("bundle_v3_rekor1.json"),
        root_json: read("staging_trusted_root.json"),
        digest: hex::decode("5e6ae9de58c1177bea615b4fcbfb2fd688e8c4b51c2e56b6a38e817833ec24a2")
            .unwrap()
            .try_into()
            .unwrap(),
        identity: "william@yossarian.net".into(),
        issuer: "https://github.com/login/oauth".into(),
        now: 1_712_085_600,
    });
    v
}

/// ECDSA verifications per second with the same primitives the verifier uses: one signature
/// verified again and again (as `openssl speed` does), then [`ROTATION`] keys and signatures
/// in turn. Returns (P-256 repeated, P-384 repeated, P-256 rotating, P-384 rotating).
fn primitive_rates() -> [Rate; 4] {
    use signet_proto::keys::{EcdsaCurve, EcdsaSigner};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let repeated = |curve| {
        let s = EcdsaSigner::generate(curve, &rng).unwrap();
        let msg = b"a message of about the size of a SET payload or a checkpoint";
        let sig = s.sign(msg).unwrap();
        let k = s.public_key().clone();
        timed(&|| k.verify(msg, &sig).unwrap())
    };
    let rotating = |curve| {
        let p = Primitive::new(curve);
        timed(&|| p.verify())
    };
    [
        repeated(EcdsaCurve::P256),
        repeated(EcdsaCurve::P384),
        rotating(EcdsaCurve::P256),
        rotating(EcdsaCurve::P384),
    ]
}

/// Test signatures for one curve, verified with the same `proto::keys` call the verifier
/// makes for SETs, checkpoints and SCTs: `ROTATION` keys, each with its own message, used in
/// turn, so that (as in a bundle) consecutive verifications do not repeat the same scalars
/// and precomputed-table entries (`openssl speed` repeats one signature).
struct Primitive {
    sigs: Vec<(signet_proto::keys::PublicKey, Vec<u8>, Vec<u8>)>,
    next: std::cell::Cell<usize>,
}

const ROTATION: usize = 16;

impl Primitive {
    fn new(curve: signet_proto::keys::EcdsaCurve) -> Self {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let sigs = (0..ROTATION)
            .map(|i| {
                let s = signet_proto::keys::EcdsaSigner::generate(curve, &rng).unwrap();
                let msg = format!("message {i} of about the size of a SET payload or a checkpoint");
                let sig = s.sign(msg.as_bytes()).unwrap();
                (s.public_key().clone(), msg.into_bytes(), sig)
            })
            .collect();
        Self {
            sigs,
            next: std::cell::Cell::new(0),
        }
    }

    fn verify(&self) {
        let i = self.next.get();
        self.next.set((i + 1) % ROTATION);
        let (key, msg, sig) = &self.sigs[i];
        key.verify(msg, sig).unwrap();
    }
}

/// CPU time of this thread spent by `n` calls of `f`, in nanoseconds.
fn cpu_ns(n: u32, f: &dyn Fn()) -> Option<u64> {
    let c0 = thread_cpu_ns()?;
    for _ in 0..n {
        f();
    }
    Some(thread_cpu_ns()?.saturating_sub(c0))
}

/// Per-operation CPU costs from the interleaved measurement, in µs.
#[derive(Clone, Copy)]
struct Costs {
    v256: f64,
    v384: f64,
    bundle: f64,
}

/// The cost of one bundle against its floor, measured by alternating runs of about 25 ms of
/// P-256 verifications, bundle verifications, P-384 verifications and bundle verifications
/// again, `rounds` times, so that neighbouring runs see the same machine state (load,
/// frequency, caches shared with other processes). The CPU time of this thread is summed per
/// kind of operation: the kernel updates that clock at scheduler ticks (every 4 ms here), so
/// runs are kept well above a tick and only totals are used.
fn interleaved(case: &Case, rounds: u32) -> Option<Costs> {
    let (bundle, trust, policy) = case.parts();
    let now = Some(UnixTime::from_unix_seconds(case.now));
    let art = Artifact::Sha256Digest(case.digest);
    let (p256, p384) = (
        Primitive::new(signet_proto::keys::EcdsaCurve::P256),
        Primitive::new(signet_proto::keys::EcdsaCurve::P384),
    );
    let one_bundle = || {
        verify(&bundle, art, &policy, &trust, now).unwrap();
    };
    let (n256, n384, nb) = (300u32, 90u32, 50u32);
    // Warm up, then alternate.
    cpu_ns(nb, &one_bundle)?;
    let (mut t256, mut t384, mut tb) = (0u64, 0u64, 0u64);
    for _ in 0..rounds {
        t256 += cpu_ns(n256, &|| p256.verify())?;
        tb += cpu_ns(nb, &one_bundle)?;
        t384 += cpu_ns(n384, &|| p384.verify())?;
        tb += cpu_ns(nb, &one_bundle)?;
    }
    #[allow(clippy::cast_precision_loss)]
    let per = |t: u64, n: u32| t as f64 / 1e3 / f64::from(n * rounds);
    Some(Costs {
        v256: per(t256, n256),
        v384: per(t384, n384),
        bundle: per(tb, 2 * nb),
    })
}

/// Prints the interleaved measurement of `case` against its floor.
fn print_floor_ratio(case: &Case, rounds: u32) {
    let Some(c) = interleaved(case, rounds) else {
        println!("  (no per-thread CPU clock here: floor ratio not measured)");
        return;
    };
    let floor = f64::from(case.floor.0) * c.v256 + f64::from(case.floor.1) * c.v384;
    println!(
        "  interleaved ({rounds} rounds), per CPU-second: {:.0} bundles/s ({:.1} µs); P-256 \
         verify {:.1} µs, P-384 verify {:.1} µs ({ROTATION} keys in rotation); floor ({} P-256 \
         + {} P-384) {floor:.1} µs = {:.0}/s; bundle = {:.3}x the floor = {:.2} P-256 \
         verifications",
        1e6 / c.bundle,
        c.bundle,
        c.v256,
        c.v384,
        case.floor.0,
        case.floor.1,
        1e6 / floor,
        c.bundle / floor,
        c.bundle / c.v256,
    );
}

fn main() {
    if let Some(n) = std::env::var("SIGNET_BENCH_PRIMITIVE_LOOP")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    {
        // For `perf stat` or callgrind: only N verifications (keys in rotation), no bundle;
        // P-256, or P-384 with SIGNET_BENCH_P384=1.
        let curve = if std::env::var_os("SIGNET_BENCH_P384").is_some() {
            signet_proto::keys::EcdsaCurve::P384
        } else {
            signet_proto::keys::EcdsaCurve::P256
        };
        let p = Primitive::new(curve);
        for _ in 0..n {
            p.verify();
        }
        return;
    }
    if let Some(n) = std::env::var("SIGNET_BENCH_BUNDLE_LOOP")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    {
        // For `perf stat` or callgrind: only N verifications of the P-256 bundle, or of the
        // public P-384 one with SIGNET_BENCH_P384=1.
        let case = &cases()[usize::from(std::env::var_os("SIGNET_BENCH_P384").is_some())];
        let (bundle, trust, policy) = case.parts();
        let now = Some(UnixTime::from_unix_seconds(case.now));
        for _ in 0..n {
            verify(
                &bundle,
                Artifact::Sha256Digest(case.digest),
                &policy,
                &trust,
                now,
            )
            .unwrap();
        }
        return;
    }
    if let Some(n) = std::env::var("SIGNET_BENCH_FLOOR_ROUNDS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
    {
        // Only the interleaved floor ratio, `n` rounds per bundle.
        for case in &cases() {
            println!("{}:", case.name);
            print_floor_ratio(case, n);
        }
        return;
    }
    let cases = cases();
    let mut c = Criterion::default().configure_from_args();
    // `SIGNET_BENCH_SUMMARY_ONLY=1` skips criterion (about a minute) to fit a quiet moment.
    if std::env::var_os("SIGNET_BENCH_SUMMARY_ONLY").is_none() {
        let mut g = c.benchmark_group("verify");
        g.throughput(Throughput::Elements(1));
        for case in &cases {
            let (bundle, trust, policy) = case.parts();
            let now = Some(UnixTime::from_unix_seconds(case.now));
            let art = Artifact::Sha256Digest(case.digest);
            g.bench_function(case.name, |b| {
                b.iter(|| verify(&bundle, art, &policy, &trust, now).unwrap())
            });
            g.bench_function(format!("{}_from_json", case.name), |b| {
                b.iter(|| {
                    let bundle = Bundle::from_json(&case.json).unwrap();
                    verify(&bundle, art, &policy, &trust, now).unwrap()
                });
            });
        }
        g.finish();
    }
    c.final_summary();
    if std::env::var_os("SIGNET_BENCH_NO_SUMMARY").is_some() {
        return;
    }

    println!("\n== Summary (one thread; bundles per second) ==");
    let [p256, p384, p256_rot, p384_rot] = primitive_rates();
    println!(
        "aws-lc ECDSA verify (proto::keys), one signature repeated: P-256 {p256}; P-384 {p384}"
    );
    println!(
        "aws-lc ECDSA verify (proto::keys), {ROTATION} keys in rotation: P-256 {p256_rot}; P-384 {p384_rot}"
    );
    for case in &cases {
        let (parsed, from_json) = case.rate();
        println!("{}:", case.name);
        println!("  signet-verifier, parsed bundle: {parsed}");
        println!("  signet-verifier, from JSON:     {from_json}");
        print_floor_ratio(case, 40);
        println!("  sigstore-python Verifier (from JSON): {}", case.python());
    }
    println!("\n== openssl speed -seconds 3 ecdsap256 ecdsap384 ==");
    match Command::new("openssl")
        .args(["speed", "-seconds", "3", "ecdsap256", "ecdsap384"])
        .output()
    {
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stdout);
            for line in text
                .lines()
                .filter(|l| l.contains("ecdsa") || l.contains("sign    verify"))
            {
                println!("{line}");
            }
        }
        Err(e) => println!("openssl not runnable: {e}"),
    }
}
