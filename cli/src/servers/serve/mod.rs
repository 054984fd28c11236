//! `signet serve`: the CA and the log in one process (the default), or one role each
//! (`--only log`, `--only ca`), with embedded defaults: a data directory holding RocksDB and
//! keys generated on first start, a loopback listen address, and the trust files written
//! out and served.
//!
//! This module wires the libraries together; the log lives in `signet-log` and the CA in
//! `signet-ca`.

pub(crate) mod ca_admin;
pub(crate) mod ca_init;
mod config;
pub(crate) mod ct;
pub(crate) mod key_rotate;
pub(crate) mod keys_admin;
pub(crate) mod log_admin;
mod log_shards;
pub(crate) mod rekor_v2;
mod trust;
mod tsa;
mod tuf;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use clap::Args;
use serde_json::Value;
use signet_ca::sct_source::{HttpSctSource, SctFuture, SctSource, SctSourceError};
use signet_proto::keys::PublicKey;
use signet_proto::sct::{AddChainRequest, Sct};

use crate::fsutil::{write_private, Existing};
pub(crate) use config::{CaKey, Config, IssuerEntry, Roles};

/// Arguments of `signet serve`.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// TOML configuration file; command-line flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data directory (RocksDB, keys, trust files). Default ./signet-data.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Listen address, HOST:PORT (an IP address or a host name such as localhost). Default
    /// 127.0.0.1:3000; port 0 picks a free port.
    #[arg(long, value_name = "ADDR")]
    listen: Option<crate::servers::listen::ListenAddr>,
    /// Accept ID tokens from this issuer (email type, audience `sigstore`). Repeatable.
    #[arg(long = "oidc-issuer", value_name = "URL")]
    oidc_issuers: Vec<String>,
    /// Run only one role.
    #[arg(long, value_enum)]
    only: Option<Roles>,
    /// The base URL clients outside reach this server at (`public_url`); it fixes the
    /// log's checkpoint origin, so set it before the first start.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Accept a loopback or cluster-internal public URL (`allow_internal_public_url`): for
    /// tests and single-machine use.
    #[arg(long, env = "SIGNET_ALLOW_INTERNAL_PUBLIC_URL")]
    allow_internal_public_url: bool,
    /// Print the effective configuration as TOML and exit, followed (commented out) by every
    /// optional key it leaves unset: a template for --config (docs/CONFIG.md).
    #[arg(long)]
    print_config: bool,
    /// Validate the configuration and exit (0 when valid; warnings on stderr).
    #[arg(long)]
    check_config: bool,
    #[command(flatten)]
    log: crate::servers::logging::LogArgs,
}

/// Runs `signet serve`.
pub(crate) fn run(args: ServeArgs) -> anyhow::Result<std::process::ExitCode> {
    let config = effective_config(&args)?;
    if args.check_config {
        config.validate()?;
        if let Some(warning) = config.no_issuer_warning() {
            eprintln!("signet: warning: {warning}");
        }
        println!(
            "{}: configuration is valid",
            args.config
                .as_deref()
                .map_or_else(|| "defaults".to_owned(), |p| p.display().to_string())
        );
        return Ok(std::process::ExitCode::SUCCESS);
    }
    if args.print_config {
        print!("{}", config.to_template());
        return Ok(std::process::ExitCode::SUCCESS);
    }
    config.validate()?;
    args.log.init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(config))?;
    Ok(std::process::ExitCode::SUCCESS)
}

fn effective_config(args: &ServeArgs) -> anyhow::Result<Config> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Config::from_toml(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => Config::default(),
    };
    if let Some(d) = &args.data_dir {
        config.data_dir.clone_from(d);
    }
    if let Some(l) = &args.listen {
        config.listen.clone_from(l);
    }
    if let Some(o) = args.only {
        config.only = o;
    }
    if let Some(u) = &args.public_url {
        config.public_url = Some(u.clone());
    }
    if args.allow_internal_public_url {
        config.allow_internal_public_url = true;
    }
    for url in &args.oidc_issuers {
        config.ca.issuers.push(IssuerEntry {
            url: url.clone(),
            audience: "sigstore".to_owned(),
            issuer_type: "email".to_owned(),
            subject_domain: None,
            jwks_file: None,
            ca_file: None,
            server_url: None,
        });
    }
    Ok(config)
}

