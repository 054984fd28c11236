//! Verification glue: read the trusted root, build the policy from the command line, and run
//! `signet_verifier::verify` on a blob or on every bundle attached to an image digest, and
//! `signet_verifier::verify_cosign` on every layer of the digest's cosign `.sig` / `.att` tag.
//!
//! Everything cryptographic happens in `signet-verifier`; this module only does I/O (files,
//! registry) and reports which check failed. Verification is offline except for fetching the
//! image's referrers from its registry. The verification time is the local clock.

use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;
use signet_proto::bundle::{Bundle, BundleContent};
use signet_proto::keys::PublicKey;
use signet_proto::trust::TrustedRoot;
use signet_verifier::error::VerificationError;
use signet_verifier::policy::{IdentityPolicy, Policy, StringMatch};
use signet_verifier::trust::TrustMaterial;
use signet_verifier::verify::{Artifact, VerifiedBundle};
use signet_verifier::UnixTime;

use crate::registry as oci;

/// Reads `trusted_root.json`, the CRLs in `crls.pem` beside it when present (refused unless
/// signed by one of its CAs) and an optional witness policy, and prepares the trust material.
pub(crate) fn load_trust(
    path: &Path,
    witness_policy: Option<&Path>,
) -> anyhow::Result<TrustMaterial> {
    let raw = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read trusted root {}: {e}", path.display()))?;
    let root = TrustedRoot::from_json(&raw)
        .map_err(|e| anyhow::anyhow!("invalid trusted root {}: {e}", path.display()))?;
    let mut trust = TrustMaterial::from_trusted_root(&root)
        .map_err(|e| anyhow::anyhow!("unusable trusted root {}: {e}", path.display()))?;
    // The CA's CRLs travel with its trusted root: `crls.pem` beside it (as `serve` writes
    // it into its data directory and the TUF client stores the `crls.pem` target).
    let crls = path.with_file_name("crls.pem");
    if let Ok(text) = std::fs::read(&crls) {
        let blocks = pem::parse_many(&text)
            .map_err(|e| anyhow::anyhow!("invalid CRL file {}: {e}", crls.display()))?;
        for block in blocks.iter().filter(|b| b.tag() == "X509 CRL") {
            trust
                .add_crl(block.contents())
                .map_err(|e| anyhow::anyhow!("unusable CRL in {}: {e}", crls.display()))?;
        }
    }
    if let Some(p) = witness_policy {
        let text = std::fs::read_to_string(p)
            .map_err(|e| anyhow::anyhow!("cannot read witness policy {}: {e}", p.display()))?;
        let policy = signet_proto::witness::WitnessPolicyFile::parse(&text)
            .map_err(|e| anyhow::anyhow!("invalid witness policy {}: {e}", p.display()))?;
        let witnesses = policy
            .verifiers()
            .map_err(|e| anyhow::anyhow!("invalid witness policy {}: {e}", p.display()))?;
        trust.set_witness_policy(signet_verifier::WitnessPolicy {
            threshold: policy.quorum,
            witnesses,
        });
    }
    Ok(trust)
}

/// The identity flags of `verify` / `verify-blob`.
#[derive(Debug, Default, Clone)]
pub(crate) struct IdentityFlags {
    /// `--certificate-identity`.
    pub(crate) identity: Option<String>,
    /// `--certificate-identity-regexp`.
    pub(crate) identity_regexp: Option<String>,
    /// `--certificate-oidc-issuer`.
    pub(crate) issuer: Option<String>,
    /// `--certificate-oidc-issuer-regexp`.
    pub(crate) issuer_regexp: Option<String>,
    /// Fulcio extension claims that must match exactly (dotted OID, value), e.g. the GitHub
    /// workflow ones.
    pub(crate) claims: Vec<(&'static str, String)>,
}

/// How the options of an identity policy are spelled where the user wrote them: the
/// command-line flags of `verify`, or the keys of an admission policy rule. Errors name the
/// spelling the user can fix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spelling {
    identity: &'static str,
    identity_regexp: &'static str,
    issuer: &'static str,
    issuer_regexp: &'static str,
    key: &'static str,
    extension: &'static str,
}

