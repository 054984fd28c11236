//! Verification by time (issue 19): the verifier picks the CAs, transparency logs and CT logs
//! whose `validFor` contains the verified signing time, inclusive at both ends, with one rule
//! (`trust::valid_at`) for every kind; overlapping windows (a rotation) and windows that start
//! in the future (a pre-staged rotation) are handled by it, and a refusal names the time and
//! the windows seen. Bundles and trust roots are built in-process (tests/common). TSAs: see
//! `public_bundles.rs` (`rekor_v2_trust_root_without_the_tsa_fails`, `rekor_v2_same_tsa_listed_twice`), which use a real
//! timestamped bundle.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{b64, build, Fixture, Knobs, SIGNING_TIME};
use serde_json::{json, Value};
use signet_verifier::{
    verify, Artifact, SctError, TimeError, UnixTime, VerificationError, VerifiedBundle,
};

/// 2026-01-01T00:00:00Z, the built bundles' integrated time, as the errors print it.
const T_TEXT: &str = "2026-01-01T00:00:00Z";

fn run(f: &Fixture) -> Result<VerifiedBundle, VerificationError> {
    verify(
        &f.bundle(),
        Artifact::Bytes(&f.artifact),
        &f.policy(),
        &f.trust(),
        Some(UnixTime::from_unix_seconds(SIGNING_TIME + 3600)),
    )
}

/// RFC 3339 text of `secs`.
fn at(secs: i64) -> String {
    signet_proto::bundle::Timestamp::from_unix(secs)
        .unwrap()
        .as_str()
        .to_owned()
}

fn window(start: i64, end: Option<i64>) -> Value {
    let mut w = json!({ "start": at(start) });
    if let Some(end) = end {
        w["end"] = json!(at(end));
    }
    w
}

/// Sets the `validFor` of entry `i` of `kind` ("certificateAuthorities", "tlogs", "ctlogs").
fn set_window(f: &mut Fixture, kind: &str, i: usize, w: Value) {
    let entry = &mut f.trusted_root_json[kind][i];
    if kind == "certificateAuthorities" {
        entry["validFor"] = w;
    } else {
        entry["publicKey"]["validFor"] = w;
    }
}

/// Lists entry 0 of `kind` a second time (same key or intermediate), with window `w`.
fn list_again(f: &mut Fixture, kind: &str, w: Value) {
    let mut copy = f.trusted_root_json[kind][0].clone();
    if kind == "certificateAuthorities" {
        copy["validFor"] = w;
    } else {
        copy["publicKey"]["validFor"] = w;
    }
    f.trusted_root_json[kind].as_array_mut().unwrap().push(copy);
}

/// The refusal of the selection rule, with its message.
fn not_valid_at(e: &VerificationError) -> String {
    match e {
        VerificationError::Time(TimeError::NotValidAt(n)) => n.to_string(),
        VerificationError::Sct(SctError::NotValidAt { source, .. }) => source.to_string(),
        other => panic!("expected a validFor refusal, got: {other}"),
    }
}

