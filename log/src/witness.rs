//! Gathering witness cosignatures (C2SP tlog-witness, client side) before a checkpoint is
//! handed out.
//!
//! With a witness policy configured (`witness_policy` in [`crate::LogConfig`], the format of
//! `signet_proto::witness::WitnessPolicyFile`: `witness NAME VKEY URL` lines and `quorum K`),
//! the sequencer publishes a new checkpoint only once it carries valid cosignature/v1 lines of
//! at least K distinct witness keys (`signet_proto::witness::check_quorum`, the rule verifiers
//! and monitors apply: a key listed twice, or the log's own key, is refused at load and never
//! counted). Until then readers keep seeing the previous checkpoint, and the
//! requests of the batch wait. If the quorum is not reached within `witness_timeout_ms`, the
//! batch is answered with 503: the entries are stored (the tree cannot be un-grown) and are
//! published with the next checkpoint the witnesses cosign; the sequencer retries on its own
//! every second while the latest tree head is unpublished.
//!
//! For each witness the log remembers the size the witness last cosigned (it starts at the
//! size of the published checkpoint if the witness cosigned that one, else at 0, and learns
//! the real size from a 409 answer, as the spec suggests) and sends a consistency proof from
//! that size. In the distributed mode only the member holding the sequencer lease asks
//! ([`crate::storage::LogStore::is_writer`]), and what it publishes is recorded under the
//! lease (a fenced etcd transaction), so a deposed sequencer publishes nothing. What this module does not do: verify that witnesses are independent, or
//! serve cosignatures to monitors separately (they are part of the published checkpoint).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use signet_proto::checkpoint::UnverifiedCheckpoint;
use signet_proto::keys::PublicKey;
use signet_proto::merkle::prove_consistency;
use signet_proto::note::{Note, NoteSignature, Verifiers};
use signet_proto::witness::{check_quorum, parse_size_body, AddCheckpoint, WitnessPolicyFile};

use crate::error::WitnessError;
use crate::head::SignedHead;
use crate::identity::Identity;
use crate::storage::LogDb;

pub use crate::error::WitnessConfigError;

struct Member {
    name: String,
    url: String,
    verifiers: Verifiers,
    /// The size this witness last cosigned, as far as we know.
    last_size: Mutex<u64>,
}

/// The witnesses a log asks for cosignatures, and how many it needs.
pub struct Witnesses {
    members: Vec<Arc<Member>>,
    /// Every witness's verifier: what [`signet_proto::witness::check_quorum`] counts.
    all: Verifiers,
    quorum: usize,
    /// The log's own keys, which never count as witnesses.
    log_keys: Vec<PublicKey>,
    client: reqwest::Client,
    timeout: Duration,
}

impl std::fmt::Debug for Witnesses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witnesses")
            .field(
                "members",
                &self.members.iter().map(|m| &m.name).collect::<Vec<_>>(),
            )
            .field("quorum", &self.quorum)
            .finish_non_exhaustive()
    }
}

