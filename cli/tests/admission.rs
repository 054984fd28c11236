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
//! Fails when a tool (node with oauth2-mock-server, docker-registry, umoci, skopeo, openssl) is
//! missing.

#![allow(clippy::unwrap_used)]

mod support;
#[path = "support/tls.rs"]
mod tls;

use std::process::Command;

use serde_json::{json, Value};
use support::{require_tools, run, sign_image, signet, spawn_until, stack, text, TestRegistry};

const ALICE: &str = "alice@example.com";
const MALLORY: &str = "mallory@example.com";

/// An AdmissionReview for `object` of `kind` (operation CREATE).
fn review(uid: &str, kind: &str, object: &Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": kind},
            "resource": {"group": "", "version": "v1", "resource": "x"},
            "namespace": "prod",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:ci:deployer"},
            "object": object,
            "dryRun": false,
        }
    })
}

fn pod(images: &[&str]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
           "spec": {"containers": containers}})
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
        let out = sign_image(
            signet(),
            &server,
            &oidc.token(who),
            &format!("{r}/{image}:v1"),
        );
        assert!(out.status.success(), "sign {image}: {}", text(&out));
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
            .contains("3 rules (2 verify signatures, 1 admit unverified)"),
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
    let out = run(signet()
        .args(["admission", "--listen", "127.0.0.1:0", "--policy"])
        .arg(&policy)
        .arg("--trusted-root")
        .arg(server.trusted_root()));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--tls-cert"),
        "{}",
        text(&out)
    );

    let webhook = spawn_until(
        signet()
            .args(["admission", "--listen", "127.0.0.1:0", "--policy"])
            .arg(&policy)
            .arg("--trusted-root")
            .arg(server.trusted_root())
            .arg("--tls-cert")
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key),
        "signet admission listening on ",
    );
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
        serde_json::from_slice(&raw).unwrap()
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
    let out = sign_image(
        signet(),
        &server,
        &oidc.token(ALICE),
        &format!("{r}/cache/app:v1"),
    );
    assert!(out.status.success(), "sign: {}", text(&out));

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
    let webhook = |extra: &[&str]| {
        spawn_until(
            signet()
                .args(["admission", "--listen", "127.0.0.1:0", "--insecure-http"])
                .args(extra)
                .arg("--policy")
                .arg(&policy)
                .arg("--trusted-root")
                .arg(server.trusted_root()),
            "signet admission listening on ",
        )
    };
    let cached = webhook(&[]);
    let uncached = webhook(&["--cache-ttl-secs", "0"]);
    let client = reqwest::blocking::Client::new();
    let call = |url: &str, uid: &str, image: &str| -> Value {
        let resp = client
            .post(format!("{url}/validate"))
            .json(&review(uid, "Pod", &pod(&[image])))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.json::<Value>().unwrap()["response"].clone()
    };
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
    let out = sign_image(signet(), &server, &oidc.token(ALICE), &late);
    assert!(out.status.success(), "sign late: {}", text(&out));
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
        let out = sign_image(
            signet(),
            &server,
            &oidc.token(who),
            &format!("{host}/{image}:v1"),
        );
        assert!(out.status.success(), "sign {image}: {}", text(&out));
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
    let webhook = spawn_until(
        signet()
            .args(["admission", "--listen", "127.0.0.1:0", "--insecure-http"])
            .arg("--policy")
            .arg(&policy)
            .arg("--trusted-root")
            .arg(server.trusted_root()),
        "signet admission listening on ",
    );
    let client = reqwest::blocking::Client::new();
    let call = |uid: &str, image: &str| -> Value {
        let resp = client
            .post(format!("{}/validate", webhook.url))
            .json(&review(uid, "Pod", &pod(&[image])))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.json::<Value>().unwrap()["response"].clone()
    };
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