impl Spelling {
    /// The flags of `verify`, `verify-blob` and `verify-attestation`.
    pub(crate) const FLAGS: Self = Self {
        identity: "--certificate-identity",
        identity_regexp: "--certificate-identity-regexp",
        issuer: "--certificate-oidc-issuer",
        issuer_regexp: "--certificate-oidc-issuer-regexp",
        key: "--key",
        extension: "--certificate-extension",
    };
    /// The keys of an admission policy `[[rule]]` (TOML).
    pub(crate) const POLICY_FILE: Self = Self {
        identity: "`identity`",
        identity_regexp: "`identity_regexp`",
        issuer: "`issuer`",
        issuer_regexp: "`issuer_regexp`",
        key: "`key`",
        extension: "`extensions`",
    };
}

/// Parses `--certificate-extension OID=VALUE`; the OID must be a Fulcio string extension.
pub(crate) fn parse_extension_flag(
    flag: &str,
    names: Spelling,
) -> anyhow::Result<(&'static str, String)> {
    let ext = names.extension;
    let (oid, value) = flag
        .split_once('=')
        .ok_or_else(|| anyhow::anyhow!("{ext} wants OID=VALUE, got {flag:?}"))?;
    let known = signet_proto::cert::fulcio_oid(oid.trim())
        .ok_or_else(|| anyhow::anyhow!("{ext}: {oid} is not a Fulcio extension OID"))?;
    Ok((known.oid, value.to_owned()))
}

/// The policy of `--trusted-keys FILE` (`given`), or, when neither that, `--key` nor an
/// identity flag is given, of the `trusted_keys.json` beside the trusted root `root` (where
/// the TUF client stores the target of that name); `None` when neither applies.
pub(crate) fn trusted_keys_policy(
    given: Option<&Path>,
    root: &Path,
    key: Option<&Path>,
    flags: &IdentityFlags,
) -> anyhow::Result<Option<Policy>> {
    let path = match given {
        Some(p) => p.to_owned(),
        None if key.is_none() && flags.identity.is_none() && flags.identity_regexp.is_none() => {
            let beside = root.with_file_name("trusted_keys.json");
            if !beside.exists() {
                return Ok(None);
            }
            beside
        }
        None => return Ok(None),
    };
    let bytes = std::fs::read(&path)
        .map_err(|e| anyhow::anyhow!("cannot read trusted keys {}: {e}", path.display()))?;
    let keys = signet_verifier::trusted_keys::TrustedKeys::from_json(&bytes)
        .map_err(|e| anyhow::anyhow!("invalid trusted keys {}: {e}", path.display()))?;
    Ok(Some(Policy::trusted_keys(keys)))
}

/// Builds the policy: `--key` replaces identity checks; otherwise an identity and an issuer
/// are both required (as cosign requires). Errors name the options as `names` spells them.
pub(crate) fn build_policy(
    key: Option<&Path>,
    flags: &IdentityFlags,
    names: Spelling,
) -> anyhow::Result<Policy> {
    if let Some(path) = key {
        let der = super::keypair::read_public_key(path)?;
        let pk = PublicKey::from_spki_der(&der)
            .map_err(|e| anyhow::anyhow!("public key {}: {e}", path.display()))?;
        return Ok(Policy::key(pk));
    }
    let Spelling {
        identity,
        identity_regexp,
        issuer,
        issuer_regexp,
        key,
        ..
    } = names;
    let san = match (&flags.identity, &flags.identity_regexp) {
        (Some(s), None) => StringMatch::exact(s.clone()),
        (None, Some(r)) => StringMatch::regex(r).context(identity_regexp)?,
        (Some(_), Some(_)) => anyhow::bail!("give only one of {identity} and {identity_regexp}"),
        (None, None) => anyhow::bail!(
            "an identity is required: {identity} or {identity_regexp} (or {key} for keyed verification)"
        ),
    };
    let issuer = match (&flags.issuer, &flags.issuer_regexp) {
        (Some(s), None) => StringMatch::exact(s.clone()),
        (None, Some(r)) => StringMatch::regex(r).context(issuer_regexp)?,
        (Some(_), Some(_)) => anyhow::bail!("give only one of {issuer} and {issuer_regexp}"),
        (None, None) => anyhow::bail!("an issuer is required: {issuer} or {issuer_regexp}"),
    };
    let mut all = vec![IdentityPolicy::san(san), IdentityPolicy::issuer(issuer)];
    for (oid, value) in &flags.claims {
        all.push(IdentityPolicy::extension(
            oid,
            StringMatch::exact(value.clone()),
        ));
    }
    Ok(Policy::identity(IdentityPolicy::all_of(all)))
}

