//! Verification policies: who must have signed.
//!
//! A [`Policy`] is one of
//! * an identity policy ([`IdentityPolicy`]) over the Fulcio leaf certificate: the subject
//!   alternative name, the OIDC issuer and the GitHub workflow claims of extensions
//!   1.3.6.1.4.1.57264.1.9 to .1.22 (read through `proto::cert::Identity`), combined with
//!   [`IdentityPolicy::all_of`] / [`IdentityPolicy::any_of`];
//! * keyed mode ([`Policy::key`]): a public key replaces the certificate and identity checks
//!   (cosign `--key`);
//! * the explicit opt-out [`Policy::any_identity_unsafe`], which still verifies everything
//!   except who the signer is (sigstore-go's `WithoutIdentitiesUnsafe`).
//!
//! Regular expressions are matched against the whole value, unlike sigstore-js which matches
//! anywhere; an unanchored match would let `https://github.com/org/` prefixes through.
//! [`AnchoredRegex`] is the one way a user's pattern is anchored (the verifier's
//! `--certificate-identity-regexp`, the admission policy and the monitor's rules all use it):
//! the pattern is parsed on its own first, so one that is invalid alone is an error, and the
//! anchors are then put around its parsed form, never around its text. Pasting the text into
//! `^(?:…)$` let `alice@example\.com)|(.*` close the group early and match anyone.
//!
//! This module does not read certificates itself; [`crate::verify()`] passes it the identity.

use regex::Regex;
use regex_syntax::hir::{Hir, Look};
use signet_proto::cert::{fulcio_oid, Identity};
use signet_proto::keys::PublicKey;

use crate::error::PolicyError;

/// A user's regular expression (Rust `regex` syntax) that must match the whole value.
///
/// Built by parsing the pattern alone (with the `regex` crate's own parser and defaults), then
/// wrapping the parsed expression between the start-of-text and end-of-text assertions
/// (`\A`, `\z`). Since the anchoring happens on the parsed form, nothing in the pattern's
/// text (an unbalanced `)`, a `|` outside the group, inline flags such as `(?m)` or `(?x)` and
/// its `#` comments, a trailing `\`) can move or remove the anchors: a pattern matches a
/// value exactly when the value as a whole is in the pattern's language.
#[derive(Debug, Clone)]
pub struct AnchoredRegex {
    pattern: String,
    regex: Regex,
}

impl AnchoredRegex {
    /// Parses `pattern` on its own and anchors it at both ends.
    ///
    /// # Errors
    /// [`PolicyError::Regex`] if the pattern alone is not a valid regular expression (or the
    /// anchored one is too large to compile).
    pub fn new(pattern: &str) -> Result<Self, PolicyError> {
        let err = |reason: String| PolicyError::Regex {
            pattern: pattern.to_owned(),
            reason,
        };
        let hir = regex_syntax::ParserBuilder::new()
            .build()
            .parse(pattern)
            .map_err(|e| err(e.to_string()))?;
        let anchored = Hir::concat(vec![Hir::look(Look::Start), hir, Hir::look(Look::End)]);
        // The printed form of a parsed expression is a pattern of the same language (with
        // flags resolved), which the regex crate compiles.
        let regex = regex::RegexBuilder::new(&anchored.to_string())
            .nest_limit(1000)
            .build()
            .map_err(|e| err(e.to_string()))?;
        Ok(Self {
            pattern: pattern.to_owned(),
            regex,
        })
    }

    /// Whether the whole of `value` matches.
    #[must_use]
    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }

    /// The pattern as the user wrote it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// For a `value` this pattern does not match as a whole: whether it matches a part of
    /// it, and if so the pattern that matches any value containing such a part
    /// (`foo` → `.*foo.*`), when that pattern is valid and matches `value`. `None` when no
    /// part of `value` matches. Cosign matches identity regexps anywhere in the value; this
    /// names the difference to users who expected that.
    #[must_use]
    pub fn substring_form(&self, value: &str) -> Option<Option<String>> {
        let unanchored = regex::RegexBuilder::new(&self.pattern)
            .nest_limit(1000)
            .build()
            .ok()?;
        if !unanchored.is_match(value) {
            return None;
        }
        let p = &self.pattern;
        let simple = !p.contains(['|', '#']) && !p.contains("(?");
        let candidate = if simple {
            format!(".*{p}.*")
        } else {
            format!(".*(?:{p}).*")
        };
        Some(
            Self::new(&candidate)
                .ok()
                .filter(|c| c.is_match(value))
                .map(|_| candidate),
        )
    }
}

/// How a certificate string must match.
#[derive(Debug, Clone)]
pub enum StringMatch {
    /// Byte-for-byte equality.
    Exact(String),
    /// A regular expression that must match the whole value.
    Regex(AnchoredRegex),
}

