//! The distributed mode under faults (docs/distributed.md), everything on 127.0.0.1 with
//! ports picked at run time: a 3-node Garage cluster (the object store), a 3-member etcd
//! cluster, two sequencer candidates and two readers (`signet serve --only log` with
//! `[log.distributed]`), under a bounded load of hashedrekord entries, while a watcher
//! records every checkpoint any member serves. In turn:
//! 1. SIGKILL the sequencer: the standby takes over within 10 s;
//! 2. SIGSTOP the sequencer past its lease, let the standby take over and write, SIGCONT the
//!    old one: it is not the sequencer any more, refuses writes (503) and serves reads;
//! 3. kill one Garage node, then one etcd member: writes and reads go on;
//! 4. kill two Garage nodes, then two etcd members: writes answer 503, and resume once they
//!    are back.
//!
//! At the end every acknowledged entry is in the log exactly once at the index it was
//! acknowledged with, no entry is there twice, the proof of every acknowledgement verifies
//! against a checkpoint whose root is the root of the final tree's first leaves, readers
//! serve valid proofs, and every checkpoint seen during the run is a prefix of the final
//! tree. Garage is the binary `./x` builds into /var/cache/signet/garage (or
//! `$SIGNET_GARAGE`); etcd is Debian's `etcd-server`. A missing tool fails the test.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use signet_proto::merkle::{leaf_hash, root_from_leaves, verify_inclusion, Hash};
use support::free_port;
use support::tlog::{hashedrekord, new_key};

/// A child process restartable with the same command line; killed on drop.
struct Proc {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    log: PathBuf,
    child: Option<Child>,
}

impl Proc {
    fn new(name: &str, program: &Path, args: Vec<String>, dir: &Path) -> Self {
        let mut p = Self {
            name: name.to_owned(),
            program: program.to_owned(),
            args,
            log: dir.join(format!("{name}.log")),
            child: None,
        };
        p.start();
        p
    }

