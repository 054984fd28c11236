//! OCI wire formats that a registry client reads from untrusted sources: image references,
//! platforms, content descriptors, image manifests and indexes, sha256 digests, the referrers
//! tag schema, and the `WWW-Authenticate` challenge of a registry.
//!
//! Specs:
//! * OCI image-spec v1.1: `descriptor.md` (descriptors, `artifactType`, the digest grammar,
//!   of which only `sha256:<64 lowercase hex>` is accepted), `manifest.md` (image manifest,
//!   `subject`, the empty descriptor `application/vnd.oci.empty.v1+json`), `image-index.md`
//!   (image index and its `platform` object);
//! * OCI distribution-spec v1.1: "Listing Referrers" (the referrers list is an image index)
//!   and "Referrers Tag Schema" (the fallback tag `sha256-<hex>`);
//! * the Docker reference grammar (`[registry/]repository[:tag][@digest]`, `docker.io` and
//!   `library/` defaults; distribution/reference `ParseNormalizedNamed`), normalised as
//!   container runtimes resolve it (see [`Reference`]), with the OCI distribution-spec
//!   repository grammar, and `docker --platform` (`os/architecture[/variant]`);
//! * RFC 7235 §4.1 (`WWW-Authenticate` challenges) with the parameters of the Docker registry
//!   token flow (`Bearer realm=…,service=…,scope=…`) and HTTP Basic (RFC 7617);
//! * the Docker registry token specification ("Token Response Fields": `token`, or
//!   `access_token` as in OAuth 2.0, the answer of the token service a challenge names).
//!
//! What this module does not do: any I/O, including DNS: names that only resolve to the same
//! server (`localhost:5000` and `127.0.0.1:5000`, a CNAME) stay different registries. Fetching, pushing, authentication and credentials
//! live in the `signet` binary's registry client. It does not model every manifest field
//! (only those the client reads and writes; unknown fields are ignored), digests other than
//! sha256, nested indexes, or several challenges in one header. It ignores a token answer's
//! `expires_in`, `issued_at` and `refresh_token` (the client keeps a token until the registry
//! answers 401 again, then asks for a new one).

use std::collections::BTreeMap;
use std::fmt;

use aws_lc_rs::digest::{digest, SHA256};
use serde::{Deserialize, Serialize};

/// OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker manifest list media type (the Docker predecessor of the OCI index).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// The OCI empty descriptor's media type (config of artifact manifests).
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// Sigstore bundle v0.3 media type, used as artifactType and layer media type.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// Errors from parsing OCI references, platforms, manifests and indexes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OciError {
    /// The image reference is malformed.
    #[error("invalid image reference {input:?}: {reason}")]
    InvalidReference {
        /// The reference given.
        input: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// The image reference starts with a URL scheme (`http://`, `https://`): references
    /// name no scheme; the client chooses HTTPS or plain HTTP.
    #[error(
        "invalid image reference {input:?}: an image reference has no scheme; drop {scheme:?} and write {without:?} (the client chooses HTTPS or plain HTTP for the registry)"
    )]
    ReferenceWithScheme {
        /// The reference given.
        input: String,
        /// The scheme with its `://`.
        scheme: String,
        /// The reference without the scheme.
        without: String,
    },
    /// A platform (`os/architecture[/variant]`) is malformed.
    #[error("invalid platform {input:?}: {reason}")]
    InvalidPlatform {
        /// The value given.
        input: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A manifest, an index or a digest from the registry is malformed.
    #[error("invalid {what} from the registry: {reason}")]
    Malformed {
        /// What was parsed.
        what: &'static str,
        /// The parse error.
        reason: String,
    },
}

/// A parsed image reference `[registry/]repository[:tag][@digest]`, normalised the way
/// container runtimes resolve it.
///
/// Every spelling that a runtime (docker, containerd, CRI-O: distribution/reference
/// `ParseNormalizedNamed`, containerd's Docker Hub host mapping) pulls from the same
/// registry and repository parses to the same [`Reference`], so [`Reference::name`] is what
/// policies compare:
/// * the registry host is lowercased (DNS names are case-insensitive) and loses one trailing
///   dot (`registry.example.com.` is the same DNS name);
/// * the port `:443` is dropped: registries are reached over HTTPS, where it is the default
///   port (runtimes and Signet's registry client alike). On a loopback host
///   ([`is_loopback_registry`]), which Signet's client reaches over plain HTTP and runtimes
///   fall back to plain HTTP for, `:80` is dropped as well, so `localhost`, `localhost:80` and
///   `localhost:443` are one registry (reached at `http://localhost`; both are privileged
///   ports of the same machine). Any other port is kept, `:80` of other hosts included: over
///   HTTPS it is another port. Ports are canonical decimal (`:05000` is `:5000`; port 0 and
///   ports above 65535 are refused). With `--allow-insecure-registry`, Signet reaches other
///   hosts over plain HTTP too, where a registry without a port is at port 80: name a
///   plain-HTTP registry with its port;
/// * IPv4 hosts must be dotted quads (`127.0.0.1`); other numeric spellings that URL and
///   `inet_aton` parsers accept (`2130706433`, `0x7f.1`, `127.000.000.001`) are refused. IPv6
///   hosts (`[::1]:5000`) are printed in their canonical RFC 5952 form; zone ids are refused;
/// * Docker Hub's names `docker.io`, `index.docker.io`, `registry-1.docker.io` (the host
///   containerd pulls `docker.io` from) and `registry.hub.docker.com` are all `docker.io`;
/// * a first path component is the registry when it contains `.` or `:`, is `localhost`, or
///   has an uppercase letter (as `ParseNormalizedNamed` decides); otherwise the registry is
///   `docker.io`, and a single-component Docker Hub name gets the `library/` prefix
///   (`app`, `docker.io/app` and `index.docker.io/library/app` are all
///   `docker.io/library/app`). A host that is none of these once lowercased (`MyOrg/app`,
///   a host to runtimes, would read as the Docker Hub namespace `myorg`) is refused.
///
/// The repository path is not folded: it must already be lowercase path components of the
/// OCI distribution-spec grammar (`[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`),
/// because registries treat it case-sensitively and runtimes refuse uppercase
/// (`ParseNormalizedNamed`: "repository name must be lowercase"). Host names are ASCII only:
/// letters, digits and inner `-` (no `_`, `%` escapes or Unicode look-alikes). The full name
/// is at most 255 characters, as in distribution/reference.
///
/// [`Reference::parse`] of the [`Display`](fmt::Display) form of a parsed reference gives the
/// same reference back, and parsing is idempotent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// Normalised registry host (with its port unless 443), e.g. `127.0.0.1:5000` or
    /// `docker.io`.
    pub registry: String,
    /// Repository path, e.g. `library/alpine`.
    pub repository: String,
    /// Tag, if given.
    pub tag: Option<String>,
    /// Digest (`sha256:<hex>`), if given.
    pub digest: Option<String>,
}

