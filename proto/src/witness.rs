//! Transparency log witnesses: C2SP tlog-witness (<https://c2sp.org/tlog-witness>), the
//! `add-checkpoint` request and answer bodies, the pure decision a witness makes for one
//! request, and the witness policy file used to find witnesses and to count cosignatures.
//!
//! # `add-checkpoint` request
//!
//! [`AddCheckpoint`] is the body of `POST <submission prefix>/add-checkpoint`:
//!
//! ```text
//! old <size>\n                 decimal, no leading zero unless the size is 0
//! <base64 hash>\n              0 to 63 consistency proof lines (none when old size is 0)
//! \n
//! <signed checkpoint note>     verbatim (C2SP tlog-checkpoint + signed-note)
//! ```
//!
//! [`check_add_checkpoint`] decides one request against the log's trusted keys and the
//! witness's record of that log ([`LogState`]), in the order of the spec:
//!
//! | check | status |
//! |---|---|
//! | malformed body or checkpoint | 400 |
//! | no trusted keys for the checkpoint origin | **404** |
//! | no valid signature from a trusted key (or a bad one) | 403 |
//! | old size larger than the checkpoint size | 400 |
//! | old size different from the recorded size | 409, body `<recorded size>\n` |
//! | same size as recorded but another root hash | 409 |
//! | consistency proof does not verify | 422 |
//!
//! The issue tracker said "403 for a bad signature or an unknown log"; the spec says 404 for an
//! unknown origin, and this module follows the spec.
//!
//! A witness that has never cosigned a checkpoint for an origin behaves as if it had recorded
//! the empty tree (size 0, root SHA-256("")): any first checkpoint with `old 0` is accepted
//! (trust on first use), and a size-0 checkpoint must carry the empty-tree root.
//!
//! The 409 answer body is [`size_body`] with content type [`SIZE_CONTENT_TYPE`]. The 200 answer
//! body is one or more note signature lines (see [`cosign`] and [`parse_signature_lines`]).
//!
//! # Witness policy file
//!
//! [`WitnessPolicyFile`] is a line-based text file. `#` starts a comment that runs to the end of
//! the line; blank lines are ignored; fields are separated by spaces or tabs.
//!
//! ```text
//! # name          cosignature/v1 vkey                          submission prefix (optional)
//! witness w1      witness.example/w1+4f2a1c3d+BKb...=          https://w1.example/witness
//! witness w2      witness.example/w2+0011aabb+BC3...=
//! quorum 2
//! ```
//!
//! * `witness NAME VKEY [URL]`: NAME is a local label, unique in the file. VKEY is a C2SP
//!   `cosignature/v1` verifier key `<keyname>+<8 hex digits>+<base64(0x04 || Ed25519 key)>`;
//!   two witnesses may not share a key: keys are compared by their bytes, so one key under two
//!   key names (two vkeys with different key hashes) is refused too. URL is the witness's submission prefix
//!   (`http://` or `https://`); `add-checkpoint` is POSTed to `URL + "/add-checkpoint"`.
//! * `quorum K`: at most once; `1 <= K <=` the number of witnesses. Without a `quorum` line
//!   every listed witness must cosign.
//!
//! At least one witness is required. Unknown keywords, duplicate names or keys, bad vkeys,
//! extra fields and out-of-range quorums are errors that name the line. A log also refuses a
//! policy that lists its own key ([`WitnessPolicyFile::check_not_log_keys`]).
//!
//! Counting: [`check_quorum`] is the one rule the log, the verifier and the monitor apply to a
//! cosigned checkpoint: distinct witness keys, by key bytes, the log's own keys excluded.
//!
//! What this module does not do: no HTTP, no storage (the caller persists [`LogState`] before
//! answering, atomically with the check), no clock (cosignature timestamps are arguments), no
//! monitoring (read) API, which the spec has not settled.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::checkpoint::{CheckpointError, SignedCheckpoint, UnverifiedCheckpoint};
use crate::keys::PublicKey;
use crate::merkle::{verify_consistency, Hash, EMPTY_ROOT};
use crate::note::{
    CosignatureV1Signer, CosignatureV1Verifier, KeyName, Note, NoteError, NoteSignature,
    NoteSigner, NoteVerifier, VKeyError, Verifiers,
};

/// Largest number of consistency proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;

/// Content type of 409 answer bodies ([`size_body`]).
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// Errors from parsing `add-checkpoint` bodies and 409 size bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessFormatError {
    /// A line is malformed.
    #[error("malformed request (line {line}): {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// More than [`MAX_PROOF_LINES`] consistency proof lines.
    #[error("more than {max} consistency proof lines")]
    TooManyProofLines {
        /// The limit.
        max: usize,
    },
    /// A consistency proof was sent with old size 0.
    #[error("consistency proof must be empty when the old size is 0")]
    ProofFromEmptyTree,
    /// The checkpoint after the blank line is not a well-formed signed checkpoint.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// An answer body does not hold note signature lines.
    #[error("malformed signature lines: {0}")]
    SignatureLines(NoteError),
}

fn malformed(line: usize, reason: &'static str) -> WitnessFormatError {
    WitnessFormatError::Malformed { line, reason }
}

/// Parses a canonical decimal `u64` (no sign, no leading zero unless `0`).
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

/// The body of `POST <prefix>/add-checkpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// Size of the checkpoint the client believes the witness last cosigned (0 if none).
    pub old_size: u64,
    /// Consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

