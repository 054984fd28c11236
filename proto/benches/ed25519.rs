//! Ed25519 sign and verify: aws-lc-rs (what Signet uses) beside ed25519-dalek (what the design
//! names; in the tree through openidconnect), in one run on the same keys and message
//! (BENCHMARKS.md, "Ed25519: aws-lc-rs and ed25519-dalek").
//!
//! The message is a checkpoint-sized note body (about 150 bytes), as signed by a log and
//! cosigned by witnesses. Verification uses a parsed public key, as the note verifiers keep.
//!
//! Run: `cargo bench -p signet-proto --bench ed25519 --profile dev`.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _, ParsedPublicKey, ED25519};
use criterion::{criterion_group, criterion_main, Criterion};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

const MESSAGE: &[u8] = b"example.com/log\n123456789\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n\
                         \xe2\x80\x94 example.com/log Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

fn bench(c: &mut Criterion) {
    let seed = [7u8; 32];
    let aws_key = Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
    let dalek_key = SigningKey::from_bytes(&seed);
    let public: [u8; 32] = aws_key.public_key().as_ref().try_into().unwrap();
    assert_eq!(public, dalek_key.verifying_key().to_bytes());

    let aws_sig = aws_key.sign(MESSAGE);
    let dalek_sig = dalek_key.sign(MESSAGE);
    // Ed25519 is deterministic: both libraries make the same signature.
    assert_eq!(aws_sig.as_ref(), dalek_sig.to_bytes().as_slice());
    let sig_bytes: [u8; 64] = aws_sig.as_ref().try_into().unwrap();

    let aws_public = ParsedPublicKey::new(&ED25519, public).unwrap();
    let dalek_public = VerifyingKey::from_bytes(&public).unwrap();
    let dalek_signature = Signature::from_bytes(&sig_bytes);

    let mut g = c.benchmark_group("ed25519");
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("sign/aws-lc-rs", |b| {
        b.iter(|| aws_key.sign(black_box(MESSAGE)));
    });
    g.bench_function("sign/ed25519-dalek", |b| {
        b.iter(|| dalek_key.sign(black_box(MESSAGE)));
    });
    g.bench_function("verify/aws-lc-rs", |b| {
        b.iter(|| {
            aws_public
                .verify_sig(black_box(MESSAGE), black_box(&sig_bytes))
                .unwrap();
        });
    });
    g.bench_function("verify/ed25519-dalek (verify_strict)", |b| {
        b.iter(|| {
            dalek_public
                .verify_strict(black_box(MESSAGE), black_box(&dalek_signature))
                .unwrap();
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