/// Docker Hub's canonical registry name.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that serves Docker Hub's registry API (containerd's mapping of `docker.io`).
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";
/// Host names that reach Docker Hub's registry, all normalised to [`DOCKER_HUB`].
pub const DOCKER_HUB_ALIASES: &[&str] = &[
    DOCKER_HUB,
    "index.docker.io",
    DOCKER_HUB_API_HOST,
    "registry.hub.docker.com",
];
/// The longest `registry/repository` name (distribution/reference `NameTotalLengthMax`).
pub const NAME_MAX: usize = 255;

/// Why a registry host is refused (the `reason` of [`OciError::InvalidReference`]).
const BAD_HOST: &str = "registry must be a host name of letters, digits and inner '-' (ASCII), a dotted-quad IPv4 address or a bracketed IPv6 address, with an optional port 1-65535";
const BAD_UNSPECIFIED_HOST: &str =
    "registry must not be the unspecified address (0.0.0.0 or [::]): name the host to pull from";
const BAD_NUMERIC_HOST: &str =
    "a numeric registry host must be a dotted-quad IPv4 address such as 127.0.0.1";

/// Normalises a registry `host[:port]` as [`Reference::parse`] does: lowercase, no trailing
/// dot, no `:443`, canonical port and IP address forms, Docker Hub's aliases as `docker.io`.
///
/// # Errors
/// [`OciError::InvalidReference`] for anything that is not such a host.
pub fn normalize_registry(host: &str) -> Result<String, OciError> {
    normalize_host(host).map_err(|reason| OciError::InvalidReference {
        input: host.to_owned(),
        reason,
    })
}

fn normalize_host(input: &str) -> Result<String, &'static str> {
    let (host, port) = if let Some(rest) = input.strip_prefix('[') {
        let (ip, after) = rest.split_once(']').ok_or(BAD_HOST)?;
        // Only hex digits, ':' and an embedded dotted quad: no zone id, no other text.
        if !ip
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(BAD_HOST);
        }
        let ip: std::net::Ipv6Addr = ip.parse().map_err(|_| BAD_HOST)?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(BAD_HOST)?),
        };
        if ip.is_unspecified() {
            return Err(BAD_UNSPECIFIED_HOST);
        }
        // An IPv4-mapped address (`::ffff:127.0.0.1`) is the IPv4 host to Go's net package,
        // which container runtimes use: it is that dotted quad here too.
        match ip.to_ipv4_mapped() {
            Some(v4) if v4.is_unspecified() => return Err(BAD_UNSPECIFIED_HOST),
            Some(v4) => (v4.to_string(), port),
            None => (format!("[{ip}]"), port),
        }
    } else {
        let (name, port) = match input.split_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (input, None),
        };
        let name = name.strip_suffix('.').unwrap_or(name);
        let labels: Vec<&str> = name.split('.').collect();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if !labels.iter().all(|l| label_ok(l)) {
            return Err(BAD_HOST);
        }
        let name = name.to_ascii_lowercase();
        // A name whose last label is a number is an IPv4 address to URL parsers (WHATWG
        // "ends in a number") and to inet_aton: only the dotted quad is accepted.
        let last = labels.last().copied().unwrap_or_default();
        let numeric = last.bytes().all(|b| b.is_ascii_digit())
            || (last.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("0x"))
                && last[2..].bytes().all(|b| b.is_ascii_hexdigit()));
        if numeric {
            let ip: std::net::Ipv4Addr = name.parse().map_err(|_| BAD_NUMERIC_HOST)?;
            if ip.to_string() != name {
                return Err(BAD_NUMERIC_HOST);
            }
            if ip.is_unspecified() {
                return Err(BAD_UNSPECIFIED_HOST);
            }
        }
        (name, port)
    };
    let port = match port {
        None => None,
        Some(p) => {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(BAD_HOST);
            }
            // Leading zeros do not change the port (URL parsers and Go's net read `05000` as
            // 5000).
            let digits = p.trim_start_matches('0');
            if digits.len() > 5 {
                return Err(BAD_HOST);
            }
            match digits.parse::<u16>() {
                Ok(0) | Err(_) => return Err(BAD_HOST),
                Ok(443) => None,
                Ok(80) if is_loopback_registry(&host) => None,
                Ok(n) => Some(n),
            }
        }
    };
    Ok(match port {
        Some(n) => format!("{host}:{n}"),
        // Docker Hub's names, at HTTPS's port (another port is another server).
        None if DOCKER_HUB_ALIASES.contains(&host.as_str()) => DOCKER_HUB.to_owned(),
        None => host,
    })
}