impl AddCheckpoint {
    /// Parses a request body strictly: `old N` (canonical decimal), at most
    /// [`MAX_PROOF_LINES`] lines each holding canonical base64 of a 32-byte hash, an empty
    /// line, then a signed checkpoint note (checked for syntax, not signatures). Every line
    /// ends in `\n`. The proof must be empty when the old size is 0.
    ///
    /// # Errors
    /// [`WitnessFormatError::Malformed`] with the line number,
    /// [`WitnessFormatError::TooManyProofLines`], [`WitnessFormatError::ProofFromEmptyTree`],
    /// [`WitnessFormatError::Checkpoint`] if the note or its body is malformed.
    pub fn parse(body: &[u8]) -> Result<Self, WitnessFormatError> {
        let mut rest = body;
        let mut line_no = 0usize;
        let mut next_line = |rest: &mut &[u8]| -> Result<(usize, Vec<u8>), WitnessFormatError> {
            line_no += 1;
            let i = rest
                .iter()
                .position(|&b| b == b'\n')
                .ok_or_else(|| malformed(line_no, "line does not end with a newline"))?;
            let line = rest[..i].to_vec();
            *rest = &rest[i + 1..];
            Ok((line_no, line))
        };
        let (n, first) = next_line(&mut rest)?;
        let old_size = first
            .strip_prefix(b"old ")
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(parse_decimal)
            .ok_or_else(|| malformed(n, "first line is not \"old <decimal size>\""))?;
        let mut proof = Vec::new();
        loop {
            let (n, line) = next_line(&mut rest)?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(WitnessFormatError::TooManyProofLines {
                    max: MAX_PROOF_LINES,
                });
            }
            let bytes = B64
                .decode(&line)
                .map_err(|_| malformed(n, "proof line is not canonical base64"))?;
            let hash = Hash::try_from(bytes.as_slice())
                .map_err(|_| malformed(n, "proof line is not a 32-byte hash"))?;
            proof.push(hash);
        }
        if old_size == 0 && !proof.is_empty() {
            return Err(WitnessFormatError::ProofFromEmptyTree);
        }
        UnverifiedCheckpoint::parse(rest)?;
        Ok(Self {
            old_size,
            proof,
            checkpoint: rest.to_vec(),
        })
    }

    /// Serializes the request body (the inverse of [`AddCheckpoint::parse`]).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("old {}\n", self.old_size);
        for h in &self.proof {
            out.push_str(&B64.encode(h));
            out.push('\n');
        }
        out.push('\n');
        let mut out = out.into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }

    /// The origin line of the checkpoint, for choosing the log's keys and the recorded state.
    /// Untrusted until [`check_add_checkpoint`] verified the signature.
    ///
    /// # Errors
    /// [`WitnessRejection::BadRequest`] if the checkpoint is malformed.
    pub fn origin_unverified(&self) -> Result<String, WitnessRejection> {
        let cp = parse_checkpoint(&self.checkpoint)?;
        Ok(cp.origin_unverified().to_owned())
    }
}

fn parse_checkpoint(bytes: &[u8]) -> Result<UnverifiedCheckpoint, WitnessRejection> {
    UnverifiedCheckpoint::parse(bytes)
        .map_err(|e| WitnessRejection::BadRequest(format!("malformed checkpoint: {e}")))
}

/// Parses a 409 answer body: a canonical decimal size followed by a newline.
///
/// # Errors
/// [`WitnessFormatError::Malformed`] (line 1) for anything else.
pub fn parse_size_body(body: &[u8]) -> Result<u64, WitnessFormatError> {
    body.strip_suffix(b"\n")
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(parse_decimal)
        .ok_or_else(|| malformed(1, "size body is not \"<decimal size>\\n\""))
}

/// The 409 answer body for `size`: `"<size>\n"`.
#[must_use]
pub fn size_body(size: u64) -> String {
    format!("{size}\n")
}

/// A witness's record of one log: the size and root hash of the latest checkpoint it
/// cosigned. In JSON the root is standard base64 (as in checkpoints):
/// `{"size":12,"root":"<base64>"}`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogState {
    /// Tree size.
    pub size: u64,
    /// RFC 6962 root hash at `size`.
    #[serde(with = "b64_hash")]
    pub root: Hash,
}

mod b64_hash {
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine as _;
    use serde::{Deserialize as _, Deserializer, Serializer};

    use crate::merkle::Hash;

    pub(super) fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(h))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let s = String::deserialize(d)?;
        let bytes = B64
            .decode(s.as_bytes())
            .map_err(|_| serde::de::Error::custom("root is not base64"))?;
        Hash::try_from(bytes.as_slice())
            .map_err(|_| serde::de::Error::custom("root is not 32 bytes"))
    }
}

/// Why a witness refuses to cosign; [`WitnessRejection::status`] is the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessRejection {
    /// 400: malformed request or checkpoint, or old size larger than the checkpoint size.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 404: the witness has no keys for this origin.
    #[error("unknown log {origin:?}")]
    UnknownLog {
        /// The checkpoint's origin line.
        origin: String,
    },
    /// 403: no signature from a trusted key for the origin verified (or one was invalid).
    #[error("checkpoint is not signed by a trusted key of the log")]
    BadSignature,
    /// 409: the old size is not the recorded size, or the sizes match but the roots differ.
    #[error("conflict: the witness last cosigned size {witness_size}")]
    Conflict {
        /// Size of the latest checkpoint the witness cosigned for this origin (0 if none).
        witness_size: u64,
    },
    /// 422: the consistency proof does not verify.
    #[error("consistency proof does not verify")]
    BadProof,
}

impl WitnessRejection {
    /// The HTTP status code the spec prescribes.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::UnknownLog { .. } => 404,
            Self::BadSignature => 403,
            Self::Conflict { .. } => 409,
            Self::BadProof => 422,
        }
    }
}

/// The decision of a witness for one `add-checkpoint` request (no I/O, no clock).
///
/// `log_keys` are the trusted keys for the checkpoint's origin (find the origin with
/// [`AddCheckpoint::origin_unverified`]); `None` means the origin is unknown (404). `known`
/// is the recorded state for that origin, `None` if the witness never cosigned for it.
/// On success, returns the verified checkpoint (to cosign, see [`cosign`]) and the state to
/// record. The caller must persist that state before answering, holding the same lock it held
/// while reading `known`.
///
/// # Errors
/// A [`WitnessRejection`]; see the module docs for the order of the checks.
pub fn check_add_checkpoint(
    req: &AddCheckpoint,
    log_keys: Option<&Verifiers>,
    known: Option<&LogState>,
) -> Result<(SignedCheckpoint, LogState), WitnessRejection> {
    if req.proof.len() > MAX_PROOF_LINES {
        return Err(WitnessRejection::BadRequest(format!(
            "more than {MAX_PROOF_LINES} consistency proof lines"
        )));
    }
    if req.old_size == 0 && !req.proof.is_empty() {
        return Err(WitnessRejection::BadRequest(
            "consistency proof must be empty when the old size is 0".to_owned(),
        ));
    }
    let unverified = parse_checkpoint(&req.checkpoint)?;
    let Some(keys) = log_keys else {
        return Err(WitnessRejection::UnknownLog {
            origin: unverified.origin_unverified().to_owned(),
        });
    };
    let signed = unverified
        .verify(keys)
        .map_err(|_| WitnessRejection::BadSignature)?;
    let cp = signed.checkpoint();
    if req.old_size > cp.size {
        return Err(WitnessRejection::BadRequest(format!(
            "old size {} is larger than the checkpoint size {}",
            req.old_size, cp.size
        )));
    }
    let recorded = known.cloned().unwrap_or(LogState {
        size: 0,
        root: EMPTY_ROOT,
    });
    let conflict = WitnessRejection::Conflict {
        witness_size: recorded.size,
    };
    if req.old_size != recorded.size {
        return Err(conflict);
    }
    if cp.size == recorded.size {
        if cp.root != recorded.root {
            return Err(conflict);
        }
        if !req.proof.is_empty() {
            return Err(WitnessRejection::BadProof);
        }
    } else if recorded.size > 0 {
        verify_consistency(recorded.size, cp.size, &recorded.root, &cp.root, &req.proof)
            .map_err(|_| WitnessRejection::BadProof)?;
    }
    let state = LogState {
        size: cp.size,
        root: cp.root,
    };
    Ok((signed, state))
}