impl Witnesses {
    /// Reads a policy file; every witness in it must have a URL, and none may have one of
    /// `log_keys` (the log's own note keys).
    ///
    /// # Errors
    /// [`WitnessConfigError`] naming the file and the problem.
    pub fn load(
        path: &std::path::Path,
        timeout: Duration,
        log_keys: &[&PublicKey],
    ) -> Result<Self, WitnessConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| WitnessConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        let invalid = |reason: String| WitnessConfigError::Invalid {
            path: shown.clone(),
            reason,
        };
        let policy = WitnessPolicyFile::parse(&text).map_err(|e| invalid(e.to_string()))?;
        Self::from_policy(&policy, timeout, log_keys).map_err(invalid)
    }

    /// Builds the client side of `policy`. Refused: a witness without URL, a bad key, one key
    /// listed twice (under any names), one of `log_keys` listed as a witness, a quorum
    /// outside 1..=the number of witnesses.
    ///
    /// # Errors
    /// A message naming the problem.
    pub fn from_policy(
        policy: &WitnessPolicyFile,
        timeout: Duration,
        log_keys: &[&PublicKey],
    ) -> Result<Self, String> {
        let all = policy.verifiers().map_err(|e| e.to_string())?;
        policy
            .check_not_log_keys(log_keys)
            .map_err(|e| e.to_string())?;
        let mut members = Vec::new();
        for w in &policy.witnesses {
            let url = w
                .url
                .clone()
                .ok_or_else(|| format!("witness {} has no URL", w.name))?;
            let v = signet_proto::note::CosignatureV1Verifier::from_vkey(&w.vkey)
                .map_err(|e| format!("witness {}: {e}", w.name))?;
            members.push(Arc::new(Member {
                name: w.name.clone(),
                url: url.trim_end_matches('/').to_string(),
                verifiers: Verifiers::new().with(v),
                last_size: Mutex::new(0),
            }));
        }
        if members.is_empty() {
            return Err("no witnesses".into());
        }
        let client = signet_net::client_builder()
            .timeout(timeout)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            members,
            all,
            quorum: policy.quorum,
            log_keys: log_keys.iter().map(|k| (*k).clone()).collect(),
            client,
            timeout,
        })
    }

    /// How many cosignatures a checkpoint needs.
    #[must_use]
    pub fn quorum(&self) -> usize {
        self.quorum
    }

    /// Whether the signed checkpoint note `checkpoint` carries the quorum: the shared rule
    /// ([`check_quorum`]: distinct witness keys, the log's keys excluded). Returns the number
    /// of distinct witnesses that cosigned.
    ///
    /// # Errors
    /// Why not, as a message.
    pub fn check(&self, checkpoint: &str) -> Result<usize, String> {
        let note = Note::parse(checkpoint.as_bytes())
            .map_err(|e| format!("the checkpoint is not a signed note: {e}"))?;
        let log_keys: Vec<&PublicKey> = self.log_keys.iter().collect();
        check_quorum(&note, &self.all, self.quorum, &log_keys).map_err(|e| e.to_string())
    }

    /// Whether `head` may be served: its checkpoint note is this log's (origin, size and root
    /// as stated, signed with the log's Ed25519 note key) and carries the quorum
    /// ([`Witnesses::check`]). Returns the number of distinct witnesses that cosigned.
    ///
    /// # Errors
    /// Why not, as a message.
    pub fn publishable(&self, ident: &Identity, head: &SignedHead) -> Result<usize, String> {
        let cp = UnverifiedCheckpoint::parse(head.checkpoint.as_bytes())
            .map_err(|e| format!("the checkpoint does not parse: {e}"))?;
        let c = cp.checkpoint_unverified();
        if c.origin != ident.origin || c.size != head.size || c.root != head.root {
            return Err(format!(
                "the checkpoint is for {:?} size {}, not this log ({:?}) at size {}",
                c.origin, c.size, ident.origin, head.size
            ));
        }
        let own = ident
            .ed_note
            .verifier()
            .map_err(|e| format!("the log's note key: {e}"))?;
        cp.note()
            .verify(&Verifiers::new().with(own))
            .map_err(|e| format!("the checkpoint is not signed by this log: {e}"))?;
        self.check(&head.checkpoint)
    }

    /// Learns from a published checkpoint (the log's own, already accepted by
    /// [`Witnesses::publishable`]) which witnesses have cosigned at least its size: each whose
    /// cosignature verifies in it remembers that size (never a smaller one than it knew). A
    /// sequencer that takes over a log (the distributed mode) or restarts so starts from the
    /// witnesses' real sizes, and its first request to each carries a consistency proof from
    /// there instead of learning the size from a 409.
    pub fn learn(&self, published: &SignedHead) {
        let Ok(note) = Note::parse(published.checkpoint.as_bytes()) else {
            return;
        };
        for m in &self.members {
            if note.verify(&m.verifiers).is_ok() {
                let mut known = m.last_size.lock().unwrap_or_else(|p| p.into_inner());
                *known = (*known).max(published.size);
            }
        }
    }

    /// Asks every witness to cosign `head` and returns the checkpoint with the cosignatures
    /// appended, once it carries the quorum ([`Witnesses::check`]). `db` is read for the
    /// consistency proofs the witnesses need.
    ///
    /// # Errors
    /// [`WitnessError::NoQuorum`] naming each witness's failure when the quorum is not
    /// reached.
    pub async fn cosign(&self, db: &LogDb, head: &SignedHead) -> Result<String, WitnessError> {
        let mut tasks = tokio::task::JoinSet::new();
        for m in &self.members {
            let m = Arc::clone(m);
            let db = db.clone();
            let head = head.clone();
            let client = self.client.clone();
            let timeout = self.timeout;
            tasks.spawn(async move {
                let r = tokio::time::timeout(timeout, ask(&client, &m, &db, &head)).await;
                let r = r.unwrap_or_else(|_| Err(format!("no answer within {timeout:?}")));
                (m.name.clone(), r)
            });
        }
        let mut lines = Vec::new();
        let mut failures = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((_, Ok(mut l))) => lines.append(&mut l),
                Ok((name, Err(e))) => failures.push(format!("{name}: {e}")),
                Err(e) => failures.push(format!("witness task: {e}")),
            }
        }
        let mut out = head.checkpoint.clone();
        for l in lines {
            out.push_str(&l);
        }
        // The decision is the shared rule over the assembled note, not a count of answers.
        if let Err(reason) = self.check(&out) {
            return Err(WitnessError::NoQuorum { reason, failures });
        }
        for f in &failures {
            tracing::warn!(failure = %f, "witness did not cosign");
        }
        Ok(out)
    }
}

