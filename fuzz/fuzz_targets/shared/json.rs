//! JSON round-trip assertions shared by the fuzz targets (each target is its own binary and
//! includes this file with `#[path]`, using what it needs).
#![allow(dead_code)]

/// A value serializes, and what it serializes to parses back equal.
pub fn assert_round_trip<T>(v: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_vec(v).expect("a parsed value serializes");
    let again: T = signet_proto::json::from_slice(&json).expect("a serialized value parses");
    assert_eq!(&again, v);
}

/// When `data` parses as a `T`, the parsed value round-trips ([`assert_round_trip`]).
pub fn round_trip<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    if let Ok(v) = signet_proto::json::from_slice::<T>(data) {
        assert_round_trip(&v);
    }
}
