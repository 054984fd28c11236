//! RFC 8785 (JCS) examples, run through `signet_proto::jcs`.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use signet_proto::jcs;

fn canon(text: &str) -> String {
    let v: Value = serde_json::from_str(text).unwrap();
    jcs::to_string(&v).unwrap()
}

/// RFC 8785 §3.2.2: the main example (numbers, string escaping, literals).
///
/// The numbers are given as Rust literals: `serde_json` without its `float_roundtrip`
/// feature may parse `333333333.33333329` one ULP off, which is a parser matter, not a
/// canonicalization one (Sigstore payloads carry only integers).
#[test]
#[allow(clippy::excessive_precision)] // the RFC writes 333333333.33333329
fn rfc8785_main_example() {
    let input = r#"{
      "numbers": [],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"#;
    let mut v: Value = serde_json::from_str(input).unwrap();
    v["numbers"] = json!([
        333_333_333.333_333_29_f64,
        1e30,
        4.50,
        2e-3,
        0.000_000_000_000_000_000_000_000_001
    ]);
    let want = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
    assert_eq!(jcs::to_string(&v).unwrap(), want);
}

/// RFC 8785 §3.2.3: members sorted by UTF-16 code units (the emoji, a surrogate pair,
/// sorts before U+FB33 although its code point is larger).
#[test]
fn rfc8785_sorting_example() {
    let input = r#"{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }"#;
    let out = canon(input);
    let v: serde_json::Map<String, Value> = serde_json::from_str(&out).unwrap();
    let keys: Vec<&str> = v.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        vec![
            "\r",
            "1",
            "\u{80}",
            "\u{f6}",
            "\u{20ac}",
            "\u{1f600}",
            "\u{fb33}"
        ]
    );
    assert!(out.starts_with("{\"\\r\":\"Carriage Return\",\"1\":\"One\","));
}

/// §3.2.2.2: only the mandatory escapes; DEL, U+2028 and non-ASCII stay literal.
#[test]
fn string_escaping_is_minimal() {
    let v = json!({"s": "\u{0}\u{1f}\u{7f}\u{2028}/é\t\u{8}\u{c}"});
    assert_eq!(
        jcs::to_string(&v).unwrap(),
        "{\"s\":\"\\u0000\\u001f\u{7f}\u{2028}/é\\t\\b\\f\"}"
    );
}

/// Integers are printed exactly up to 2^53; beyond that they go through IEEE-754 doubles.
#[test]
fn integers() {
    assert_eq!(
        jcs::to_string(&json!([0, -1, 9_007_199_254_740_992_u64])).unwrap(),
        "[0,-1,9007199254740992]"
    );
    assert_eq!(
        jcs::to_string(&json!([9_007_199_254_740_993_u64])).unwrap(),
        "[9007199254740992]"
    );
    assert_eq!(
        jcs::to_string(&json!([-0.0, 1.0, 100.0, 1e21])).unwrap(),
        "[0,1,100,1e+21]"
    );
}

/// Nested structures: whitespace removed, nested objects sorted, arrays keep order.
#[test]
fn nested_and_whitespace() {
    let out = canon(r#" { "b" : [ { "z":1, "a":2 } , "x" ], "a" : { } , "c": [] } "#);
    assert_eq!(out, r#"{"a":{},"b":[{"a":2,"z":1},"x"],"c":[]}"#);
}

/// `canonicalize` goes through serde: struct field order does not matter.
#[test]
fn canonicalize_serde_struct() {
    #[derive(serde::Serialize)]
    struct S {
        zeta: u8,
        alpha: &'static str,
    }
    let out = jcs::canonicalize(&S {
        zeta: 1,
        alpha: "a",
    })
    .unwrap();
    assert_eq!(out, br#"{"alpha":"a","zeta":1}"#);
}
