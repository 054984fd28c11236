//! notation's OCI trust policy (`trustpolicy.json` / `trustpolicy.oci.json`, version 1.0) and
//! trust store names (`trust-store-trust-policy.md`).
//!
//! [`TrustPolicyDocument::parse`] reads the JSON and applies the spec's and notation's
//! validation rules: version `1.0`; at least one statement; unique, non-empty names; registry
//! scopes present, either one `*` (the single global statement) or fully qualified repository
//! URIs, each in one statement only; a level of `strict`, `permissive`, `audit` or `skip`, with
//! `override` keys `authenticity`, `authenticTimestamp`, `expiry`, `revocation` (values
//! `enforce`/`log`, and `skip` for revocation only; `skip` cannot be customised);
//! `verifyTimestamp` `always` or `afterCertExpiry`; a `skip` statement has no trust stores or
//! identities, any other has both; trust stores are `ca:NAME`, `signingAuthority:NAME` or
//! `tsa:NAME` with NAME of `[a-zA-Z0-9_.-]+` (a global `skip` statement is accepted, as
//! notation accepts it, although the spec text discourages it); trusted identities are `*` alone or
//! `x509.subject: DN` with C, ST (or S) and O, escaped as the spec says, none overlapping.
//! [`TrustPolicyDocument::applicable`] selects the statement for a repository: an exact scope
//! first, else the global one, else none.
//!
//! Not here: the trust store directory (read by the `signet` binary) and the verification
//! (`signet-verifier`'s `notary`). Blob trust policies (`trustpolicy.blob.json`) are not read.

use std::collections::BTreeMap;

use serde::Deserialize;

/// Why a trust policy document was refused, or no statement applies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Not JSON of the trust policy's shape (unknown fields are refused too).
    #[error("malformed notation trust policy: {reason}")]
    Malformed {
        /// Why.
        reason: String,
    },
    /// A rule of the spec is broken (the message names the statement and the fix).
    #[error("invalid notation trust policy: {reason}")]
    Invalid {
        /// Which rule, where.
        reason: String,
    },
    /// No statement's registry scope covers the repository and there is no global statement.
    #[error("no notation trust policy statement applies to {repository:?}: add its repository to a statement's registryScopes, or a statement with registryScopes [\"*\"]")]
    NoApplicablePolicy {
        /// The repository URI looked up.
        repository: String,
    },
}

fn invalid(reason: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        reason: reason.into(),
    }
}

/// A predefined verification level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Every validation enforced.
    Strict,
    /// Authentic timestamp, expiry and revocation only logged.
    Permissive,
    /// Only integrity enforced.
    Audit,
    /// No verification at all.
    Skip,
}

impl Level {
    /// The level's name in the policy.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Permissive => "permissive",
            Self::Audit => "audit",
            Self::Skip => "skip",
        }
    }
}

/// What a failed validation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// The signature fails.
    Enforce,
    /// The failure is reported and verification goes on.
    Log,
    /// The validation is not run (revocation only, or level `skip`).
    Skip,
}

/// The action for each validation other than integrity (always enforced unless skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enforcement {
    /// The certificate chain leads to the trust store and the signer is a trusted identity.
    pub authenticity: Action,
    /// The signing certificate chain was valid when the signature was made (timestamp, or
    /// now).
    pub authentic_timestamp: Action,
    /// The signer's expiry has not passed.
    pub expiry: Action,
    /// No certificate of the chain is revoked.
    pub revocation: Action,
}

impl Enforcement {
    /// The preset of a level.
    #[must_use]
    pub fn of(level: Level) -> Self {
        use Action::{Enforce, Log, Skip};
        let (a, t, e, r) = match level {
            Level::Strict => (Enforce, Enforce, Enforce, Enforce),
            Level::Permissive => (Enforce, Log, Log, Log),
            Level::Audit => (Log, Log, Log, Log),
            Level::Skip => (Skip, Skip, Skip, Skip),
        };
        Self {
            authenticity: a,
            authentic_timestamp: t,
            expiry: e,
            revocation: r,
        }
    }
}

