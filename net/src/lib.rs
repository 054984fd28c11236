//! Outgoing HTTPS for every Signet client: which roots a server's certificate must chain to,
//! and the one reqwest client configuration built on them.
//!
//! * Roots: the operating system's store (read by `rustls-native-certs`: the system bundle,
//!   or `SSL_CERT_FILE` / `SSL_CERT_DIR` in its place when set, as OpenSSL reads them), plus
//!   the PEM files this process was told to trust ([`trust_ca_certs`]: `signet --ca-certs
//!   FILE`, `ca_certs` in the serve configuration), plus, for one client only, the files given
//!   to [`client_builder_with`] (a Kubernetes issuer's cluster CA). No built-in web roots.
//! * [`client_builder`]: the reqwest builder every Signet client starts from (CA to log, OIDC
//!   discovery and JWKS, witnesses, registries, the signer's CA, log and TSA requests, the
//!   monitor's log and webhook, the admission webhook's registry). TLS runs on aws-lc-rs,
//!   given explicitly, so no process-default provider is needed.
//! * A certificate that chains to none of the roots fails the request with
//!   [`CertificateRejected`] in its cause chain: the host, the certificate's subject and
//!   issuer, and the settings that fix it ([`TRUST_HINT`]). [`chain`] renders an error with
//!   its causes, each once.
//!
//! Not here: listeners' TLS (axum-server), client certificates, certificate pinning.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The settings that make a private CA trusted, as error messages name them.
pub const TRUST_HINT: &str =
    "--ca-certs FILE (or `ca_certs` in the serve configuration, or SSL_CERT_FILE)";

