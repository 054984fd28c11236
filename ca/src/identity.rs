//! Pure mapping from verified OIDC claims to a certificate identity ([`Principal`]).
//!
//! Follows Fulcio's issuer types and its "Mapping OIDC token claims to Fulcio OIDs" table
//! (sigstore/fulcio `docs/oid-info.md`). OIDs come from [`signet_proto::cert`], never from here.
//! No I/O and no signature checks: the claims must already be verified by [`crate::oidc`].

use serde_json::{Map, Value};
use signet_proto::{cert, text};

use crate::config::{IssuerConfig, IssuerType};

/// The Subject Alternative Name to put in the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum San {
    /// rfc822Name.
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
    /// OtherName of type 1.3.6.1.4.1.57264.1.7 (UTF8String), `user!domain`.
    Username(String),
}

impl San {
    /// The SAN's value.
    #[must_use]
    pub fn value(&self) -> &str {
        match self {
            Self::Email(s) | Self::Uri(s) | Self::Username(s) => s,
        }
    }
}

/// A verified identity, ready to be put in a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token issuer (goes into .1.1 and .1.8).
    pub issuer: String,
    /// The SAN.
    pub san: San,
    /// The value the proof of possession must sign (email or `sub`).
    pub challenge: String,
    /// The token's raw `sub`.
    pub subject: String,
    /// Extra Fulcio extensions (dotted OID from [`signet_proto::cert`], string value), in OID
    /// order, excluding the issuer extensions.
    pub extensions: Vec<(&'static str, String)>,
}

/// Why claims cannot be mapped to an identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// A required claim is absent or not a string.
    #[error("claim {claim} is missing or not a string")]
    MissingClaim {
        /// The claim name.
        claim: &'static str,
    },
    /// `email_verified` is not `true` for an email issuer.
    #[error("email is not verified")]
    EmailNotVerified,
    /// The `sub` URI is not allowed for this issuer.
    #[error("subject {subject:?} is not a URI in domain {domain}")]
    SubjectDomain {
        /// The `sub`.
        subject: String,
        /// The configured domain.
        domain: String,
    },
    /// A claim has a value that cannot go into a certificate.
    #[error("claim {claim} has an invalid value")]
    InvalidClaim {
        /// The claim name.
        claim: &'static str,
    },
    /// A claim holds a control or invisible formatting character (NUL, a newline, a bidi
    /// override...), which could hide or forge what a verifier, a log line or a person reads.
    #[error("claim {claim} contains a control character (U+{code:04X})")]
    ControlCharacter {
        /// The claim name.
        claim: &'static str,
        /// The offending character.
        code: u32,
    },
}

/// Refuses a claim value holding a forbidden character.
fn clean(name: &'static str, value: &str) -> Result<(), IdentityError> {
    match value.chars().find(|&c| text::is_deceptive_char(c)) {
        Some(c) => Err(IdentityError::ControlCharacter {
            claim: name,
            code: u32::from(c),
        }),
        None => Ok(()),
    }
}

/// A required, non-empty string claim with no forbidden character.
fn claim<'a>(claims: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, IdentityError> {
    let value = claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(IdentityError::MissingClaim { claim: name })?;
    clean(name, value)?;
    Ok(value)
}

/// Whether `email` is a plain ASCII addr-spec `local@domain` as a certificate's rfc822Name
/// holds it: one `@`, a dot-atom local part (RFC 5322 atext, no quoted strings), and a domain
/// of LDH labels. Anything else (white space, a second `@`, quotes, empty labels) is refused
/// rather than guessed at.
fn is_plain_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(atext));
    local_ok && is_dns_name(domain)
}

/// Whether `name` is a DNS name of LDH labels (letters, digits, hyphens; no label empty, over
/// 63 bytes, or starting or ending with a hyphen), at most 253 bytes.
fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Whether `s` is an absolute URL exactly as a WHATWG parser prints it: what a verifier reads
/// from the certificate is then what every parser reads.
fn is_canonical_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| u.as_str() == s && u.has_host())
}

/// Reads a claim that may be a JSON string or number (GitHub sends `run_attempt` as a string,
/// other providers send numbers).
fn claim_text(claims: &Map<String, Value>, name: &'static str) -> Result<String, IdentityError> {
    match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() => {
            clean(name, s)?;
            Ok(s.clone())
        }
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(IdentityError::MissingClaim { claim: name }),
    }
}