/// The check a verification error names, as a stable machine-readable word.
pub(crate) fn check_name(err: &VerificationError) -> &'static str {
    match err {
        VerificationError::Bundle(_) => "bundle",
        VerificationError::Certificate(_) => "certificate",
        VerificationError::Sct(_) => "sct",
        VerificationError::Signature(_) => "signature",
        VerificationError::Policy(_) => "policy",
        VerificationError::Tlog(_) => "tlog",
        VerificationError::Checkpoint(_) => "checkpoint",
        VerificationError::Set(_) => "set",
        VerificationError::Time(_) => "time",
        VerificationError::Timestamp(_) => "timestamp",
        VerificationError::Cosign(c) => match c {
            signet_verifier::CosignError::Format(_) => "cosign-format",
            signet_verifier::CosignError::DigestMismatch { .. } => "payload-digest",
            signet_verifier::CosignError::AnnotationMismatch { .. } => "annotation",
            signet_verifier::CosignError::NoLogEntry
            | signet_verifier::CosignError::NoSigningTime => "tlog",
            _ => "cosign",
        },
        VerificationError::Unsupported { .. } => "unsupported",
        _ => "other",
    }
}

/// One bundle's outcome, for output.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Outcome {
    /// Where the bundle came from (file or referrer digest).
    pub(crate) source: String,
    /// Whether it verified.
    pub(crate) ok: bool,
    /// The signature format: `sigstore-bundle` (a Sigstore bundle attached as an OCI
    /// referrer), `cosign-bundle` (cosign 3's image signature: a bundle referrer whose DSSE
    /// statement is `https://sigstore.dev/cosign/sign/v1`), `cosign-sig` (a layer of cosign's
    /// `sha256-<hex>.sig` tag), `cosign-att` (a layer of its `.att` tag) or `notary` (a Notary
    /// Project envelope, `client::notary`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) format: Option<&'static str>,
    /// The failed check, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) check: Option<&'static str>,
    /// The error message, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    /// The verified signer identity (SAN), keyless mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) identity: Option<String>,
    /// The verified issuer, keyless mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) issuer: Option<String>,
    /// The log index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) log_index: Option<u64>,
    /// The signing time (integrated time, Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) integrated_time: Option<i64>,
    /// For a verified attestation: the in-toto statement (predicate type, subject, predicate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) statement: Option<serde_json::Value>,
}

impl Outcome {
    fn failed(source: String, check: &'static str, error: String) -> Self {
        Self {
            source,
            ok: false,
            format: None,
            check: Some(check),
            error: Some(error),
            identity: None,
            issuer: None,
            log_index: None,
            integrated_time: None,
            statement: None,
        }
    }

    fn with_format(mut self, format: &'static str) -> Self {
        self.format = Some(format);
        self
    }

    fn verified(source: String, v: &VerifiedBundle) -> Self {
        Self {
            source,
            ok: true,
            format: None,
            check: None,
            error: None,
            identity: v.identity.as_ref().and_then(|i| i.san().map(str::to_owned)),
            issuer: v.identity.as_ref().and_then(|i| i.issuer.clone()),
            log_index: Some(v.log_index),
            integrated_time: Some(v.integrated_time.as_unix_seconds()),
            statement: v
                .dsse_payload
                .as_ref()
                .and_then(|(_, payload)| signet_proto::json::from_slice(payload).ok()),
        }
    }
}

/// The current time for verification.
pub(crate) fn now() -> UnixTime {
    UnixTime::from_system_time(std::time::SystemTime::now())
}

/// Verifies one bundle's bytes for `artifact`.
pub(crate) fn verify_bundle_bytes(
    source: String,
    bundle_bytes: &[u8],
    artifact: Artifact<'_>,
    policy: &Policy,
    trust: &TrustMaterial,
) -> Outcome {
    match Bundle::from_json(bundle_bytes) {
        Ok(b) => verify_bundle(source, &b, artifact, policy, trust),
        Err(e) => Outcome::failed(source, "bundle", format!("bundle: {e}")),
    }
}

