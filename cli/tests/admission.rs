//! `signet admission`, the Kubernetes validating admission webhook, served over HTTPS (a
//! certificate made by the openssl CLI) and called as the API server calls it: `POST
//! /validate` with `admission.k8s.io/v1` AdmissionReviews. Images live in a real
//! `docker-registry` and are signed keylessly by `signet sign` (mock OIDC issuer, running
//! `signet serve`).
//!
//! * a Pod whose image is signed by the identity its rule names is admitted, by tag and by
//!   digest; so is a CronJob whose image a `verify = false` rule covers;
//! * a Deployment with an unsigned init container, a Pod signed by another identity, and a Pod
//!   whose image no rule matches are denied (403) with a message naming the image and why;
//! * DELETE reviews and kinds without a pod spec are admitted (the latter with a warning);
//! * requests that are not AdmissionReviews get a 4xx with a JSON `{code, message}`;
//! * `--check` validates a policy file and names the faulty rule; HTTPS is required unless
//!   `--insecure-http` is given;
//! * a digest that passed is remembered for `--cache-ttl-secs` (a deleted signature does not
//!   deny it within that time; with 0 it does), a denial is not.
//!
//! * the ImagePolicyWebhook endpoint (`/imagepolicy`) answers ImageReview bodies captured
//!   from real API servers (testdata/imagepolicy) with the decision and cache of `/validate`,
//!   over mutual TLS; warn mode admits with warnings and audit annotations; the review deadline
//!   denies what a registry that never answers cannot decide; cached verdicts admit digests
//!   with the registry gone;
//! * signer thresholds (each signer counts once), namespace scope by name and by labels read
//!   from an API server, and the policy errors naming their keys;
//! * policy-controller and Kyverno documents (testdata/admission-migration) drive the webhook.
//!
//! Fails when a tool (node with oauth2-mock-server, docker-registry, umoci, skopeo, openssl,
//! python3 with PyYAML) is missing.

#![allow(clippy::unwrap_used)]

mod support;
#[path = "support/tls.rs"]
mod tls;

use std::process::Command;

use serde_json::{json, Value};
use support::admission::{pod, review, testdata, validate, validate_body, Webhook};
use support::{
    require_tools, run, sign_image, signet, spawn_until, stack, text, Oidc, Server, TestRegistry,
};

const ALICE: &str = "alice@example.com";
const MALLORY: &str = "mallory@example.com";

/// `signet sign`s `image` with `who`'s token from `oidc`, through `server`; panics when it
/// fails.
fn sign(server: &Server, oidc: &Oidc, who: &str, image: &str) {
    let out = sign_image(signet(), server, &oidc.token(who), image);
    assert!(out.status.success(), "sign {image}: {}", text(&out));
}

#[test]
fn admission_webhook_admits_only_signed_images() {
    require_tools(&["docker-registry", "umoci", "skopeo", "openssl"]);
    let (oidc, server) = stack();
    let reg = TestRegistry::start();
    let r = &reg.addr;
    let app = reg.push_image("signed/app", "v1", "the app");
    reg.push_image("signed/unsigned", "v1", "never signed");
    reg.push_image("signed/other", "v1", "signed by someone else");
    reg.push_image("public/tool", "v1", "a public tool");
    reg.push_image("misc/thing", "v1", "no rule covers this");
    reg.push_image("attested/app", "v1", "built with provenance");
    reg.push_image("attested/bare", "v1", "signed, no provenance");
    for (image, who) in [
        ("signed/app", ALICE),
        ("signed/other", MALLORY),
        ("attested/app", ALICE),
        ("attested/bare", ALICE),
    ] {
        sign(&server, &oidc, who, &format!("{r}/{image}:v1"));
    }
    let tmp_predicate = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        tmp_predicate.path(),
        r#"{"builder": {"id": "https://ci.example"}}"#,
    )
    .unwrap();
    let out = run(signet()
        .args([
            "attest",
            &format!("{r}/attested/app:v1"),
            "--type",
            "slsaprovenance1",
        ])
        .arg("--predicate")
        .arg(tmp_predicate.path())
        .arg("--signing-config")
        .arg(server.signing_config())
        .args(["--identity-token", &oidc.token(ALICE)]));
    assert!(out.status.success(), "attest: {}", text(&out));

    let tmp = tempfile::tempdir().unwrap();
    let (ca, cert, key) = tls::server_certificate(tmp.path());
    let policy = tmp.path().join("admission.toml");
    std::fs::write(
        &policy,
        format!(
            r#"
[[rule]]
images = ["{r}/signed/*"]
identity = "{ALICE}"
issuer = "{issuer}"

[[rule]]
images = ["{r}/public/**"]
verify = false

[[rule]]
images = ["{r}/attested/*"]
identity = "{ALICE}"
issuer = "{issuer}"
attestations = ["slsaprovenance1"]
"#,
            issuer = oidc.url
        ),
    )
    .unwrap();

    // --check validates the policy without serving.
    let out = run(signet()
        .args(["admission", "--check", "--policy"])
        .arg(&policy)
        .arg("--trusted-root")
        .arg(server.trusted_root()));
    assert!(out.status.success(), "--check: {}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("3 rules (2 verify signatures, 1 admit unverified; 0 in warn mode)"),
        "{}",
        text(&out)
    );
    let bad = tmp.path().join("bad.toml");
    std::fs::write(&bad, "[[rule]]\nimages = [\"x/*\"]\nidentity = \"a@b\"\n").unwrap();
    let out = run(signet()
        .args(["admission", "--check", "--policy"])
        .arg(&bad)
        .arg("--trusted-root")
        .arg(server.trusted_root()));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rule 1") && err.contains("an issuer is required"),
        "{err}"
    );
    // HTTPS unless told otherwise.
    let out = Webhook::new(&policy)
        .trusted_root(server.trusted_root())
        .output();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--tls-cert"),
        "{}",
        text(&out)
    );

    let webhook = Webhook::new(&policy)
        .trusted_root(server.trusted_root())
        .tls(&cert, &key)
        .start();
    assert!(
        webhook.url.starts_with("https://127.0.0.1:"),
        "{}",
        webhook.url
    );
    // The API server's side: HTTPS with the webhook's CA bundle.
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap())
        .build()
        .unwrap();
    let url = format!("{}/validate", webhook.url);
    let post = |path: &str, body: &Value| -> Value {
        let resp = client
            .post(format!("{}{path}", webhook.url))
            .json(body)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200, "{body}");
        let v: Value = resp.json().unwrap();
        assert_eq!(v["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(v["kind"], "AdmissionReview");
        assert_eq!(v["response"]["uid"], body["request"]["uid"]);
        v["response"].clone()
    };
    let call = |body: &Value| post("/validate", body);
    let denied = |resp: &Value, needles: &[&str]| {
        assert_eq!(resp["allowed"], false, "{resp}");
        assert_eq!(resp["status"]["code"], 403, "{resp}");
        let m = resp["status"]["message"].as_str().unwrap();
        for n in needles {
            assert!(m.contains(n), "expected {n:?} in {m}");
        }
    };

    // Signed by the rule's identity: admitted, by tag and by digest.
    let resp = call(&review("u1", "Pod", &pod(&[&format!("{r}/signed/app:v1")])));
    assert_eq!(resp["allowed"], true, "{resp}");
    let resp = call(&review(
        "u2",
        "Pod",
        &pod(&[&format!("{r}/signed/app@{app}")]),
    ));
    assert_eq!(resp["allowed"], true, "{resp}");

    assert!(
        resp.get("patch").is_none(),
        "/validate never patches: {resp}"
    );

    // /mutate: the same decision, plus a JSON Patch pinning each verified tag to its digest
    // (images already pinned and unverified ones are left alone).
    let deployment = json!({"metadata": {"name": "api"}, "spec": {"template": {"spec": {
        "initContainers": [{"name": "tool", "image": format!("{r}/public/tool:v1")}],
        "containers": [
            {"name": "api", "image": format!("{r}/signed/app:v1")},
            {"name": "pinned", "image": format!("{r}/signed/app@{app}")},
            {"name": "again", "image": format!("{r}/signed/app:v1")},
        ],
    }}}});
    let resp = post("/mutate", &review("m1", "Deployment", &deployment));
    assert_eq!(resp["allowed"], true, "{resp}");
    assert_eq!(resp["patchType"], "JSONPatch", "{resp}");
    let patch: Value = {
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(resp["patch"].as_str().unwrap())
            .unwrap();
        signet_proto::json::from_slice(&raw).unwrap()
    };
    let pinned = format!("{r}/signed/app:v1@{app}");
    assert_eq!(
        patch,
        json!([
            {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": pinned},
            {"op": "replace", "path": "/spec/template/spec/containers/2/image", "value": pinned},
        ])
    );
    let resp = post(
        "/mutate",
        &review("m2", "Pod", &pod(&[&format!("{r}/signed/app@{app}")])),
    );
    assert_eq!(resp["allowed"], true, "{resp}");
    assert!(resp.get("patch").is_none(), "nothing to pin: {resp}");
    let resp = post(
        "/mutate",
        &review("m3", "Pod", &pod(&[&format!("{r}/signed/other:v1")])),
    );
    denied(&resp, &["signed/other:v1", MALLORY]);
    assert!(resp.get("patch").is_none(), "{resp}");

    // A Deployment whose init container is unsigned: denied, naming that image only.
    let deployment = json!({"metadata": {"name": "api"}, "spec": {"template": {"spec": {
        "initContainers": [{"name": "migrate", "image": format!("{r}/signed/unsigned:v1")}],
        "containers": [{"name": "api", "image": format!("{r}/signed/app:v1")}],
    }}}});
    let resp = call(&review("u3", "Deployment", &deployment));
    denied(
        &resp,
        &[
            "signed/unsigned:v1",
            "no Sigstore bundles are attached",
            "rule 1",
        ],
    );
    assert!(
        !resp["status"]["message"]
            .as_str()
            .unwrap()
            .contains("signed/app:v1"),
        "only the failing image is named: {resp}"
    );

    // Signed, but by another identity than the rule requires.
    let resp = call(&review(
        "u4",
        "Pod",
        &pod(&[&format!("{r}/signed/other:v1")]),
    ));
    denied(
        &resp,
        &[
            "signed/other:v1",
            "no attached bundle satisfies rule 1",
            MALLORY,
        ],
    );

    // No rule matches: denied (no_match defaults to deny).
    let resp = call(&review("u5", "Pod", &pod(&[&format!("{r}/misc/thing:v1")])));
    denied(
        &resp,
        &["misc/thing:v1", "no admission policy rule matches"],
    );

    // A verify = false rule admits without signatures (a CronJob's pod template).
    let cron = json!({"metadata": {"name": "nightly"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "containers": [{"name": "tool", "image": format!("{r}/public/tool:v1")}],
    }}}}}});
    let resp = call(&review("u6", "CronJob", &cron));
    assert_eq!(resp["allowed"], true, "{resp}");

    // A rule that also requires SLSA provenance: signed and attested is admitted, signed
    // alone is denied, naming the missing attestation.
    let resp = call(&review(
        "a1",
        "Pod",
        &pod(&[&format!("{r}/attested/app:v1")]),
    ));
    assert_eq!(resp["allowed"], true, "{resp}");
    let resp = call(&review(
        "a2",
        "Pod",
        &pod(&[&format!("{r}/attested/bare:v1")]),
    ));
    denied(
        &resp,
        &[
            "attested/bare:v1",
            "no verified attestation of type https://slsa.dev/provenance/v1",
            "rule 3",
        ],
    );

    // A malformed image reference is denied, not an error.
    let resp = call(&review("u7", "Pod", &pod(&["Not A Reference"])));
    denied(&resp, &["Not A Reference", "invalid image reference"]);

    // DELETE carries no object; a ConfigMap has no pod spec.
    let mut delete = review("u8", "Pod", &Value::Null);
    delete["request"]["operation"] = json!("DELETE");
    assert_eq!(call(&delete)["allowed"], true);
    let resp = call(&review("u9", "ConfigMap", &json!({"data": {}})));
    assert_eq!(resp["allowed"], true, "{resp}");
    assert!(
        resp["warnings"][0]
            .as_str()
            .unwrap()
            .contains("nothing was checked"),
        "{resp}"
    );

    let resp = client
        .get(format!("{}/healthz", webhook.url))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);

    // Not AdmissionReviews: 4xx with a JSON {code, message}.
    for (body, status, needle) in [
        ("not json".to_owned(), 400, "not JSON"),
        (json!({"apiVersion": "v1", "kind": "Pod"}).to_string(), 400, "admission.k8s.io/v1"),
        (
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"kind": {"kind": "Pod"}}}).to_string(),
            400,
            "no uid",
        ),
        ("x".repeat(4 << 20), 413, "larger than"),
    ] {
        // The server may close the connection after refusing an oversized body unread: no
        // keep-alive for these.
        let resp = client
            .post(&url)
            .header("content-type", "application/json")
            .header("connection", "close")
            .body(body)
            .send()
            .unwrap();
        assert_eq!(resp.status(), status, "{needle}");
        let v: Value = resp.json().unwrap();
        assert_eq!(v["code"], status);
        assert!(v["message"].as_str().unwrap().contains(needle), "{v}");
    }
    drop(webhook);
}