/// Maps verified claims to a [`Principal`] per the issuer's type.
///
/// # Errors
/// [`IdentityError`] when a claim required by the type is missing or invalid.
pub fn principal_from_claims(
    issuer: &IssuerConfig,
    claims: &Map<String, Value>,
) -> Result<Principal, IdentityError> {
    let subject = claim(claims, "sub")?.to_owned();
    let mut p = Principal {
        issuer: issuer.url.clone(),
        san: San::Uri(String::new()),
        challenge: subject.clone(),
        subject: subject.clone(),
        extensions: Vec::new(),
    };
    match issuer.issuer_type {
        IssuerType::Email => {
            let email = claim(claims, "email")?.to_owned();
            if claims.get("email_verified") != Some(&Value::Bool(true)) {
                return Err(IdentityError::EmailNotVerified);
            }
            if !is_plain_email(&email) {
                return Err(IdentityError::InvalidClaim { claim: "email" });
            }
            p.challenge.clone_from(&email);
            p.san = San::Email(email);
        }
        IssuerType::GithubWorkflow => github(issuer, claims, &mut p)?,
        IssuerType::GitlabPipeline => gitlab(claims, &mut p)?,
        IssuerType::Kubernetes => {
            let k8s = claims
                .get("kubernetes.io")
                .and_then(Value::as_object)
                .ok_or(IdentityError::MissingClaim {
                    claim: "kubernetes.io",
                })?;
            let ns = claim(k8s, "namespace")?;
            let sa = k8s.get("serviceaccount").and_then(Value::as_object).ok_or(
                IdentityError::MissingClaim {
                    claim: "serviceaccount",
                },
            )?;
            let name = claim(sa, "name")?;
            // Kubernetes object names: a namespace is a DNS label, a service account a DNS
            // subdomain (lowercase). Anything else would change the URI's path.
            if !is_dns_name(ns) || ns.contains('.') || ns.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(IdentityError::InvalidClaim { claim: "namespace" });
            }
            if !is_dns_name(name) || name.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(IdentityError::InvalidClaim {
                    claim: "serviceaccount",
                });
            }
            p.san = San::Uri(format!(
                "https://kubernetes.io/namespaces/{ns}/serviceaccounts/{name}"
            ));
        }
        IssuerType::Uri => {
            let domain = issuer.subject_domain.clone().unwrap_or_default();
            if !uri_in_domain(&subject, &domain) {
                return Err(IdentityError::SubjectDomain { subject, domain });
            }
            p.san = San::Uri(subject.clone());
        }
        IssuerType::Username => {
            let domain = issuer.subject_domain.clone().unwrap_or_default();
            if subject.contains('!')
                || subject.contains('@')
                || subject.chars().any(char::is_whitespace)
            {
                return Err(IdentityError::InvalidClaim { claim: "sub" });
            }
            p.san = San::Username(format!("{subject}!{domain}"));
        }
    }
    // A URI SAN built from claims (a workflow ref, a pipeline path) must be a URL in the form
    // every parser prints, as the `uri` issuer's subject already must.
    if let San::Uri(uri) = &p.san {
        if !is_canonical_url(uri) {
            return Err(IdentityError::InvalidClaim {
                claim: uri_claim(issuer.issuer_type),
            });
        }
    }
    p.extensions.push((cert::OID_TOKEN_SUBJECT, subject));
    p.extensions.sort_by_key(|(oid, _)| oid_sort_key(oid));
    Ok(p)
}

/// The claim a URI SAN of this issuer type is made from, for the error message.
fn uri_claim(t: IssuerType) -> &'static str {
    match t {
        IssuerType::GithubWorkflow => "job_workflow_ref",
        IssuerType::GitlabPipeline => "ci_config_ref_uri",
        IssuerType::Kubernetes => "kubernetes.io",
        _ => "sub",
    }
}

fn oid_sort_key(oid: &str) -> Vec<u64> {
    cert::oid_arcs(oid).unwrap_or_default()
}