/// The 200 answer body: one `cosignature/v1` signature line by `signer` at `timestamp`
/// (seconds since the Unix epoch) over the checkpoint's note text, ending in a newline.
///
/// # Errors
/// [`NoteError::Signer`] if the timestamp exceeds 2^63 - 1.
pub fn cosign(
    checkpoint: &SignedCheckpoint,
    signer: &CosignatureV1Signer,
    timestamp: u64,
) -> Result<String, NoteError> {
    let at = signer.at(timestamp);
    let name = KeyName::new(at.name())?;
    let signature = at
        .sign(checkpoint.note().text().as_bytes())
        .map_err(|source| NoteError::Signer {
            name: name.as_str().to_owned(),
            source,
        })?;
    let line = NoteSignature {
        name,
        key_hash: at.key_hash(),
        signature,
    };
    Ok(format!("{}\n", line.to_line()))
}

/// Parses a 200 answer body: one or more note signature lines (`— <name> <base64>\n`). The
/// signatures are not verified: add them to the checkpoint note and verify that with the
/// witness keys.
///
/// # Errors
/// [`WitnessFormatError::SignatureLines`] if the body is empty or a line is malformed.
pub fn parse_signature_lines(body: &[u8]) -> Result<Vec<NoteSignature>, WitnessFormatError> {
    // A note with a one-line text: Note::parse checks every signature line for us.
    let mut note = b"x\n\n".to_vec();
    note.extend_from_slice(body);
    let parsed = Note::parse(&note).map_err(WitnessFormatError::SignatureLines)?;
    if parsed.text() != "x\n" {
        return Err(WitnessFormatError::SignatureLines(NoteError::Malformed {
            reason: "blank line in the signature lines",
        }));
    }
    Ok(parsed.signatures().to_vec())
}

/// Errors from parsing a witness policy file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessPolicyError {
    /// A line is malformed.
    #[error("witness policy line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// A vkey was rejected.
    #[error("witness policy line {line}: bad vkey: {source}")]
    BadVKey {
        /// 1-based line number (0 when checking a policy built in code).
        line: usize,
        /// The cause.
        source: VKeyError,
    },
    /// Two witnesses have the same name.
    #[error("witness policy line {line}: duplicate witness name {name:?}")]
    DuplicateName {
        /// 1-based line number.
        line: usize,
        /// The name.
        name: String,
    },
    /// Two witnesses have the same public key (whatever their names, key names or key
    /// hashes): one key is one witness, and would otherwise count twice towards the quorum.
    #[error(
        "witness policy line {line}: witness {name:?} has the same public key as witness \
         {first:?}; one key counts once towards the quorum, so list it once"
    )]
    DuplicateKey {
        /// 1-based line number (0 when checking a policy built in code).
        line: usize,
        /// The later witness.
        name: String,
        /// The witness listed first with that key.
        first: String,
    },
    /// A witness has one of the log's own keys: the log could cosign its own checkpoints.
    #[error(
        "witness policy: witness {name:?} has the log's own key; the log cannot witness its \
         own checkpoints, list independent witnesses only"
    )]
    LogKey {
        /// The witness.
        name: String,
    },
    /// The policy lists no witness.
    #[error("witness policy lists no witness")]
    NoWitnesses,
    /// The quorum is 0 or larger than the number of witnesses.
    #[error("witness policy line {line}: quorum {quorum} is not between 1 and {witnesses}")]
    QuorumOutOfRange {
        /// 1-based line number of the quorum line (0 when checking a policy built in code).
        line: usize,
        /// The quorum.
        quorum: usize,
        /// Number of witnesses.
        witnesses: usize,
    },
}

/// One witness of a [`WitnessPolicyFile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyWitness {
    /// Local label, unique in the file.
    pub name: String,
    /// `cosignature/v1` verifier key.
    pub vkey: String,
    /// Submission prefix, if the log should submit checkpoints to this witness.
    pub url: Option<String>,
}

impl PolicyWitness {
    /// `URL + "/add-checkpoint"` (a trailing `/` of the prefix is not doubled), if a URL is set.
    #[must_use]
    pub fn add_checkpoint_url(&self) -> Option<String> {
        self.url
            .as_ref()
            .map(|u| format!("{}/add-checkpoint", u.trim_end_matches('/')))
    }

    /// The verifier for this witness's vkey.
    ///
    /// # Errors
    /// [`VKeyError`] if the vkey is not a valid `cosignature/v1` key.
    pub fn verifier(&self) -> Result<CosignatureV1Verifier, VKeyError> {
        CosignatureV1Verifier::from_vkey(&self.vkey)
    }
}

/// A witness policy: the witnesses a log submits to and a verifier counts, and how many
/// must cosign. See the module docs for the file format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessPolicyFile {
    /// The witnesses, in file order.
    pub witnesses: Vec<PolicyWitness>,
    /// Number of distinct witnesses that must cosign.
    pub quorum: usize,
}

fn valid_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/'))
}

