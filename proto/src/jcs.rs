//! RFC 8785 JSON Canonicalization Scheme (JCS) for [`serde_json::Value`].
//!
//! Rekor v1 stores entry bodies and signs inclusion promises (SETs) over JCS bytes, so the
//! exact output of this module is part of the wire format. Implemented per RFC 8785 §3.2:
//!
//! * no whitespace;
//! * object members sorted by the UTF-16 code units of their names (§3.2.3);
//! * strings with the minimal escaping of §3.2.2.2 (`\"`, `\\`, `\b`, `\t`, `\n`, `\f`, `\r`,
//!   other controls as `\u00xx` with lowercase hex; everything else literal);
//! * numbers as ECMAScript `Number.prototype.toString` of the IEEE-754 double (§3.2.2.3).
//!
//! What it does not do: parse JSON text. Input is an already-parsed [`serde_json::Value`], so
//! the I-JSON checks on duplicate member names are the parser's business (`serde_json` keeps
//! the last duplicate). Integers outside ±2^53 are converted to the nearest double, as
//! RFC 8785 requires, which loses precision by design. Note that `serde_json` (built here
//! without its `float_roundtrip` feature) may parse a decimal fraction one ULP off; Sigstore
//! payloads carry only integers, so this does not affect them.

use serde::Serialize;
use serde_json::{Number, Value};
use std::fmt::Write as _;

/// Errors from canonicalization.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JcsError {
    /// The value could not be converted to a JSON value.
    #[error("cannot convert value to JSON: {source}")]
    Serialize {
        /// The underlying serde error.
        #[source]
        source: serde_json::Error,
    },
    /// A number is NaN or infinite; RFC 8785 §3.2.2.3 forbids them.
    #[error("number {value} cannot be canonicalized (NaN or infinite)")]
    NonFiniteNumber {
        /// The offending value.
        value: f64,
    },
}

/// Canonicalizes a JSON value to RFC 8785 bytes.
///
/// # Errors
///
/// [`JcsError::NonFiniteNumber`] if a number is not finite (cannot happen for values built
/// by `serde_json`, which refuses NaN and infinities).
pub fn to_vec(value: &Value) -> Result<Vec<u8>, JcsError> {
    Ok(to_string(value)?.into_bytes())
}

/// Canonicalizes a JSON value to an RFC 8785 string.
///
/// # Errors
///
/// As [`to_vec`].
pub fn to_string(value: &Value) -> Result<String, JcsError> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out)
}

/// Serializes any `Serialize` value through [`serde_json::Value`] and canonicalizes it.
///
/// # Errors
///
/// [`JcsError::Serialize`] if `serde_json` rejects the value, or as [`to_vec`].
pub fn canonicalize<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, JcsError> {
    let v = serde_json::to_value(value).map_err(|source| JcsError::Serialize { source })?;
    to_vec(&v)
}

fn write_value(out: &mut String, value: &Value) -> Result<(), JcsError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, v)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// 2^53: integers of at most this magnitude are exactly representable as doubles.
const MAX_SAFE: u64 = 1 << 53;

fn write_number(out: &mut String, n: &Number) -> Result<(), JcsError> {
    if let Some(u) = n.as_u64() {
        if u <= MAX_SAFE {
            let _ = write!(out, "{u}");
            return Ok(());
        }
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= MAX_SAFE {
            let _ = write!(out, "{i}");
            return Ok(());
        }
    }
    // Large integers and all floats: format the IEEE-754 double.
    let f = n.as_f64().unwrap_or(f64::NAN);
    write_f64(out, f)
}

