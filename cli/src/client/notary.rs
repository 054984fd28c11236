//! Notary Project (notation) signatures of an image: notation's trust policy and trust store
//! read from disk, the signatures found in the registry, each verified offline by
//! `signet_verifier::notary`.
//!
//! `signet verify IMAGE --notation-trust-policy trustpolicy.json --notation-trust-store DIR`
//! takes notation's own files unchanged: the OCI trust policy (`trustpolicy.json` or
//! `trustpolicy.oci.json`, version 1.0) and the trust store directory laid out as notation's
//! `truststore/`: `x509/{ca,signingAuthority,tsa}/<name>/` holding `.pem`, `.crt` or `.cer`
//! files (PEM or DER, several certificates per PEM file allowed; subdirectories ignored;
//! symlinks refused, as the spec requires). Only the stores the policy names are read. CRLs
//! for offline revocation checks are the `.crl` files (DER or PEM) of `DIR/crl/`.
//!
//! Discovery: the image's referrers (the OCI referrers API, else the referrers tag schema),
//! keeping manifests whose `artifactType` is `application/vnd.cncf.notary.signature` or, in
//! the older form, whose `config.mediaType` is; their subject must be the image; each
//! `application/jose+json` or `application/cose` layer is one envelope. The target descriptor
//! the envelopes must name is the image manifest's digest, media type and size, fetched by
//! digest.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use signet_proto::notary::policy::{Level, TrustPolicy, TrustPolicyDocument, TrustStoreName};
use signet_proto::notary::{ARTIFACT_TYPE_SIGNATURE, MEDIA_TYPE_COSE, MEDIA_TYPE_JWS};
use signet_verifier::notary::{NotaryError, VerifiedNotary};
use signet_verifier::{verify_notary, NotaryTarget, NotaryTrustStore, UnixTime};

use super::verify::Outcome;
use crate::registry as oci;

/// The format name of a Notary signature in `verify`'s per-signature report.
pub(crate) const FORMAT: &str = "notary";

/// The `--notation-*` flags of `signet verify`.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct NotationArgs {
    /// Also (or, without Sigstore identity flags, only) verify Notary Project signatures
    /// (notation's JWS/COSE envelopes attached as referrers) under this notation trust policy
    /// (trustpolicy.json / trustpolicy.oci.json, unchanged).
    #[arg(long, value_name = "FILE", requires = "notation_trust_store")]
    pub(crate) notation_trust_policy: Option<PathBuf>,
    /// notation's trust store directory (the one holding x509/ca, x509/signingAuthority,
    /// x509/tsa); CRL files for offline revocation checks go in its crl/ subdirectory.
    #[arg(long, value_name = "DIR", requires = "notation_trust_policy")]
    pub(crate) notation_trust_store: Option<PathBuf>,
}

impl NotationArgs {
    /// Whether the flags ask for Notary verification.
    pub(crate) fn enabled(&self) -> bool {
        self.notation_trust_policy.is_some()
    }

    /// Loads the policy and the store, when given.
    ///
    /// # Errors
    /// A file that cannot be read or is invalid, named with its path.
    pub(crate) fn load(&self) -> anyhow::Result<Option<NotationConfig>> {
        match (&self.notation_trust_policy, &self.notation_trust_store) {
            (Some(p), Some(d)) => load(p, d).map(Some),
            _ => Ok(None),
        }
    }
}

/// notation's trust policy and the trust store it names.
#[derive(Debug, Clone)]
pub(crate) struct NotationConfig {
    /// The validated policy document.
    pub(crate) policy: TrustPolicyDocument,
    /// The certificates of the named stores and the CRLs.
    pub(crate) store: NotaryTrustStore,
}

fn no_symlink(path: &Path) -> anyhow::Result<std::fs::Metadata> {
    let meta = std::fs::symlink_metadata(path)
        .with_context(|| format!("notation trust store: cannot read {}", path.display()))?;
    anyhow::ensure!(
        !meta.file_type().is_symlink(),
        "notation trust store: {} is a symlink; the Notary Project trust store does not allow symlinks, copy the file instead",
        path.display()
    );
    Ok(meta)
}

