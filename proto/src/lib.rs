//! Signet wire formats and Merkle math.
//!
//! This crate is pure: it performs no I/O, spawns no tasks, never reads the clock and never
//! draws ambient randomness. Callers pass in times and random number generators. (The
//! [`clock::Clock`] trait is defined here, for the log and the CA to share; no function of
//! this crate calls it.) Every parser
//! here accepts untrusted bytes and is fuzzed (see `fuzz`).
//!
//! Specifications implemented, one module each:
//! * [`clock`]: the `Clock` trait the log and the CA take (`SystemClock`, `FixedClock`).
//! * [`merkle`]: RFC 6962 / RFC 9162 hashing, inclusion and consistency proofs.
//! * [`tiles`]: C2SP tlog-tiles paths, entry bundles and tile integration.
//! * [`keys`]: PKIX public keys and signature verification.
//! * [`keyfile`]: password-encrypted private-key files (encrypted PKCS#8 with PBES2/scrypt,
//!   readable by OpenSSL; and Signet's two older formats).
//! * [`note`]: C2SP signed-note, Rekor-style ECDSA note signatures and tlog-cosignature.
//! * [`checkpoint`]: C2SP tlog-checkpoint.
//! * [`jcs`]: RFC 8785 JSON canonicalization.
//! * [`rekor`]: Rekor v1 entry bodies (hashedrekord, dsse), SET payload and API types.
//! * [`bundle`]: Sigstore bundle v0.1 to v0.3.
//! * [`trust`]: trusted_root.json, signing_config.json, client trust config.
//! * [`fulcio`]: Fulcio v2 API types.
//! * [`cert`]: Fulcio certificate extension OIDs and identity extraction.
//! * [`sct`]: RFC 6962 signed certificate timestamps and precertificates.
//! * [`oci`]: OCI image references, platforms, descriptors, manifests and indexes, and the
//!   `WWW-Authenticate` challenge of a registry (no registry client).
//! * [`observe`]: what a log monitor reads from a Rekor entry body (kind, identity, digest).
//! * [`text`]: the control and format characters that hide what a person reads, and their
//!   escaping in JSON lines.
//! * [`admission`]: Kubernetes `admission.k8s.io/v1` AdmissionReview requests (uid, kind, the
//!   images a pod spec runs and their JSON Pointers) and answers (no webhook server).

pub mod admission;
pub mod bundle;
pub mod cert;
pub mod checkpoint;
pub mod clock;
pub mod fulcio;
pub mod jcs;
pub mod keyfile;
pub mod keys;
pub mod merkle;
pub mod note;
pub mod observe;
pub mod oci;
pub mod rekor;
pub mod rekor_v2; // Rekor v2 entry bodies (hashedrekord 0.0.2), protobuf-specs JSON form.
pub mod sct;
pub mod text;
pub mod tiles;
pub mod timestamp; // RFC 3161 timestamp responses and their CMS token: the DER parser.
pub mod trust;
pub mod witness;