/// Formats a double as ECMAScript's `Number.prototype.toString` (ECMA-262 §6.1.6.1.20).
fn write_f64(out: &mut String, f: f64) -> Result<(), JcsError> {
    if !f.is_finite() {
        return Err(JcsError::NonFiniteNumber { value: f });
    }
    if f == 0.0 {
        out.push('0'); // covers -0 as well
        return Ok(());
    }
    if f < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` prints the shortest digit string that round-trips, as ECMAScript requires.
    let (digits, exp) = shortest_digits(f.abs());
    // ECMAScript names: k = number of digits, n = position of the decimal point.
    let k = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let n = exp + 1;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        for _ in 0..(n - k) {
            out.push('0');
        }
    } else if 0 < n && n <= 21 {
        let split = usize::try_from(n).unwrap_or(0);
        out.push_str(&digits[..split]);
        out.push('.');
        out.push_str(&digits[split..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        for _ in 0..(-n) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        let e = n - 1;
        if e >= 0 {
            out.push('+');
        }
        let _ = write!(out, "{e}");
    }
    Ok(())
}

/// Splits `{:e}` output into (significant digits, decimal exponent).
fn sci_parts(sci: &str) -> (String, i32) {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let digits = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exp.parse().unwrap_or(0))
}

/// The shortest round-tripping significant digits of a positive finite double and the
/// decimal exponent of the first digit.
///
/// Rust's `{:e}` yields the shortest digits closest to the value, but when two shortest
/// candidates are exactly equally close it does not always take the even one, which
/// ECMA-262 §6.1.6.1.20 step 5 requires (RFC 8785 Appendix B, `1424953923781206.2`). The
/// exact decimal expansion of the double (also from Rust's formatter) detects such ties.
fn shortest_digits(f: f64) -> (String, i32) {
    let (digits, exp) = sci_parts(&format!("{f:e}"));
    let last_odd = digits.bytes().last().is_some_and(|d| (d - b'0') % 2 == 1);
    if !last_odd {
        return (digits, exp);
    }
    // Every double has a finite decimal expansion of at most 767 significant digits.
    let (exact, exact_exp) = sci_parts(&format!("{f:.800e}"));
    if exact_exp != exp {
        return (digits, exp);
    }
    let k = digits.len();
    let tail_is_half = exact.as_bytes().get(k) == Some(&b'5')
        && exact
            .as_bytes()
            .get(k + 1..)
            .is_some_and(|r| r.iter().all(|&b| b == b'0'));
    if !tail_is_half {
        return (digits, exp);
    }
    // The value lies exactly halfway between `exact[..k]` and that plus one unit.
    let lower = &exact[..k];
    let alternative = if lower == digits {
        increment_digits(&digits)
    } else {
        Some(lower.to_owned())
    };
    if let Some(alt) = alternative {
        let (alt_digits, alt_exp) = if alt.len() > k {
            (alt[..k].to_owned(), exp + 1)
        } else {
            (alt, exp)
        };
        let text = format!("{}.{}e{alt_exp}", &alt_digits[..1], &alt_digits[1..]);
        if text.parse::<f64>().ok() == Some(f) {
            let trimmed = alt_digits.trim_end_matches('0');
            let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
            return (trimmed.to_owned(), alt_exp);
        }
    }
    (digits, exp)
}

/// Adds one unit in the last place to a decimal digit string (may grow by one digit).
fn increment_digits(d: &str) -> Option<String> {
    let mut bytes = d.as_bytes().to_vec();
    for b in bytes.iter_mut().rev() {
        if *b == b'9' {
            *b = b'0';
        } else {
            *b += 1;
            return String::from_utf8(bytes).ok();
        }
    }
    bytes.insert(0, b'1');
    String::from_utf8(bytes).ok()
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(bits: u64) -> String {
        let mut s = String::new();
        write_f64(&mut s, f64::from_bits(bits)).expect("finite");
        s
    }

    /// RFC 8785 Appendix B: IEEE-754 bit patterns and their expected canonical text.
    #[test]
    fn rfc8785_appendix_b_numbers() {
        let cases: &[(u64, &str)] = &[
            (0x0000_0000_0000_0000, "0"),
            (0x8000_0000_0000_0000, "0"),
            (0x0000_0000_0000_0001, "5e-324"),
            (0x8000_0000_0000_0001, "-5e-324"),
            (0x7fef_ffff_ffff_ffff, "1.7976931348623157e+308"),
            (0xffef_ffff_ffff_ffff, "-1.7976931348623157e+308"),
            (0x4340_0000_0000_0000, "9007199254740992"),
            (0xc340_0000_0000_0000, "-9007199254740992"),
            (0x4430_0000_0000_0000, "295147905179352830000"),
            (0x44b5_2d02_c7e1_4af5, "9.999999999999997e+22"),
            (0x44b5_2d02_c7e1_4af6, "1e+23"),
            (0x44b5_2d02_c7e1_4af7, "1.0000000000000001e+23"),
            (0x444b_1ae4_d6e2_ef4e, "999999999999999700000"),
            (0x444b_1ae4_d6e2_ef4f, "999999999999999900000"),
            (0x444b_1ae4_d6e2_ef50, "1e+21"),
            (0x3eb0_c6f7_a0b5_ed8c, "9.999999999999997e-7"),
            (0x3eb0_c6f7_a0b5_ed8d, "0.000001"),
            (0x41b3_de43_5555_5553, "333333333.3333332"),
            (0x41b3_de43_5555_5554, "333333333.33333325"),
            (0x41b3_de43_5555_5555, "333333333.3333333"),
            (0x41b3_de43_5555_5556, "333333333.3333334"),
            (0x41b3_de43_5555_5557, "333333333.33333343"),
            (0xbecb_f647_612f_3696, "-0.0000033333333333333333"),
            (0x4314_3ff3_c1cb_0959, "1424953923781206.2"),
        ];
        for (bits, want) in cases {
            assert_eq!(num(*bits), *want, "bits {bits:#018x}");
        }
    }

    #[test]
    fn rfc8785_appendix_b_rejects_nan_and_infinity() {
        let mut s = String::new();
        assert!(write_f64(&mut s, f64::from_bits(0x7fff_ffff_ffff_ffff)).is_err());
        assert!(write_f64(&mut s, f64::from_bits(0x7ff0_0000_0000_0000)).is_err());
    }
}
