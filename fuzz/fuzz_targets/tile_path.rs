//! Fuzzes the tlog-tiles path parser and the entry-bundle decoder.
//!
//! Asserts: a parsed hash-tile path is canonical (prints back to the input), and a decoded
//! entry bundle re-encodes to exactly its input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::tiles::{decode_entry_bundle, encode_entry_bundle, parse_tile_path, TilePath};

fuzz_target!(|data: &[u8]| {
    if let Ok(path) = std::str::from_utf8(data) {
        if let Ok(TilePath::Hash(id)) = parse_tile_path(path) {
            assert_eq!(id.path(), path, "tile paths are canonical");
        }
    }
    if let Ok(entries) = decode_entry_bundle(data) {
        let again = encode_entry_bundle(&entries).expect("decoded entries re-encode");
        assert_eq!(again, data, "entry bundles are canonical");
    }
});