fn verify_bundle(
    source: String,
    bundle: &Bundle,
    artifact: Artifact<'_>,
    policy: &Policy,
    trust: &TrustMaterial,
) -> Outcome {
    match signet_verifier::verify::verify(bundle, artifact, policy, trust, Some(now())) {
        Ok(v) => Outcome::verified(source, &v),
        Err(e) => Outcome::failed(source, check_name(&e), e.to_string()),
    }
}

/// Which of an image's bundles a verification is about.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wanted<'a> {
    /// Signatures over the image digest (`messageSignature` bundles).
    Signatures,
    /// In-toto attestations about the image (`dsseEnvelope` bundles) of this predicate type.
    Attestations {
        /// The predicate type URI.
        predicate_type: &'a str,
    },
}

/// The predicate type an attestation bundle claims (read before verification, to pick the
/// bundles to verify; the verified statement is checked again afterwards).
fn claimed_predicate_type(bundle: &Bundle) -> Option<String> {
    let BundleContent::DsseEnvelope(env) = &bundle.content else {
        return None;
    };
    payload_predicate_type(&env.payload)
}

/// The `predicateType` of an in-toto statement's bytes (a DSSE payload), unverified.
fn payload_predicate_type(payload: &[u8]) -> Option<String> {
    let v: serde_json::Value = signet_proto::json::from_slice(payload).ok()?;
    v.get("predicateType")?.as_str().map(str::to_owned)
}

/// The predicate type of cosign 3's image signatures (`cosign sign`, bundle format).
pub(crate) const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

/// The format name of a bundle attached as a referrer.
fn bundle_format(bundle: &Bundle) -> &'static str {
    if claimed_predicate_type(bundle).as_deref() == Some(COSIGN_SIGN_PREDICATE) {
        "cosign-bundle"
    } else {
        "sigstore-bundle"
    }
}

/// Whether `bundle` is one `wanted` asks for.
fn is_wanted(bundle: &Bundle, wanted: Wanted<'_>) -> bool {
    match (wanted, &bundle.content) {
        (Wanted::Signatures, BundleContent::MessageSignature(_)) => true,
        // cosign 3 signs images with a DSSE statement of this predicate type.
        (Wanted::Signatures, BundleContent::DsseEnvelope(_)) => {
            claimed_predicate_type(bundle).as_deref() == Some(COSIGN_SIGN_PREDICATE)
        }
        (Wanted::Attestations { predicate_type }, BundleContent::DsseEnvelope(_)) => {
            claimed_predicate_type(bundle).as_deref() == Some(predicate_type)
        }
        _ => false,
    }
}

/// For an attestation (`wanted` is [`Wanted::Attestations`]): a verified outcome whose
/// verified statement is not of the predicate type asked for becomes a failure of the check
/// `statement` (same source and format). Signatures, and failures, pass unchanged.
fn require_predicate_type(outcome: Outcome, wanted: Wanted<'_>) -> Outcome {
    let Wanted::Attestations { predicate_type } = wanted else {
        return outcome;
    };
    let verified_type = outcome
        .statement
        .as_ref()
        .and_then(|s| s.get("predicateType"))
        .and_then(serde_json::Value::as_str);
    if !outcome.ok || verified_type == Some(predicate_type) {
        return outcome;
    }
    let format = outcome.format;
    let mut failed = Outcome::failed(
        outcome.source,
        "statement",
        format!("the verified statement's predicate type is not {predicate_type}"),
    );
    failed.format = format;
    failed
}

