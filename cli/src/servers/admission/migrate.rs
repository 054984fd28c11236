//! Migration: the subset of Sigstore policy-controller's `ClusterImagePolicy` and of Kyverno's
//! `verifyImages` rules that maps onto Signet's admission policy, read from JSON (as
//! `kubectl get clusterimagepolicy NAME -o json` or `kubectl get clusterpolicy NAME -o json`
//! print them; a `List` of them too; YAML converts with `yq -o json`).
//!
//! Every field outside that subset is refused, by its path (`spec.authorities[0].key.kms`),
//! all of them in one message, so that a migrated policy never silently means less than the
//! original. Fields that only name where public services are (`url` of Fulcio, Rekor and the
//! CT log) are accepted and noted: Signet verifies offline against `--trusted-root`.
//!
//! policy-controller (`policy.sigstore.dev/v1alpha1` and `v1beta1`), one rule per
//! `ClusterImagePolicy`:
//! * `spec.images[].glob` → `images` (a glob naming a tag or digest is refused: rules match
//!   `registry/repository`);
//! * `spec.authorities[]`: any one must pass → `signers` with `threshold = 1`:
//!   `keyless.identities[]` (`issuer`/`subject` and their `…RegExp` forms) each a signer,
//!   `key.data` (PEM) a keyed signer, `static.action: pass` → `verify = false`;
//!   `attestations[].predicateType` → `attestations` (one authority only; a `policy` over the
//!   attestation is refused);
//! * `spec.mode` (`enforce`, `warn`) → `mode`.
//!
//! Kyverno (`kyverno.io/v1` and `v2beta1`, `ClusterPolicy` and `Policy`), one rule per
//! `verifyImages` entry:
//! * `imageReferences` → `images` (Kyverno's `*` crosses `/`, so it becomes `**`; a trailing
//!   `:*` is dropped, another tag is refused);
//! * one `attestors` set: its `entries` (`keyless` `subject`/`issuer` and `…RegExp`, `keys`
//!   `publicKeys`) → `signers`, its `count` → `threshold` (default: all);
//! * `attestations[].type` / `predicateType` → `attestations` (verified by the signers);
//! * `type: Notary` with one attestor set whose `entries[].certificates` give `cert` and
//!   `certChain` (PEM) → `signature_formats = "notary"` with a notation trust store `ca:kyverno`
//!   holding those certificates and the trust policy Kyverno builds (any registry, level
//!   strict, any identity); several entries only with `count: 1`; Notary `attestations`,
//!   `keys`/`keyless` entries and other `certificates` fields are refused;
//! * `failureAction` / `spec.validationFailureAction` `Audit` → `mode = "warn"`;
//! * the rule's `match` (`resources` with `kinds`, `namespaces`, `namespaceSelector`) →
//!   `namespaces` and `namespace_selector`.
//!
//! Images matched by none of the converted rules are admitted (`no_match = "allow"`), as
//! both projects do. One difference stays: where several `ClusterImagePolicy` objects match an
//! image, policy-controller requires each of them, while Signet's first matching rule decides;
//! a note says so when there are several.

use serde_json::{Map, Value};

use signet_proto::notary::policy::TrustPolicyDocument;
use signet_verifier::NotaryTrustStore;

use super::policy::{
    LabelOperator, LabelRequirement, LabelSelector, Mode, NoMatch, PolicyFile, RuleFile,
    SignatureFormats, SignerFile,
};
use crate::client::notary::NotationConfig;

/// What converting found besides the rules.
#[derive(Default)]
struct Walk {
    /// Refused fields: `path (why)`.
    unsupported: Vec<String>,
    /// Accepted with a remark.
    notes: Vec<String>,
}

impl Walk {
    fn refuse(&mut self, path: &str, why: &str) {
        if why.is_empty() {
            self.unsupported.push(path.to_owned());
        } else {
            self.unsupported.push(format!("{path} ({why})"));
        }
    }

    /// `v` as an object, else refused.
    fn object<'a>(&mut self, v: &'a Value, path: &str) -> Option<&'a Map<String, Value>> {
        let o = v.as_object();
        if o.is_none() {
            self.refuse(path, "not an object");
        }
        o
    }

    /// Refuses every key of `m` not in `known`.
    fn only(&mut self, m: &Map<String, Value>, path: &str, known: &[&str]) {
        for k in m.keys() {
            if !known.contains(&k.as_str()) {
                self.refuse(&format!("{path}.{k}"), "");
            }
        }
    }

    fn string(&mut self, m: &Map<String, Value>, key: &str, path: &str) -> Option<String> {
        match m.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.refuse(&format!("{path}.{key}"), "not a string");
                None
            }
        }
    }

    fn list<'a>(&mut self, m: &'a Map<String, Value>, key: &str, path: &str) -> &'a [Value] {
        match m.get(key) {
            None | Some(Value::Null) => &[],
            Some(Value::Array(a)) => a,
            Some(_) => {
                self.refuse(&format!("{path}.{key}"), "not a list");
                &[]
            }
        }
    }
}

