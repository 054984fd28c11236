//! RFC 7512 PKCS#11 URIs naming a signing key in a token, as cosign accepts them.
//!
//! ```text
//! pkcs11:token=signet;object=release-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234
//! ```
//!
//! The path (before `?`) holds `;`-separated attributes that select the key; the query (after
//! `?`) holds `&`-separated attributes that say how to reach it. Values are percent-decoded
//! (RFC 3986 §2.1; a `%` must be followed by two hex digits). Read here:
//!
//! | where | attribute | meaning |
//! |---|---|---|
//! | path | `token` | the token label |
//! | path | `slot-id` | the slot number (decimal) |
//! | path | `object` | the key's `CKA_LABEL` |
//! | path | `id` | the key's `CKA_ID` (bytes, usually percent-encoded: `id=%01%a2`) |
//! | path | `type` | must be `private` when present |
//! | query | `module-path` | the PKCS#11 module (shared library) to load |
//! | query | `module-name` | a module name (kept for the caller; Signet loads by path) |
//! | query | `pin-value` | the user PIN |
//! | query | `pin-source` | where to read the PIN (`file:` URI or path) |
//!
//! A URI names a key: `object`, `id` or both (each narrows the choice). `token` and `slot-id`
//! select the token; with neither, the module must hold exactly one token (the caller checks).
//!
//! Vendor attributes (`x-…`) are accepted and ignored, as RFC 7512 §2.3 allows. The other
//! attributes of RFC 7512 (`manufacturer`, `model`, `serial`, `library-*`, `slot-description`,
//! `slot-manufacturer`) are refused rather than ignored: they narrow the choice of key, and a
//! filter silently dropped could select another key. An attribute given twice is refused.
//!
//! Pure: parsing only. Loading the module, reading a `pin-source` file and opening the
//! session are the caller's.

use std::fmt;

/// The URI scheme prefix.
pub const SCHEME: &str = "pkcs11:";

/// Longest URI accepted, in bytes.
pub const MAX_URI_LEN: usize = 4096;

/// Errors of parsing a PKCS#11 URI. Each names the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11UriError {
    /// The text does not start with `pkcs11:`.
    #[error("not a PKCS#11 URI: it must start with \"pkcs11:\"")]
    Scheme,
    /// The URI is longer than [`MAX_URI_LEN`].
    #[error("PKCS#11 URI is {len} bytes long (limit {MAX_URI_LEN})")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// An attribute is not `name=value`.
    #[error("PKCS#11 URI attribute {attr:?} is not name=value")]
    NotNameValue {
        /// The attribute text.
        attr: String,
    },
    /// A value has a bad percent escape or is not UTF-8 where text is required.
    #[error("PKCS#11 URI attribute {name:?}: {reason}")]
    BadValue {
        /// The attribute name.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An attribute appears twice.
    #[error("PKCS#11 URI attribute {name:?} appears twice")]
    Duplicate {
        /// The attribute name.
        name: String,
    },
    /// An attribute Signet does not implement, or does not know.
    #[error(
        "PKCS#11 URI attribute {name:?} is not supported: select the key with \
         token=…;object=… (or id=…) and give module-path and pin-value or pin-source"
    )]
    Unsupported {
        /// The attribute name.
        name: String,
    },
    /// `type` names something other than a private key.
    #[error("PKCS#11 URI type={found:?}: a signing key must be type=private")]
    NotPrivate {
        /// The type found.
        found: String,
    },
    /// Neither `object` nor `id` is given.
    #[error("PKCS#11 URI names no key: add object=<label> (or id=<CKA_ID>) to the path")]
    NoKey,
}