/// Verifies every Sigstore bundle of the `wanted` kind attached to `digest` in `registry`
/// against each of `policies`, fetching the bundles once; returns, for each policy in order,
/// one outcome per such bundle (empty lists when there are none).
pub(crate) async fn verify_image_referrers(
    registry: &oci::RegistryClient,
    digest: &str,
    digest_bytes: [u8; 32],
    wanted: Wanted<'_>,
    policies: &[&Policy],
    trust: &TrustMaterial,
) -> Result<Vec<Vec<Outcome>>, oci::RegistryError> {
    let (referrers, _mode) = registry
        .referrers(digest, Some(oci::BUNDLE_MEDIA_TYPE))
        .await?;
    let mut outcomes = vec![Vec::new(); policies.len()];
    // A failure before any policy applies is every policy's outcome.
    let all = |outcomes: &mut Vec<Vec<Outcome>>, o: Outcome| {
        for list in outcomes.iter_mut() {
            list.push(o.clone());
        }
    };
    for r in referrers {
        let manifest = match registry.get_image_manifest(&r.digest).await {
            Ok(m) => m,
            Err(e) => {
                all(
                    &mut outcomes,
                    Outcome::failed(r.digest.clone(), "registry", e.to_string()),
                );
                continue;
            }
        };
        if manifest.subject.as_ref().map(|s| s.digest.as_str()) != Some(digest) {
            all(
                &mut outcomes,
                Outcome::failed(
                    r.digest.clone(),
                    "referrer",
                    format!("referrer manifest's subject is not {digest}"),
                ),
            );
            continue;
        }
        for layer in manifest
            .layers
            .iter()
            .filter(|l| l.media_type == oci::BUNDLE_MEDIA_TYPE)
        {
            let source = format!("{} (layer {})", r.digest, layer.digest);
            let bytes = match registry.get_blob(&layer.digest).await {
                Ok(bytes) => bytes,
                Err(e) => {
                    all(
                        &mut outcomes,
                        Outcome::failed(source, "registry", e.to_string()),
                    );
                    continue;
                }
            };
            let bundle = match Bundle::from_json(&bytes) {
                Ok(b) => b,
                Err(e) => {
                    all(
                        &mut outcomes,
                        Outcome::failed(source, "bundle", format!("bundle: {e}")),
                    );
                    continue;
                }
            };
            // Signatures and attestations share the bundle media type: each verification
            // looks only at its own kind (an attestation is not a signature of the image).
            if !is_wanted(&bundle, wanted) {
                continue;
            }
            for (policy, list) in policies.iter().zip(outcomes.iter_mut()) {
                let outcome = verify_bundle(
                    source.clone(),
                    &bundle,
                    Artifact::Sha256Digest(digest_bytes),
                    policy,
                    trust,
                )
                .with_format(bundle_format(&bundle));
                list.push(require_predicate_type(outcome, wanted));
            }
        }
    }
    Ok(outcomes)
}