/// Converts a JSON `ClusterImagePolicy`, Kyverno policy, or `List` of them.
///
/// # Errors
/// Not JSON, another kind, or any unsupported field (all named in one message).
pub(crate) fn convert_json(text: &str) -> anyhow::Result<(PolicyFile, Vec<String>)> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("the policy starts like JSON but is not: {e}"))?;
    let items: Vec<&Value> = match &doc {
        Value::Array(a) => a.iter().collect(),
        v if v.get("kind").and_then(Value::as_str) == Some("List") => v
            .get("items")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        v => vec![v],
    };
    let mut file = PolicyFile {
        no_match: NoMatch::Allow,
        mode: Mode::Enforce,
        rules: Vec::new(),
    };
    let mut walk = Walk::default();
    let mut policies = 0;
    for (i, item) in items.iter().enumerate() {
        let at = if items.len() == 1 {
            String::new()
        } else {
            format!("items[{i}].")
        };
        let kind = item.get("kind").and_then(Value::as_str).unwrap_or_default();
        let api = item
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = item
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?");
        match (kind, api.split('/').next().unwrap_or_default()) {
            ("ClusterImagePolicy", "policy.sigstore.dev") => {
                policies += 1;
                cluster_image_policy(item, &at, name, &mut file, &mut walk);
            }
            ("ClusterPolicy" | "Policy", "kyverno.io") => {
                kyverno_policy(item, &at, kind, name, &mut file, &mut walk);
            }
            _ => anyhow::bail!(
                "{at}kind {kind:?} of apiVersion {api:?} is neither a policy-controller ClusterImagePolicy (policy.sigstore.dev) nor a Kyverno ClusterPolicy or Policy (kyverno.io)"
            ),
        }
    }
    if policies > 1 {
        walk.notes.push(format!(
            "{policies} ClusterImagePolicies: policy-controller requires every one whose globs match an image, Signet's first matching rule decides; check that their globs do not overlap"
        ));
    }
    if !walk.unsupported.is_empty() {
        anyhow::bail!(
            "fields Signet's admission policy cannot express (remove them, or write a TOML policy): {}",
            walk.unsupported.join("; ")
        );
    }
    if file.rules.is_empty() {
        anyhow::bail!("the document has no image verification rule");
    }
    Ok((file, walk.notes))
}

/// A signer from a policy-controller identity or a Kyverno keyless entry.
fn keyless_signer(m: &Map<String, Value>, path: &str, walk: &mut Walk) -> SignerFile {
    SignerFile {
        identity: walk.string(m, "subject", path),
        identity_regexp: walk.string(m, "subjectRegExp", path),
        issuer: walk.string(m, "issuer", path),
        issuer_regexp: walk.string(m, "issuerRegExp", path),
        ..SignerFile::default()
    }
}

/// Notes a public service's `url` (the trusted root decides instead) and refuses the rest of
/// a `ctlog` / `rekor` block.
fn service_block(m: &Map<String, Value>, key: &str, path: &str, walk: &mut Walk) {
    let Some(v) = m.get(key) else { return };
    let path = format!("{path}.{key}");
    let Some(o) = walk.object(v, &path) else {
        return;
    };
    for (k, v) in o {
        match k.as_str() {
            "url" => walk.notes.push(format!(
                "{path}.url ({}) ignored: Signet verifies offline against --trusted-root",
                v.as_str().unwrap_or("?")
            )),
            "ignoreTlog" | "ignoreSCT" if v == &Value::Bool(false) => {}
            "ignoreTlog" | "ignoreSCT" => walk.refuse(
                &format!("{path}.{k}"),
                "Signet always requires the transparency log entry and the SCT",
            ),
            _ => walk.refuse(&format!("{path}.{k}"), ""),
        }
    }
}

