//! Fuzzes the OCI reference and platform parsers of `signet_proto::oci` (image references come
//! from pods through the admission webhook, platforms from `--platform`), the sha256 digest
//! check and the referrers tag schema.
//!
//! Asserts: a parsed reference prints back to an equal reference, also when pinned to a
//! digest (normalisation is idempotent); it is normalised (registry host lowercase, no
//! trailing dot, no default port 443, nor 80 on loopback, Docker Hub only as `docker.io` and never with a
//! single-component repository, repository lowercase, name at most 255 characters), and
//! respelling its registry as a runtime would (uppercase, `:443`, `:80` on loopback, a
//! trailing dot, a Docker Hub alias) parses to the same reference; its digest is a sha256 digest and is what a manifest
//! URL names; a parsed platform
//! prints back to an equal platform and selects itself; a sha256 digest maps to the tag
//! `sha256-<hex>` and anything else has no referrers tag. A reference never has a URL
//! scheme: one that starts with `scheme://` is refused as such, naming the rest.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::oci::{
    is_loopback_registry, is_sha256_digest, normalize_registry, referrers_tag, sha256_digest,
    OciError, Platform, Reference, DOCKER_HUB, DOCKER_HUB_ALIASES, NAME_MAX,
};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = Reference::parse(s);
    if let Err(OciError::ReferenceWithScheme {
        input,
        scheme,
        without,
    }) = &parsed
    {
        assert_eq!(input, s);
        assert!(scheme.ends_with("://") && scheme.len() > 3, "{scheme}");
        assert_eq!(format!("{scheme}{without}"), s);
    }
    if let Ok(r) = parsed {
        assert!(!s.contains("://"), "a reference with a scheme parsed: {s}");
        let printed = r.to_string();
        let again = Reference::parse(&printed).expect("a printed reference parses");
        assert_eq!(again, r, "{printed}");
        assert!(!r.repository.is_empty() && !r.registry.is_empty());
        assert_normalised(&r);
        for respelled in respellings(&r) {
            let again = Reference::parse(&respelled).expect("a respelled reference parses");
            assert_eq!(again, r, "{respelled} respells {printed}");
        }
        let _ = r.api_host();
        match &r.digest {
            Some(d) => {
                assert!(is_sha256_digest(d));
                assert_eq!(r.manifest_ref(), d);
            }
            None => assert_eq!(r.manifest_ref(), r.tag.as_deref().unwrap_or("latest")),
        }
        let pinned = r.with_digest(&sha256_digest(data));
        assert_eq!(
            Reference::parse(&pinned.to_string()).expect("a pinned reference parses"),
            pinned
        );
    }
    if let Ok(p) = Platform::parse(s) {
        let printed = p.to_string();
        assert_eq!(
            Platform::parse(&printed).expect("a printed platform parses"),
            p,
            "{printed}"
        );
        assert!(p.selects(&p));
    }
    match referrers_tag(s) {
        Ok(tag) => {
            assert!(is_sha256_digest(s));
            assert_eq!(tag, s.replacen("sha256:", "sha256-", 1));
        }
        Err(_) => assert!(!is_sha256_digest(s)),
    }
});

/// The invariants of a normalised reference.
fn assert_normalised(r: &Reference) {
    let reg = &r.registry;
    assert_eq!(reg, &reg.to_ascii_lowercase(), "host lowercase");
    assert!(reg.is_ascii(), "host ASCII");
    assert!(!reg.ends_with(":443"), "no default port: {reg}");
    assert!(
        !(is_loopback_registry(reg) && reg.ends_with(":80")),
        "no default port of plain HTTP on loopback: {reg}"
    );
    assert!(
        !reg.contains(".:") && !reg.ends_with('.'),
        "no trailing dot: {reg}"
    );
    assert_eq!(normalize_registry(reg).as_ref(), Ok(reg), "host normalised");
    assert!(
        reg == DOCKER_HUB || !DOCKER_HUB_ALIASES.contains(&reg.as_str()),
        "Docker Hub is docker.io: {reg}"
    );
    if reg == DOCKER_HUB {
        assert!(
            r.repository.contains('/'),
            "library/ prefix: {}",
            r.repository
        );
    }
    assert_eq!(r.repository, r.repository.to_ascii_lowercase());
    assert!(r.name().len() <= NAME_MAX);
    assert_eq!(r.name(), format!("{}/{}", r.registry, r.repository));
}

/// Other spellings of `r` that a runtime pulls from the same place.
fn respellings(r: &Reference) -> Vec<String> {
    let suffix = match (&r.tag, &r.digest) {
        (Some(t), Some(d)) => format!(":{t}@{d}"),
        (Some(t), None) => format!(":{t}"),
        (None, Some(d)) => format!("@{d}"),
        (None, None) => String::new(),
    };
    let repo = &r.repository;
    let mut hosts = vec![r.registry.to_ascii_uppercase()];
    let has_port = r
        .registry
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()) && !r.registry.ends_with(']'));
    if !has_port {
        hosts.push(format!("{}:443", r.registry));
        hosts.push(format!("{}:0443", r.registry.to_ascii_uppercase()));
        if is_loopback_registry(&r.registry) {
            hosts.push(format!("{}:80", r.registry));
        }
        if !r.registry.starts_with('[') {
            hosts.push(format!("{}.", r.registry));
            hosts.push(format!("{}.:443", r.registry));
        }
    }
    if r.registry == DOCKER_HUB {
        hosts.extend(DOCKER_HUB_ALIASES.iter().map(|h| (*h).to_owned()));
        if let Some(name) = repo.strip_prefix("library/") {
            if !name.contains('/') {
                return hosts
                    .iter()
                    .map(|h| format!("{h}/{repo}{suffix}"))
                    .chain([
                        format!("{name}{suffix}"),
                        format!("index.docker.io/{name}{suffix}"),
                    ])
                    .collect();
            }
        }
    }
    hosts
        .iter()
        .map(|h| format!("{h}/{repo}{suffix}"))
        .collect()
}