/// Errors reading a CA certificates file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The file cannot be read, holds no certificate, or one that is not X.509.
    #[error("CA certificates file {path}: {reason}")]
    CaCerts {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Reads the PEM `CERTIFICATE` blocks of `path`: at least one, each an X.509 certificate a
/// root store accepts.
///
/// # Errors
/// [`NetError::CaCerts`] naming the file and the problem.
pub fn read_ca_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, NetError> {
    let bad = |reason: String| NetError::CaCerts {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(bad("no PEM CERTIFICATE block".to_owned()));
    }
    for (i, cert) in certs.iter().enumerate() {
        RootCertStore::empty()
            .add(cert.clone())
            .map_err(|e| bad(format!("certificate {}: {e}", i + 1)))?;
    }
    Ok(certs)
}

/// The extra roots of this process ([`trust_ca_certs`]) and the configuration built from
/// them, built on first use and rebuilt when roots are added.
struct ProcessTrust {
    extra: Vec<CertificateDer<'static>>,
    files: Vec<PathBuf>,
    config: Option<Arc<rustls::ClientConfig>>,
}

static TRUST: RwLock<ProcessTrust> = RwLock::new(ProcessTrust {
    extra: Vec::new(),
    files: Vec::new(),
    config: None,
});

/// Adds the certificates of `paths` to the roots every client of this process trusts (a file
/// added before is not added again). Call it before building clients: a client keeps the
/// configuration it was built with.
///
/// # Errors
/// [`NetError::CaCerts`] for the first file that cannot be read; nothing is added then.
pub fn trust_ca_certs(paths: &[PathBuf]) -> Result<(), NetError> {
    let mut read = Vec::new();
    for p in paths {
        read.push((p.clone(), read_ca_certs(p)?));
    }
    let mut trust = TRUST
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for (path, certs) in read {
        if !trust.files.contains(&path) {
            trust.files.push(path);
            trust.extra.extend(certs);
            trust.config = None;
        }
    }
    Ok(())
}

/// The provider of every client: aws-lc-rs (docs/ARCHITECTURE.md, "Crypto stack").
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A TLS client configuration trusting the system's roots, `extra` and `also`.
fn tls_config(
    extra: &[CertificateDer<'static>],
    also: &[CertificateDer<'static>],
) -> rustls::ClientConfig {
    let mut roots = RootCertStore::empty();
    // Certificates of the system store that are not usable as roots are skipped, as every
    // TLS client does; the process's own files were checked when they were read.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    roots.add_parsable_certificates(extra.iter().cloned());
    roots.add_parsable_certificates(also.iter().cloned());
    let provider = provider();
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .ok();
    let verifier = NamingVerifier {
        inner,
        provider: provider.clone(),
    };
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| {
            rustls::ClientConfig::builder_with_provider(self::provider())
                .with_protocol_versions(&[&rustls::version::TLS13])
                .unwrap_or_else(|e| unreachable!("aws-lc-rs supports TLS 1.3: {e}"))
        })
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth()
}

/// The process's configuration: the system's roots and those of [`trust_ca_certs`].
fn process_config() -> Arc<rustls::ClientConfig> {
    if let Some(c) = TRUST
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .config
        .clone()
    {
        return c;
    }
    let mut trust = TRUST
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let config = Arc::new(tls_config(&trust.extra, &[]));
    trust.config = Some(config.clone());
    config
}

/// The reqwest builder every Signet client starts from: HTTPS trusting the system's roots and
/// the process's `--ca-certs`.
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().use_preconfigured_tls((*process_config()).clone())
}

/// [`client_builder`] that also trusts the certificates of `ca_file`, for this client only
/// (an OIDC issuer's own CA, such as a Kubernetes cluster's `ca.crt`).
///
/// # Errors
/// [`NetError::CaCerts`] if the file cannot be read.
pub fn client_builder_with(ca_file: &Path) -> Result<reqwest::ClientBuilder, NetError> {
    let also = read_ca_certs(ca_file)?;
    let extra = TRUST
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .extra
        .clone();
    Ok(reqwest::Client::builder().use_preconfigured_tls(tls_config(&extra, &also)))
}

/// Whether the server at `authority` (`host:port`) answers a TLS ClientHello with TLS, within
/// `timeout`: how a registry on a loopback address, which may serve either, is told apart
/// (HTTPS first, as Docker's clients do for such registries). The certificate is not checked
/// here; the requests that follow check it.
#[must_use]
pub fn speaks_tls(authority: &str, timeout: Duration) -> bool {
    use std::io::{Read as _, Write as _};
    use std::net::ToSocketAddrs as _;
    let Ok(addrs) = authority.to_socket_addrs() else {
        return false;
    };
    let Ok(name) = ServerName::try_from("localhost") else {
        return false;
    };
    for addr in addrs {
        let Ok(mut stream) = std::net::TcpStream::connect_timeout(&addr, timeout) else {
            continue;
        };
        let Ok(mut conn) = rustls::ClientConnection::new(process_config(), name.clone()) else {
            return false;
        };
        let mut hello = Vec::new();
        if conn.write_tls(&mut hello).is_err()
            || stream.set_read_timeout(Some(timeout)).is_err()
            || stream.set_write_timeout(Some(timeout)).is_err()
            || stream.write_all(&hello).is_err()
        {
            return false;
        }
        let mut first = [0u8; 1];
        // A TLS server answers with a handshake (22) or an alert (21) record; an HTTP server
        // with "HTTP/1.x 400" or by closing.
        return matches!(stream.read(&mut first), Ok(1) if first[0] == 22 || first[0] == 21);
    }
    false
}

/// A server certificate that was refused: its host, subject and issuer, and why. It is the
/// innermost cause of the request's error.
#[derive(Debug)]
pub struct CertificateRejected {
    /// The name the client connected to.
    pub host: String,
    /// The certificate's subject (RFC 4514), or what it was when it did not parse.
    pub subject: String,
    /// The certificate's issuer (RFC 4514).
    pub issuer: String,
    /// Why it was refused.
    pub reason: CertificateError,
}

impl std::fmt::Display for CertificateRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Self {
            host,
            subject,
            issuer,
            reason,
        } = self;
        match reason {
            CertificateError::UnknownIssuer => write!(
                f,
                "certificate not trusted: {host} presented \"{subject}\", issued by \
                 \"{issuer}\", which chains to no trusted root (the system's store and \
                 --ca-certs); trust its CA with {TRUST_HINT}"
            ),
            reason => write!(
                f,
                "the certificate of {host} (\"{subject}\", issued by \"{issuer}\") is \
                 refused: {reason}"
            ),
        }
    }
}

