//! The client zone: `sign`, `sign-blob`, `attest`, `verify`, `verify-blob`,
//! `verify-attestation`, `generate-key-pair`, `public-key`, `tree`, `download`.
//!
//! This is the I/O edge of signing and verification: files, the clock, the CA, the log and OCI
//! registries (through [`crate::registry`]). Formats and checks live in `signet-proto` and
//! `signet-verifier`. [`verify`] is also the admission webhook's verification glue; this zone
//! imports no server and no auditor.
//!
//! Exit codes: 0 success, 1 verification failed (the message names the failed check), 2 any
//! other error (bad arguments, unreachable servers, refused requests).

mod config;
pub(crate) mod keypair;
pub(crate) mod notary;
mod sign;
mod timestamp;
mod token;
mod tree;
pub(crate) mod verify;

use crate::registry as oci;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use signet_proto::keys::HashAlgorithm;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The client subcommands.
#[derive(Subcommand)]
pub(crate) enum ClientCommand {
    /// Sign an OCI image by digest and attach the bundle as an OCI 1.1 referrer.
    Sign(SignImageArgs),
    /// Sign a file and write a Sigstore bundle.
    SignBlob(SignBlobArgs),
    /// Verify the Sigstore bundles attached to an OCI image (by tag or digest).
    Verify(VerifyImageArgs),
    /// Sign an in-toto attestation (e.g. SLSA provenance, an SBOM) about an OCI image and
    /// attach it as a referrer.
    Attest(AttestArgs),
    /// Verify the in-toto attestations of one predicate type attached to an OCI image.
    VerifyAttestation(VerifyAttestationArgs),
    /// Verify a file (or its `sha256:` digest) against a Sigstore bundle.
    VerifyBlob(VerifyBlobArgs),
    /// Generate an encrypted ECDSA P-256 key pair for keyed signing.
    GenerateKeyPair(GenerateKeyPairArgs),
    /// Print the public key (PEM) of a private key file or of a key in a PKCS#11 token.
    PublicKey(PublicKeyArgs),
    /// List everything attached to an image: Sigstore bundle referrers by kind, cosign
    /// `.sig` / `.att` tags, other referrers, with digests.
    Tree(TreeArgs),
    /// Write the bundles and cosign signatures attached to an image into a directory.
    Download(DownloadArgs),
}

/// Arguments of `signet tree`.
#[derive(Args)]
pub(crate) struct TreeArgs {
    /// Image reference: REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:DIGEST.
    image: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    output: OutputFormat,
    /// Allow plain HTTP to a registry that is not on loopback.
    #[arg(long)]
    allow_insecure_registry: bool,
}

/// Arguments of `signet download`.
#[derive(Args)]
pub(crate) struct DownloadArgs {
    /// Image reference: REGISTRY/REPO:TAG or REGISTRY/REPO@sha256:DIGEST.
    image: String,
    /// The directory to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    output_dir: PathBuf,
    /// Allow plain HTTP to a registry that is not on loopback.
    #[arg(long)]
    allow_insecure_registry: bool,
}

/// Output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Human-readable lines on stderr.
    #[default]
    Text,
    /// One JSON object on stdout.
    Json,
}

/// Options shared by the signing commands.
#[derive(Args, Clone)]
pub(crate) struct SigningOptions {
    /// signing_config.json (v0.2) naming the CA and the log (as written by `signet serve`).
    /// Default: the TUF-verified one of the mirror `signet trust init --mirror` set up.
    #[arg(long, env = "SIGNET_SIGNING_CONFIG", value_name = "FILE")]
    signing_config: Option<PathBuf>,
    /// Base URL of the CA (Fulcio v2 API); overrides the signing config.
    #[arg(long, env = "SIGNET_CA_URL", value_name = "URL")]
    ca_url: Option<String>,
    /// Base URL of the transparency log (Rekor v1 API); overrides the signing config.
    #[arg(long, env = "SIGNET_LOG_URL", value_name = "URL")]
    log_url: Option<String>,
    /// OIDC identity token: the token, @FILE, or the path of an existing file holding it.
    /// Defaults to $SIGNET_ID_TOKEN, then $SIGSTORE_ID_TOKEN, then the GitHub Actions ambient
    /// token.
    #[arg(long, value_name = "TOKEN")]
    identity_token: Option<String>,
    /// Sign with this key (keyed mode) instead of a keyless certificate: a private key file
    /// (PKCS#8, SEC1, encrypted PKCS#8, cosign's encrypted keys; password from
    /// $SIGNET_PASSWORD, then $COSIGN_PASSWORD, then a prompt) or a PKCS#11 URI
    /// ('pkcs11:token=T;object=K?module-path=M&pin-value=P'; the key never leaves the token).
    #[arg(long, value_name = "FILE|URI")]
    key: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    output: OutputFormat,
}

/// Arguments of `signet sign`.
#[derive(Args)]
pub(crate) struct SignImageArgs {
    /// Image reference: REGISTRY/REPO:TAG, REGISTRY/REPO@sha256:DIGEST, or both. Tags are
    /// resolved to a digest first; only the digest is signed.
    image: String,
    #[command(flatten)]
    signing: SigningOptions,
    /// Also write the bundle to this file (for an index signed with `--recursive`, the
    /// index's own bundle).
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// When IMAGE is an image index (a multi-platform image), also sign every manifest it
    /// lists, each with its own log entry and attached bundle, so that each platform's digest
    /// verifies on its own. No effect on a single image manifest.
    #[arg(long)]
    recursive: bool,
    /// Allow plain HTTP to a registry that is not on loopback.
    #[arg(long)]
    allow_insecure_registry: bool,
}