/// When the timestamp countersignature is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyTimestamp {
    /// Always (the default).
    Always,
    /// Only when a certificate of the signing chain has expired at verification time.
    AfterCertExpiry,
}

/// The kind of a named trust store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TrustStoreType {
    /// `x509/ca`: CA roots for `notary.x509`.
    Ca,
    /// `x509/signingAuthority`: roots for `notary.x509.signingAuthority`.
    SigningAuthority,
    /// `x509/tsa`: timestamping roots.
    Tsa,
}

impl TrustStoreType {
    /// The name used in `trustStores` and as the directory under `x509/`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ca => "ca",
            Self::SigningAuthority => "signingAuthority",
            Self::Tsa => "tsa",
        }
    }

    /// The type a prefix names.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ca" => Some(Self::Ca),
            "signingAuthority" => Some(Self::SigningAuthority),
            "tsa" => Some(Self::Tsa),
            _ => None,
        }
    }
}

/// A named store, `type:name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrustStoreName {
    /// Its type.
    pub kind: TrustStoreType,
    /// Its name (`[a-zA-Z0-9_.-]+`, the directory name).
    pub name: String,
}

impl std::fmt::Display for TrustStoreName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.name)
    }
}

/// Whether a named store's name is valid (`[a-zA-Z0-9_.-]+`, as notation requires; it is a
/// directory name, so this also keeps paths inside the trust store).
#[must_use]
pub fn is_store_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// A distinguished name from `x509.subject:`, as attribute type and value pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistinguishedName {
    /// The text after `x509.subject:`, trimmed.
    pub raw: String,
    /// Upper-case attribute types (`S` is read as `ST`) with unescaped values.
    pub attributes: Vec<(String, String)>,
}

impl DistinguishedName {
    /// Parses comma-separated `TYPE=value` RDNs; `\,`, `\;`, `\\`, `\ ` and `\=` escape
    /// characters, unescaped spaces around types and values are dropped.
    ///
    /// # Errors
    /// [`PolicyError::Invalid`] when an RDN has no `=`, a type or value is empty, a type
    /// repeats, or C, ST and O are not all present.
    pub fn parse(raw: &str) -> Result<Self, PolicyError> {
        let raw = raw.trim();
        let mut attributes: Vec<(String, String)> = Vec::new();
        let mut rdns: Vec<String> = vec![String::new()];
        // Split at unescaped commas (or semicolons), keeping escapes for the next step.
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    let next = chars.next().ok_or_else(|| {
                        invalid(format!(
                            "trusted identity {raw:?} ends with a lone backslash"
                        ))
                    })?;
                    if let Some(last) = rdns.last_mut() {
                        last.push('\\');
                        last.push(next);
                    }
                }
                ',' | ';' => rdns.push(String::new()),
                c => {
                    if let Some(last) = rdns.last_mut() {
                        last.push(c);
                    }
                }
            }
        }
        for rdn in rdns {
            let (t, v) = split_unescaped_eq(&rdn).ok_or_else(|| {
                invalid(format!(
                    "trusted identity {raw:?} has an RDN {rdn:?} without '='"
                ))
            })?;
            let mut kind = t.trim().to_ascii_uppercase();
            if kind == "S" {
                kind = "ST".to_owned();
            }
            let value = unescape_value(v);
            if kind.is_empty() || value.is_empty() {
                return Err(invalid(format!(
                    "trusted identity {raw:?} has an empty attribute type or value"
                )));
            }
            if attributes.iter().any(|(k, _)| *k == kind) {
                return Err(invalid(format!(
                    "trusted identity {raw:?} names {kind} twice"
                )));
            }
            attributes.push((kind, value));
        }
        for required in ["C", "ST", "O"] {
            if !attributes.iter().any(|(k, _)| k == required) {
                return Err(invalid(format!(
                    "trusted identity {raw:?} has no {required}; an x509.subject identity needs C, ST (or S) and O"
                )));
            }
        }
        Ok(Self {
            raw: raw.to_owned(),
            attributes,
        })
    }

    /// Whether every attribute of this name has an equal one in `subject` (types upper
    /// case, `S` as `ST`): notation's partial subject match.
    #[must_use]
    pub fn matches(&self, subject: &[(String, String)]) -> bool {
        self.attributes
            .iter()
            .all(|(k, v)| subject.iter().any(|(sk, sv)| sk == k && sv == v))
    }
}