/// A digest that passed a rule is remembered for `--cache-ttl-secs`: after the image's
/// signature is deleted from the registry, a webhook with the default TTL still admits the
/// digest it verified a moment ago (no new verification), while one started with
/// `--cache-ttl-secs 0` verifies again and denies. Failures are not remembered: the same
/// webhook admits an image once it gets signed after a denial.
#[test]
fn admission_webhook_remembers_verified_digests() {
    require_tools(&["docker-registry", "umoci", "skopeo"]);
    let (oidc, server) = stack();
    let reg = TestRegistry::start();
    let r = &reg.addr;
    let digest = reg.push_image("cache/app", "v1", "remembered");
    reg.push_image("cache/late", "v1", "signed after a denial");
    sign(&server, &oidc, ALICE, &format!("{r}/cache/app:v1"));

    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("admission.toml");
    std::fs::write(
        &policy,
        format!(
            "[[rule]]\nimages = [\"{r}/cache/*\"]\nidentity = \"{ALICE}\"\nissuer = \"{}\"\n",
            oidc.url
        ),
    )
    .unwrap();
    let webhook = || {
        Webhook::new(&policy)
            .insecure_http()
            // A deadline far above the figures: 100 reviews at once on a loaded 2-core
            // machine are measured, not cut off at the default 7 s.
            .deadline("120s")
            .trusted_root(server.trusted_root())
    };
    let cached = webhook().start();
    let uncached = webhook().no_cache().start();
    let call = validate;
    let app = format!("{r}/cache/app:v1");
    for w in [&cached, &uncached] {
        let resp = call(&w.url, "first", &app);
        assert_eq!(resp["allowed"], true, "{resp}");
    }

    // The signature goes away: the referrers index that lists it is deleted.
    let referrers = format!("docker://{r}/cache/app:{}", digest.replacen(':', "-", 1));
    let out = run(Command::new("skopeo").args(["delete", "--tls-verify=false", &referrers]));
    assert!(out.status.success(), "skopeo delete: {}", text(&out));

    let resp = call(&uncached.url, "again", &app);
    assert_eq!(resp["allowed"], false, "verified again: {resp}");
    assert!(
        resp["status"]["message"]
            .as_str()
            .unwrap()
            .contains("no Sigstore bundles are attached"),
        "{resp}"
    );
    let resp = call(&cached.url, "again", &app);
    assert_eq!(resp["allowed"], true, "remembered: {resp}");
    // By digest too: the cache is keyed by digest, not by how the image is named.
    let resp = call(&cached.url, "by-digest", &format!("{r}/cache/app@{digest}"));
    assert_eq!(resp["allowed"], true, "remembered by digest: {resp}");

    // A denial is not remembered.
    let late = format!("{r}/cache/late:v1");
    let resp = call(&cached.url, "late-1", &late);
    assert_eq!(resp["allowed"], false, "{resp}");
    sign(&server, &oidc, ALICE, &late);
    let resp = call(&cached.url, "late-2", &late);
    assert_eq!(resp["allowed"], true, "{resp}");
}

