//! The RFC 3161 timestamp authority of `signet serve` (`POST /api/v1/timestamp`), judged by
//! other implementations:
//! * OpenSSL: `openssl ts -query` → POST → `openssl ts -reply -text` and `openssl ts -verify`
//!   against the chain published in `trusted_root.json` (`timestampAuthorities`); nonce,
//!   requested policy, `certReq` on and off.
//! * Bad requests (garbage, SHA-1, a digest of the wrong length, extensions, oversized, another
//!   content type, a policy OID that is not DER, BER lengths, SHA-1 in the JSON form) each get
//!   a `TimeStampResp` with status rejection and the right `PKIFailureInfo`, read back by
//!   `openssl ts -reply -text`, with a 4xx and no token; another method than POST is a 405
//!   with `Allow: POST` and a JSON error.
//! * sigstore-python signs against Signet (its trust config lists Signet's TSA): its bundle
//!   carries Signet's timestamp and verifies with sigstore-python and `signet verify-blob`;
//!   `signet sign-blob` adds a timestamp too, and sigstore-python (rfc3161-client) verifies
//!   it.
//!
//! Tests fail when a tool is missing (openssl, node, `sigstore`).

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use serde_json::Value;
use signet_proto::timestamp::authority::{response_status, tlv, tst_info_policy_and_nonce};
use support::{require_tools, run, signet, stack, text, Server};

const EMAIL: &str = "tsa@example.com";

fn read_json(path: &Path) -> Value {
    signet_proto::json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Writes the TSA chain of the published trusted root as `root.pem` (the last certificate)
/// and `chain.pem` (all of them), and checks the signing config lists the TSA.
fn published_chain(server: &Server, dir: &Path) -> (PathBuf, PathBuf) {
    let root = read_json(&server.trusted_root());
    let tsas = root["timestampAuthorities"].as_array().unwrap();
    assert_eq!(tsas.len(), 1, "one TSA in {root}");
    let certs: Vec<Vec<u8>> = tsas[0]["certChain"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            base64::engine::general_purpose::STANDARD
                .decode(c["rawBytes"].as_str().unwrap())
                .unwrap()
        })
        .collect();
    assert_eq!(certs.len(), 2, "leaf and root");
    let pem = |der: &Vec<u8>| pem::encode(&pem::Pem::new("CERTIFICATE", der.clone()));
    let root_pem = dir.join("root.pem");
    let chain_pem = dir.join("chain.pem");
    std::fs::write(&root_pem, pem(&certs[1])).unwrap();
    std::fs::write(&chain_pem, certs.iter().map(pem).collect::<String>()).unwrap();
    let signing = read_json(&server.signing_config());
    assert_eq!(
        signing["tsaUrls"][0]["url"],
        format!("{}/api/v1/timestamp", server.url)
    );
    assert_eq!(signing["tsaUrls"][0]["majorApiVersion"], 1);
    assert_eq!(signing["tsaConfig"]["selector"], "ANY");
    (root_pem, chain_pem)
}

fn post(server: &Server, body: Vec<u8>, content_type: &str) -> (u16, Vec<u8>, String) {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/timestamp", server.url))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, resp.bytes().unwrap().to_vec(), ct)
}

fn openssl(args: &[&str], dir: &Path) -> std::process::Output {
    run(Command::new("openssl").args(args).current_dir(dir))
}

/// `openssl ts -query` with `args`, POSTed; returns the reply path.
fn query_and_post(server: &Server, dir: &Path, name: &str, args: &[&str]) -> (PathBuf, PathBuf) {
    let q = dir.join(format!("{name}.tsq"));
    let r = dir.join(format!("{name}.tsr"));
    let mut all = vec!["ts", "-query", "-data", "artifact", "-out"];
    all.push(q.to_str().unwrap());
    all.extend_from_slice(args);
    let out = openssl(&all, dir);
    assert!(out.status.success(), "openssl ts -query: {}", text(&out));
    let (status, body, ct) = post(
        server,
        std::fs::read(&q).unwrap(),
        "application/timestamp-query",
    );
    assert_eq!(status, 200, "{name}");
    assert_eq!(ct, "application/timestamp-reply");
    std::fs::write(&r, body).unwrap();
    (q, r)
}