/// One witness, one checkpoint: at most three rounds (a 409 teaches us the witness's size).
async fn ask(
    client: &reqwest::Client,
    m: &Member,
    db: &LogDb,
    head: &SignedHead,
) -> Result<Vec<String>, String> {
    for _ in 0..3 {
        // Only the sequencer asks (distributed mode: the lease holder, which committed `head`
        // through the fenced transaction); a deposed one stops here.
        if !db.is_writer() {
            return Err("this member is not the sequencer any more".into());
        }
        let old = *m.last_size.lock().unwrap_or_else(|p| p.into_inner());
        if old > head.size {
            return Err(format!(
                "the witness has cosigned size {old}, larger than this tree ({})",
                head.size
            ));
        }
        let proof = if old == 0 || old == head.size {
            Vec::new()
        } else {
            let db = db.clone();
            let size = head.size;
            tokio::task::spawn_blocking(move || prove_consistency(old, size, &db))
                .await
                .map_err(|e| format!("proof task: {e}"))?
                .map_err(|e| format!("consistency proof {old}->{size}: {e}"))?
        };
        let body = AddCheckpoint {
            old_size: old,
            proof,
            checkpoint: head.checkpoint.as_bytes().to_vec(),
        }
        .to_bytes();
        let resp = client
            .post(format!("{}/add-checkpoint", m.url))
            .body(body)
            .send()
            .await
            .map_err(|e| format!("request failed: {}", signet_net::chain(&e)))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| format!("reading the answer: {e}"))?;
        match status.as_u16() {
            200 => {
                let lines = cosignature_lines(m, head, &bytes)?;
                *m.last_size.lock().unwrap_or_else(|p| p.into_inner()) = head.size;
                return Ok(lines);
            }
            409 => {
                let size = parse_size_body(&bytes).map_err(|e| {
                    format!(
                        "409 with an unreadable size ({e}): {}",
                        String::from_utf8_lossy(&bytes)
                    )
                })?;
                if size == old {
                    // Same size, different root: the witness saw another tree.
                    return Err(format!(
                        "409: the witness holds a different tree at size {size}"
                    ));
                }
                *m.last_size.lock().unwrap_or_else(|p| p.into_inner()) = size;
            }
            code => {
                return Err(format!(
                    "{code}: {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).trim()
                ));
            }
        }
    }
    Err("the witness's size kept changing".into())
}

/// Keeps the answer's signature lines that verify as this witness's cosignature of `head`.
fn cosignature_lines(m: &Member, head: &SignedHead, answer: &[u8]) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(answer).map_err(|_| "the answer is not UTF-8".to_string())?;
    let mut note_bytes = head.checkpoint.clone().into_bytes();
    note_bytes.extend_from_slice(text.as_bytes());
    let note =
        Note::parse(&note_bytes).map_err(|e| format!("the answer is not note lines: {e}"))?;
    let verified = note
        .verify(&m.verifiers)
        .map_err(|e| format!("no valid cosignature in the answer: {e}"))?;
    Ok(verified
        .verified()
        .iter()
        .map(|v| {
            let line = NoteSignature {
                name: v.name.clone(),
                key_hash: v.key_hash,
                signature: v.signature.clone(),
            }
            .to_line();
            format!("{line}\n")
        })
        .collect())
}
