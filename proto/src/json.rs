//! Reading untrusted JSON strictly: the whole text must be UTF-8 (RFC 8259 §8.1), as
//! `serde_json::Value` requires, also inside the members a typed reader skips.
//! `serde_json::from_slice` into a typed struct checks only the strings it keeps: invalid UTF-8
//! in an ignored member (an unknown field, a JWS's unprotected header) passed.
//!
//! It is the workspace's one JSON byte reader: `clippy.toml` disallows `serde_json::from_slice`
//! in every crate and test, so the lint gate refuses a new lenient reader.

/// `serde_json::from_slice`, refusing bytes that are not UTF-8 anywhere in the text.
///
/// # Errors
/// Not UTF-8 (a `serde_json::Error` naming the offset), or what `serde_json` refuses.
pub fn from_slice<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, serde_json::Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        <serde_json::Error as serde::de::Error>::custom(format_args!("the JSON is not UTF-8: {e}"))
    })?;
    serde_json::from_str(text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::disallowed_methods)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Kept {
        #[allow(dead_code)]
        a: String,
    }

    #[test]
    fn invalid_utf8_in_a_skipped_member_is_refused() {
        let body = b"{\"a\":\"x\",\"ignored\":\"\xa8\"}";
        // What a typed reader alone does: it skips the member without checking it.
        assert!(serde_json::from_slice::<Kept>(body).is_ok());
        assert!(serde_json::from_slice::<serde_json::Value>(body).is_err());
        let e = super::from_slice::<Kept>(body).err().unwrap().to_string();
        assert!(e.contains("not UTF-8"), "{e}");
        assert!(super::from_slice::<Kept>(b"{\"a\":\"\xc3\xa9\",\"b\":1}").is_ok());
    }
}