fn cluster_image_policy(doc: &Value, at: &str, name: &str, file: &mut PolicyFile, walk: &mut Walk) {
    let root = format!("{at}spec");
    let Some(spec) = doc.get("spec").and_then(|s| walk.object(s, &root)) else {
        return;
    };
    walk.only(spec, &root, &["images", "authorities", "mode"]);
    let mut rule = RuleFile {
        verify: true,
        ..RuleFile::default()
    };
    for (i, image) in walk.list(spec, "images", &root).iter().enumerate() {
        let path = format!("{root}.images[{i}]");
        let Some(o) = walk.object(image, &path) else {
            continue;
        };
        walk.only(o, &path, &["glob"]);
        if let Some(glob) = walk.string(o, "glob", &path) {
            if glob.contains('@')
                || glob
                    .rsplit('/')
                    .next()
                    .is_some_and(|last| last.contains(':'))
            {
                walk.refuse(
                    &format!("{path}.glob"),
                    "a tag or digest in a glob; Signet rules match registry/repository",
                );
            } else {
                rule.images.push(glob);
            }
        }
    }
    rule.mode = match walk.string(spec, "mode", &root).as_deref() {
        None | Some("enforce") => Some(Mode::Enforce),
        Some("warn") => Some(Mode::Warn),
        Some(other) => {
            walk.refuse(
                &format!("{root}.mode"),
                &format!("{other:?} is neither enforce nor warn"),
            );
            None
        }
    };
    let authorities = walk.list(spec, "authorities", &root);
    let mut pass = false;
    for (i, a) in authorities.iter().enumerate() {
        let path = format!("{root}.authorities[{i}]");
        let Some(a) = walk.object(a, &path) else {
            continue;
        };
        walk.only(
            a,
            &path,
            &["name", "keyless", "key", "static", "ctlog", "attestations"],
        );
        service_block(a, "ctlog", &path, walk);
        if let Some(k) = a.get("keyless") {
            let kp = format!("{path}.keyless");
            if let Some(k) = walk.object(k, &kp) {
                walk.only(k, &kp, &["url", "identities"]);
                if let Some(url) = k.get("url") {
                    walk.notes.push(format!(
                        "{kp}.url ({}) ignored: Signet verifies offline against --trusted-root",
                        url.as_str().unwrap_or("?")
                    ));
                }
                let ids = walk.list(k, "identities", &kp);
                if ids.is_empty() {
                    walk.refuse(
                        &format!("{kp}.identities"),
                        "keyless without identities accepts any signer",
                    );
                }
                for (j, id) in ids.iter().enumerate() {
                    let ip = format!("{kp}.identities[{j}]");
                    if let Some(o) = walk.object(id, &ip) {
                        walk.only(
                            o,
                            &ip,
                            &["issuer", "subject", "issuerRegExp", "subjectRegExp"],
                        );
                        rule.signers.push(keyless_signer(o, &ip, walk));
                    }
                }
            }
        }
        if let Some(k) = a.get("key") {
            let kp = format!("{path}.key");
            if let Some(k) = walk.object(k, &kp) {
                walk.only(k, &kp, &["data", "hashAlgorithm", "kms", "secretRef"]);
                if k.contains_key("kms") {
                    walk.refuse(
                        &format!("{kp}.kms"),
                        "KMS keys are not read; give the public key as key.data",
                    );
                }
                if k.contains_key("secretRef") {
                    walk.refuse(
                        &format!("{kp}.secretRef"),
                        "keys from Secrets are not read; give the public key as key.data",
                    );
                }
                if let Some(h) = walk.string(k, "hashAlgorithm", &kp) {
                    if h != "sha256" {
                        walk.refuse(&format!("{kp}.hashAlgorithm"), "only sha256");
                    }
                }
                if let Some(pem) = walk.string(k, "data", &kp) {
                    rule.signers.push(SignerFile {
                        key_pem: Some(pem),
                        ..SignerFile::default()
                    });
                }
            }
        }
        if let Some(s) = a.get("static") {
            let sp = format!("{path}.static");
            if let Some(s) = walk.object(s, &sp) {
                walk.only(s, &sp, &["action"]);
                match walk.string(s, "action", &sp).as_deref() {
                    Some("pass") => pass = true,
                    _ => walk.refuse(
                        &format!("{sp}.action"),
                        "only \"pass\" (admit unverified) maps to a rule",
                    ),
                }
            }
        }
        let atts = walk.list(a, "attestations", &path);
        if !atts.is_empty() && authorities.len() > 1 {
            walk.refuse(
                &format!("{path}.attestations"),
                "attestations of one authority among several; Signet requires a rule's attestations whoever signed",
            );
        }
        for (j, att) in atts.iter().enumerate() {
            let ap = format!("{path}.attestations[{j}]");
            if let Some(o) = walk.object(att, &ap) {
                walk.only(o, &ap, &["name", "predicateType", "policy"]);
                if o.contains_key("policy") {
                    walk.refuse(&format!("{ap}.policy"), "policies over an attestation's content (CUE, Rego) are not evaluated; Signet checks that a verified attestation of the type exists");
                }
                if let Some(t) = walk.string(o, "predicateType", &ap) {
                    rule.attestations.push(t);
                }
            }
        }
    }
    if pass {
        if authorities.len() > 1 {
            walk.refuse(
                &format!("{root}.authorities"),
                "a static pass among other authorities admits everything anyway; keep it alone",
            );
        }
        rule.verify = false;
    } else {
        rule.threshold = (rule.signers.len() > 1).then_some(1);
    }
    walk.notes.push(format!(
        "ClusterImagePolicy {name:?}: rule {} (authorities: any one passes)",
        file.rules.len() + 1
    ));
    file.rules.push(rule);
}

/// Kyverno's image reference wildcards as Signet patterns: `*` crosses `/` there, so it is
/// `**` here; a trailing `:*` (any tag) is dropped.
fn kyverno_image(reference: &str, path: &str, walk: &mut Walk) -> Option<String> {
    let r = reference.strip_suffix(":*").unwrap_or(reference);
    let last = r.rsplit('/').next().unwrap_or_default();
    if r.contains('@') || last.contains(':') {
        walk.refuse(
            path,
            "a tag or digest in an image reference; Signet rules match registry/repository",
        );
        return None;
    }
    let mut out = String::new();
    let mut rest = r;
    while let Some(i) = rest.find('*') {
        out.push_str(&rest[..i]);
        out.push_str("**");
        rest = rest[i..].trim_start_matches('*');
    }
    out.push_str(rest);
    Some(out)
}

