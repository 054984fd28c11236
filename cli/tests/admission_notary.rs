//! The admission webhook and Notary Project signatures end to end, against a local registry:
//!
//! * RFC 3161 countersigned signatures (`verifyTimestamp`, `tsa:` stores) and offline CRLs
//!   (`.crl` files in the trust store's `crl/`): admitted or denied, the reason naming the
//!   cause;
//! * a Kyverno `type: Notary` ClusterPolicy (Kyverno's documented shape) served as the
//!   webhook's policy;
//! * `signature_formats = "either"` admitting on the Notary signature alone, and naming both
//!   causes when neither verifies.
//!
//! The image is notation's e2e test image (`testdata/notary/oci-layout/`). The CRL and
//! timestamp envelopes are signed here with notation's CRL test chain (`testdata/notary/crl/`)
//! and countersigned by an `openssl ts` authority: notation's published countersigned
//! envelopes name a manifest that is not published (testdata/notary/README.md).
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use serde_json::Value;
use support::admission::{admitted, denied, testdata, validate, Webhook};
use support::notary::{jws_signature, sign_jws, with_timestamp, OpensslTsa, Target};
use support::push::Pusher;
use support::{require_tools, run, signet, text, Spawned, TestRegistry};

const IMAGE: Target<'static> = Target {
    digest: "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9",
    media_type: "application/vnd.oci.image.manifest.v1+json",
    size: 517,
};
const E2E_SIGNER: &str = "C=US, ST=WA, L=Seattle, O=Notary, CN=e2e";
/// notation's signature manifest in the e2e layout (the template for attached envelopes).
const SIG_MANIFEST: &str = "90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f";

fn layout() -> std::path::PathBuf {
    testdata("notary/oci-layout/e2e-valid-signature")
}

/// notation's e2e image in `repo` with `envelope` as its only Notary signature.
fn push_signed(pusher: &Pusher, repo: &str, envelope: &[u8]) {
    pusher.layout(repo, &layout());
    let template = std::fs::read(layout().join("blobs/sha256").join(SIG_MANIFEST)).unwrap();
    pusher.attach_notary(repo, IMAGE.digest, &template, envelope, None);
}

/// A notation trust store directory `dir` with `certs` as `(store type/name, file)` and
/// `crls` copied into `crl/`.
fn trust_store(dir: &Path, certs: &[(&str, &Path)], crls: &[&str]) {
    for (store, file) in certs {
        let d = dir.join("x509").join(store);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(file, d.join(file.file_name().unwrap())).unwrap();
    }
    if !crls.is_empty() {
        std::fs::create_dir_all(dir.join("crl")).unwrap();
        for c in crls {
            std::fs::copy(
                testdata(&format!("notary/crl/{c}")),
                dir.join("crl").join(c),
            )
            .unwrap();
        }
    }
}

fn webhook(policy: &Path) -> Spawned {
    let out = run(signet()
        .args(["admission", "--check", "--policy"])
        .arg(policy));
    assert!(out.status.success(), "{}", text(&out));
    Webhook::new(policy)
        .insecure_http()
        // Sigstore's public trust root: only the `either` rule reads it, and no Sigstore
        // bundle is attached to any image here.
        .trusted_root(testdata("sigstore/public/trusted_root.json"))
        .start()
}

