//! Fuzzes the C2SP signed-note parser: parse, and if it parses, serialize and parse again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use signet_proto::note::Note;

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = Note::parse(data) {
        let again = Note::parse(&note.to_bytes()).expect("a serialized note parses");
        assert_eq!(again, note);
    }
});
