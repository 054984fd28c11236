//! Rotation of the timestamp authority's key and of the CT log's key (issue 19), and the TSA's
//! key and chain from the configuration (issue 20), judged by other implementations:
//!
//! * `signet tsa rotate` and `signet ct rotate` on a running deployment's data directory, then
//!   a restart: bundles signed before (by `signet sign-blob` and by sigstore-python) and after
//!   both verify with `signet verify-blob` and with sigstore-python against the published
//!   trusted root, which lists both generations of each key with overlapping windows; the
//!   bundles' timestamps verify with `openssl ts -verify` against their own generation's root
//!   only, and their SCTs name their own generation's CT log ID (`openssl x509 -text`). A
//!   timestamp made with the old TSA key inside its window verifies; one dated after its
//!   window is refused by both verifiers. Rotating a directory that is no data directory is
//!   refused and writes nothing.
//! * `[tsa] key` and `chain` with an encrypted PKCS#8 key file (made by OpenSSL) and with a key
//!   in SoftHSM2 (a PKCS#11 URI), each certified by an OpenSSL-made chain: `openssl ts -verify`
//!   accepts the replies against that chain. A chain whose leaf lacks the timeStamping EKU, and
//!   a PKCS#11 key the chain does not certify, stop `serve` with an error naming the fix,
//!   before the data directory is created.
//!
//! Tests fail when a tool is missing (sigstore, openssl, node, softhsm2).

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::Value;
use support::softhsm::MODULE;
use support::tuf_serve::TufServe as Serve;
use support::{require_tools, run, signet, text, Oidc};

const EMAIL: &str = "rotation@example.com";