impl StdError for CertificateRejected {}

impl CertificateRejected {
    fn new(
        end_entity: &CertificateDer<'_>,
        host: &ServerName<'_>,
        reason: CertificateError,
    ) -> Self {
        let (subject, issuer) = match x509_parser::parse_x509_certificate(end_entity) {
            Ok((_, c)) => (c.subject().to_string(), c.issuer().to_string()),
            Err(_) => (
                "an unparseable certificate".to_owned(),
                "unknown".to_owned(),
            ),
        };
        Self {
            host: host.to_str().into_owned(),
            subject,
            issuer,
            reason,
        }
    }
}

/// WebPKI verification whose certificate errors name the certificate ([`CertificateRejected`]).
#[derive(Debug)]
struct NamingVerifier {
    /// `None` when there is no root at all: every certificate is then untrusted.
    inner: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for NamingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = match &self.inner {
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
        };
        result.map_err(|e| match e {
            rustls::Error::InvalidCertificate(reason) => {
                rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
                    Arc::new(CertificateRejected::new(end_entity, server_name, reason)),
                )))
            }
            e => e,
        })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `err` followed by its causes, joined with ": ", each shown once: a cause whose text is
/// already shown is skipped (hyper and I/O errors often repeat the one below them, and an
/// error whose message includes its `source` would show it twice under `{:#}`).
#[must_use]
pub fn chain(err: &(dyn StdError + 'static)) -> String {
    chain_after("", err)
}

/// [`chain`] for a message that already shows `shown` (such as the URL a request went to):
/// text in `shown` is not repeated, and reqwest's " for url (…)" is dropped when it names a
/// URL in `shown` or earlier in the chain.
#[must_use]
pub fn chain_after(shown: &str, err: &(dyn StdError + 'static)) -> String {
    let mut seen = shown.to_owned();
    let mut out = String::new();
    let mut next = Some(err);
    while let Some(e) = next {
        // rustls shows a refused certificate with its Debug form: ours is the message, and the
        // last cause.
        if let Some(rejected) = rejected_here(e) {
            let text = rejected.to_string();
            if !seen.contains(&text) {
                if !out.is_empty() {
                    out.push_str(": ");
                }
                out.push_str(&text);
            }
            break;
        }
        let text = e.to_string();
        let text = match text.split_once(" for url (") {
            Some((head, url))
                if url.ends_with(')') && {
                    let url = &url[..url.len() - 1];
                    seen.contains(url) || seen.contains(url.trim_end_matches('/'))
                } =>
            {
                head
            }
            _ => text.as_str(),
        };
        if !text.is_empty() && !seen.contains(text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(text);
            seen.push('\n');
            seen.push_str(text);
        }
        next = e.source();
    }
    out
}

/// The [`CertificateRejected`] in `err`'s cause chain, if a certificate was refused.
#[must_use]
pub fn rejected_certificate<'a>(
    err: &'a (dyn StdError + 'static),
) -> Option<&'a CertificateRejected> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(r) = rejected_here(e) {
            return Some(r);
        }
        next = e.source();
    }
    None
}

/// The [`CertificateRejected`] that `e` is or carries: inside a rustls error, possibly inside
/// the I/O errors the TLS stream returned (whose `source` skips the rustls error).
fn rejected_here<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a CertificateRejected> {
    if let Some(r) = e.downcast_ref::<CertificateRejected>() {
        return Some(r);
    }
    if let Some(rustls::Error::InvalidCertificate(CertificateError::Other(o))) =
        e.downcast_ref::<rustls::Error>()
    {
        return o.0.downcast_ref::<CertificateRejected>();
    }
    // hyper and tokio-rustls wrap it in one or two I/O errors.
    let inner: &(dyn StdError + 'static) = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    rejected_here(inner)
}
