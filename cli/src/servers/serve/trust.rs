//! The trust files `signet serve` writes and serves: `trusted_root.json` (Sigstore
//! trustedroot v0.1), `signing_config.json` (signingconfig v0.2) and `trust_config.json`
//! (clienttrustconfig v0.1, what `sigstore --trust-config` reads).
//!
//! Each document is built as JSON and then parsed back through `signet_proto::trust`, so what
//! is written is exactly what our own parser (and with it the protobuf-specs JSON mapping)
//! accepts.

use anyhow::Context as _;
use base64::Engine as _;
use serde_json::{json, Value};
use signet_proto::keys::{KeyAlgorithm, PublicKey};
use signet_proto::trust::{ClientTrustConfig, SigningConfig, TrustedRoot};

use crate::fsutil::{write_durable, Existing, Mode};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Paths under which the trust files are served.
pub(crate) const TRUSTED_ROOT_PATH: &str = "/signet/v1/trusted_root.json";
/// See [`TRUSTED_ROOT_PATH`].
pub(crate) const SIGNING_CONFIG_PATH: &str = "/signet/v1/signing_config.json";
/// See [`TRUSTED_ROOT_PATH`].
pub(crate) const TRUST_CONFIG_PATH: &str = "/signet/v1/trust_config.json";
/// The CA's CRLs (PEM), served once it revoked anything (`signet ca revoke`).
pub(crate) const CRLS_PATH: &str = "/signet/v1/crls.pem";
/// The trusted keys for keyed signing (`signet keys`), served when the data directory has them.
pub(crate) const TRUSTED_KEYS_PATH: &str = "/signet/v1/trusted_keys.json";

/// The three documents, serialized.
#[derive(Clone, Debug)]
pub(crate) struct TrustFiles {
    pub(crate) trusted_root: String,
    pub(crate) signing_config: String,
    pub(crate) trust_config: String,
    /// The CA's CRLs, PEM (`crls.pem` of its directory), when it revoked anything.
    pub(crate) crls: Option<String>,
    /// The trusted keys document (`trusted_keys.json` of the data directory), if any.
    pub(crate) trusted_keys: Option<String>,
}

fn key_details(key: &PublicKey) -> anyhow::Result<&'static str> {
    Ok(match key.algorithm() {
        KeyAlgorithm::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256",
        KeyAlgorithm::EcdsaP384 => "PKIX_ECDSA_P384_SHA_384",
        KeyAlgorithm::Ed25519 => "PKIX_ED25519",
        other => anyhow::bail!("no trusted_root keyDetails for {other}"),
    })
}

/// One `tlogs[]` / `ctlogs[]` item.
pub(crate) fn log_instance(base_url: &str, key: &PublicKey, start: &str) -> anyhow::Result<Value> {
    Ok(json!({
        "baseUrl": base_url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": B64.encode(key.spki_der()),
            "keyDetails": key_details(key)?,
            "validFor": {"start": start},
        },
        "logId": {"keyId": B64.encode(key.key_id())},
    }))
}

/// One `certificateAuthorities[]` item; `chain_der` is intermediate(s) first, root last.
pub(crate) fn certificate_authority(base_url: &str, chain_der: &[Vec<u8>], start: &str) -> Value {
    json!({
        "subject": {"organization": "Signet", "commonName": "signet"},
        "uri": base_url,
        "certChain": {"certificates": chain_der.iter().map(|c| json!({"rawBytes": B64.encode(c)})).collect::<Vec<_>>()},
        "validFor": {"start": start},
    })
}

/// The directory of the CA's files: `<data_dir>/ca` for the CA `serve` generates, else the
/// directory of the configured chain file (a `signet ca-init` directory).
pub(crate) fn ca_dir(config: &super::Config) -> std::path::PathBuf {
    use super::CaKey;
    let parent = |p: &std::path::Path| {
        p.parent().map_or_else(
            || std::path::PathBuf::from("."),
            std::path::Path::to_path_buf,
        )
    };
    match &config.ca.key {
        CaKey::File { chain, .. } | CaKey::Pkcs11 { chain, .. } => parent(chain),
        CaKey::Generated => config.data_dir.join("ca"),
    }
}

/// The `certificateAuthorities[]` items of the CA in `dir` serving `chain_der`: one per
/// generation of a rotated CA (`signet ca rotate`, `authorities.json`), each with its
/// `validFor` window, the newest being `chain_der`; else `chain_der` alone, valid from
/// `created`.
pub(crate) fn certificate_authorities(
    base_url: &str,
    dir: &std::path::Path,
    chain_der: &[Vec<u8>],
    created: i64,
) -> anyhow::Result<Vec<Value>> {
    use signet_ca::rotate::Authorities;
    if !Authorities::rotated(dir) {
        return Ok(vec![certificate_authority(
            base_url,
            chain_der,
            &super::rfc3339(created)?,
        )]);
    }
    let history = Authorities::load(dir, created)?;
    history.check_current(dir, chain_der)?;
    history
        .authorities
        .iter()
        .map(|a| {
            let mut v = certificate_authority(base_url, &a.chain_der()?, &super::rfc3339(a.start)?);
            if let Some(end) = a.end {
                v["validFor"]["end"] = json!(super::rfc3339(end)?);
            }
            Ok(v)
        })
        .collect()
}