fn reply_text(dir: &Path, reply: &Path) -> String {
    let out = openssl(
        &["ts", "-reply", "-in", reply.to_str().unwrap(), "-text"],
        dir,
    );
    assert!(out.status.success(), "openssl ts -reply: {}", text(&out));
    String::from_utf8(out.stdout).unwrap()
}

fn verify(
    dir: &Path,
    q: &Path,
    r: &Path,
    root: &Path,
    chain: Option<&Path>,
) -> std::process::Output {
    let mut args = vec![
        "ts",
        "-verify",
        "-in",
        r.to_str().unwrap(),
        "-queryfile",
        q.to_str().unwrap(),
        "-CAfile",
        root.to_str().unwrap(),
    ];
    if let Some(c) = chain {
        args.extend_from_slice(&["-untrusted", c.to_str().unwrap()]);
    }
    openssl(&args, dir)
}

#[test]
fn openssl_verifies_replies_with_nonce_policy_and_cert_req() {
    require_tools(&["openssl"]);
    let (_oidc, server) = stack();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("artifact"), b"timestamp me\n").unwrap();
    let (root, chain) = published_chain(&server, d);

    // Nonce and certReq: the signing certificate travels in the token; verified against the
    // root alone.
    let (q, r) = query_and_post(&server, d, "cert", &["-sha256", "-cert"]);
    let t = reply_text(d, &r);
    assert!(t.contains("Status: Granted."), "{t}");
    assert!(t.contains("Policy OID: 1.3.6.1.4.1.57264.2"), "{t}");
    assert!(t.contains("Accuracy: 0x01 seconds"), "{t}");
    assert!(t.contains("TSA: DirName:/O=Signet/CN=signet-tsa"), "{t}");
    let nonce_line = t.lines().find(|l| l.starts_with("Nonce: 0x")).unwrap();
    let q_text = String::from_utf8(
        openssl(&["ts", "-query", "-in", q.to_str().unwrap(), "-text"], d).stdout,
    )
    .unwrap();
    assert!(q_text.contains(nonce_line), "nonce echoed: {q_text} / {t}");
    let out = verify(d, &q, &r, &root, None);
    assert!(out.status.success(), "openssl ts -verify: {}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Verification: OK"));
    // The signing certificate is named by ESSCertIDv2 (openssl checks it against the leaf).
    let tok = d.join("cert.tok");
    let out = openssl(
        &[
            "ts",
            "-reply",
            "-in",
            r.to_str().unwrap(),
            "-token_out",
            "-out",
            tok.to_str().unwrap(),
        ],
        d,
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = openssl(
        &[
            "cms",
            "-cmsout",
            "-print",
            "-inform",
            "DER",
            "-in",
            tok.to_str().unwrap(),
        ],
        d,
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("id-smime-aa-signingCertificateV2"),
        "{printed}"
    );

    // Without certReq: no certificate in the token; verifies with the published chain.
    let (q, r) = query_and_post(&server, d, "nocert", &["-sha384", "-no_nonce"]);
    let t = reply_text(d, &r);
    assert!(t.contains("Nonce: unspecified"), "{t}");
    assert!(t.contains("Hash Algorithm: sha384"), "{t}");
    let out = verify(d, &q, &r, &root, None);
    assert!(
        !out.status.success(),
        "no certificate, no untrusted chain: must fail"
    );
    let out = verify(d, &q, &r, &root, Some(&chain));
    assert!(
        out.status.success(),
        "openssl ts -verify -untrusted: {}",
        text(&out)
    );

    // A requested policy is the token's policy.
    let (q, r) = query_and_post(
        &server,
        d,
        "policy",
        &["-sha512", "-cert", "-tspolicy", "1.2.3.4.5"],
    );
    let t = reply_text(d, &r);
    assert!(t.contains("Policy OID: 1.2.3.4.5"), "{t}");
    let out = verify(d, &q, &r, &root, None);
    assert!(out.status.success(), "{}", text(&out));

    // Another root does not verify it.
    let other = tempfile::tempdir().unwrap();
    let out = openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=other",
            "-keyout",
            "k.pem",
            "-out",
            "other.pem",
            "-days",
            "2",
        ],
        other.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = verify(d, &q, &r, &other.path().join("other.pem"), None);
    assert!(!out.status.success(), "verified against an unrelated root");
}

