//! Characters that hide or forge what a person or a terminal reads, and how Signet keeps them
//! out of what it certifies and shows.
//!
//! The CA refuses them in every certified value ([`is_deceptive_char`]); what comes from a
//! log entry anyone may submit (a self-signed certificate's SAN or issuer) cannot be refused
//! after the fact, so it is shown escaped ([`escape_deceptive_in_json`]). No I/O.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is a Unicode control character (C0, DEL, C1: a terminal may act on them), a
/// line or paragraph separator, or a format character (general category Cf: the bidirectional
/// controls that reorder what is displayed, as in Trojan Source, CVE-2021-42574; zero-width
/// spaces and joiners, the soft hyphen, the byte order mark, tag characters).
#[must_use]
pub fn is_deceptive_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                // Category Cf (Unicode 15.1).
                | '\u{00AD}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
        )
}

/// Rewrites every deceptive character of a JSON text as a `\uXXXX` escape (a UTF-16
/// surrogate pair above the BMP), so the line is safe to print to a terminal or a log viewer
/// and still parses to the same value.
///
/// `json` must be JSON text as `serde_json` writes it: such characters can then only stand
/// inside strings, where the escape means the same character.
#[must_use]
pub fn escape_deceptive_in_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_deceptive_char) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_deceptive_char(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Longest error message a server sends a client, in bytes: enough for every message Signet
/// writes, short of echoing a client's megabyte-long field back at it.
pub const MAX_CLIENT_MESSAGE: usize = 1024;

/// `message` cut to at most [`MAX_CLIENT_MESSAGE`] bytes (at a character boundary), with a
/// note of what was cut: what every HTTP error answer carries, since messages name values the
/// client sent (an unknown field, a `keyDetails`, a `kind`).
#[must_use]
pub fn client_message(message: String) -> String {
    if message.len() <= MAX_CLIENT_MESSAGE {
        return message;
    }
    let mut end = MAX_CLIENT_MESSAGE;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes cut)", &message[..end], message.len() - end)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn deceptive_characters_are_escaped_and_the_value_is_unchanged() {
        let value = serde_json::json!({
            "san": "ali\u{202e}moc.elpmaxe@ecila\u{2066}",
            "issuer": "https://issuer\u{9b}31m.example\u{7f}",
            "tag": "x\u{e0041}\u{200b}\u{feff}\u{ad}y",
            "plain": "caf\u{e9} \u{1f600}",
        });
        let line = serde_json::to_string(&value).unwrap();
        let escaped = escape_deceptive_in_json(&line);
        assert!(!escaped.chars().any(is_deceptive_char), "{escaped}");
        assert!(escaped.contains("\\u202e") && escaped.contains("\\udb40\\udc41"));
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back, value);
        // Printable text, non-ASCII included, is left alone.
        let plain = serde_json::to_string(&serde_json::json!({"a": "caf\u{e9}"})).unwrap();
        assert!(matches!(escape_deceptive_in_json(&plain), Cow::Borrowed(_)));
    }

    #[test]
    fn the_set() {
        for c in [
            '\0', '\n', '\u{7f}', '\u{85}', '\u{9b}', '\u{2028}', '\u{202e}', '\u{2069}',
        ] {
            assert!(is_deceptive_char(c), "U+{:04X}", u32::from(c));
        }
        for c in ['a', ' ', '\u{e9}', '\u{4e2d}', '\u{1f600}', '@', '\u{2010}'] {
            assert!(!is_deceptive_char(c), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn client_messages_are_bounded_at_a_character_boundary() {
        assert_eq!(client_message("short".to_owned()), "short");
        let long = format!("keyDetails \"{}\" is not accepted", "é".repeat(2000));
        let cut = client_message(long.clone());
        let kept = cut.find('…').unwrap();
        assert!(
            kept <= MAX_CLIENT_MESSAGE && kept > MAX_CLIENT_MESSAGE - 4,
            "{kept}"
        );
        assert!(cut.starts_with("keyDetails \"éé"));
        assert!(
            cut.ends_with(&format!("({} bytes cut)", long.len() - kept)),
            "{cut}"
        );
    }
}
