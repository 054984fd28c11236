//! Fuzzes the Kubernetes `admission.k8s.io/v1` AdmissionReview reader of
//! `signet_proto::admission` (the body `signet admission` gets on `/validate` and `/mutate`;
//! the object in it is whatever a user submitted), and the answer it writes.
//!
//! Asserts: a body is accepted exactly when it is JSON with the v1 `apiVersion` and `kind`, a
//! `request` object and a non-empty string `uid`, and the error names the first of these that
//! fails; the returned uid, kind, name and namespace are the request's; the object is absent
//! exactly when it is missing or null; only the kinds with a pod spec list images; every image
//! pointer is a valid RFC 6901 JSON Pointer under the kind's pod spec that resolves, in the
//! object, to a string equal to the image, and every container of the three lists is found,
//! in order; and the answer carries the uid, and its JSON Patch (base64) replaces exactly those
//! pointers, so applying it to the object pins each image.
//!
//! The same bytes go to the ImagePolicyWebhook reader (`parse_image_review`, `/imagepolicy`):
//! it accepts exactly JSON with the `imagepolicy.k8s.io/v1alpha1` `ImageReview` apiVersion and
//! kind, a `spec` object and a `spec.containers` list whose entries all have an `image`
//! string, string-valued annotations and a string namespace (or none), whatever the
//! request's `status` says; the images are those strings, in order; and its answer carries
//! the decision.
#![no_main]
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use signet_proto::admission::{
    image_review_response, object_images, parse_image_review, parse_review, pod_spec_pointer,
    review_response, ImageField, ObjectError, ObjectImages, ReviewError, Verdict,
};

/// The ImageReview reader's properties (see the module docs).
fn check_image_review(data: &[u8]) {
    let parsed = parse_image_review(data);
    let Ok(v) = signet_proto::json::from_slice::<Value>(data) else {
        assert!(parsed.is_err());
        return;
    };
    let expected: Option<Vec<String>> = (|| {
        if v.get("apiVersion")?.as_str()? != "imagepolicy.k8s.io/v1alpha1"
            || v.get("kind")?.as_str()? != "ImageReview"
        {
            return None;
        }
        let spec = v.get("spec")?.as_object()?;
        let images = spec
            .get("containers")?
            .as_array()?
            .iter()
            .map(|c| c.get("image")?.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()?;
        match spec.get("annotations") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) if m.values().all(Value::is_string) => {}
            Some(_) => return None,
        }
        match spec.get("namespace") {
            None | Some(Value::Null | Value::String(_)) => {}
            Some(_) => return None,
        }
        Some(images)
    })();
    match (parsed, expected) {
        (Ok(r), Some(images)) => {
            assert_eq!(r.images, images);
            let answer = serde_json::to_value(image_review_response(false, "denied", &[])).unwrap();
            assert_eq!(answer["status"]["allowed"], false);
            assert_eq!(answer["kind"], "ImageReview");
        }
        (Err(_), None) => {}
        (p, e) => panic!("ImageReview reader disagrees: {p:?} vs {e:?}"),
    }
}

/// An RFC 6901 pointer: empty, or `/`-separated tokens in which `~` is only `~0` or `~1`.
fn is_json_pointer(p: &str) -> bool {
    if p.is_empty() {
        return true;
    }
    let Some(rest) = p.strip_prefix('/') else {
        return false;
    };
    rest.split('/').all(|token| {
        let mut chars = token.chars();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                return false;
            }
        }
        true
    })
}

