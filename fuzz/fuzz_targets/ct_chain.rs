//! Fuzzes the log's RFC 6962 `add-pre-chain` request handling up to signing: the JSON body
//! (`sct::AddChainRequest`), base64 certificates, `signet_log::ct::verify_precert_chain`
//! (x509 parsing, poison extension, chain signatures, anchoring in the accepted roots), the
//! leaf's signer (`entries::signer_from_cert_der`), the precert TBS rewrite and the `precert`
//! log entry. The accepted root is `fixtures/ct_root.der` (`fixtures/gen_fixtures.sh`).
//!
//! Asserts, for an accepted chain: the recorded chain starts with the submitted one and ends
//! in an accepted root; the issuer key parses; the precert TBS rewrite succeeds and drops the
//! poison; the `precert` entry body is canonical JSON naming exactly the recorded chain.
#![no_main]
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use signet_log::ct::verify_precert_chain;
use signet_log::entries::{precert_entry, signer_from_cert_der};
use signet_proto::keys::PublicKey;
use signet_proto::merkle::leaf_hash;
use signet_proto::sct::{
    certificate_extensions, oid_to_der, tbs_without_extensions, AddChainRequest,
    OID_PRECERT_POISON, OID_SCT_LIST,
};

const ROOT: &[u8] = include_bytes!("../fixtures/ct_root.der");

fuzz_target!(|data: &[u8]| {
    let chain: Vec<Vec<u8>> = match signet_proto::json::from_slice::<AddChainRequest>(data) {
        Ok(req) => {
            let Ok(chain) = req
                .chain
                .iter()
                .map(|c| base64::engine::general_purpose::STANDARD.decode(c))
                .collect::<Result<Vec<_>, _>>()
            else {
                return;
            };
            chain
        }
        // Also take the input as one raw DER precertificate.
        Err(_) => vec![data.to_vec()],
    };
    let roots = vec![ROOT.to_vec()];
    let Ok((full, issuer_spki)) = verify_precert_chain(&chain, &roots) else {
        return;
    };
    assert!(full.starts_with(&chain), "the submitted chain is kept");
    assert!(full.len() <= chain.len() + 1);
    assert_eq!(
        full.last().map(Vec::as_slice),
        Some(ROOT),
        "anchored in the root"
    );
    PublicKey::from_spki_der(&issuer_spki).expect("an accepted issuer key parses");

    let Ok(leaf) = signer_from_cert_der(&chain[0]) else {
        return;
    };
    let tbs = tbs_without_extensions(&chain[0], &[OID_PRECERT_POISON, OID_SCT_LIST])
        .expect("an accepted precertificate's TBS rewrites");
    let poison = oid_to_der(OID_PRECERT_POISON).expect("constant OID");
    assert!(certificate_extensions(&tbs)
        .expect("rewritten TBS parses")
        .iter()
        .all(|e| e.oid != poison.as_slice()));
    let entry = precert_entry(&full, &leaf).expect("a precert entry builds");
    assert_eq!(entry.leaf_hash, leaf_hash(&entry.body));
    let body: serde_json::Value =
        signet_proto::json::from_slice(&entry.body).expect("body is JSON");
    assert_eq!(body["kind"], "precert");
    let logged: Vec<Vec<u8>> = body["spec"]["chain"]
        .as_array()
        .expect("chain array")
        .iter()
        .map(|c| {
            base64::engine::general_purpose::STANDARD
                .decode(c.as_str().expect("base64 string"))
                .expect("valid base64")
        })
        .collect();
    assert_eq!(logged, full);
});
