//! `signet witness` end to end: the real binary, real HTTP, checkpoints signed here with the
//! proto crate, consistency proofs from `signet_proto::merkle::prove_consistency` over tiles
//! built by `signet_proto::tiles::integrate`.

#![allow(clippy::unwrap_used, missing_docs)]

#[path = "support/raw_http.rs"]
mod raw_http;
#[path = "support/tls.rs"]
mod tls;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use signet_proto::checkpoint::{Checkpoint, SignedCheckpoint};
use signet_proto::merkle::{leaf_hash, prove_consistency, root_from_leaves, Hash};
use signet_proto::note::{
    CosignatureV1Verifier, Ed25519NoteSigner, Note, NoteVerifier as _, Verifiers,
};
use signet_proto::tiles::{integrate, MemTiles};
use signet_proto::witness::{parse_signature_lines, parse_size_body, AddCheckpoint};

const ORIGIN: &str = "127.0.0.1:3000 - 123456";
const OTHER_ORIGIN: &str = "other.example/log";
const WITNESS_NAME: &str = "witness.example/w1";
/// The log's note key name (key names cannot hold the spaces of the origin).
const LOG_KEY_NAME: &str = "127.0.0.1:3000";

fn log_signer() -> Ed25519NoteSigner {
    Ed25519NoteSigner::from_seed(LOG_KEY_NAME, &[7; 32]).unwrap()
}

/// A log tree: its leaves and its tiles.
struct Tree {
    leaves: Vec<Hash>,
    tiles: MemTiles,
}

impl Tree {
    /// `n` leaves; leaf `i` is `tag(i)`.
    fn new(n: u64, tag: impl Fn(u64) -> Vec<u8>) -> Self {
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&tag(i))).collect();
        let mut tiles = MemTiles::new();
        // Integrate in a few batches, as a log would.
        let mut size = 0u64;
        for chunk in leaves.chunks(37) {
            let integration = integrate(size, chunk, &tiles).unwrap();
            tiles.apply(&integration);
            size = integration.size;
            assert_eq!(
                integration.root,
                root_from_leaves(&leaves[..usize::try_from(size).unwrap()])
            );
        }
        Self { leaves, tiles }
    }

    fn root(&self, size: u64) -> Hash {
        root_from_leaves(&self.leaves[..usize::try_from(size).unwrap()])
    }

    fn proof(&self, old: u64, new: u64) -> Vec<Hash> {
        if old == 0 {
            return vec![];
        }
        prove_consistency(old, new, &self.tiles).unwrap()
    }

    fn checkpoint(&self, origin: &str, size: u64, signer: &Ed25519NoteSigner) -> Vec<u8> {
        SignedCheckpoint::sign(Checkpoint::new(origin, size, self.root(size)), &[signer])
            .unwrap()
            .to_bytes()
    }

    /// A request from `old` to `new` for [`ORIGIN`], signed by the log.
    fn request(&self, old: u64, new: u64) -> AddCheckpoint {
        AddCheckpoint {
            old_size: old,
            proof: self.proof(old, new),
            checkpoint: self.checkpoint(ORIGIN, new, &log_signer()),
        }
    }
}

fn tree_a() -> Tree {
    Tree::new(200, |i| format!("entry {i}").into_bytes())
}