fn kyverno_selector(v: &Value, path: &str, walk: &mut Walk) -> Option<LabelSelector> {
    let o = walk.object(v, path)?;
    walk.only(o, path, &["matchLabels", "matchExpressions"]);
    let mut s = LabelSelector::default();
    if let Some(l) = o.get("matchLabels") {
        match serde_json::from_value(l.clone()) {
            Ok(m) => s.match_labels = m,
            Err(_) => walk.refuse(&format!("{path}.matchLabels"), "not a map of strings"),
        }
    }
    for (i, e) in walk.list(o, "matchExpressions", path).iter().enumerate() {
        let ep = format!("{path}.matchExpressions[{i}]");
        let Some(e) = walk.object(e, &ep) else {
            continue;
        };
        walk.only(e, &ep, &["key", "operator", "values"]);
        let operator = match walk.string(e, "operator", &ep).as_deref() {
            Some("In") => LabelOperator::In,
            Some("NotIn") => LabelOperator::NotIn,
            Some("Exists") => LabelOperator::Exists,
            Some("DoesNotExist") => LabelOperator::DoesNotExist,
            _ => {
                walk.refuse(
                    &format!("{ep}.operator"),
                    "not In, NotIn, Exists or DoesNotExist",
                );
                continue;
            }
        };
        let values = walk
            .list(e, "values", &ep)
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        s.match_expressions.push(LabelRequirement {
            key: walk.string(e, "key", &ep).unwrap_or_default(),
            operator,
            values,
        });
    }
    Some(s)
}

/// The namespaces and namespace selector of a Kyverno rule's `match`.
fn kyverno_match(m: &Value, path: &str, rule: &mut RuleFile, walk: &mut Walk) {
    let Some(o) = walk.object(m, path) else {
        return;
    };
    walk.only(o, path, &["any", "all", "resources"]);
    let mut blocks: Vec<(String, &Value)> = Vec::new();
    for key in ["any", "all"] {
        for (i, b) in walk.list(o, key, path).iter().enumerate() {
            blocks.push((format!("{path}.{key}[{i}]"), b));
        }
    }
    if o.contains_key("resources") {
        blocks.push((path.to_owned(), m));
    }
    if blocks.len() > 1 {
        walk.refuse(
            path,
            "several match blocks; Signet scopes a rule by one set of namespaces and one selector",
        );
        return;
    }
    let Some((bp, block)) = blocks.pop() else {
        return;
    };
    let Some(b) = walk.object(block, &bp) else {
        return;
    };
    if bp != path {
        walk.only(b, &bp, &["resources"]);
    }
    let Some(r) = b.get("resources") else { return };
    let rp = format!("{bp}.resources");
    let Some(r) = walk.object(r, &rp) else { return };
    walk.only(r, &rp, &["kinds", "namespaces", "namespaceSelector"]);
    for k in walk.list(r, "kinds", &rp) {
        let kind = k.as_str().unwrap_or_default();
        if signet_proto::admission::pod_spec_pointer(kind.rsplit('/').next().unwrap_or_default())
            .is_none()
        {
            walk.notes.push(format!(
                "{rp}.kinds: {kind} has no pod spec; Signet checks the images of pods and workloads wherever its webhook is registered"
            ));
        }
    }
    rule.namespaces = walk
        .list(r, "namespaces", &rp)
        .iter()
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect();
    if let Some(s) = r.get("namespaceSelector") {
        rule.namespace_selector = kyverno_selector(s, &format!("{rp}.namespaceSelector"), walk);
    }
}