fn read_json(path: &Path) -> Value {
    signet_proto::json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn sigstore(home: &Path) -> Command {
    let mut cmd = Command::new("sigstore");
    cmd.env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("HOME", home);
    cmd
}

/// `signet sign-blob FILE` with the served signing config; the bundle path.
fn signet_sign(s: &Serve, oidc: &Oidc, file: &Path) -> PathBuf {
    let bundle = file.with_extension("signet.sigstore.json");
    let out = run(signet()
        .args(["sign-blob", "--identity-token", &oidc.token(EMAIL)])
        .arg("--signing-config")
        .arg(s.data().join("signing_config.json"))
        .arg("--bundle")
        .arg(&bundle)
        .arg(file));
    assert!(out.status.success(), "signet sign-blob: {}", text(&out));
    bundle
}

/// sigstore-python signs FILE with the served trust config, into the Rekor v2 log (so the
/// bundle's only signing time is the TSA's); the bundle path.
fn python_sign(s: &Serve, oidc: &Oidc, home: &Path, file: &Path) -> PathBuf {
    let bundle = file.with_extension("python.sigstore.json");
    let out = run(sigstore(home)
        .arg("--trust-config")
        .arg(s.data().join("trust_config.json"))
        .args([
            "sign",
            "--rekor-version",
            "2",
            "--identity-token",
            &oidc.token(EMAIL),
        ])
        .arg("--bundle")
        .arg(&bundle)
        .arg(file));
    assert!(out.status.success(), "sigstore sign: {}", text(&out));
    bundle
}

/// `signet verify-blob` against the served trusted root: (accepted, output).
fn signet_verify(s: &Serve, oidc: &Oidc, file: &Path, bundle: &Path) -> (bool, String) {
    let root = s.dir.join("trusted_root.json");
    std::fs::write(&root, serde_json::to_vec(&s.trusted_root()).unwrap()).unwrap();
    let out = run(signet()
        .env_remove("SIGNET_TRUSTED_ROOT")
        .arg("verify-blob")
        .arg(file)
        .arg("--bundle")
        .arg(bundle)
        .arg("--trusted-root")
        .arg(&root)
        .args([
            "--certificate-identity",
            EMAIL,
            "--certificate-oidc-issuer",
            &oidc.url,
        ]));
    (out.status.success(), text(&out))
}

/// sigstore-python verifies offline with the served trust config: (accepted, output).
fn python_verify(
    s: &Serve,
    oidc: &Oidc,
    home: &Path,
    file: &Path,
    bundle: &Path,
) -> (bool, String) {
    let out = run(sigstore(home)
        .arg("--trust-config")
        .arg(s.data().join("trust_config.json"))
        .args(["--verbose", "verify", "identity", "--offline", "--bundle"])
        .arg(bundle)
        .args(["--cert-identity", EMAIL, "--cert-oidc-issuer", &oidc.url])
        .arg(file));
    (out.status.success(), text(&out))
}

fn pem_certs(ders: &[Vec<u8>]) -> String {
    ders.iter()
        .map(|d| pem::encode(&pem::Pem::new("CERTIFICATE", d.clone())))
        .collect()
}

/// The certificates (DER) of a `timestampAuthorities[]` item.
fn tsa_chain(tsa: &Value) -> Vec<Vec<u8>> {
    tsa["certChain"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| B64.decode(c["rawBytes"].as_str().unwrap()).unwrap())
        .collect()
}

/// `openssl ts -verify` of the bundle's timestamp over its signature, trusting only `root`.
fn openssl_verifies_timestamp(bundle: &Path, root_der: &[u8], dir: &Path) -> (bool, String) {
    let b = read_json(bundle);
    let tsr = dir.join("bundle.tsr");
    let ts = b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
        ["signedTimestamp"]
        .as_str()
        .unwrap_or_else(|| panic!("{} carries no timestamp", bundle.display()));
    std::fs::write(&tsr, B64.decode(ts).unwrap()).unwrap();
    let sig = dir.join("sig.bin");
    std::fs::write(
        &sig,
        B64.decode(b["messageSignature"]["signature"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let root = dir.join("tsa-root.pem");
    std::fs::write(&root, pem_certs(&[root_der.to_vec()])).unwrap();
    let out = run(Command::new("openssl")
        .args(["ts", "-verify", "-in"])
        .arg(&tsr)
        .arg("-data")
        .arg(&sig)
        .arg("-CAfile")
        .arg(&root));
    (out.status.success(), text(&out))
}

/// The SCT log IDs in a bundle's leaf certificate, as `openssl x509 -text` prints them
/// (upper-case hex, colon-separated).
fn sct_log_ids(bundle: &Path, dir: &Path) -> Vec<String> {
    let b = read_json(bundle);
    let vm = &b["verificationMaterial"];
    let raw = vm["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| vm["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())
        .unwrap();
    let p = dir.join("leaf.der");
    std::fs::write(&p, B64.decode(raw).unwrap()).unwrap();
    let out = run(Command::new("openssl")
        .args(["x509", "-inform", "DER", "-noout", "-text", "-in"])
        .arg(&p));
    assert!(out.status.success(), "openssl x509: {}", text(&out));
    let t = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut ids = Vec::new();
    let mut lines = t.lines().map(str::trim);
    while let Some(l) = lines.next() {
        if let Some(first) = l.strip_prefix("Log ID    :") {
            let mut id = first.trim().to_owned();
            // The 32-byte ID continues on the next line.
            if let Some(next) = lines.next() {
                id.push_str(next);
            }
            ids.push(id);
        }
    }
    ids
}

fn openssl_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A copy of `bundle` whose timestamp is replaced by one the old TSA key (generation 1 of
/// `data`'s generated TSA) makes at `at` (Unix seconds) over the bundle's signature.
fn with_old_tsa_timestamp(data: &Path, chain: Vec<Vec<u8>>, bundle: &Path, at: i64) -> PathBuf {
    let password = std::fs::read_to_string(data.join("tsa/password")).unwrap();
    let key = signet_ca::signer::FileSigner::from_encrypted_pem(
        &std::fs::read_to_string(data.join("tsa/tsa.key.enc.pem")).unwrap(),
        password.trim().as_bytes(),
    )
    .unwrap();
    let tsa = signet_ca::tsa::TimestampAuthority::new(
        Arc::new(key),
        chain,
        Arc::new(signet_proto::clock::FixedClock::new(
            u64::try_from(at).unwrap() * 1000,
        )),
    )
    .unwrap();
    let mut b = read_json(bundle);
    let sig = B64
        .decode(b["messageSignature"]["signature"].as_str().unwrap())
        .unwrap();
    let digest = signet_proto::keys::HashAlgorithm::Sha256.hash(&sig);
    let req = signet_proto::timestamp::authority::encode_request(
        signet_proto::keys::HashAlgorithm::Sha256,
        &digest,
        Some(&[0x11, 0x22]),
        true,
    );
    let reply = tsa.respond(&req);
    assert_eq!(reply.failure, None);
    b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"] =
        serde_json::json!([{"signedTimestamp": B64.encode(&reply.der)}]);
    let out = bundle.with_extension(format!("old-tsa-{at}.json"));
    std::fs::write(&out, serde_json::to_vec(&b).unwrap()).unwrap();
    out
}

fn rfc3339_to_unix(t: &str) -> i64 {
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

#[test]
fn tsa_and_ct_rotations_keep_bundles_verifying_by_window() {
    require_tools(&["sigstore", "openssl", "node"]);
    let oidc = Oidc::start(&support::oidc_js_dir());
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let mut s = Serve::configured(w, &oidc.url, "");
    s.start();
    let py = w.join("py");
    let root = s.trusted_root();
    assert_eq!(root["timestampAuthorities"].as_array().unwrap().len(), 1);
    assert_eq!(root["ctlogs"].as_array().unwrap().len(), 1);

    let before = w.join("before.txt");
    std::fs::write(&before, b"signed before the rotations\n").unwrap();
    let before_signet = signet_sign(&s, &oidc, &before);
    let before_python = python_sign(&s, &oidc, &py, &before);

    // A directory that is no data directory: refused, nothing written.
    for what in ["tsa", "ct"] {
        let nowhere = w.join(format!("nowhere-{what}"));
        let out = run(signet().args([what, "rotate", "--data-dir"]).arg(&nowhere));
        assert!(!out.status.success(), "{what} rotate of nothing succeeded");
        assert!(
            text(&out).contains("not a data directory of `signet serve`"),
            "{}",
            text(&out)
        );
        assert!(
            !nowhere.exists(),
            "{what} rotate wrote {}",
            nowhere.display()
        );
    }

    // The TSA's old window closes at the rotation (no overlap), the CT key's an hour after it.
    // Not in the second of the last timestamp: sigstore-python takes a window's end as
    // exclusive (`gen_time < end`), signet as inclusive.
    std::thread::sleep(Duration::from_millis(1100));
    let out = run(signet()
        .args(["tsa", "rotate", "--overlap-hours", "0", "--data-dir"])
        .arg(s.data()));
    assert!(out.status.success(), "tsa rotate: {}", text(&out));
    assert!(text(&out).contains("generation 2"), "{}", text(&out));
    let out = run(signet()
        .args(["ct", "rotate", "--overlap-hours", "1", "--data-dir"])
        .arg(s.data()));
    assert!(out.status.success(), "ct rotate: {}", text(&out));
    assert!(text(&out).contains("generation 2"), "{}", text(&out));
    s.restart();

    let root = s.trusted_root();
    let tsas = root["timestampAuthorities"].as_array().unwrap().clone();
    assert_eq!(tsas.len(), 2, "{tsas:?}");
    let tsa_end = rfc3339_to_unix(tsas[0]["validFor"]["end"].as_str().unwrap());
    let tsa_start2 = rfc3339_to_unix(tsas[1]["validFor"]["start"].as_str().unwrap());
    assert_eq!(tsa_end, tsa_start2, "no overlap asked");
    assert!(tsas[1]["validFor"].get("end").is_none());
    let ctlogs = root["ctlogs"].as_array().unwrap().clone();
    assert_eq!(ctlogs.len(), 2, "{ctlogs:?}");
    let ct_end = rfc3339_to_unix(ctlogs[0]["publicKey"]["validFor"]["end"].as_str().unwrap());
    let ct_start2 = rfc3339_to_unix(
        ctlogs[1]["publicKey"]["validFor"]["start"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(ct_end - ct_start2, 3600, "an hour of overlap");
    assert_ne!(ctlogs[0]["logId"], ctlogs[1]["logId"]);

    let after = w.join("after.txt");
    std::fs::write(&after, b"signed after the rotations\n").unwrap();
    let after_signet = signet_sign(&s, &oidc, &after);
    let after_python = python_sign(&s, &oidc, &py, &after);

    let chains: Vec<Vec<Vec<u8>>> = tsas.iter().map(tsa_chain).collect();
    let ct_ids: Vec<String> = ctlogs
        .iter()
        .map(|c| openssl_hex(&B64.decode(c["logId"]["keyId"].as_str().unwrap()).unwrap()))
        .collect();
    for (generation, file, bundles) in [
        (0, &before, [&before_signet, &before_python]),
        (1, &after, [&after_signet, &after_python]),
    ] {
        for bundle in bundles {
            let name = bundle.display();
            // Timestamped by its own generation of the TSA, and not by the other.
            let (ok, said) =
                openssl_verifies_timestamp(bundle, chains[generation].last().unwrap(), w);
            assert!(ok, "{name}: openssl ts -verify: {said}");
            let (ok, _) =
                openssl_verifies_timestamp(bundle, chains[1 - generation].last().unwrap(), w);
            assert!(!ok, "{name}: verified against the other TSA root");
            // Its SCT is from its own generation of the CT key.
            assert_eq!(
                sct_log_ids(bundle, w),
                [ct_ids[generation].clone()],
                "{name}"
            );
            let (ok, said) = signet_verify(&s, &oidc, file, bundle);
            assert!(ok, "{name}: signet verify-blob: {said}");
            let (ok, said) = python_verify(&s, &oidc, &py, file, bundle);
            assert!(ok, "{name}: sigstore verify: {said}");
        }
    }

    // The old TSA key's timestamps verify inside its window and are refused after it: on the
    // Rekor v2 bundle the timestamp is the only signing time, so both verifiers must refuse.
    let v2 = &before_python;
    assert_eq!(
        read_json(v2)["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["version"],
        "0.0.2",
        "sigstore-python signed into the v2 log"
    );
    let inside = with_old_tsa_timestamp(&s.data(), chains[0].clone(), v2, tsa_end - 1);
    let (ok, said) = signet_verify(&s, &oidc, &before, &inside);
    assert!(ok, "old TSA key inside its window: {said}");
    let (ok, said) = python_verify(&s, &oidc, &py, &before, &inside);
    assert!(ok, "old TSA key inside its window (sigstore): {said}");
    let late = tsa_end + 2;
    while time::OffsetDateTime::now_utc().unix_timestamp() <= late {
        std::thread::sleep(Duration::from_millis(200));
    }
    // (On a Rekor v1 bundle such a timestamp is not counted either, but the integrated time
    // under the SET remains a verified signing time, as in sigstore-python.)
    let outside = with_old_tsa_timestamp(&s.data(), chains[0].clone(), v2, late);
    let (ok, said) = signet_verify(&s, &oidc, &before, &outside);
    assert!(!ok, "old TSA key after its window verified: {said}");
    assert!(said.contains("timestamp authority"), "{said}");
    let (ok, said) = python_verify(&s, &oidc, &py, &before, &outside);
    assert!(
        !ok,
        "old TSA key after its window verified (sigstore): {said}"
    );
    s.stop();
}

/// openssl: a P-256 root (key and certificate) in `dir`.
fn openssl_root(dir: &Path) {
    let out = run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "root.key",
            "-out",
            "root.pem",
            "-subj",
            "/O=Example/CN=example-tsa-root",
            "-days",
            "365",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ])
        .current_dir(dir));
    assert!(out.status.success(), "openssl req: {}", text(&out));
}

/// openssl: a leaf for the public key `pub_pem` under the root of `dir`, with `ext` (an
/// extension file's text); returns the chain file (leaf, root).
fn openssl_leaf(dir: &Path, pub_pem: &Path, name: &str, ext: &str) -> PathBuf {
    let ext_path = dir.join(format!("{name}.ext"));
    std::fs::write(&ext_path, ext).unwrap();
    let leaf = dir.join(format!("{name}.pem"));
    let out = run(Command::new("openssl")
        .args(["x509", "-new", "-force_pubkey"])
        .arg(pub_pem)
        .args(["-subj", "/O=Example/CN=example-tsa", "-days", "30"])
        .args(["-CA", "root.pem", "-CAkey", "root.key", "-extfile"])
        .arg(&ext_path)
        .arg("-out")
        .arg(&leaf)
        .current_dir(dir));
    assert!(out.status.success(), "openssl x509 -new: {}", text(&out));
    let chain = dir.join(format!("{name}-chain.pem"));
    std::fs::write(
        &chain,
        std::fs::read_to_string(&leaf).unwrap()
            + &std::fs::read_to_string(dir.join("root.pem")).unwrap(),
    )
    .unwrap();
    chain
}

const TSA_EXT: &str =
    "extendedKeyUsage = critical,timeStamping\nkeyUsage = critical,digitalSignature\n";

/// `openssl ts -query` → `POST /api/v1/timestamp` → `openssl ts -verify` against `root.pem`
/// of `dir`.
fn openssl_timestamps(s: &Serve, dir: &Path) {
    std::fs::write(dir.join("artifact"), b"timestamped\n").unwrap();
    let out = run(Command::new("openssl")
        .args([
            "ts", "-query", "-data", "artifact", "-sha256", "-cert", "-out", "q.tsq",
        ])
        .current_dir(dir));
    assert!(out.status.success(), "openssl ts -query: {}", text(&out));
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/timestamp", s.url))
        .header("Content-Type", "application/timestamp-query")
        .body(std::fs::read(dir.join("q.tsq")).unwrap())
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    std::fs::write(dir.join("r.tsr"), resp.bytes().unwrap()).unwrap();
    let out = run(Command::new("openssl")
        .args([
            "ts",
            "-verify",
            "-in",
            "r.tsr",
            "-queryfile",
            "q.tsq",
            "-CAfile",
            "root.pem",
        ])
        .current_dir(dir));
    assert!(out.status.success(), "openssl ts -verify: {}", text(&out));
    assert!(text(&out).contains("Verification: OK"), "{}", text(&out));
}

/// `serve` refuses to start: its output names `want`, and it created no data directory.
fn refused(s: &Serve, env: &[(&str, &Path)], want: &[&str]) {
    let mut cmd = s.command();
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = run(cmd.stdin(Stdio::null()));
    assert!(!out.status.success(), "serve started: {}", text(&out));
    for w in want {
        assert!(text(&out).contains(w), "{w:?} not in {}", text(&out));
    }
    assert!(!s.data().exists(), "serve wrote {}", s.data().display());
}

#[test]
fn tsa_key_from_a_file_and_from_pkcs11_with_a_chain_of_its_own() {
    require_tools(&["openssl", "softhsm2-util"]);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    openssl_root(w);

    // An encrypted PKCS#8 key file, as OpenSSL writes it.
    let out = run(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "leaf.key",
        ])
        .current_dir(w));
    assert!(out.status.success(), "{}", text(&out));
    std::fs::write(w.join("password"), "tsa key password\n").unwrap();
    let out = run(Command::new("openssl")
        .args([
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-scrypt",
            "-in",
            "leaf.key",
            "-out",
            "leaf.enc.pem",
            "-passout",
            "file:password",
        ])
        .current_dir(w));
    assert!(out.status.success(), "{}", text(&out));
    let out = run(Command::new("openssl")
        .args(["pkey", "-in", "leaf.key", "-pubout", "-out", "leaf.pub"])
        .current_dir(w));
    assert!(out.status.success(), "{}", text(&out));
    let chain = openssl_leaf(w, &w.join("leaf.pub"), "leaf", TSA_EXT);
    let no_eku = openssl_leaf(
        w,
        &w.join("leaf.pub"),
        "no-eku",
        "keyUsage = critical,digitalSignature\n",
    );
    let file_tsa = |chain: &Path| {
        format!(
            "\n[tsa]\nkey = {:?}\nchain = {:?}\npassword_file = {:?}\n",
            w.join("leaf.enc.pem").display().to_string(),
            chain.display().to_string(),
            w.join("password").display().to_string()
        )
    };

    // A chain whose leaf lacks the EKU: refused at start, nothing written.
    let bad = tempfile::tempdir().unwrap();
    let s = Serve::configured(bad.path(), "https://issuer.example", &file_tsa(&no_eku));
    refused(&s, &[], &["tsa.chain", "timeStamping", "critical"]);

    let file_dir = tempfile::tempdir().unwrap();
    let mut s = Serve::configured(file_dir.path(), "https://issuer.example", &file_tsa(&chain));
    s.start();
    openssl_timestamps(&s, w);
    // The trusted root lists the configured chain.
    let root = s.trusted_root();
    let tsas = root["timestampAuthorities"].as_array().unwrap();
    assert_eq!(tsas.len(), 1);
    let configured: Vec<Vec<u8>> = pem::parse_many(std::fs::read(&chain).unwrap())
        .unwrap()
        .into_iter()
        .map(|p| p.contents().to_vec())
        .collect();
    assert_eq!(tsa_chain(&tsas[0]), configured);
    // A generated TSA cannot be rotated when none was generated.
    let out = run(signet().args(["tsa", "rotate", "--data-dir"]).arg(s.data()));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("configuring its new key"),
        "{}",
        text(&out)
    );
    s.stop();

    // A key in SoftHSM2, generated inside the token, certified by an OpenSSL leaf.
    // This test binary's tests touch SOFTHSM2_CONF only here.
    let conf = support::softhsm::token_with_key(w, "signet-tsa", "tsa key");
    let key_ref = signet_ca::signer::Pkcs11KeyRef {
        module: MODULE.into(),
        token_label: "signet-tsa".into(),
        pin: "1234".into(),
        key_label: "tsa key".into(),
    };
    let hsm_key = signet_ca::signer::Pkcs11Signer::open(&key_ref).unwrap();
    let hsm_pub = w.join("hsm.pub");
    std::fs::write(
        &hsm_pub,
        pem::encode(&pem::Pem::new(
            "PUBLIC KEY",
            signet_ca::signer::CaSigner::spki_der(&hsm_key).to_vec(),
        )),
    )
    .unwrap();
    drop(hsm_key);
    let hsm_chain = openssl_leaf(w, &hsm_pub, "hsm", TSA_EXT);
    std::fs::write(w.join("pin"), "1234\n").unwrap();
    let uri = format!(
        "pkcs11:token=signet-tsa;object=tsa%20key?module-path={MODULE}&pin-source={}",
        w.join("pin").display()
    );
    let hsm_tsa = |chain: &Path| {
        format!(
            "\n[tsa]\nkey = {uri:?}\nchain = {:?}\n",
            chain.display().to_string()
        )
    };
    // The key in the token is not the one the file chain certifies: refused, nothing written.
    let bad = tempfile::tempdir().unwrap();
    let s = Serve::configured(bad.path(), "https://issuer.example", &hsm_tsa(&chain));
    refused(
        &s,
        &[("SOFTHSM2_CONF", &conf)],
        &["tsa.key", "another key", "tsa.chain must start with"],
    );
    let hsm_dir = tempfile::tempdir().unwrap();
    let mut s = Serve::configured(
        hsm_dir.path(),
        "https://issuer.example",
        &hsm_tsa(&hsm_chain),
    );
    s.start();
    openssl_timestamps(&s, w);
    s.stop();
}