/// A running `signet witness`.
struct Witness {
    child: Child,
    url: String,
    stderr: PathBuf,
    client: reqwest::blocking::Client,
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Witness {
    fn start(config: &Path) -> Self {
        let dir = config.parent().unwrap();
        let stderr = dir.join(format!("witness-{}.stderr", std::process::id()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(["witness", "--config"])
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Some(addr) = line.trim().strip_prefix("signet witness listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "witness did not start: stdout {line:?}, stderr {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        };
        Self {
            url: addr.to_owned(),
            child,
            stderr,
            client: client(),
        }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn post(&self, body: Vec<u8>) -> (u16, Option<String>, Vec<u8>) {
        let resp = self
            .client
            .post(format!("{}/add-checkpoint", self.url))
            .body(body)
            .send()
            .unwrap();
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        (status, ctype, resp.bytes().unwrap().to_vec())
    }

    fn add(&self, req: &AddCheckpoint) -> (u16, Option<String>, Vec<u8>) {
        self.post(req.to_bytes())
    }

    /// The size the witness last cosigned, learned from the 409 to an `old 0` request.
    fn recorded_size(&self, tree: &Tree) -> u64 {
        let (status, ctype, body) = self.add(&tree.request(0, 1));
        assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
        assert_eq!(ctype.as_deref(), Some("text/x.tlog.size"));
        parse_size_body(&body).unwrap()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

/// Runs `signet witness --config CONFIG` to completion (for configurations it must reject).
fn run_config(config: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["witness", "--config"])
        .arg(config)
        .output()
        .unwrap()
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A temporary directory with a witness key and a configuration trusting [`log_signer`] for
/// [`ORIGIN`] and another key for [`OTHER_ORIGIN`]. Returns (dir, config path, witness vkey).
fn setup() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["witness", "--generate-key"])
        .arg(dir.path().join("witness.key"))
        .args(["--name", WITNESS_NAME])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vkey = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let other = Ed25519NoteSigner::from_seed(OTHER_ORIGIN, &[9; 32]).unwrap();
    let config = dir.path().join("witness.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nname = \"{WITNESS_NAME}\"\nkey = \"witness.key\"\n\
             state_dir = \"state\"\n\n[[log]]\norigin = \"{ORIGIN}\"\nvkey = \"{}\"\n\n\
             [[log]]\norigin = \"{OTHER_ORIGIN}\"\nvkey = \"{}\"\n",
            log_signer().to_vkey(),
            other.to_vkey()
        ),
    )
    .unwrap();
    (dir, config, vkey)
}

/// Checks a 200 body: cosignature lines that, appended to the checkpoint, verify with the
/// witness key; returns the cosignature timestamp.
fn check_cosignature(checkpoint: &[u8], body: &[u8], vkey: &str) -> u64 {
    let sigs = parse_signature_lines(body).unwrap();
    assert_eq!(sigs.len(), 1);
    let v = CosignatureV1Verifier::from_vkey(vkey).unwrap();
    let mut note = checkpoint.to_vec();
    note.extend_from_slice(body);
    let verified = Note::parse(&note)
        .unwrap()
        .verify(&Verifiers::new().with(v.clone()))
        .unwrap();
    verified
        .signed_by(v.name(), v.key_hash())
        .unwrap()
        .timestamp
        .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn add_checkpoint_statuses() {
    let (_dir, config, vkey) = setup();
    let w = Witness::start(&config);
    let a = tree_a();

    let health = client().get(format!("{}/healthz", w.url)).send().unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(health.text().unwrap(), "ok\n");

    // First checkpoint: old 0, empty proof.
    let req = a.request(0, 10);
    let before = now();
    let (status, ctype, body) = w.add(&req);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert!(ctype.unwrap().starts_with("text/plain"));
    let ts = check_cosignature(&req.checkpoint, &body, &vkey);
    assert!(ts >= before && ts <= now() + 1, "timestamp {ts}");

    // Grow with a valid proof.
    let req = a.request(10, 20);
    assert!(!req.proof.is_empty());
    let (status, _, body) = w.add(&req);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    check_cosignature(&req.checkpoint, &body, &vkey);

    // The same checkpoint again (same size, same root): cosigned again.
    let (status, _, body) = w.add(&a.request(20, 20));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));

    // Stale old size: 409 with the recorded size.
    let (status, ctype, body) = w.add(&a.request(10, 30));
    assert_eq!(status, 409);
    assert_eq!(ctype.as_deref(), Some("text/x.tlog.size"));
    assert_eq!(body, b"20\n");

    // Bad proof: 422.
    let mut req = a.request(20, 30);
    req.proof[0][0] ^= 1;
    let (status, _, body) = w.add(&req);
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));

    // Wrong log key (same name, other key): 403.
    let forger = Ed25519NoteSigner::from_seed(LOG_KEY_NAME, &[8; 32]).unwrap();
    let req = AddCheckpoint {
        old_size: 20,
        proof: a.proof(20, 30),
        checkpoint: a.checkpoint(ORIGIN, 30, &forger),
    };
    let (status, _, body) = w.add(&req);
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    // The key of another configured log does not count for this origin either.
    let other = Ed25519NoteSigner::from_seed(OTHER_ORIGIN, &[9; 32]).unwrap();
    let req = AddCheckpoint {
        old_size: 20,
        proof: a.proof(20, 30),
        checkpoint: a.checkpoint(ORIGIN, 30, &other),
    };
    assert_eq!(w.add(&req).0, 403);

    // Unknown origin: 404.
    let stranger = Ed25519NoteSigner::from_seed("unknown.example/log", &[1; 32]).unwrap();
    let req = AddCheckpoint {
        old_size: 0,
        proof: vec![],
        checkpoint: a.checkpoint("unknown.example/log", 5, &stranger),
    };
    assert_eq!(w.add(&req).0, 404);

    // Old size larger than the checkpoint size: 400.
    let req = AddCheckpoint {
        old_size: 20,
        proof: vec![[0; 32]],
        checkpoint: a.checkpoint(ORIGIN, 15, &log_signer()),
    };
    assert_eq!(w.add(&req).0, 400);

    // Malformed bodies: 400. Too large: 413. Wrong method: 405.
    assert_eq!(w.post(b"old 01\n\n".to_vec()).0, 400);
    assert_eq!(w.post(b"hello".to_vec()).0, 400);
    let mut big = a.request(20, 30).to_bytes();
    big.resize(70 * 1024, b'x');
    assert_eq!(w.post(big).0, 413);
    let status = client()
        .get(format!("{}/add-checkpoint", w.url))
        .send()
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 405);

