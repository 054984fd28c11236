//! Test helper: Notary Project (notation) JWS envelopes signed with a test key (the builders
//! are the verifier tests' `verifier/tests/common/notary.rs`), and RFC 3161 countersignatures
//! for them from an OpenSSL timestamp authority (`openssl ts -reply`).
//!
//! No envelope notation published is signed by a chain with CRL distribution points or
//! countersigned over an image whose manifest is published (testdata/notary/README.md), so the
//! tests sign one as notation does (RSASSA-PSS SHA-256, `x5c` leaf first, the payload's
//! `targetArtifact`) with notation's own CRL test chain, and timestamp it with a real TSA.

#![allow(dead_code, clippy::unwrap_used, unreachable_pub, missing_docs)]

use super::openssl;
use std::path::{Path, PathBuf};

// The envelope builders, one copy with the verifier's Notary tests.
#[path = "../../../verifier/tests/common/notary.rs"]
mod envelopes;
pub use envelopes::{jws_signature, with_timestamp};

/// The DER items of the PEM blocks in `bytes`.
pub fn pem_items(bytes: &[u8]) -> Vec<Vec<u8>> {
    pem::parse_many(bytes)
        .unwrap()
        .into_iter()
        .map(pem::Pem::into_contents)
        .collect()
}

/// The image a signature names: digest, media type, size.
pub use signet_verifier::NotaryTarget as Target;

/// A JWS envelope (flattened JSON, as notation writes it) over `target`, signed with the RSA
/// PKCS#8 key `key_pem` (PS256) and carrying `chain_pem` (leaf first) as `x5c`.
pub fn sign_jws(key_pem: &[u8], chain_pem: &[u8], target: &Target<'_>) -> Vec<u8> {
    envelopes::jws_ps256(&pem_items(key_pem).remove(0), &pem_items(chain_pem), target)
}

/// An RFC 3161 timestamp authority run by `openssl ts`: a self-signed P-256 root and a leaf
/// with the critical `timeStamping` extended key usage, as the Notary Project requires.
pub struct OpensslTsa {
    dir: PathBuf,
    /// The root certificate (PEM), for a notation `tsa` trust store.
    pub root: PathBuf,
}

impl OpensslTsa {
    /// Makes the keys and certificates in `dir` (named `name` in their subjects).
    pub fn new(dir: &Path, name: &str) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        let mut root_args = vec!["req", "-x509"];
        root_args.extend(ec);
        let root_subject = format!("/CN={name} Root");
        root_args.extend([
            "-keyout",
            "root.key",
            "-out",
            "root.crt",
            "-days",
            "3650",
            "-subj",
            &root_subject,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        openssl(dir, &root_args);
        let mut csr_args = vec!["req", "-new"];
        csr_args.extend(ec);
        let leaf_subject = format!("/CN={name}");
        csr_args.extend([
            "-keyout",
            "tsa.key",
            "-out",
            "tsa.csr",
            "-subj",
            &leaf_subject,
        ]);
        openssl(dir, &csr_args);
        std::fs::write(
            dir.join("ext.cnf"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n",
        )
        .unwrap();
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "tsa.csr",
                "-CA",
                "root.crt",
                "-CAkey",
                "root.key",
                "-CAcreateserial",
                "-out",
                "tsa.crt",
                "-days",
                "365",
                "-extfile",
                "ext.cnf",
            ],
        );
        std::fs::write(dir.join("serial"), "01\n").unwrap();
        std::fs::write(
            dir.join("ts.cnf"),
            format!(
                "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\nserial = {d}/serial\nsigner_cert = {d}/tsa.crt\nsigner_key = {d}/tsa.key\ncerts = {d}/root.crt\ndefault_policy = 1.2.3.4.1\ndigests = sha256\nsigner_digest = sha256\naccuracy = secs:1\ness_cert_id_alg = sha256\nordering = no\ntsa_name = no\ness_cert_id_chain = no\n",
                d = dir.display()
            ),
        )
        .unwrap();
        Self {
            dir: dir.to_owned(),
            root: dir.join("root.crt"),
        }
    }

    /// A `TimeStampToken` (DER `ContentInfo`) over SHA-256 of `data`, with the TSA's
    /// certificate (and root) embedded.
    pub fn timestamp(&self, data: &[u8]) -> Vec<u8> {
        std::fs::write(self.dir.join("data.bin"), data).unwrap();
        openssl(
            &self.dir,
            &[
                "ts",
                "-query",
                "-data",
                "data.bin",
                "-sha256",
                "-cert",
                "-no_nonce",
                "-out",
                "q.tsq",
            ],
        );
        openssl(
            &self.dir,
            &[
                "ts",
                "-reply",
                "-config",
                "ts.cnf",
                "-queryfile",
                "q.tsq",
                "-token_out",
                "-out",
                "token.der",
            ],
        );
        std::fs::read(self.dir.join("token.der")).unwrap()
    }
}
