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
//! * [`pkcs11_uri`]: RFC 7512 PKCS#11 URIs (`pkcs11:token=…;object=…?module-path=…`).
//! * [`note`]: C2SP signed-note, Rekor-style ECDSA note signatures and tlog-cosignature.
//! * [`checkpoint`]: C2SP tlog-checkpoint.
//! * [`jcs`]: RFC 8785 JSON canonicalization.
//! * [`rekor`]: Rekor v1 entry bodies (hashedrekord, dsse), SET payload and API types.
//! * [`bundle`]: Sigstore bundle v0.1 to v0.3.
//! * [`trust`]: trusted_root.json, signing_config.json, client trust config.
//! * [`tuf`]: TUF metadata (root, timestamp, snapshot, targets), its canonical JSON and
//!   signatures, and the client's checks (root rotation, rollback, freeze, expiry).
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

pub mod admission; // Kubernetes AdmissionReview v1 and the JSON Patch that pins images
pub mod bundle; // Sigstore bundle v0.1-v0.3 and the protobuf-specs common types
pub mod cert; // Fulcio certificate extensions: the OID table, identity of a leaf
pub mod checkpoint; // C2SP tlog-checkpoint
pub mod clock; // the Clock trait the log and the CA share (proto itself never reads it)
pub mod cosign; // cosign's OCI signature formats: .sig/.att tag layers, annotations, Rekor bundle
pub mod fulcio; // Fulcio v2 REST request and response types
pub mod grpc; // grpc-gateway's JSON error body (rekor-tiles, Fulcio) and gRPC codes
pub mod jcs; // RFC 8785 canonical JSON
pub mod json; // strict reading of untrusted JSON: UTF-8 over the whole text
pub mod keyfile; // password-encrypted private keys: encrypted PKCS#8 (PBES2, scrypt)
pub mod keys; // PKIX public keys, signature verification, service signing keys
pub mod merkle; // RFC 6962 hashing and proofs; tile coordinates (the base of tiles)
pub mod notary; // Notary Project (notation) signatures: JWS/COSE envelopes, payload, trust policy
pub mod note; // C2SP signed-note, Rekor ECDSA note lines, tlog-cosignature
pub mod observe; // what a monitor sees in one entry: kind, signers, digest, time
pub mod oci; // OCI references, manifests, indexes, WWW-Authenticate, token answers
pub mod pkcs11_uri; // RFC 7512 PKCS#11 URIs naming a signing key in a token
pub mod rekor; // Rekor v1 entry bodies, SET payload, REST types
pub mod rekor_v2; // Rekor v2 entry bodies (hashedrekord 0.0.2), protobuf-specs JSON form.
pub mod sct; // RFC 6962 SCTs and precertificates
pub mod text; // deceptive characters (controls, format characters) and their escaping
pub mod tiles; // C2SP tlog-tiles: paths, entry bundles, integration
pub mod timestamp; // RFC 3161 timestamp responses and their CMS token: the DER parser.
pub mod trust; // trusted_root.json, signing_config v0.2, ClientTrustConfig
pub mod tuf; // TUF metadata: canonical JSON, roles, signing, the client trusted set
pub mod witness; // C2SP tlog-witness: add-checkpoint, witness policy, quorum