/// What `serve` prints after its address: where the trust files are and what to run next.
fn next_steps(config: &Config, public_url: &str) -> String {
    let dir = config.data_dir.display();
    format!(
        "trust files: {dir}/trusted_root.json, {dir}/signing_config.json, \
         {dir}/trust_config.json (also served at {public_url}{}, {}, {})\n\
         next: signet sign REGISTRY/REPO:TAG --signing-config {dir}/signing_config.json\n\
         \x20     signet verify REGISTRY/REPO:TAG --trusted-root {dir}/trusted_root.json \
         --certificate-identity ID --certificate-oidc-issuer ISSUER",
        trust::TRUSTED_ROOT_PATH,
        trust::SIGNING_CONFIG_PATH,
        trust::TRUST_CONFIG_PATH,
    )
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn rfc3339(unix: i64) -> anyhow::Result<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(unix)?;
    Ok(t.format(&time::format_description::well_known::Rfc3339)?)
}

/// The time this data directory was first used: the start of every validity window in the
/// trust files. Recorded once, reused after.
fn created_at(data_dir: &Path) -> anyhow::Result<i64> {
    let path = data_dir.join("created_at");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return text
            .trim()
            .parse()
            .with_context(|| format!("{} is not a Unix time", path.display()));
    }
    // A minute of slack for clients whose clocks run a little behind ours.
    let t = now_unix() - 60;
    write_private(&path, format!("{t}\n").as_bytes(), Existing::Replace)?;
    Ok(t)
}

/// The CA's signer and chain (issuing certificate first, root last).
struct CaMaterial {
    signer: Arc<dyn signet_ca::signer::CaSigner>,
    chain_der: Vec<Vec<u8>>,
    root_pem_path: Option<PathBuf>,
}

fn read_chain(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let chain: Vec<Vec<u8>> = pem::parse_many(&text)
        .with_context(|| format!("parsing {}", path.display()))?
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(|p| p.contents().to_vec())
        .collect();
    if chain.is_empty() {
        bail!("{}: no CERTIFICATE blocks", path.display());
    }
    Ok(chain)
}

/// Writes a new random password (24 bytes, base64) to `path`, readable by its owner only: the
/// password of a key this server generates and keeps beside it.
fn new_password_file(path: &Path, existing: Existing) -> anyhow::Result<()> {
    let mut pw = [0u8; 24];
    aws_lc_rs::rand::fill(&mut pw).map_err(|_| anyhow::anyhow!("no randomness"))?;
    write_private(
        path,
        base64::engine::general_purpose::STANDARD
            .encode(pw)
            .as_bytes(),
        existing,
    )
}

/// Where an encrypted key's password comes from: the file if one is named, else the
/// environment variable; `None` when neither is set.
fn password_source(
    file: Option<&PathBuf>,
    env: Option<&String>,
) -> Option<signet_ca::signer::PasswordSource> {
    use signet_ca::signer::PasswordSource;
    match (file, env) {
        (Some(f), _) => Some(PasswordSource::File(f.clone())),
        (None, Some(e)) => Some(PasswordSource::Env(e.clone())),
        (None, None) => None,
    }
}

fn load_ca(config: &Config, created: i64) -> anyhow::Result<CaMaterial> {
    use signet_ca::signer::{load_encrypted_key, CaCurve, PasswordSource};
    match &config.ca.key {
        CaKey::Generated => {
            let dir = config.data_dir.join("ca");
            let password_path = dir.join("password");
            if !dir.join("chain.pem").exists() {
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                new_password_file(&password_path, Existing::Refuse)?;
                let opts =
                    signet_ca::init::InitOptions::new(CaCurve::P256, "Signet", "signet", created);
                let password = PasswordSource::File(password_path.clone()).read()?;
                signet_ca::init::init_to_dir(
                    &dir,
                    &opts,
                    &password,
                    signet_proto::keyfile::ScryptCost::DEFAULT,
                )
                .context("creating the CA root and intermediate")?;
                tracing::info!(dir = %dir.display(), "generated a CA root and intermediate");
            }
            let signer = load_encrypted_key(
                &dir.join("intermediate.key.enc.pem"),
                &PasswordSource::File(password_path),
            )
            .context("loading the CA intermediate key")?;
            Ok(CaMaterial {
                signer: Arc::new(signer),
                chain_der: read_chain(&dir.join("chain.pem"))?,
                root_pem_path: Some(dir.join("root.pem")),
            })
        }
        CaKey::File {
            key,
            chain,
            password_file,
            password_env,
        } => {
            let source = password_source(password_file.as_ref(), password_env.as_ref())
                .context("ca.key: set password_file or password_env")?;
            let signer = load_encrypted_key(key, &source)
                .with_context(|| format!("loading the CA key {}", key.display()))?;
            Ok(CaMaterial {
                signer: Arc::new(signer),
                chain_der: read_chain(chain)?,
                root_pem_path: None,
            })
        }
        CaKey::Pkcs11 {
            module,
            token_label,
            key_label,
            pin_file,
            chain,
        } => {
            let pin = PasswordSource::File(pin_file.clone()).read()?;
            let key_ref = signet_ca::signer::Pkcs11KeyRef {
                module: module.clone(),
                token_label: token_label.clone(),
                pin: String::from_utf8(pin).context("the PIN file is not UTF-8")?,
                key_label: key_label.clone(),
            };
            let signer = signet_ca::signer::Pkcs11Signer::open(&key_ref)
                .context("opening the CA key on the PKCS#11 token")?;
            Ok(CaMaterial {
                signer: Arc::new(signer),
                chain_der: read_chain(chain)?,
                root_pem_path: None,
            })
        }
    }
}