fn github(
    issuer: &IssuerConfig,
    claims: &Map<String, Value>,
    p: &mut Principal,
) -> Result<(), IdentityError> {
    let server = issuer
        .server_url
        .clone()
        .unwrap_or_else(|| "https://github.com".to_owned());
    let server = server.trim_end_matches('/');
    let job_workflow_ref = claim(claims, "job_workflow_ref")?;
    let repository = claim(claims, "repository")?;
    let sha = claim(claims, "sha")?;
    let git_ref = claim(claims, "ref")?;
    let event = claim(claims, "event_name")?;
    let workflow = claim(claims, "workflow")?;
    let run_id = claim_text(claims, "run_id")?;
    let run_attempt = claim_text(claims, "run_attempt")?;
    let signer_uri = format!("{server}/{job_workflow_ref}");
    p.san = San::Uri(signer_uri.clone());
    let mut ext = vec![
        (cert::OID_GITHUB_WORKFLOW_TRIGGER, event.to_owned()),
        (cert::OID_GITHUB_WORKFLOW_SHA, sha.to_owned()),
        (cert::OID_GITHUB_WORKFLOW_NAME, workflow.to_owned()),
        (cert::OID_GITHUB_WORKFLOW_REPOSITORY, repository.to_owned()),
        (cert::OID_GITHUB_WORKFLOW_REF, git_ref.to_owned()),
        (cert::OID_BUILD_SIGNER_URI, signer_uri),
        (
            cert::OID_BUILD_SIGNER_DIGEST,
            claim(claims, "job_workflow_sha")?.to_owned(),
        ),
        (
            cert::OID_RUNNER_ENVIRONMENT,
            claim(claims, "runner_environment")?.to_owned(),
        ),
        (
            cert::OID_SOURCE_REPOSITORY_URI,
            format!("{server}/{repository}"),
        ),
        (cert::OID_SOURCE_REPOSITORY_DIGEST, sha.to_owned()),
        (cert::OID_SOURCE_REPOSITORY_REF, git_ref.to_owned()),
        (
            cert::OID_SOURCE_REPOSITORY_IDENTIFIER,
            claim_text(claims, "repository_id")?,
        ),
        (
            cert::OID_SOURCE_REPOSITORY_OWNER_URI,
            format!("{server}/{}", claim(claims, "repository_owner")?),
        ),
        (
            cert::OID_SOURCE_REPOSITORY_OWNER_IDENTIFIER,
            claim_text(claims, "repository_owner_id")?,
        ),
        (
            cert::OID_BUILD_CONFIG_URI,
            format!("{server}/{}", claim(claims, "workflow_ref")?),
        ),
        (
            cert::OID_BUILD_CONFIG_DIGEST,
            claim(claims, "workflow_sha")?.to_owned(),
        ),
        (cert::OID_BUILD_TRIGGER, event.to_owned()),
        (
            cert::OID_RUN_INVOCATION_URI,
            format!("{server}/{repository}/actions/runs/{run_id}/attempts/{run_attempt}"),
        ),
    ];
    if let Ok(v) = claim(claims, "repository_visibility") {
        ext.push((cert::OID_SOURCE_REPOSITORY_VISIBILITY, v.to_owned()));
    }
    if let Ok(v) = claim(claims, "environment") {
        ext.push((cert::OID_DEPLOYMENT_ENVIRONMENT, v.to_owned()));
    }
    p.extensions.extend(ext);
    Ok(())
}