fuzz_target!(|data: &[u8]| {
    check_image_review(data);
    let parsed = parse_review(data);
    let review: Value = match signet_proto::json::from_slice(data) {
        Ok(v) => v,
        Err(_) => {
            assert!(matches!(parsed, Err(ReviewError::NotJson { .. })));
            return;
        }
    };
    if review.get("apiVersion").and_then(Value::as_str) != Some("admission.k8s.io/v1")
        || review.get("kind").and_then(Value::as_str) != Some("AdmissionReview")
    {
        assert!(matches!(parsed, Err(ReviewError::NotAdmissionReview)));
        return;
    }
    let Some(request) = review.get("request").filter(|r| r.is_object()) else {
        assert!(matches!(parsed, Err(ReviewError::NoRequest)));
        return;
    };
    let Some(uid) = request.get("uid").and_then(Value::as_str) else {
        assert!(matches!(parsed, Err(ReviewError::NoUid)));
        return;
    };
    if uid.is_empty() {
        assert!(matches!(parsed, Err(ReviewError::NoUid)));
        return;
    }
    let r = parsed.expect("a v1 AdmissionReview with a request and a uid is accepted");
    assert_eq!(r.uid, uid);
    let kind = request.pointer("/kind/kind").and_then(Value::as_str);
    assert_eq!(r.kind, kind.unwrap_or(""));
    let name = request
        .pointer("/object/metadata/name")
        .or_else(|| request.get("name"))
        .and_then(Value::as_str);
    assert_eq!(r.name, name.unwrap_or(""));
    assert_eq!(
        r.namespace,
        request
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or("")
    );

    let object = request.get("object").unwrap_or(&Value::Null);
    let base = pod_spec_pointer(&r.kind);
    match &r.images {
        ObjectImages::Absent => assert!(object.is_null()),
        ObjectImages::NoPodSpec => {
            assert!(!object.is_null());
            assert_eq!(base, None);
        }
        ObjectImages::Malformed(e) => {
            assert!(!object.is_null());
            let base = base.expect("only kinds with a pod spec are read");
            let spec = object.pointer(base);
            match e {
                ObjectError::NoPodSpec { kind } => {
                    assert_eq!(kind, &r.kind);
                    assert!(spec.is_none());
                }
                ObjectError::NotAList { field } => {
                    let list = spec
                        .and_then(|s| s.get(*field))
                        .expect("the field is there");
                    assert!(!list.is_array());
                }
                ObjectError::NoImage { field, name } => {
                    let list = spec
                        .and_then(|s| s.get(*field))
                        .and_then(Value::as_array)
                        .expect("the list is there");
                    let bad: Vec<&Value> = list
                        .iter()
                        .filter(|c| c.get("image").and_then(Value::as_str).is_none())
                        .collect();
                    let first = bad.first().expect("a container without an image");
                    assert_eq!(name.as_deref(), first.get("name").and_then(Value::as_str));
                }
                _ => panic!("unexpected object error {e}"),
            }
            assert!(!e.to_string().is_empty());
        }
        ObjectImages::Containers(found) => {
            let base = base.expect("only kinds with a pod spec list images");
            assert_eq!(
                object_images(&r.kind, object).ok(),
                Some(Some(found.clone()))
            );
            let spec = object.pointer(base).expect("the pod spec is there");
            let mut want = Vec::new();
            for field in ["initContainers", "containers", "ephemeralContainers"] {
                for (i, c) in spec
                    .get(field)
                    .map(|l| l.as_array().expect("a list"))
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let image = c.get("image").and_then(Value::as_str).expect("an image");
                    want.push((format!("{base}/{field}/{i}/image"), image));
                }
            }
            assert_eq!(found.len(), want.len());
            for (f, (pointer, image)) in found.iter().zip(&want) {
                assert!(is_json_pointer(&f.pointer), "{}", f.pointer);
                assert!(f.pointer.starts_with(base));
                assert_eq!(&f.pointer, pointer);
                assert_eq!(&f.image, image);
                assert_eq!(
                    object.pointer(&f.pointer).and_then(Value::as_str),
                    Some(f.image.as_str())
                );
            }

            // The /mutate answer: pin every image, apply the patch, read the pins back.
            let pins: Vec<ImageField> = found
                .iter()
                .map(|f| ImageField {
                    pointer: f.pointer.clone(),
                    image: format!("{}@sha256:{}", f.image, "0".repeat(64)),
                })
                .collect();
            let answer = serde_json::to_value(review_response(
                &r.uid,
                &Verdict::Allow {
                    warnings: &[],
                    audit: &[],
                    patch: &pins,
                },
            ))
            .unwrap();
            let response = &answer["response"];
            assert_eq!(answer["apiVersion"], "admission.k8s.io/v1");
            assert_eq!(answer["kind"], "AdmissionReview");
            assert_eq!(response["uid"].as_str(), Some(uid));
            assert_eq!(response["allowed"], true);
            if pins.is_empty() {
                assert!(response.get("patch").is_none());
                assert!(response.get("patchType").is_none());
            } else {
                assert_eq!(response["patchType"], "JSONPatch");
                let patch = B64
                    .decode(response["patch"].as_str().expect("a base64 patch"))
                    .expect("base64");
                let patch: Vec<Value> =
                    signet_proto::json::from_slice(&patch).expect("a JSON Patch");
                let mut patched = object.clone();
                for op in &patch {
                    assert_eq!(op["op"], "replace");
                    let path = op["path"].as_str().expect("a path");
                    let target = patched.pointer_mut(path).expect("the path exists");
                    assert!(target.is_string());
                    *target = op["value"].clone();
                }
                for p in &pins {
                    assert_eq!(
                        patched.pointer(&p.pointer).and_then(Value::as_str),
                        Some(p.image.as_str())
                    );
                }
            }
        }
    }

    let denied = serde_json::to_value(review_response(
        &r.uid,
        &Verdict::Deny { message: "denied" },
    ))
    .unwrap();
    assert_eq!(denied["response"]["uid"].as_str(), Some(uid));
    assert_eq!(denied["response"]["allowed"], false);
    assert_eq!(denied["response"]["status"]["code"], 403);
});