/// A `TimeStampReq` with the given algorithm OID content and digest length.
fn request(alg_oid: &[u8], digest_len: usize, extra: &[u8]) -> Vec<u8> {
    let alg = tlv(0x30, &tlv(0x06, alg_oid));
    let mi = tlv(0x30, &[alg, tlv(0x04, &vec![7; digest_len])].concat());
    tlv(0x30, &[tlv(0x02, &[1]), mi, extra.to_vec()].concat())
}

const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];

/// (name, body, content type, HTTP status, failure bit, openssl's text for the bit)
type Case<'a> = (&'a str, Vec<u8>, &'a str, u16, u8, &'a str);

#[test]
fn bad_requests_get_a_rejection_with_their_failure_info() {
    require_tools(&["openssl"]);
    let (_oidc, server) = stack();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // (name, body, content type, HTTP status, failure bit, openssl's text for the bit)
    let cases: Vec<Case<'_>> = vec![
        (
            "garbage",
            b"not DER at all".to_vec(),
            "application/timestamp-query",
            400,
            5,
            "the data submitted has the wrong format",
        ),
        (
            "truncated",
            request(SHA256, 32, &[])[..20].to_vec(),
            "application/timestamp-query",
            400,
            5,
            "the data submitted has the wrong format",
        ),
        (
            "sha1",
            request(SHA1, 20, &[]),
            "application/timestamp-query",
            400,
            0,
            "unrecognized or unsupported algorithm identifier",
        ),
        (
            "short digest",
            request(SHA256, 20, &[]),
            "application/timestamp-query",
            400,
            5,
            "the data submitted has the wrong format",
        ),
        (
            "extension",
            request(SHA256, 32, &tlv(0xa0, &tlv(0x30, &[]))),
            "application/timestamp-query",
            400,
            16,
            "the requested extension is not supported",
        ),
        (
            "version 2",
            tlv(
                0x30,
                &[tlv(0x02, &[2]), request(SHA256, 32, &[])[4..].to_vec()].concat(),
            ),
            "application/timestamp-query",
            400,
            2,
            "transaction not permitted or supported",
        ),
        (
            "oversized",
            vec![0x30; 100_000],
            "application/timestamp-query",
            413,
            2,
            "transaction not permitted or supported",
        ),
        (
            // timestamp-authority's JSON form is taken (sigstore-js sends it), but this one
            // carries no valid base64 digest.
            "bad json",
            br#"{"artifactHash":"x"}"#.to_vec(),
            "application/json",
            400,
            5,
            "the data submitted has the wrong format",
        ),
        (
            "other media type",
            request(SHA256, 32, &[]),
            "text/plain",
            415,
            5,
            "the data submitted has the wrong format",
        ),
        (
            // A reqPolicy that is not a DER OID (a sub-identifier starting with 0x80, X.690
            // §8.19.2): once granted with the bytes copied into the signed TSTInfo, which
            // `openssl ts -reply -text` could not read.
            "policy 2a 80 01",
            request(SHA256, 32, &[0x06, 0x03, 0x2a, 0x80, 0x01]),
            "application/timestamp-query",
            400,
            5,
            "the data submitted has the wrong format",
        ),
        (
            // BER, not DER: the hashedMessage length as `81 20`.
            "non-minimal length",
            hex("30370201013032300d060960864801650304020105000481205891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"),
            "application/timestamp-query",
            400,
            5,
            "the data submitted has the wrong format",
        ),
        (
            "non-minimal outer length",
            [&[0x30, 0x81][..], &request(SHA256, 32, &[])[1..]].concat(),
            "application/timestamp-query",
            400,
            5,
            "the data submitted has the wrong format",
        ),
        (
            "non-minimal version length",
            tlv(
                0x30,
                &[&[0x02, 0x81, 0x01, 0x01][..], &request(SHA256, 32, &[])[5..]].concat(),
            ),
            "application/timestamp-query",
            400,
            5,
            "the data submitted has the wrong format",
        ),
        (
            // The JSON form answers an unsupported algorithm as the DER form does (badAlg).
            "json sha1",
            format!(
                r#"{{"artifactHash":"{}","hashAlgorithm":"sha1"}}"#,
                base64::engine::general_purpose::STANDARD.encode([7u8; 20])
            )
            .into_bytes(),
            "application/json",
            400,
            0,
            "unrecognized or unsupported algorithm identifier",
        ),
    ];
    for (name, body, ct, want_status, bit, openssl_text) in cases {
        let (status, reply, reply_ct) = post(&server, body, ct);
        assert_eq!(status, want_status, "{name}");
        assert_eq!(reply_ct, "application/timestamp-reply", "{name}");
        assert_eq!(
            response_status(&reply),
            Some((2, vec![bit])),
            "{name}: status rejection with failure bit {bit}"
        );
        assert!(
            signet_proto::timestamp::parse_response(&reply).is_err(),
            "{name}: nothing signed"
        );
        let path = d.join("r.tsr");
        std::fs::write(&path, &reply).unwrap();
        let t = reply_text(d, &path);
        assert!(t.contains("Status: Rejected."), "{name}: {t}");
        assert!(t.contains(openssl_text), "{name}: {t}");
        assert!(t.contains("TST info:\nNot included."), "{name}: {t}");
    }
    // Another method than POST: 405, `Allow: POST`, a JSON error naming POST.
    for method in [reqwest::Method::GET, reqwest::Method::PUT] {
        let resp = reqwest::blocking::Client::new()
            .request(method.clone(), format!("{}/api/v1/timestamp", server.url))
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 405, "{method}");
        assert_eq!(
            resp.headers().get("allow").and_then(|v| v.to_str().ok()),
            Some("POST"),
            "{method}"
        );
        let body: Value = signet_proto::json::from_slice(&resp.bytes().unwrap()).unwrap();
        assert_eq!(body["code"], 405, "{method}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(method.as_str()) && message.contains("POST"),
            "{message}"
        );
    }
    // The server still answers a good request afterwards.
    let (status, reply, _) = post(
        &server,
        request(SHA256, 32, &[]),
        "application/timestamp-query",
    );
    assert_eq!(status, 200);
    let parsed = signet_proto::timestamp::parse_response(&reply).unwrap();
    assert_eq!(
        tst_info_policy_and_nonce(parsed.tst_info).map(|p| p.1),
        Some(None)
    );
}

