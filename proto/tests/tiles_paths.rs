//! C2SP tlog-tiles path encoding/parsing and entry-bundle codec tests.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use signet_proto::tiles::{
    decode_entry_bundle, encode_entry_bundle, entry_bundle_path, parse_tile_path, BundleError,
    TileId, TilePath, TilePathError,
};

#[test]
fn known_paths() {
    let cases: &[(TilePath, &str)] = &[
        (TilePath::Hash(TileId::full(0, 0)), "tile/0/000"),
        (TilePath::Hash(TileId::full(0, 999)), "tile/0/999"),
        (TilePath::Hash(TileId::full(0, 1000)), "tile/0/x001/000"),
        (
            TilePath::Hash(TileId::full(1, 1_234_067)),
            "tile/1/x001/x234/067",
        ),
        (
            TilePath::Hash(TileId {
                level: 63,
                index: 5,
                width: 1,
            }),
            "tile/63/005.p/1",
        ),
        (
            TilePath::Hash(TileId {
                level: 2,
                index: 1_000_000,
                width: 255,
            }),
            "tile/2/x001/x000/000.p/255",
        ),
        (
            TilePath::Hash(TileId::full(7, u64::MAX)),
            "tile/7/x018/x446/x744/x073/x709/x551/615",
        ),
        (
            TilePath::Entries {
                index: 0,
                width: 256,
            },
            "tile/entries/000",
        ),
        (
            TilePath::Entries {
                index: 1_234_067,
                width: 17,
            },
            "tile/entries/x001/x234/067.p/17",
        ),
    ];
    for (tp, s) in cases {
        assert_eq!(tp.path(), *s);
        assert_eq!(parse_tile_path(s).unwrap(), *tp, "{s}");
    }
    assert_eq!(entry_bundle_path(42, 3), "tile/entries/042.p/3");
    assert_eq!(TileId::full(3, 42).to_string(), "tile/3/042");
}