    // A fork: tree B shares the first 15 leaves with A and differs after.
    let b = Tree::new(200, |i| {
        if i < 15 {
            format!("entry {i}").into_bytes()
        } else {
            format!("forked entry {i}").into_bytes()
        }
    });
    assert_eq!(b.root(15), a.root(15));
    assert_ne!(b.root(20), a.root(20));
    // A larger B checkpoint with B's own proof from 20: 422.
    let (status, _, body) = w.add(&b.request(20, 40));
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));
    // B at the recorded size: same size, different root: 409.
    let (status, ctype, body) = w.add(&b.request(20, 20));
    assert_eq!(status, 409);
    assert_eq!(ctype.as_deref(), Some("text/x.tlog.size"));
    assert_eq!(body, b"20\n");

    // Nothing above moved the witness: A still grows from 20.
    assert_eq!(w.recorded_size(&a), 20);
    let req = a.request(20, 64);
    let (status, _, body) = w.add(&req);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    check_cosignature(&req.checkpoint, &body, &vkey);
    assert_eq!(w.recorded_size(&a), 64);

    // The other log has its own state: first checkpoint accepted.
    let req = AddCheckpoint {
        old_size: 0,
        proof: vec![],
        checkpoint: a.checkpoint(OTHER_ORIGIN, 3, &other),
    };
    let (status, _, body) = w.add(&req);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(w.recorded_size(&a), 64);
    assert!(w.log_text().contains("cosigned"), "{}", w.log_text());
}

/// What the C2SP spec does not cover is answered with a JSON `{code, message}`: a path the
/// witness does not serve (404), a method a route does not serve (405, with `Allow`), and a
/// body declared larger than the witness takes (413 at once, without a `100 Continue`, the
/// body unread and nothing recorded).
#[test]
fn other_answers_are_json_and_oversized_bodies_are_refused_at_once() {
    let (_dir, config, _vkey) = setup();
    let w = Witness::start(&config);
    let a = tree_a();

    let resp = client().get(format!("{}/nope", w.url)).send().unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert_eq!(
        resp.text().unwrap(),
        r#"{"code":404,"message":"no such endpoint"}"#
    );
    for (method, path, allow) in [
        (reqwest::Method::GET, "/add-checkpoint", "POST"),
        (reqwest::Method::PUT, "/add-checkpoint", "POST"),
        (reqwest::Method::POST, "/healthz", "GET,HEAD"),
    ] {
        let resp = client()
            .request(method.clone(), format!("{}{path}", w.url))
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 405, "{method} {path}");
        assert_eq!(resp.headers()["allow"], allow, "{method} {path}");
        assert_eq!(
            resp.text().unwrap(),
            format!(r#"{{"code":405,"message":"{method} is not allowed on this endpoint"}}"#),
        );
    }

    let r = raw_http::declare_body(&w.url, "/add-checkpoint", "text/plain", 1 << 30);
    raw_http::assert_refused_at_once(&r, "add-checkpoint");
    assert_eq!(
        r.json(),
        serde_json::json!({"code": 413, "message": "request body too large (limit 65536 bytes)"})
    );
    // A chunked body over the limit: the same answer once the limit is read.
    let r = raw_http::send_chunked(&w.url, "/add-checkpoint", "text/plain", 70 * 1024);
    assert!(r.status_line().starts_with("HTTP/1.1 413 "), "{}", r.text);
    assert_eq!(r.json()["code"], 413, "{}", r.text);

    // Nothing was recorded: the first checkpoint of the log is still taken from size 0.
    let (status, _, body) = w.add(&a.request(0, 10));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
}

