//! Fuzzes the two revocation documents a verifier reads from a TUF mirror
//! (`signet_verifier::revocation`, `signet_verifier::trusted_keys`): an RFC 5280 CRL (DER) and
//! the trusted keys document (JSON). The first byte picks which.
//!
//! Asserts: an accepted CRL has no critical extension and each entry's effective time is not
//! after its `revocationDate`; a CRL is never added to trust material without a CA to verify
//! it; an accepted trusted keys document lists each key and each name once, every window has
//! a start not after its end, it survives a serialize/parse round trip, and `check` accepts a
//! time only inside the key's window and strictly before its revocation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_verifier::revocation::parse_crl;
use signet_verifier::trusted_keys::{KeyRefused, TrustedKeys, TrustedKeysDocument};
use signet_verifier::TrustMaterial;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    if which % 2 == 0 {
        if let Ok((crl, revoked)) = parse_crl(rest) {
            assert!(crl.extensions().iter().all(|e| !e.critical));
            for (r, parsed) in revoked.iter().zip(crl.iter_revoked_certificates()) {
                assert!(r.from <= parsed.revocation_date.timestamp());
                assert!(parsed.extensions().iter().all(|e| !e.critical));
            }
        }
        let mut empty = TrustMaterial::new();
        assert!(empty.add_crl(rest).is_err(), "a CRL accepted with no CA");
        assert!(empty.crls().is_empty());
        return;
    }
    let Ok(keys) = TrustedKeys::from_json(rest) else {
        return;
    };
    let list = keys.keys();
    for (i, k) in list.iter().enumerate() {
        assert!(k.valid_for.start.is_some(), "a window without a start");
        if let (Some(s), Some(e)) = (k.valid_for.start, k.valid_for.end) {
            assert!(s <= e, "a window ending before it starts");
        }
        for other in &list[i + 1..] {
            assert_ne!(other.name, k.name);
            assert_ne!(other.key.spki_der(), k.key.spki_der());
        }
        // The rule at a few times around the bounds.
        let mut times = Vec::new();
        for b in [
            k.valid_for.start,
            k.valid_for.end,
            k.revoked.as_ref().map(|r| r.0 .0),
        ]
        .into_iter()
        .flatten()
        {
            times.extend([b.saturating_sub(1), b, b.saturating_add(1)]);
        }
        for t in times {
            match keys.check(&k.key, &[(t, 0)]) {
                Ok(found) => {
                    assert_eq!(found.name, k.name);
                    assert!(k.valid_for.contains(t));
                    assert!(k.revoked.as_ref().is_none_or(|r| (t, 0) < r.0));
                }
                Err(KeyRefused::Unknown) => panic!("a listed key is unknown"),
                Err(_) => {}
            }
        }
    }
    let doc: TrustedKeysDocument =
        signet_proto::json::from_slice(rest).expect("accepted, so it parses");
    let again = serde_json::to_vec(&doc).expect("serializes");
    let back = TrustedKeys::from_json(&again).expect("round trip");
    assert_eq!(back.keys().len(), list.len());
});