/// DER items of a PEM or DER file (PEM blocks of `label` only).
fn der_items(bytes: &[u8], label: &str, path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    if bytes.starts_with(b"-----BEGIN") || bytes.windows(10).any(|w| w == b"-----BEGIN") {
        let blocks =
            pem::parse_many(bytes).with_context(|| format!("{}: not valid PEM", path.display()))?;
        let items: Vec<Vec<u8>> = blocks
            .into_iter()
            .filter(|b| b.tag() == label)
            .map(pem::Pem::into_contents)
            .collect();
        anyhow::ensure!(
            !items.is_empty(),
            "{}: no {label} PEM block",
            path.display()
        );
        Ok(items)
    } else {
        Ok(vec![bytes.to_vec()])
    }
}

/// Reads the trust policy and the trust store directory (the stores the policy names, and
/// `crl/`).
///
/// # Errors
/// Unreadable or invalid files, missing named stores, symlinks.
pub(crate) fn load(policy_path: &Path, store_dir: &Path) -> anyhow::Result<NotationConfig> {
    let raw = std::fs::read(policy_path).with_context(|| {
        format!(
            "cannot read notation trust policy {}",
            policy_path.display()
        )
    })?;
    let policy = TrustPolicyDocument::parse(&raw)
        .with_context(|| format!("notation trust policy {}", policy_path.display()))?;
    let mut store = NotaryTrustStore::new();
    let mut names: Vec<&TrustStoreName> = policy
        .policies
        .iter()
        .flat_map(|p| p.trust_stores.iter())
        .collect();
    names.sort();
    names.dedup();
    for name in names {
        let dir = store_dir
            .join("x509")
            .join(name.kind.as_str())
            .join(&name.name);
        let meta = no_symlink(&dir).with_context(|| {
            format!(
                "the trust policy names trust store {name}, expected at {}",
                dir.display()
            )
        })?;
        anyhow::ensure!(
            meta.is_dir(),
            "notation trust store {name}: {} is not a directory",
            dir.display()
        );
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot list {}", dir.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        files.sort();
        let mut count = 0usize;
        for f in files {
            let meta = no_symlink(&f)?;
            if meta.is_dir() {
                continue; // the spec: subdirectories of a named store are ignored
            }
            let ext = f
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            if !matches!(ext.as_deref(), Some("pem" | "crt" | "cer")) {
                continue;
            }
            let bytes =
                std::fs::read(&f).with_context(|| format!("cannot read {}", f.display()))?;
            for der in der_items(&bytes, "CERTIFICATE", &f)? {
                store
                    .add_certificate(name.clone(), der)
                    .with_context(|| f.display().to_string())?;
                count += 1;
            }
        }
        anyhow::ensure!(
            count > 0,
            "notation trust store {name} ({}) holds no .pem, .crt or .cer certificate",
            dir.display()
        );
    }
    let crl_dir = store_dir.join("crl");
    if crl_dir.exists() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&crl_dir)
            .with_context(|| format!("cannot list {}", crl_dir.display()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        files.sort();
        for f in files {
            if no_symlink(&f)?.is_dir() || f.extension().and_then(|e| e.to_str()) != Some("crl") {
                continue;
            }
            let bytes =
                std::fs::read(&f).with_context(|| format!("cannot read {}", f.display()))?;
            for der in der_items(&bytes, "X509 CRL", &f)? {
                store
                    .add_crl(der)
                    .with_context(|| f.display().to_string())?;
            }
        }
    }
    Ok(NotationConfig { policy, store })
}

/// The `check` name of a Notary failure in the report.
fn check_name(e: &NotaryError) -> &'static str {
    match e {
        NotaryError::Envelope(_) => "notary-envelope",
        NotaryError::AlgorithmMismatch { .. }
        | NotaryError::BadSignature { .. }
        | NotaryError::UnsupportedCritical { .. }
        | NotaryError::TargetMismatch { .. } => "notary-integrity",
        NotaryError::Certificate { .. }
        | NotaryError::Chain { .. }
        | NotaryError::NoTrustStore { .. }
        | NotaryError::Untrusted { .. }
        | NotaryError::Identity { .. } => "notary-authenticity",
        NotaryError::Expired { .. } => "notary-expiry",
        NotaryError::NotValidAt { .. } | NotaryError::Timestamp { .. } => {
            "notary-authentic-timestamp"
        }
        NotaryError::Revoked { .. } | NotaryError::RevocationUnavailable { .. } => {
            "notary-revocation"
        }
        _ => "notary",
    }
}