/// Issue 15: admission rules could be dodged by spelling the registry differently, although a
/// container runtime pulls the same image for each spelling. Against a real registry on
/// `localhost:PORT`, with `no_match = "allow"`: an unsigned image is denied by the rule for
/// `localhost:PORT/team/**` however its registry is spelled (`LOCALHOST:PORT`, a trailing dot,
/// a zero-padded port), a signed one is admitted under every spelling (the webhook fetches it
/// from the normalised host), and a rule written in another spelling is normalised when the
/// policy is loaded. A user regex that escapes its anchors (`alice@example\.com)|(.*`) is
/// refused by `--check` and by `signet verify`, and a valid one matches whole identities.
#[test]
fn admission_rules_meet_every_spelling_of_a_registry() {
    require_tools(&["docker-registry", "umoci", "skopeo"]);
    let (oidc, server) = stack();
    let reg = TestRegistry::start();
    let port = reg.addr.rsplit_once(':').unwrap().1.to_owned();
    let host = format!("localhost:{port}");
    reg.push_image("team/app", "v1", "never signed");
    let signed = reg.push_image("team/signed", "v1", "signed by alice");
    reg.push_image("other/app", "v1", "never signed either");
    reg.push_image("regex/app", "v1", "signed by mallory");
    for (image, who) in [("team/signed", ALICE), ("regex/app", MALLORY)] {
        sign(&server, &oidc, who, &format!("{host}/{image}:v1"));
    }

    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("admission.toml");
    std::fs::write(
        &policy,
        format!(
            r#"
no_match = "allow"

[[rule]]
images = ["{host}/team/**"]
identity = "{ALICE}"
issuer = "{issuer}"

[[rule]]
images = ["LOCALHOST.:0{port}/other/**"]
identity = "{ALICE}"
issuer = "{issuer}"

[[rule]]
images = ["{host}/regex/*"]
identity_regexp = '(?x) alice@example\.com  # alice only'
issuer = "{issuer}"
"#,
            issuer = oidc.url
        ),
    )
    .unwrap();
    let webhook = Webhook::new(&policy)
        .insecure_http()
        .trusted_root(server.trusted_root())
        .start();
    let call = |uid: &str, image: &str| validate(&webhook.url, uid, image);
    let spellings = [
        host.clone(),
        format!("LOCALHOST:{port}"),
        format!("LocalHost:{port}"),
        format!("localhost.:{port}"),
        format!("localhost:0{port}"),
        format!("LOCALHOST.:00{port}"),
    ];
    for (i, s) in spellings.iter().enumerate() {
        let image = format!("{s}/team/app:v1");
        let resp = call(&format!("unsigned-{i}"), &image);
        assert_eq!(resp["allowed"], false, "{image} escaped rule 1: {resp}");
        let m = resp["status"]["message"].as_str().unwrap();
        assert!(
            m.contains("no Sigstore bundles are attached") && m.contains("rule 1"),
            "{image}: {m}"
        );
        let image = format!("{s}/team/signed:v1");
        let resp = call(&format!("signed-{i}"), &image);
        assert_eq!(resp["allowed"], true, "{image}: {resp}");
        let resp = call(&format!("pinned-{i}"), &format!("{s}/team/signed@{signed}"));
        assert_eq!(resp["allowed"], true, "{image}: {resp}");
        // The rule written as `LOCALHOST.:0PORT/other/**` covers every spelling too.
        let image = format!("{s}/other/app:v1");
        let resp = call(&format!("other-{i}"), &image);
        assert_eq!(resp["allowed"], false, "{image} escaped rule 2: {resp}");
        assert!(
            resp["status"]["message"]
                .as_str()
                .unwrap()
                .contains("rule 2"),
            "{resp}"
        );
        // Whole-value regex: mallory is not alice.
        let image = format!("{s}/regex/app:v1");
        let resp = call(&format!("regex-{i}"), &image);
        assert_eq!(resp["allowed"], false, "{image}: {resp}");
        assert!(
            resp["status"]["message"]
                .as_str()
                .unwrap()
                .contains(MALLORY),
            "{resp}"
        );
    }
    // Unmatched images stay admitted (no_match = "allow"): the normalisation does not widen
    // a rule to other repositories or ports.
    for image in [
        format!("{host}/misc/app:v1"),
        format!("localhost:{}/team/app:v1", port.parse::<u32>().unwrap() + 1),
    ] {
        let resp = call("unmatched", &image);
        assert_eq!(resp["allowed"], true, "{image}: {resp}");
    }
    drop(webhook);

    // A regex that escapes `^(?:…)$` when pasted into it is refused on its own, in the
    // admission policy and in `signet verify`.
    let escape = r"alice@example\.com)|(.*";
    let bad = tmp.path().join("escape.toml");
    std::fs::write(
        &bad,
        format!(
            "[[rule]]\nimages = [\"{host}/regex/*\"]\nidentity_regexp = '{escape}'\nissuer = \"{}\"\n",
            oidc.url
        ),
    )
    .unwrap();
    let out = run(signet()
        .args(["admission", "--check", "--policy"])
        .arg(&bad));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rule 1") && err.contains("invalid regular expression"),
        "{err}"
    );
    let out = run(signet()
        .arg("verify")
        .arg("--trusted-root")
        .arg(server.trusted_root())
        .args([
            "--certificate-identity-regexp",
            escape,
            "--certificate-oidc-issuer",
            &oidc.url,
            &format!("{host}/regex/app:v1"),
        ]));
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("invalid regular expression"),
        "{}",
        text(&out)
    );
}

const BOB: &str = "bob@example.com";
const CAROL: &str = "carol@example.com";

/// A stand-in for the Kubernetes API server's `GET /api/v1/namespaces/NAME` (core/v1
/// `Namespace` objects with these labels), requiring `Authorization: Bearer TOKEN`.
fn namespace_api(labels: &Value, token: &str) -> support::Spawned {
    let script = r#"
import http.server, json, sys
labels, token = json.loads(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        name = self.path.rsplit("/", 1)[-1]
        if self.headers.get("Authorization") != "Bearer " + token:
            code, body = 401, {"kind": "Status", "code": 401, "message": "Unauthorized"}
        elif not self.path.startswith("/api/v1/namespaces/") or name not in labels:
            code, body = 404, {"kind": "Status", "code": 404, "message": "namespaces \"%s\" not found" % name}
        else:
            code, body = 200, {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name, "labels": labels[name]}}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("namespace api on http://127.0.0.1:%d" % s.server_address[1], flush=True)
s.serve_forever()
"#;
    spawn_until(
        Command::new("python3").args(["-c", script, &labels.to_string(), token]),
        "namespace api on ",
    )
}

/// An ImageReview vector from testdata/imagepolicy with its images replaced.
fn image_review(vector: &str, images: &[&str]) -> Value {
    let mut v: Value = signet_proto::json::from_slice(
        &std::fs::read(testdata(&format!("imagepolicy/{vector}"))).unwrap(),
    )
    .unwrap();
    let containers: Vec<Value> = images.iter().map(|i| json!({"image": i})).collect();
    v["spec"]["containers"] = json!(containers);
    v
}

