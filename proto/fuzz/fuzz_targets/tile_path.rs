//! Fuzzes the tlog-tiles path parser and the entry-bundle decoder.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::tiles::{decode_entry_bundle, parse_tile_path, TilePath};

fuzz_target!(|data: &[u8]| {
    if let Ok(path) = std::str::from_utf8(data) {
        if let Ok(TilePath::Hash(id)) = parse_tile_path(path) {
            assert_eq!(id.path(), path, "tile paths are canonical");
        }
    }
    let _ = decode_entry_bundle(data);
});