/// A parsed PKCS#11 URI. The PIN, if any, is not shown by `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pkcs11Uri {
    /// Token label (`None`: any token, or the one `slot_id` holds).
    pub token: Option<String>,
    /// Key label (`CKA_LABEL`).
    pub object: Option<String>,
    /// Key identifier (`CKA_ID`).
    pub id: Option<Vec<u8>>,
    /// Slot number.
    pub slot_id: Option<u64>,
    /// Path of the module to load.
    pub module_path: Option<String>,
    /// Name of the module.
    pub module_name: Option<String>,
    /// The user PIN given in the URI.
    pub pin_value: Option<String>,
    /// Where to read the PIN from.
    pub pin_source: Option<String>,
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Uri")
            .field("token", &self.token)
            .field("object", &self.object)
            .field("id", &self.id.as_ref().map(hex::encode))
            .field("slot_id", &self.slot_id)
            .field("module_path", &self.module_path)
            .field("module_name", &self.module_name)
            .field("pin_value", &self.pin_value.as_ref().map(|_| "<redacted>"))
            .field("pin_source", &self.pin_source)
            .finish()
    }
}

/// Whether `text` is meant as a PKCS#11 URI (it starts with `pkcs11:`, any case).
#[must_use]
pub fn is_pkcs11_uri(text: &str) -> bool {
    text.get(..SCHEME.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(SCHEME))
}

fn percent_decode(name: &str, value: &str) -> Result<Vec<u8>, Pkcs11UriError> {
    let bad = |reason| Pkcs11UriError::BadValue {
        name: name.to_owned(),
        reason,
    };
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .ok_or(bad("'%' is not followed by two hex digits"))?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad("bad percent escape"))?;
            let b = u8::from_str_radix(hex, 16)
                .map_err(|_| bad("'%' is not followed by two hex digits"))?;
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad("'%' is not followed by two hex digits"));
            }
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn text_value(name: &str, value: &str) -> Result<String, Pkcs11UriError> {
    let raw = percent_decode(name, value)?;
    let text = String::from_utf8(raw).map_err(|_| Pkcs11UriError::BadValue {
        name: name.to_owned(),
        reason: "not UTF-8 text",
    })?;
    if text.chars().any(char::is_control) {
        return Err(Pkcs11UriError::BadValue {
            name: name.to_owned(),
            reason: "contains a control character",
        });
    }
    Ok(text)
}

fn set<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), Pkcs11UriError> {
    if slot.is_some() {
        return Err(Pkcs11UriError::Duplicate {
            name: name.to_owned(),
        });
    }
    *slot = Some(value);
    Ok(())
}

fn split_attr(attr: &str) -> Result<(&str, &str), Pkcs11UriError> {
    let (name, value) = attr
        .split_once('=')
        .ok_or_else(|| Pkcs11UriError::NotNameValue {
            attr: attr.chars().take(64).collect(),
        })?;
    if name.is_empty() {
        return Err(Pkcs11UriError::NotNameValue {
            attr: attr.chars().take(64).collect(),
        });
    }
    Ok((name, value))
}

fn unsupported(name: &str) -> Pkcs11UriError {
    Pkcs11UriError::Unsupported {
        name: name.chars().take(64).collect(),
    }
}