impl StringMatch {
    /// Exact match.
    pub fn exact(value: impl Into<String>) -> Self {
        Self::Exact(value.into())
    }

    /// Whole-value regular expression match.
    ///
    /// # Errors
    /// [`PolicyError::Regex`] if the pattern does not compile.
    pub fn regex(pattern: &str) -> Result<Self, PolicyError> {
        AnchoredRegex::new(pattern).map(Self::Regex)
    }

    /// Whether `value` matches.
    #[must_use]
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(s) => s == value,
            Self::Regex(r) => r.is_match(value),
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Exact(s) => format!("exactly {s:?}"),
            Self::Regex(r) => format!("regex {:?} (whole value)", r.as_str()),
        }
    }

    /// How to fix a regex that matches only part of `value` (see
    /// [`AnchoredRegex::substring_form`]), or "".
    fn near_miss_hint(&self, field: &str, value: &str) -> String {
        let Self::Regex(r) = self else {
            return String::new();
        };
        match r.substring_form(value) {
            None => String::new(),
            Some(Some(form)) => {
                let shown = if form.contains('\'') {
                    format!("{form:?}")
                } else {
                    format!("'{form}'")
                };
                format!(
                    "; the pattern matches only part of the {field}: patterns match the whole value, use {shown} if you meant a substring"
                )
            }
            Some(None) => format!(
                "; the pattern matches only part of the {field}: patterns match the whole value"
            ),
        }
    }
}

/// A certificate field an identity policy can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    /// The subject alternative name (email, URI or other name), as Fulcio put it.
    San,
    /// The OIDC issuer (extension .1.8, falling back to the legacy .1.1).
    Issuer,
    /// A Fulcio extension by dotted OID, e.g. `proto::cert::OID_BUILD_SIGNER_URI` (.1.9) or
    /// `proto::cert::OID_SOURCE_REPOSITORY_REF` (.1.14).
    Extension(&'static str),
}

impl Field {
    fn name(self) -> String {
        match self {
            Self::San => "SAN".to_owned(),
            Self::Issuer => "issuer".to_owned(),
            Self::Extension(oid) => match fulcio_oid(oid) {
                Some(row) => format!("{} ({oid})", row.name),
                None => format!("extension {oid}"),
            },
        }
    }

    fn read(self, identity: &Identity) -> Option<String> {
        match self {
            Self::San => identity.san().map(str::to_owned),
            Self::Issuer => identity.issuer.clone(),
            Self::Extension(oid) => identity.extension(oid).map(str::to_owned),
        }
    }
}

/// An identity policy over the leaf certificate.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum IdentityPolicy {
    /// A field must match.
    Field {
        /// Which field.
        field: Field,
        /// How it must match.
        matcher: StringMatch,
    },
    /// Every policy must hold (an empty list holds).
    AllOf(Vec<IdentityPolicy>),
    /// At least one policy must hold (an empty list fails).
    AnyOf(Vec<IdentityPolicy>),
}

impl IdentityPolicy {
    /// The usual `--certificate-identity ID --certificate-oidc-issuer ISS` pair.
    #[must_use]
    pub fn exact(san: impl Into<String>, issuer: impl Into<String>) -> Self {
        Self::AllOf(vec![
            Self::san(StringMatch::exact(san)),
            Self::issuer(StringMatch::exact(issuer)),
        ])
    }

    /// The SAN must match.
    #[must_use]
    pub fn san(matcher: StringMatch) -> Self {
        Self::Field {
            field: Field::San,
            matcher,
        }
    }

    /// The OIDC issuer must match.
    #[must_use]
    pub fn issuer(matcher: StringMatch) -> Self {
        Self::Field {
            field: Field::Issuer,
            matcher,
        }
    }

    /// A Fulcio extension (e.g. a GitHub workflow claim, .1.9 to .1.22) must match. `oid` is
    /// dotted, one of the `proto::cert::OID_*` constants.
    #[must_use]
    pub fn extension(oid: &'static str, matcher: StringMatch) -> Self {
        Self::Field {
            field: Field::Extension(oid),
            matcher,
        }
    }

    /// All of `policies` must hold.
    #[must_use]
    pub fn all_of(policies: Vec<IdentityPolicy>) -> Self {
        Self::AllOf(policies)
    }

    /// At least one of `policies` must hold.
    #[must_use]
    pub fn any_of(policies: Vec<IdentityPolicy>) -> Self {
        Self::AnyOf(policies)
    }