/// Countersigned signatures and CRLs decide admission as `notation verify` would, each
/// denial naming its cause; and `either` admits on the Notary signature alone.
#[test]
fn notary_countersignatures_and_crls_decide_admission() {
    require_tools(&["docker-registry", "umoci", "skopeo", "openssl"]);
    let reg = TestRegistry::start();
    let r = &reg.addr;
    let pusher = Pusher::new(&reg);
    let tmp = tempfile::tempdir().unwrap();
    let key = std::fs::read(testdata("notary/crl/leaf.key")).unwrap();
    let chain = std::fs::read(testdata("notary/crl/certchain_with_crl.pem")).unwrap();
    let envelope = sign_jws(&key, &chain, &IMAGE);
    let tsa = OpensslTsa::new(&tmp.path().join("tsa"), "Signet Test TSA");
    let other_tsa = OpensslTsa::new(&tmp.path().join("tsa2"), "Other TSA");
    let signature = jws_signature(&envelope);
    let timestamped = with_timestamp(&envelope, &tsa.timestamp(&signature));

    for repo in ["crl/ok", "crl/revoked", "crl/ca-revoked", "crl/none"] {
        push_signed(&pusher, repo, &envelope);
    }
    push_signed(&pusher, "ts/ok", &timestamped);
    push_signed(&pusher, "ts/missing", &envelope);
    push_signed(
        &pusher,
        "ts/untrusted",
        &with_timestamp(&envelope, &other_tsa.timestamp(&signature)),
    );
    // A genuine token, over another signature value.
    push_signed(
        &pusher,
        "ts/other",
        &with_timestamp(&envelope, &tsa.timestamp(b"another signature")),
    );
    pusher.layout("e/notary", &layout());
    reg.push_image("e/none", "v1", "e/none, signed by nobody");

    // One trust store per CRL case; the root of notation's CRL chain is the `ca` store.
    let root = testdata("notary/crl/root.crt");
    let stores = tmp.path().join("stores");
    for (name, crls) in [
        ("ok", &["leaf.crl", "intermediate.crl"][..]),
        ("revoked", &["leaf_revoked.crl", "intermediate.crl"][..]),
        ("ca-revoked", &["leaf.crl", "intermediate_revoked.crl"][..]),
        ("none", &[][..]),
    ] {
        trust_store(&stores.join(name), &[("ca/crl", &root)], crls);
    }
    trust_store(
        &stores.join("ts"),
        &[("ca/crl", &root), ("tsa/test", &tsa.root)],
        &["leaf.crl", "intermediate.crl"],
    );
    trust_store(
        &stores.join("e2e"),
        &[("ca/e2e", &testdata("notary/truststore/x509/ca/e2e/e2e.crt"))],
        &[],
    );
    let policies = tmp.path().join("policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(
        policies.join("crl.json"),
        r#"{"version":"1.0","trustPolicies":[{"name":"crl","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:crl"],"trustedIdentities":["*"]}]}"#,
    )
    .unwrap();
    std::fs::write(
        policies.join("ts.json"),
        r#"{"version":"1.0","trustPolicies":[{"name":"timestamped","registryScopes":["*"],"signatureVerification":{"level":"strict","verifyTimestamp":"always"},"trustStores":["ca:crl","tsa:test"],"trustedIdentities":["*"]}]}"#,
    )
    .unwrap();
    std::fs::copy(
        testdata("notary/trustpolicy/trustpolicy.json"),
        policies.join("e2e.json"),
    )
    .unwrap();

    let mut toml = String::new();
    for case in ["ok", "revoked", "ca-revoked", "none"] {
        toml.push_str(&format!(
            "[[rule]]\nimages = [\"{r}/crl/{case}\"]\nsignature_formats = \"notary\"\nnotation_trust_policy = \"policies/crl.json\"\nnotation_trust_store = \"stores/{case}\"\n\n"
        ));
    }
    toml.push_str(&format!(
        "[[rule]]\nimages = [\"{r}/ts/*\"]\nsignature_formats = \"notary\"\nnotation_trust_policy = \"policies/ts.json\"\nnotation_trust_store = \"stores/ts\"\n\n\
         [[rule]]\nimages = [\"{r}/e/*\"]\nsignature_formats = \"either\"\nidentity = \"alice@example.com\"\nissuer = \"https://issuer.example\"\nnotation_trust_policy = \"policies/e2e.json\"\nnotation_trust_store = \"stores/e2e\"\n"
    ));
    let policy = tmp.path().join("admission.toml");
    std::fs::write(&policy, toml).unwrap();
    let hook = webhook(&policy);

    // CRLs: a current CRL that does not list the chain admits.
    let note = admitted(&hook.url, &format!("{r}/crl/ok:v1"));
    assert!(
        note.contains("Notary Project signer")
            && note.contains("CN=LeafCert")
            && note.contains("trust store ca:crl"),
        "{note}"
    );
    let m = denied(&hook.url, &format!("{r}/crl/revoked:v1"));
    assert!(
        m.contains("notary-revocation")
            && m.contains("CN=LeafCert")
            && m.contains("is revoked by its issuer's CRL"),
        "{m}"
    );
    let m = denied(&hook.url, &format!("{r}/crl/ca-revoked:v1"));
    assert!(
        m.contains("notary-revocation")
            && m.contains("Intermediate")
            && m.contains("is revoked by its issuer's CRL"),
        "{m}"
    );
    let m = denied(&hook.url, &format!("{r}/crl/none:v1"));
    assert!(
        m.contains("notary-revocation")
            && m.contains("revocation status of")
            && m.contains("is unavailable")
            && m.contains("crl/ directory"),
        "{m}"
    );

    // Countersignatures: a token of the trusted TSA over this signature admits, and the note
    // says the timestamp was verified.
    let note = admitted(&hook.url, &format!("{r}/ts/ok:v1"));
    assert!(
        note.contains("notation trust policy \"timestamped\"")
            && note.contains("RFC 3161 timestamp")
            && note.contains("verified"),
        "{note}"
    );
    let m = denied(&hook.url, &format!("{r}/ts/missing:v1"));
    assert!(
        m.contains("notary-authentic-timestamp")
            && m.contains("carries no io.cncf.notary.timestampSignature"),
        "{m}"
    );
    let m = denied(&hook.url, &format!("{r}/ts/untrusted:v1"));
    assert!(
        m.contains("notary-authentic-timestamp")
            && m.contains("Other TSA")
            && m.contains("leads to no certificate of the trust stores tsa:test"),
        "{m}"
    );
    let m = denied(&hook.url, &format!("{r}/ts/other:v1"));
    assert!(
        m.contains("notary-authentic-timestamp")
            && m.contains("message imprint is not the hash of this signature"),
        "{m}"
    );

    // either: the Notary signature alone admits (no Sigstore bundle is attached); with
    // neither, both causes are named.
    let note = admitted(&hook.url, &format!("{r}/e/notary:v1"));
    assert!(
        note.contains(&format!("Notary Project signer \"{E2E_SIGNER}\"")),
        "{note}"
    );
    let m = denied(&hook.url, &format!("{r}/e/none:v1"));
    assert!(
        m.contains("requires a Sigstore or a Notary Project signature, and neither verifies")
            && m.contains("Sigstore: no Sigstore bundles are attached")
            && m.contains("Notary Project: no Notary Project signature is attached"),
        "{m}"
    );
}