/// The ImagePolicyWebhook endpoint, mutual TLS, warn mode, the deadline and the cache.
#[test]
fn image_policy_webhook_shares_decisions_and_cache() {
    require_tools(&["docker-registry", "umoci", "skopeo", "openssl"]);
    let (oidc, server) = stack();
    let reg = TestRegistry::start();
    let r = reg.addr.clone();
    let app = reg.push_image("signed/app", "v1", "the app");
    reg.push_image("signed/unsigned", "v1", "never signed");
    reg.push_image("warn/unsigned", "v1", "never signed, warn mode");
    sign(&server, &oidc, ALICE, &format!("{r}/signed/app:v1"));

    // A "registry" that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = silent.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in silent.incoming() {
            held.push(c);
        }
    });

    let tmp = tempfile::tempdir().unwrap();
    let (ca, cert, key) = tls::server_certificate(tmp.path());
    // The API server's client certificate, from the same CA (as a cluster CA would issue it).
    let openssl = |args: &[&str]| {
        let out = run(Command::new("openssl").current_dir(tmp.path()).args(args));
        assert!(out.status.success(), "openssl {args:?}: {}", text(&out));
    };
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "client.key",
        "-out",
        "client.csr",
        "-subj",
        "/CN=kube-apiserver",
    ]);
    std::fs::write(
        tmp.path().join("client.cnf"),
        "extendedKeyUsage=clientAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "client.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "client.cnf",
        "-out",
        "client.crt",
    ]);
    let mut identity = std::fs::read(tmp.path().join("client.crt")).unwrap();
    identity.extend(std::fs::read(tmp.path().join("client.key")).unwrap());

    let policy = tmp.path().join("admission.toml");
    std::fs::write(
        &policy,
        format!(
            r#"
[[rule]]
images = ["{r}/signed/*"]
identity = "{ALICE}"
issuer = "{issuer}"

[[rule]]
images = ["{r}/warn/*"]
identity = "{ALICE}"
issuer = "{issuer}"
mode = "warn"

[[rule]]
images = ["{dead}/slow/*"]
identity = "{ALICE}"
issuer = "{issuer}"

[[rule]]
images = ["{dead}/slowwarn/*"]
identity = "{ALICE}"
issuer = "{issuer}"
mode = "warn"
"#,
            issuer = oidc.url
        ),
    )
    .unwrap();
    let webhook = Webhook::new(&policy)
        .deadline("1500ms")
        .trusted_root(server.trusted_root())
        .tls(&cert, &key)
        .flag("--client-ca", &ca)
        .start();
    let roots = reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap();
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(roots.clone())
        .identity(reqwest::Identity::from_pem(&identity).unwrap())
        .build()
        .unwrap();
    // Without a client certificate: no TLS session at all.
    let anonymous = reqwest::blocking::Client::builder()
        .add_root_certificate(roots)
        .build()
        .unwrap();
    let body = image_review("image_review_1.json", &[&format!("{r}/signed/app:v1")]);
    assert!(
        anonymous
            .post(format!("{}/imagepolicy", webhook.url))
            .json(&body)
            .send()
            .is_err(),
        "a client without a certificate was answered"
    );

    let imagepolicy = |body: &Value| -> Value {
        let resp = client
            .post(format!("{}/imagepolicy", webhook.url))
            .json(body)
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200, "{body}");
        let v: Value = resp.json().unwrap();
        assert_eq!(v["apiVersion"], "imagepolicy.k8s.io/v1alpha1");
        assert_eq!(v["kind"], "ImageReview");
        v["status"].clone()
    };
    let validate = |uid: &str, images: &[&str]| -> Value {
        let resp = client
            .post(format!("{}/validate", webhook.url))
            .json(&review(uid, "Pod", &pod(images)))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.json::<Value>().unwrap()["response"].clone()
    };

    // The captured bodies (their status says allowed: false, which is ignored).
    assert_eq!(body["status"]["allowed"], false);
    let status = imagepolicy(&body);
    assert_eq!(status["allowed"], true, "{status}");
    assert!(status.get("reason").is_none(), "{status}");
    // The audit annotation says why: the rule, the format and the signer.
    assert!(
        status["auditAnnotations"]["signet-admitted"]
            .as_str()
            .unwrap()
            .contains(&format!(
                "verified by rule 1 ({r}/signed/*), Sigstore signer {ALICE}"
            )),
        "{status}"
    );
    let status = imagepolicy(&image_review(
        "image_review_2.json",
        &[&format!("{r}/signed/unsigned:v1")],
    ));
    assert_eq!(status["allowed"], false, "{status}");
    let reason = status["reason"].as_str().unwrap();
    assert!(
        reason.contains("signed/unsigned:v1")
            && reason.contains("no Sigstore bundles are attached"),
        "{reason}"
    );
    // The documented body: annotations (never admitting anything), two images.
    let docs = image_review(
        "docs_example.json",
        &[
            &format!("{r}/signed/app:v1"),
            &format!("{r}/signed/app@{app}"),
        ],
    );
    assert_eq!(
        docs["spec"]["annotations"]["mycluster.image-policy.k8s.io/ticket-1234"],
        "break-glass"
    );
    assert_eq!(imagepolicy(&docs)["allowed"], true);
    let mut glass = image_review("docs_example.json", &[&format!("{r}/signed/unsigned:v1")]);
    glass["spec"]["namespace"] = json!("prod");
    assert_eq!(
        imagepolicy(&glass)["allowed"],
        false,
        "a break-glass annotation admits nothing"
    );
    // The images the default nginx / nope bodies name: no rule, denied.
    let status = imagepolicy(
        &signet_proto::json::from_slice(
            &std::fs::read(testdata("imagepolicy/image_review_1.json")).unwrap(),
        )
        .unwrap(),
    );
    assert_eq!(status["allowed"], false);
    assert!(
        status["reason"]
            .as_str()
            .unwrap()
            .contains("no admission policy rule matches docker.io/library/nginx"),
        "{status}"
    );
    // Not an ImageReview: 400.
    let resp = client
        .post(format!("{}/imagepolicy", webhook.url))
        .json(&review("x", "Pod", &pod(&["a"])))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 400);

    // Warn mode: admitted, with a warning, an audit annotation (both APIs).
    let resp = validate("w1", &[&format!("{r}/warn/unsigned:v1")]);
    assert_eq!(resp["allowed"], true, "{resp}");
    let w = resp["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("(warn mode) would deny")
            && w.contains("warn/unsigned:v1")
            && w.contains("rule 2"),
        "{w}"
    );
    assert!(
        resp["auditAnnotations"]["signet.dev/warnings"]
            .as_str()
            .unwrap()
            .contains("warn/unsigned:v1"),
        "{resp}"
    );
    let status = imagepolicy(&image_review(
        "image_review_1.json",
        &[&format!("{r}/warn/unsigned:v1")],
    ));
    assert_eq!(status["allowed"], true, "{status}");
    assert!(
        status["auditAnnotations"]["signet-warnings"]
            .as_str()
            .unwrap()
            .contains("no Sigstore bundles"),
        "{status}"
    );

    // The deadline: a registry that never answers is denied (warned about) in time, saying so.
    let started = std::time::Instant::now();
    let resp = validate(
        "d1",
        &[
            &format!("{dead}/slow/app:v1"),
            &format!("{r}/signed/app:v1"),
        ],
    );
    let took = started.elapsed();
    assert_eq!(resp["allowed"], false, "{resp}");
    let m = resp["status"]["message"].as_str().unwrap();
    assert!(
        m.contains("slow/app:v1: not checked within the webhook's deadline of 1500 ms"),
        "{m}"
    );
    assert!(
        !m.contains("signed/app"),
        "only the undecided image is named: {m}"
    );
    assert!(
        took < std::time::Duration::from_secs(5),
        "answered after {took:?}"
    );
    let resp = validate("d2", &[&format!("{dead}/slowwarn/app:v1")]);
    assert_eq!(resp["allowed"], true, "{resp}");
    assert!(
        resp["warnings"][0].as_str().unwrap().contains("deadline"),
        "{resp}"
    );

    // One cache: /validate and /imagepolicy share it. With the registry gone, the digest
    // verified above is admitted with no network (the verdict cache comes first), and so is
    // the tag resolved less than --tag-cache-secs ago; an unseen digest needs the registry.
    drop(reg);
    let status = imagepolicy(&image_review(
        "image_review_1.json",
        &[&format!("{r}/signed/app@{app}")],
    ));
    assert_eq!(status["allowed"], true, "{status}");
    let resp = validate(
        "c1",
        &[
            &format!("{r}/signed/app@{app}"),
            &format!("{r}/signed/app:v1"),
        ],
    );
    assert_eq!(resp["allowed"], true, "{resp}");
    let other = format!("{r}/signed/app@sha256:{}", "ab".repeat(32));
    let resp = validate("c2", &[&other]);
    assert_eq!(resp["allowed"], false, "{resp}");
    let metrics = client
        .get(format!("{}/metrics", webhook.url))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let hits: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("signet_admission_verdict_cache_hits_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(hits >= 3, "{metrics}");
    assert!(
        metrics.contains("signet_admission_deadline_misses_total 2"),
        "{metrics}"
    );
}

