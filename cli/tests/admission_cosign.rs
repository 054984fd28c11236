//! An attestation rule of the admission webhook on a cosign `.att` tag, end to end.
//!
//! No public fixture has both an `.att` layer and its log entry, so this one is made with
//! Signet's own CA and log: `signet attest` signs an in-toto SLSA provenance statement about an
//! image (keyless, a token from a mock OIDC issuer) and writes the bundle; the test turns the
//! bundle into the layer cosign's `attest` pushes (the DSSE envelope as the layer, media type
//! `application/vnd.dsse.envelope.v1+json`, with the certificate, chain, Rekor bundle, RFC
//! 3161 timestamp and `predicateType` annotations and an empty signature annotation) under the
//! tag `sha256-<hex>.att` of a docker-registry, next to an image signed with `signet sign`.
//!
//! `signet verify-attestation` (JSON, and text naming what was verified on stdout) and
//! `signet admission` (a rule with `attestations =
//! ["slsaprovenance1"]`) accept it; tampered copies are refused, each with its own message: the
//! layer copied to another image (the statement names another digest), a `predicateType`
//! annotation that disagrees with the signed statement, a signature annotation that is not the
//! envelope's, a Rekor bundle annotation of another entry (the image signature's hashedrekord),
//! and a rule asking for another predicate type.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use serde_json::{json, Value};
use support::admission::{validate, Webhook};
use support::push::{build_sig_manifest, Pusher, OCI_MANIFEST};
use support::{json_out, require_tools, run, signet, stack, text, TestRegistry};

const IDENTITY: &str = "builder@example.com";
const SLSA: &str = "https://slsa.dev/provenance/v1";
const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(s: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s.as_str().unwrap())
        .unwrap()
}

fn pem(der: &[u8]) -> String {
    let body = b64(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// A small image (config only) pushed as `repo:v1`; the same `content` gives the same digest
/// in every repository.
fn push_image(p: &Pusher, repo: &str, content: &str) -> String {
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Labels": {"content": content}},
        "rootfs": {"type": "layers", "diff_ids": []},
    }))
    .unwrap();
    let cd = p.blob(repo, &config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "size": config.len(), "digest": cd},
        "layers": [],
    }))
    .unwrap();
    p.manifest(repo, "v1", &manifest)
}

/// cosign's Rekor bundle annotation for a bundle's first log entry.
fn rekor_annotation(bundle: &Value) -> String {
    let e = &bundle["verificationMaterial"]["tlogEntries"][0];
    json!({
        "SignedEntryTimestamp": e["inclusionPromise"]["signedEntryTimestamp"],
        "Payload": {
            "body": e["canonicalizedBody"],
            "integratedTime": e["integratedTime"].as_str().unwrap().parse::<i64>().unwrap(),
            "logIndex": e["logIndex"].as_str().unwrap().parse::<i64>().unwrap(),
            "logID": hex::encode(unb64(&e["logId"]["keyId"])),
        }
    })
    .to_string()
}

/// The `.att` layer cosign pushes for an attestation bundle: (media type, the DSSE envelope
/// JSON, annotations). `chain` is the CA chain (intermediate, root) as PEM.
fn att_layer(bundle: &Value, chain: &str) -> (String, Vec<u8>, BTreeMap<String, String>) {
    let env = &bundle["dsseEnvelope"];
    let envelope = serde_json::to_vec(&json!({
        "payloadType": env["payloadType"],
        "payload": env["payload"],
        "signatures": [{"keyid": "", "sig": env["signatures"][0]["sig"]}],
    }))
    .unwrap();
    let statement: Value = signet_proto::json::from_slice(&unb64(&env["payload"])).unwrap();
    let cert = unb64(&bundle["verificationMaterial"]["certificate"]["rawBytes"]);
    let mut annotations = BTreeMap::from([
        (
            "dev.cosignproject.cosign/signature".to_owned(),
            String::new(),
        ),
        ("dev.sigstore.cosign/certificate".to_owned(), pem(&cert)),
        ("dev.sigstore.cosign/chain".to_owned(), chain.to_owned()),
        (
            "dev.sigstore.cosign/bundle".to_owned(),
            rekor_annotation(bundle),
        ),
        (
            "predicateType".to_owned(),
            statement["predicateType"].as_str().unwrap().to_owned(),
        ),
    ]);
    let ts = &bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"];
    if let Some(t) = ts.get(0) {
        annotations.insert(
            "dev.sigstore.cosign/rfc3161timestamp".to_owned(),
            json!({"SignedRFC3161Timestamp": t["signedTimestamp"]}).to_string(),
        );
    }
    (DSSE_MEDIA_TYPE.to_owned(), envelope, annotations)
}

/// Pushes `layer` as the `.att` tag of `digest` in `repo`.
fn push_att(
    p: &Pusher,
    repo: &str,
    digest: &str,
    layer: (String, Vec<u8>, BTreeMap<String, String>),
) {
    let m = build_sig_manifest(p, repo, &[layer]);
    p.manifest(repo, &format!("{}.att", digest.replace(':', "-")), &m);
}