fn failed(source: String, check: &'static str, error: String) -> Outcome {
    Outcome {
        source,
        ok: false,
        format: Some(FORMAT),
        check: Some(check),
        error: Some(error),
        identity: None,
        issuer: None,
        log_index: None,
        integrated_time: None,
        statement: None,
    }
}

/// What the Notary check of one image found.
#[derive(Debug, Default)]
pub(crate) struct NotaryReport {
    /// One outcome per envelope (or one for a `skip` policy), for `verify`'s report.
    pub(crate) outcomes: Vec<Outcome>,
    /// The signatures that verified.
    pub(crate) verified: Vec<VerifiedNotary>,
    /// Whether the applicable statement's level is `skip` (the image is accepted unverified,
    /// as notation accepts it).
    pub(crate) skipped: bool,
}

/// Finds the Notary signatures of `reference` (which must carry its digest) and verifies
/// each under the statement that applies to its repository. The admission webhook and
/// `signet verify` share it.
///
/// # Errors
/// Registry errors reaching the image or its referrers (a missing or broken signature is an
/// outcome, not an error), and an image reference without a digest.
pub(crate) async fn verify_image_notary(
    registry: &oci::RegistryClient,
    reference: &oci::Reference,
    config: &NotationConfig,
    now: UnixTime,
) -> anyhow::Result<NotaryReport> {
    let digest = reference
        .digest
        .as_deref()
        .context("a Notary check needs the image digest")?;
    let repository = reference.name();
    let mut report = NotaryReport::default();
    let policy: &TrustPolicy = match config.policy.applicable(&repository) {
        Ok(p) => p,
        Err(e) => {
            report
                .outcomes
                .push(failed(repository, "notary-policy", e.to_string()));
            return Ok(report);
        }
    };
    if policy.level == Level::Skip {
        report.skipped = true;
        report.outcomes.push(Outcome {
            source: format!("notation trust policy statement {:?}", policy.name),
            ok: true,
            format: Some(FORMAT),
            check: Some("notary-skip"),
            error: None,
            identity: None,
            issuer: None,
            log_index: None,
            integrated_time: None,
            statement: None,
        });
        return Ok(report);
    }
    let image = registry
        .get_manifest(digest)
        .await?
        .with_context(|| format!("image manifest {digest} not found"))?;
    let size = u64::try_from(image.bytes.len()).unwrap_or(u64::MAX);
    let target = NotaryTarget {
        digest,
        media_type: &image.media_type,
        size,
    };
    let (referrers, _mode) = registry.referrers(digest, None).await?;
    for r in referrers {
        match r.artifact_type.as_deref() {
            Some(ARTIFACT_TYPE_SIGNATURE) | None => {}
            Some(_) => continue,
        }
        let manifest = match registry.get_image_manifest(&r.digest).await {
            Ok(m) => m,
            Err(e) => {
                report
                    .outcomes
                    .push(failed(r.digest.clone(), "registry", e.to_string()));
                continue;
            }
        };
        let is_notary = manifest.artifact_type.as_deref() == Some(ARTIFACT_TYPE_SIGNATURE)
            || manifest.config.media_type == ARTIFACT_TYPE_SIGNATURE;
        if !is_notary {
            continue;
        }
        if manifest.subject.as_ref().map(|s| s.digest.as_str()) != Some(digest) {
            report.outcomes.push(failed(
                r.digest.clone(),
                "referrer",
                format!("signature manifest's subject is not {digest}"),
            ));
            continue;
        }
        for layer in &manifest.layers {
            let source = format!("{} (layer {})", r.digest, layer.digest);
            if layer.media_type != MEDIA_TYPE_JWS && layer.media_type != MEDIA_TYPE_COSE {
                report.outcomes.push(failed(
                    source,
                    "notary-envelope",
                    format!(
                        "layer media type {:?} is neither application/jose+json nor application/cose",
                        layer.media_type
                    ),
                ));
                continue;
            }
            let bytes = match registry.get_blob(&layer.digest).await {
                Ok(b) => b,
                Err(e) => {
                    report
                        .outcomes
                        .push(failed(source, "registry", e.to_string()));
                    continue;
                }
            };
            match verify_notary(
                &layer.media_type,
                &bytes,
                &target,
                policy,
                &config.store,
                now,
            ) {
                Ok(v) => {
                    for l in &v.logged {
                        eprintln!(
                            "signet: notary {source}: {} failed but policy {:?} ({}) only logs it: {}",
                            l.validation,
                            v.policy,
                            v.level.as_str(),
                            l.error
                        );
                    }
                    report.outcomes.push(Outcome {
                        source,
                        ok: true,
                        format: Some(FORMAT),
                        check: None,
                        error: None,
                        identity: Some(v.signer.clone()),
                        issuer: Some(v.trust_store.as_ref().map_or_else(
                            || {
                                format!(
                                    "notation trust policy {:?} (authenticity only logged)",
                                    v.policy
                                )
                            },
                            |s| format!("notation trust store {s}"),
                        )),
                        log_index: None,
                        integrated_time: v.timestamp.or(match v.signing_scheme {
                            signet_proto::notary::SigningScheme::X509SigningAuthority => {
                                v.signing_time
                            }
                            signet_proto::notary::SigningScheme::X509 => None,
                        }),
                        statement: None,
                    });
                    report.verified.push(v);
                }
                Err(e) => {
                    report
                        .outcomes
                        .push(failed(source, check_name(&e), format!("notary: {e}")))
                }
            }
        }
    }
    Ok(report)
}