#[test]
fn rejected_paths() {
    type Check = fn(&TilePathError) -> bool;
    let bad: &[(&str, Check)] = &[
        ("", |e| matches!(e, TilePathError::NotTilePath)),
        ("/tile/0/000", |e| matches!(e, TilePathError::NotTilePath)),
        ("tiles/0/000", |e| matches!(e, TilePathError::NotTilePath)),
        ("tile/0", |e| matches!(e, TilePathError::NotTilePath)),
        ("tile/64/000", |e| {
            matches!(e, TilePathError::BadLevel { .. })
        }),
        ("tile/00/000", |e| {
            matches!(e, TilePathError::BadLevel { .. })
        }),
        ("tile/01/000", |e| {
            matches!(e, TilePathError::BadLevel { .. })
        }),
        ("tile/+1/000", |e| {
            matches!(e, TilePathError::BadLevel { .. })
        }),
        ("tile/-1/000", |e| {
            matches!(e, TilePathError::BadLevel { .. })
        }),
        ("tile//000", |e| matches!(e, TilePathError::BadLevel { .. })),
        ("tile/100/000", |e| {
            matches!(e, TilePathError::BadLevel { .. })
        }),
        ("tile/a/000", |e| {
            matches!(e, TilePathError::BadLevel { .. })
        }),
        ("tile/Entries/000", |e| {
            matches!(e, TilePathError::BadLevel { .. })
        }),
        ("tile/0/", |e| matches!(e, TilePathError::BadIndex { .. })),
        ("tile/0/0", |e| matches!(e, TilePathError::BadIndex { .. })),
        ("tile/0/00", |e| matches!(e, TilePathError::BadIndex { .. })),
        ("tile/0/0000", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/0/1234", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/0/x000/001", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/0/x001", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/0/001/002", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/0/x001/x002", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/0/X001/002", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/0/x001//002", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/0/x001/002/", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/0/+01", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/0/ 01", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/0/١٢٣", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        // u64::MAX + 1
        ("tile/0/x018/x446/x744/x073/x709/x551/616", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/0/x001/x018/x446/x744/x073/x709/x551/615", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/0/000.p/0", |e| {
            matches!(e, TilePathError::BadWidth { .. })
        }),
        ("tile/0/000.p/256", |e| {
            matches!(e, TilePathError::BadWidth { .. })
        }),
        ("tile/0/000.p/300", |e| {
            matches!(e, TilePathError::BadWidth { .. })
        }),
        ("tile/0/000.p/01", |e| {
            matches!(e, TilePathError::BadWidth { .. })
        }),
        ("tile/0/000.p/", |e| {
            matches!(e, TilePathError::BadWidth { .. })
        }),
        ("tile/0/000.p/1/", |e| {
            matches!(e, TilePathError::BadWidth { .. })
        }),
        ("tile/0/000.p/1.p/2", |e| {
            matches!(e, TilePathError::BadWidth { .. })
        }),
        ("tile/0/000.p/+5", |e| {
            matches!(e, TilePathError::BadWidth { .. })
        }),
        ("tile/0/000.p/65537", |e| {
            matches!(e, TilePathError::BadWidth { .. })
        }),
        ("tile/0/000.P/5", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/0/000.p5", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/entries/0001", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
        ("tile/entries/001.p/0", |e| {
            matches!(e, TilePathError::BadWidth { .. })
        }),
        ("tile/entries/", |e| {
            matches!(e, TilePathError::BadIndex { .. })
        }),
    ];
    for (s, check) in bad {
        match parse_tile_path(s) {
            Ok(p) => panic!("{s:?} accepted as {p:?}"),
            Err(e) => assert!(check(&e), "{s:?}: unexpected error {e:?}"),
        }
    }
}

#[test]
fn bundle_round_trip_and_errors() {
    let entries: Vec<Vec<u8>> = vec![vec![], b"a".to_vec(), vec![7u8; 65535], vec![0u8; 300]];
    let enc = encode_entry_bundle(&entries).unwrap();
    assert_eq!(enc.len(), 2 * 4 + 1 + 65535 + 300);
    assert_eq!(&enc[..5], &[0, 0, 0, 1, b'a']);
    assert_eq!(decode_entry_bundle(&enc).unwrap(), entries);
    // &[&[u8]] works too.
    let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    assert_eq!(encode_entry_bundle(&refs).unwrap(), enc);
    assert_eq!(decode_entry_bundle(&[]).unwrap(), Vec::<Vec<u8>>::new());

    // Every strict prefix that cuts an entry or prefix is rejected as truncated.
    let small = encode_entry_bundle(&[b"hello".as_slice(), b"", b"xy"]).unwrap();
    let boundaries = [0usize, 7, 9, small.len()];
    for cut in 0..small.len() {
        let r = decode_entry_bundle(&small[..cut]);
        if boundaries.contains(&cut) {
            assert!(r.is_ok(), "cut at entry boundary {cut}");
        } else {
            assert!(
                matches!(r, Err(BundleError::Truncated { .. })),
                "cut {cut}: {r:?}"
            );
        }
    }
    assert_eq!(
        decode_entry_bundle(&[0]),
        Err(BundleError::Truncated {
            offset: 0,
            need: 2,
            have: 1
        })
    );
    assert_eq!(
        decode_entry_bundle(&[0, 5, 1, 2]),
        Err(BundleError::Truncated {
            offset: 2,
            need: 5,
            have: 2
        })
    );
    let too_big = vec![vec![1u8], vec![0u8; 65536]];
    assert_eq!(
        encode_entry_bundle(&too_big),
        Err(BundleError::EntryTooLarge {
            index: 1,
            len: 65536
        })
    );
}

proptest! {
    #[test]
    fn prop_hash_tile_round_trip(level in 0u8..=63, index in any::<u64>(), width in 1u16..=256) {
        let t = TileId { level, index, width };
        let p = t.path();
        prop_assert_eq!(parse_tile_path(&p).unwrap(), TilePath::Hash(t));
        prop_assert_eq!(p.contains(".p/"), width != 256);
    }

    #[test]
    fn prop_entries_round_trip(index in any::<u64>(), width in 1u16..=256) {
        let p = entry_bundle_path(index, width);
        prop_assert_eq!(parse_tile_path(&p).unwrap(), TilePath::Entries { index, width });
    }

    #[test]
    fn prop_parse_is_canonical(s in "tile/(entries|[0-9x]{1,3})/[0-9x/]{0,12}(\\.p/[0-9]{0,4})?") {
        // Whatever is accepted must be exactly the canonical encoding of what it parsed to.
        if let Ok(p) = parse_tile_path(&s) {
            prop_assert_eq!(p.path(), s);
        }
    }

    #[test]
    fn prop_bundle_round_trip(entries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..600), 0..40)) {
        let enc = encode_entry_bundle(&entries).unwrap();
        prop_assert_eq!(decode_entry_bundle(&enc).unwrap(), entries);
    }

    #[test]
    fn prop_bundle_decode_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(entries) = decode_entry_bundle(&data) {
            prop_assert_eq!(encode_entry_bundle(&entries).unwrap(), data);
        }
    }
}

