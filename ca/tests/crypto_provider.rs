//! The CA's HTTP clients run TLS on aws-lc-rs: building one installs it as the process's
//! rustls provider (reqwest has none of its own; without this a process that never called
//! `install_crypto_provider` would panic "No provider set", or, in test builds, silently fall
//! back to ring).
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use signet_ca::sct_source::HttpSctSource;

#[test]
fn building_an_http_client_installs_aws_lc_rs() {
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    HttpSctSource::new("http://127.0.0.1:9", Duration::from_secs(1)).unwrap();
    let installed = format!(
        "{:?}",
        rustls::crypto::CryptoProvider::get_default().unwrap()
    );
    assert_eq!(
        installed,
        format!("{:?}", rustls::crypto::aws_lc_rs::default_provider())
    );
    assert_ne!(
        installed,
        format!("{:?}", rustls::crypto::ring::default_provider())
    );
}