fn gitlab(claims: &Map<String, Value>, p: &mut Principal) -> Result<(), IdentityError> {
    let server = claim(claims, "iss")?.trim_end_matches('/').to_owned();
    let config_ref_uri = claim(claims, "ci_config_ref_uri")?;
    let project_path = claim(claims, "project_path")?;
    let git_ref = claim(claims, "ref")?;
    let ref_type = claim(claims, "ref_type")?;
    let full_ref = match ref_type {
        "branch" => format!("refs/heads/{git_ref}"),
        "tag" => format!("refs/tags/{git_ref}"),
        _ => return Err(IdentityError::InvalidClaim { claim: "ref_type" }),
    };
    let signer_uri = format!("https://{config_ref_uri}");
    let config_sha = claim(claims, "ci_config_sha")?;
    p.san = San::Uri(signer_uri.clone());
    p.extensions.extend([
        (cert::OID_BUILD_SIGNER_URI, signer_uri.clone()),
        (cert::OID_BUILD_SIGNER_DIGEST, config_sha.to_owned()),
        (
            cert::OID_RUNNER_ENVIRONMENT,
            claim(claims, "runner_environment")?.to_owned(),
        ),
        (
            cert::OID_SOURCE_REPOSITORY_URI,
            format!("{server}/{project_path}"),
        ),
        (
            cert::OID_SOURCE_REPOSITORY_DIGEST,
            claim(claims, "sha")?.to_owned(),
        ),
        (cert::OID_SOURCE_REPOSITORY_REF, full_ref),
        (
            cert::OID_SOURCE_REPOSITORY_IDENTIFIER,
            claim_text(claims, "project_id")?,
        ),
        (
            cert::OID_SOURCE_REPOSITORY_OWNER_URI,
            format!("{server}/{}", claim(claims, "namespace_path")?),
        ),
        (
            cert::OID_SOURCE_REPOSITORY_OWNER_IDENTIFIER,
            claim_text(claims, "namespace_id")?,
        ),
        (cert::OID_BUILD_CONFIG_URI, signer_uri),
        (cert::OID_BUILD_CONFIG_DIGEST, config_sha.to_owned()),
        (
            cert::OID_BUILD_TRIGGER,
            claim(claims, "pipeline_source")?.to_owned(),
        ),
        (
            cert::OID_RUN_INVOCATION_URI,
            format!(
                "{server}/{project_path}/-/jobs/{}",
                claim_text(claims, "job_id")?
            ),
        ),
    ]);
    if let Ok(v) = claim(claims, "project_visibility") {
        p.extensions
            .push((cert::OID_SOURCE_REPOSITORY_VISIBILITY, v.to_owned()));
    }
    Ok(())
}

/// Whether `subject` is a URI the `uri` issuer with `subject_domain` = `domain` may certify.
///
/// `domain` is a host (`example.com`: the subject's scheme must be `https` or `spiffe`) or,
/// as Fulcio configures it, a URL (`https://example.com`: the subject's scheme must be that
/// one). Either way the host must be equal. The subject is the certificate's SAN byte for byte,
/// so it must be a URL already in the form a WHATWG parser prints (no backslash, tab,
/// uppercase host or default port that a parser would rewrite, where another parser might
/// read another host), with no user information.
fn uri_in_domain(subject: &str, domain: &str) -> bool {
    let Ok(u) = url::Url::parse(subject) else {
        return false;
    };
    if u.as_str() != subject || !u.username().is_empty() || u.password().is_some() {
        return false;
    }
    let host_ok = |host: &str| u.host_str().is_some_and(|h| h.eq_ignore_ascii_case(host));
    if domain.contains("://") {
        return url::Url::parse(domain)
            .is_ok_and(|d| d.scheme() == u.scheme() && d.host_str().is_some_and(&host_ok));
    }
    matches!(u.scheme(), "https" | "spiffe") && host_ok(domain)
}

#[cfg(test)]
mod tests {
    use super::uri_in_domain;

    #[test]
    fn uri_subjects_must_be_canonical_urls_in_the_domain() {
        for ok in [
            "https://example.com/workloads/a",
            "https://example.com/",
            "spiffe://example.com/ns/default/sa/builder",
        ] {
            assert!(uri_in_domain(ok, "example.com"), "{ok}");
        }
        assert!(uri_in_domain(
            "https://example.com/x",
            "https://example.com"
        ));
        for bad in [
            // Parser differentials: WHATWG reads host example.com, others evil.com or a
            // different string.
            "https://example.com\\@evil.com/x",
            "https://exa\tmple.com/x",
            "https://EXAMPLE.com/x",
            "https://example.com:443/x",
            // Not as printed (a parser adds the path "/"): the SAN must be the canonical form.
            "https://example.com",
            // User information, other hosts, other schemes.
            "https://user@example.com/x",
            "https://user:pw@example.com/x",
            "https://example.com.evil.com/x",
            "https://evil.com/example.com",
            "http://example.com/x",
            "ftp://example.com/x",
            "not a url",
            "",
        ] {
            assert!(!uri_in_domain(bad, "example.com"), "{bad:?}");
        }
        // A domain given as a URL fixes the scheme.
        assert!(!uri_in_domain(
            "spiffe://example.com/x",
            "https://example.com"
        ));
        assert!(uri_in_domain(
            "spiffe://example.com/x",
            "spiffe://example.com"
        ));
        assert!(!uri_in_domain(
            "https://example.com/x",
            "spiffe://example.com"
        ));
    }
}