#[test]
fn state_survives_restart() {
    let (dir, config, vkey) = setup();
    let a = tree_a();
    let w = Witness::start(&config);
    assert_eq!(w.add(&a.request(0, 7)).0, 200);
    assert_eq!(w.add(&a.request(7, 33)).0, 200);
    w.stop();

    // One state file per origin, named by the SHA-256 of the origin.
    let files: Vec<_> = std::fs::read_dir(dir.path().join("state"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].len(), 64 + ".json".len());

    let w = Witness::start(&config);
    let (status, ctype, body) = w.add(&a.request(0, 50));
    assert_eq!(status, 409);
    assert_eq!(ctype.as_deref(), Some("text/x.tlog.size"));
    assert_eq!(body, b"33\n");
    // The remembered root is enforced too: a fork at 33 is refused.
    let b = Tree::new(40, |i| format!("other {i}").into_bytes());
    assert_eq!(w.add(&b.request(33, 33)).0, 409);
    let req = a.request(33, 50);
    let (status, _, body) = w.add(&req);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    check_cosignature(&req.checkpoint, &body, &vkey);

    // A corrupt state file stops the witness from starting rather than forgetting the log.
    w.stop();
    let state = dir.path().join("state").join(&files[0]);
    std::fs::write(&state, b"{").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["witness", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&files[0]),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn concurrent_requests_do_not_roll_back() {
    let (_dir, config, vkey) = setup();
    let a = Arc::new(tree_a());
    let w = Arc::new(Witness::start(&config));
    assert_eq!(w.add(&a.request(0, 1)).0, 200);

    // Requests prepared up front so that threads race on the HTTP calls, not on signing.
    let successes: Arc<Mutex<Vec<(u64, u64)>>> = Arc::new(Mutex::new(vec![(0, 1)]));
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let (a, w, successes, vkey) = (
                Arc::clone(&a),
                Arc::clone(&w),
                Arc::clone(&successes),
                vkey.clone(),
            );
            std::thread::spawn(move || {
                for round in 0..25u64 {
                    let cur = w.recorded_size(&a);
                    if cur >= 190 {
                        break;
                    }
                    let new = cur + 1 + (t * 3 + round) % 7;
                    let req = a.request(cur, new);
                    let (status, _, body) = w.add(&req);
                    match status {
                        200 => {
                            check_cosignature(&req.checkpoint, &body, &vkey);
                            successes.lock().unwrap().push((cur, new));
                        }
                        409 => {
                            // Another request moved the witness, never backwards.
                            let size = parse_size_body(&body).unwrap();
                            assert!(size > cur, "409 with size {size} after seeing {cur}");
                        }
                        s => panic!("status {s}: {}", String::from_utf8_lossy(&body)),
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut s = successes.lock().unwrap().clone();
    s.sort_unstable_by_key(|&(_, new)| new);
    assert!(s.len() > 8, "too few successes to mean anything: {s:?}");
    // Every cosigned checkpoint extends the previous one: no rollback, no fork.
    for pair in s.windows(2) {
        assert_eq!(
            pair[1].0, pair[0].1,
            "cosigned {:?} then {:?}",
            pair[0], pair[1]
        );
    }
    let last = s.last().unwrap().1;
    assert_eq!(w.recorded_size(&a), last);
}

/// `--rotate-key`: the witness then cosigns with the new key and the old one (each line
/// verifies with its own vkey, so a log whose policy names either keeps its quorum);
/// `--retire-old-keys`: with the new key alone.
#[test]
fn rotated_key_cosigns_beside_the_old_one_until_retired() {
    let (dir, config, old_vkey) = setup();
    let key = dir.path().join("witness.key");
    let a = tree_a();
    let w = Witness::start(&config);
    let req = a.request(0, 7);
    let (status, _, body) = w.add(&req);
    assert_eq!(status, 200);
    check_cosignature(&req.checkpoint, &body, &old_vkey);
    w.stop();

    // `signet witness <flag> <key>`, which must succeed.
    let key_command = |flag: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(["witness", flag])
            .arg(&key)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let out = key_command("--rotate-key");
    let new_vkey = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_ne!(new_vkey, old_vkey);
    assert!(
        new_vkey.starts_with(&format!("{WITNESS_NAME}+")),
        "{new_vkey}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--retire-old-keys"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let w = Witness::start(&config);
    let req = a.request(7, 33);
    let (status, _, body) = w.add(&req);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(parse_signature_lines(&body).unwrap().len(), 2);
    for vkey in [&old_vkey, &new_vkey] {
        let v = CosignatureV1Verifier::from_vkey(vkey).unwrap();
        let mut note = req.checkpoint.clone();
        note.extend_from_slice(&body);
        let verified = Note::parse(&note)
            .unwrap()
            .verify(&Verifiers::new().with(v.clone()))
            .unwrap();
        assert!(
            verified.signed_by(v.name(), v.key_hash()).is_some(),
            "{vkey}"
        );
    }
    w.stop();

    let out = key_command("--retire-old-keys");
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), new_vkey);
    let w = Witness::start(&config);
    let req = a.request(33, 50);
    let (status, _, body) = w.add(&req);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    check_cosignature(&req.checkpoint, &body, &new_vkey);
    w.stop();
}

#[test]
fn generate_key_and_bad_configs() {
    use std::os::unix::fs::PermissionsExt as _;
    let (dir, config, vkey) = setup();
    assert!(vkey.starts_with(&format!("{WITNESS_NAME}+")));
    CosignatureV1Verifier::from_vkey(&vkey).unwrap();
    let key = dir.path().join("witness.key");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // Refuses to overwrite a key.
    let out = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(["witness", "--generate-key"])
        .arg(&key)
        .args(["--name", WITNESS_NAME])
        .output()
        .unwrap();
    assert!(!out.status.success());

    let good = std::fs::read_to_string(&config).unwrap();
    let run_with = |text: &str| {
        std::fs::write(&config, text).unwrap();
        let out = run_config(&config);
        assert!(!out.status.success(), "accepted:\n{text}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run_with(&good.replace(WITNESS_NAME, "witness.example/other"));
    assert!(err.contains("named"), "{err}");
    let err = run_with(&good.replace(&log_signer().to_vkey(), &vkey));
    assert!(err.contains("vkey"), "{err}");
    let err = run_with(&format!("{good}\nunknown = 1\n"));
    assert!(err.contains("unknown"), "{err}");
    let dup = good.replace(
        &format!("origin = \"{OTHER_ORIGIN}\""),
        &format!("origin = \"{ORIGIN}\""),
    );
    let err = run_with(&dup);
    assert!(err.contains("twice"), "{err}");
}

#[test]
fn serves_https_when_configured() {
    assert!(
        Command::new("openssl").arg("version").output().is_ok(),
        "required test tool missing: openssl"
    );
    let (dir, config, vkey) = setup();
    let (ca, _, _) = tls::server_certificate(dir.path());
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[tls]\ncert = \"tls.crt\"\nkey = \"tls.key\"\n");
    std::fs::write(&config, text).unwrap();
    let mut w = Witness::start(&config);
    assert!(w.url.starts_with("https://127.0.0.1:"), "{}", w.url);
    // Plain HTTP to the HTTPS port gets no answer.
    let plain = w.url.replacen("https://", "http://", 1);
    assert!(client().get(format!("{plain}/healthz")).send().is_err());
    // A client that trusts the CA gets cosignatures.
    w.client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let req = tree_a().request(0, 10);
    let (status, _, body) = w.add(&req);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    check_cosignature(&req.checkpoint, &body, &vkey);
    assert_eq!(w.recorded_size(&tree_a()), 10);
    // A [tls] section whose files are missing is a startup error naming the file.
    let mut text = std::fs::read_to_string(&config).unwrap();
    text = text.replace("tls.crt", "missing.crt");
    std::fs::write(&config, text).unwrap();
    let out = run_config(&config);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing.crt"), "{err}");
}