/// Whether `verify` was given any Sigstore policy (identity, issuer or key flags): without
/// one, `--notation-*` verifies Notary signatures only.
fn sigstore_requested(v: &super::VerifyOptions) -> bool {
    v.key.is_some()
        || v.certificate_identity.is_some()
        || v.certificate_identity_regexp.is_some()
        || v.certificate_oidc_issuer.is_some()
        || v.certificate_oidc_issuer_regexp.is_some()
}

/// `signet verify IMAGE --notation-trust-policy F --notation-trust-store D` without Sigstore
/// flags: the Notary signatures only. `None` when the command is not that (the caller goes on
/// with Sigstore verification, and adds [`with_sigstore`]'s outcomes).
///
/// # Errors
/// Unreadable configuration, registry errors, `--notation-*` given to `verify-attestation`.
pub(super) async fn verify_only(
    args: &super::VerifyImageArgs,
    wanted: super::verify::Wanted<'_>,
) -> anyhow::Result<Option<std::process::ExitCode>> {
    if !args.notation.enabled() {
        return Ok(None);
    }
    anyhow::ensure!(
        matches!(wanted, super::verify::Wanted::Signatures),
        "--notation-trust-policy verifies signatures: use it with signet verify, not verify-attestation"
    );
    if sigstore_requested(&args.verify) {
        return Ok(None);
    }
    let config = args.notation.load()?.context("notation trust policy")?;
    let reference = super::parse_image(&args.image)?;
    let registry = oci::RegistryClient::new(
        &reference,
        &oci::RegistryOptions {
            allow_insecure: args.allow_insecure_registry,
        },
    )?;
    let mut summary = serde_json::Map::new();
    let digest = match (&args.platform, &reference.digest) {
        (None, Some(d)) => d.clone(),
        (None, None) => registry.resolve(&reference).await?.digest,
        (Some(p), _) => {
            let manifest = registry.resolve(&reference).await?;
            let wanted = oci::Platform::parse(p)?;
            let entry = super::select_platform(&manifest, &wanted, &reference)?;
            summary.insert(
                "index".to_owned(),
                serde_json::Value::String(manifest.digest.clone()),
            );
            entry.digest
        }
    };
    let pinned = reference.with_digest(&digest);
    let report = verify_image_notary(&registry, &pinned, &config, super::verify::now()).await?;
    summary.insert(
        "image".to_owned(),
        serde_json::Value::String(pinned.to_string()),
    );
    summary.insert("digest".to_owned(), serde_json::Value::String(digest));
    super::report(
        args.verify.output,
        summary,
        &report.outcomes,
        &pinned.to_string(),
        "Notary Project signatures",
    )
    .map(Some)
}

/// With both Sigstore and `--notation-*` flags: the Notary outcomes to add to the Sigstore
/// ones (empty without `--notation-*`).
///
/// # Errors
/// Unreadable configuration, registry errors.
pub(super) async fn with_sigstore(
    args: &super::VerifyImageArgs,
    registry: &oci::RegistryClient,
    reference: &oci::Reference,
    digest: &str,
) -> anyhow::Result<Vec<Outcome>> {
    let Some(config) = args.notation.load()? else {
        return Ok(Vec::new());
    };
    let pinned = reference.with_digest(digest);
    Ok(
        verify_image_notary(registry, &pinned, &config, super::verify::now())
            .await?
            .outcomes,
    )
}
