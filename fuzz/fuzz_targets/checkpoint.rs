//! Fuzzes the tlog-checkpoint parsers: the body text and the signed note around it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::checkpoint::{Checkpoint, UnverifiedCheckpoint};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cp) = Checkpoint::parse_text(text) {
            let again =
                Checkpoint::parse_text(&cp.to_text()).expect("a serialized checkpoint parses");
            assert_eq!(again, cp);
        }
    }
    let _ = UnverifiedCheckpoint::parse(data);
});