/// The CA chain of a trusted root (its first CA), as cosign's chain annotation holds it.
fn chain_pem(trusted_root: &Path) -> String {
    let root: Value =
        signet_proto::json::from_slice(&std::fs::read(trusted_root).unwrap()).unwrap();
    root["certificateAuthorities"][0]["certChain"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| pem(&unb64(&c["rawBytes"])))
        .collect()
}

#[test]
fn attestation_rule_on_a_cosign_att_tag() {
    require_tools(&["docker-registry"]);
    let (oidc, server) = stack();
    let reg = TestRegistry::start();
    let r = reg.addr.clone();
    let p = Pusher::new(&reg);
    let tmp = tempfile::tempdir().unwrap();
    let token = oidc.token(IDENTITY);

    // The image (same digest in every repository but `copied`).
    let repos = ["app", "mismatch", "badsig", "otherentry", "wrongtype"];
    let mut digest = String::new();
    for repo in repos.iter().chain(&["staging"]) {
        digest = push_image(&p, repo, "the image");
    }
    let other = push_image(&p, "copied", "another image");
    // The attestation, made on `staging` (its bundle referrer stays there).
    let predicate = tmp.path().join("provenance.json");
    std::fs::write(
        &predicate,
        br#"{"buildDefinition":{"buildType":"https://example.com/build/v1","externalParameters":{}},"runDetails":{"builder":{"id":"https://example.com/builder"}}}"#,
    )
    .unwrap();
    let att_bundle = tmp.path().join("att.json");
    let out = run(signet()
        .arg("attest")
        .arg("--signing-config")
        .arg(server.signing_config())
        .args([
            "--identity-token",
            &token,
            "--type",
            "slsaprovenance1",
            "--predicate",
        ])
        .arg(&predicate)
        .arg("--bundle")
        .arg(&att_bundle)
        .args(["--output", "json", &format!("{r}/staging@{digest}")]));
    assert!(out.status.success(), "{}", text(&out));
    let attested = json_out(&out);
    let bundle: Value =
        signet_proto::json::from_slice(&std::fs::read(&att_bundle).unwrap()).unwrap();
    assert_eq!(
        bundle["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"], "dsse",
        "{bundle}"
    );
    // The signatures, made after the attestation: the image signature's log entry is
    // inside the attestation certificate's validity (for the `otherentry` case).
    let sig_bundle = tmp.path().join("sig.json");
    for repo in repos.iter().chain(&["copied"]) {
        let mut cmd = signet();
        cmd.arg("sign")
            .arg("--signing-config")
            .arg(server.signing_config())
            .args(["--identity-token", &token, "--output", "json"]);
        if *repo == "app" {
            cmd.arg("--bundle").arg(&sig_bundle);
        }
        let out = run(cmd.arg(format!("{r}/{repo}:v1")));
        assert!(out.status.success(), "{}", text(&out));
    }

    let chain = chain_pem(&server.trusted_root());
    let layer = att_layer(&bundle, &chain);
    assert!(
        layer.2.contains_key("dev.sigstore.cosign/rfc3161timestamp"),
        "serve's TSA timestamps the attestation"
    );

    // The .att tags: the good one, and tampered copies.
    push_att(&p, "app", &digest, layer.clone());
    push_att(&p, "wrongtype", &digest, layer.clone());
    push_att(&p, "copied", &other, layer.clone());
    let mut mismatch = layer.clone();
    mismatch.2.insert(
        "predicateType".to_owned(),
        "https://spdx.dev/Document".to_owned(),
    );
    // (the annotation claims SPDX; the signed statement is SLSA provenance)
    push_att(&p, "mismatch", &digest, mismatch);
    let mut badsig = layer.clone();
    badsig.2.insert(
        "dev.cosignproject.cosign/signature".to_owned(),
        b64(b"not the envelope's signature"),
    );
    push_att(&p, "badsig", &digest, badsig);
    let sig: Value = signet_proto::json::from_slice(&std::fs::read(&sig_bundle).unwrap()).unwrap();
    let mut otherentry = layer.clone();
    otherentry.2.insert(
        "dev.sigstore.cosign/bundle".to_owned(),
        rekor_annotation(&sig),
    );
    push_att(&p, "otherentry", &digest, otherentry);

    // verify-attestation: the good one, with what was verified.
    let verify_att = |image: &str, t: &str| {
        let out = run(signet()
            .args(["verify-attestation", "--type", t, "--trusted-root"])
            .arg(server.trusted_root())
            .args([
                "--certificate-identity",
                IDENTITY,
                "--certificate-oidc-issuer",
                &oidc.url,
                "--output",
                "json",
                image,
            ]));
        let v = json_out(&out);
        assert_eq!(out.status.success(), v["ok"] == true, "{}", text(&out));
        v
    };
    let v = verify_att(&format!("{r}/app@{digest}"), "slsaprovenance1");
    assert_eq!(v["ok"], true, "{v}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        1,
        "only the .att layer is attached to app: {v}"
    );
    let res = &results[0];
    assert_eq!(res["format"], "cosign-att", "{v}");
    assert_eq!(res["identity"], IDENTITY);
    assert_eq!(res["issuer"], oidc.url.as_str());
    assert_eq!(res["logIndex"], attested["logIndex"]);
    assert_eq!(res["statement"]["predicateType"], SLSA);
    assert_eq!(
        res["statement"]["subject"][0]["digest"]["sha256"],
        digest.trim_start_matches("sha256:")
    );

    // Without --output json: what was verified, on stdout.
    let out = run(signet()
        .args([
            "verify-attestation",
            "--type",
            "slsaprovenance1",
            "--trusted-root",
        ])
        .arg(server.trusted_root())
        .args([
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            &oidc.url,
        ])
        .arg(format!("{r}/app@{digest}")));
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for want in [
        format!("Verified {r}/app@{digest}\n"),
        "  format:     cosign-att\n".to_owned(),
        format!("  signer:     {IDENTITY}\n"),
        format!("  issuer:     {}\n", oidc.url),
        format!("  log index:  {}\n", attested["logIndex"]),
        "  signed at:  20".to_owned(),
    ] {
        assert!(stdout.contains(&want), "want {want:?}: {}", text(&out));
    }

    // verify-attestation refuses each tampered copy with its own check and message.
    let cases: [(&str, &str, &str, &str); 4] = [
        (
            "copied",
            "slsaprovenance1",
            "signature",
            "no in-toto subject has sha256 digest",
        ),
        (
            "mismatch",
            "slsaprovenance1",
            "annotation",
            "annotation predicateType disagrees with the statement's predicateType (https://slsa.dev/provenance/v1)",
        ),
        (
            "badsig",
            "slsaprovenance1",
            "annotation",
            "annotation dev.cosignproject.cosign/signature disagrees with the DSSE envelope's signature",
        ),
        ("otherentry", "slsaprovenance1", "tlog", "hashedrekord"),
    ];
    for (repo, t, check, message) in cases {
        let d = if repo == "copied" { &other } else { &digest };
        let v = verify_att(&format!("{r}/{repo}@{d}"), t);
        assert_eq!(v["ok"], false, "{repo}: {v}");
        let res = &v["results"][0];
        assert_eq!(res["format"], "cosign-att", "{repo}: {v}");
        assert_eq!(res["check"], check, "{repo}: {v}");
        assert!(
            res["error"].as_str().unwrap().contains(message),
            "{repo}: want {message:?}: {v}"
        );
    }
    // The annotation's claim (SPDX) is verified too, and refused for the same reason.
    let v = verify_att(&format!("{r}/mismatch@{digest}"), "spdx");
    assert_eq!(v["results"][0]["check"], "annotation", "{v}");
    // Another predicate type than the one attested: none found.
    let v = verify_att(&format!("{r}/wrongtype@{digest}"), "spdx");
    assert_eq!(v["check"], "none-found", "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("no attestations of type https://spdx.dev/Document found"),
        "{v}"
    );

    // The admission webhook, one rule requiring SLSA provenance, one requiring SPDX.
    let policy = tmp.path().join("admission.toml");
    std::fs::write(
        &policy,
        format!(
            "[[rule]]\nimages = [\"{r}/app\", \"{r}/copied\", \"{r}/mismatch\", \"{r}/badsig\", \"{r}/otherentry\"]\n\
             identity = \"{IDENTITY}\"\nissuer = \"{}\"\nattestations = [\"slsaprovenance1\"]\n\n\
             [[rule]]\nimages = [\"{r}/wrongtype\"]\nidentity = \"{IDENTITY}\"\nissuer = \"{}\"\n\
             attestations = [\"spdx\"]\n",
            oidc.url, oidc.url
        ),
    )
    .unwrap();
    let webhook = Webhook::new(&policy)
        .insecure_http()
        .no_cache()
        .trusted_root(server.trusted_root())
        .start();
    let review = |uid: &str, image: &str| -> Value {
        let resp = validate(&webhook.url, uid, image);
        assert_eq!(resp["uid"], uid, "{resp}");
        resp
    };
    let resp = review("app", &format!("{r}/app:v1"));
    assert_eq!(resp["allowed"], true, "{resp}");
    let denials = [
        ("copied", "no in-toto subject has sha256 digest".to_owned()),
        (
            "mismatch",
            "annotation predicateType disagrees with the statement's predicateType".to_owned(),
        ),
        (
            "badsig",
            "disagrees with the DSSE envelope's signature".to_owned(),
        ),
        ("otherentry", "hashedrekord".to_owned()),
        (
            "wrongtype",
            format!(
                "({digest}): no verified attestation of type https://spdx.dev/Document (rule 2"
            ),
        ),
    ];
    for (repo, want) in denials {
        let resp = review(repo, &format!("{r}/{repo}:v1"));
        assert_eq!(resp["allowed"], false, "{repo}: {resp}");
        let message = resp["status"]["message"].as_str().unwrap();
        assert!(message.contains(&want), "{repo}: want {want:?}: {resp}");
        assert!(
            message.contains("no verified attestation of type"),
            "{repo}: {resp}"
        );
    }
}