/// Whether `host_port` (`host[:port]`, IPv6 in brackets) names a loopback address:
/// `localhost` (any case), `127.0.0.0/8` or `::1`. Signet's registry client reaches these over
/// plain HTTP.
#[must_use]
pub fn is_loopback_registry(host_port: &str) -> bool {
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `c` is one path component of the OCI distribution-spec repository grammar:
/// `[a-z0-9]+` runs joined by `.`, `_`, `__` or one or more `-`.
fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if !b.first().is_some_and(|x| alnum(*x)) || !b.last().is_some_and(|x| alnum(*x)) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        match &c[start..i] {
            "." | "_" | "__" => {}
            sep if sep.bytes().all(|x| x == b'-') => {}
            _ => return false,
        }
    }
    true
}

/// Whether `name` (a first path component) names a registry rather than a Docker Hub
/// namespace: it contains `.` or `:`, is `localhost`, or is not all lowercase
/// (distribution/reference `splitDockerDomain`).
#[must_use]
pub fn is_registry_component(name: &str) -> bool {
    name.contains(['.', ':']) || name == "localhost" || name.to_lowercase() != name
}

impl Reference {
    /// Parses a Docker-style image reference and normalises it (see [`Reference`]).
    ///
    /// # Errors
    /// [`OciError::InvalidReference`] on an invalid registry host, a repository that is not
    /// lowercase path components, a name longer than [`NAME_MAX`], an invalid tag or a
    /// digest that is not `sha256:` followed by 64 lowercase hex digits.
    pub fn parse(input: &str) -> Result<Self, OciError> {
        let bad = |reason| OciError::InvalidReference {
            input: input.to_owned(),
            reason,
        };
        let scheme = input.split_once("://").filter(|(scheme, _)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        });
        if let Some((scheme, without)) = scheme {
            return Err(OciError::ReferenceWithScheme {
                input: input.to_owned(),
                scheme: format!("{scheme}://"),
                without: without.to_owned(),
            });
        }
        let (name_tag, digest) = match input.split_once('@') {
            Some((n, d)) => {
                if !is_sha256_digest(d) {
                    return Err(bad("digest must be sha256:<64 lowercase hex>"));
                }
                (n, Some(d.to_owned()))
            }
            None => (input, None),
        };
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => {
                let cut = last_slash + i;
                (&name_tag[..cut], Some(name_tag[cut + 1..].to_owned()))
            }
            None => (name_tag, None),
        };
        if let Some(t) = &tag {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
                && !t.starts_with(['.', '-']);
            if !ok {
                return Err(bad("invalid tag"));
            }
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest)) if is_registry_component(first) => {
                let host = normalize_host(first).map_err(bad)?;
                // `MyOrg/app` names the host `MyOrg` to runtimes, but lowercased it would read
                // as the Docker Hub namespace `myorg`: refused rather than confused.
                if !is_registry_component(&host) {
                    return Err(bad(
                        "a registry host without '.' or a port must be localhost (a first component with uppercase letters is a host to container runtimes)",
                    ));
                }
                (host, rest)
            }
            _ => (DOCKER_HUB.to_owned(), name),
        };
        if path != path.to_ascii_lowercase() {
            return Err(bad(
                "repository path must be lowercase (registries and container runtimes do not fold its case)",
            ));
        }
        if path.is_empty() || !path.split('/').all(is_path_component) {
            return Err(bad("repository must be lowercase path components"));
        }
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        };
        if registry.len() + 1 + repository.len() > NAME_MAX {
            return Err(bad("name is longer than 255 characters"));
        }
        Ok(Self {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// `registry/repository`, normalised: the name policies match and compare.
    #[must_use]
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The reference to put in a manifest URL: the digest if known, else the tag, else `latest`.
    #[must_use]
    pub fn manifest_ref(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// The same repository at `digest`.
    #[must_use]
    pub fn with_digest(&self, digest: &str) -> Self {
        Self {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            tag: None,
            digest: Some(digest.to_owned()),
        }
    }

    /// The host that serves the registry API: `registry-1.docker.io` for `docker.io`, else
    /// the registry itself (with no port, HTTPS's 443).
    #[must_use]
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API_HOST
        } else {
            &self.registry
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// Whether `s` is `sha256:` followed by 64 lowercase hex digits.
#[must_use]
pub fn is_sha256_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// `sha256:<hex>` of `data`.
#[must_use]
pub fn sha256_digest(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(digest(&SHA256, data).as_ref()))
}

/// The referrers tag schema tag for `digest`: `sha256-<hex>`.
///
/// # Errors
/// [`OciError::Malformed`] when `digest` is not a sha256 digest.
pub fn referrers_tag(digest: &str) -> Result<String, OciError> {
    if !is_sha256_digest(digest) {
        return Err(OciError::Malformed {
            what: "subject digest",
            reason: format!("{digest:?} is not sha256:<hex>"),
        });
    }
    Ok(digest.replacen(':', "-", 1))
}

/// An OCI content descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    pub media_type: String,
    /// Digest of the referenced content (not checked when parsing).
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Artifact type (referrers and indexes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// The platform of an image index entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// The platform of an image index entry (OCI image-spec `platform`; the fields that select).
///
/// [`Platform::parse`] lowercases every part, so the [`Display`](fmt::Display) form of a parsed
/// platform parses back to the same platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture (`amd64`, `arm64`, ...).
    pub architecture: String,
    /// Operating system (`linux`, `windows`, ...).
    pub os: String,
    /// CPU variant (`v7`, `v8`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/architecture[/variant]`, as `docker --platform` takes it.
    ///
    /// # Errors
    /// [`OciError::InvalidPlatform`] for anything else.
    pub fn parse(input: &str) -> Result<Self, OciError> {
        let bad = |reason| OciError::InvalidPlatform {
            input: input.to_owned(),
            reason,
        };
        let parts: Vec<&str> = input.split('/').collect();
        let (os, architecture, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] => (*os, *arch, Some(*variant)),
            _ => return Err(bad("expected os/architecture[/variant], e.g. linux/amd64")),
        };
        let valid = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        };
        if !parts.iter().all(|p| valid(p)) {
            return Err(bad(
                "each part must be non-empty letters, digits, '.', '_' or '-'",
            ));
        }
        Ok(Self {
            os: os.to_ascii_lowercase(),
            architecture: architecture.to_ascii_lowercase(),
            variant: variant.map(str::to_ascii_lowercase),
        })
    }

    /// Whether an index entry's platform is the one asked for: same OS and architecture, and
    /// the same variant when the request names one (compared ignoring ASCII case).
    #[must_use]
    pub fn selects(&self, entry: &Self) -> bool {
        self.os.eq_ignore_ascii_case(&entry.os)
            && self.architecture.eq_ignore_ascii_case(&entry.architecture)
            && self.variant.as_ref().is_none_or(|v| {
                entry
                    .variant
                    .as_ref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(v))
            })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// An OCI image manifest (the fields this client reads and writes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config descriptor.
    pub config: Descriptor,
    /// The layers.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The subject (for referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An OCI image index (the fields this client reads and writes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// The index media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The manifests listed.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

impl ImageIndex {
    /// An OCI image index listing nothing (a referrers list before its first referrer).
    #[must_use]
    pub fn empty() -> Self {
        Self {
            schema_version: 2,
            media_type: Some(OCI_INDEX.to_owned()),
            manifests: Vec::new(),
        }
    }
}

/// Whether `media_type` is an image index (OCI index or Docker manifest list).
#[must_use]
pub fn is_index_media_type(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// Parses a referrers list (an image index, from the referrers API or the referrers tag).
///
/// # Errors
/// [`OciError::Malformed`] (`referrers index`) if it is not an image index.
pub fn parse_index(bytes: &[u8]) -> Result<ImageIndex, OciError> {
    crate::json::from_slice(bytes).map_err(|e| OciError::Malformed {
        what: "referrers index",
        reason: e.to_string(),
    })
}

/// The manifests that the image index `bytes` of media type `media_type` lists; `None` if the
/// media type is not an index ([`is_index_media_type`]).
///
/// # Errors
/// [`OciError::Malformed`] (`image index`) if an index does not parse or an entry's digest is
/// not `sha256:<64 lowercase hex>`.
pub fn index_entries(media_type: &str, bytes: &[u8]) -> Result<Option<Vec<Descriptor>>, OciError> {
    if !is_index_media_type(media_type) {
        return Ok(None);
    }
    let index: ImageIndex = crate::json::from_slice(bytes).map_err(|e| OciError::Malformed {
        what: "image index",
        reason: e.to_string(),
    })?;
    if let Some(bad) = index
        .manifests
        .iter()
        .find(|d| !is_sha256_digest(&d.digest))
    {
        return Err(OciError::Malformed {
            what: "image index",
            reason: format!("entry digest {:?} is not sha256:<64 hex>", bad.digest),
        });
    }
    Ok(Some(index.manifests))
}

/// One authentication challenge of a `WWW-Authenticate` header (RFC 7235 §4.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The auth scheme as sent (`Bearer`, `Basic`, ...); compare it ignoring case.
    pub scheme: String,
    /// The auth parameters, names trimmed and ASCII-lowercased, values unquoted (a repeated
    /// name keeps its last value).
    pub params: BTreeMap<String, String>,
}

/// Parses `Scheme k="v",k2=v2` into the scheme and its parameters.
///
/// Lenient, as registries' headers vary: quoted values take `\` escapes, unquoted values run
/// to the next `,`, a name without `=` gets an empty value, and anything after the first
/// challenge is read as more parameters. It never fails; a caller checks for the parameters it
/// needs.
#[must_use]
pub fn parse_challenge(header: &str) -> Challenge {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    _ => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek() {
                if *c == ',' {
                    break;
                }
                value.push(*c);
                chars.next();
            }
        }
        params.insert(key.trim().to_ascii_lowercase(), value);
    }
    Challenge {
        scheme: scheme.to_owned(),
        params,
    }
}