/// Verifies the layers of cosign's signature tag (`sha256-<hex>.sig`, for
/// [`Wanted::Signatures`]) or attestation tag (`sha256-<hex>.att`, for
/// [`Wanted::Attestations`] of that predicate type) of `digest` against each of `policies`,
/// fetching the layers once; for each policy in order, one outcome per such layer (empty lists
/// when the tag does not exist). `require_tlog`: a layer without a Rekor bundle annotation
/// fails (`false`: keyed signatures without a log verify, cosign's `--insecure-ignore-tlog`).
pub(crate) async fn verify_cosign_tag(
    registry: &oci::RegistryClient,
    digest: &str,
    digest_bytes: [u8; 32],
    wanted: Wanted<'_>,
    policies: &[&Policy],
    trust: &TrustMaterial,
    require_tlog: bool,
) -> Result<Vec<Vec<Outcome>>, oci::RegistryError> {
    use signet_proto::cosign as c;
    let (tag, media_type, format) = match wanted {
        Wanted::Signatures => (
            c::signature_tag(digest),
            c::SIMPLE_SIGNING_MEDIA_TYPE,
            "cosign-sig",
        ),
        Wanted::Attestations { .. } => {
            (c::attestation_tag(digest), c::DSSE_MEDIA_TYPE, "cosign-att")
        }
    };
    let mut outcomes = vec![Vec::new(); policies.len()];
    let all = |outcomes: &mut Vec<Vec<Outcome>>, o: Outcome| {
        for list in outcomes.iter_mut() {
            list.push(o.clone());
        }
    };
    let Some(tag) = tag else {
        return Ok(outcomes);
    };
    let Some(fetched) = registry.get_manifest(&tag).await? else {
        return Ok(outcomes);
    };
    let manifest: oci::ImageManifest =
        signet_proto::json::from_slice(&fetched.bytes).map_err(|e| {
            oci::RegistryError::Malformed {
                what: "cosign signature manifest",
                reason: e.to_string(),
            }
        })?;
    let layers: Vec<_> = manifest
        .layers
        .iter()
        .filter(|l| l.media_type == media_type)
        .collect();
    if layers.len() > c::MAX_LAYERS {
        all(
            &mut outcomes,
            Outcome::failed(
                format!("{tag} ({})", fetched.digest),
                "cosign-format",
                format!(
                    "the tag {tag} has {} layers; at most {} are read",
                    layers.len(),
                    c::MAX_LAYERS
                ),
            )
            .with_format(format),
        );
        return Ok(outcomes);
    }
    for l in layers {
        let source = format!("{tag} (layer {})", l.digest);
        let fail = |check: &'static str, msg: String| {
            Outcome::failed(source.clone(), check, msg).with_format(format)
        };
        let bytes = match registry.get_blob(&l.digest).await {
            Ok(b) => b,
            Err(e) => {
                all(&mut outcomes, fail("registry", e.to_string()));
                continue;
            }
        };
        let empty = std::collections::BTreeMap::new();
        let annotations = l.annotations.as_ref().unwrap_or(&empty);
        let layer = match c::CosignLayer::parse(&l.media_type, &l.digest, annotations, bytes) {
            Ok(layer) => layer,
            Err(e) => {
                let e = VerificationError::from(signet_verifier::CosignError::from(e));
                all(&mut outcomes, fail(check_name(&e), e.to_string()));
                continue;
            }
        };
        // Only the layers that claim the wanted type, in the statement or in the annotation
        // (one that disagrees with its statement is verified, and refused for it).
        if let (Wanted::Attestations { predicate_type }, c::LayerContent::Dsse(env)) =
            (wanted, &layer.content)
        {
            let claims = payload_predicate_type(&env.payload).as_deref() == Some(predicate_type)
                || layer.predicate_type.as_deref() == Some(predicate_type);
            if !claims {
                continue;
            }
        }
        for (policy, list) in policies.iter().zip(outcomes.iter_mut()) {
            let outcome = match signet_verifier::verify_cosign(
                &layer,
                &digest_bytes,
                policy,
                trust,
                Some(now()),
                require_tlog,
            ) {
                Ok(v) => Outcome {
                    source: source.clone(),
                    ok: true,
                    format: Some(format),
                    check: None,
                    error: None,
                    identity: v.identity.as_ref().and_then(|i| i.san().map(str::to_owned)),
                    issuer: v.identity.as_ref().and_then(|i| i.issuer.clone()),
                    log_index: v.log_index,
                    integrated_time: v.integrated_time.map(UnixTime::as_unix_seconds),
                    statement: v
                        .dsse_payload
                        .as_ref()
                        .and_then(|(_, payload)| signet_proto::json::from_slice(payload).ok()),
                },
                Err(e) => fail(check_name(&e), e.to_string()),
            };
            list.push(require_predicate_type(outcome, wanted));
        }
    }
    Ok(outcomes)
}

/// Every signature of the `wanted` kind attached to `digest`: Sigstore bundle referrers first,
/// then the layers of cosign's `.sig` / `.att` tag.
pub(crate) async fn verify_image_all(
    registry: &oci::RegistryClient,
    digest: &str,
    digest_bytes: [u8; 32],
    wanted: Wanted<'_>,
    policy: &Policy,
    trust: &TrustMaterial,
    require_tlog: bool,
) -> Result<Vec<Outcome>, oci::RegistryError> {
    let mut per_policy = verify_image_all_policies(
        registry,
        digest,
        digest_bytes,
        wanted,
        &[policy],
        trust,
        require_tlog,
    )
    .await?;
    Ok(per_policy.pop().unwrap_or_default())
}

/// As [`verify_image_all`] for several policies (the signers of an admission rule): the
/// signatures are fetched from the registry once, and each is verified against every policy;
/// for each policy in order, its outcomes.
pub(crate) async fn verify_image_all_policies(
    registry: &oci::RegistryClient,
    digest: &str,
    digest_bytes: [u8; 32],
    wanted: Wanted<'_>,
    policies: &[&Policy],
    trust: &TrustMaterial,
    require_tlog: bool,
) -> Result<Vec<Vec<Outcome>>, oci::RegistryError> {
    let mut outcomes =
        verify_image_referrers(registry, digest, digest_bytes, wanted, policies, trust).await?;
    let tag = verify_cosign_tag(
        registry,
        digest,
        digest_bytes,
        wanted,
        policies,
        trust,
        require_tlog,
    )
    .await?;
    for (list, more) in outcomes.iter_mut().zip(tag) {
        list.extend(more);
    }
    Ok(outcomes)
}