    fn start(&mut self) {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(&self.program)
            .args(&self.args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {} ({}): {e}", self.name, self.program.display()));
        self.child = Some(child);
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([format!("-{sig}"), self.pid().to_string()])
            .status()
            .unwrap();
        assert!(st.success(), "kill -{sig} {}", self.name);
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    fn log_tail(&self) -> String {
        let t = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = t.len().saturating_sub(3000);
        t.get(start..).unwrap_or_default().to_owned()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let t0 = Instant::now();
    while !f() {
        assert!(
            t0.elapsed() < timeout,
            "timed out after {timeout:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    t0.elapsed()
}

fn run_ok(program: &Path, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{} {args:?}: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn etcd_bin() -> PathBuf {
    let p = PathBuf::from("/usr/bin/etcd");
    assert!(p.exists(), "etcd is missing: apt-get install etcd-server");
    p
}

struct Garage {
    nodes: Vec<Proc>,
    s3: Vec<String>,
    key_id: String,
    secret: String,
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    aws_lc_rs::rand::fill(&mut b).unwrap();
    hex::encode(b)
}

fn start_garage(dir: &Path) -> Garage {
    let bin = support::garage_bin();
    let rpc_secret = random_hex(32);
    let mut nodes = Vec::new();
    let mut configs = Vec::new();
    let mut s3 = Vec::new();
    let mut rpc = Vec::new();
    for i in 0..3 {
        let d = dir.join(format!("garage{i}"));
        std::fs::create_dir_all(&d).unwrap();
        let (rp, sp, ap) = (free_port(), free_port(), free_port());
        let cfg = format!(
            "metadata_dir = \"{m}\"\ndata_dir = \"{da}\"\nreplication_factor = 3\n\
             rpc_bind_addr = \"127.0.0.1:{rp}\"\nrpc_public_addr = \"127.0.0.1:{rp}\"\n\
             rpc_secret = \"{rpc_secret}\"\n\n[s3_api]\ns3_region = \"garage\"\n\
             api_bind_addr = \"127.0.0.1:{sp}\"\nroot_domain = \".s3.garage.localhost\"\n\n\
             [admin]\napi_bind_addr = \"127.0.0.1:{ap}\"\n",
            m = d.join("meta").display(),
            da = d.join("data").display(),
        );
        let path = d.join("garage.toml");
        std::fs::write(&path, cfg).unwrap();
        nodes.push(Proc::new(
            &format!("garage{i}"),
            &bin,
            vec!["-c".into(), path.display().to_string(), "server".into()],
            dir,
        ));
        configs.push(path);
        s3.push(format!("http://127.0.0.1:{sp}"));
        rpc.push(rp);
    }
    let c0 = configs[0].display().to_string();
    let mut ids = Vec::new();
    for (i, cfg) in configs.iter().enumerate() {
        let c = cfg.display().to_string();
        let mut id = String::new();
        wait_for(
            &format!("garage{i} node id"),
            Duration::from_secs(30),
            || {
                let out = Command::new(&bin)
                    .args(["-c", &c, "node", "id", "-q"])
                    .output()
                    .unwrap();
                id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                out.status.success() && id.contains('@')
            },
        );
        ids.push(id);
    }
    for id in &ids[1..] {
        run_ok(&bin, &["-c", &c0, "node", "connect", id]);
    }
    // A restarted node reconnects only to its `bootstrap_peers` (not to the peers it knew):
    // every node lists all three from now on, as a production configuration does.
    let peers = ids
        .iter()
        .map(|id| format!("\"{id}\""))
        .collect::<Vec<_>>()
        .join(", ");
    for cfg in &configs {
        let text = std::fs::read_to_string(cfg).unwrap();
        let text = text.replacen(
            "rpc_secret",
            &format!("bootstrap_peers = [{peers}]\nrpc_secret"),
            1,
        );
        std::fs::write(cfg, text).unwrap();
    }
    for id in &ids {
        let short = id.split('@').next().unwrap();
        run_ok(
            &bin,
            &[
                "-c", &c0, "layout", "assign", "-z", "dc1", "-c", "100M", short,
            ],
        );
    }
    run_ok(&bin, &["-c", &c0, "layout", "apply", "--version", "1"]);
    let key_id = format!("GK{}", random_hex(12));
    let secret = random_hex(32);
    run_ok(
        &bin,
        &[
            "-c", &c0, "key", "import", "--yes", &key_id, &secret, "-n", "signet",
        ],
    );
    run_ok(&bin, &["-c", &c0, "bucket", "create", "signet-log"]);
    run_ok(
        &bin,
        &[
            "-c",
            &c0,
            "bucket",
            "allow",
            "--read",
            "--write",
            "--owner",
            "signet-log",
            "--key",
            &key_id,
        ],
    );
    Garage {
        nodes,
        s3,
        key_id,
        secret,
    }
}

struct Etcd {
    members: Vec<Proc>,
    clients: Vec<String>,
}

fn start_etcd(dir: &Path) -> Etcd {
    let bin = etcd_bin();
    let peers: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let clients: Vec<String> = (0..3)
        .map(|_| format!("http://127.0.0.1:{}", free_port()))
        .collect();
    let cluster = peers
        .iter()
        .enumerate()
        .map(|(i, p)| format!("e{i}=http://127.0.0.1:{p}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut members = Vec::new();
    for i in 0..3 {
        let peer = format!("http://127.0.0.1:{}", peers[i]);
        let args = vec![
            "--name".into(),
            format!("e{i}"),
            "--data-dir".into(),
            dir.join(format!("etcd{i}")).display().to_string(),
            "--listen-client-urls".into(),
            clients[i].clone(),
            "--advertise-client-urls".into(),
            clients[i].clone(),
            "--listen-peer-urls".into(),
            peer.clone(),
            "--initial-advertise-peer-urls".into(),
            peer,
            "--initial-cluster".into(),
            cluster.clone(),
            "--initial-cluster-state".into(),
            "new".into(),
            "--initial-cluster-token".into(),
            "signet-test".into(),
            // A loaded 2-core machine: slower heartbeats than the LAN defaults.
            "--heartbeat-interval".into(),
            "200".into(),
            "--election-timeout".into(),
            "2000".into(),
        ];
        members.push(Proc::new(&format!("etcd{i}"), &bin, args, dir));
    }
    let e = Etcd { members, clients };
    wait_for("etcd cluster healthy", Duration::from_secs(60), || {
        Command::new("etcdctl")
            .env("ETCDCTL_API", "3")
            .args(["--endpoints", &e.clients.join(","), "endpoint", "health"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    e
}

impl Etcd {
    /// The node id in the sequencer's `leader` key, if any member answers.
    fn leader(&self) -> Option<String> {
        let out = Command::new("etcdctl")
            .env("ETCDCTL_API", "3")
            .args([
                "--endpoints",
                &self.clients.join(","),
                "--command-timeout=2s",
                "get",
                "/signet/leader",
                "--print-value-only",
            ])
            .output()
            .ok()?;
        let v = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        (out.status.success() && !v.is_empty()).then_some(v)
    }
}

struct Member {
    proc: Proc,
    url: String,
}

fn member_config(
    dir: &Path,
    name: &str,
    role: &str,
    garage: &Garage,
    etcd: &Etcd,
    witness_policy: Option<&Path>,
) -> (PathBuf, String) {
    let data = dir.join(name);
    std::fs::create_dir_all(&data).unwrap();
    let port = free_port();
    let secret = dir.join("s3-secret");
    std::fs::write(&secret, format!("{}\n", garage.secret)).unwrap();
    let quote = |v: &[String]| {
        v.iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let cfg = format!(
        "data_dir = \"{data}\"\nlisten = \"127.0.0.1:{port}\"\nonly = \"log\"\n\
         public_url = \"http://signet-log.test\"\nallow_internal_public_url = true\n\n\
         [log]\nbatch_max_delay_ms = 20\nrekor_v2 = false\n{policy}\n[log.distributed]\nrole = \"{role}\"\n\
         node_id = \"{name}\"\netcd_endpoints = [{etcd}]\ns3_endpoints = [{s3}]\n\
         s3_bucket = \"signet-log\"\ns3_access_key_id = \"{key}\"\n\
         s3_secret_access_key_file = \"{secret}\"\nlease_ttl_secs = 3\n",
        data = data.display(),
        etcd = quote(&etcd.clients),
        s3 = quote(&garage.s3),
        key = garage.key_id,
        secret = secret.display(),
        policy = witness_policy.map_or_else(String::new, |p| format!(
            "witness_policy = \"{}\"\n",
            p.display()
        )),
    );
    let path = data.join("serve.toml");
    std::fs::write(&path, cfg).unwrap();
    (path, format!("http://127.0.0.1:{port}"))
}

fn start_member(
    dir: &Path,
    name: &str,
    role: &str,
    garage: &Garage,
    etcd: &Etcd,
    witness_policy: Option<&Path>,
) -> Member {
    let (cfg, url) = member_config(dir, name, role, garage, etcd, witness_policy);
    let proc = Proc::new(
        name,
        Path::new(env!("CARGO_BIN_EXE_signet")),
        vec!["serve".into(), "--config".into(), cfg.display().to_string()],
        dir,
    );
    let mut m = Member { proc, url };
    m.wait_serving();
    m
}

impl Member {
    fn wait_serving(&mut self) {
        let url = format!("{}/checkpoint", self.url);
        let t0 = Instant::now();
        loop {
            if http().get(&url).send().is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                self.proc.alive(),
                "{} exited: {}",
                self.proc.name,
                self.proc.log_tail()
            );
            assert!(
                t0.elapsed() < Duration::from_secs(90),
                "{} did not serve: {}",
                self.proc.name,
                self.proc.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn http() -> reqwest::blocking::Client {
    http_with(Duration::from_secs(15))
}

fn http_with(timeout: Duration) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .build()
        .unwrap()
}

/// GETs the first hash tile at the member's current size; returns its Cache-Control.
fn first_tile(url: &str) -> String {
    let cp = get(&format!("{url}/checkpoint")).text().unwrap();
    let (size, _) = parse_checkpoint(&cp).unwrap();
    let path = if size >= 256 {
        "tile/0/000".to_owned()
    } else {
        format!("tile/0/000.p/{size}")
    };
    let r = get(&format!("{url}/{path}"));
    let cc = r.headers()["cache-control"].to_str().unwrap().to_owned();
    assert_eq!(
        r.bytes().unwrap().len(),
        32 * usize::try_from(size.min(256)).unwrap()
    );
    cc
}

/// What the log answered for one entry.
#[derive(Debug, Clone)]
struct Ack {
    /// The artifact digest the entry signs (unique to each entry of the test).
    digest: String,
    /// The entry as the log stored it (the 201 answer's `body`); empty for a 409.
    body: Vec<u8>,
    index: u64,
    /// The proof and the checkpoint of the answer (201 only; a 409 has none).
    proof: Option<(u64, Hash, Vec<Hash>)>,
}

fn parse_hash(v: &serde_json::Value) -> Hash {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

/// The artifact digest of a hashedrekord entry (proposed or as stored).
fn digest_of(body: &[u8]) -> String {
    let v: serde_json::Value = signet_proto::json::from_slice(body).unwrap();
    v["spec"]["data"]["hash"]["value"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// POSTs `body` to `url`: `Ok(Some(ack))` for 201 or 409, `Ok(None)` for 503 or a connection
/// error (retry elsewhere), `Err` for anything else.
fn submit(
    client: &reqwest::blocking::Client,
    url: &str,
    body: &[u8],
) -> Result<Option<Ack>, String> {
    let r = match client
        .post(format!("{url}/api/v1/log/entries"))
        .header("Content-Type", "application/json")
        .body(body.to_vec())
        .send()
    {
        Ok(r) => r,
        Err(_) => return Ok(None),
    };
    let status = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    match status {
        201 => {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let e = v.as_object().unwrap().values().next().unwrap();
            let p = &e["verification"]["inclusionProof"];
            Ok(Some(Ack {
                digest: digest_of(body),
                body: B64.decode(e["body"].as_str().unwrap()).unwrap(),
                index: e["logIndex"].as_u64().unwrap(),
                proof: Some((
                    p["treeSize"].as_u64().unwrap(),
                    parse_hash(&p["rootHash"]),
                    p["hashes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(parse_hash)
                        .collect(),
                )),
            }))
        }
        409 => {
            // Already in the log (an earlier attempt committed but its answer was lost): the
            // index is looked up at the end.
            Ok(Some(Ack {
                digest: digest_of(body),
                body: Vec::new(),
                index: u64::MAX,
                proof: None,
            }))
        }
        503 => Ok(None),
        s => Err(format!("{url}: {s} {text}")),
    }
}

#[derive(Default)]
struct Shared {
    acks: Mutex<Vec<Ack>>,
    errors: Mutex<Vec<String>>,
    checkpoints: Mutex<HashSet<(u64, Hash)>>,
    stop: AtomicBool,
}

/// One load thread: unique entries, each retried (same bytes) on the other candidate until
/// the log answers 201 or 409; about 30 entries per second.
fn load(shared: &Shared, writers: &[String], thread: usize) {
    // A stopped sequencer holds a request until this timeout: then the other one is tried.
    let client = http_with(Duration::from_secs(4));
    let key = new_key();
    let mut n = 0u64;
    let mut pending: Option<Vec<u8>> = None;
    let mut turn = thread;
    while !shared.stop.load(Ordering::SeqCst) {
        let body = pending.take().unwrap_or_else(|| {
            n += 1;
            hashedrekord(&key, &format!("load-{thread}-{n}"))
        });
        let mut done = false;
        for k in 0..writers.len() {
            let url = &writers[(turn + k) % writers.len()];
            match submit(&client, url, &body) {
                Ok(Some(ack)) => {
                    shared.acks.lock().unwrap().push(ack);
                    turn = (turn + k) % writers.len();
                    done = true;
                    break;
                }
                Ok(None) => {}
                Err(e) => shared.errors.lock().unwrap().push(e),
            }
        }
        if done {
            std::thread::sleep(Duration::from_millis(30));
        } else {
            pending = Some(body);
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn parse_checkpoint(text: &str) -> Option<(u64, Hash)> {
    let mut lines = text.lines();
    lines.next()?;
    let size = lines.next()?.parse().ok()?;
    let root = B64.decode(lines.next()?).ok()?.try_into().ok()?;
    Some((size, root))
}

/// Records every checkpoint any member serves, every 100 ms.
fn watch(shared: &Shared, urls: &[String]) {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    while !shared.stop.load(Ordering::SeqCst) {
        for u in urls {
            if let Ok(r) = client.get(format!("{u}/checkpoint")).send() {
                if r.status() == 200 {
                    if let Some(c) = parse_checkpoint(&r.text().unwrap_or_default()) {
                        shared.checkpoints.lock().unwrap().insert(c);
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn acked(shared: &Shared) -> usize {
    shared.acks.lock().unwrap().len()
}

/// Waits until the load has `more` new acknowledgements.
fn progresses(shared: &Shared, more: usize, what: &str) -> Duration {
    let base = acked(shared);
    wait_for(what, Duration::from_secs(20), || {
        acked(shared) >= base + more
    })
}

/// A fresh entry posted to each candidate until one answers 201; how long that took.
fn probe_write(writers: &[String], tag: &str, timeout: Duration) -> Duration {
    let key = new_key();
    let body = hashedrekord(&key, tag);
    let client = http();
    wait_for(&format!("a write ({tag})"), timeout, || {
        writers
            .iter()
            .any(|u| matches!(submit(&client, u, &body), Ok(Some(a)) if a.proof.is_some()))
    })
}

/// Posts fresh entries to whichever candidate is the sequencer until one answers 503.
fn writes_refused(etcd: &Etcd, members: &HashMap<String, String>, writers: &[String], tag: &str) {
    let client = http();
    let key = new_key();
    let mut k = 0;
    wait_for(
        &format!("writes refused ({tag})"),
        Duration::from_secs(30),
        || {
            k += 1;
            let body = hashedrekord(&key, &format!("{tag}-{k}"));
            let targets: Vec<String> = etcd
                .leader()
                .and_then(|l| members.get(&l).cloned())
                .map_or_else(|| writers.to_vec(), |u| vec![u]);
            targets.iter().all(|u| {
                let r = client
                    .post(format!("{u}/api/v1/log/entries"))
                    .header("Content-Type", "application/json")
                    .body(body.clone())
                    .send();
                r.is_ok_and(|r| r.status() == 503)
            })
        },
    );
}

/// The witness's name in its cosignature lines.
const WITNESS_NAME: &str = "witness.test/w1";

/// A `signet witness` for the log, and the witness policy (quorum 1) the members use.
struct Witness {
    proc: Proc,
    policy: PathBuf,
    state_dir: PathBuf,
    origin: String,
}

impl Witness {
    /// Starts a witness of the log served at `log_url` (its origin and note key read there).
    fn start(dir: &Path, log_url: &str) -> Self {
        let signet = Path::new(env!("CARGO_BIN_EXE_signet"));
        let cp = get(&format!("{log_url}/checkpoint")).text().unwrap();
        let origin = cp.lines().next().unwrap().to_owned();
        let vkey = get(&format!("{log_url}/signet/v1/log_vkey"))
            .text()
            .unwrap();
        let key = dir.join("witness.key");
        let out = Command::new(signet)
            .args(["witness", "--generate-key"])
            .arg(&key)
            .args(["--name", WITNESS_NAME])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let witness_vkey = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        let port = free_port();
        let state_dir = dir.join("witness-state");
        let cfg = dir.join("witness.toml");
        std::fs::write(
            &cfg,
            format!(
                "listen = \"127.0.0.1:{port}\"\nname = \"{WITNESS_NAME}\"\nkey = {:?}\n\
                 state_dir = {:?}\n\n[[log]]\norigin = \"{origin}\"\nvkey = \"{}\"\n",
                key.display().to_string(),
                state_dir.display().to_string(),
                vkey.trim()
            ),
        )
        .unwrap();
        let mut proc = Proc::new(
            "witness",
            signet,
            vec![
                "witness".into(),
                "--config".into(),
                cfg.display().to_string(),
            ],
            dir,
        );
        wait_for("the witness listens", Duration::from_secs(30), || {
            assert!(proc.alive(), "the witness exited: {}", proc.log_tail());
            std::fs::read_to_string(&proc.log)
                .is_ok_and(|t| t.contains("signet witness listening on"))
        });
        let policy = dir.join("witnesses.policy");
        std::fs::write(
            &policy,
            format!("witness w1 {witness_vkey} http://127.0.0.1:{port}\nquorum 1\n"),
        )
        .unwrap();
        Self {
            proc,
            policy,
            state_dir,
            origin,
        }
    }

    /// The size and root the witness last cosigned (its state file).
    fn state(&self) -> (u64, Hash) {
        let name = hex::encode(aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            self.origin.as_bytes(),
        ));
        let v: serde_json::Value = signet_proto::json::from_slice(
            &std::fs::read(self.state_dir.join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        (
            v["state"]["size"].as_u64().unwrap(),
            B64.decode(v["state"]["root"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
        )
    }

    /// Every request the witness refused: (old size, why), from its log lines.
    fn refusals(&self) -> Vec<(u64, String)> {
        std::fs::read_to_string(&self.proc.log)
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["fields"]["message"] == "add-checkpoint rejected")
            .map(|v| {
                (
                    v["fields"]["old_size"].as_u64().unwrap(),
                    v["fields"]["rejection"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// How many checkpoints the witness cosigned.
    fn cosigned(&self) -> usize {
        std::fs::read_to_string(&self.proc.log)
            .unwrap()
            .lines()
            .filter(|l| l.contains("\"cosigned\""))
            .count()
    }
}

fn get(url: &str) -> reqwest::blocking::Response {
    let r = http().get(url).send().unwrap();
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r
}

/// Two of the three etcd members (`of_etcd`) or Garage nodes: a quorum.
fn quorum<'a>(garage: &'a mut Garage, etcd: &'a mut Etcd, of_etcd: bool) -> &'a mut [Proc] {
    if of_etcd {
        &mut etcd.members[1..]
    } else {
        &mut garage.nodes[1..]
    }
}

#[test]
fn distributed_log_survives_faults() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    // SIGNET_KEEP_TEST_DIR=1 keeps every process's log (in DIR/*.log) for a post-mortem.
    if std::env::var_os("SIGNET_KEEP_TEST_DIR").is_some() {
        eprintln!("keeping {}", dir.display());
        std::mem::forget(tmp);
    }
    let dir = dir.as_path();
    let mut garage = start_garage(dir);
    let mut etcd = start_etcd(dir);

    // The first candidate creates the log; the others share its keys. A witness is given the
    // log's origin and note key, then every member runs with the witness policy (seq-a
    // restarted with it): every checkpoint served from then on carries its cosignature.
    let mut a = start_member(dir, "seq-a", "sequencer", &garage, &etcd, None);
    for other in ["seq-b", "reader-1", "reader-2"] {
        let to = dir.join(other).join("log");
        std::fs::create_dir_all(&to).unwrap();
        for f in ["log_key.pem", "witness_key.pem", "ct_key.pem"] {
            std::fs::copy(dir.join("seq-a/log").join(f), to.join(f)).unwrap();
        }
    }
    let witness = Witness::start(dir, &a.url);
    a.proc.kill();
    // (A new port: the killed process's may linger in TIME_WAIT.)
    a.url = member_config(
        dir,
        "seq-a",
        "sequencer",
        &garage,
        &etcd,
        Some(&witness.policy),
    )
    .1;
    a.proc.start();
    a.wait_serving();
    let cp = get(&format!("{}/checkpoint", a.url)).text().unwrap();
    assert!(cp.contains(&format!("— {WITNESS_NAME} ")), "{cp}");
    let policy = Some(witness.policy.as_path());
    let mut b = start_member(dir, "seq-b", "sequencer", &garage, &etcd, policy);
    let r1 = start_member(dir, "reader-1", "reader", &garage, &etcd, policy);
    let r2 = start_member(dir, "reader-2", "reader", &garage, &etcd, policy);
    assert_eq!(etcd.leader().as_deref(), Some("seq-a"));
    let writers = vec![a.url.clone(), b.url.clone()];
    let by_name: HashMap<String, String> = [
        ("seq-a".to_owned(), a.url.clone()),
        ("seq-b".to_owned(), b.url.clone()),
    ]
    .into();
    let everyone = vec![a.url.clone(), b.url.clone(), r1.url.clone(), r2.url.clone()];

    // A reader refuses writes; a standby too.
    let client = http();
    let body = hashedrekord(&new_key(), "to a reader");
    for u in [&r1.url, &b.url] {
        let r = client
            .post(format!("{u}/api/v1/log/entries"))
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .unwrap();
        assert_eq!(r.status(), 503, "{u}");
        assert!(r.headers().contains_key("retry-after"));
    }

    // `signet monitor` follows a reader throughout: every checkpoint's signature, consistency
    // with the last one, every new entry hashed to the signed root. An integrity alert stops
    // it (exit 3); it must still be running at the end, and a last pass must be clean.
    let monitor_args = |once: bool| {
        let mut v: Vec<String> = [
            "monitor",
            "--log",
            &r1.url,
            "--trusted-root",
            &dir.join("seq-a/trusted_root.json").display().to_string(),
            "--state",
            &dir.join("monitor.json").display().to_string(),
            "--unreachable-after",
            "10m",
            "--witness-policy",
            &witness.policy.display().to_string(),
        ]
        .map(String::from)
        .into();
        if once {
            v.push("--once".into());
        } else {
            v.extend(["--interval".into(), "1s".into()]);
        }
        v
    };
    let signet = Path::new(env!("CARGO_BIN_EXE_signet"));
    let mut monitor = Proc::new("monitor", signet, monitor_args(false), dir);

    let shared = Arc::new(Shared::default());
    let mut threads = Vec::new();
    for t in 0..2 {
        let (s, w) = (Arc::clone(&shared), writers.clone());
        threads.push(std::thread::spawn(move || load(&s, &w, t)));
    }
    {
        let (s, u) = (Arc::clone(&shared), everyone.clone());
        threads.push(std::thread::spawn(move || watch(&s, &u)));
    }
    progresses(&shared, 40, "initial load");

    // Readers serve what the sequencer wrote, with cache headers.
    // (They follow the applied head every 300 ms.)
    let served = acked(&shared) as u64;
    wait_for(
        "a reader serves the acknowledged entries",
        Duration::from_secs(5),
        || {
            let cp = get(&format!("{}/checkpoint", r1.url)).text().unwrap();
            parse_checkpoint(&cp).unwrap().0 >= served
        },
    );
    let cc = first_tile(&r2.url);
    assert!(cc.contains("max-age"), "{cc}");

    // 1. SIGKILL the sequencer.
    let killed_at = Instant::now();
    a.proc.kill();
    let took = probe_write(&writers, "after SIGKILL", Duration::from_secs(10));
    eprintln!("failover after SIGKILL: {:?}", killed_at.elapsed());
    assert!(took <= Duration::from_secs(10));
    assert_eq!(etcd.leader().as_deref(), Some("seq-b"));
    // An entry acknowledged by the killed sequencer, submitted again to the new one: 409.
    let before = shared.acks.lock().unwrap()[0].clone();
    let again = submit(&client, &b.url, &before.body).unwrap().unwrap();
    assert!(
        again.proof.is_none(),
        "an entry acknowledged before the failover was added twice"
    );
    a.proc.start();
    a.wait_serving();
    progresses(&shared, 20, "load after SIGKILL failover");

    // 2. SIGSTOP the sequencer (seq-b) past its lease; seq-a takes over; SIGCONT.
    b.proc.signal("STOP");
    let stopped = Instant::now();
    probe_write(
        &writers[..1],
        "while the old sequencer is stopped",
        Duration::from_secs(15),
    );
    eprintln!("failover after SIGSTOP: {:?}", stopped.elapsed());
    assert_eq!(etcd.leader().as_deref(), Some("seq-a"));
    progresses(&shared, 20, "load with the old sequencer stopped");
    b.proc.signal("CONT");
    std::thread::sleep(Duration::from_secs(2));
    assert!(b.proc.alive(), "seq-b died: {}", b.proc.log_tail());
    assert_eq!(etcd.leader().as_deref(), Some("seq-a"));
    let r = client
        .post(format!("{}/api/v1/log/entries", b.url))
        .header("Content-Type", "application/json")
        .body(hashedrekord(&new_key(), "to the deposed sequencer"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 503, "the deposed sequencer accepted a write");
    b.wait_serving();
    progresses(&shared, 20, "load after SIGCONT");

    // 3. One Garage node, then one etcd member, down: writes and reads go on.
    garage.nodes[0].kill();
    progresses(&shared, 30, "load with one Garage node down");
    get(&format!("{}/checkpoint", r1.url));
    first_tile(&r2.url);
    garage.nodes[0].start();
    etcd.members[0].kill();
    progresses(&shared, 30, "load with one etcd member down");
    get(&format!("{}/checkpoint", r2.url));
    etcd.members[0].start();
    std::thread::sleep(Duration::from_secs(2));

    // 4. A quorum of Garage nodes down, then a quorum of etcd members: writes stop with 503,
    // then resume.
    for (name, tag) in [("Garage", "garage"), ("etcd", "etcd")] {
        let of_etcd = tag == "etcd";
        quorum(&mut garage, &mut etcd, of_etcd)
            .iter_mut()
            .for_each(Proc::kill);
        writes_refused(&etcd, &by_name, &writers, &format!("{tag} quorum lost"));
        quorum(&mut garage, &mut etcd, of_etcd)
            .iter_mut()
            .for_each(Proc::start);
        let t = probe_write(&writers, &format!("{tag} back"), Duration::from_secs(60));
        eprintln!("writes back {t:?} after {name}'s quorum returned");
        progresses(&shared, 20, &format!("load after {name}'s quorum returned"));
    }

    shared.stop.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().unwrap();
    }
    let errors = shared.errors.lock().unwrap().clone();
    assert!(errors.is_empty(), "unexpected answers: {errors:?}");
    assert!(
        monitor.alive(),
        "the monitor stopped during the run: {}",
        monitor.log_tail()
    );
    monitor.kill();
    let last = Command::new(signet)
        .args(monitor_args(true))
        .output()
        .unwrap();
    assert!(
        last.status.success(),
        "the monitor's last pass: {:?} {}{}",
        last.status,
        String::from_utf8_lossy(&last.stdout),
        String::from_utf8_lossy(&last.stderr)
    );
    let passes = std::fs::read_to_string(&monitor.log).unwrap();
    assert!(
        passes.contains("checkpoint"),
        "the monitor verified nothing: {passes}"
    );

    // The final tree, once both readers follow it (they poll every 300 ms): every leaf, from
    // the entry bundles.
    std::thread::sleep(Duration::from_millis(1500));
    let mut last = (0, [0u8; 32]);
    wait_for("readers agree", Duration::from_secs(10), || {
        let c1 = parse_checkpoint(&get(&format!("{}/checkpoint", r1.url)).text().unwrap());
        let c2 = parse_checkpoint(&get(&format!("{}/checkpoint", r2.url)).text().unwrap());
        last = c1.unwrap();
        c1 == c2 && last.0 > 0 && {
            std::thread::sleep(Duration::from_millis(700));
            true
        }
    });
    let (size, root) =
        parse_checkpoint(&get(&format!("{}/checkpoint", r2.url)).text().unwrap()).unwrap();
    assert_eq!((size, root), last, "the log grew after the load stopped");
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    let mut start = 0u64;
    while start < size {
        let width = u16::try_from((size - start).min(256)).unwrap();
        let path = signet_proto::tiles::entry_bundle_path(start / 256, width);
        let data = get(&format!("{}/{path}", r1.url)).bytes().unwrap();
        bodies.extend(signet_proto::tiles::decode_entry_bundle(&data).unwrap());
        start += u64::from(width);
    }
    assert_eq!(bodies.len() as u64, size);
    let leaves: Vec<Hash> = bodies.iter().map(|b| leaf_hash(b)).collect();
    assert_eq!(
        root_from_leaves(&leaves),
        root,
        "the final checkpoint's root"
    );
    let mut at: HashMap<String, u64> = HashMap::new();
    for (i, b) in bodies.iter().enumerate() {
        assert!(
            at.insert(digest_of(b), i as u64).is_none(),
            "entry {i} is in the log twice"
        );
    }

    // Every acknowledgement: present exactly once, where it was acknowledged, with a proof
    // against a checkpoint of the final tree.
    let acks = shared.acks.lock().unwrap().clone();
    let mut roots: HashMap<u64, Hash> = HashMap::new();
    let mut root_at = |n: u64| {
        *roots
            .entry(n)
            .or_insert_with(|| root_from_leaves(&leaves[..usize::try_from(n).unwrap()]))
    };
    for ack in &acks {
        let index = *at
            .get(&ack.digest)
            .unwrap_or_else(|| panic!("acknowledged entry (index {}) missing", ack.index));
        if let Some((tree_size, ack_root, proof)) = &ack.proof {
            assert_eq!(
                index, ack.index,
                "acknowledged at {} but at {index}",
                ack.index
            );
            assert_eq!(
                ack.body,
                bodies[usize::try_from(index).unwrap()],
                "entry {index}"
            );
            verify_inclusion(&leaf_hash(&ack.body), index, *tree_size, proof, ack_root).unwrap();
            assert_eq!(
                root_at(*tree_size),
                *ack_root,
                "the checkpoint of size {tree_size} acknowledged is not a prefix of the final tree"
            );
        }
    }
    let conflicts = acks.iter().filter(|a| a.proof.is_none()).count();
    eprintln!(
        "{} entries acknowledged ({conflicts} as 409 after a lost answer), final size {size}",
        acks.len()
    );

    // Every checkpoint any member served during the run is a prefix of the final tree.
    let seen = shared.checkpoints.lock().unwrap().clone();
    assert!(seen.len() > 10, "only {} checkpoints seen", seen.len());
    for (n, r) in &seen {
        assert_eq!(
            root_at(*n),
            *r,
            "a checkpoint of size {n} served during the run forks"
        );
    }

    // The witness watched throughout: it cosigned the final tree (the readers' checkpoint
    // carries its cosignature), its state is a checkpoint of the final tree, and it never
    // refused a checkpoint as inconsistent with what it had cosigned (a fork: a proof that
    // does not verify, or another root at the size it holds). A 409 for a stale old size
    // (a new sequencer behind the witness) is the protocol's normal way to learn its size.
    let cp = get(&format!("{}/checkpoint", r1.url)).text().unwrap();
    assert!(
        cp.contains(&format!("— {WITNESS_NAME} ")),
        "the final checkpoint is not cosigned: {cp}"
    );
    let (wsize, wroot) = witness.state();
    assert_eq!(
        (wsize, wroot),
        (size, root),
        "the witness's latest cosigned checkpoint is not the final tree"
    );
    let refusals = witness.refusals();
    let forks: Vec<_> = refusals
        .iter()
        .filter(|(old, why)| {
            !why.starts_with("conflict: the witness last cosigned size ")
                || why.ends_with(&format!(" {old}"))
        })
        .collect();
    assert!(
        forks.is_empty(),
        "the witness refused checkpoints as inconsistent: {forks:?}"
    );
    let cosigned = witness.cosigned();
    assert!(
        cosigned > 10,
        "the witness cosigned only {cosigned} checkpoints"
    );
    eprintln!(
        "witness: {cosigned} checkpoints cosigned, {} stale-size 409s, final state size {wsize}",
        refusals.len()
    );

    // Readers serve proofs (every 7th entry, alternating readers).
    for i in (0..size).step_by(7) {
        let reader = if i % 2 == 0 { &r1.url } else { &r2.url };
        let v: serde_json::Value = get(&format!("{reader}/api/v1/log/entries?logIndex={i}"))
            .json()
            .unwrap();
        let e = v.as_object().unwrap().values().next().unwrap();
        let p = &e["verification"]["inclusionProof"];
        let n = p["treeSize"].as_u64().unwrap();
        let proof: Vec<Hash> = p["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(parse_hash)
            .collect();
        let r = parse_hash(&p["rootHash"]);
        verify_inclusion(&leaves[usize::try_from(i).unwrap()], i, n, &proof, &r).unwrap();
        assert_eq!(root_at(n), r);
    }
    drop((a, b, r1, r2));
    drop((garage, etcd, witness));
}

/// Posts `bodies` to `url` from `clients` threads (each entry once, 201 expected); the rate
/// (entries/s) and the 50th and 99th percentile latencies.
fn ingest(url: &str, bodies: Vec<Vec<u8>>, clients: usize) -> (f64, Duration, Duration) {
    let n = bodies.len();
    let queue = Arc::new(Mutex::new(bodies));
    let t0 = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (q, url) = (Arc::clone(&queue), url.to_owned());
            std::thread::spawn(move || {
                let client = http();
                let mut lat = Vec::new();
                loop {
                    let Some(body) = q.lock().unwrap().pop() else {
                        return lat;
                    };
                    let t = Instant::now();
                    let r = client
                        .post(format!("{url}/api/v1/log/entries"))
                        .header("Content-Type", "application/json")
                        .body(body)
                        .send()
                        .unwrap();
                    assert_eq!(r.status(), 201, "{}", r.text().unwrap_or_default());
                    lat.push(t.elapsed());
                }
            })
        })
        .collect();
    let mut lat: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let rate = n as f64 / t0.elapsed().as_secs_f64();
    lat.sort();
    (rate, lat[lat.len() / 2], lat[lat.len() * 99 / 100])
}

/// The benchmark of BENCHMARKS.md ("Distributed mode"): HTTP ingest into a distributed
/// sequencer (3 Garage nodes, 3 etcd members, all on this machine) beside an embedded
/// RocksDB `serve --only log` in the same run (same batching, same load, alternating), then
/// failover times (SIGKILL of the sequencer until the standby answers a write).
/// `DIST_BENCH_ENTRIES` (default 2000) entries per run, `DIST_BENCH_CLIENTS` (32) clients.
/// The benchmarks' peer: `serve --only log` over RocksDB with the same batching, under
/// `dir/rocks`, serving.
fn rocks_peer(dir: &Path) -> Member {
    let rocks_dir = dir.join("rocks");
    std::fs::create_dir_all(&rocks_dir).unwrap();
    let port = free_port();
    let cfg = rocks_dir.join("serve.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = \"{}\"\nlisten = \"127.0.0.1:{port}\"\nonly = \"log\"\n\
             public_url = \"http://signet-log.test\"\nallow_internal_public_url = true\n\n\
             [log]\nbatch_max_delay_ms = 20\nrekor_v2 = false\n",
            rocks_dir.display()
        ),
    )
    .unwrap();
    let mut rocks = Member {
        proc: Proc::new(
            "rocks",
            Path::new(env!("CARGO_BIN_EXE_signet")),
            vec!["serve".into(), "--config".into(), cfg.display().to_string()],
            dir,
        ),
        url: format!("http://127.0.0.1:{port}"),
    };
    rocks.wait_serving();
    rocks
}

/// The benchmark setting `$k`, else `d`.
fn env_or(k: &str, d: usize) -> usize {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

#[test]
#[ignore = "benchmark; run by just bench-slow (BENCHMARKS.md)"]
fn distributed_ingest_beside_rocksdb() {
    let (entries, clients) = (
        env_or("DIST_BENCH_ENTRIES", 2000),
        env_or("DIST_BENCH_CLIENTS", 32),
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let garage = start_garage(dir);
    let etcd = start_etcd(dir);
    let mut a = start_member(dir, "seq-a", "sequencer", &garage, &etcd, None);
    let to = dir.join("seq-b/log");
    std::fs::create_dir_all(&to).unwrap();
    for f in ["log_key.pem", "witness_key.pem", "ct_key.pem"] {
        std::fs::copy(dir.join("seq-a/log").join(f), to.join(f)).unwrap();
    }
    let mut b = start_member(dir, "seq-b", "sequencer", &garage, &etcd, None);
    // The peer: the same server and batching over RocksDB.
    let rocks = rocks_peer(dir);
    let keys: Vec<_> = (0..8).map(|_| new_key()).collect();
    let mut round = 0;
    let mut bodies = |tag: &str| -> Vec<Vec<u8>> {
        round += 1;
        (0..entries)
            .map(|i| hashedrekord(&keys[i % keys.len()], &format!("{tag}-{round}-{i}")))
            .collect()
    };
    for run in 0..2 {
        for (name, url) in [
            ("distributed", a.url.clone()),
            ("rocksdb", rocks.url.clone()),
        ] {
            let (rate, p50, p99) = ingest(&url, bodies(name), clients);
            eprintln!(
                "BENCH run {run} {name}: {entries} entries, {clients} clients: {rate:.0} entries/s, p50 {p50:?}, p99 {p99:?}"
            );
        }
    }
    // Failover: SIGKILL the sequencer (lease TTL 3 s), time until the standby answers a write.
    let members = [&mut a, &mut b];
    for k in 0..3 {
        let leader = etcd.leader().unwrap();
        let (dead, alive) = if leader == "seq-a" { (0, 1) } else { (1, 0) };
        let t0 = Instant::now();
        members[dead].proc.kill();
        probe_write(
            &[members[alive].url.clone()],
            &format!("failover {k}"),
            Duration::from_secs(20),
        );
        eprintln!("BENCH failover {k}: {:?} (lease TTL 3 s)", t0.elapsed());
        members[dead].proc.start();
        members[dead].wait_serving();
    }
    drop((a, b, rocks, garage, etcd));
}

/// GETs `paths` round-robin over `urls` from `clients` threads (keep-alive) for `secs`
/// seconds; every answer must be 200. The rate (reads/s) and the 50th and 99th percentile
/// latencies.
fn reads(
    urls: &[String],
    paths: &[String],
    clients: usize,
    secs: u64,
) -> (f64, Duration, Duration) {
    let stop = Instant::now() + Duration::from_secs(secs);
    let t0 = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (urls, paths) = (urls.to_vec(), paths.to_vec());
            std::thread::spawn(move || {
                let client = http();
                let mut lat = Vec::new();
                let mut k = c * 7919;
                while Instant::now() < stop {
                    k += 1;
                    let url = format!("{}/{}", urls[k % urls.len()], paths[k % paths.len()]);
                    let t = Instant::now();
                    let r = client.get(&url).send().unwrap();
                    assert_eq!(r.status(), 200, "{url}");
                    r.bytes().unwrap();
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let rate = lat.len() as f64 / t0.elapsed().as_secs_f64();
    lat.sort();
    (rate, lat[lat.len() / 2], lat[lat.len() * 99 / 100])
}

/// The read benchmark of BENCHMARKS.md ("Distributed mode"): proof reads
/// (`GET /api/v1/log/entries?logIndex=`: entry, inclusion proof, SET) and tile reads
/// (`/tile/...`, full and partial hash tiles, entry bundles) against one distributed reader,
/// then two readers round-robin, then a RocksDB `serve --only log` holding the same entries,
/// in the same run. `DIST_READ_ENTRIES` (default 2000) entries are written first through the
/// sequencer (and the same to RocksDB); `DIST_READ_CLIENTS` (16) clients read for
/// `DIST_READ_SECS` (10) seconds per case. On a 2-core machine the two readers share the same
/// cores with everything else: the 2-reader/1-reader ratio measures the design's overheads
/// (the load balancing, two caches to fill), not scaling.
#[test]
#[ignore = "benchmark; run by just bench-slow (BENCHMARKS.md)"]
fn distributed_reads_with_one_and_two_readers() {
    let (entries, clients, secs) = (
        env_or("DIST_READ_ENTRIES", 2000),
        env_or("DIST_READ_CLIENTS", 16),
        env_or("DIST_READ_SECS", 10) as u64,
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let garage = start_garage(dir);
    let etcd = start_etcd(dir);
    let a = start_member(dir, "seq-a", "sequencer", &garage, &etcd, None);
    for other in ["reader-1", "reader-2"] {
        let to = dir.join(other).join("log");
        std::fs::create_dir_all(&to).unwrap();
        for f in ["log_key.pem", "witness_key.pem", "ct_key.pem"] {
            std::fs::copy(dir.join("seq-a/log").join(f), to.join(f)).unwrap();
        }
    }
    let r1 = start_member(dir, "reader-1", "reader", &garage, &etcd, None);
    let r2 = start_member(dir, "reader-2", "reader", &garage, &etcd, None);
    let rocks = rocks_peer(dir);
    let keys: Vec<_> = (0..8).map(|_| new_key()).collect();
    let bodies: Vec<Vec<u8>> = (0..entries)
        .map(|i| hashedrekord(&keys[i % keys.len()], &format!("read-{i}")))
        .collect();
    let (rate, _, _) = ingest(&a.url, bodies.clone(), 32);
    eprintln!("filled the distributed log: {entries} entries at {rate:.0} entries/s");
    ingest(&rocks.url, bodies, 32);
    let size = entries as u64;
    wait_for(
        "both readers serve every entry",
        Duration::from_secs(30),
        || {
            [&r1.url, &r2.url].iter().all(|u| {
                parse_checkpoint(&get(&format!("{u}/checkpoint")).text().unwrap())
                    .is_some_and(|(n, _)| n >= size)
            })
        },
    );
    let mut x = 12345u64;
    let proofs: Vec<String> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            format!("api/v1/log/entries?logIndex={}", x % size)
        })
        .collect();
    let mut tiles = Vec::new();
    for t in 0..size / 256 {
        tiles.push(
            signet_proto::tiles::TileId {
                level: 0,
                index: t,
                width: 256,
            }
            .path(),
        );
        tiles.push(signet_proto::tiles::entry_bundle_path(t, 256));
    }
    let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    for (what, paths) in [("proof", &proofs), ("tile", &tiles)] {
        for (name, urls) in [
            ("1 reader", vec![r1.url.clone()]),
            ("2 readers", vec![r1.url.clone(), r2.url.clone()]),
            ("rocksdb", vec![rocks.url.clone()]),
        ] {
            let (rate, p50, p99) = reads(&urls, paths, clients, secs);
            eprintln!(
                "BENCH {what} reads, {name}: {rate:.0} reads/s, p50 {p50:?}, p99 {p99:?} ({clients} clients, {secs} s, {size} entries; load {})",
                load().trim()
            );
        }
    }
    drop((a, r1, r2, rocks, garage, etcd));
}