/// Arguments of `signet attest`.
#[derive(Args)]
pub(crate) struct AttestArgs {
    /// Image reference: REGISTRY/REPO:TAG, REGISTRY/REPO@sha256:DIGEST, or both; the
    /// statement's subject is the manifest digest.
    image: String,
    /// The predicate, a JSON file (SLSA provenance, SPDX or CycloneDX SBOM, ...).
    #[arg(long, value_name = "FILE")]
    predicate: PathBuf,
    /// The predicate type: a URI, or one of slsaprovenance, slsaprovenance02,
    /// slsaprovenance1, link, spdx, spdxjson, cyclonedx, vuln, openvex, custom (as cosign).
    #[arg(long = "type", value_name = "TYPE", default_value = "custom")]
    predicate_type: String,
    #[command(flatten)]
    signing: SigningOptions,
    /// Also write the bundle to this file.
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// Allow plain HTTP to a registry that is not on loopback.
    #[arg(long)]
    allow_insecure_registry: bool,
}

/// Arguments of `signet verify-attestation`.
#[derive(Args)]
pub(crate) struct VerifyAttestationArgs {
    #[command(flatten)]
    target: VerifyImageArgs,
    /// The predicate type to verify: a URI or one of `attest --type`'s short names.
    #[arg(long = "type", value_name = "TYPE", default_value = "custom")]
    predicate_type: String,
}

/// Arguments of `signet sign-blob`.
#[derive(Args)]
pub(crate) struct SignBlobArgs {
    /// The file to sign.
    file: PathBuf,
    #[command(flatten)]
    signing: SigningOptions,
    /// Where to write the bundle (default: FILE.sigstore.json).
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
}

/// Options shared by the verification commands.
#[derive(Args, Clone)]
pub(crate) struct VerifyOptions {
    /// trusted_root.json with the CAs, CT logs and transparency logs to trust (offline).
    /// Default: the TUF-verified one of the mirror `signet trust init --mirror` set up.
    #[arg(long, env = "SIGNET_TRUSTED_ROOT", value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// The exact signer identity (certificate SAN: email or URI).
    #[arg(long, value_name = "ID")]
    certificate_identity: Option<String>,
    /// A regular expression the whole signer identity must match.
    #[arg(long, value_name = "REGEX")]
    certificate_identity_regexp: Option<String>,
    /// The exact OIDC issuer of the signer's token.
    #[arg(long, value_name = "URL")]
    certificate_oidc_issuer: Option<String>,
    /// A regular expression the whole OIDC issuer must match.
    #[arg(long, value_name = "REGEX")]
    certificate_oidc_issuer_regexp: Option<String>,
    /// GitHub Actions: the workflow trigger event (extension 1.3.6.1.4.1.57264.1.2).
    #[arg(long, value_name = "EVENT")]
    certificate_github_workflow_trigger: Option<String>,
    /// GitHub Actions: the commit SHA (extension 1.3.6.1.4.1.57264.1.3).
    #[arg(long, value_name = "SHA")]
    certificate_github_workflow_sha: Option<String>,
    /// GitHub Actions: the workflow name (extension 1.3.6.1.4.1.57264.1.4).
    #[arg(long, value_name = "NAME")]
    certificate_github_workflow_name: Option<String>,
    /// GitHub Actions: the repository, owner/name (extension 1.3.6.1.4.1.57264.1.5).
    #[arg(long, value_name = "REPO")]
    certificate_github_workflow_repository: Option<String>,
    /// GitHub Actions: the git ref (extension 1.3.6.1.4.1.57264.1.6).
    #[arg(long, value_name = "REF")]
    certificate_github_workflow_ref: Option<String>,
    /// Any Fulcio extension that must equal VALUE, as OID=VALUE (repeatable), e.g.
    /// `1.3.6.1.4.1.57264.1.9=https://github.com/o/r/.github/workflows/w.yml@refs/heads/main`.
    #[arg(long, value_name = "OID=VALUE")]
    certificate_extension: Vec<String>,
    /// Verify against this public key (PEM or DER SPKI; `signet public-key` prints a private
    /// key's) or the key a PKCS#11 URI names, instead of a certificate identity (keyed mode).
    #[arg(long, value_name = "FILE|URI")]
    key: Option<PathBuf>,
    /// Accept a keyed signature only from a key of this trusted keys document, valid and not
    /// revoked at the signing time (`signet keys`). Without it, --key and identity flags, the
    /// `trusted_keys.json` of the TUF mirror is used when it publishes one.
    #[arg(long, value_name = "FILE", conflicts_with = "key")]
    trusted_keys: Option<PathBuf>,
    /// Require witness cosignatures on the log checkpoint: a policy file with
    /// `witness NAME VKEY [URL]` lines and `quorum K` (C2SP cosignature/v1 keys).
    #[arg(long, value_name = "FILE")]
    witness_policy: Option<PathBuf>,
    /// Accept keyed cosign signatures (`sha256-<hex>.sig` / `.att` tags) that carry no Rekor
    /// bundle, as cosign's `--insecure-ignore-tlog` does: nothing then proves when, or that
    /// publicly, they were made. Keyless signatures always need their log entry.
    #[arg(long)]
    insecure_ignore_tlog: bool,
    /// Output format: `text` prints what was verified on stdout (errors on stderr); `json`
    /// prints one JSON object on stdout, for errors too.
    #[arg(long, value_enum, default_value_t)]
    output: OutputFormat,
}