/// Thresholds over several signers (each counts once), namespace scope by name and by labels
/// read from an API server, and policy errors naming their keys.
#[test]
fn admission_thresholds_and_namespace_scope() {
    require_tools(&["docker-registry", "umoci", "skopeo", "python3"]);
    let (oidc, server) = stack();
    let reg = TestRegistry::start();
    let r = &reg.addr;
    reg.push_image("thr/both", "v1", "signed by alice and bob");
    reg.push_image("thr/alice", "v1", "signed by alice, twice");
    reg.push_image("thr/regexp", "v1", "signed by carol");
    reg.push_image("ns/app", "v1", "never signed");
    for (image, who) in [
        ("thr/both", ALICE),
        ("thr/both", BOB),
        ("thr/alice", ALICE),
        ("thr/alice", ALICE),
        ("thr/regexp", CAROL),
    ] {
        sign(&server, &oidc, who, &format!("{r}/{image}:v1"));
    }
    let api = namespace_api(
        &json!({"dev": {"tier": "dev"}, "other": {"tier": "prod"}}),
        "sekret",
    );
    let tmp = tempfile::tempdir().unwrap();
    let token = tmp.path().join("token");
    std::fs::write(&token, "sekret\n").unwrap();
    let policy = tmp.path().join("admission.toml");
    std::fs::write(
        &policy,
        format!(
            r#"
[[rule]]
images = ["{r}/thr/*"]
threshold = 2
signers = [
  {{ identity = "{ALICE}", issuer = "{issuer}" }},
  {{ identity = "{BOB}", issuer = "{issuer}" }},
  {{ identity_regexp = '(alice|carol)@example\.com', issuer = "{issuer}" }},
]

[[rule]]
images = ["{r}/ns/*"]
namespaces = ["prod", "team-*"]
identity = "{ALICE}"
issuer = "{issuer}"

[[rule]]
images = ["{r}/ns/*"]
namespace_selector = {{ match_labels = {{ tier = "dev" }} }}
verify = false

[[rule]]
images = ["{r}/ns/*"]
identity = "{BOB}"
issuer = "{issuer}"
"#,
            issuer = oidc.url
        ),
    )
    .unwrap();
    // Serving a selector without an API server is refused, naming the rule.
    let out = Webhook::new(&policy)
        .insecure_http()
        .trusted_root(server.trusted_root())
        .env_remove("KUBERNETES_SERVICE_HOST")
        .output();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("rule 3 has a `namespace_selector`"),
        "{}",
        text(&out)
    );

    let webhook = Webhook::new(&policy)
        .insecure_http()
        .trusted_root(server.trusted_root())
        .kube_api(&api.url, &token)
        .start();
    let call = |uid: &str, ns: &str, image: &str| -> Value {
        let mut body = review(uid, "Pod", &pod(&[image]));
        body["request"]["namespace"] = json!(ns);
        validate_body(&webhook.url, &body)
    };
    let message = |resp: &Value| {
        resp["status"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    // 2 of 3: alice and bob signed.
    let resp = call("t1", "prod", &format!("{r}/thr/both:v1"));
    assert_eq!(resp["allowed"], true, "{resp}");
    // Alice signed twice, and matches two entries (exact and regexp): she counts once.
    let resp = call("t2", "prod", &format!("{r}/thr/alice:v1"));
    assert_eq!(resp["allowed"], false, "{resp}");
    let m = message(&resp);
    assert!(
        m.contains("2 of the 3 signers of rule 1") && m.contains("must have signed, 1 did"),
        "{m}"
    );
    assert!(
        m.contains(&format!("{BOB} ({}): no valid signature", oidc.url)),
        "{m}"
    );
    // Carol alone satisfies only the regexp entry.
    let resp = call("t3", "prod", &format!("{r}/thr/regexp:v1"));
    assert_eq!(resp["allowed"], false, "{resp}");
    assert!(message(&resp).contains("1 did"), "{resp}");

    // Namespaces: by name (rule 2), by labels from the API server (rule 3), else rule 4.
    let ns_image = format!("{r}/ns/app:v1");
    for ns in ["prod", "team-a"] {
        let resp = call("n1", ns, &ns_image);
        assert_eq!(resp["allowed"], false, "{ns}: {resp}");
        assert!(message(&resp).contains("rule 2"), "{ns}: {resp}");
    }
    let resp = call("n2", "dev", &ns_image);
    assert_eq!(resp["allowed"], true, "labels tier=dev: {resp}");
    let resp = call("n3", "other", &ns_image);
    assert_eq!(resp["allowed"], false, "{resp}");
    assert!(message(&resp).contains("rule 4"), "{resp}");
    // A namespace the API server does not know: rule 3 cannot be decided, so it denies.
    let resp = call("n4", "ghost", &ns_image);
    assert_eq!(resp["allowed"], false, "{resp}");
    let m = message(&resp);
    assert!(
        m.contains("rule 3 is scoped by namespace labels") && m.contains("404"),
        "{m}"
    );
    drop(webhook);

    // Errors name the rule and the key.
    for (rule, needle) in [
        (
            format!("images = [\"{r}/x/*\"]\nthreshold = 3\nsigners = [{{ identity = \"a\", issuer = \"b\" }}, {{ identity = \"c\", issuer = \"b\" }}]"),
            "rule 1: `threshold = 3`: it must be between 1 and the number of `signers` (2)",
        ),
        (
            format!("images = [\"{r}/x/*\"]\nsigners = [{{ identity = \"a\", issuer = \"b\" }}, {{ identity = \"a\", issuer = \"b\" }}]"),
            "rule 1: signers[1]: names the same signer as signers[0]",
        ),
        (
            format!("images = [\"{r}/x/*\"]\nsigners = [{{ identity = \"a\" }}]"),
            "rule 1: signers[0]: an issuer is required: `issuer` or `issuer_regexp`",
        ),
        (
            format!("images = [\"{r}/x/*\"]\nidentity = \"a\"\nissuer = \"b\"\nsigners = [{{ identity = \"a\", issuer = \"b\" }}]"),
            "rule 1: give either one signer at the top level",
        ),
        (
            format!("images = [\"{r}/x/*\"]\nidentity = \"a\"\nissuer = \"b\"\nnamespaces = [\"Prod\"]"),
            "rule 1: `namespaces`: \"Prod\" is not a namespace name",
        ),
        (
            format!("images = [\"{r}/x/*\"]\nidentity = \"a\"\nissuer = \"b\"\nnamespace_selector = {{ match_expressions = [{{ key = \"t\", operator = \"In\" }}] }}"),
            "rule 1: `namespace_selector.match_expressions[0]`: operator In needs `values`",
        ),
        (
            format!("images = [\"{r}/x/*\"]\nidentity = \"a\"\nissuer = \"b\"\nsignature_formats = \"both\""),
            "rule 1: `signature_formats = \"both\"` verifies Notary Project signatures: give `notation_trust_policy`",
        ),
        (
            format!("images = [\"{r}/x/*\"]\nidentity = \"a\"\nissuer = \"b\"\nmode = \"audit\""),
            "unknown variant `audit`, expected `enforce` or `warn`",
        ),
    ] {
        let bad = tmp.path().join("bad.toml");
        std::fs::write(&bad, format!("[[rule]]\n{rule}\n")).unwrap();
        let out = run(signet().args(["admission", "--check", "--policy"]).arg(&bad));
        assert_eq!(out.status.code(), Some(2), "{rule}: {}", text(&out));
        assert!(text(&out).contains(needle), "{rule}: {}", text(&out));
    }
}

/// policy-controller and Kyverno documents: the vendored JSON renderings match their YAML,
/// and the documents, with the test's own identities, key and images, drive the webhook.
#[test]
fn admission_policy_from_other_controllers() {
    require_tools(&["docker-registry", "umoci", "skopeo", "python3"]);
    // The .json files are the .yaml ones, rendered (gen.sh).
    let dir = testdata("admission-migration");
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("yaml") {
            continue;
        }
        let out = run(Command::new("python3")
            .args([
                "-c",
                "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
            ])
            .arg(&path));
        assert!(out.status.success(), "PyYAML: {}", text(&out));
        let from_yaml: Value = signet_proto::json::from_slice(&out.stdout).unwrap();
        let json: Value =
            signet_proto::json::from_slice(&std::fs::read(path.with_extension("json")).unwrap())
                .unwrap();
        assert_eq!(from_yaml, json, "{} is stale: run gen.sh", path.display());
    }

    let (oidc, server) = stack();
    let reg = TestRegistry::start();
    let r = &reg.addr;
    reg.push_image("pc/app", "v1", "keyless, policy-controller");
    reg.push_image("pc/unsigned", "v1", "never signed");
    reg.push_image("ky/app", "v1", "keyed, kyverno");
    sign(&server, &oidc, ALICE, &format!("{r}/pc/app:v1"));
    let tmp = tempfile::tempdir().unwrap();
    let out = run(signet()
        .args(["generate-key-pair", "--output-key-prefix"])
        .arg(tmp.path().join("k"))
        .env("SIGNET_PASSWORD", "pw"));
    assert!(out.status.success(), "{}", text(&out));
    let out = run(signet()
        .args(["sign", &format!("{r}/ky/app:v1"), "--key"])
        .arg(tmp.path().join("k.key"))
        .arg("--signing-config")
        .arg(server.signing_config())
        .env("SIGNET_PASSWORD", "pw"));
    assert!(out.status.success(), "keyed sign: {}", text(&out));

    // policy-controller's keyless example, for this registry and identity.
    let mut pc: Value = signet_proto::json::from_slice(
        &std::fs::read(dir.join("pc-signed-by-github-actions.json")).unwrap(),
    )
    .unwrap();
    pc["spec"]["images"] = json!([{"glob": format!("{r}/pc/**")}]);
    pc["spec"]["authorities"][0]["keyless"]["identities"] =
        json!([{"issuer": oidc.url, "subject": ALICE}]);
    // Kyverno's keyed example (less `ignoreTlog`, which Signet refuses), for this key and image.
    let mut ky: Value = signet_proto::json::from_slice(
        &std::fs::read(dir.join("kyverno-keyed-basic-namespace-selector.json")).unwrap(),
    )
    .unwrap();
    let entry = &mut ky["spec"]["rules"][0]["verifyImages"][0];
    entry["imageReferences"] = json!([format!("{r}/ky/*:*")]);
    let keys = &mut entry["attestors"][0]["entries"][0]["keys"];
    keys["publicKeys"] = json!(std::fs::read_to_string(tmp.path().join("k.pub")).unwrap());
    keys["rekor"].as_object_mut().unwrap().remove("ignoreTlog");
    let list = json!({"apiVersion": "v1", "kind": "List", "items": [pc, ky]});
    let policy = tmp.path().join("policies.json");
    std::fs::write(&policy, list.to_string()).unwrap();
    let out = run(signet()
        .args(["admission", "--check", "--policy"])
        .arg(&policy));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("2 rules (2 verify signatures, 0 admit unverified; 0 in warn mode)"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains(
            "note: items[0].spec.authorities[0].keyless.url (https://fulcio.sigstore.dev) ignored"
        ),
        "{}",
        text(&out)
    );

    let api = namespace_api(&json!({"signed-ns": {"signed": "true"}, "plain": {}}), "t");
    let token = tmp.path().join("token");
    std::fs::write(&token, "t").unwrap();
    let webhook = Webhook::new(&policy)
        .insecure_http()
        .trusted_root(server.trusted_root())
        .kube_api(&api.url, &token)
        .start();
    let call = |ns: &str, image: &str| -> Value {
        let mut body = review("m", "Pod", &pod(&[image]));
        body["request"]["namespace"] = json!(ns);
        validate_body(&webhook.url, &body)
    };
    assert_eq!(call("plain", &format!("{r}/pc/app:v1"))["allowed"], true);
    let resp = call("plain", &format!("{r}/pc/unsigned:v1"));
    assert_eq!(resp["allowed"], false, "{resp}");
    // Kyverno's rule applies in namespaces labelled signed=true: there the key is required
    // (and met); elsewhere nothing matches and, as in Kyverno, the image is admitted.
    assert_eq!(
        call("signed-ns", &format!("{r}/ky/app:v1"))["allowed"],
        true
    );
    let resp = call("signed-ns", &format!("{r}/ky/other:v1"));
    assert_eq!(resp["allowed"], false, "{resp}");
    assert_eq!(call("plain", &format!("{r}/ky/other:v1"))["allowed"], true);
}