fn split_unescaped_eq(rdn: &str) -> Option<(&str, &str)> {
    let mut escaped = false;
    for (i, c) in rdn.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '=' if !escaped => return Some((&rdn[..i], &rdn[i + 1..])),
            _ => escaped = false,
        }
    }
    None
}

/// Unescapes a value and trims unescaped spaces at both ends.
fn unescape_value(v: &str) -> String {
    let mut out = String::new();
    // Index in `out` after the last escaped character: spaces before it are kept.
    let mut keep = 0;
    let mut chars = v.chars();
    let mut leading = true;
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
                keep = out.len();
                leading = false;
            }
        } else if c == ' ' && leading {
        } else {
            out.push(c);
            leading = false;
        }
    }
    let trimmed_len = out.trim_end_matches(' ').len().max(keep);
    out.truncate(trimmed_len);
    out
}

/// Who may have signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedIdentities {
    /// `*`: any certificate that chains to the trust stores.
    Any,
    /// Signing certificate subjects that match one of these names.
    Subjects(Vec<DistinguishedName>),
}

/// One validated trust policy statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicy {
    /// Its name.
    pub name: String,
    /// `*` or repository URIs.
    pub registry_scopes: Vec<String>,
    /// The level.
    pub level: Level,
    /// The level with its overrides applied.
    pub enforcement: Enforcement,
    /// When to verify the timestamp countersignature.
    pub verify_timestamp: VerifyTimestamp,
    /// The named stores it trusts.
    pub trust_stores: Vec<TrustStoreName>,
    /// Who may have signed.
    pub trusted_identities: TrustedIdentities,
}

impl TrustPolicy {
    /// The named stores of a type.
    pub fn stores(&self, kind: TrustStoreType) -> impl Iterator<Item = &TrustStoreName> {
        self.trust_stores.iter().filter(move |s| s.kind == kind)
    }
}