impl VerifyOptions {
    fn identity_flags(&self) -> anyhow::Result<verify::IdentityFlags> {
        use signet_proto::cert as c;
        let mut claims = Vec::new();
        for (oid, value) in [
            (
                c::OID_GITHUB_WORKFLOW_TRIGGER,
                &self.certificate_github_workflow_trigger,
            ),
            (
                c::OID_GITHUB_WORKFLOW_SHA,
                &self.certificate_github_workflow_sha,
            ),
            (
                c::OID_GITHUB_WORKFLOW_NAME,
                &self.certificate_github_workflow_name,
            ),
            (
                c::OID_GITHUB_WORKFLOW_REPOSITORY,
                &self.certificate_github_workflow_repository,
            ),
            (
                c::OID_GITHUB_WORKFLOW_REF,
                &self.certificate_github_workflow_ref,
            ),
        ] {
            if let Some(v) = value {
                claims.push((oid, v.clone()));
            }
        }
        for flag in &self.certificate_extension {
            claims.push(verify::parse_extension_flag(flag, verify::Spelling::FLAGS)?);
        }
        Ok(verify::IdentityFlags {
            identity: self.certificate_identity.clone(),
            identity_regexp: self.certificate_identity_regexp.clone(),
            issuer: self.certificate_oidc_issuer.clone(),
            issuer_regexp: self.certificate_oidc_issuer_regexp.clone(),
            claims,
        })
    }
}

/// Arguments of `signet verify`.
#[derive(Args)]
pub(crate) struct VerifyImageArgs {
    /// Image reference: REGISTRY/REPO:TAG, REGISTRY/REPO@sha256:DIGEST, or both. A tag is
    /// resolved to its digest and the bundles attached to that digest are verified.
    image: String,
    #[command(flatten)]
    verify: VerifyOptions,
    /// When IMAGE is an image index, verify the manifest it lists for this platform
    /// (`os/architecture[/variant]`, e.g. `linux/amd64`) instead of the index itself.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
    /// Allow plain HTTP to a registry that is not on loopback.
    #[arg(long)]
    allow_insecure_registry: bool,
    #[command(flatten)]
    notation: notary::NotationArgs,
}

/// Arguments of `signet verify-blob`.
#[derive(Args)]
pub(crate) struct VerifyBlobArgs {
    /// The file to verify, or its digest as `sha256:` and 64 hex digits (taken as a digest
    /// only when no file of that name exists). With a digest, a signature is checked against
    /// the digest alone; for a DSSE (in-toto) bundle, the file or digest must be one of the
    /// statement's subjects.
    #[arg(value_name = "FILE|sha256:HEX")]
    file: PathBuf,
    /// The Sigstore bundle.
    #[arg(long, value_name = "FILE")]
    bundle: PathBuf,
    #[command(flatten)]
    verify: VerifyOptions,
}

/// Arguments of `signet generate-key-pair`.
#[derive(Args)]
pub(crate) struct GenerateKeyPairArgs {
    /// Write PREFIX.key (encrypted private key) and PREFIX.pub (public key).
    #[arg(long, default_value = "signet", value_name = "PREFIX")]
    output_key_prefix: String,
    /// Overwrite existing files.
    #[arg(long)]
    force: bool,
}

/// Arguments of `signet public-key`.
#[derive(Args)]
pub(crate) struct PublicKeyArgs {
    /// The private key: a file (as `sign --key` reads) or a PKCS#11 URI.
    #[arg(long, value_name = "FILE|URI")]
    key: PathBuf,
    /// Write the PEM to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    output_file: Option<PathBuf>,
}

/// Runs a client subcommand.
pub(crate) fn run(cmd: ClientCommand) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match cmd {
        ClientCommand::Sign(a) => rt.block_on(sign_image(a)),
        ClientCommand::SignBlob(a) => rt.block_on(sign_blob(a)),
        ClientCommand::Verify(a) => rt.block_on(verify_image(a)),
        ClientCommand::Attest(a) => rt.block_on(attest_image(a)),
        ClientCommand::VerifyAttestation(a) => rt.block_on(verify_attestation(a)),
        ClientCommand::Tree(a) => rt.block_on(tree_image(&a)),
        ClientCommand::Download(a) => rt.block_on(download_image(&a)),
        ClientCommand::VerifyBlob(a) => json_errors(a.verify.output, verify_blob(&a)),
        ClientCommand::GenerateKeyPair(a) => generate_key_pair(&a),
        ClientCommand::PublicKey(a) => public_key(&a),
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn emit(format: OutputFormat, value: &Value, text: &str) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string(value)?),
        OutputFormat::Text => eprintln!("{text}"),
    }
    Ok(())
}

fn write_new_file(path: &Path, contents: &[u8], force: bool, private: bool) -> anyhow::Result<()> {
    use crate::fsutil::{write_durable, Existing, Mode};
    let mode = if private { Mode::Private } else { Mode::Public };
    let existing = if force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    write_durable(path, contents, mode, existing).map_err(|e| {
        let exists = e
            .root_cause()
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::AlreadyExists);
        if exists {
            e.context(format!(
                "{} exists (pass --force to overwrite)",
                path.display()
            ))
        } else {
            e
        }
    })
}