fn kyverno_policy(
    doc: &Value,
    at: &str,
    kind: &str,
    name: &str,
    file: &mut PolicyFile,
    walk: &mut Walk,
) {
    let root = format!("{at}spec");
    let Some(spec) = doc.get("spec").and_then(|s| walk.object(s, &root)) else {
        return;
    };
    walk.only(
        spec,
        &root,
        &[
            "rules",
            "validationFailureAction",
            "background",
            "webhookTimeoutSeconds",
            "failurePolicy",
            "admission",
        ],
    );
    for k in ["webhookTimeoutSeconds", "failurePolicy"] {
        if spec.contains_key(k) {
            walk.notes.push(format!("{root}.{k}: set on the webhook configuration (deploy/k8s/admission), not in the policy"));
        }
    }
    let policy_mode = match walk
        .string(spec, "validationFailureAction", &root)
        .as_deref()
    {
        None => None,
        Some(a) if a.eq_ignore_ascii_case("enforce") => Some(Mode::Enforce),
        Some(a) if a.eq_ignore_ascii_case("audit") => Some(Mode::Warn),
        Some(other) => {
            walk.refuse(
                &format!("{root}.validationFailureAction"),
                &format!("{other:?} is neither Enforce nor Audit"),
            );
            None
        }
    };
    let namespace = if kind == "Policy" {
        doc.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned)
    } else {
        None
    };
    for (i, r) in walk.list(spec, "rules", &root).iter().enumerate() {
        let rp = format!("{root}.rules[{i}]");
        let Some(r) = walk.object(r, &rp) else {
            continue;
        };
        walk.only(r, &rp, &["name", "match", "verifyImages"]);
        let images = walk.list(r, "verifyImages", &rp);
        if images.is_empty() {
            walk.refuse(&rp, "not a verifyImages rule");
        }
        for (j, v) in images.iter().enumerate() {
            let vp = format!("{rp}.verifyImages[{j}]");
            let Some(v) = walk.object(v, &vp) else {
                continue;
            };
            walk.only(
                v,
                &vp,
                &[
                    "imageReferences",
                    "attestors",
                    "attestations",
                    "failureAction",
                    "mutateDigest",
                    "verifyDigest",
                    "required",
                    "useCache",
                    "type",
                ],
            );
            let mut rule = RuleFile {
                verify: true,
                mode: policy_mode,
                ..RuleFile::default()
            };
            if let Some(m) = r.get("match") {
                kyverno_match(m, &format!("{rp}.match"), &mut rule, walk);
            }
            if let Some(ns) = &namespace {
                rule.namespaces = vec![ns.clone()];
            }
            for (k, image) in walk.list(v, "imageReferences", &vp).iter().enumerate() {
                let ip = format!("{vp}.imageReferences[{k}]");
                match image.as_str() {
                    Some(s) => rule.images.extend(kyverno_image(s, &ip, walk)),
                    None => walk.refuse(&ip, "not a string"),
                }
            }
            match walk.string(v, "failureAction", &vp).as_deref() {
                None => {}
                Some(a) if a.eq_ignore_ascii_case("enforce") => rule.mode = Some(Mode::Enforce),
                Some(a) if a.eq_ignore_ascii_case("audit") => rule.mode = Some(Mode::Warn),
                Some(other) => walk.refuse(
                    &format!("{vp}.failureAction"),
                    &format!("{other:?} is neither Enforce nor Audit"),
                ),
            }
            let notary = match walk.string(v, "type", &vp).as_deref() {
                None | Some("Cosign") => false,
                Some("Notary") => true,
                Some(other) => {
                    walk.refuse(
                        &format!("{vp}.type"),
                        &format!(
                            "{other:?} signatures are not verified; Cosign (Sigstore) or Notary"
                        ),
                    );
                    false
                }
            };
            for (k, refuse_when, why) in [
                ("verifyDigest", Value::Bool(true), "Signet does not require references by digest; /mutate pins tags to the digests it verified"),
                ("required", Value::Bool(false), "images a rule matches are always verified"),
            ] {
                if v.get(k) == Some(&refuse_when) {
                    walk.refuse(&format!("{vp}.{k}"), why);
                }
            }
            if v.contains_key("mutateDigest") {
                walk.notes.push(format!(
                    "{vp}.mutateDigest: Signet's /mutate endpoint pins verified tags to digests"
                ));
            }
            let attestors = walk.list(v, "attestors", &vp);
            if attestors.len() > 1 {
                walk.refuse(
                    &format!("{vp}.attestors"),
                    "several attestor sets; a Signet rule has one set of signers with a threshold",
                );
            }
            if attestors.is_empty() {
                walk.refuse(&format!("{vp}.attestors"), "no attestors: Signet verifies a rule's signatures and attestations by the rule's signers");
            }
            if notary {
                if let Some(set) = attestors.first() {
                    let sp = format!("{vp}.attestors[0]");
                    if let Some(set) = walk.object(set, &sp) {
                        kyverno_notary_attestors(set, &sp, &mut rule, walk);
                    }
                }
                if v.contains_key("attestations") {
                    walk.refuse(
                        &format!("{vp}.attestations"),
                        "attestations signed with Notary are not verified; Signet verifies the image's Notary Project signature",
                    );
                }
            } else if let Some(set) = attestors.first() {
                let sp = format!("{vp}.attestors[0]");
                if let Some(set) = walk.object(set, &sp) {
                    walk.only(set, &sp, &["count", "entries"]);
                    for (k, e) in walk.list(set, "entries", &sp).iter().enumerate() {
                        let ep = format!("{sp}.entries[{k}]");
                        let Some(e) = walk.object(e, &ep) else {
                            continue;
                        };
                        walk.only(e, &ep, &["keyless", "keys"]);
                        if let Some(kl) = e.get("keyless") {
                            let kp = format!("{ep}.keyless");
                            if let Some(kl) = walk.object(kl, &kp) {
                                walk.only(
                                    kl,
                                    &kp,
                                    &[
                                        "subject",
                                        "issuer",
                                        "subjectRegExp",
                                        "issuerRegExp",
                                        "rekor",
                                        "ctlog",
                                    ],
                                );
                                service_block(kl, "rekor", &kp, walk);
                                service_block(kl, "ctlog", &kp, walk);
                                rule.signers.push(keyless_signer(kl, &kp, walk));
                            }
                        }
                        if let Some(ks) = e.get("keys") {
                            let kp = format!("{ep}.keys");
                            if let Some(ks) = walk.object(ks, &kp) {
                                walk.only(
                                    ks,
                                    &kp,
                                    &["publicKeys", "rekor", "ctlog", "signatureAlgorithm"],
                                );
                                service_block(ks, "rekor", &kp, walk);
                                service_block(ks, "ctlog", &kp, walk);
                                if let Some(alg) = walk.string(ks, "signatureAlgorithm", &kp) {
                                    if alg != "sha256" {
                                        walk.refuse(
                                            &format!("{kp}.signatureAlgorithm"),
                                            "only sha256",
                                        );
                                    }
                                }
                                match walk.string(ks, "publicKeys", &kp) {
                                    Some(pem) if pem.matches("-----BEGIN").count() == 1 => rule.signers.push(SignerFile {
                                        key_pem: Some(pem),
                                        ..SignerFile::default()
                                    }),
                                    Some(_) => walk.refuse(&format!("{kp}.publicKeys"), "give one PEM public key per entry (a k8s:// or kms:// reference, or several keys, is not read)"),
                                    None => walk.refuse(&format!("{kp}.publicKeys"), "missing"),
                                }
                            }
                        }
                    }
                    match set.get("count") {
                        None => {}
                        Some(c) => match c.as_u64().and_then(|c| usize::try_from(c).ok()) {
                            Some(c) => rule.threshold = Some(c),
                            None => walk.refuse(&format!("{sp}.count"), "not a positive number"),
                        },
                    }
                }
            }
            let attestations = if notary {
                &[][..]
            } else {
                walk.list(v, "attestations", &vp)
            };
            for (k, a) in attestations.iter().enumerate() {
                let ap = format!("{vp}.attestations[{k}]");
                let Some(a) = walk.object(a, &ap) else {
                    continue;
                };
                walk.only(a, &ap, &["type", "predicateType", "name"]);
                match walk
                    .string(a, "type", &ap)
                    .or_else(|| walk.string(a, "predicateType", &ap))
                {
                    Some(t) => rule.attestations.push(t),
                    None => walk.refuse(&ap, "no type"),
                }
            }
            walk.notes.push(format!(
                "{kind} {name:?} {vp}: rule {}",
                file.rules.len() + 1
            ));
            file.rules.push(rule);
        }
    }
}