    /// Evaluates the policy against a certificate identity.
    ///
    /// # Errors
    /// [`PolicyError::Mismatch`] naming the first field that does not match, or
    /// [`PolicyError::NoneMatched`] listing why each `any_of` alternative failed.
    pub fn check(&self, identity: &Identity) -> Result<(), PolicyError> {
        match self {
            Self::Field { field, matcher } => match field.read(identity) {
                Some(v) if matcher.matches(&v) => Ok(()),
                actual => Err(PolicyError::Mismatch {
                    field: field.name(),
                    hint: actual
                        .as_deref()
                        .map(|v| matcher.near_miss_hint(&field.name(), v))
                        .unwrap_or_default(),
                    actual: actual.unwrap_or_else(|| "<absent>".to_owned()),
                    expected: matcher.describe(),
                }),
            },
            Self::AllOf(ps) => ps.iter().try_for_each(|p| p.check(identity)),
            Self::AnyOf(ps) => {
                let mut reasons = Vec::with_capacity(ps.len());
                for p in ps {
                    match p.check(identity) {
                        Ok(()) => return Ok(()),
                        Err(e) => reasons.push(e.to_string()),
                    }
                }
                Err(PolicyError::NoneMatched {
                    count: ps.len(),
                    reasons: reasons.join("; "),
                })
            }
        }
    }
}

/// What the verifier must establish about the signer.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) kind: PolicyKind,
}

#[derive(Debug, Clone)]
pub(crate) enum PolicyKind {
    Identity(IdentityPolicy),
    Key(Box<PublicKey>),
    TrustedKeys(std::sync::Arc<crate::trusted_keys::TrustedKeys>),
    AnyIdentityUnsafe,
}

impl Policy {
    /// Keyless verification: the bundle's Fulcio certificate must satisfy `identity`.
    #[must_use]
    pub fn identity(identity: IdentityPolicy) -> Self {
        Self {
            kind: PolicyKind::Identity(identity),
        }
    }

    /// Keyed verification: the bundle must be signed by `key` (its verification material is a
    /// public key hint, not a certificate). No certificate, SCT or identity checks apply.
    #[must_use]
    pub fn key(key: PublicKey) -> Self {
        Self {
            kind: PolicyKind::Key(Box::new(key)),
        }
    }

    /// Keyed verification against a trusted keys document: the bundle must be signed by one
    /// of its keys, valid and not revoked at every verified signing time
    /// ([`crate::trusted_keys`]).
    #[must_use]
    pub fn trusted_keys(keys: crate::trusted_keys::TrustedKeys) -> Self {
        Self {
            kind: PolicyKind::TrustedKeys(std::sync::Arc::new(keys)),
        }
    }

    /// Keyless verification that accepts ANY certificate identity issued by a trusted CA.
    /// Everything else is still checked. Only for tools that inspect identities themselves.
    #[must_use]
    pub fn any_identity_unsafe() -> Self {
        Self {
            kind: PolicyKind::AnyIdentityUnsafe,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn mismatch(policy: &IdentityPolicy, san: &str) -> String {
        let identity = Identity {
            sans: vec![signet_proto::cert::SubjectAltName::Uri(san.to_owned())],
            ..Identity::default()
        };
        policy.check(&identity).unwrap_err().to_string()
    }

    #[test]
    fn a_regex_matching_part_of_the_value_names_its_substring_form() {
        let san = "https://github.com/foo/bar/.github/workflows/ci.yml@refs/heads/main";
        let p = IdentityPolicy::san(StringMatch::regex("foo").unwrap());
        assert_eq!(
            mismatch(&p, san),
            format!(
                "SAN {san:?} does not match regex \"foo\" (whole value); the pattern matches only part of the SAN: patterns match the whole value, use '.*foo.*' if you meant a substring"
            )
        );
        // An alternation is grouped before the substring form.
        let p = IdentityPolicy::san(StringMatch::regex("nope|github").unwrap());
        assert!(
            mismatch(&p, san).ends_with("use '.*(?:nope|github).*' if you meant a substring"),
            "{}",
            mismatch(&p, san)
        );
        // No part matches: no hint. Exact matches: no hint.
        let p = IdentityPolicy::san(StringMatch::regex("gitlab").unwrap());
        assert_eq!(
            mismatch(&p, san),
            format!("SAN {san:?} does not match regex \"gitlab\" (whole value)")
        );
        let p = IdentityPolicy::san(StringMatch::exact("foo"));
        assert_eq!(
            mismatch(&p, san),
            format!("SAN {san:?} does not match exactly \"foo\"")
        );
        // The whole-value rule itself is unchanged.
        assert!(StringMatch::regex("foo").unwrap().matches("foo"));
        assert!(!StringMatch::regex("foo").unwrap().matches(san));
    }
}