fn generate_key_pair(args: &GenerateKeyPairArgs) -> anyhow::Result<ExitCode> {
    let key_path = PathBuf::from(format!("{}.key", args.output_key_prefix));
    let pub_path = PathBuf::from(format!("{}.pub", args.output_key_prefix));
    if !args.force {
        for p in [&key_path, &pub_path] {
            if p.exists() {
                anyhow::bail!("{} exists (pass --force to overwrite)", p.display());
            }
        }
    }
    let password = keypair::read_password(true)?;
    let kp = keypair::generate(password.as_bytes())?;
    write_new_file(&key_path, kp.private_pem.as_bytes(), args.force, true)?;
    write_new_file(&pub_path, kp.public_pem.as_bytes(), args.force, false)?;
    eprintln!(
        "Private key written to {} (encrypted)\nPublic key written to {}",
        key_path.display(),
        pub_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn public_key(args: &PublicKeyArgs) -> anyhow::Result<ExitCode> {
    let pem = keypair::spki_pem(&keypair::public_key_of(&args.key)?);
    match &args.output_file {
        Some(path) => {
            std::fs::write(path, pem.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("Public key written to {}", path.display());
        }
        None => print!("{pem}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Builds the signing identity for a run: keyed if `--key`, else keyless via the CA.
async fn signing_identity(
    opts: &SigningOptions,
    http: &reqwest::Client,
    services: &config::Services,
) -> anyhow::Result<sign::SigningIdentity> {
    if let Some(path) = &opts.key {
        let key = keypair::load_signing_key(path)?;
        return Ok(sign::keyed(key)?);
    }
    let ca = services.ca()?;
    Ok(sign::keyless(http, ca, opts.identity_token.as_deref()).await?)
}

async fn sign_blob(args: SignBlobArgs) -> anyhow::Result<ExitCode> {
    let opts = &args.signing;
    let (services, log) = signing_services(opts)?;
    let digest = sign::sha256_file(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let http = sign::http_client()?;
    let identity = signing_identity(opts, &http, &services).await?;
    // A P-384 key signs the artifact's SHA-384 digest, as cosign and sigstore-go do.
    let signed_digest = match identity.hash() {
        HashAlgorithm::Sha256 => digest.to_vec(),
        other => sign::hash_file(&args.file, other)
            .with_context(|| format!("cannot read {}", args.file.display()))?,
    };
    let mut signed = sign::sign_digest(&http, &log, &identity, &signed_digest).await?;
    if let Some(tsa) = &services.tsa_url {
        timestamp::add_timestamp(&http, tsa, &mut signed).await?;
    }
    let out = args.bundle.clone().unwrap_or_else(|| {
        let mut s = args.file.clone().into_os_string();
        s.push(".sigstore.json");
        PathBuf::from(s)
    });
    let text = serde_json::to_vec_pretty(&signed.bundle)?;
    std::fs::write(&out, &text).with_context(|| format!("cannot write {}", out.display()))?;
    emit(
        opts.output,
        &json!({
            "ok": true,
            "artifact": args.file.display().to_string(),
            "digest": format!("sha256:{}", hex::encode(digest)),
            "bundle": out.display().to_string(),
            "logIndex": signed.log_index,
            "integratedTime": signed.integrated_time,
            "signer": identity.describe(),
        }),
        &format!(
            "Signed {} (sha256:{}); log index {}; bundle written to {}",
            args.file.display(),
            hex::encode(digest),
            signed.log_index,
            out.display()
        ),
    )?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn digest_bytes(digest: &str) -> anyhow::Result<[u8; 32]> {
    let hex_part = digest
        .strip_prefix("sha256:")
        .with_context(|| format!("digest {digest} is not sha256"))?;
    let raw = hex::decode(hex_part)?;
    <[u8; 32]>::try_from(raw.as_slice())
        .map_err(|_| anyhow::anyhow!("digest {digest} is not 32 bytes"))
}

/// The CA and log a signing command uses (signing config, overridden by the URL flags), and
/// the log's URL.
fn signing_services(
    opts: &SigningOptions,
) -> anyhow::Result<(config::Services, config::LogTarget)> {
    // Without --signing-config (and unless both URLs are given): the TUF-verified one, when
    // `signet trust init --mirror` set a mirror up.
    let tuf_config = match (&opts.signing_config, &opts.ca_url, &opts.log_url) {
        (None, None, _) | (None, _, None) => crate::trust::client::default_signing_config()?,
        _ => None,
    };
    let services = config::resolve_services(
        opts.signing_config.as_deref().or(tuf_config.as_deref()),
        opts.ca_url.as_deref(),
        opts.log_url.as_deref(),
        now(),
    )?;
    let log = services.log()?;
    Ok((services, log))
}

/// Parses an image reference; one written with a URL scheme names the plain-HTTP rule.
fn parse_image(image: &str) -> anyhow::Result<oci::Reference> {
    oci::Reference::parse(image).map_err(|e| match e {
        signet_proto::oci::OciError::ReferenceWithScheme { .. } => anyhow::anyhow!(
            "{e}; registries on loopback are reached over plain HTTP, another plain-HTTP registry needs --allow-insecure-registry"
        ),
        e => e.into(),
    })
}

/// Parses an image reference, connects to its registry and resolves it to its manifest.
async fn open_image(
    image: &str,
    allow_insecure: bool,
) -> anyhow::Result<(oci::Reference, oci::RegistryClient, oci::FetchedManifest)> {
    let reference = parse_image(image)?;
    let registry = oci::RegistryClient::new(&reference, &oci::RegistryOptions { allow_insecure })?;
    let manifest = registry.resolve(&reference).await?;
    Ok((reference, registry, manifest))
}

async fn sign_image(args: SignImageArgs) -> anyhow::Result<ExitCode> {
    let opts = &args.signing;
    // The reference first: a mistake in it is named before the signing configuration's.
    parse_image(&args.image)?;
    let (services, log) = signing_services(opts)?;
    let (reference, registry, manifest) =
        open_image(&args.image, args.allow_insecure_registry).await?;
    let subject = manifest.descriptor();
    // With --recursive, the manifests an index lists are signed after the index itself.
    let mut entries: Vec<oci::Descriptor> = Vec::new();
    if args.recursive {
        for e in manifest.index_entries()?.unwrap_or_default() {
            if e.digest != subject.digest && !entries.iter().any(|x| x.digest == e.digest) {
                entries.push(e);
            }
        }
    }
    // Fail before anything is logged when the signature could not be attached.
    registry.check_push_access().await?;
    let http = sign::http_client()?;
    let identity = signing_identity(opts, &http, &services).await?;
    refuse_image_signature_key(&identity)?;
    let tsa = services.tsa_url.as_deref();
    let top = sign_and_attach(&registry, &http, (&log, tsa), &identity, &subject).await?;
    if let Some(out) = &args.bundle {
        std::fs::write(out, serde_json::to_vec_pretty(&top.signed.bundle)?)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let mut children = Vec::new();
    for e in &entries {
        let platform = e.platform.as_ref().map(ToString::to_string);
        let child = oci::Descriptor {
            platform: None,
            artifact_type: None,
            annotations: None,
            ..e.clone()
        };
        let a = sign_and_attach(&registry, &http, (&log, tsa), &identity, &child)
            .await
            .with_context(|| {
                format!(
                    "signing {} ({}) of the image index {} (the index and the entries before it are already signed)",
                    e.digest,
                    platform.as_deref().unwrap_or("no platform"),
                    subject.digest
                )
            })?;
        children.push((e, platform, a));
    }
    let pinned = reference.with_digest(&subject.digest);
    let mode_name = |m: &oci::ReferrersMode| match m {
        oci::ReferrersMode::Api => "referrers API",
        oci::ReferrersMode::TagSchema => "referrers tag schema",
    };
    let mut text = format!(
        "Signed {pinned}; log index {}; bundle attached as referrer {} ({})",
        top.signed.log_index,
        top.referrer.digest,
        mode_name(&top.mode)
    );
    for (e, platform, a) in &children {
        text.push_str(&format!(
            "\nSigned {} ({}); log index {}; bundle attached as referrer {}",
            e.digest,
            platform.as_deref().unwrap_or("no platform"),
            a.signed.log_index,
            a.referrer.digest
        ));
    }
    let mut out = json!({
        "ok": true,
        "image": pinned.to_string(),
        "tag": reference.tag,
        "digest": subject.digest,
        "referrer": top.referrer.digest,
        "referrersMode": top.mode,
        "logIndex": top.signed.log_index,
        "integratedTime": top.signed.integrated_time,
        "signer": identity.describe(),
    });
    if args.recursive && manifest.is_index() {
        out["manifests"] = children
            .iter()
            .map(|(e, platform, a)| {
                json!({
                    "digest": e.digest,
                    "platform": platform,
                    "referrer": a.referrer.digest,
                    "logIndex": a.signed.log_index,
                })
            })
            .collect();
    }
    emit(opts.output, &out, &text)?;
    Ok(ExitCode::SUCCESS)
}

/// A signature logged and attached to one manifest.
struct Attached {
    signed: sign::Signed,
    referrer: oci::Descriptor,
    mode: oci::ReferrersMode,
}

/// An image signature signs the manifest's SHA-256 digest (a verifier gets the image by that
/// digest, not its bytes), which a key that signs another hash's digests cannot sign: refused
/// before anything is logged, naming the keys that can and `attest`, which can use this one.
fn refuse_image_signature_key(identity: &sign::SigningIdentity) -> anyhow::Result<()> {
    if identity.hash() != HashAlgorithm::Sha256 {
        anyhow::bail!(
            "--key: an ECDSA P-384 key signs SHA-384 digests, and an image signature signs the \
             manifest's sha256 digest; sign images with an ECDSA P-256 or RSA key (`signet \
             generate-key-pair` makes one), or attest the image with this key (`signet attest` \
             signs its DSSE envelope with SHA-384)"
        );
    }
    Ok(())
}

/// Signs `subject`'s digest (one log entry) and attaches the bundle as its referrer.
async fn sign_and_attach(
    registry: &oci::RegistryClient,
    http: &reqwest::Client,
    (log, tsa): (&config::LogTarget, Option<&str>),
    identity: &sign::SigningIdentity,
    subject: &oci::Descriptor,
) -> anyhow::Result<Attached> {
    let digest = digest_bytes(&subject.digest)?;
    let mut signed = sign::sign_digest(http, log, identity, &digest).await?;
    if let Some(tsa) = tsa {
        timestamp::add_timestamp(http, tsa, &mut signed).await?;
    }
    let (referrer, mode) = attach_bundle(
        registry,
        subject,
        &signed,
        "message-signature",
        BTreeMap::new(),
    )
    .await?;
    Ok(Attached {
        signed,
        referrer,
        mode,
    })
}

/// Attaches `signed`'s bundle to `subject` as an OCI referrer, annotated with its creation
/// time, its content kind (`message-signature` or `dsse-envelope`, as cosign marks them) and
/// `extra`.
async fn attach_bundle(
    registry: &oci::RegistryClient,
    subject: &oci::Descriptor,
    signed: &sign::Signed,
    content: &str,
    mut annotations: BTreeMap<String, String>,
) -> anyhow::Result<(oci::Descriptor, oci::ReferrersMode)> {
    let bundle_bytes = serde_json::to_vec(&signed.bundle)?;
    annotations.insert(
        "org.opencontainers.image.created".to_owned(),
        now()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| now())
            .format(&Rfc3339)?,
    );
    annotations.insert("dev.sigstore.bundle.content".to_owned(), content.to_owned());
    Ok(registry
        .attach_referrer(subject, oci::BUNDLE_MEDIA_TYPE, &bundle_bytes, annotations)
        .await?)
}

/// The entry of the image index `manifest` for `wanted`: exactly one must match (a request
/// without a variant that matches several variants is ambiguous).
fn select_platform(
    manifest: &oci::FetchedManifest,
    wanted: &oci::Platform,
    reference: &oci::Reference,
) -> anyhow::Result<oci::Descriptor> {
    let Some(entries) = manifest.index_entries()? else {
        anyhow::bail!(
            "--platform {wanted}: {reference} is a single image manifest ({}), not an image index; verify it without --platform",
            manifest.digest
        );
    };
    let listed = || {
        let names: Vec<String> = entries
            .iter()
            .map(|e| {
                e.platform
                    .as_ref()
                    .map_or_else(|| "(none)".to_owned(), ToString::to_string)
            })
            .collect();
        names.join(", ")
    };
    let found: Vec<&oci::Descriptor> = entries
        .iter()
        .filter(|e| e.platform.as_ref().is_some_and(|p| wanted.selects(p)))
        .collect();
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => anyhow::bail!(
            "the image index {reference} ({}) has no manifest for platform {wanted}; it lists: {}",
            manifest.digest,
            listed()
        ),
        _ => anyhow::bail!(
            "platform {wanted} matches {} manifests of the image index {reference} ({}); name the variant: {}",
            found.len(),
            manifest.digest,
            listed()
        ),
    }
}

fn report(
    format: OutputFormat,
    mut summary: serde_json::Map<String, Value>,
    outcomes: &[verify::Outcome],
    subject: &str,
    what: &str,
) -> anyhow::Result<ExitCode> {
    let ok = outcomes.iter().any(|o| o.ok);
    summary.insert("ok".to_owned(), Value::Bool(ok));
    summary.insert("results".to_owned(), serde_json::to_value(outcomes)?);
    match format {
        OutputFormat::Json => {
            if outcomes.is_empty() {
                summary.insert("check".to_owned(), Value::String("none-found".to_owned()));
                summary.insert(
                    "error".to_owned(),
                    Value::String(format!("no {what} found for {subject}")),
                );
            }
            println!("{}", serde_json::to_string(&Value::Object(summary))?);
        }
        OutputFormat::Text => {
            for o in outcomes {
                if o.ok {
                    let time = o
                        .integrated_time
                        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
                        .and_then(|t| t.format(&Rfc3339).ok());
                    println!(
                        "Verified {subject}\n  format:     {}\n  source:     {}\n  signer:     {}\n  issuer:     {}\n  log index:  {}\n  signed at:  {}",
                        o.format.unwrap_or("sigstore-bundle"),
                        o.source,
                        o.identity.as_deref().unwrap_or("<public key>"),
                        o.issuer.as_deref().unwrap_or("-"),
                        o.log_index
                            .map_or_else(|| "- (no log entry)".to_owned(), |i| i.to_string()),
                        time.as_deref().unwrap_or("- (no verified time)"),
                    );
                } else {
                    eprintln!(
                        "signet: verification failed for {subject} with {} {}: {}",
                        o.format.unwrap_or("bundle"),
                        o.source,
                        o.error.as_deref().unwrap_or("unknown error")
                    );
                }
            }
            if outcomes.is_empty() {
                eprintln!("signet: verification failed: no {what} found for {subject}");
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// With `--output json`, an error before any signature was checked (arguments, trust root,
/// registry) is printed as `{"ok": false, "check": ..., "error": ...}` on stdout, and returned
/// as well, so that stderr has the same message as without JSON and the exit code is 2.
fn json_errors(format: OutputFormat, result: anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
    match (format, result) {
        (OutputFormat::Json, Err(e)) => {
            let check = if e.downcast_ref::<oci::RegistryError>().is_some() {
                "registry"
            } else {
                "input"
            };
            println!(
                "{}",
                json!({"ok": false, "check": check, "error": format!("{e:#}")})
            );
            Err(e)
        }
        (_, r) => r,
    }
}

fn verify_blob(args: &VerifyBlobArgs) -> anyhow::Result<ExitCode> {
    let v = &args.verify;
    let root = crate::trust::client::trusted_root_or_default(v.trusted_root.as_deref())?;
    let trust = verify::load_trust(&root, v.witness_policy.as_deref())?;
    let flags = v.identity_flags()?;
    let policy = match verify::trusted_keys_policy(
        v.trusted_keys.as_deref(),
        &root,
        v.key.as_deref(),
        &flags,
    )? {
        Some(p) => p,
        None => verify::build_policy(v.key.as_deref(), &flags, verify::Spelling::FLAGS)?,
    };
    let bundle = std::fs::read(&args.bundle)
        .with_context(|| format!("cannot read bundle {}", args.bundle.display()))?;
    let bytes;
    let artifact = match blob_digest(&args.file) {
        Some(d) => signet_verifier::verify::Artifact::Sha256Digest(d),
        None => {
            bytes = std::fs::read(&args.file)
                .with_context(|| format!("cannot read {}", args.file.display()))?;
            signet_verifier::verify::Artifact::Bytes(&bytes)
        }
    };
    let outcome = verify::verify_bundle_bytes(
        args.bundle.display().to_string(),
        &bundle,
        artifact,
        &policy,
        &trust,
    );
    let mut summary = serde_json::Map::new();
    summary.insert(
        "artifact".to_owned(),
        Value::String(args.file.display().to_string()),
    );
    report(
        v.output,
        summary,
        &[outcome],
        &args.file.display().to_string(),
        "Sigstore bundle",
    )
}

/// The digest named by a `verify-blob` argument of the form `sha256:` + 64 hex digits (either
/// case) that is not an existing path; `None` means the argument is a file path (the rule of
/// the sigstore-conformance CLI protocol and of sigstore-python).
fn blob_digest(arg: &Path) -> Option<[u8; 32]> {
    blob_digest_unless(arg, |p| p.symlink_metadata().is_ok())
}

/// [`blob_digest`] with the "is an existing path" test passed in.
fn blob_digest_unless(arg: &Path, exists: impl FnOnce(&Path) -> bool) -> Option<[u8; 32]> {
    let hex_part = arg.to_str()?.strip_prefix("sha256:")?;
    if hex_part.len() != 64 || !hex_part.bytes().all(|b| b.is_ascii_hexdigit()) || exists(arg) {
        return None;
    }
    <[u8; 32]>::try_from(hex::decode(hex_part).ok()?).ok()
}

async fn verify_image(args: VerifyImageArgs) -> anyhow::Result<ExitCode> {
    json_errors(
        args.verify.output,
        verify_image_bundles(&args, verify::Wanted::Signatures).await,
    )
}

async fn verify_attestation(args: VerifyAttestationArgs) -> anyhow::Result<ExitCode> {
    let result = match predicate_type_uri(&args.predicate_type) {
        Ok(predicate_type) => {
            verify_image_bundles(
                &args.target,
                verify::Wanted::Attestations {
                    predicate_type: &predicate_type,
                },
            )
            .await
        }
        Err(e) => Err(e),
    };
    json_errors(args.target.verify.output, result)
}

/// `verify` and `verify-attestation`: the bundles of the `wanted` kind attached to the image
/// (or to its `--platform` manifest), each verified offline.
async fn verify_image_bundles(
    args: &VerifyImageArgs,
    wanted: verify::Wanted<'_>,
) -> anyhow::Result<ExitCode> {
    if let Some(code) = notary::verify_only(args, wanted).await? {
        return Ok(code);
    }
    let v = &args.verify;
    let root = crate::trust::client::trusted_root_or_default(v.trusted_root.as_deref())?;
    let trust = verify::load_trust(&root, v.witness_policy.as_deref())?;
    let flags = v.identity_flags()?;
    let policy = match verify::trusted_keys_policy(
        v.trusted_keys.as_deref(),
        &root,
        v.key.as_deref(),
        &flags,
    )? {
        Some(p) => p,
        None => verify::build_policy(v.key.as_deref(), &flags, verify::Spelling::FLAGS)?,
    };
    let reference = parse_image(&args.image)?;
    let registry = oci::RegistryClient::new(
        &reference,
        &oci::RegistryOptions {
            allow_insecure: args.allow_insecure_registry,
        },
    )?;
    let mut summary = serde_json::Map::new();
    let digest = match (&args.platform, &reference.digest) {
        // By digest, as cosign: the signatures are found from the digest alone (the image
        // manifest itself need not be fetched).
        (None, Some(d)) => d.clone(),
        (None, None) => registry.resolve(&reference).await?.digest,
        (Some(p), _) => {
            let manifest = registry.resolve(&reference).await?;
            let wanted = oci::Platform::parse(p)?;
            let entry = select_platform(&manifest, &wanted, &reference)?;
            summary.insert("index".to_owned(), Value::String(manifest.digest.clone()));
            summary.insert(
                "platform".to_owned(),
                Value::String(
                    entry
                        .platform
                        .as_ref()
                        .map_or_else(|| wanted.to_string(), ToString::to_string),
                ),
            );
            entry.digest
        }
    };
    let mut outcomes = verify::verify_image_all(
        &registry,
        &digest,
        digest_bytes(&digest)?,
        wanted,
        &policy,
        &trust,
        !v.insecure_ignore_tlog,
    )
    .await?;
    outcomes.extend(notary::with_sigstore(args, &registry, &reference, &digest).await?);
    let pinned = reference.with_digest(&digest);
    summary.insert("image".to_owned(), Value::String(pinned.to_string()));
    summary.insert("digest".to_owned(), Value::String(digest));
    let what = match wanted {
        verify::Wanted::Signatures => "signatures (Sigstore bundles or cosign .sig tag)".to_owned(),
        verify::Wanted::Attestations { predicate_type } => {
            summary.insert(
                "predicateType".to_owned(),
                Value::String(predicate_type.to_owned()),
            );
            format!("attestations of type {predicate_type}")
        }
    };
    report(v.output, summary, &outcomes, &pinned.to_string(), &what)
}

/// The digest an image reference names: its own digest, else the tag resolved.
async fn image_digest(
    image: &str,
    allow_insecure: bool,
) -> anyhow::Result<(oci::Reference, oci::RegistryClient, String)> {
    let reference = parse_image(image)?;
    let registry = oci::RegistryClient::new(&reference, &oci::RegistryOptions { allow_insecure })?;
    let digest = match &reference.digest {
        Some(d) => d.clone(),
        None => registry.resolve(&reference).await?.digest,
    };
    Ok((reference, registry, digest))
}

async fn tree_image(args: &TreeArgs) -> anyhow::Result<ExitCode> {
    let (reference, registry, digest) =
        image_digest(&args.image, args.allow_insecure_registry).await?;
    let items = tree::attached(&registry, &digest).await?;
    let pinned = reference.with_digest(&digest).to_string();
    match args.output {
        OutputFormat::Json => println!(
            "{}",
            json!({"image": pinned, "digest": digest, "attached": items})
        ),
        OutputFormat::Text => print!("{}", tree::render(&pinned, &items)),
    }
    Ok(ExitCode::SUCCESS)
}

async fn download_image(args: &DownloadArgs) -> anyhow::Result<ExitCode> {
    let (reference, registry, digest) =
        image_digest(&args.image, args.allow_insecure_registry).await?;
    let items = tree::attached(&registry, &digest).await?;
    let written = tree::download(&registry, &items, &args.output_dir).await?;
    let pinned = reference.with_digest(&digest);
    if written.is_empty() {
        eprintln!("signet: nothing attached to {pinned} to download");
        return Ok(ExitCode::from(1));
    }
    for w in &written {
        println!("{w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The predicate type URI for `--type`: cosign's short names, or an absolute URI.
pub(crate) fn predicate_type_uri(t: &str) -> anyhow::Result<String> {
    Ok(match t {
        "slsaprovenance" | "slsaprovenance02" => "https://slsa.dev/provenance/v0.2",
        "slsaprovenance1" => "https://slsa.dev/provenance/v1",
        "link" => "https://in-toto.io/Link/v1",
        "spdx" | "spdxjson" => "https://spdx.dev/Document",
        "cyclonedx" => "https://cyclonedx.org/bom",
        "vuln" => "https://cosign.sigstore.dev/attestation/vuln/v1",
        "openvex" => "https://openvex.dev/ns",
        "custom" => "https://cosign.sigstore.dev/attestation/v1",
        uri if uri.contains("://") && !uri.contains(char::is_whitespace) => uri,
        other => anyhow::bail!(
            "--type {other:?} is neither a predicate type URI nor one of slsaprovenance, slsaprovenance02, slsaprovenance1, link, spdx, spdxjson, cyclonedx, vuln, openvex, custom"
        ),
    }
    .to_owned())
}

async fn attest_image(args: AttestArgs) -> anyhow::Result<ExitCode> {
    let opts = &args.signing;
    let predicate_type = predicate_type_uri(&args.predicate_type)?;
    let predicate_bytes = std::fs::read(&args.predicate)
        .with_context(|| format!("cannot read predicate {}", args.predicate.display()))?;
    let predicate: Value = signet_proto::json::from_slice(&predicate_bytes)
        .with_context(|| format!("predicate {} is not JSON", args.predicate.display()))?;
    // The reference first: a mistake in it is named before the signing configuration's.
    parse_image(&args.image)?;
    let (services, log) = signing_services(opts)?;
    let (reference, registry, manifest) =
        open_image(&args.image, args.allow_insecure_registry).await?;
    let subject = manifest.descriptor();
    let hex_digest = subject
        .digest
        .strip_prefix("sha256:")
        .context("the manifest digest is not sha256")?;
    // An in-toto Statement v1 about the manifest digest.
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{
            "name": reference.name(),
            "digest": {"sha256": hex_digest},
        }],
        "predicateType": predicate_type,
        "predicate": predicate,
    });
    let payload = serde_json::to_vec(&statement)?;
    registry.check_push_access().await?;
    let http = sign::http_client()?;
    let identity = signing_identity(opts, &http, &services).await?;
    let mut signed = sign::sign_dsse(
        &http,
        &log,
        &identity,
        "application/vnd.in-toto+json",
        &payload,
    )
    .await?;
    if let Some(tsa) = &services.tsa_url {
        timestamp::add_timestamp(&http, tsa, &mut signed).await?;
    }
    if let Some(out) = &args.bundle {
        std::fs::write(out, serde_json::to_vec_pretty(&signed.bundle)?)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let mut annotations = BTreeMap::new();
    annotations.insert(
        "dev.sigstore.bundle.predicateType".to_owned(),
        predicate_type.clone(),
    );
    let (referrer, mode) =
        attach_bundle(&registry, &subject, &signed, "dsse-envelope", annotations).await?;
    let pinned = reference.with_digest(&subject.digest);
    emit(
        opts.output,
        &json!({
            "ok": true,
            "image": pinned.to_string(),
            "digest": subject.digest,
            "predicateType": predicate_type,
            "referrer": referrer.digest,
            "referrersMode": mode,
            "logIndex": signed.log_index,
            "integratedTime": signed.integrated_time,
            "signer": identity.describe(),
        }),
        &format!(
            "Attested {pinned} ({predicate_type}); log index {}; bundle attached as referrer {}",
            signed.log_index, referrer.digest
        ),
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
// Tests and test fixtures unwrap: a panic with its location is the failure report
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{blob_digest, blob_digest_unless};
    use std::path::Path;

    /// `sha256:` + 64 hex digits (either case) is a digest; anything else, or such a name
    /// that exists on disk, is a file path.
    #[test]
    fn blob_digest_follows_the_conformance_rule() {
        let hex = "a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";
        let want: [u8; 32] = hex::decode(hex).unwrap().try_into().unwrap();
        assert_eq!(blob_digest(Path::new(&format!("sha256:{hex}"))), Some(want));
        let upper = format!("sha256:{}", hex.to_uppercase());
        assert_eq!(blob_digest(Path::new(&upper)), Some(want));
        for not_digest in [
            format!("sha256:{}", &hex[1..]),
            format!("sha256:{hex}0"),
            format!("sha256:{}g", &hex[1..]),
            format!("SHA256:{hex}"),
            format!("sha512:{hex}"),
            format!("./sha256:{hex}"),
            hex.to_owned(),
            "artifact.txt".to_owned(),
        ] {
            assert_eq!(blob_digest(Path::new(&not_digest)), None, "{not_digest}");
        }
        // An existing path with that name is read as a file.
        let name = format!("sha256:{hex}");
        assert_eq!(blob_digest_unless(Path::new(&name), |_| true), None);
        assert_eq!(blob_digest_unless(Path::new(&name), |_| false), Some(want));
        let dir = tempfile::tempdir().unwrap();
        let named = dir.path().join(&name);
        std::fs::write(&named, b"x").unwrap();
        assert!(
            blob_digest_unless(Path::new(&name), |_| named.symlink_metadata().is_ok()).is_none()
        );
    }
}