/// The trust policy Kyverno gives notation for a `type: Notary` rule: any registry, level
/// strict, the attestors' certificates as the one `ca` store, any identity.
const KYVERNO_NOTARY_TRUST_POLICY: &str = r#"{"version":"1.0","trustPolicies":[{"name":"kyverno","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:kyverno"],"trustedIdentities":["*"]}]}"#;

/// A Kyverno `type: Notary` attestor set → a Notary Project rule (`signature_formats =
/// "notary"`) whose notation trust store `ca:kyverno` holds every entry's
/// `certificates.cert` and `certificates.certChain`, under the trust policy Kyverno builds for
/// notation ([`KYVERNO_NOTARY_TRUST_POLICY`]). With several entries only `count: 1` maps: any
/// entry's certificates then suffice, which is one store holding all of them.
fn kyverno_notary_attestors(
    set: &Map<String, Value>,
    sp: &str,
    rule: &mut RuleFile,
    walk: &mut Walk,
) {
    walk.only(set, sp, &["count", "entries"]);
    let policy = match TrustPolicyDocument::parse(KYVERNO_NOTARY_TRUST_POLICY.as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            walk.refuse(sp, &format!("internal trust policy: {e}"));
            return;
        }
    };
    let Some(store_name) = policy
        .policies
        .first()
        .and_then(|p| p.trust_stores.first())
        .cloned()
    else {
        return;
    };
    let mut store = NotaryTrustStore::new();
    let entries = walk.list(set, "entries", sp);
    let mut certs = 0usize;
    for (k, e) in entries.iter().enumerate() {
        let ep = format!("{sp}.entries[{k}]");
        let Some(e) = walk.object(e, &ep) else {
            continue;
        };
        for key in e.keys().filter(|k| *k != "certificates") {
            walk.refuse(
                &format!("{ep}.{key}"),
                "a Notary attestor is given by its certificates (entries[].certificates.cert / certChain)",
            );
        }
        let cp = format!("{ep}.certificates");
        let Some(c) = e.get("certificates") else {
            walk.refuse(&cp, "missing");
            continue;
        };
        let Some(c) = walk.object(c, &cp) else {
            continue;
        };
        for key in c
            .keys()
            .filter(|k| !["cert", "certChain"].contains(&k.as_str()))
        {
            walk.refuse(
                &format!("{cp}.{key}"),
                "not used by Notary verification (only cert and certChain are)",
            );
        }
        for field in ["cert", "certChain"] {
            let fp = format!("{cp}.{field}");
            let Some(text) = walk.string(c, field, &cp) else {
                continue;
            };
            if text.contains("{{") {
                walk.refuse(
                    &fp,
                    "a Kyverno variable is not resolved; give the PEM certificate itself",
                );
                continue;
            }
            let blocks = match pem::parse_many(text.as_bytes()) {
                Ok(b) if !b.is_empty() => b,
                Ok(_) => {
                    walk.refuse(&fp, "no PEM certificate");
                    continue;
                }
                Err(e) => {
                    walk.refuse(&fp, &format!("not PEM: {e}"));
                    continue;
                }
            };
            for b in blocks {
                if b.tag() != "CERTIFICATE" {
                    walk.refuse(&fp, &format!("a PEM {} block, not a CERTIFICATE", b.tag()));
                    continue;
                }
                match store.add_certificate(store_name.clone(), b.into_contents()) {
                    Ok(()) => certs += 1,
                    Err(e) => walk.refuse(&fp, &e.to_string()),
                }
            }
        }
    }
    if entries.is_empty() {
        walk.refuse(
            &format!("{sp}.entries"),
            "no entries: a Notary attestor needs certificates",
        );
    }
    match set.get("count") {
        None if entries.len() <= 1 => {}
        Some(c) if c.as_u64() == Some(1) => {}
        Some(c) if c.as_u64().is_some_and(|c| c > 1 && usize::try_from(c).is_ok_and(|c| c <= entries.len())) => walk.refuse(
            &format!("{sp}.count"),
            "a Signet Notary rule admits an image whose signature chains to any of the attestors' certificates; several entries each verifying is not expressed (count 1 is)",
        ),
        None => walk.refuse(
            &format!("{sp}.count"),
            "absent, so every one of several Notary entries must verify, which a Signet Notary rule does not express; give count: 1 (any entry) or one entry",
        ),
        Some(_) => walk.refuse(
            &format!("{sp}.count"),
            "not a number between 1 and the number of entries",
        ),
    }
    if certs > 0 {
        rule.signature_formats = SignatureFormats::Notary;
        rule.notation_inline = Some(NotationConfig { policy, store });
        walk.notes.push(format!(
            "{sp}: Notary Project signatures whose chain holds one of the {certs} certificates (notation trust policy: any registry, level strict, any identity, as Kyverno builds it)"
        ));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn vector(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/../testdata/admission-migration/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn refused(name: &str) -> String {
        format!("{:#}", convert_json(&vector(name)).err().unwrap())
    }

    #[test]
    fn kyverno_wildcards_become_patterns() {
        let mut w = Walk::default();
        assert_eq!(
            kyverno_image("ghcr.io/kyverno/test-verify-image:*", "p", &mut w).unwrap(),
            "ghcr.io/kyverno/test-verify-image"
        );
        assert_eq!(
            kyverno_image("ghcr.io/chipzoller/zulu*", "p", &mut w).unwrap(),
            "ghcr.io/chipzoller/zulu**"
        );
        assert_eq!(kyverno_image("*", "p", &mut w).unwrap(), "**");
        assert!(kyverno_image("ghcr.io/a/b:v1", "p", &mut w).is_none());
        assert!(kyverno_image("ghcr.io/a/b@sha256:00", "p", &mut w).is_none());
        assert_eq!(w.unsupported.len(), 2);
    }

    /// policy-controller's own examples (testdata/admission-migration/README.md).
    #[test]
    fn policy_controller_examples() {
        let (file, notes) = convert_json(&vector("pc-signed-by-github-actions.json")).unwrap();
        assert_eq!(file.no_match, NoMatch::Allow);
        let r = &file.rules[0];
        assert_eq!(r.images, vec!["**".to_owned()]);
        assert_eq!(r.signers.len(), 1);
        assert_eq!(
            r.signers[0].issuer.as_deref(),
            Some("https://token.actions.githubusercontent.com")
        );
        assert_eq!(
            r.signers[0].identity.as_deref(),
            Some("https://github.com/sigstore/policy-controller/.github/workflows/policy-tester-examples.yml@refs/head/main")
        );
        assert!(
            notes.iter().any(|n| n
                .contains("spec.authorities[0].keyless.url (https://fulcio.sigstore.dev) ignored")),
            "{notes:?}"
        );
        // It loads as a policy.
        super::super::policy::AdmissionPolicy::from_file(file, std::path::Path::new(".")).unwrap();

        assert_eq!(
            refused("pc-custom-key-attestation-sbom-spdxjson.json"),
            "fields Signet's admission policy cannot express (remove them, or write a TOML policy): spec.authorities[0].attestations[0].policy (policies over an attestation's content (CUE, Rego) are not evaluated; Signet checks that a verified attestation of the type exists)"
        );
        assert_eq!(
            refused("pc-signed-by-aws-kms-key.json"),
            "fields Signet's admission policy cannot express (remove them, or write a TOML policy): spec.authorities[0].key.kms (KMS keys are not read; give the public key as key.data)"
        );
        assert_eq!(
            refused("pc-release-signed-by-github-actions.json"),
            "fields Signet's admission policy cannot express (remove them, or write a TOML policy): spec.images[0].glob (a tag or digest in a glob; Signet rules match registry/repository)"
        );
    }

    /// Kyverno's own conformance policies (testdata/admission-migration/README.md).
    #[test]
    fn kyverno_examples() {
        assert_eq!(
            refused("kyverno-keyed-basic-namespace-selector.json"),
            "fields Signet's admission policy cannot express (remove them, or write a TOML policy): spec.rules[0].verifyImages[0].attestors[0].entries[0].keys.rekor.ignoreTlog (Signet always requires the transparency log entry and the SCT)"
        );
        assert_eq!(
            refused("kyverno-keyless-attestation-regexp.json"),
            "fields Signet's admission policy cannot express (remove them, or write a TOML policy): spec.rules[0].verifyImages[0].attestors (no attestors: Signet verifies a rule's signatures and attestations by the rule's signers); spec.rules[0].verifyImages[0].attestations[0].attestors"
        );
        let e = refused("kyverno-keyless-attestations-multiple-subjects-counts-1.json");
        assert!(e.contains("spec.rules[0].verifyImages[0].attestations[0].attestors; spec.rules[0].verifyImages[0].attestations[0].conditions"), "{e}");
        // The keyed policy without the refused field: a keyed signer, scoped by the selector.
        let mut doc: Value =
            serde_json::from_str(&vector("kyverno-keyed-basic-namespace-selector.json")).unwrap();
        doc["spec"]["rules"][0]["verifyImages"][0]["attestors"][0]["entries"][0]["keys"]["rekor"]
            .as_object_mut()
            .unwrap()
            .remove("ignoreTlog");
        let (file, notes) = convert_json(&doc.to_string()).unwrap();
        let r = &file.rules[0];
        assert_eq!(
            r.images,
            vec!["ghcr.io/kyverno/test-verify-image".to_owned()]
        );
        assert!(r.signers[0]
            .key_pem
            .as_deref()
            .unwrap()
            .contains("MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra"));
        assert_eq!(r.mode, Some(Mode::Enforce));
        let s = r.namespace_selector.as_ref().unwrap();
        assert_eq!(s.match_expressions[0].key, "signed");
        assert_eq!(s.match_expressions[0].operator, LabelOperator::In);
        assert!(
            notes.iter().any(|n| n.contains("webhookTimeoutSeconds")),
            "{notes:?}"
        );
        super::super::policy::AdmissionPolicy::from_file(file, std::path::Path::new(".")).unwrap();
    }

    /// Kyverno's documented `type: Notary` policy (kyverno/website) converts to a Notary rule
    /// whose trust store holds the attestor's certificate; what does not map is refused by path.
    #[test]
    fn kyverno_notary_attestors() {
        let (file, notes) = convert_json(&vector("kyverno-notary-check-image.json")).unwrap();
        let r = &file.rules[0];
        assert_eq!(
            r.images,
            vec!["ghcr.io/kyverno/test-verify-image**".to_owned()]
        );
        assert_eq!(r.signature_formats, SignatureFormats::Notary);
        assert!(r.signers.is_empty() && r.threshold.is_none());
        let c = r.notation_inline.as_ref().unwrap();
        let name = &c.policy.policies[0].trust_stores[0];
        assert_eq!(name.to_string(), "ca:kyverno");
        assert_eq!(c.store.certificates(name).len(), 1);
        assert!(
            notes
                .iter()
                .any(|n| n.contains("any registry, level strict, any identity")),
            "{notes:?}"
        );
        let policy =
            super::super::policy::AdmissionPolicy::from_file(file, std::path::Path::new("."))
                .unwrap();
        let v = policy.rules[0].verification.as_ref().unwrap();
        assert_eq!(v.formats, SignatureFormats::Notary);
        assert!(v.notary.is_some());

        let doc: Value = serde_json::from_str(&vector("kyverno-notary-check-image.json")).unwrap();
        let cert = doc["spec"]["rules"][0]["verifyImages"][0]["attestors"][0]["entries"][0]
            ["certificates"]["cert"]
            .clone();
        let refuse = |edit: &dyn Fn(&mut Value)| {
            let mut d = doc.clone();
            edit(&mut d["spec"]["rules"][0]["verifyImages"][0]);
            format!("{:#}", convert_json(&d.to_string()).err().unwrap())
        };
        let at = "spec.rules[0].verifyImages[0]";
        let two =
            serde_json::json!([{"certificates": {"cert": cert}}, {"certificates": {"cert": cert}}]);
        let e = refuse(&|v| {
            v["attestors"][0]["entries"] = two.clone();
            v["attestors"][0]["count"] = 2.into();
        });
        assert!(
            e.contains(&format!(
                "{at}.attestors[0].count (a Signet Notary rule admits"
            )),
            "{e}"
        );
        let e = refuse(&|v| {
            v["attestors"][0]["entries"] = two.clone();
            v["attestors"][0].as_object_mut().unwrap().remove("count");
        });
        assert!(
            e.contains(&format!("{at}.attestors[0].count (absent")),
            "{e}"
        );
        // count 1 over two entries maps: one store with both.
        let mut d = doc.clone();
        d["spec"]["rules"][0]["verifyImages"][0]["attestors"][0]["entries"] = two.clone();
        let (f, _) = convert_json(&d.to_string()).unwrap();
        let c = f.rules[0].notation_inline.as_ref().unwrap();
        assert_eq!(
            c.store
                .certificates(&c.policy.policies[0].trust_stores[0])
                .len(),
            2
        );
        let e = refuse(&|v| {
            v["attestors"][0]["entries"][0]["keys"] = serde_json::json!({"publicKeys": "x"});
        });
        assert!(
            e.contains(&format!(
                "{at}.attestors[0].entries[0].keys (a Notary attestor is given by its certificates"
            )),
            "{e}"
        );
        let e = refuse(&|v| {
            v["attestors"][0]["entries"][0]["certificates"]["rekor"] =
                serde_json::json!({"url": "https://rekor.sigstore.dev"});
        });
        assert!(
            e.contains(&format!(
                "{at}.attestors[0].entries[0].certificates.rekor (not used by Notary verification"
            )),
            "{e}"
        );
        let e = refuse(&|v| {
            v["attestors"][0]["entries"][0]["certificates"]["cert"] =
                "{{ keys.data.certificate }}".into();
        });
        assert!(e.contains(&format!("{at}.attestors[0].entries[0].certificates.cert (a Kyverno variable is not resolved")), "{e}");
        let e = refuse(&|v| {
            v["attestors"][0]["entries"][0]["certificates"]["cert"] =
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".into();
        });
        assert!(
            e.contains(&format!("{at}.attestors[0].entries[0].certificates.cert (")),
            "{e}"
        );
        let e = refuse(&|v| {
            v["attestations"] = serde_json::json!([{"type": "sbom/cyclone-dx"}]);
        });
        assert!(
            e.contains(&format!(
                "{at}.attestations (attestations signed with Notary are not verified"
            )),
            "{e}"
        );
        let e = refuse(&|v| v["type"] = "SigstoreBundle".into());
        assert!(
            e.contains(&format!(
                "{at}.type (\"SigstoreBundle\" signatures are not verified"
            )),
            "{e}"
        );
    }
}