fn rfc3161_count(bundle: &Path) -> usize {
    read_json(bundle)["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .map_or(0, Vec::len)
}

#[test]
fn sigstore_python_and_signet_bundles_carry_signets_timestamp_and_verify() {
    require_tools(&["sigstore", "openssl"]);
    let (oidc, server) = stack();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = d.join("artifact.txt");
    std::fs::write(&file, b"signed with a timestamp\n").unwrap();
    let token = oidc.token(EMAIL);

    // sigstore-python, configured only by Signet's trust config (which lists the TSA).
    let py = d.join("python.sigstore.json");
    let out = run(Command::new("sigstore")
        .arg("--trust-config")
        .arg(server.trust_config())
        .args(["sign", "--identity-token", &token, "--bundle"])
        .arg(&py)
        .arg(&file));
    assert!(out.status.success(), "sigstore sign: {}", text(&out));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("Unable to use"),
        "sigstore-python could not use the TSA: {}",
        text(&out)
    );
    // signet sign-blob with the signing config.
    let ours = d.join("signet.sigstore.json");
    let out = run(signet()
        .args(["sign-blob", "--identity-token", &token, "--signing-config"])
        .arg(server.signing_config())
        .arg("--bundle")
        .arg(&ours)
        .arg(&file));
    assert!(out.status.success(), "signet sign-blob: {}", text(&out));

    let (root, _) = published_chain(&server, d);
    for bundle in [&py, &ours] {
        assert_eq!(rfc3161_count(bundle), 1, "{}", bundle.display());
        // The timestamp is Signet's: openssl verifies it against the published TSA root.
        let b64 = read_json(bundle)["verificationMaterial"]["timestampVerificationData"]
            ["rfc3161Timestamps"][0]["signedTimestamp"]
            .as_str()
            .unwrap()
            .to_owned();
        let tsr = d.join("bundle.tsr");
        std::fs::write(
            &tsr,
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap();
        let sig = read_json(bundle)["messageSignature"]["signature"]
            .as_str()
            .unwrap()
            .to_owned();
        let sig_path = d.join("sig.bin");
        std::fs::write(
            &sig_path,
            base64::engine::general_purpose::STANDARD
                .decode(sig)
                .unwrap(),
        )
        .unwrap();
        let out = openssl(
            &[
                "ts",
                "-verify",
                "-in",
                tsr.to_str().unwrap(),
                "-data",
                sig_path.to_str().unwrap(),
                "-CAfile",
                root.to_str().unwrap(),
            ],
            d,
        );
        assert!(out.status.success(), "{}: {}", bundle.display(), text(&out));

        let out = run(Command::new("sigstore")
            .arg("--trust-config")
            .arg(server.trust_config())
            .args(["verify", "identity", "--offline", "--bundle"])
            .arg(bundle)
            .args(["--cert-identity", EMAIL, "--cert-oidc-issuer", &oidc.url])
            .arg(&file));
        assert!(
            out.status.success(),
            "sigstore-python refused {}: {}",
            bundle.display(),
            text(&out)
        );
        let out = run(signet()
            .arg("verify-blob")
            .arg("--trusted-root")
            .arg(server.trusted_root())
            .arg("--bundle")
            .arg(bundle)
            .args(["--certificate-identity", EMAIL])
            .args(["--certificate-oidc-issuer", &oidc.url])
            .arg(&file));
        assert!(
            out.status.success(),
            "signet verify-blob refused {}: {}",
            bundle.display(),
            text(&out)
        );
    }

    // Without its SET (inclusion promise), Signet's bundle has the timestamp as its only
    // signing time: both verifiers still accept it, and refuse it once the timestamp is
    // tampered with (the last byte of the TSTInfo flipped: its messageDigest no longer
    // matches).
    let mut v = read_json(&ours);
    v["verificationMaterial"]["tlogEntries"][0]
        .as_object_mut()
        .unwrap()
        .remove("inclusionPromise");
    let unpromised = d.join("no-set.sigstore.json");
    std::fs::write(&unpromised, serde_json::to_vec(&v).unwrap()).unwrap();
    let verify_both = |bundle: &Path| {
        let ours = run(signet()
            .arg("verify-blob")
            .arg("--trusted-root")
            .arg(server.trusted_root())
            .arg("--bundle")
            .arg(bundle)
            .args(["--certificate-identity", EMAIL])
            .args(["--certificate-oidc-issuer", &oidc.url])
            .arg(&file));
        let python = run(Command::new("sigstore")
            .arg("--trust-config")
            .arg(server.trust_config())
            .args(["verify", "identity", "--offline", "--bundle"])
            .arg(bundle)
            .args(["--cert-identity", EMAIL, "--cert-oidc-issuer", &oidc.url])
            .arg(&file));
        (ours, python)
    };
    let (o, p) = verify_both(&unpromised);
    assert!(o.status.success(), "signet, timestamp only: {}", text(&o));
    assert!(
        p.status.success(),
        "sigstore-python, timestamp only: {}",
        text(&p)
    );
    let ts = &mut v["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
        ["signedTimestamp"];
    let mut der = base64::engine::general_purpose::STANDARD
        .decode(ts.as_str().unwrap())
        .unwrap();
    let tst = signet_proto::timestamp::parse_response(&der)
        .unwrap()
        .tst_info
        .to_vec();
    let at = der
        .windows(tst.len())
        .position(|w| w == tst.as_slice())
        .unwrap()
        + tst.len()
        - 1;
    der[at] ^= 1;
    *ts = Value::String(base64::engine::general_purpose::STANDARD.encode(&der));
    let bad = d.join("tampered.sigstore.json");
    std::fs::write(&bad, serde_json::to_vec(&v).unwrap()).unwrap();
    let (o, p) = verify_both(&bad);
    assert!(!o.status.success(), "tampered timestamp accepted by signet");
    assert!(
        !p.status.success(),
        "tampered timestamp accepted by sigstore-python"
    );
}