/// Exactly at a window's start and exactly at its end the signing time is inside; one second
/// before the start or after the end it is refused, with the time and the window named. For
/// the CA and the transparency log the time is the integrated time; for the CT log it is the
/// SCT's timestamp (`SIGNING_TIME - 5` s + 1 ms).
#[test]
fn window_edges_for_every_kind() {
    let cases = [
        (
            "certificateAuthorities",
            "certificate authority",
            SIGNING_TIME,
            T_TEXT,
        ),
        ("tlogs", "transparency log", SIGNING_TIME, T_TEXT),
    ];
    for (kind, name, t, t_text) in cases {
        for (w, ok) in [
            (window(t, Some(t + 100)), true),
            (window(t - 100, Some(t)), true),
            (window(t, Some(t)), true),
            (window(t, None), true),
            (window(t + 1, None), false),
            (window(t + 1, Some(t + 100)), false),
            (window(t - 100, Some(t - 1)), false),
        ] {
            let mut f = build(&Knobs::default());
            set_window(&mut f, kind, 0, w.clone());
            let got = run(&f);
            if ok {
                got.unwrap_or_else(|e| panic!("{kind} {w}: {e}"));
                continue;
            }
            let e = got.expect_err("outside the window");
            let msg = not_valid_at(&e);
            let start = w["start"].as_str().unwrap();
            let end = w.get("end").and_then(Value::as_str).unwrap_or("open");
            let expected =
                format!("no {name} in the trusted root is valid at {t_text}: windows seen: ");
            assert!(msg.contains(&expected), "{kind} {w}: {msg}");
            assert!(
                msg.contains(&format!("[{start}, {end}]")),
                "{kind} {w}: {msg}"
            );
        }
    }

    // The CT log, at the SCT's timestamp.
    let sct = SIGNING_TIME - 5;
    let sct_text = "2025-12-31T23:59:55.001Z";
    for (w, ok) in [
        (json!({"start": sct_text}), true),
        (json!({"start": at(sct - 100), "end": sct_text}), true),
        (json!({"start": "2025-12-31T23:59:55.002Z"}), false),
        (json!({"start": at(sct - 100), "end": at(sct)}), false),
    ] {
        let mut f = build(&Knobs::default());
        set_window(&mut f, "ctlogs", 0, w.clone());
        match run(&f) {
            Ok(_) => assert!(ok, "ctlogs {w} verified"),
            Err(e) => {
                assert!(!ok, "ctlogs {w}: {e}");
                let msg = not_valid_at(&e);
                assert!(
                    msg.contains(&format!(
                        "no CT log in the trusted root is valid at {sct_text}: windows seen: "
                    )),
                    "{msg}"
                );
            }
        }
    }
}

/// A self-signed CA with the fixture intermediate's name and a new key: the "new CA" of a
/// rotation, listed next to the old one.
fn new_ca_entry(valid_for: Value) -> Value {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::default();
    p.distinguished_name
        .push(DnType::OrganizationName, "signet-test");
    p.distinguished_name
        .push(DnType::CommonName, "signet-test-intermediate");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = rcgen::date_time_ymd(2025, 1, 1);
    p.not_after = rcgen::date_time_ymd(2035, 1, 1);
    let cert = p.self_signed(&key).unwrap();
    json!({
        "subject": {"organization": "signet-test", "commonName": "signet-test-new"},
        "uri": "http://127.0.0.1:5556",
        "certChain": {"certificates": [{"rawBytes": b64(cert.der())}]},
        "validFor": valid_for,
    })
}

/// A CA rotation: the old intermediate's window overlaps the new one's. A leaf the old one
/// issued verifies when signed inside the old window (up to and including its end), and is
/// refused outside it even though the new CA, valid then, is in the trusted root: the new CA
/// did not issue it.
#[test]
fn ca_rotation_with_overlapping_windows() {
    let t = SIGNING_TIME;
    // Inside both windows, and exactly at the old window's end.
    for old_end in [t + 100, t] {
        let mut f = build(&Knobs::default());
        set_window(
            &mut f,
            "certificateAuthorities",
            0,
            window(t - 1000, Some(old_end)),
        );
        f.trusted_root_json["certificateAuthorities"]
            .as_array_mut()
            .unwrap()
            .push(new_ca_entry(window(t - 10, None)));
        let v = run(&f).unwrap_or_else(|e| panic!("old end {old_end}: {e}"));
        assert_eq!(v.ca_index, Some(0));
    }
    // The old window ended a second before the signature; the new CA is valid but did not
    // sign the leaf.
    let mut f = build(&Knobs::default());
    set_window(
        &mut f,
        "certificateAuthorities",
        0,
        window(t - 1000, Some(t - 1)),
    );
    f.trusted_root_json["certificateAuthorities"]
        .as_array_mut()
        .unwrap()
        .push(new_ca_entry(window(t - 10, None)));
    let e = run(&f).expect_err("old CA outside its window");
    let msg = not_valid_at(&e);
    assert!(
        msg.contains(&format!(
            "no certificate authority in the trusted root is valid at {T_TEXT}: windows seen: "
        )) && msg.contains(&format!("[{}, {}]", at(t - 1000), at(t - 1))),
        "{msg}"
    );
    assert!(!msg.contains("signet-test-new"), "{msg}");
}