/// The trusted keys document of the data directory (`signet keys`), checked by the verifier's
/// parser, if there is one.
pub(crate) fn trusted_keys(data_dir: &std::path::Path) -> anyhow::Result<Option<String>> {
    let path = data_dir.join(super::keys_admin::TRUSTED_KEYS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            signet_verifier::trusted_keys::TrustedKeys::from_json(text.as_bytes())
                .with_context(|| format!("{} is not usable", path.display()))?;
            Ok(Some(text))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The CA's CRLs (`crls.pem` in `dir`), if it revoked anything.
pub(crate) fn crls(dir: &std::path::Path) -> anyhow::Result<Option<String>> {
    let path = dir.join(signet_ca::crl::CRLS_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// The timestamp authority: its `timestampAuthorities[]` items in the trusted root (one per
/// generation, chain leaf first, root last, each with its `validFor` window) and its full URL
/// for the signing config's `tsaUrls`.
pub(crate) struct TsaTrust {
    pub(crate) authorities: Vec<Value>,
    pub(crate) url: String,
}

/// The [`TsaTrust`] of a TSA served at `base_url` + `/api/v1/timestamp` with `generations`.
pub(crate) fn timestamp_authority(
    base_url: &str,
    generations: &[super::tsa::TsaGeneration],
) -> anyhow::Result<TsaTrust> {
    let authorities = generations
        .iter()
        .map(|g| {
            let mut v = json!({
                "subject": {"organization": "Signet", "commonName": "signet-tsa"},
                "uri": base_url,
                "certChain": {"certificates": g.chain.iter().map(|c| json!({"rawBytes": B64.encode(c)})).collect::<Vec<_>>()},
                "validFor": {"start": super::rfc3339(g.start)?},
            });
            if let Some(end) = g.end {
                v["validFor"]["end"] = json!(super::rfc3339(end)?);
            }
            Ok(v)
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(TsaTrust {
        authorities,
        url: format!("{base_url}{}", signet_ca::tsa_http::TIMESTAMP_PATH),
    })
}

/// Assembles and checks the three documents.
#[allow(clippy::too_many_arguments)]
pub(crate) fn build(
    tlogs: Vec<Value>,
    ctlogs: Vec<Value>,
    cas: Vec<Value>,
    ca_url: Option<&str>,
    log_url: Option<&str>,
    log_v2_url: Option<&str>,
    prefer_v2: bool,
    oidc_urls: &[String],
    tsa: Option<&TsaTrust>,
    start: &str,
) -> anyhow::Result<TrustFiles> {
    let mut root = json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": tlogs,
        "certificateAuthorities": cas,
        "ctlogs": ctlogs,
    });
    if let Some(tsa) = tsa {
        root["timestampAuthorities"] = json!(tsa.authorities);
    }
    let service_of = |url: &str, version: u32, operator: &str| json!({"url": url, "majorApiVersion": version, "validFor": {"start": start}, "operator": operator});
    let service = |url: &str, version: u32| service_of(url, version, "signet");
    // Clients choose among tlogs thus: sigstore-js the newest `validFor.start`, the first
    // listed on a tie; signet the same; sigstore-python the highest version per operator,
    // then the first operator listed. Preferred, v2 comes first under the same operator as v1
    // (all three pick it); otherwise v1 comes first and v2 has an operator of its own, so
    // that all three pick v1 unless told to use v2 (`sigstore sign --rekor-version 2`).
    let mut tlog_services: Vec<Value> = log_url.map(|u| service(u, 1)).into_iter().collect();
    if let Some(v2) = log_v2_url {
        if prefer_v2 {
            tlog_services.insert(0, service(v2, 2));
        } else {
            tlog_services.push(service_of(v2, 2, "signet-rekor-v2"));
        }
    }
    let mut signing = json!({
        "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
        "caUrls": ca_url.map(|u| vec![service(u, 1)]).unwrap_or_default(),
        "oidcUrls": oidc_urls.iter().map(|u| service(u, 1)).collect::<Vec<_>>(),
        "rekorTlogUrls": tlog_services,
        "tsaUrls": [],
    });
    if log_url.is_some() {
        signing["rekorTlogConfig"] = json!({"selector": "ANY"});
        signing["tsaConfig"] = json!({"selector": "ANY"});
    }
    if let Some(tsa) = tsa {
        signing["tsaUrls"] = json!([service(&tsa.url, 1)]);
        signing["tsaConfig"] = json!({"selector": "ANY"});
    }
    let client = json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": root,
        "signingConfig": signing,
    });
    let files = TrustFiles {
        trusted_root: serde_json::to_string_pretty(&root)?,
        signing_config: serde_json::to_string_pretty(&signing)?,
        trust_config: serde_json::to_string_pretty(&client)?,
        crls: None,
        trusted_keys: None,
    };
    TrustedRoot::from_json(files.trusted_root.as_bytes()).context("generated trusted_root.json")?;
    SigningConfig::from_json(files.signing_config.as_bytes())
        .context("generated signing_config.json")?;
    ClientTrustConfig::from_json(files.trust_config.as_bytes())
        .context("generated trust_config.json")?;
    Ok(files)
}

impl TrustFiles {
    /// Writes the three files into `dir`.
    pub(crate) fn write_to(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        for (name, text) in [
            ("trusted_root.json", &self.trusted_root),
            ("signing_config.json", &self.signing_config),
            ("trust_config.json", &self.trust_config),
        ] {
            write_durable(
                &dir.join(name),
                text.as_bytes(),
                Mode::Public,
                Existing::Replace,
            )?;
        }
        if let Some(crls) = &self.crls {
            write_durable(
                &dir.join(signet_ca::crl::CRLS_FILE),
                crls.as_bytes(),
                Mode::Public,
                Existing::Replace,
            )?;
        }
        Ok(())
    }
}