/// One policy over Sigstore and Notary Project signatures: notation's published signatures
/// (testdata/notary, pushed byte for byte as notation's e2e tests push them) and `signet
/// sign`'s, under rules requiring `notary`, `either` and `both`, and in warn mode; a tampered
/// envelope and an image with no signature are denied, and every verdict names the format.
#[test]
fn admission_notary_and_sigstore_signatures() {
    const NOTARY_IMAGE: &str =
        "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
    const NOTARY_SIGNER: &str = "C=US, ST=WA, L=Seattle, O=Notary, CN=e2e";
    require_tools(&["docker-registry", "umoci", "skopeo"]);
    let (oidc, server) = stack();
    let reg = TestRegistry::start();
    let r = &reg.addr;
    let pusher = support::push::Pusher::new(&reg);
    let valid = testdata("notary/oci-layout/e2e-valid-signature");
    for repo in ["n/signed", "n/tampered", "e/notary", "b/both", "b/notary"] {
        pusher.layout(repo, &valid);
    }
    pusher.layout(
        "n/invalid",
        &testdata("notary/oci-layout/e2e-invalid-signature"),
    );
    // The genuine envelope with its signature changed, in place of the original.
    let blobs = valid.join("blobs/sha256");
    let envelope = std::fs::read(
        blobs.join("c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50"),
    )
    .unwrap();
    let template = std::fs::read(
        blobs.join("90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f"),
    )
    .unwrap();
    pusher.attach_notary(
        "n/tampered",
        NOTARY_IMAGE,
        &template,
        &support::push::tamper_jws_signature(&envelope),
        None,
    );
    for repo in [
        "n/unsigned",
        "n/sigstore",
        "e/sigstore",
        "e/none",
        "b/sigstore",
        "w/unsigned",
    ] {
        reg.push_image(repo, "v1", &format!("{repo}, not signed by notation"));
    }
    for repo in ["n/sigstore", "e/sigstore", "b/sigstore", "b/both"] {
        sign(&server, &oidc, ALICE, &format!("{r}/{repo}:v1"));
    }

    // notation's files, relative to the policy file (and absolute for the warn rule).
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("notation/truststore/x509/ca/e2e");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::copy(
        testdata("notary/truststore/x509/ca/e2e/e2e.crt"),
        store.join("e2e.crt"),
    )
    .unwrap();
    std::fs::copy(
        testdata("notary/trustpolicy/trustpolicy.json"),
        tmp.path().join("notation/trustpolicy.json"),
    )
    .unwrap();
    let policy = tmp.path().join("admission.toml");
    std::fs::write(
        &policy,
        format!(
            r#"
[[rule]]
images = ["{r}/n/*"]
signature_formats = "notary"
notation_trust_policy = "notation/trustpolicy.json"
notation_trust_store = "notation/truststore"

[[rule]]
images = ["{r}/e/*"]
signature_formats = "either"
identity = "{ALICE}"
issuer = "{issuer}"
notation_trust_policy = "notation/trustpolicy.json"
notation_trust_store = "notation/truststore"

[[rule]]
images = ["{r}/b/*"]
signature_formats = "both"
identity = "{ALICE}"
issuer = "{issuer}"
notation_trust_policy = "notation/trustpolicy.json"
notation_trust_store = "notation/truststore"

[[rule]]
images = ["{r}/w/*"]
mode = "warn"
signature_formats = "notary"
notation_trust_policy = "{abs_policy}"
notation_trust_store = "{abs_store}"
"#,
            issuer = oidc.url,
            abs_policy = testdata("notary/trustpolicy/trustpolicy.json").display(),
            abs_store = testdata("notary/truststore").display(),
        ),
    )
    .unwrap();
    let out = run(signet()
        .args(["admission", "--check", "--policy"])
        .arg(&policy));
    assert!(out.status.success(), "{}", text(&out));
    let webhook = Webhook::new(&policy)
        .insecure_http()
        .trusted_root(server.trusted_root())
        .start();
    let admitted =
        |image: &str| support::admission::admitted(&webhook.url, &format!("{r}/{image}:v1"));
    let denied = |image: &str| support::admission::denied(&webhook.url, &format!("{r}/{image}:v1"));
    let notary_ok = format!("Notary Project signer \"{NOTARY_SIGNER}\"");
    let sigstore_ok = format!("Sigstore signer {ALICE} ({})", oidc.url);

    // notary: notation's signature admits, with the format and signer in the audit annotation.
    let note = admitted("n/signed");
    assert!(
        note.contains("verified by rule 1")
            && note.contains(&notary_ok)
            && note.contains("trust store ca:e2e"),
        "{note}"
    );
    let m = denied("n/unsigned");
    assert!(
        m.contains("no Notary Project signature is attached") && m.contains("rule 1"),
        "{m}"
    );
    // The same digest as n/signed, whose verdict is cached: a Notary verdict holds for its
    // repository only (notation's trust policy and the signatures are per repository).
    let m = denied("n/tampered");
    assert!(
        m.contains("no Notary Project signature verifies under rule 1")
            && m.contains("notary-integrity")
            && m.contains("does not verify"),
        "{m}"
    );
    let m = denied("n/invalid");
    assert!(m.contains("notary-envelope"), "{m}");
    // A Sigstore signature does not satisfy a notary rule.
    let m = denied("n/sigstore");
    assert!(m.contains("no Notary Project signature is attached"), "{m}");

    // either: one of the two formats.
    assert!(admitted("e/notary").contains(&notary_ok));
    let note = admitted("e/sigstore");
    assert!(
        note.contains(&sigstore_ok) && !note.contains("Notary"),
        "{note}"
    );
    let m = denied("e/none");
    assert!(
        m.contains("requires a Sigstore or a Notary Project signature, and neither verifies")
            && m.contains("Sigstore: no Sigstore bundles are attached")
            && m.contains("Notary Project: no Notary Project signature is attached"),
        "{m}"
    );

    // both: the two, each named.
    let note = admitted("b/both");
    assert!(
        note.contains(&sigstore_ok) && note.contains(&notary_ok),
        "{note}"
    );
    let m = denied("b/notary");
    assert!(
        m.contains("requires both a Sigstore and a Notary Project signature")
            && m.contains("Sigstore: no Sigstore bundles are attached")
            && !m.contains("Notary Project: "),
        "{m}"
    );
    let m = denied("b/sigstore");
    assert!(
        m.contains("Notary Project: no Notary Project signature is attached")
            && !m.contains("Sigstore: "),
        "{m}"
    );

    // Warn mode: admitted, with the Notary failure as the warning.
    let resp = validate(&webhook.url, "n", &format!("{r}/w/unsigned:v1"));
    assert_eq!(resp["allowed"], true, "{resp}");
    let w = resp["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("(warn mode) would deny") && w.contains("no Notary Project signature"),
        "{w}"
    );

    // The ImagePolicyWebhook endpoint shares the decision (and its audit annotation).
    let client = reqwest::blocking::Client::new();
    let status = |images: &[&str]| -> Value {
        let resp = client
            .post(format!("{}/imagepolicy", webhook.url))
            .json(&image_review("image_review_1.json", images))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.json::<Value>().unwrap()["status"].clone()
    };
    let st = status(&[&format!("{r}/n/signed:v1")]);
    assert_eq!(st["allowed"], true, "{st}");
    assert!(
        st["auditAnnotations"]["signet-admitted"]
            .as_str()
            .unwrap()
            .contains(&notary_ok),
        "{st}"
    );
    let st = status(&[&format!("{r}/n/tampered:v1")]);
    assert_eq!(st["allowed"], false, "{st}");
    assert!(
        st["reason"].as_str().unwrap().contains("notary-integrity"),
        "{st}"
    );
}

