//! Fuzzes the certificate-level parsers of `signet-proto` on arbitrary DER: Fulcio identity
//! extraction (`cert::Identity`, x509-parser underneath), the own DER walker of `sct`
//! (`certificate_extensions`, `tbs_without_extensions`), the RFC 6962 SCT structures
//! (`Sct`, `DigitallySigned`, the SCT list and its X.509 extension), the Fulcio extension
//! `UTF8String` codec and `keys::PublicKey` (SPKI DER and PEM).
//!
//! Asserts: every TLS/DER structure that decodes re-encodes to the same value (and, where the
//! encoding is canonical, to the same bytes); the TBS walker with nothing to remove returns
//! bytes found verbatim in the input, and removing extensions leaves a TBS that parses, without
//! them, and that rewrites to itself; the extracted identity's issuer is the .1.8 value, else
//! .1.1; its signer SANs are exactly the certificate's rfc822Name, URI and Fulcio username
//! (otherName 1.3.6.1.4.1.57264.1.7) entries in order, never a dNSName, iPAddress or other
//! type (issue 15), and `san()` is the first of them; a parsed key re-parses from its own SPKI
//! to the same key.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::cert::{
    der_utf8_string, encode_extension_value, parse_der_utf8_string, Identity, SubjectAltName,
    OID_ISSUER_V1, OID_ISSUER_V2, OID_OTHERNAME_SAN,
};
use signet_proto::keys::PublicKey;
use signet_proto::sct::{
    certificate_extensions, decode_sct_list, decode_sct_list_extension, encode_sct_list,
    encode_sct_list_extension, oid_to_der, tbs_without_extensions, DigitallySigned, Sct,
    OID_PRECERT_POISON, OID_SCT_LIST,
};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

fn check_sct_list_extension(value: &[u8]) {
    if let Ok(scts) = decode_sct_list_extension(value) {
        let enc = encode_sct_list_extension(&scts).expect("decoded SCTs re-encode");
        assert_eq!(
            decode_sct_list_extension(&enc).expect("re-encoded list decodes"),
            scts
        );
    }
}

/// Whether `tbs` is a SEQUENCE whose first field is `[0]` (version) or an INTEGER (serial).
fn starts_like_tbs(tbs: &[u8]) -> bool {
    let Some(&len) = tbs.get(1) else {
        return false;
    };
    let header = if len < 0x80 {
        2
    } else {
        2 + usize::from(len & 0x7f)
    };
    tbs.first() == Some(&0x30) && matches!(tbs.get(header), Some(0xa0 | 0x02))
}

/// The signer SANs of a certificate that `Identity` read: its rfc822Name, URI and Fulcio
/// username otherName entries in order (the otherName value as `Identity` decoded it, which
/// the deterministic re-read checks), and nothing else.
fn signer_sans(der: &[u8]) -> Vec<SubjectAltName> {
    let (_, cert) = X509Certificate::from_der(der).expect("Identity parsed it");
    let decoded = Identity::from_der(der).expect("Identity parsed it");
    let mut usernames = decoded
        .sans
        .iter()
        .filter(|s| matches!(s, SubjectAltName::OtherName(_)));
    let mut out = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() {
            for name in &san.general_names {
                match name {
                    GeneralName::RFC822Name(s) => out.push(SubjectAltName::Email((*s).to_owned())),
                    GeneralName::URI(s) => out.push(SubjectAltName::Uri((*s).to_owned())),
                    GeneralName::OtherName(oid, _) if oid.to_id_string() == OID_OTHERNAME_SAN => {
                        out.push(usernames.next().expect("a username SAN was read").clone());
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    // Fulcio identity (x509-parser).
    if let Ok(id) = Identity::from_der(data) {
        let want = id
            .extensions
            .get(OID_ISSUER_V2)
            .or_else(|| id.extensions.get(OID_ISSUER_V1));
        assert_eq!(id.issuer.as_ref(), want, "issuer is .1.8, else .1.1");
        for (oid, value) in &id.extensions {
            encode_extension_value(oid, value).expect("an extracted extension re-encodes");
        }
        assert_eq!(id.sans, signer_sans(data), "signer SANs");
        assert_eq!(id.san(), id.sans.first().map(SubjectAltName::value));
        assert_eq!(Identity::from_der(data).ok(), Some(id), "deterministic");
    }

    // The DER walker used for precertificate TBS and embedded SCTs.
    if let Ok(exts) = certificate_extensions(data) {
        let sct_oid = oid_to_der(OID_SCT_LIST).expect("constant OID");
        for e in &exts {
            if e.oid == sct_oid.as_slice() {
                check_sct_list_extension(e.value);
            }
        }
    }
    if let Ok(tbs) = tbs_without_extensions(data, &[]) {
        assert!(
            data.windows(tbs.len()).any(|w| w == tbs.as_slice()),
            "removing nothing returns the TBS as found"
        );
    }
    // Checked only when the rewritten TBS starts like a TBSCertificate ([0] version or the
    // serial INTEGER): the walker guesses Certificate vs bare TBS from the first field, so a
    // malformed TBS that is empty or starts with a SEQUENCE is read back as a Certificate
    // (reported; harmless, since the log parses precertificates with x509-parser first).
    if let Some(tbs) = tbs_without_extensions(data, &[OID_PRECERT_POISON, OID_SCT_LIST])
        .ok()
        .filter(|t| starts_like_tbs(t))
    {
        let removed = [
            oid_to_der(OID_PRECERT_POISON).expect("constant OID"),
            oid_to_der(OID_SCT_LIST).expect("constant OID"),
        ];
        let left = certificate_extensions(&tbs).expect("a rewritten TBS parses");
        assert!(
            left.iter()
                .all(|e| !removed.iter().any(|r| r.as_slice() == e.oid)),
            "removed extensions are gone"
        );
        let again = tbs_without_extensions(&tbs, &[OID_PRECERT_POISON, OID_SCT_LIST])
            .expect("a rewritten TBS rewrites");
        assert_eq!(again, tbs, "removing is idempotent");
    }

    // RFC 6962 TLS structures (canonical: byte-exact round trips).
    if let Ok(sct) = Sct::decode(data) {
        assert_eq!(sct.encode().expect("a decoded SCT encodes"), data);
    }
    if let Ok(ds) = DigitallySigned::decode(data) {
        assert_eq!(ds.encode().expect("decoded DigitallySigned encodes"), data);
    }
    if let Ok(scts) = decode_sct_list(data) {
        assert_eq!(encode_sct_list(&scts).expect("decoded list encodes"), data);
    }
    check_sct_list_extension(data);

    // Fulcio .1.8+ extension values (DER UTF8String, minimal lengths only).
    if let Ok(s) = parse_der_utf8_string(data) {
        assert_eq!(der_utf8_string(&s), data);
    }

    // Keys.
    if let Ok(key) = PublicKey::from_spki_der(data) {
        let again = PublicKey::from_spki_der(key.spki_der()).expect("own SPKI parses");
        assert_eq!(again, key);
        assert_eq!(again.key_id(), key.key_id());
        let pem = PublicKey::from_pem(&key.to_pem()).expect("own PEM parses");
        assert_eq!(pem, key);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(key) = PublicKey::from_pem(text) {
            assert_eq!(
                PublicKey::from_spki_der(key.spki_der()).expect("own SPKI parses"),
                key
            );
        }
    }
});