/// Why a registry token service's answer gives no usable token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenResponseError {
    /// The answer is not JSON of the expected shape (`token` and `access_token` are strings
    /// when present).
    #[error("bad token response: {reason}")]
    Malformed {
        /// The JSON error.
        reason: String,
    },
    /// Neither `token` nor `access_token` is a non-empty string.
    #[error("token response has no token")]
    NoToken,
    /// The token holds characters an `Authorization: Bearer` header cannot carry (anything but
    /// visible ASCII); the token itself is not repeated.
    #[error("token response has a token that is not visible ASCII, so it cannot be sent as a Bearer token")]
    NotHeaderSafe,
}

/// The Bearer token in a registry token service's JSON answer (Docker registry token
/// specification): `token`, else `access_token` (the OAuth 2.0 name), whichever is a non-empty
/// string first. Other fields (`expires_in`, `issued_at`, `refresh_token`, ...) are ignored.
///
/// The token is opaque, but it goes into an `Authorization` header, so it must be visible
/// ASCII (`0x21..=0x7e`; RFC 6750 `b64token` is a subset).
///
/// # Errors
/// [`TokenResponseError`] when the body is not JSON (UTF-8 throughout), `token` or `access_token` is present but
/// not a string (or null), neither holds a non-empty token, or the token is not visible ASCII.
pub fn parse_token_response(body: &[u8]) -> Result<String, TokenResponseError> {
    #[derive(Deserialize)]
    struct TokenResponse {
        token: Option<String>,
        access_token: Option<String>,
    }
    // JSON is UTF-8 (RFC 8259 §8.1); serde_json would skip the fields it ignores unchecked.
    let body = std::str::from_utf8(body).map_err(|e| TokenResponseError::Malformed {
        reason: e.to_string(),
    })?;
    let t: TokenResponse =
        serde_json::from_str(body).map_err(|e| TokenResponseError::Malformed {
            reason: e.to_string(),
        })?;
    let token = t
        .token
        .filter(|t| !t.is_empty())
        .or(t.access_token.filter(|t| !t.is_empty()))
        .ok_or(TokenResponseError::NoToken)?;
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TokenResponseError::NotHeaderSafe);
    }
    Ok(token)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let r = Reference::parse("127.0.0.1:5000/a/b:t1").unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "a/b");
        assert_eq!(r.tag.as_deref(), Some("t1"));
        assert_eq!(r.manifest_ref(), "t1");
        assert_eq!(r.api_host(), "127.0.0.1:5000");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("localhost/x@{d}")).unwrap();
        assert_eq!(r.registry, "localhost");
        assert_eq!(r.manifest_ref(), d);
        let r = Reference::parse("alpine").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("docker.io", "library/alpine")
        );
        assert_eq!(r.manifest_ref(), "latest");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(r.to_string(), "docker.io/library/alpine");
        assert!(Reference::parse("x@sha256:abc").is_err());
        assert!(Reference::parse("127.0.0.1:5000/UPPER").is_err());
    }

    /// Every spelling a container runtime pulls from the same registry and repository parses
    /// to the same reference (issue 15: admission rules were dodged by respelling the
    /// registry).
    #[test]
    fn references_are_normalised_as_runtimes_resolve_them() {
        let d = format!("sha256:{}", "ab".repeat(32));
        for (want, spellings) in [
            (
                "registry.example.com/team/app",
                &[
                    "registry.example.com/team/app",
                    "REGISTRY.EXAMPLE.COM/team/app",
                    "Registry.Example.Com/team/app",
                    "registry.example.com:443/team/app",
                    "registry.example.com:0443/team/app",
                    "REGISTRY.example.com:443/team/app",
                    "registry.example.com./team/app",
                    "registry.example.com.:443/team/app",
                ][..],
            ),
            (
                "docker.io/myorg/app",
                &[
                    "myorg/app",
                    "docker.io/myorg/app",
                    "DOCKER.IO/myorg/app",
                    "docker.io:443/myorg/app",
                    "index.docker.io/myorg/app",
                    "Index.Docker.IO/myorg/app",
                    "registry-1.docker.io/myorg/app",
                    "registry-1.docker.io:443/myorg/app",
                    "registry.hub.docker.com/myorg/app",
                    "docker.io./myorg/app",
                ][..],
            ),
            (
                "docker.io/library/app",
                &[
                    "app",
                    "library/app",
                    "docker.io/app",
                    "docker.io/library/app",
                    "index.docker.io/app",
                    "registry-1.docker.io/app",
                    "INDEX.DOCKER.IO/library/app",
                ][..],
            ),
            (
                "localhost:5000/team/app",
                &[
                    "localhost:5000/team/app",
                    "LOCALHOST:5000/team/app",
                    "LocalHost:05000/team/app",
                    "localhost:0000005000/team/app",
                    "localhost.:5000/team/app",
                ][..],
            ),
            (
                "localhost/team/app",
                &[
                    "localhost/team/app",
                    "LOCALHOST/team/app",
                    "localhost:443/team/app",
                    "localhost:80/team/app",
                    "LocalHost.:080/team/app",
                ][..],
            ),
            (
                "127.0.0.1:5000/a",
                &["127.0.0.1:5000/a", "127.0.0.1.:5000/a"][..],
            ),
            ("127.0.0.1/a", &["127.0.0.1:80/a", "127.0.0.1:443/a"][..]),
            (
                "[::1]:5000/a",
                &["[::1]:5000/a", "[0:0:0:0:0:0:0:1]:5000/a", "[0::1]:05000/a"][..],
            ),
            ("[::1]/a", &["[::1]:80/a", "[0::1]:443/a"][..]),
            ("[fe80::ab]/a", &["[FE80::AB]/a", "[fe80:0::ab]:443/a"][..]),
        ] {
            for s in spellings {
                for suffix in [String::new(), ":v1".to_owned(), format!("@{d}")] {
                    let input = format!("{s}{suffix}");
                    let r = Reference::parse(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
                    assert_eq!(r.name(), want, "{input}");
                    assert_eq!(r.to_string(), format!("{want}{suffix}"), "{input}");
                    assert_eq!(Reference::parse(&r.to_string()).unwrap(), r, "{input}");
                }
            }
        }
        // Other ports are other registries: :80 is not HTTPS's default.
        for (input, registry) in [
            ("registry.example.com:80/a", "registry.example.com:80"),
            ("registry.example.com:8443/a", "registry.example.com:8443"),
            ("docker.io:5000/a", "docker.io:5000"),
            ("docker.io:80/a", "docker.io:80"),
            ("index.docker.io:5000/a", "index.docker.io:5000"),
            ("registry-1.docker.io:8443/a", "registry-1.docker.io:8443"),
            ("10.0.0.1:80/a", "10.0.0.1:80"),
            ("localhost:8080/a", "localhost:8080"),
        ] {
            assert_eq!(Reference::parse(input).unwrap().registry, registry);
        }
        assert_eq!(
            Reference::parse("docker.io:5000/app").unwrap().repository,
            "app"
        );
        assert_eq!(
            normalize_registry("INDEX.docker.io:443").unwrap(),
            "docker.io"
        );
        assert_eq!(
            normalize_registry("Reg.Example:5000").unwrap(),
            "reg.example:5000"
        );
    }

    #[test]
    fn registry_hosts_and_paths_are_strict() {
        for bad in [
            // Numeric hosts other than a dotted quad reach 127.0.0.1 through URL parsers and
            // inet_aton.
            "2130706433:5000/a",
            "0x7f.1:5000/a",
            "0x7F000001:5000/a",
            "127.000.000.001:5000/a",
            "127.0.0.01/a",
            "127.1/a",
            "host.123/a",
            // Not host names.
            "reg_istry.example.com/a",
            "registry%2Eexample.com/a",
            "-registry.example.com/a",
            "registry-.example.com/a",
            "registry..example.com/a",
            "registry.example.com../a",
            ".:5000/a",
            ":5000/a",
            "r\u{0435}gistry.example.com/a",
            "\u{ff52}egistry.example.com/a",
            "REG\u{130}STRY.example.com/a",
            // Ports.
            "registry.example.com:/a",
            "registry.example.com:0/a",
            "registry.example.com:000/a",
            "registry.example.com:65536/a",
            "registry.example.com:123456/a",
            "registry.example.com:+80/a",
            "registry.example.com:80:80/a",
            // IPv6.
            "[::1/a",
            "[fe80::1%25eth0]:5000/a",
            "[fe80::1%eth0]/a",
            "[::1]x/a",
            "[not-ip]/a",
            "[::1]:/a",
            // The unspecified address is no registry (a runtime would reach the local host).
            "0.0.0.0:5000/a",
            "[::]:5000/a",
            "[::ffff:0.0.0.0]:5000/a",
            // Repository paths.
            "registry.example.com/Team/app",
            "registry.example.com/team/App",
            "Team/App",
            "App",
            // distribution/reference takes an uppercase first component as a host, which
            // lowercased would read as a Docker Hub namespace.
            "MyOrg/app",
            "MYORG/app",
            "MYORG./app",
            "registry.example.com/team/../other",
            "registry.example.com/./a",
            "registry.example.com/.a",
            "registry.example.com/a.",
            "registry.example.com/a..b",
            "registry.example.com/a___b",
            "registry.example.com/-a",
            "registry.example.com/a%2fb",
            "registry.example.com/caf\u{e9}",
        ] {
            assert!(
                matches!(
                    Reference::parse(bad),
                    Err(OciError::InvalidReference { .. })
                ),
                "{bad:?} parsed: {:?}",
                Reference::parse(bad)
            );
        }
        for good in [
            "registry.example.com/a__b/c-d/e---f/g.h/i_j",
            "xn--bcher-kva.example/a",
            "1.2.3.4/a",
            "a1.b2.c3/a",
            "registry.example.com:65535/a",
        ] {
            assert!(Reference::parse(good).is_ok(), "{good}");
        }
        let e = Reference::parse("registry.example.com/Team/app").unwrap_err();
        assert!(e.to_string().contains("must be lowercase"), "{e}");
        let e = Reference::parse("2130706433:5000/a").unwrap_err();
        assert!(e.to_string().contains("dotted-quad"), "{e}");
        let long = format!("r.example/{}", "a".repeat(245));
        assert_eq!(long.len(), NAME_MAX);
        assert!(Reference::parse(&long).is_ok());
        assert!(Reference::parse(&format!("{long}a")).is_err());
    }

    #[test]
    fn ipv4_mapped_ipv6_hosts_are_their_ipv4_address() {
        // Go's net (containerd, CRI-O) reads these as 127.0.0.1: a rule for 127.0.0.1:5000
        // must meet them.
        for spelling in [
            "[::ffff:127.0.0.1]:5000/team/app",
            "[::ffff:7f00:1]:5000/team/app",
            "[0:0:0:0:0:ffff:127.0.0.1]:5000/team/app",
            "[::FFFF:7F00:0001]:5000/team/app",
        ] {
            let r = Reference::parse(spelling).unwrap();
            assert_eq!(r.name(), "127.0.0.1:5000/team/app", "{spelling}");
        }
        assert!(is_loopback_registry(
            &Reference::parse("[::ffff:127.0.0.1]:5000/a")
                .unwrap()
                .registry
        ));
    }

    #[test]
    fn loopback_registries() {
        for yes in [
            "127.0.0.1:5000",
            "127.1.2.3",
            "localhost",
            "LOCALHOST:80",
            "[::1]:5000",
            "[::1]",
        ] {
            assert!(is_loopback_registry(yes), "{yes}");
        }
        for no in [
            "registry.example.com:5000",
            "10.0.0.1:80",
            "localhost.example",
            "[::2]",
        ] {
            assert!(!is_loopback_registry(no), "{no}");
        }
    }

    #[test]
    fn reference_with_a_scheme_names_the_reference_without_it() {
        for (input, scheme, without) in [
            (
                "http://127.0.0.1:5000/demo/hello:v1",
                "http://",
                "127.0.0.1:5000/demo/hello:v1",
            ),
            ("https://ghcr.io/a/b", "https://", "ghcr.io/a/b"),
            ("oci://x/y", "oci://", "x/y"),
        ] {
            let err = Reference::parse(input).unwrap_err();
            assert_eq!(
                err,
                OciError::ReferenceWithScheme {
                    input: input.to_owned(),
                    scheme: scheme.to_owned(),
                    without: without.to_owned(),
                }
            );
            assert!(
                err.to_string().contains(&format!(
                    "has no scheme; drop {scheme:?} and write {without:?}"
                )),
                "{err}"
            );
        }
    }

    #[test]
    fn reference_errors_name_input_and_reason() {
        let err = Reference::parse("x@sha256:abc").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid image reference \"x@sha256:abc\": digest must be sha256:<64 lowercase hex>"
        );
        for (bad, reason) in [
            ("a:", "invalid tag"),
            ("a:-x", "invalid tag"),
            ("a:x y", "invalid tag"),
            (
                "example.com/",
                "repository must be lowercase path components",
            ),
            (
                "example.com/a//b",
                "repository must be lowercase path components",
            ),
            ("", "repository must be lowercase path components"),
        ] {
            assert!(
                matches!(
                    Reference::parse(bad),
                    Err(OciError::InvalidReference { reason: r, .. }) if r == reason
                ),
                "{bad:?}"
            );
        }
        assert!(Reference::parse(&format!("a:{}", "t".repeat(128))).is_ok());
        assert!(Reference::parse(&format!("a:{}", "t".repeat(129))).is_err());
    }

    #[test]
    fn references_print_back_to_themselves() {
        let d = format!("sha256:{}", "0f".repeat(32));
        for input in [
            "alpine",
            "library/alpine:3.20",
            "acme/app",
            "docker.io/app",
            "localhost/x",
            "localhost:5000",
            "127.0.0.1:5000/a/b:t1",
            &format!("registry.example.com/team/app:v1@{d}"),
            &format!("app@{d}"),
        ] {
            let r = Reference::parse(input).unwrap();
            assert_eq!(Reference::parse(&r.to_string()).unwrap(), r, "{input}");
        }
        let r = Reference::parse("127.0.0.1:5000/a/b:t1").unwrap();
        let pinned = r.with_digest(&d);
        assert_eq!(pinned.to_string(), format!("127.0.0.1:5000/a/b@{d}"));
        assert_eq!(pinned.manifest_ref(), d);
    }

    #[test]
    fn digests() {
        let d = sha256_digest(b"");
        assert_eq!(
            d,
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(is_sha256_digest(&d));
        assert!(!is_sha256_digest(&d.to_uppercase()));
        assert!(!is_sha256_digest(&d[..70]));
        assert!(!is_sha256_digest(&format!("{d}0")));
        assert!(!is_sha256_digest(&d.replace("sha256", "sha512")));
    }

    #[test]
    fn referrers_tag_schema() {
        let d = format!("sha256:{}", "0".repeat(64));
        assert_eq!(
            referrers_tag(&d).unwrap(),
            format!("sha256-{}", "0".repeat(64))
        );
        let err = referrers_tag("sha512:00").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid subject digest from the registry: \"sha512:00\" is not sha256:<hex>"
        );
    }

    #[test]
    fn platforms_parse_and_select() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert_eq!(
            Platform::parse("Linux/AMD64").unwrap().to_string(),
            "linux/amd64"
        );
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", "linux/amd 64", ""] {
            assert!(
                matches!(Platform::parse(bad), Err(OciError::InvalidPlatform { .. })),
                "{bad:?}"
            );
        }
        let entry = |os: &str, arch: &str, variant: Option<&str>| Platform {
            os: os.to_owned(),
            architecture: arch.to_owned(),
            variant: variant.map(str::to_owned),
        };
        let arm = Platform::parse("linux/arm64").unwrap();
        assert!(arm.selects(&entry("linux", "arm64", Some("v8"))));
        assert!(arm.selects(&entry("linux", "arm64", None)));
        assert!(arm.selects(&entry("Linux", "ARM64", None)));
        assert!(!arm.selects(&entry("linux", "amd64", None)));
        assert!(!arm.selects(&entry("windows", "arm64", None)));
        assert!(p.selects(&entry("linux", "arm64", Some("v8"))));
        assert!(!p.selects(&entry("linux", "arm64", Some("v7"))));
        assert!(!p.selects(&entry("linux", "arm64", None)));
    }

    #[test]
    fn parses_bearer_challenge() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(c.scheme, "Bearer");
        assert_eq!(c.params["realm"], "https://auth.example/token");
        assert_eq!(c.params["service"], "registry.example");
        assert_eq!(c.params["scope"], "repository:a/b:pull,push");
    }

    #[test]
    fn challenge_parameters_are_lenient() {
        let c = parse_challenge("  Basic REALM=registry , Charset=\"UT\\\"F-8\", flag  ");
        assert_eq!(c.scheme, "Basic");
        assert_eq!(c.params["realm"], "registry ");
        assert_eq!(c.params["charset"], "UT\"F-8");
        assert_eq!(c.params["flag"], "");
        let c = parse_challenge("Basic");
        assert_eq!((c.scheme.as_str(), c.params.len()), ("Basic", 0));
        let c = parse_challenge("");
        assert_eq!((c.scheme.as_str(), c.params.len()), ("", 0));
        // An unterminated quoted value runs to the end.
        let c = parse_challenge("Bearer realm=\"https://a");
        assert_eq!(c.params["realm"], "https://a");
    }

    #[test]
    fn manifests_and_indexes() {
        let d = format!("sha256:{}", "1".repeat(64));
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[
                {{"mediaType":"{OCI_MANIFEST}","digest":"{d}","size":7,
                  "platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}},
                {{"mediaType":"{OCI_MANIFEST}","digest":"{d}","size":7,"extra":1}}]}}"#
        );
        let entries = index_entries(OCI_INDEX, index.as_bytes()).unwrap().unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].platform.as_ref().unwrap().to_string(),
            "linux/arm64/v8"
        );
        assert_eq!(
            index_entries(DOCKER_MANIFEST_LIST, index.as_bytes())
                .unwrap()
                .unwrap(),
            entries
        );
        assert_eq!(index_entries(OCI_MANIFEST, b"not json").unwrap(), None);
        let err = index_entries(OCI_INDEX, b"{").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid image index from the registry: "),
            "{err}"
        );
        let bad = index.replace(&d, "sha256:ABC");
        let err = index_entries(OCI_INDEX, bad.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid image index from the registry: entry digest \"sha256:ABC\" is not sha256:<64 hex>"
        );

        assert_eq!(parse_index(index.as_bytes()).unwrap().manifests, entries);
        let err = parse_index(b"[]").unwrap_err();
        assert!(matches!(
            err,
            OciError::Malformed {
                what: "referrers index",
                ..
            }
        ));
        let empty = serde_json::to_vec(&ImageIndex::empty()).unwrap();
        assert_eq!(
            String::from_utf8(empty).unwrap(),
            format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[]}}"#)
        );

        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(OCI_MANIFEST.to_owned()),
            artifact_type: Some(BUNDLE_MEDIA_TYPE.to_owned()),
            config: Descriptor {
                media_type: EMPTY_MEDIA_TYPE.to_owned(),
                digest: sha256_digest(b"{}"),
                size: 2,
                artifact_type: None,
                annotations: None,
                platform: None,
            },
            layers: Vec::new(),
            subject: None,
            annotations: Some(BTreeMap::from([("k".to_owned(), "v".to_owned())])),
        };
        let json = serde_json::to_string(&manifest).unwrap();
        assert!(json.contains(r#""artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json""#));
        assert!(!json.contains("subject"));
        assert_eq!(
            serde_json::from_str::<ImageManifest>(&json).unwrap(),
            manifest
        );
    }

    #[test]
    fn token_responses() {
        let ok = |body: &str| parse_token_response(body.as_bytes());
        assert_eq!(ok(r#"{"token":"t1"}"#).unwrap(), "t1");
        assert_eq!(
            ok(r#"{"access_token":"a1","expires_in":300}"#).unwrap(),
            "a1"
        );
        // `token` takes precedence (Docker token specification); an empty or null one does
        // not count.
        assert_eq!(ok(r#"{"token":"t1","access_token":"a1"}"#).unwrap(), "t1");
        assert_eq!(ok(r#"{"token":"","access_token":"a1"}"#).unwrap(), "a1");
        assert_eq!(ok(r#"{"token":null,"access_token":"a1"}"#).unwrap(), "a1");
        // Unknown fields, and those it ignores whatever their type, are fine.
        assert_eq!(
            ok(r#"{"token":"t.1-_~+/=","issued_at":"not a time","expires_in":"x","x":[]}"#)
                .unwrap(),
            "t.1-_~+/="
        );
        // Not UTF-8, even in a field that is ignored: not JSON (found by the registry_token
        // fuzz target; serde_json skips ignored strings without checking them).
        assert_eq!(
            parse_token_response(b"{\"scope\":\"\xb6\",\"token\":\"t\"}")
                .unwrap_err()
                .to_string(),
            "bad token response: invalid utf-8 sequence of 1 bytes from index 10"
        );
        for (body, message) in [
            ("{}", "token response has no token"),
            (r#"{"token":""}"#, "token response has no token"),
            (
                r#"{"token":"","access_token":""}"#,
                "token response has no token",
            ),
            (
                "",
                "bad token response: EOF while parsing a value at line 1 column 0",
            ),
            (
                r#"{"token":7}"#,
                "bad token response: invalid type: integer `7`",
            ),
            (
                r#"{"token":"a","token":"b"}"#,
                "bad token response: duplicate field `token`",
            ),
            (
                r#"{"token":"a b"}"#,
                "token response has a token that is not visible ASCII",
            ),
            (
                "{\"token\":\"a\\r\\nX-Injected: 1\"}",
                "token response has a token that is not visible ASCII",
            ),
            (
                r#"{"access_token":"caf\u00e9"}"#,
                "token response has a token that is not visible ASCII",
            ),
        ] {
            let e = ok(body).unwrap_err().to_string();
            assert!(e.starts_with(message), "{body}: {e}");
            assert!(!e.contains("Injected"), "the token is not repeated: {e}");
        }
    }
}