/// Kyverno's documented `type: Notary` ClusterPolicy, with its image pattern and certificate
/// replaced by the local registry's and notation's e2e certificate, is the webhook's policy:
/// the notation-signed image is admitted, an unsigned one and a tampered signature denied.
#[test]
fn kyverno_notary_policy_is_enforced() {
    require_tools(&["docker-registry", "umoci", "skopeo"]);
    let reg = TestRegistry::start();
    let r = &reg.addr;
    let pusher = Pusher::new(&reg);
    pusher.layout("k/signed", &layout());
    let genuine = std::fs::read(
        layout()
            .join("blobs/sha256")
            .join("c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50"),
    )
    .unwrap();
    push_signed(
        &pusher,
        "k/tampered",
        &support::push::tamper_jws_signature(&genuine),
    );
    reg.push_image("k/unsigned", "v1", "k/unsigned, not signed by notation");
    reg.push_image("other/unsigned", "v1", "matched by no rule");

    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(testdata(
            "admission-migration/kyverno-notary-check-image.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let v = &mut doc["spec"]["rules"][0]["verifyImages"][0];
    assert_eq!(v["type"], "Notary");
    v["imageReferences"][0] = format!("{r}/k/*").into();
    v["attestors"][0]["entries"][0]["certificates"]["cert"] =
        std::fs::read_to_string(testdata("notary/truststore/x509/ca/e2e/e2e.crt"))
            .unwrap()
            .into();
    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("kyverno.json");
    std::fs::write(&policy, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let hook = webhook(&policy);

    let note = admitted(&hook.url, &format!("{r}/k/signed:v1"));
    assert!(
        note.contains(&format!("Notary Project signer \"{E2E_SIGNER}\""))
            && note.contains("notation trust policy \"kyverno\"")
            && note.contains("trust store ca:kyverno"),
        "{note}"
    );
    let m = denied(&hook.url, &format!("{r}/k/unsigned:v1"));
    assert!(m.contains("no Notary Project signature is attached"), "{m}");
    let m = denied(&hook.url, &format!("{r}/k/tampered:v1"));
    assert!(
        m.contains("notary-integrity") && m.contains("does not verify"),
        "{m}"
    );
    // Kyverno admits what its rules do not match; so does the converted policy.
    let resp = validate(&hook.url, "n", &format!("{r}/other/unsigned:v1"));
    assert_eq!(resp["allowed"], true, "{resp}");
}