impl Pkcs11Uri {
    /// Parses a PKCS#11 URI.
    ///
    /// # Errors
    /// [`Pkcs11UriError`] naming the first problem found.
    pub fn parse(text: &str) -> Result<Self, Pkcs11UriError> {
        if text.len() > MAX_URI_LEN {
            return Err(Pkcs11UriError::TooLong { len: text.len() });
        }
        if !is_pkcs11_uri(text) {
            return Err(Pkcs11UriError::Scheme);
        }
        let rest = &text[SCHEME.len()..];
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut token = None;
        let mut uri = Self::default();
        let mut kind = None;
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (name, value) = split_attr(attr)?;
            match name {
                "token" => set(&mut token, name, text_value(name, value)?)?,
                "object" => set(&mut uri.object, name, text_value(name, value)?)?,
                "id" => set(&mut uri.id, name, percent_decode(name, value)?)?,
                "slot-id" => {
                    let n = text_value(name, value)?.parse::<u64>().map_err(|_| {
                        Pkcs11UriError::BadValue {
                            name: name.to_owned(),
                            reason: "not a decimal slot number",
                        }
                    })?;
                    set(&mut uri.slot_id, name, n)?;
                }
                "type" => set(&mut kind, name, text_value(name, value)?)?,
                n if n.starts_with("x-") => {}
                n => return Err(unsupported(n)),
            }
        }
        for attr in query.into_iter().flat_map(|q| q.split('&')) {
            if attr.is_empty() {
                continue;
            }
            let (name, value) = split_attr(attr)?;
            match name {
                "module-path" => set(&mut uri.module_path, name, text_value(name, value)?)?,
                "module-name" => set(&mut uri.module_name, name, text_value(name, value)?)?,
                "pin-value" => set(&mut uri.pin_value, name, text_value(name, value)?)?,
                "pin-source" => set(&mut uri.pin_source, name, text_value(name, value)?)?,
                n if n.starts_with("x-") => {}
                n => return Err(unsupported(n)),
            }
        }
        if let Some(kind) = kind {
            if kind != "private" {
                return Err(Pkcs11UriError::NotPrivate { found: kind });
            }
        }
        uri.token = token;
        if uri.object.is_none() && uri.id.is_none() {
            return Err(Pkcs11UriError::NoKey);
        }
        Ok(uri)
    }

    /// The URI without its `pin-value` (for messages and logs).
    #[must_use]
    pub fn redacted(&self) -> String {
        let enc = |v: &[u8]| -> String {
            v.iter()
                .map(|&b| {
                    if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        };
        let mut path = Vec::new();
        if let Some(t) = &self.token {
            path.push(format!("token={}", enc(t.as_bytes())));
        }
        if let Some(o) = &self.object {
            path.push(format!("object={}", enc(o.as_bytes())));
        }
        if let Some(id) = &self.id {
            path.push(format!("id={}", enc(id)));
        }
        if let Some(s) = self.slot_id {
            path.push(format!("slot-id={s}"));
        }
        let mut query = Vec::new();
        if let Some(m) = &self.module_path {
            query.push(format!("module-path={}", enc(m.as_bytes())));
        }
        if let Some(m) = &self.module_name {
            query.push(format!("module-name={}", enc(m.as_bytes())));
        }
        if self.pin_value.is_some() {
            query.push("pin-value=<redacted>".to_owned());
        }
        if let Some(p) = &self.pin_source {
            query.push(format!("pin-source={}", enc(p.as_bytes())));
        }
        let mut s = format!("{SCHEME}{}", path.join(";"));
        if !query.is_empty() {
            s.push('?');
            s.push_str(&query.join("&"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cosign_style_uri_parses() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=signet%20test;object=release-key;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234",
        )
        .unwrap();
        assert_eq!(u.token.as_deref(), Some("signet test"));
        assert_eq!(u.object.as_deref(), Some("release-key"));
        assert_eq!(u.id.as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(
            u.module_path.as_deref(),
            Some("/usr/lib/softhsm/libsofthsm2.so")
        );
        assert_eq!(u.pin_value.as_deref(), Some("1234"));
        assert!(!format!("{u:?}").contains("1234"));
        assert!(!u.redacted().contains("1234"));
        assert_eq!(
            u.redacted(),
            "pkcs11:token=signet%20test;object=release-key;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=<redacted>"
        );
    }

    #[test]
    fn pin_source_slot_type_and_vendor_attributes() {
        let u = Pkcs11Uri::parse(
            "PKCS11:token=t;object=k;type=private;slot-id=3;x-vendor=1?pin-source=file:/run/pin&x-y=2",
        )
        .unwrap();
        assert_eq!(u.slot_id, Some(3));
        assert_eq!(u.pin_source.as_deref(), Some("file:/run/pin"));
        assert_eq!(u.pin_value, None);
        // Round trip of the redacted form (no PIN in it).
        assert_eq!(Pkcs11Uri::parse(&u.redacted()).unwrap(), u);
    }

    /// RFC 7512 URIs that select the key by `CKA_ID` alone (percent-encoded bytes, either hex
    /// case, or plain characters), and the token by slot number, with no token label.
    #[test]
    fn id_only_and_slot_id_uris_parse() {
        let u = Pkcs11Uri::parse("pkcs11:id=%a1%B2%00z?module-path=/m.so&pin-value=1").unwrap();
        assert_eq!(u.token, None);
        assert_eq!(u.object, None);
        assert_eq!(u.id.as_deref(), Some(&[0xa1, 0xb2, 0x00, b'z'][..]));
        assert_eq!(
            u.redacted(),
            "pkcs11:id=%A1%B2%00z?module-path=/m.so&pin-value=<redacted>"
        );
        let u = Pkcs11Uri::parse("pkcs11:slot-id=1234567;id=%01").unwrap();
        assert_eq!((u.token.as_deref(), u.slot_id), (None, Some(1_234_567)));
        assert_eq!(Pkcs11Uri::parse(&u.redacted()).unwrap(), u);
        let u = Pkcs11Uri::parse("pkcs11:slot-id=0;object=k").unwrap();
        assert_eq!((u.slot_id, u.object.as_deref()), (Some(0), Some("k")));
        // RFC 7512's examples: a manufacturer filter is refused, an id's bytes parse.
        let u = Pkcs11Uri::parse("pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc.?pin-value=the-pin");
        assert!(matches!(u, Err(Pkcs11UriError::Unsupported { .. })));
        let u =
            Pkcs11Uri::parse("pkcs11:object=my-sign-key;type=private;id=%69%95%3e%5c%f4%bd%ec%91")
                .unwrap();
        assert_eq!(
            u.id.as_deref(),
            Some(&[0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91][..])
        );
    }

    #[test]
    fn bad_uris_are_refused_with_their_reason() {
        use Pkcs11UriError as E;
        type Check = fn(&E) -> bool;
        let cases: &[(&str, Check)] = &[
            ("awskms:///alias/x", |e| matches!(e, E::Scheme)),
            ("pkcs11:slot-id=1", |e| matches!(e, E::NoKey)),
            ("pkcs11:id=%01;id=%02", |e| matches!(e, E::Duplicate { .. })),
            ("pkcs11:slot-id=0x1;id=%01", |e| {
                matches!(e, E::BadValue { .. })
            }),
            ("pkcs11:id=%0;object=k", |e| matches!(e, E::BadValue { .. })),
            ("pkcs11:token=t", |e| matches!(e, E::NoKey)),
            ("pkcs11:token=t;token=u;object=k", |e| {
                matches!(e, E::Duplicate { .. })
            }),
            ("pkcs11:token=t;object=k?pin-value=1&pin-value=2", |e| {
                matches!(e, E::Duplicate { .. })
            }),
            ("pkcs11:token=t;object=k;serial=42", |e| {
                matches!(e, E::Unsupported { .. })
            }),
            ("pkcs11:token=t;object=k?unknown=1", |e| {
                matches!(e, E::Unsupported { .. })
            }),
            ("pkcs11:token=t;object=k;type=public", |e| {
                matches!(e, E::NotPrivate { .. })
            }),
            ("pkcs11:token=t;object", |e| {
                matches!(e, E::NotNameValue { .. })
            }),
            ("pkcs11:token=t;=k", |e| matches!(e, E::NotNameValue { .. })),
            ("pkcs11:token=t%2;object=k", |e| {
                matches!(e, E::BadValue { .. })
            }),
            ("pkcs11:token=t%zz;object=k", |e| {
                matches!(e, E::BadValue { .. })
            }),
            ("pkcs11:token=t%+1;object=k", |e| {
                matches!(e, E::BadValue { .. })
            }),
            ("pkcs11:token=%FF;object=k", |e| {
                matches!(e, E::BadValue { .. })
            }),
            ("pkcs11:token=a%0Ab;object=k", |e| {
                matches!(e, E::BadValue { .. })
            }),
            ("pkcs11:token=t;object=k;slot-id=-1", |e| {
                matches!(e, E::BadValue { .. })
            }),
        ];
        for (uri, want) in cases {
            let err = Pkcs11Uri::parse(uri).unwrap_err();
            assert!(want(&err), "{uri}: {err:?}");
        }
        let long = format!("pkcs11:token=t;object={}", "a".repeat(MAX_URI_LEN));
        assert!(matches!(
            Pkcs11Uri::parse(&long),
            Err(Pkcs11UriError::TooLong { .. })
        ));
        // A multi-byte character at the scheme boundary is not a panic.
        assert!(!is_pkcs11_uri("pkcs1é:"));
    }
}