/// The load generator of [`admission_latency`] (cli/examples/admission_loadgen.rs), built by
/// `just bench-admission` next to this test binary's directory.
fn admission_loadgen() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/admission-<hash> → target/<profile>/examples/admission_loadgen
    let path = exe
        .parent()
        .and_then(std::path::Path::parent)
        .unwrap()
        .join("examples/admission_loadgen");
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build -p signet-cli --example admission_loadgen` (`just bench-admission` does)",
        path.display()
    );
    path
}

/// One figure of the admission load generator: its last stdout line (`reviews=.. p50=..ms
/// p99=..ms rate=../s client_cpu=..s (.. us/review) server_cpu=..s (.. us/review)`).
struct Load {
    line: String,
    p99_ms: f64,
}

/// `program` run on core `cpu` only (`taskset -c`), or on any core.
fn on_core(cpu: Option<&str>, program: &std::path::Path) -> Command {
    let Some(c) = cpu else {
        return Command::new(program);
    };
    let mut t = Command::new("taskset");
    t.args(["-c", c]).arg(program);
    t
}

/// Latency of `/validate` for a pod with 5 signed images (BENCHMARKS.md, "Admission webhook"):
/// 100 concurrent keep-alive TLS connections from a separate load-generator process (the API
/// server's side: HTTPS, connections kept alive) against a local registry, with a warm cache,
/// a cold one (TTLs 0: every review resolves and verifies every image; the split between
/// registry round trips and the rest comes from the webhook's /metrics), and 5 references to
/// one digest. Each row gives the CPU time per review of the client and of the webhook.
/// `SIGNET_ADMISSION_BEFORE=<path of another signet binary>` also measures that binary's
/// warm path in the same run (before/after).
#[test]
#[ignore = "benchmark; run by just bench-admission and just bench-slow (BENCHMARKS.md)"]
fn admission_latency() {
    require_tools(&[
        "docker-registry",
        "umoci",
        "skopeo",
        "openssl",
        "taskset",
        "nginx",
    ]);
    assert!(
        std::thread::available_parallelism().map_or(0, usize::from) >= 2,
        "the benchmark pins the webhook and the load generator to a core each: it needs 2"
    );
    let loadgen = admission_loadgen();
    let (oidc, server) = stack();
    let reg = TestRegistry::start();
    let r = &reg.addr;
    let mut images = Vec::new();
    for i in 0..5 {
        reg.push_image(&format!("bench/app{i}"), "v1", &format!("image {i}"));
        let image = format!("{r}/bench/app{i}:v1");
        sign(&server, &oidc, ALICE, &image);
        images.push(image);
    }
    reg.push_image("bench/same", "v1", "one digest");
    sign(&server, &oidc, ALICE, &format!("{r}/bench/same:v1"));
    for t in 2..=5 {
        let out = run(Command::new("skopeo").args([
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            &format!("docker://{r}/bench/same:v1"),
            &format!("docker://{r}/bench/same:v{t}"),
        ]));
        assert!(out.status.success(), "skopeo: {}", text(&out));
    }
    let same: Vec<String> = (1..=5).map(|t| format!("{r}/bench/same:v{t}")).collect();
    let tmp = tempfile::tempdir().unwrap();
    let (ca, cert, key) = tls::server_certificate(tmp.path());
    let policy = tmp.path().join("admission.toml");
    std::fs::write(
        &policy,
        format!(
            "[[rule]]\nimages = [\"{r}/bench/*\"]\nidentity = \"{ALICE}\"\nissuer = \"{}\"\n",
            oidc.url
        ),
    )
    .unwrap();
    // `cpu`: the one core the webhook runs on (`taskset`; its runtime then starts one worker,
    // as in a pod with a CPU limit of 1), or all of them.
    let webhook_on = |bin: &std::path::Path, cpu: Option<&str>, extra: &[&str]| {
        Webhook::with(on_core(cpu, bin), &policy)
            .tls(&cert, &key)
            // A deadline far above the figures: 100 reviews at once on a loaded 2-core
            // machine are measured, not cut off at the default 7 s.
            .deadline("120s")
            .args(extra)
            .trusted_root(server.trusted_root())
            .start()
    };
    let webhook_of = |bin: &std::path::Path, extra: &[&str]| webhook_on(bin, None, extra);
    let signet_bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_signet"));
    let webhook = |extra: &[&str]| webhook_of(&signet_bin, extra);
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap())
        .build()
        .unwrap();
    let metric = |url: &str, name: &str| -> f64 {
        let text = client
            .get(format!("{url}/metrics"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap()
            .parse()
            .unwrap()
    };
    // `total` reviews of `pod_images` from `clients` connections, by the load generator
    // process (on core `cpu`, or on any); every answer must admit.
    let mut n = 0;
    let mut load_on = |cpu: Option<&str>,
                       w: &support::Spawned,
                       pod_images: &[String],
                       clients: usize,
                       total: usize| {
        n += 1;
        let body = review(
            "bench",
            "Pod",
            &pod(&pod_images.iter().map(String::as_str).collect::<Vec<_>>()),
        );
        let file = tmp.path().join(format!("review-{n}.json"));
        std::fs::write(&file, serde_json::to_vec(&body).unwrap()).unwrap();
        let out = run(on_core(cpu, &loadgen)
            .arg(format!("{}/validate", w.url))
            .arg(&file)
            .args([total.to_string(), clients.to_string()])
            .arg("--ca")
            .arg(&ca)
            .args(["--server-pid", &w.child.id().to_string()]));
        assert!(out.status.success(), "loadgen: {}", text(&out));
        let line = String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap()
            .to_owned();
        let field = |k: &str| -> f64 {
            line.split(' ')
                .find_map(|f| f.strip_prefix(k))
                .unwrap()
                .trim_end_matches("ms")
                .parse()
                .unwrap()
        };
        Load {
            p99_ms: field("p99="),
            line,
        }
    };
    let mut load = |w: &support::Spawned, pod_images: &[String], clients: usize, total: usize| {
        load_on(None, w, pod_images, clients, total)
    };
    let load_avg = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at start: {}", load_avg().trim());

    if let Some(before) = std::env::var_os("SIGNET_ADMISSION_BEFORE") {
        let old = webhook_of(std::path::Path::new(&before), &[]);
        load(&old, &images, 1, 1);
        load(&old, &images, 100, 2000);
        let l = load(&old, &images, 100, 100_000);
        println!(
            "before ({}), warm, 5 images by tag: {}",
            before.to_string_lossy(),
            l.line
        );
    }
    let warm = webhook(&[]);
    load(&warm, &images, 1, 1);
    // Caches and the allocator warmed before the measured run (the load generator opens its
    // connections before its clock starts). 100,000 reviews, about 3 s: over a run of 20,000
    // (0.6 s), one scheduling stall on the shared cores moved the p99 by 2-3 ms.
    load(&warm, &images, 100, 2000);
    let l = load(&warm, &images, 100, 100_000);
    println!("warm, 5 images by tag: {}", l.line);
    let warm_tag_p99 = l.p99_ms;
    let digests: Vec<String> = {
        let body = review(
            "d",
            "Pod",
            &pod(&images.iter().map(String::as_str).collect::<Vec<_>>()),
        );
        let resp: Value = client
            .post(format!("{}/mutate", warm.url))
            .json(&body)
            .send()
            .unwrap()
            .json()
            .unwrap();
        use base64::Engine as _;
        let patch: Value = signet_proto::json::from_slice(
            &base64::engine::general_purpose::STANDARD
                .decode(resp["response"]["patch"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        patch
            .as_array()
            .unwrap()
            .iter()
            .map(|op| op["value"].as_str().unwrap().to_owned())
            .collect()
    };
    let l = load(&warm, &digests, 100, 100_000);
    println!("warm, 5 images by digest: {}", l.line);
    drop(warm);

    // The peer in the same run: the path the issue measured before the caches and the pool
    // (the tag resolved on the registry on every review before the verdict cache is consulted;
    // the verification itself cached): --tag-cache-secs 0.
    let before = webhook(&["--tag-cache-secs", "0"]);
    load(&before, &images, 1, 1);
    let l = load(&before, &images, 100, 2000);
    println!(
        "peer, 5 images by tag resolved on every review, verdict cached: {}; warm-cache p99 (by tag) is {:.1}x lower",
        l.line,
        l.p99_ms / warm_tag_p99
    );
    drop(before);

    let cold = webhook(&["--cache-ttl-secs", "0", "--tag-cache-secs", "0"]);
    let l = load(&cold, &images, 100, 500);
    let check = metric(&cold.url, "signet_admission_check_seconds_total");
    let registry = metric(&cold.url, "signet_admission_registry_seconds_total");
    let requests = metric(&cold.url, "signet_admission_registry_requests_total");
    println!(
        "cold, 5 images by tag, every image resolved and verified: {}; of {check:.1} s summed image-check time, {registry:.1} s ({:.0} %) waited for registry answers ({requests} requests, {:.1} per image)",
        l.line,
        100.0 * registry / check,
        requests / 2500.0
    );
    drop(cold);

    let shared = webhook(&["--cache-ttl-secs", "300", "--tag-cache-secs", "0"]);
    let l = load(&shared, &same, 100, 500);
    let verifications = metric(&shared.url, "signet_admission_verifications_total");
    println!(
        "5 tags of one digest, tags resolved on every review, verdict cached: {}; {verifications} verifications for 2500 images",
        l.line
    );
    drop(shared);

    // The webhook alone on one core (one runtime worker, as in a pod limited to one CPU) and
    // the load generator, the API server's side, on the other: the same warm rows without the
    // two processes preempting each other.
    let pinned = webhook_on(&signet_bin, Some("0"), &[]);
    load_on(Some("1"), &pinned, &images, 1, 1);
    load_on(Some("1"), &pinned, &images, 100, 2000);
    let l = load_on(Some("1"), &pinned, &images, 100, 100_000);
    println!(
        "warm, 5 images by tag, webhook on core 0, load generator on core 1: {}",
        l.line
    );
    let l = load_on(Some("1"), &pinned, &digests, 100, 100_000);
    println!(
        "warm, 5 images by digest, webhook on core 0, load generator on core 1: {}",
        l.line
    );

    // The peer in the same run: nginx (one process, TLS 1.3 over OpenSSL with the same
    // certificate) answering every review with the webhook's own answer to it, a constant, so
    // no decision at all: what the transport alone costs and how it queues, on one core and on
    // both, for the same load generator.
    let answer = client
        .post(format!("{}/validate", pinned.url))
        .body(
            serde_json::to_vec(&review(
                "bench",
                "Pod",
                &pod(&images.iter().map(String::as_str).collect::<Vec<_>>()),
            ))
            .unwrap(),
        )
        .header("content-type", "application/json")
        .send()
        .unwrap()
        .text()
        .unwrap();
    drop(pinned);
    for cpu in [Some("0"), None] {
        let nginx = nginx_constant(tmp.path(), cpu, &cert, &key, &answer);
        load_on(cpu.map(|_| "1"), &nginx, &images, 100, 2000);
        let l = load_on(cpu.map(|_| "1"), &nginx, &images, 100, 100_000);
        println!(
            "peer nginx, constant answer, {}: {}",
            cpu.map_or("shared cores", |_| "on core 0, load generator on core 1"),
            l.line
        );
    }
    println!("load average at end: {}", load_avg().trim());
}

/// nginx (`master_process off`: one process, the PID the load generator measures) serving
/// `answer` as `application/json` to `POST /validate` over TLS with `cert` and `key`, on core
/// `cpu` (`taskset`) or on any.
fn nginx_constant(
    dir: &std::path::Path,
    cpu: Option<&str>,
    cert: &std::path::Path,
    key: &std::path::Path,
    answer: &str,
) -> support::Spawned {
    assert!(
        !answer.contains('$'),
        "nginx would read $ in the answer as a variable"
    );
    let quoted = answer.replace('\\', "\\\\").replace('"', "\\\"");
    let port = support::free_port();
    let root = dir.join(format!("nginx-{port}"));
    std::fs::create_dir(&root).unwrap();
    let config = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\nevents {{ worker_connections 1024; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n  fastcgi_temp_path {root}/fastcgi;\n  uwsgi_temp_path {root}/uwsgi;\n  scgi_temp_path {root}/scgi;\n  keepalive_requests 100000000;\n  keepalive_timeout 300s;\n  server {{\n    listen 127.0.0.1:{port} ssl;\n    ssl_certificate {};\n    ssl_certificate_key {};\n    ssl_protocols TLSv1.3;\n    location = /validate {{ default_type application/json; return 200 \"{quoted}\"; }}\n  }}\n}}\n",
        cert.display(),
        key.display(),
        root = root.display(),
    );
    let conf = root.join("nginx.conf");
    std::fs::write(&conf, config).unwrap();
    let mut child = on_core(cpu, std::path::Path::new("nginx"))
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(&root)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    support::wait_listening(&mut child, port, "nginx", &root.join("error.log"));
    support::Spawned {
        child,
        url: format!("https://127.0.0.1:{port}"),
    }
}

/// A review declared larger than the webhook takes is refused at once with its `{code,
/// message}` 413, unread and without a `100 Continue`, on every webhook route; one sent
/// chunked is cut at the limit with the same answer.
#[test]
fn declared_oversized_reviews_are_refused_at_once() {
    use support::raw_http::{assert_refused_at_once, declare_body, send_chunked};
    let tmp = tempfile::tempdir().unwrap();
    let policy = tmp.path().join("admission.toml");
    std::fs::write(
        &policy,
        "[[rule]]\nimages = [\"registry.example/**\"]\nverify = false\n",
    )
    .unwrap();
    let webhook = Webhook::new(&policy)
        .insecure_http()
        .trusted_root(testdata("sigstore/public/trusted_root.json"))
        .start();
    let want = json!({"code": 413, "message": "request body larger than 3145728 bytes"});
    for path in ["/validate", "/mutate", "/imagepolicy"] {
        let r = declare_body(&webhook.url, path, "application/json", 1 << 30);
        assert_refused_at_once(&r, path);
        assert_eq!(r.json(), want, "{path}");
    }
    let r = send_chunked(&webhook.url, "/validate", "application/json", 4 << 20);
    assert!(r.status_line().starts_with("HTTP/1.1 413 "), "{}", r.text);
    assert_eq!(r.json(), want);
    // The webhook still answers reviews.
    let response = validate(&webhook.url, "u1", "registry.example/app:v1");
    assert_eq!(response["allowed"], true, "{response}");
}