#[test]
fn tile_geometry_helpers() {
    use signet_proto::tiles::{right_edge_tiles, tile_width};
    for size in (0u64..70_000)
        .step_by(37)
        .chain([65_535, 65_536, 65_537, u64::MAX])
    {
        for level in 0u8..8 {
            let row = size >> (8 * u32::from(level));
            let full = row / 256;
            if full > 0 {
                assert_eq!(tile_width(level, full - 1, size), Some(256));
            }
            let partial = u16::try_from(row % 256).unwrap();
            let edge = right_edge_tiles(size)
                .into_iter()
                .find(|t| t.level == level);
            if partial == 0 {
                assert_eq!(tile_width(level, full, size), None);
                assert!(edge.is_none());
            } else {
                assert_eq!(tile_width(level, full, size), Some(partial));
                assert_eq!(
                    edge,
                    Some(TileId {
                        level,
                        index: full,
                        width: partial
                    })
                );
            }
            assert_eq!(tile_width(level, full + 1, size), None);
        }
    }
    assert_eq!(tile_width(0, u64::MAX, u64::MAX), None);
}

#[test]
fn mem_tiles_reader() {
    use signet_proto::merkle::TileReader;
    use signet_proto::tiles::{MemTiles, MemTilesError};
    let mut m = MemTiles::new();
    assert!(m.is_empty());
    m.insert(
        TileId {
            level: 0,
            index: 0,
            width: 3,
        },
        vec![7u8; 96],
    );
    assert_eq!(m.len(), 1);
    let got = m
        .read_tiles(&[TileId {
            level: 0,
            index: 0,
            width: 2,
        }])
        .unwrap();
    assert_eq!(got, vec![vec![7u8; 64]]);
    let wide = TileId {
        level: 0,
        index: 0,
        width: 4,
    };
    assert_eq!(
        m.read_tiles(&[wide]),
        Err(MemTilesError::Missing {
            tile: wide,
            stored: 96
        })
    );
    let absent = TileId::full(1, 0);
    assert_eq!(
        m.read_tiles(&[absent]),
        Err(MemTilesError::Missing {
            tile: absent,
            stored: 0
        })
    );
}

#[test]
fn hash_from_slice_lengths() {
    use signet_proto::merkle::{hash_from_slice, ProofError};
    assert_eq!(hash_from_slice(&[1u8; 32]).unwrap(), [1u8; 32]);
    assert_eq!(
        hash_from_slice(&[1u8; 31]),
        Err(ProofError::BadHashLength { got: 31 })
    );
    assert_eq!(
        hash_from_slice(&[]),
        Err(ProofError::BadHashLength { got: 0 })
    );
}