/// A validated OCI trust policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicyDocument {
    /// The statements, in file order.
    pub policies: Vec<TrustPolicy>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDocument {
    version: Option<String>,
    #[serde(rename = "trustPolicies", default)]
    trust_policies: Vec<RawStatement>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatement {
    #[serde(default)]
    name: String,
    #[serde(rename = "registryScopes", default)]
    registry_scopes: Vec<String>,
    #[serde(rename = "signatureVerification")]
    signature_verification: RawVerification,
    #[serde(rename = "trustStores", default)]
    trust_stores: Vec<String>,
    #[serde(rename = "trustedIdentities", default)]
    trusted_identities: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerification {
    #[serde(default)]
    level: String,
    #[serde(rename = "override", default)]
    overrides: BTreeMap<String, String>,
    #[serde(rename = "verifyTimestamp", default)]
    verify_timestamp: Option<String>,
}

/// Whether `scope` is a fully qualified repository URI (`host[:port]/path`, lower-case path
/// components as the distribution spec's reference grammar has them).
fn is_repository_uri(scope: &str) -> bool {
    let Some((domain, repository)) = scope.split_once('/') else {
        return false;
    };
    let (host, port) = match domain.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (domain, None),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let host_ok = host.split('.').all(label_ok);
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let component_ok = |c: &str| {
        let b = c.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_lowercase() | b[0].is_ascii_digit()
            && b[b.len() - 1].is_ascii_lowercase() | b[b.len() - 1].is_ascii_digit()
            && b.iter()
                .all(|x| x.is_ascii_lowercase() || x.is_ascii_digit() || b"._-".contains(x))
    };
    host_ok && port_ok && repository.split('/').all(component_ok)
}

fn action(s: &str) -> Option<Action> {
    match s {
        "enforce" => Some(Action::Enforce),
        "log" => Some(Action::Log),
        "skip" => Some(Action::Skip),
        _ => None,
    }
}

fn statement(raw: RawStatement) -> Result<TrustPolicy, PolicyError> {
    let name = raw.name;
    let sv = raw.signature_verification;
    let level = match sv.level.as_str() {
        "strict" => Level::Strict,
        "permissive" => Level::Permissive,
        "audit" => Level::Audit,
        "skip" => Level::Skip,
        "" => {
            return Err(invalid(format!(
                "statement {name:?} has no signatureVerification.level (strict, permissive, audit or skip)"
            )))
        }
        other => {
            return Err(invalid(format!(
                "statement {name:?} has signatureVerification.level {other:?}; use strict, permissive, audit or skip"
            )))
        }
    };
    let mut enforcement = Enforcement::of(level);
    if level == Level::Skip && !sv.overrides.is_empty() {
        return Err(invalid(format!(
            "statement {name:?}: level skip cannot be customised with override"
        )));
    }
    for (key, value) in &sv.overrides {
        let act = action(value).ok_or_else(|| {
            invalid(format!(
                "statement {name:?} overrides {key:?} with {value:?}; use enforce, log or skip"
            ))
        })?;
        let slot = match key.as_str() {
            "integrity" => {
                return Err(invalid(format!(
                    "statement {name:?}: integrity verification cannot be overridden"
                )))
            }
            "authenticity" => &mut enforcement.authenticity,
            "authenticTimestamp" => &mut enforcement.authentic_timestamp,
            "expiry" => &mut enforcement.expiry,
            "revocation" => &mut enforcement.revocation,
            other => {
                return Err(invalid(format!(
                    "statement {name:?} overrides {other:?}; the keys are authenticity, authenticTimestamp, expiry and revocation"
                )))
            }
        };
        if act == Action::Skip && key != "revocation" {
            return Err(invalid(format!(
                "statement {name:?}: {key} verification cannot be skipped (only revocation can)"
            )));
        }
        *slot = act;
    }
    let verify_timestamp = match sv.verify_timestamp.as_deref() {
        None | Some("" | "always") => VerifyTimestamp::Always,
        Some("afterCertExpiry") => VerifyTimestamp::AfterCertExpiry,
        Some(other) => {
            return Err(invalid(format!(
                "statement {name:?} has verifyTimestamp {other:?}; use always or afterCertExpiry"
            )))
        }
    };
    if level == Level::Skip {
        if !raw.trust_stores.is_empty() || !raw.trusted_identities.is_empty() {
            return Err(invalid(format!(
                "statement {name:?} is set to skip signature verification but lists trust stores or trusted identities; remove them"
            )));
        }
    } else if raw.trust_stores.is_empty() || raw.trusted_identities.is_empty() {
        return Err(invalid(format!(
            "statement {name:?} is missing trustStores or trustedIdentities; both must be given"
        )));
    }
    let mut trust_stores = Vec::new();
    for s in &raw.trust_stores {
        let (kind, store) = s.split_once(':').ok_or_else(|| {
            invalid(format!(
                "statement {name:?} has trust store {s:?} without a separator; the format is <type>:<name>"
            ))
        })?;
        let kind = TrustStoreType::parse(kind).ok_or_else(|| {
            invalid(format!(
                "statement {name:?} has trust store type {kind:?}; use ca, signingAuthority or tsa"
            ))
        })?;
        if !is_store_name(store) {
            return Err(invalid(format!(
                "statement {name:?} has trust store name {store:?}; names follow [a-zA-Z0-9_.-]+"
            )));
        }
        let n = TrustStoreName {
            kind,
            name: store.to_owned(),
        };
        if !trust_stores.contains(&n) {
            trust_stores.push(n);
        }
    }
    let trusted_identities = if raw.trusted_identities.iter().any(|i| i == "*") {
        if raw.trusted_identities.len() > 1 {
            return Err(invalid(format!(
                "statement {name:?} uses the wildcard trusted identity '*' with other values"
            )));
        }
        TrustedIdentities::Any
    } else {
        let mut names: Vec<DistinguishedName> = Vec::new();
        for i in &raw.trusted_identities {
            let (prefix, value) = i.split_once(':').ok_or_else(|| {
                invalid(format!(
                    "statement {name:?} has trusted identity {i:?} without a separator"
                ))
            })?;
            if prefix.trim() != "x509.subject" {
                return Err(invalid(format!(
                    "statement {name:?} has trusted identity {i:?}; only x509.subject: is supported"
                )));
            }
            let dn = DistinguishedName::parse(value)?;
            if let Some(other) = names
                .iter()
                .find(|o| o.matches(&dn.attributes) || dn.matches(&o.attributes))
            {
                return Err(invalid(format!(
                    "statement {name:?} has overlapping trusted identities {:?} and {:?}",
                    other.raw, dn.raw
                )));
            }
            names.push(dn);
        }
        if names.is_empty() {
            TrustedIdentities::Any
        } else {
            TrustedIdentities::Subjects(names)
        }
    };
    Ok(TrustPolicy {
        name,
        registry_scopes: raw.registry_scopes,
        level,
        enforcement,
        verify_timestamp,
        trust_stores,
        trusted_identities,
    })
}

impl TrustPolicyDocument {
    /// Parses and validates a trust policy document.
    ///
    /// # Errors
    /// [`PolicyError::Malformed`] when the JSON does not have the shape;
    /// [`PolicyError::Invalid`] naming the first rule broken.
    pub fn parse(bytes: &[u8]) -> Result<Self, PolicyError> {
        let raw: RawDocument =
            crate::json::from_slice(bytes).map_err(|e| PolicyError::Malformed {
                reason: e.to_string(),
            })?;
        match raw.version.as_deref() {
            Some("1.0") => {}
            None | Some("") => {
                return Err(invalid("the document has no version; it must be \"1.0\""))
            }
            Some(v) => {
                return Err(invalid(format!(
                    "version {v:?} is not supported; use \"1.0\""
                )))
            }
        }
        if raw.trust_policies.is_empty() {
            return Err(invalid("the document has no trustPolicies statement"));
        }
        let mut policies: Vec<TrustPolicy> = Vec::new();
        for s in raw.trust_policies {
            if s.name.is_empty() {
                return Err(invalid(
                    "a statement has no name; every statement needs one",
                ));
            }
            if policies.iter().any(|p| p.name == s.name) {
                return Err(invalid(format!(
                    "two statements are named {:?}; names must be unique",
                    s.name
                )));
            }
            let name = s.name.clone();
            if s.registry_scopes.is_empty() {
                return Err(invalid(format!(
                    "statement {name:?} has no registryScopes; give repository URIs or \"*\""
                )));
            }
            if s.registry_scopes.len() > 1 && s.registry_scopes.iter().any(|r| r == "*") {
                return Err(invalid(format!(
                    "statement {name:?} uses the wildcard scope '*' with other scopes"
                )));
            }
            for scope in &s.registry_scopes {
                if scope != "*" && !is_repository_uri(scope) {
                    return Err(invalid(format!(
                        "statement {name:?} has registry scope {scope:?}; use a fully qualified repository such as registry.example.com/team/app (no scheme, tag or wildcard)"
                    )));
                }
                if let Some(p) = policies.iter().find(|p| p.registry_scopes.contains(scope)) {
                    return Err(invalid(format!(
                        "registry scope {scope:?} is in both statements {:?} and {name:?}; a scope belongs to one statement",
                        p.name
                    )));
                }
            }
            let p = statement(s)?;
            policies.push(p);
        }
        Ok(Self { policies })
    }

    /// The statement that applies to a repository URI (`registry/repository`, no tag or
    /// digest): the one whose scopes list it, else the global one.
    ///
    /// # Errors
    /// [`PolicyError::NoApplicablePolicy`] when neither exists.
    pub fn applicable(&self, repository: &str) -> Result<&TrustPolicy, PolicyError> {
        self.policies
            .iter()
            .find(|p| p.registry_scopes.iter().any(|s| s == repository))
            .or_else(|| {
                self.policies
                    .iter()
                    .find(|p| p.registry_scopes.iter().any(|s| s == "*"))
            })
            .ok_or_else(|| PolicyError::NoApplicablePolicy {
                repository: repository.to_owned(),
            })
    }
}