/// One intermediate listed twice (its window extended by a second listing, or overlapping
/// ones during a rotation): any listing valid at the signing time verifies; none valid is
/// refused naming both windows.
#[test]
fn one_intermediate_listed_under_several_windows() {
    let t = SIGNING_TIME;
    for (first, second, ok, index) in [
        (window(t - 1000, Some(t - 1)), window(t, None), true, 1),
        (
            window(t - 1000, Some(t + 10)),
            window(t - 10, None),
            true,
            0,
        ),
        (window(t - 1000, Some(t - 1)), window(t + 1, None), false, 0),
    ] {
        let mut f = build(&Knobs::default());
        set_window(&mut f, "certificateAuthorities", 0, first);
        list_again(&mut f, "certificateAuthorities", second);
        match run(&f) {
            Ok(v) => {
                assert!(ok);
                assert_eq!(v.ca_index, Some(index));
            }
            Err(e) => {
                assert!(!ok, "{e}");
                let msg = not_valid_at(&e);
                assert!(
                    msg.contains(&format!("[{}, {}]", at(t - 1000), at(t - 1)))
                        && msg.contains(&format!("[{}, open]", at(t + 1))),
                    "{msg}"
                );
            }
        }
    }
}

/// A pre-staged rotation of the log key: a listing whose window starts after the signing time
/// is not used for the signature; once the window has started (the signing time at or after
/// its start), it is.
#[test]
fn pre_staged_log_key() {
    let t = SIGNING_TIME;
    // The log's only listing starts a second after the signature: not used.
    let mut f = build(&Knobs::default());
    set_window(&mut f, "tlogs", 0, window(t + 1, None));
    let msg = not_valid_at(&run(&f).expect_err("window starts later"));
    assert!(
        msg.contains(&format!(
            "no transparency log in the trusted root is valid at {T_TEXT}: windows seen: http://127.0.0.1:3000 [{}, open]",
            at(t + 1)
        )),
        "{msg}"
    );
    // Starting exactly at the signing time: used.
    set_window(&mut f, "tlogs", 0, window(t, None));
    run(&f).unwrap();

    // The key, kept across two shards: the old listing ended before the signature and the
    // staged one starts after it: refused, naming both; once the staged window has started,
    // it verifies.
    let mut f = build(&Knobs::default());
    set_window(&mut f, "tlogs", 0, window(t - 1000, Some(t - 1)));
    list_again(&mut f, "tlogs", window(t + 1, None));
    let msg = not_valid_at(&run(&f).expect_err("between windows"));
    assert!(
        msg.contains(&format!("[{}, {}]", at(t - 1000), at(t - 1)))
            && msg.contains(&format!("[{}, open]", at(t + 1))),
        "{msg}"
    );
    f.trusted_root_json["tlogs"][1]["publicKey"]["validFor"] = window(t, None);
    run(&f).unwrap();

    // A staged key for a new log (another key) does not stand in for the current one.
    let mut f = build(&Knobs::default());
    let staged_key = signet_proto::keys::EcdsaSigner::generate(
        signet_proto::keys::EcdsaCurve::P256,
        &aws_lc_rs::rand::SystemRandom::new(),
    )
    .unwrap()
    .public_key()
    .clone();
    let mut staged = f.trusted_root_json["tlogs"][0].clone();
    staged["publicKey"]["rawBytes"] = json!(b64(staged_key.spki_der()));
    staged["publicKey"]["validFor"] = window(t + 1, None);
    staged["logId"]["keyId"] = json!(b64(&staged_key.key_id()));
    f.trusted_root_json["tlogs"]
        .as_array_mut()
        .unwrap()
        .push(staged);
    run(&f).expect("the current key verifies with a staged one listed");
}