/// SCTs from the log in this same process: no HTTP round trip, same checks as
/// `/ct/v1/add-pre-chain` (the precertificate is recorded in the log).
struct InProcessCt(Arc<signet_log::Log>);

impl SctSource for InProcessCt {
    fn add_pre_chain<'a>(&'a self, chain: &'a [Vec<u8>]) -> SctFuture<'a> {
        Box::pin(async move {
            let req = AddChainRequest {
                chain: chain
                    .iter()
                    .map(|c| base64::engine::general_purpose::STANDARD.encode(c))
                    .collect(),
            };
            let resp = signet_log::ct::add_pre_chain(&self.0, &req)
                .await
                .map_err(|e| SctSourceError::Http {
                    reason: format!("in-process log: {e}"),
                })?;
            Ok(Sct::from_add_chain_response(&resp)?)
        })
    }
}

fn ca_config(config: &Config) -> anyhow::Result<signet_ca::config::CaConfig> {
    let issuers = config
        .ca
        .issuers
        .iter()
        .map(|i| {
            let issuer_type = serde_json::from_value(Value::String(i.issuer_type.clone()))
                .with_context(|| format!("issuer type {:?}", i.issuer_type))?;
            Ok(signet_ca::config::IssuerConfig {
                url: i.url.clone(),
                audience: i.audience.clone(),
                issuer_type,
                subject_domain: i.subject_domain.clone(),
                server_url: i.server_url.clone(),
                jwks_file: i.jwks_file.clone(),
                ca_file: i.ca_file.clone(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut c = signet_ca::config::CaConfig::with_issuers(issuers);
    c.validity_secs = u64::from(config.ca.validity_hours) * 3600;
    c.rate_limit.max_per_window = config.ca.rate_limit_per_minute;
    c.rate_limit.window_secs = 60;
    Ok(c)
}

/// The `host:port` (or host) part of a base URL: the checkpoint signer name.
fn url_host(url: &str) -> anyhow::Result<String> {
    let u = url::Url::parse(url).with_context(|| format!("public_url {url:?}"))?;
    let host = u.host_str().context("public_url has no host")?;
    Ok(match u.port_or_known_default() {
        Some(p) if u.port().is_some() => format!("{host}:{p}"),
        _ => host.to_owned(),
    })
}

/// Checks, before anything is written, that the data directory and its parts (`ca`, `log`)
/// are directories or can be created: a file (or anything but a directory) in the way is
/// named, with the fix, instead of surfacing later as a bare "File exists" about some file
/// inside it.
fn check_data_dir(data_dir: &Path) -> anyhow::Result<()> {
    for part in [data_dir.join("ca"), data_dir.join("log")] {
        if let Some(file) = part
            .ancestors()
            .filter(|a| !a.as_os_str().is_empty())
            .find(|a| std::fs::metadata(a).is_ok_and(|m| !m.is_dir()))
        {
            bail!(
                "{} exists and is not a directory: the data directory {} and its parts `ca` \
                 and `log` must be directories (move the file away or choose another \
                 --data-dir)",
                file.display(),
                data_dir.display()
            );
        }
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // Every client of this process (the log's witnesses, the CA's log and OIDC issuers)
    // trusts these roots too.
    signet_net::trust_ca_certs(&config.ca_certs).context("ca_certs")?;
    check_data_dir(&config.data_dir)?;
    // A configured TSA key and chain are checked before anything is written.
    let mut configured_tsa = if config.only == Roles::Log {
        None
    } else {
        tsa::configured(&config)?
    };
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let created = created_at(&config.data_dir)?;
    let start = rfc3339(created)?;
    let listener = config.listen.bind().await?;
    let addr = listener.local_addr()?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{addr}"))
        .trim_end_matches('/')
        .to_owned();
    let run_log = config.only != Roles::Ca;
    let run_ca = config.only != Roles::Log;

    let ca = if run_ca {
        Some(load_ca(&config, created)?)
    } else {
        None
    };

    let mut router = Router::new();
    let mut tlogs = Vec::new();
    let mut ctlogs = Vec::new();
    let mut log_handle = None;
    let mut log_v2: Option<(Arc<signet_log::Log>, String)> = None;
    if run_log {
        let mut ct_roots = config.log.ct_roots.clone();
        if let Some(p) = ca.as_ref().and_then(|c| c.root_pem_path.clone()) {
            ct_roots.push(p);
        } else if let Some(ca) = &ca {
            // A configured CA: trust its root for add-pre-chain.
            let root = ca.chain_der.last().context("empty CA chain")?;
            let p = config.data_dir.join("ca-root.pem");
            std::fs::write(&p, pem::encode(&pem::Pem::new("CERTIFICATE", root.clone())))?;
            ct_roots.push(p);
        }
        let log_config = signet_log::LogConfig {
            data_dir: config.data_dir.join("log"),
            listen: addr,
            public_host: Some(url_host(&public_url)?),
            ct_roots,
            batch_max_entries: config.log.batch_max_entries,
            batch_max_delay_ms: config.log.batch_max_delay_ms,
            queue_capacity: config.log.queue_capacity,
            max_body_bytes: config.log.max_body_bytes,
            witness_policy: config.log.witness_policy.clone(),
            witness_timeout_ms: config.log.witness_timeout_ms,
            // After `signet ct rotate`, the newest generation's key.
            ct_key: ct::current_key(&config.data_dir)?,
            ..signet_log::LogConfig::default()
        };
        let host = url_host(&public_url)?;
        let shard_history = log_shards::prepare(&log_config.data_dir, created)?;
        let opened = match &config.log.distributed {
            // docs/distributed.md: the records in object storage, the head in etcd.
            Some(d) => {
                signet_log::open_distributed(
                    &log_config,
                    distributed_config(d)?,
                    &host,
                    Arc::new(signet_ca::SystemClock),
                )
                .await
            }
            None => signet_log::open_log(&log_config, &host, Arc::new(signet_ca::SystemClock)),
        };
        let log = opened
            .map_err(|e| match e {
                signet_log::ServeError::Store(signet_log::storage::StoreError::Locked {
                    path,
                }) => anyhow::anyhow!(
                    "another process is serving the data directory {} (the log store {path} is locked by it): stop that process first, or give this server another --data-dir",
                    config.data_dir.display()
                ),
                e => anyhow::Error::new(e).context("opening the log"),
            })?;
        let shards = log_shards::attach(
            &log,
            &shard_history,
            &log_config.data_dir,
            &host,
            &public_url,
        )?;
        tlogs.extend(shards.tlogs);
        router = router.merge(shards.router);
        tlogs.push(trust::log_instance(
            &public_url,
            log.identity().public_key(),
            &rfc3339(shard_history.active_key_start)?,
        )?);
        ctlogs.extend(ct::ctlogs(
            &public_url,
            &config.data_dir,
            log.identity().ct_key.public_key(),
            &start,
        )?);
        router = router.merge(signet_log::http::router(log.clone()));
        log_handle = Some(log);
        if config.log.rekor_v2 {
            let v2 = rekor_v2::open(&config, &public_url, &start)?;
            if let Some(v1) = &log_handle {
                v1.link_metrics(&v2.log); // one scrape: v1 series, and v2's labelled api="v2"
            }
            tlogs.push(v2.tlog);
            router = router.nest(rekor_v2::PATH, signet_log::v2::router(v2.log.clone()));
            log_v2 = Some((v2.log, v2.base_url));
        }
    }

    let mut cas = Vec::new();
    let mut tsa_trust = None;
    let mut log_public_url = None;
    let mut log_v2_public_url = None;
    if let Some(ca) = ca {
        let tsa = tsa::load(&config, created, configured_tsa.take())?;
        tsa_trust = Some(trust::timestamp_authority(&public_url, &tsa.generations)?);
        router = router.merge(signet_ca::tsa_http::router(Arc::new(tsa.authority)));
        let (sct_source, ct_key): (Arc<dyn SctSource>, Option<PublicKey>) = match &log_handle {
            Some(log) => (
                Arc::new(InProcessCt(log.clone())),
                Some(log.identity().ct_key.public_key().clone()),
            ),
            None => {
                let log_url = config.ca.log_url.clone().context("ca.log_url")?;
                let fragment = fetch_log_trust(&log_url).await?;
                // The SCTs the log returns are checked against the CT key it publishes before
                // a certificate carrying them is issued, as when both roles run here.
                let ct_key = ct_key_of(&log_url, &fragment.1)?;
                let (v1_url, v2_url) = log_base_urls(&log_url, &fragment.0)?;
                log_public_url = Some(v1_url);
                log_v2_public_url = v2_url;
                tlogs.extend(fragment.0);
                ctlogs.extend(fragment.1);
                (
                    Arc::new(HttpSctSource::new(&log_url, Duration::from_secs(10))?),
                    Some(ct_key),
                )
            }
        };
        // Every generation of a rotated CA, with its window (else the one chain).
        cas.extend(trust::certificate_authorities(
            &public_url,
            &trust::ca_dir(&config),
            &ca.chain_der,
            created,
        )?);
        let service = signet_ca::service::CaService::new(
            ca_config(&config)?,
            ca.signer,
            ca.chain_der,
            sct_source,
            ct_key,
            Arc::new(signet_ca::SystemClock),
        )
        .context("starting the CA")?;
        router = router.merge(match &log_handle {
            // One scrape: the log's GET /metrics answers the CA's series too.
            Some(log) => {
                service
                    .metrics()
                    .register_into(log.metrics().registry())
                    .context("registering the CA's metrics")?;
                signet_ca::http::api_router(Arc::new(service))
            }
            None => signet_ca::http::router(Arc::new(service)),
        });
        if !run_log {
            // The log's router brings these (and the JSON 404) when the log runs here too.
            router = router
                .route("/healthz", get(|| async { "ok" }))
                .route("/readyz", get(|| async { "ready" }))
                .fallback(signet_log::http::not_found);
        }
    }

    let oidc_urls: Vec<String> = config.ca.issuers.iter().map(|i| i.url.clone()).collect();
    let files = trust::build(
        tlogs,
        ctlogs,
        cas,
        run_ca.then_some(public_url.as_str()),
        // A CA on its own publishes the log's public URL (its trusted root's `baseUrl`),
        // never `ca.log_url`, which is how this process reaches the log and may be internal.
        run_log
            .then_some(public_url.as_str())
            .or(log_public_url.as_deref()),
        log_v2
            .as_ref()
            .map(|(_, url)| url.as_str())
            .or(log_v2_public_url.as_deref()),
        config.log.prefer_rekor_v2,
        &oidc_urls,
        tsa_trust.as_ref(),
        &start,
    )?;
    let mut files = files;
    if run_ca {
        files.crls = trust::crls(&trust::ca_dir(&config))?;
    }
    files.trusted_keys = trust::trusted_keys(&config.data_dir)?;
    files.write_to(&config.data_dir)?;
    if let Some(tuf_router) = tuf::start(&config, &files)? {
        router = router.merge(tuf_router);
    }
    let files = Arc::new(files);
    router = router
        .route(
            trust::TRUSTED_ROOT_PATH,
            get({
                let f = files.clone();
                move || async move { json_response(f.trusted_root.clone()) }
            }),
        )
        .route(
            trust::SIGNING_CONFIG_PATH,
            get({
                let f = files.clone();
                move || async move { json_response(f.signing_config.clone()) }
            }),
        )
        .route(
            trust::TRUST_CONFIG_PATH,
            get({
                let f = files.clone();
                move || async move { json_response(f.trust_config.clone()) }
            }),
        );
    if let Some(keys) = files.trusted_keys.clone() {
        router = router.route(
            trust::TRUSTED_KEYS_PATH,
            get(move || async move { json_response(keys) }),
        );
    }
    if let Some(crls) = files.crls.clone() {
        router = router.route(
            trust::CRLS_PATH,
            get(move || async move {
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/x-pem-file")],
                    crls,
                )
            }),
        );
    }

    tracing::info!(
        listen = %addr,
        public_url = %public_url,
        roles = ?config.only,
        data_dir = %config.data_dir.display(),
        "signet serving"
    );
    // The line scripts wait for (with the real port when listening on port 0).
    println!("signet listening on {public_url}");
    println!("{}", next_steps(&config, &public_url));
    if let Some(warning) = config.no_issuer_warning() {
        tracing::warn!("{warning}");
    }

    // A method the routes added here (trust documents, CRLs, TUF, probes) do not serve gets
    // the JSON 405 every API router gives; routers that set their own keep it.
    let router = router.method_not_allowed_fallback(signet_log::http::method_not_allowed);
    crate::servers::listen::serve(
        listener,
        router,
        config.tls.as_ref(),
        crate::servers::listen::Timeouts::default(),
        crate::servers::listen::shutdown_signal(),
    )
    .await?;
    // Every accepted request has been answered (graceful shutdown waits for them, and each
    // submission waits for its batch to be committed). Now stop the sequencer.
    if let Some(log) = log_handle {
        drop(log);
    }
    drop(log_v2);
    tracing::info!("signet stopped");
    Ok(())
}

/// The log's distributed store settings from `[log.distributed]` (the secret read from its
/// file).
fn distributed_config(
    d: &config::DistributedSection,
) -> anyhow::Result<signet_log::distributed::DistConfig> {
    let secret = std::fs::read_to_string(&d.s3_secret_access_key_file).with_context(|| {
        format!(
            "log.distributed.s3_secret_access_key_file: reading {}",
            d.s3_secret_access_key_file.display()
        )
    })?;
    Ok(signet_log::distributed::DistConfig {
        role: d.role,
        node_id: d.node_id.clone(),
        etcd_endpoints: d.etcd_endpoints.clone(),
        s3_endpoints: d.s3_endpoints.clone(),
        bucket: d.s3_bucket.clone(),
        region: d.s3_region.clone(),
        access_key_id: d.s3_access_key_id.clone(),
        secret_access_key: secret.trim().to_owned(),
        prefix: d.prefix.clone(),
        lease_ttl: Duration::from_secs(d.lease_ttl_secs),
        request_timeout: Duration::from_secs(3),
    })
}

fn json_response(body: String) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
}

/// The one CT key in use (no `validFor.end`: older generations of a rotated key have one)
/// in the `ctlogs` entries the log at `log_url` publishes.
fn ct_key_of(log_url: &str, ctlogs: &[Value]) -> anyhow::Result<PublicKey> {
    let in_use: Vec<&Value> = ctlogs
        .iter()
        .filter(|e| e.pointer("/publicKey/validFor/end").is_none())
        .collect();
    let [entry] = in_use.as_slice() else {
        anyhow::bail!(
            "the log at {log_url} lists {} CT keys in use (without a validFor end) in its \
             trusted root; the CA needs exactly one",
            in_use.len()
        );
    };
    let der = entry
        .pointer("/publicKey/rawBytes")
        .and_then(Value::as_str)
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .with_context(|| format!("the CT key of the log at {log_url} is not base64 DER"))?;
    PublicKey::from_spki_der(&der)
        .with_context(|| format!("the CT key of the log at {log_url} is not a public key"))
}

/// The public URLs of the logs whose trusted root lists `tlogs` (fetched from `log_url`):
/// the `baseUrl` of its Rekor v1 log, which the log sets from its `public_url`, and that of
/// its Rekor v2 log when it runs one (`<public_url>/rekor-v2`).
fn log_base_urls(log_url: &str, tlogs: &[Value]) -> anyhow::Result<(String, Option<String>)> {
    let urls = tlogs
        .iter()
        .map(|t| {
            t.get("baseUrl")
                .and_then(Value::as_str)
                .map(|u| u.trim_end_matches('/').to_owned())
                .with_context(|| {
                    format!("the log at {log_url} lists a transparency log without baseUrl")
                })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (v2, v1): (Vec<String>, Vec<String>) = urls
        .into_iter()
        .filter(|u| !log_shards::is_shard_base_url(u))
        .partition(|u| rekor_v2::is_v2_base_url(u));
    match (v1.as_slice(), v2.as_slice()) {
        ([one], []) => Ok((one.clone(), None)),
        ([one], [two]) => Ok((one.clone(), Some(two.clone()))),
        _ => bail!(
            "the log at {log_url} lists {} transparency logs in its trusted root; expected one \
             Rekor v1 log and at most one Rekor v2 log",
            tlogs.len()
        ),
    }
}

async fn fetch_log_trust(log_url: &str) -> anyhow::Result<(Vec<Value>, Vec<Value>)> {
    let url = format!(
        "{}{}",
        log_url.trim_end_matches('/'),
        trust::TRUSTED_ROOT_PATH
    );
    let client = signet_net::client_builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("building the HTTP client")?;
    let mut last_err = None;
    for _ in 0..30 {
        match client
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
        {
            Ok(resp) => {
                let v: Value = resp
                    .json()
                    .await
                    .with_context(|| format!("parsing {url}"))?;
                let take = |k: &str| {
                    v.get(k)
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                };
                return Ok((take("tlogs"), take("ctlogs")));
            }
            // A certificate that is not trusted will not become trusted by waiting.
            Err(e) if signet_net::rejected_certificate(&e).is_some() => {
                last_err = Some(e);
                break;
            }
            Err(e) => last_err = Some(e),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Err(anyhow::anyhow!(
        "cannot fetch the log's trust material from {url}: {}",
        last_err.map_or_else(String::new, |e| crate::errors::chain_after(&url, &e))
    ))
}

#[cfg(test)]
mod tests {
    // Tests and test fixtures unwrap: a panic with its location is the failure report
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A CA on its own takes the log's one CT key from the log's trusted root, and names
    /// the problem when there is not exactly one usable key.
    #[test]
    fn ct_key_comes_from_the_logs_trusted_root() {
        let key = signet_proto::keys::EcdsaSigner::generate(
            signet_proto::keys::EcdsaCurve::P256,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .unwrap();
        let der = key.public_key().spki_der().to_vec();
        let entry = serde_json::json!({"publicKey": {
            "rawBytes": base64::engine::general_purpose::STANDARD.encode(&der)
        }});
        let got = ct_key_of("http://log", std::slice::from_ref(&entry)).unwrap();
        assert_eq!(got.spki_der(), der.as_slice());
        let two = ct_key_of("http://log", &[entry.clone(), entry.clone()]).unwrap_err();
        assert!(two.to_string().contains("lists 2 CT keys"), "{two}");
        // After `signet ct rotate`: the generation whose window is closed is not in use.
        let mut old = serde_json::json!({"publicKey": {"rawBytes": "AAAA", "validFor": {"end": "2026-01-01T00:00:00Z"}}});
        let got = ct_key_of("http://log", &[old.clone(), entry.clone()]).unwrap();
        assert_eq!(got.spki_der(), der.as_slice());
        old["publicKey"]["validFor"] = serde_json::json!({});
        assert!(ct_key_of("http://log", &[old, entry.clone()]).is_err());
        let none = ct_key_of("http://log", &[]).unwrap_err();
        assert!(none.to_string().contains("lists 0 CT keys"), "{none}");
        let bad = serde_json::json!({"publicKey": {"rawBytes": "%%"}});
        let bad = ct_key_of("http://log", &[bad]).unwrap_err();
        assert!(bad.to_string().contains("not base64 DER"), "{bad}");
        let junk = serde_json::json!({"publicKey": {"rawBytes": "AAAA"}});
        let junk = ct_key_of("http://log", &[junk]).unwrap_err();
        assert!(junk.to_string().contains("not a public key"), "{junk}");
    }

    /// The serve config's issuer options reach the CA's configuration.
    #[test]
    fn issuer_options_reach_the_ca() {
        let config = Config::from_toml(
            "[[ca.issuers]]\nurl = \"https://token.actions.ghe.example\"\ntype = \"github-workflow\"\n\
             server_url = \"https://ghe.example\"\njwks_file = \"/etc/signet/ghe-jwks.json\"\n",
        )
        .unwrap();
        config.validate().unwrap();
        let ca = ca_config(&config).unwrap();
        let i = &ca.issuers[0];
        assert_eq!(i.url, "https://token.actions.ghe.example");
        assert_eq!(i.issuer_type, signet_ca::config::IssuerType::GithubWorkflow);
        assert_eq!(i.server_url.as_deref(), Some("https://ghe.example"));
        assert_eq!(
            i.jwks_file.as_deref(),
            Some(std::path::Path::new("/etc/signet/ghe-jwks.json"))
        );
    }
}
