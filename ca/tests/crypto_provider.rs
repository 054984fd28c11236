//! The CA's HTTP clients run TLS on aws-lc-rs, which `signet_net::client_builder` gives rustls
//! explicitly: building one needs no process-default provider (reqwest has none of its own),
//! so a process that never called `install_crypto_provider` neither panics "No provider set"
//! nor, in test builds, falls back to ring as the default.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Duration;

use signet_ca::sct_source::HttpSctSource;

#[test]
fn building_an_http_client_needs_no_default_provider() {
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    HttpSctSource::new("http://127.0.0.1:9", Duration::from_secs(1)).unwrap();
    assert!(
        rustls::crypto::CryptoProvider::get_default().is_none(),
        "building a client installed a process-default provider"
    );
}