impl WitnessPolicyFile {
    /// Parses a policy file.
    ///
    /// # Errors
    /// A [`WitnessPolicyError`] naming the first offending line.
    pub fn parse(text: &str) -> Result<Self, WitnessPolicyError> {
        let mut witnesses: Vec<PolicyWitness> = Vec::new();
        // The public key bytes of each witness, in `witnesses` order.
        let mut keys: Vec<Vec<u8>> = Vec::new();
        let mut quorum: Option<(usize, usize)> = None;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let bad = |reason: &str| WitnessPolicyError::Malformed {
                line,
                reason: reason.to_owned(),
            };
            let content = raw.split_once('#').map_or(raw, |(c, _)| c);
            let fields: Vec<&str> = content
                .split([' ', '\t', '\r'])
                .filter(|f| !f.is_empty())
                .collect();
            match fields.as_slice() {
                [] => {}
                ["witness", name, vkey, rest @ ..] => {
                    let url = match rest {
                        [] => None,
                        [url] if valid_url(url) => Some((*url).to_owned()),
                        [_] => return Err(bad("URL must start with http:// or https://")),
                        _ => return Err(bad("too many fields (witness NAME VKEY [URL])")),
                    };
                    if witnesses.iter().any(|w| w.name == *name) {
                        return Err(WitnessPolicyError::DuplicateName {
                            line,
                            name: (*name).to_owned(),
                        });
                    }
                    let v = CosignatureV1Verifier::from_vkey(vkey)
                        .map_err(|source| WitnessPolicyError::BadVKey { line, source })?;
                    let key = key_bytes(&v);
                    if let Some(i) = keys.iter().position(|k| *k == key) {
                        return Err(WitnessPolicyError::DuplicateKey {
                            line,
                            name: (*name).to_owned(),
                            first: witnesses[i].name.clone(),
                        });
                    }
                    keys.push(key);
                    witnesses.push(PolicyWitness {
                        name: (*name).to_owned(),
                        vkey: (*vkey).to_owned(),
                        url,
                    });
                }
                ["witness", ..] => return Err(bad("expected: witness NAME VKEY [URL]")),
                ["quorum", k] => {
                    if quorum.is_some() {
                        return Err(bad("more than one quorum line"));
                    }
                    let k = parse_decimal(k)
                        .and_then(|k| usize::try_from(k).ok())
                        .ok_or_else(|| bad("quorum is not a decimal number"))?;
                    quorum = Some((line, k));
                }
                ["quorum", ..] => return Err(bad("expected: quorum K")),
                [kw, ..] => {
                    return Err(WitnessPolicyError::Malformed {
                        line,
                        reason: format!("unknown keyword {kw:?}"),
                    })
                }
            }
        }
        if witnesses.is_empty() {
            return Err(WitnessPolicyError::NoWitnesses);
        }
        let (qline, quorum) = quorum.unwrap_or((0, witnesses.len()));
        if quorum == 0 || quorum > witnesses.len() {
            return Err(WitnessPolicyError::QuorumOutOfRange {
                line: qline,
                quorum,
                witnesses: witnesses.len(),
            });
        }
        Ok(Self { witnesses, quorum })
    }

    /// Serializes the policy (always with an explicit `quorum` line). Parsing the result
    /// gives back an equal policy if this one is valid.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for w in &self.witnesses {
            s.push_str("witness ");
            s.push_str(&w.name);
            s.push(' ');
            s.push_str(&w.vkey);
            if let Some(u) = &w.url {
                s.push(' ');
                s.push_str(u);
            }
            s.push('\n');
        }
        s.push_str(&format!("quorum {}\n", self.quorum));
        s
    }

    /// The `cosignature/v1` verifiers of all witnesses, for
    /// [`Note::verify_threshold`] with [`WitnessPolicyFile::quorum`].
    ///
    /// # Errors
    /// [`WitnessPolicyError::BadVKey`] (line 0) if a vkey is invalid,
    /// [`WitnessPolicyError::QuorumOutOfRange`] (line 0) if the quorum is out of range, and
    /// [`WitnessPolicyError::DuplicateKey`] (line 0) for a repeated key.
    pub fn verifiers(&self) -> Result<Verifiers, WitnessPolicyError> {
        if self.quorum == 0 || self.quorum > self.witnesses.len() {
            return Err(WitnessPolicyError::QuorumOutOfRange {
                line: 0,
                quorum: self.quorum,
                witnesses: self.witnesses.len(),
            });
        }
        let mut out = Verifiers::new();
        let mut keys: Vec<(Vec<u8>, &str)> = Vec::new();
        for w in &self.witnesses {
            let v = w
                .verifier()
                .map_err(|source| WitnessPolicyError::BadVKey { line: 0, source })?;
            let key = key_bytes(&v);
            if let Some((_, first)) = keys.iter().find(|(k, _)| *k == key) {
                return Err(WitnessPolicyError::DuplicateKey {
                    line: 0,
                    name: w.name.clone(),
                    first: (*first).to_owned(),
                });
            }
            keys.push((key, &w.name));
            out.push(v);
        }
        Ok(out)
    }

    /// Refuses a policy that lists one of `log_keys` (the log's own keys: its checkpoint
    /// note keys) as a witness: the log would count its own cosignatures. Keys are compared
    /// by their bytes, whatever the key type or name.
    ///
    /// # Errors
    /// [`WitnessPolicyError::LogKey`] naming the first such witness; as
    /// [`WitnessPolicyFile::verifiers`] for a bad vkey.
    pub fn check_not_log_keys(&self, log_keys: &[&PublicKey]) -> Result<(), WitnessPolicyError> {
        for w in &self.witnesses {
            let v = w
                .verifier()
                .map_err(|source| WitnessPolicyError::BadVKey { line: 0, source })?;
            if is_log_key(&v, log_keys) {
                return Err(WitnessPolicyError::LogKey {
                    name: w.name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// The bytes that identify a verifier's key (its SPKI DER).
fn key_bytes(v: &dyn NoteVerifier) -> Vec<u8> {
    v.public_key().spki_der().to_vec()
}

fn is_log_key(v: &dyn NoteVerifier, log_keys: &[&PublicKey]) -> bool {
    log_keys
        .iter()
        .any(|k| k.spki_der() == v.public_key().spki_der())
}

/// Why a checkpoint does not carry its witness quorum ([`check_quorum`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuorumError {
    /// Fewer distinct witness keys than the quorum validly cosigned.
    #[error("{valid} distinct witness keys cosigned the checkpoint, the quorum is {quorum}")]
    NotMet {
        /// Distinct witness keys with a valid cosignature.
        valid: usize,
        /// The quorum.
        quorum: usize,
    },
    /// The quorum is 0 or more than the distinct witness keys (log keys left out): no
    /// checkpoint can meet it, or every checkpoint would.
    #[error(
        "a quorum of {quorum} is not between 1 and the {keys} distinct witness keys (the log's \
         own keys do not count)"
    )]
    Unreachable {
        /// The quorum.
        quorum: usize,
        /// Distinct witness keys.
        keys: usize,
    },
    /// A known witness's cosignature does not verify (or a signature matches two verifiers).
    #[error("witness cosignature: {0}")]
    Cosignature(NoteError),
}

/// The one witness quorum rule, shared by the log (before it publishes a checkpoint), the
/// verifier and the monitor: the number of distinct witness keys, counted by their public key
/// bytes, that validly cosigned `note` must be at least `quorum`.
///
/// One key listed under two names (two vkeys with different key hashes) verifies the same
/// cosignature twice but counts once ([`Note::verify_threshold`]); a witness whose key is one
/// of `log_keys` (the log's own keys) never counts. Every cosignature by a listed witness must
/// verify. Returns the number of distinct witness keys that cosigned.
///
/// # Errors
/// [`QuorumError::Unreachable`] for a quorum of 0 or above the distinct witness keys,
/// [`QuorumError::Cosignature`] for a bad cosignature, [`QuorumError::NotMet`].
pub fn check_quorum(
    note: &Note,
    witnesses: &Verifiers,
    quorum: usize,
    log_keys: &[&PublicKey],
) -> Result<usize, QuorumError> {
    let independent = witnesses.filter(|v| !is_log_key(v, log_keys));
    let mut keys: Vec<&[u8]> = independent
        .iter()
        .map(|v| v.public_key().spki_der())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    if quorum == 0 || quorum > keys.len() {
        return Err(QuorumError::Unreachable {
            quorum,
            keys: keys.len(),
        });
    }
    let valid = note
        .verify_threshold(&independent, 0)
        .map_err(QuorumError::Cosignature)?
        .verified()
        .len();
    if valid < quorum {
        return Err(QuorumError::NotMet { valid, quorum });
    }
    Ok(valid)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::checkpoint::Checkpoint;
    use crate::keys::Ed25519Signer;
    use crate::merkle::{leaf_hash, root_from_leaves};
    use crate::note::Ed25519NoteSigner;

    const ORIGIN: &str = "example.com/log";

    fn log_signer() -> Ed25519NoteSigner {
        Ed25519NoteSigner::from_seed(ORIGIN, &[7; 32]).unwrap()
    }

    fn log_keys() -> Verifiers {
        Verifiers::new().with(log_signer().verifier().unwrap())
    }

    fn leaves(n: u64, tag: u8) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&[tag, i.to_le_bytes()[0], i.to_le_bytes()[1]]))
            .collect()
    }

    /// Consistency proof per RFC 9162 §2.1.4.1 (SUBPROOF), computed from the leaves.
    fn subproof(m: usize, leaves: &[Hash], complete: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if complete {
                vec![]
            } else {
                vec![root_from_leaves(leaves)]
            };
        }
        let k = n.next_power_of_two() / 2;
        if m <= k {
            let mut p = subproof(m, &leaves[..k], complete);
            p.push(root_from_leaves(&leaves[k..]));
            p
        } else {
            let mut p = subproof(m - k, &leaves[k..], false);
            p.push(root_from_leaves(&leaves[..k]));
            p
        }
    }

    fn proof(old: u64, leaves: &[Hash]) -> Vec<Hash> {
        subproof(usize::try_from(old).unwrap(), leaves, true)
    }

    fn checkpoint(size: u64, root: Hash, signer: &Ed25519NoteSigner) -> Vec<u8> {
        SignedCheckpoint::sign(Checkpoint::new(ORIGIN, size, root), &[signer])
            .unwrap()
            .to_bytes()
    }

    fn request(old: u64, proof: Vec<Hash>, size: u64, root: Hash) -> AddCheckpoint {
        AddCheckpoint {
            old_size: old,
            proof,
            checkpoint: checkpoint(size, root, &log_signer()),
        }
    }

    fn check(req: &AddCheckpoint, known: Option<&LogState>) -> Result<LogState, WitnessRejection> {
        check_add_checkpoint(req, Some(&log_keys()), known).map(|(_, s)| s)
    }

    #[test]
    fn request_round_trip() {
        let l = leaves(20, 1);
        let req = request(5, proof(5, &l), 20, root_from_leaves(&l));
        let bytes = req.to_bytes();
        assert!(bytes.starts_with(b"old 5\n"));
        let parsed = AddCheckpoint::parse(&bytes).unwrap();
        assert_eq!(parsed, req);
        assert_eq!(parsed.to_bytes(), bytes);
        assert_eq!(parsed.origin_unverified().unwrap(), ORIGIN);
    }

    #[test]
    fn spec_example_shape_parses() {
        let body = "old 20852014\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\
                    jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\n\
                    example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
                    \u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
        let req = AddCheckpoint::parse(body.as_bytes()).unwrap();
        assert_eq!(req.old_size, 20_852_014);
        assert_eq!(req.proof.len(), 2);
        assert_eq!(
            req.origin_unverified().unwrap(),
            "example.com/behind-the-sofa"
        );
        assert_eq!(req.to_bytes(), body.as_bytes());
    }

    #[test]
    fn parse_rejects_malformed() {
        let cp = checkpoint(3, root_from_leaves(&leaves(3, 1)), &log_signer());
        let h = B64.encode([1u8; 32]);
        let with = |head: &str| {
            let mut b = head.as_bytes().to_vec();
            b.extend_from_slice(&cp);
            AddCheckpoint::parse(&b)
        };
        assert!(with("old 0\n\n").is_ok());
        for head in [
            "old 01\n\n",
            "old -1\n\n",
            "old +1\n\n",
            "old  1\n\n",
            "old 1 \n\n",
            "Old 1\n\n",
            "old\n\n",
            "old 18446744073709551616\n\n",
            "\n",
            "old 1\r\n\n",
        ] {
            assert!(
                matches!(
                    with(head),
                    Err(WitnessFormatError::Malformed { line: 1, .. })
                ),
                "{head:?}"
            );
        }
        // Proof lines: 31 bytes, unpadded, non-canonical trailing bits, garbage.
        let short = B64.encode([1u8; 31]);
        let unpadded = h.trim_end_matches('=').to_owned();
        let mut noncanon = h.clone();
        noncanon.replace_range(42..43, "B"); // last char before '=' carries 2 spare bits
        for bad in [
            short.as_str(),
            unpadded.as_str(),
            noncanon.as_str(),
            "!!",
            " ",
        ] {
            assert!(
                matches!(
                    with(&format!("old 1\n{bad}\n\n")),
                    Err(WitnessFormatError::Malformed { line: 2, .. })
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            with(&format!("old 0\n{h}\n\n")),
            Err(WitnessFormatError::ProofFromEmptyTree)
        );
        // No blank line before the checkpoint / no checkpoint at all / broken checkpoint.
        assert!(AddCheckpoint::parse(b"old 0\n").is_err());
        assert!(AddCheckpoint::parse(b"old 0\n\n").is_err());
        assert!(matches!(
            AddCheckpoint::parse(b"old 0\n\nexample.com/log\nx\n\n\xe2\x80\x94 a AAAAAAA=\n"),
            Err(WitnessFormatError::Checkpoint(_))
        ));
    }

    #[test]
    fn proof_line_limit() {
        let cp = checkpoint(3, root_from_leaves(&leaves(3, 1)), &log_signer());
        let body = |n: usize| {
            let mut s = "old 1\n".to_owned();
            for _ in 0..n {
                s.push_str(&B64.encode([2u8; 32]));
                s.push('\n');
            }
            s.push('\n');
            let mut b = s.into_bytes();
            b.extend_from_slice(&cp);
            b
        };
        assert_eq!(AddCheckpoint::parse(&body(63)).unwrap().proof.len(), 63);
        assert_eq!(
            AddCheckpoint::parse(&body(64)),
            Err(WitnessFormatError::TooManyProofLines { max: 63 })
        );
        let mut req = AddCheckpoint::parse(&body(63)).unwrap();
        req.proof.push([0; 32]);
        assert_eq!(check(&req, None).unwrap_err().status(), 400);
    }

    #[test]
    fn size_body_round_trip() {
        for n in [0, 1, 10, u64::MAX] {
            assert_eq!(parse_size_body(size_body(n).as_bytes()).unwrap(), n);
        }
        for bad in [
            "",
            "\n",
            "01\n",
            "1",
            "1\n\n",
            " 1\n",
            "-1\n",
            "18446744073709551616\n",
        ] {
            assert!(parse_size_body(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn log_state_json() {
        let s = LogState {
            size: 3,
            root: [0xab; 32],
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            format!("{{\"size\":3,\"root\":\"{}\"}}", B64.encode([0xab; 32]))
        );
        assert_eq!(serde_json::from_str::<LogState>(&json).unwrap(), s);
        assert!(serde_json::from_str::<LogState>(r#"{"size":3,"root":"AAAA"}"#).is_err());
        assert!(serde_json::from_str::<LogState>(r#"{"size":3,"root":"!"}"#).is_err());
    }

    #[test]
    fn first_checkpoint_then_growth() {
        let l = leaves(100, 1);
        let r10 = root_from_leaves(&l[..10]);
        let s10 = check(&request(0, vec![], 10, r10), None).unwrap();
        assert_eq!(
            s10,
            LogState {
                size: 10,
                root: r10
            }
        );
        for new in [11u64, 16, 17, 64, 100] {
            let n = usize::try_from(new).unwrap();
            let req = request(10, proof(10, &l[..n]), new, root_from_leaves(&l[..n]));
            let st = check(&req, Some(&s10)).unwrap();
            assert_eq!(st.size, new);
        }
        // Same size, same root: cosigned again, state unchanged.
        assert_eq!(
            check(&request(10, vec![], 10, r10), Some(&s10)).unwrap(),
            s10
        );
        // Growth from a perfect old tree (8 -> 100).
        let s8 = LogState {
            size: 8,
            root: root_from_leaves(&l[..8]),
        };
        let req = request(8, proof(8, &l), 100, root_from_leaves(&l));
        assert_eq!(check(&req, Some(&s8)).unwrap().size, 100);
    }

    #[test]
    fn every_rejection_status() {
        let l = leaves(30, 1);
        let r20 = root_from_leaves(&l[..20]);
        let r30 = root_from_leaves(&l);
        let s20 = LogState {
            size: 20,
            root: r20,
        };

        // 404: unknown origin.
        let req = request(20, proof(20, &l), 30, r30);
        let e = check_add_checkpoint(&req, None, Some(&s20)).unwrap_err();
        assert_eq!(
            e,
            WitnessRejection::UnknownLog {
                origin: ORIGIN.to_owned()
            }
        );
        assert_eq!(e.status(), 404);

        // 403: signed by another key of the same name, or by nobody known.
        let other = Ed25519NoteSigner::from_seed(ORIGIN, &[8; 32]).unwrap();
        let forged = AddCheckpoint {
            old_size: 20,
            proof: proof(20, &l),
            checkpoint: checkpoint(30, r30, &other),
        };
        assert_eq!(
            check(&forged, Some(&s20)).unwrap_err(),
            WitnessRejection::BadSignature
        );
        assert_eq!(WitnessRejection::BadSignature.status(), 403);
        // 403: a trusted key's signature over other text (tampered size).
        let good = String::from_utf8(checkpoint(30, r30, &log_signer())).unwrap();
        let tampered = AddCheckpoint {
            old_size: 20,
            proof: proof(20, &l),
            checkpoint: good.replacen("\n30\n", "\n31\n", 1).into_bytes(),
        };
        assert_eq!(check(&tampered, Some(&s20)).unwrap_err().status(), 403);

        // 400: old > new; malformed checkpoint.
        let req = request(25, vec![[0; 32]], 20, r20);
        let e = check(&req, Some(&s20)).unwrap_err();
        assert!(matches!(e, WitnessRejection::BadRequest(_)), "{e:?}");
        assert_eq!(e.status(), 400);
        let broken = AddCheckpoint {
            old_size: 0,
            proof: vec![],
            checkpoint: b"nope".to_vec(),
        };
        assert_eq!(check(&broken, None).unwrap_err().status(), 400);

        // 409: stale old size, with the recorded size.
        let req = request(10, proof(10, &l), 30, r30);
        let e = check(&req, Some(&s20)).unwrap_err();
        assert_eq!(e, WitnessRejection::Conflict { witness_size: 20 });
        assert_eq!(e.status(), 409);
        // 409: old 0 when the witness has a record.
        let e = check(&request(0, vec![], 30, r30), Some(&s20)).unwrap_err();
        assert_eq!(e, WitnessRejection::Conflict { witness_size: 20 });
        // 409: old size ahead of the witness (witness never saw this log).
        let e = check(&request(20, proof(20, &l), 30, r30), None).unwrap_err();
        assert_eq!(e, WitnessRejection::Conflict { witness_size: 0 });

        // 422: proof that does not verify (corrupted, or too short).
        let mut p = proof(20, &l);
        p[0][0] ^= 1;
        assert_eq!(
            check(&request(20, p, 30, r30), Some(&s20)).unwrap_err(),
            WitnessRejection::BadProof
        );
        let mut p = proof(20, &l);
        p.pop();
        let e = check(&request(20, p, 30, r30), Some(&s20)).unwrap_err();
        assert_eq!(e.status(), 422);
        // 422: proof given for equal sizes.
        let e = check(&request(20, vec![[0; 32]], 20, r20), Some(&s20)).unwrap_err();
        assert_eq!(e.status(), 422);
    }

    #[test]
    fn same_size_different_root_is_a_conflict() {
        let l = leaves(20, 1);
        let s20 = LogState {
            size: 20,
            root: root_from_leaves(&l),
        };
        let fork = root_from_leaves(&leaves(20, 2));
        let e = check(&request(20, vec![], 20, fork), Some(&s20)).unwrap_err();
        assert_eq!(e, WitnessRejection::Conflict { witness_size: 20 });
        // A first size-0 checkpoint must have the empty-tree root.
        assert!(check(&request(0, vec![], 0, EMPTY_ROOT), None).is_ok());
        assert_eq!(
            check(&request(0, vec![], 0, fork), None).unwrap_err(),
            WitnessRejection::Conflict { witness_size: 0 }
        );
    }

    #[test]
    fn fork_is_not_consistent() {
        // The witness saw tree A at 20; the log presents tree B at 30 with B's own proof.
        let a = leaves(20, 1);
        let mut b = leaves(30, 2);
        b[..19].copy_from_slice(&a[..19]); // shares 19 leaves, differs from leaf 19 on
        let s20 = LogState {
            size: 20,
            root: root_from_leaves(&a),
        };
        let req = request(20, proof(20, &b), 30, root_from_leaves(&b));
        assert_eq!(
            check(&req, Some(&s20)).unwrap_err(),
            WitnessRejection::BadProof
        );
        // The same proof does verify against B's own old root (the proof itself is sound).
        let s20b = LogState {
            size: 20,
            root: root_from_leaves(&b[..20]),
        };
        assert!(check(&req, Some(&s20b)).is_ok());
    }

    #[test]
    fn unknown_signatures_are_ignored() {
        let l = leaves(5, 1);
        let r = root_from_leaves(&l);
        let other = Ed25519NoteSigner::from_seed("someone.else", &[9; 32]).unwrap();
        let signed =
            SignedCheckpoint::sign(Checkpoint::new(ORIGIN, 5, r), &[&other, &log_signer()])
                .unwrap();
        let req = AddCheckpoint {
            old_size: 0,
            proof: vec![],
            checkpoint: signed.to_bytes(),
        };
        assert!(check(&req, None).is_ok());
    }

    #[test]
    fn cosignature_verifies_and_parses() {
        let l = leaves(5, 1);
        let req = request(0, vec![], 5, root_from_leaves(&l));
        let (signed, _) = check_add_checkpoint(&req, Some(&log_keys()), None).unwrap();
        let w = CosignatureV1Signer::new(
            "witness.example/w1",
            Ed25519Signer::from_seed(&[3; 32]).unwrap(),
        )
        .unwrap();
        let body = cosign(&signed, &w, 1_700_000_000).unwrap();
        assert!(body.starts_with("\u{2014} witness.example/w1 "));
        assert!(body.ends_with('\n'));
        let sigs = parse_signature_lines(body.as_bytes()).unwrap();
        assert_eq!(sigs.len(), 1);
        // Concatenated to the checkpoint, the note verifies with the witness key.
        let mut note = req.checkpoint.clone();
        note.extend_from_slice(body.as_bytes());
        let v = w.verifier().unwrap();
        let verified = Note::parse(&note)
            .unwrap()
            .verify(&Verifiers::new().with(v.clone()))
            .unwrap();
        let s = verified.signed_by(v.name(), v.key_hash()).unwrap();
        assert_eq!(s.timestamp, Some(1_700_000_000));
        assert!(parse_signature_lines(b"").is_err());
        assert!(parse_signature_lines(b"\n").is_err());
        assert!(parse_signature_lines(b"x\n").is_err());
        assert!(cosign(&signed, &w, u64::MAX).is_err());
    }

    fn vkey(seed: u8, name: &str) -> String {
        CosignatureV1Signer::new(name, Ed25519Signer::from_seed(&[seed; 32]).unwrap())
            .unwrap()
            .to_vkey()
    }

    #[test]
    fn policy_parse() {
        let (v1, v2, v3) = (
            vkey(1, "w.example/1"),
            vkey(2, "w.example/2"),
            vkey(3, "w.example/3"),
        );
        let text = format!(
            "# witnesses\n\nwitness one {v1} https://w1.example/api  # first\n\
             witness\ttwo {v2}\n  witness three {v3} http://127.0.0.1:9/\nquorum 2\n"
        );
        let p = WitnessPolicyFile::parse(&text).unwrap();
        assert_eq!(p.quorum, 2);
        assert_eq!(p.witnesses.len(), 3);
        assert_eq!(
            p.witnesses[0].url.as_deref(),
            Some("https://w1.example/api")
        );
        assert_eq!(
            p.witnesses[0].add_checkpoint_url().as_deref(),
            Some("https://w1.example/api/add-checkpoint")
        );
        assert_eq!(
            p.witnesses[2].add_checkpoint_url().as_deref(),
            Some("http://127.0.0.1:9/add-checkpoint")
        );
        assert_eq!(p.witnesses[1].url, None);
        assert_eq!(p.verifiers().unwrap().len(), 3);
        assert_eq!(WitnessPolicyFile::parse(&p.to_text()).unwrap(), p);
        // Default quorum: all.
        let p = WitnessPolicyFile::parse(&format!("witness a {v1}\nwitness b {v2}\n")).unwrap();
        assert_eq!(p.quorum, 2);
    }

    #[test]
    fn policy_errors_name_the_line() {
        let (v1, v2) = (vkey(1, "w.example/1"), vkey(2, "w.example/2"));
        let log_vkey = log_signer().to_vkey();
        let err = |t: String| WitnessPolicyFile::parse(&t).unwrap_err();
        assert!(matches!(
            err(format!("witness a {v1}\nwitness a {v2}\n")),
            WitnessPolicyError::DuplicateName { line: 2, .. }
        ));
        assert!(matches!(
            err(format!("witness a {v1}\n\nwitness b {v1}\n")),
            WitnessPolicyError::DuplicateKey { line: 3, .. }
        ));
        assert!(matches!(
            err(format!("witness a {v1}\nwitnesses b {v2}\n")),
            WitnessPolicyError::Malformed { line: 2, .. }
        ));
        assert!(matches!(
            err(format!("witness a {log_vkey}\n")),
            WitnessPolicyError::BadVKey { line: 1, .. }
        ));
        assert!(matches!(
            err("witness a not+a+vkey\n".to_owned()),
            WitnessPolicyError::BadVKey { line: 1, .. }
        ));
        assert!(matches!(
            err(format!("witness a {v1} ftp://x\n")),
            WitnessPolicyError::Malformed { line: 1, .. }
        ));
        assert!(matches!(
            err(format!("witness a {v1} https://x extra\n")),
            WitnessPolicyError::Malformed { line: 1, .. }
        ));
        assert!(matches!(
            err(format!("witness a\n{v1}\n")),
            WitnessPolicyError::Malformed { line: 1, .. }
        ));
        assert!(matches!(
            err(format!("witness a {v1}\nquorum 2\n")),
            WitnessPolicyError::QuorumOutOfRange {
                line: 2,
                quorum: 2,
                witnesses: 1
            }
        ));
        assert!(matches!(
            err(format!("quorum 0\nwitness a {v1}\n")),
            WitnessPolicyError::QuorumOutOfRange {
                line: 1,
                quorum: 0,
                ..
            }
        ));
        assert!(matches!(
            err(format!("witness a {v1}\nquorum 1\nquorum 1\n")),
            WitnessPolicyError::Malformed { line: 3, .. }
        ));
        assert!(matches!(
            err(format!("witness a {v1}\nquorum 01\n")),
            WitnessPolicyError::Malformed { line: 2, .. }
        ));
        assert_eq!(
            err("# nothing\n".to_owned()),
            WitnessPolicyError::NoWitnesses
        );
    }

    #[test]
    fn policy_counts_cosignatures() {
        let signers: Vec<CosignatureV1Signer> = (1..=3u8)
            .map(|i| {
                CosignatureV1Signer::new(
                    &format!("w.example/{i}"),
                    Ed25519Signer::from_seed(&[i; 32]).unwrap(),
                )
                .unwrap()
            })
            .collect();
        let text: String = signers
            .iter()
            .enumerate()
            .map(|(i, s)| format!("witness w{i} {}\n", s.to_vkey()))
            .chain(["quorum 2\n".to_owned()])
            .collect();
        let policy = WitnessPolicyFile::parse(&text).unwrap();
        let verifiers = policy.verifiers().unwrap();
        let mut cp =
            SignedCheckpoint::sign(Checkpoint::new(ORIGIN, 1, [1; 32]), &[&log_signer()]).unwrap();
        cp.add_signatures(&[&signers[0].at(5)]).unwrap();
        assert!(cp
            .note()
            .verify_threshold(&verifiers, policy.quorum)
            .is_err());
        cp.add_signatures(&[&signers[2].at(6)]).unwrap();
        assert!(cp
            .note()
            .verify_threshold(&verifiers, policy.quorum)
            .is_ok());
        assert_eq!(check_quorum(cp.note(), &verifiers, 2, &[]), Ok(2));
    }

    /// Issue 15 C: one witness key under two names. Refused by the policy parser in every
    /// spelling (same vkey, same key under another key name so another key hash, the vkey
    /// text padded differently), and counted once by the shared quorum rule when two
    /// verifiers for it are built in code.
    #[test]
    fn one_key_under_two_names_is_one_witness() {
        let key = Ed25519Signer::from_seed(&[4; 32]).unwrap();
        let as_a = CosignatureV1Signer::new("w.example/a", key.clone()).unwrap();
        let as_b = CosignatureV1Signer::new("w.example/b", key).unwrap();
        let other =
            CosignatureV1Signer::new("w.example/c", Ed25519Signer::from_seed(&[5; 32]).unwrap())
                .unwrap();
        let (va, vb) = (as_a.to_vkey(), as_b.to_vkey());
        assert_ne!(va, vb, "two names give two vkeys (and key hashes)");
        for text in [
            format!("witness a {va}\nwitness b {va}\nquorum 2\n"),
            format!("witness a {va}\nwitness b {vb}\nquorum 2\n"),
            format!(
                "witness a {va}\nwitness c {}\nwitness b {vb}\n",
                other.to_vkey()
            ),
        ] {
            let err = WitnessPolicyFile::parse(&text).unwrap_err();
            assert!(
                matches!(&err, WitnessPolicyError::DuplicateKey { name, first, .. }
                    if name == "b" && first == "a"),
                "{text}: {err}"
            );
            assert!(err.to_string().contains("same public key"), "{err}");
        }
        // A policy built in code with the key twice is refused by `verifiers()` too.
        let policy = WitnessPolicyFile {
            witnesses: vec![
                PolicyWitness {
                    name: "a".into(),
                    vkey: va.clone(),
                    url: None,
                },
                PolicyWitness {
                    name: "b".into(),
                    vkey: vb.clone(),
                    url: None,
                },
            ],
            quorum: 2,
        };
        assert!(matches!(
            policy.verifiers(),
            Err(WitnessPolicyError::DuplicateKey { line: 0, .. })
        ));

        // Verifiers built in code: one cosignature, attached under both names, counts once.
        let verifiers = Verifiers::new()
            .with(as_a.verifier().unwrap())
            .with(as_b.verifier().unwrap())
            .with(other.verifier().unwrap());
        let mut cp =
            SignedCheckpoint::sign(Checkpoint::new(ORIGIN, 1, [1; 32]), &[&log_signer()]).unwrap();
        cp.add_signatures(&[&as_a.at(5)]).unwrap();
        let line = cp.note().signatures().last().unwrap().clone();
        let mut text = String::from_utf8(cp.to_bytes()).unwrap();
        let copied = NoteSignature {
            name: KeyName::new("w.example/b").unwrap(),
            key_hash: {
                use crate::note::NoteSigner as _;
                as_b.at(5).key_hash()
            },
            signature: line.signature.clone(),
        };
        text.push_str(&copied.to_line());
        text.push('\n');
        let note = Note::parse(text.as_bytes()).unwrap();
        assert_eq!(note.signatures().len(), 3, "log, a and the copy as b");
        assert_eq!(
            note.verify_threshold(&verifiers, 0)
                .unwrap()
                .verified()
                .len(),
            1
        );
        assert!(note.verify_threshold(&verifiers, 2).is_err());
        // Two distinct keys can make a quorum of 2 only with the other key; the key
        // listed twice counts as one towards "distinct keys" as well.
        assert_eq!(
            check_quorum(&note, &verifiers, 2, &[]),
            Err(QuorumError::NotMet {
                valid: 1,
                quorum: 2
            })
        );
        assert_eq!(
            check_quorum(&note, &verifiers, 3, &[]),
            Err(QuorumError::Unreachable { quorum: 3, keys: 2 })
        );
        let mut with_other = note.clone();
        with_other.add_signatures(&[&other.at(6)]).unwrap();
        assert_eq!(check_quorum(&with_other, &verifiers, 2, &[]), Ok(2));
        assert!(matches!(
            check_quorum(&with_other, &verifiers, 0, &[]),
            Err(QuorumError::Unreachable { quorum: 0, .. })
        ));
    }

    /// Issue 15 C: the log's own key listed as a witness. Refused by the log at load
    /// ([`WitnessPolicyFile::check_not_log_keys`]) and never counted by [`check_quorum`].
    #[test]
    fn the_logs_own_key_is_not_a_witness() {
        let seed = [7u8; 32];
        let log_key = Ed25519Signer::from_seed(&seed).unwrap();
        let log_public = log_signer().verifier().unwrap();
        let log_public = NoteVerifier::public_key(&log_public).clone();
        // The same key bytes as a cosignature/v1 witness key.
        let self_witness = CosignatureV1Signer::new("log-as-witness", log_key).unwrap();
        let other =
            CosignatureV1Signer::new("w.example/c", Ed25519Signer::from_seed(&[5; 32]).unwrap())
                .unwrap();
        let text = format!(
            "witness self {}\nwitness c {}\nquorum 1\n",
            self_witness.to_vkey(),
            other.to_vkey()
        );
        let policy = WitnessPolicyFile::parse(&text).unwrap();
        assert!(matches!(
            policy.check_not_log_keys(&[&log_public]),
            Err(WitnessPolicyError::LogKey { ref name }) if name == "self"
        ));
        let verifiers = policy.verifiers().unwrap();
        let mut cp =
            SignedCheckpoint::sign(Checkpoint::new(ORIGIN, 1, [1; 32]), &[&log_signer()]).unwrap();
        cp.add_signatures(&[&self_witness.at(5)]).unwrap();
        assert_eq!(check_quorum(cp.note(), &verifiers, 1, &[]), Ok(1));
        assert_eq!(
            check_quorum(cp.note(), &verifiers, 1, &[&log_public]),
            Err(QuorumError::NotMet {
                valid: 0,
                quorum: 1
            })
        );
        assert_eq!(
            check_quorum(cp.note(), &verifiers, 2, &[&log_public]),
            Err(QuorumError::Unreachable { quorum: 2, keys: 1 })
        );
        cp.add_signatures(&[&other.at(6)]).unwrap();
        assert_eq!(
            check_quorum(cp.note(), &verifiers, 1, &[&log_public]),
            Ok(1)
        );
    }
}
