//! The Kubernetes admission webhook wire format, `admission.k8s.io/v1` `AdmissionReview`, as
//! far as an image-checking webhook reads and answers it: the request's `uid`, the kind of the
//! object under review, its name and namespace, and the container images its pod spec would
//! run, each with the RFC 6901 JSON Pointer of its `image` field (which a mutating webhook's
//! JSON Patch, RFC 6902, replaces); and the `AdmissionReview` answer, with an optional
//! JSON Patch; and the ImagePolicyWebhook's `imagepolicy.k8s.io/v1alpha1` `ImageReview`
//! ([`parse_image_review`], [`image_review_response`]).
//!
//! Spec: Kubernetes "Dynamic Admission Control" (`admission.k8s.io/v1` `AdmissionReview`,
//! `AdmissionRequest` and `AdmissionResponse`), and the pod spec of the core/v1 `Pod`, apps/v1
//! `Deployment`, `ReplicaSet`, `StatefulSet` and `DaemonSet`, batch/v1 `Job` and `CronJob`, and
//! core/v1 `ReplicationController`: `containers`, `initContainers` and `ephemeralContainers`,
//! each a list of objects with an `image` string.
//!
//! The body comes from the API server, but the object in it is whatever a user submitted: it
//! is read as untrusted JSON (serde_json bounds the nesting depth).
//!
//! What this module does not do: any I/O, the decision itself (policy, registry lookups,
//! signature checks live in the `signet` binary's `admission` command), the
//! `admission.k8s.io/v1beta1` API, or other kinds that run containers (a custom resource with
//! a pod template is reported as having no pod spec). It does not check the other fields of
//! the request (`operation`, `userInfo`, `dryRun`, `oldObject`, ...), nor validate image
//! references (see [`crate::oci::Reference`]).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::Value;

/// The `apiVersion` of the reviews read and written here.
pub const API_VERSION: &str = "admission.k8s.io/v1";
/// The `kind` of a review.
pub const KIND: &str = "AdmissionReview";

/// Why a body is not an `admission.k8s.io/v1` `AdmissionReview` request (the webhook answers
/// these with a 400, since there is no uid to answer to).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// The body is not JSON.
    #[error("the body is not JSON: {source}")]
    NotJson {
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// `apiVersion` is not `admission.k8s.io/v1` or `kind` not `AdmissionReview`.
    #[error("expected an AdmissionReview of apiVersion admission.k8s.io/v1")]
    NotAdmissionReview,
    /// `request` is missing or not an object.
    #[error("the AdmissionReview has no request")]
    NoRequest,
    /// `request.uid` is missing, empty or not a string.
    #[error("the AdmissionReview request has no uid")]
    NoUid,
}

/// Why the object of a well-formed review has no readable list of images (the webhook denies
/// it: it cannot tell what would run).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectError {
    /// A kind that has a pod spec, without one at the expected place.
    #[error("the {kind} has no pod spec")]
    NoPodSpec {
        /// The object's kind.
        kind: String,
    },
    /// `containers`, `initContainers` or `ephemeralContainers` is not a list.
    #[error("pod spec field {field} is not a list")]
    NotAList {
        /// The field.
        field: &'static str,
    },
    /// A container without an `image` string.
    #[error("container {:?} in {field} has no image", .name.as_deref().unwrap_or("?"))]
    NoImage {
        /// The list it is in.
        field: &'static str,
        /// Its `name`, when that is a string.
        name: Option<String>,
    },
}

/// One container image field: where it is and what it holds. As a JSON Patch target, `image`
/// is the new value for `pointer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageField {
    /// RFC 6901 JSON Pointer of the `image` field in the reviewed object, e.g.
    /// `/spec/template/spec/containers/0/image`.
    pub pointer: String,
    /// The image reference, as written.
    pub image: String,
}

/// What the reviewed object runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjectImages {
    /// No object (`request.object` missing or null, as in DELETE and CONNECT): nothing runs.
    Absent,
    /// A kind without a pod spec (anything but the kinds named in the module docs).
    NoPodSpec,
    /// The image fields of every container, init container and ephemeral container, in the
    /// order `initContainers`, `containers`, `ephemeralContainers` (repeats included).
    Containers(Vec<ImageField>),
    /// A kind with a pod spec whose containers cannot be read.
    Malformed(ObjectError),
}

/// The parts of an `AdmissionReview` request an image-checking webhook uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdmissionRequest {
    /// `request.uid`, non-empty: the answer must carry it back.
    pub uid: String,
    /// `request.kind.kind` (empty when missing).
    pub kind: String,
    /// `request.object.metadata.name`, else `request.name` (empty when neither is a string;
    /// for messages only).
    pub name: String,
    /// `request.namespace` (empty when missing; for messages only).
    pub namespace: String,
    /// The images the object would run.
    pub images: ObjectImages,
}

/// Parses an `AdmissionReview` request body.
///
/// The body is read into a sparse tree that keeps only the fields this module
/// reads, with strings borrowed from the body; every other value is parsed and checked by the
/// same JSON parser, then dropped. So a body is accepted and read exactly as a parse into a
/// `serde_json::Value` would accept and read it (the fuzz target checks this), without building
/// the rest of the object (a real pod's `managedFields`, volumes, environment, ...).
///
/// # Errors
/// [`ReviewError`] when the body is not JSON, not an `admission.k8s.io/v1` `AdmissionReview`,
/// or has no `request` object with a non-empty `uid`. An object whose containers cannot be
/// read is not an error here but [`ObjectImages::Malformed`], since the review can be answered.
pub fn parse_review(body: &[u8]) -> Result<AdmissionRequest, ReviewError> {
    let review: Sparse<'_> =
        crate::json::from_slice(body).map_err(|source| ReviewError::NotJson { source })?;
    if review.get("apiVersion").and_then(Sparse::as_str) != Some(API_VERSION)
        || review.get("kind").and_then(Sparse::as_str) != Some(KIND)
    {
        return Err(ReviewError::NotAdmissionReview);
    }
    let request = review
        .get("request")
        .filter(|r| matches!(r, Sparse::Map(_)))
        .ok_or(ReviewError::NoRequest)?;
    let uid = request
        .get("uid")
        .and_then(Sparse::as_str)
        .filter(|u| !u.is_empty())
        .ok_or(ReviewError::NoUid)?;
    let kind = request
        .pointer("/kind/kind")
        .and_then(Sparse::as_str)
        .unwrap_or_default();
    let name = request
        .pointer("/object/metadata/name")
        .or_else(|| request.get("name"))
        .and_then(Sparse::as_str)
        .unwrap_or_default();
    let namespace = request
        .get("namespace")
        .and_then(Sparse::as_str)
        .unwrap_or_default();
    let images = match request.get("object") {
        None | Some(Sparse::Null) => ObjectImages::Absent,
        Some(object) => match sparse_object_images(kind, object) {
            Ok(Some(c)) => ObjectImages::Containers(c),
            Ok(None) => ObjectImages::NoPodSpec,
            Err(e) => ObjectImages::Malformed(e),
        },
    };
    Ok(AdmissionRequest {
        uid: uid.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        namespace: namespace.to_owned(),
        images,
    })
}

/// Where the pod spec of an object of `kind` is (a JSON Pointer), if that kind has one.
#[must_use]
pub fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some("/spec"),
        "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "ReplicationController" => Some("/spec/template/spec"),
        "CronJob" => Some("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    }
}

/// The image fields of an object of `kind`: `Ok(None)` for kinds without a pod spec.
///
/// # Errors
/// [`ObjectError`] when a kind with a pod spec has none, a container list is not a list, or a
/// container has no `image` string.
pub fn object_images(kind: &str, object: &Value) -> Result<Option<Vec<ImageField>>, ObjectError> {
    sparse_object_images(kind, &Sparse::of_value(object))
}

fn sparse_object_images(
    kind: &str,
    object: &Sparse<'_>,
) -> Result<Option<Vec<ImageField>>, ObjectError> {
    let Some(base) = pod_spec_pointer(kind) else {
        return Ok(None);
    };
    let spec = object.pointer(base).ok_or_else(|| ObjectError::NoPodSpec {
        kind: kind.to_owned(),
    })?;
    pod_spec_images(base, spec).map(Some)
}

/// The image fields of the pod spec `spec`, found at JSON Pointer `base`.
fn pod_spec_images(base: &str, spec: &Sparse<'_>) -> Result<Vec<ImageField>, ObjectError> {
    let mut out = Vec::new();
    for field in ["initContainers", "containers", "ephemeralContainers"] {
        let Some(list) = spec.get(field) else {
            continue;
        };
        let Sparse::List(list) = list else {
            return Err(ObjectError::NotAList { field });
        };
        for (i, c) in list.iter().enumerate() {
            let image =
                c.get("image")
                    .and_then(Sparse::as_str)
                    .ok_or_else(|| ObjectError::NoImage {
                        field,
                        name: c.get("name").and_then(Sparse::as_str).map(str::to_owned),
                    })?;
            out.push(ImageField {
                pointer: format!("{base}/{field}/{i}/image"),
                image: image.to_owned(),
            });
        }
    }
    Ok(out)
}

/// The object keys [`parse_review`] reads, at any depth. A key not listed here is never kept.
const KEPT_KEYS: [&str; 15] = [
    "apiVersion",
    "kind",
    "request",
    "uid",
    "name",
    "namespace",
    "object",
    "metadata",
    "spec",
    "template",
    "jobTemplate",
    "initContainers",
    "containers",
    "ephemeralContainers",
    "image",
];

/// A JSON value as far as this module reads it: objects keep only the [`KEPT_KEYS`] (the last
/// of repeated keys wins, as in `serde_json::Value`), strings are borrowed when the body holds
/// them unescaped, numbers and booleans are not kept.
#[derive(Debug)]
enum Sparse<'a> {
    Null,
    Str(std::borrow::Cow<'a, str>),
    List(Vec<Sparse<'a>>),
    Map(Vec<(&'static str, Sparse<'a>)>),
    Other,
}

impl<'a> Sparse<'a> {
    fn get(&self, key: &str) -> Option<&Self> {
        debug_assert!(KEPT_KEYS.contains(&key), "{key} is not kept");
        match self {
            Sparse::Map(m) => m.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Sparse::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An RFC 6901 pointer made of object keys only (no array indexes, no escapes).
    fn pointer(&self, pointer: &str) -> Option<&Self> {
        pointer.split('/').skip(1).try_fold(self, |v, t| v.get(t))
    }

    fn of_value(v: &'a Value) -> Self {
        match v {
            Value::Null => Sparse::Null,
            Value::String(s) => Sparse::Str(std::borrow::Cow::Borrowed(s)),
            Value::Array(a) => Sparse::List(a.iter().map(Sparse::of_value).collect()),
            Value::Object(m) => Sparse::Map(
                m.iter()
                    .filter_map(|(k, v)| kept_key(k).map(|k| (k, Sparse::of_value(v))))
                    .collect(),
            ),
            Value::Bool(_) | Value::Number(_) => Sparse::Other,
        }
    }
}

fn kept_key(key: &str) -> Option<&'static str> {
    KEPT_KEYS.iter().copied().find(|k| *k == key)
}

impl<'de> serde::Deserialize<'de> for Sparse<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SparseVisitor)
    }
}

struct SparseVisitor;

impl<'de> serde::de::Visitor<'de> for SparseVisitor {
    type Value = Sparse<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Sparse::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Sparse::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Sparse::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Sparse::Other)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Sparse::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Sparse::Null)
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Sparse::Str(std::borrow::Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Sparse::Str(std::borrow::Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Sparse::Str(std::borrow::Cow::Owned(v)))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Sparse::List(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept: Vec<(&'static str, Sparse<'de>)> = Vec::new();
        while let Some(KeptKey(key)) = map.next_key()? {
            let Some(key) = key else {
                map.next_value::<Skip>()?;
                continue;
            };
            let value = map.next_value()?;
            match kept.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => kept.push((key, value)),
            }
        }
        Ok(Sparse::Map(kept))
    }
}

/// An object key: which of the [`KEPT_KEYS`] it is, if any.
struct KeptKey(Option<&'static str>);

impl<'de> serde::Deserialize<'de> for KeptKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = KeptKey;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E>(self, v: &str) -> Result<KeptKey, E> {
                Ok(KeptKey(kept_key(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A value that is parsed as `serde_json::Value` would parse it (strings as strings, so their
/// escapes and UTF-8 are checked; numbers as numbers, so their range is) and dropped; unlike
/// `serde::de::IgnoredAny`, which only skips over the bytes.
struct Skip;

impl<'de> serde::Deserialize<'de> for Skip {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Skip;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_unit<E>(self) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_none<E>(self) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
                while seq.next_element::<Skip>()?.is_some() {}
                Ok(Skip)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
                while map.next_entry::<Skip, Skip>()?.is_some() {}
                Ok(Skip)
            }
        }
        d.deserialize_any(V)
    }
}

/// The webhook's answer to one review.
#[derive(Clone, Copy, Debug)]
pub enum Verdict<'a> {
    /// Admit, with warnings shown to the user, and (for a mutating webhook) the image fields to
    /// rewrite: each [`ImageField::image`] replaces the value at its pointer. An empty list
    /// sends no patch.
    Allow {
        /// `response.warnings`.
        warnings: &'a [String],
        /// `response.auditAnnotations` (key, value); the API server prefixes each key with the
        /// webhook's name in the audit log.
        audit: &'a [(String, String)],
        /// The JSON Patch `replace` operations.
        patch: &'a [ImageField],
    },
    /// Deny (`status.code` 403, reason `Forbidden`) with this message.
    Deny {
        /// `response.status.message`.
        message: &'a str,
    },
}

/// The `AdmissionReview` answer to the request `uid`: `{"apiVersion", "kind", "response":
/// {"uid", "allowed", ...}}`, with `patchType: "JSONPatch"` and the base64 RFC 6902 patch when
/// the verdict carries one. It serializes straight to the JSON the API server reads.
#[must_use]
pub fn review_response<'a>(uid: &'a str, verdict: &Verdict<'a>) -> ReviewAnswer<'a> {
    let mut response = AnswerBody {
        uid,
        allowed: matches!(verdict, Verdict::Allow { .. }),
        warnings: &[],
        audit_annotations: Annotations(&[]),
        patch_type: None,
        patch: None,
        status: None,
    };
    match *verdict {
        Verdict::Allow {
            warnings,
            audit,
            patch,
        } => {
            response.warnings = warnings;
            response.audit_annotations = Annotations(audit);
            if !patch.is_empty() {
                response.patch_type = Some("JSONPatch");
                response.patch = Some(Patch(patch));
            }
        }
        Verdict::Deny { message } => {
            response.status = Some(DenyStatus {
                code: 403,
                reason: "Forbidden",
                message,
            });
        }
    }
    ReviewAnswer {
        api_version: API_VERSION,
        kind: KIND,
        response,
    }
}

/// An `AdmissionReview` answer ([`review_response`]); serialize it (`serde_json::to_vec`) to
/// send it.
#[derive(Debug, serde::Serialize)]
pub struct ReviewAnswer<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    response: AnswerBody<'a>,
}

/// `response` of a [`ReviewAnswer`]: empty lists and absent parts are left out.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct AnswerBody<'a> {
    uid: &'a str,
    allowed: bool,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    #[serde(skip_serializing_if = "Annotations::is_empty")]
    audit_annotations: Annotations<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<Patch<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<DenyStatus<'a>>,
}

/// `response.status` of a denial.
#[derive(Debug, serde::Serialize)]
struct DenyStatus<'a> {
    code: u16,
    reason: &'static str,
    message: &'a str,
}

/// Audit annotations, written as one JSON object; a repeated key keeps its last value (as
/// inserting the pairs in order into a JSON object would).
#[derive(Debug)]
struct Annotations<'a>(&'a [(String, String)]);

impl Annotations<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl serde::Serialize for Annotations<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut kept: Vec<(&str, &str)> = Vec::with_capacity(self.0.len());
        for (k, v) in self.0 {
            match kept.iter_mut().find(|(seen, _)| seen == k) {
                Some(slot) => slot.1 = v,
                None => kept.push((k, v)),
            }
        }
        s.collect_map(kept)
    }
}

/// The JSON Patch of a `/mutate` answer: RFC 6902 `replace` operations, base64-encoded.
#[derive(Debug)]
struct Patch<'a>(&'a [ImageField]);

impl serde::Serialize for Patch<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Replace<'a> {
            op: &'static str,
            path: &'a str,
            value: &'a str,
        }
        let ops: Vec<Replace<'_>> = self
            .0
            .iter()
            .map(|f| Replace {
                op: "replace",
                path: &f.pointer,
                value: &f.image,
            })
            .collect();
        let json = serde_json::to_vec(&ops).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&B64.encode(json))
    }
}

/// The `apiVersion` of the ImagePolicyWebhook's reviews.
pub const IMAGE_REVIEW_API_VERSION: &str = "imagepolicy.k8s.io/v1alpha1";
/// The `kind` of an ImagePolicyWebhook review.
pub const IMAGE_REVIEW_KIND: &str = "ImageReview";

/// Why a body is not an `imagepolicy.k8s.io/v1alpha1` `ImageReview` (answered with a 400; the
/// API server's plugin then applies its `defaultAllow`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageReviewError {
    /// The body is not JSON.
    #[error("the body is not JSON: {source}")]
    NotJson {
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// `apiVersion` is not `imagepolicy.k8s.io/v1alpha1` or `kind` not `ImageReview`.
    #[error("expected an ImageReview of apiVersion imagepolicy.k8s.io/v1alpha1")]
    NotImageReview,
    /// `spec` is missing or not an object.
    #[error("the ImageReview has no spec")]
    NoSpec,
    /// `spec.containers` is missing or not a list.
    #[error("the ImageReview's spec.containers is not a list")]
    NoContainers,
    /// A container without an `image` string.
    #[error("spec.containers[{index}] has no image")]
    NoImage {
        /// Its index.
        index: usize,
    },
    /// `spec.annotations` or `spec.namespace` has the wrong type.
    #[error("the ImageReview's spec.{field} is malformed")]
    Malformed {
        /// `annotations` or `namespace`.
        field: &'static str,
    },
}

/// The parts of an `ImageReview` the webhook reads. Its `status` (which API servers send
/// filled in, as `{"allowed": false}`) is ignored, as are `metadata` and unknown fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageReviewRequest {
    /// `spec.containers[].image`, in order (repeats included).
    pub images: Vec<String>,
    /// `spec.annotations`: the pod's annotations matching `*.image-policy.k8s.io/*`.
    pub annotations: std::collections::BTreeMap<String, String>,
    /// `spec.namespace` (empty when missing).
    pub namespace: String,
}

/// Parses an `ImageReview` body as the API server's ImagePolicyWebhook plugin posts it.
///
/// # Errors
/// [`ImageReviewError`] when it is not JSON, not an `imagepolicy.k8s.io/v1alpha1`
/// `ImageReview`, or its spec's containers, annotations or namespace are malformed.
pub fn parse_image_review(body: &[u8]) -> Result<ImageReviewRequest, ImageReviewError> {
    let review: Value =
        crate::json::from_slice(body).map_err(|source| ImageReviewError::NotJson { source })?;
    if review.get("apiVersion").and_then(Value::as_str) != Some(IMAGE_REVIEW_API_VERSION)
        || review.get("kind").and_then(Value::as_str) != Some(IMAGE_REVIEW_KIND)
    {
        return Err(ImageReviewError::NotImageReview);
    }
    let spec = review
        .get("spec")
        .filter(|s| s.is_object())
        .ok_or(ImageReviewError::NoSpec)?;
    let containers = spec
        .get("containers")
        .and_then(Value::as_array)
        .ok_or(ImageReviewError::NoContainers)?;
    let images = containers
        .iter()
        .enumerate()
        .map(|(index, c)| {
            c.get("image")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or(ImageReviewError::NoImage { index })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let annotations = match spec.get("annotations") {
        None | Some(Value::Null) => std::collections::BTreeMap::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                v.as_str()
                    .map(|v| (k.clone(), v.to_owned()))
                    .ok_or(ImageReviewError::Malformed {
                        field: "annotations",
                    })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(ImageReviewError::Malformed {
                field: "annotations",
            })
        }
    };
    let namespace = match spec.get("namespace") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(ImageReviewError::Malformed { field: "namespace" }),
    };
    Ok(ImageReviewRequest {
        images,
        annotations,
        namespace,
    })
}

/// The answer to an `ImageReview`: `{"apiVersion", "kind", "status": {"allowed", "reason",
/// "auditAnnotations"}}` (`reason` and `auditAnnotations` only when not empty). The plugin
/// shows `reason` to the user on a denial and adds each audit annotation to the audit event,
/// its key prefixed with `imagepolicywebhook.image-policy.k8s.io/`.
#[must_use]
pub fn image_review_response<'a>(
    allowed: bool,
    reason: &'a str,
    audit: &'a [(String, String)],
) -> ImageReviewAnswer<'a> {
    ImageReviewAnswer {
        api_version: IMAGE_REVIEW_API_VERSION,
        kind: IMAGE_REVIEW_KIND,
        status: ImageReviewStatus {
            allowed,
            reason,
            audit_annotations: Annotations(audit),
        },
    }
}

/// An `ImageReview` answer ([`image_review_response`]); serialize it to send it.
#[derive(Debug, serde::Serialize)]
pub struct ImageReviewAnswer<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    status: ImageReviewStatus<'a>,
}

/// `status` of an [`ImageReviewAnswer`].
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ImageReviewStatus<'a> {
    allowed: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
    #[serde(skip_serializing_if = "Annotations::is_empty")]
    audit_annotations: Annotations<'a>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The answers as JSON values, to compare.
    fn review_response(uid: &str, verdict: &Verdict<'_>) -> Value {
        serde_json::to_value(super::review_response(uid, verdict)).unwrap()
    }
    fn image_review_response(allowed: bool, reason: &str, audit: &[(String, String)]) -> Value {
        serde_json::to_value(super::image_review_response(allowed, reason, audit)).unwrap()
    }

    fn review(request: &Value) -> Vec<u8> {
        serde_json::to_vec(
            &json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}),
        )
        .unwrap()
    }

    #[test]
    fn images_of_every_workload_kind() {
        let spec = json!({
            "initContainers": [{"name": "init", "image": "r.example/init:1"}],
            "containers": [{"name": "app", "image": "r.example/app:1"}, {"name": "side", "image": "r.example/app:1"}],
            "ephemeralContainers": [{"name": "debug", "image": "r.example/debug:1"}],
        });
        let want = |base: &str| {
            [
                ("initContainers/0", "r.example/init:1"),
                ("containers/0", "r.example/app:1"),
                ("containers/1", "r.example/app:1"),
                ("ephemeralContainers/0", "r.example/debug:1"),
            ]
            .map(|(at, image)| ImageField {
                pointer: format!("{base}/{at}/image"),
                image: image.to_owned(),
            })
            .to_vec()
        };
        let pod = json!({"spec": spec});
        let found = object_images("Pod", &pod).unwrap().unwrap();
        assert_eq!(found, want("/spec"));
        // Every pointer names the image it was read from.
        for f in &found {
            assert_eq!(
                pod.pointer(&f.pointer).and_then(Value::as_str),
                Some(f.image.as_str())
            );
        }
        let templated = json!({"spec": {"template": {"spec": spec}}});
        for kind in [
            "Deployment",
            "ReplicaSet",
            "StatefulSet",
            "DaemonSet",
            "Job",
            "ReplicationController",
        ] {
            assert_eq!(
                object_images(kind, &templated).unwrap().unwrap(),
                want("/spec/template/spec"),
                "{kind}"
            );
        }
        let cron = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}});
        assert_eq!(
            object_images("CronJob", &cron).unwrap().unwrap(),
            want("/spec/jobTemplate/spec/template/spec")
        );
        assert_eq!(
            object_images("ConfigMap", &json!({"data": {}})).unwrap(),
            None
        );
        assert_eq!(
            object_images("Deployment", &pod).unwrap_err().to_string(),
            "the Deployment has no pod spec"
        );
        let bad = json!({"spec": {"containers": [{"name": "x"}]}});
        assert_eq!(
            object_images("Pod", &bad).unwrap_err().to_string(),
            "container \"x\" in containers has no image"
        );
        let unnamed = json!({"spec": {"initContainers": [{"image": 3}]}});
        assert_eq!(
            object_images("Pod", &unnamed).unwrap_err().to_string(),
            "container \"?\" in initContainers has no image"
        );
        let not_list = json!({"spec": {"ephemeralContainers": {"image": "a"}}});
        assert_eq!(
            object_images("Pod", &not_list).unwrap_err().to_string(),
            "pod spec field ephemeralContainers is not a list"
        );
    }

    #[test]
    fn reviews_are_read() {
        let r = parse_review(&review(&json!({
            "uid": "u-1",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "name": "ignored",
            "namespace": "prod",
            "operation": "CREATE",
            "object": {"metadata": {"name": "web"},
                       "spec": {"template": {"spec": {"containers": [{"name": "a", "image": "r/a:1"}]}}}},
        })))
        .unwrap();
        assert_eq!(
            r,
            AdmissionRequest {
                uid: "u-1".to_owned(),
                kind: "Deployment".to_owned(),
                name: "web".to_owned(),
                namespace: "prod".to_owned(),
                images: ObjectImages::Containers(vec![ImageField {
                    pointer: "/spec/template/spec/containers/0/image".to_owned(),
                    image: "r/a:1".to_owned(),
                }]),
            }
        );
        // DELETE: no object; the name comes from the request.
        let r = parse_review(&review(&json!({
            "uid": "u-2", "kind": {"kind": "Pod"}, "name": "old", "operation": "DELETE", "object": null,
        })))
        .unwrap();
        assert_eq!((r.images, r.name.as_str()), (ObjectImages::Absent, "old"));
        // Missing kind: empty, and then nothing has a pod spec.
        let r = parse_review(&review(&json!({"uid": "u-3", "object": {"spec": {}}}))).unwrap();
        assert_eq!((r.kind.as_str(), r.images), ("", ObjectImages::NoPodSpec));
        let r = parse_review(&review(
            &json!({"uid": "u-4", "kind": {"kind": "Pod"}, "object": {}}),
        ))
        .unwrap();
        assert_eq!(
            r.images,
            ObjectImages::Malformed(ObjectError::NoPodSpec {
                kind: "Pod".to_owned()
            })
        );
    }

    #[test]
    fn non_reviews_are_refused_with_the_webhook_messages() {
        for (body, message) in [
            (&b"{"[..], "the body is not JSON: "),
            (
                br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u"}}"#,
                "expected an AdmissionReview of apiVersion admission.k8s.io/v1",
            ),
            (
                br#"{"apiVersion":"admission.k8s.io/v1","kind":"Pod"}"#,
                "expected an AdmissionReview of apiVersion admission.k8s.io/v1",
            ),
            (
                br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":[]}"#,
                "the AdmissionReview has no request",
            ),
            (
                br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":""}}"#,
                "the AdmissionReview request has no uid",
            ),
            (
                br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":7}}"#,
                "the AdmissionReview request has no uid",
            ),
        ] {
            let e = parse_review(body).unwrap_err().to_string();
            assert!(e.starts_with(message), "{e}");
        }
    }

    #[test]
    fn answers_carry_the_uid_and_the_patch() {
        let allow = review_response(
            "u-1",
            &Verdict::Allow {
                warnings: &[],
                audit: &[],
                patch: &[],
            },
        );
        assert_eq!(
            allow,
            json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                   "response": {"uid": "u-1", "allowed": true}})
        );
        let deny = review_response("u-2", &Verdict::Deny { message: "no" });
        assert_eq!(
            deny["response"],
            json!({"uid": "u-2", "allowed": false,
                   "status": {"code": 403, "reason": "Forbidden", "message": "no"}})
        );
        let pin = ImageField {
            pointer: "/spec/containers/0/image".to_owned(),
            image: "r/a:1@sha256:00".to_owned(),
        };
        let warnings = ["w".to_owned()];
        let mutate = review_response(
            "u-3",
            &Verdict::Allow {
                warnings: &warnings,
                audit: &[("signet-warning".to_owned(), "w".to_owned())],
                patch: std::slice::from_ref(&pin),
            },
        );
        let response = &mutate["response"];
        assert_eq!(response["warnings"], json!(["w"]));
        assert_eq!(response["auditAnnotations"], json!({"signet-warning": "w"}));
        // A repeated audit key is one JSON key, with its last value.
        let twice = [
            ("k".to_owned(), "1".to_owned()),
            ("j".to_owned(), "2".to_owned()),
            ("k".to_owned(), "3".to_owned()),
        ];
        let text = serde_json::to_string(&super::review_response(
            "u-4",
            &Verdict::Allow {
                warnings: &[],
                audit: &twice,
                patch: &[],
            },
        ))
        .unwrap();
        assert!(
            text.contains(r#""auditAnnotations":{"k":"3","j":"2"}"#),
            "{text}"
        );
        assert_eq!(response["patchType"], "JSONPatch");
        let patch = B64.decode(response["patch"].as_str().unwrap()).unwrap();
        assert_eq!(
            crate::json::from_slice::<Value>(&patch).unwrap(),
            json!([{"op": "replace", "path": "/spec/containers/0/image", "value": "r/a:1@sha256:00"}])
        );
    }

    /// ImageReview bodies as API servers sent them (testdata/imagepolicy/README.md): the
    /// request's own `status` is ignored, and `annotations` and `namespace` are read.
    #[test]
    fn image_reviews_from_api_servers_are_read() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/imagepolicy");
        let read = |f: &str| std::fs::read(format!("{dir}/{f}")).unwrap();
        let r = parse_image_review(&read("image_review_1.json")).unwrap();
        assert_eq!(r.images, vec!["nginx".to_owned()]);
        assert_eq!(r.namespace, "default");
        assert!(r.annotations.is_empty());
        let r = parse_image_review(&read("image_review_2.json")).unwrap();
        assert_eq!(r.images, vec!["nope".to_owned()]);
        let r = parse_image_review(&read("docs_example.json")).unwrap();
        assert_eq!(
            r.images,
            vec![
                "myrepo/myimage:v1".to_owned(),
                "myrepo/myimage@sha256:beb6bd6a68f114c1dc2ea4b28db81bdf91de202a9014972bec5e4d9171d90ed".to_owned()
            ]
        );
        assert_eq!(r.namespace, "mynamespace");
        assert_eq!(
            r.annotations
                .get("mycluster.image-policy.k8s.io/ticket-1234")
                .map(String::as_str),
            Some("break-glass")
        );
        for (body, want) in [
            (&b"nope"[..], "the body is not JSON"),
            (br#"{"apiVersion":"imagepolicy.k8s.io/v1beta1","kind":"ImageReview","spec":{"containers":[]}}"#, "expected an ImageReview"),
            (br#"{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview"}"#, "has no spec"),
            (br#"{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","spec":{}}"#, "spec.containers is not a list"),
            (br#"{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","spec":{"containers":[{"image":"a"},{}]}}"#, "spec.containers[1] has no image"),
            (br#"{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","spec":{"containers":[],"annotations":["a"]}}"#, "spec.annotations is malformed"),
            (br#"{"apiVersion":"imagepolicy.k8s.io/v1alpha1","kind":"ImageReview","spec":{"containers":[],"namespace":7}}"#, "spec.namespace is malformed"),
        ] {
            let e = parse_image_review(body).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        assert_eq!(
            image_review_response(false, "no", &[]),
            json!({"apiVersion": "imagepolicy.k8s.io/v1alpha1", "kind": "ImageReview",
                   "status": {"allowed": false, "reason": "no"}})
        );
        assert_eq!(
            image_review_response(true, "", &[("k".to_owned(), "v".to_owned())])["status"],
            json!({"allowed": true, "auditAnnotations": {"k": "v"}})
        );
    }

    /// The reader as it was written over `serde_json::Value`: the oracle the sparse reader
    /// must agree with.
    fn value_reader(body: &[u8]) -> Result<AdmissionRequest, String> {
        let review: Value = crate::json::from_slice(body).map_err(|e| format!("json: {e}"))?;
        if review.get("apiVersion").and_then(Value::as_str) != Some(API_VERSION)
            || review.get("kind").and_then(Value::as_str) != Some(KIND)
        {
            return Err("not a review".into());
        }
        let request = review
            .get("request")
            .filter(|r| r.is_object())
            .ok_or("no request")?;
        let uid = request
            .get("uid")
            .and_then(Value::as_str)
            .filter(|u| !u.is_empty())
            .ok_or("no uid")?;
        let kind = request
            .pointer("/kind/kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = request
            .pointer("/object/metadata/name")
            .or_else(|| request.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let namespace = request
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let object = request.get("object").unwrap_or(&Value::Null);
        let images = if object.is_null() {
            ObjectImages::Absent
        } else {
            let spec = pod_spec_pointer(kind).map(|base| (base, object.pointer(base)));
            match spec {
                None => ObjectImages::NoPodSpec,
                Some((_, None)) => ObjectImages::Malformed(ObjectError::NoPodSpec {
                    kind: kind.to_owned(),
                }),
                Some((base, Some(spec))) => {
                    let mut out = Vec::new();
                    let mut err = None;
                    'fields: for field in ["initContainers", "containers", "ephemeralContainers"] {
                        let Some(list) = spec.get(field) else {
                            continue;
                        };
                        let Some(list) = list.as_array() else {
                            err = Some(ObjectError::NotAList { field });
                            break;
                        };
                        for (i, c) in list.iter().enumerate() {
                            let Some(image) = c.get("image").and_then(Value::as_str) else {
                                err = Some(ObjectError::NoImage {
                                    field,
                                    name: c.get("name").and_then(Value::as_str).map(str::to_owned),
                                });
                                break 'fields;
                            };
                            out.push(ImageField {
                                pointer: format!("{base}/{field}/{i}/image"),
                                image: image.to_owned(),
                            });
                        }
                    }
                    err.map_or(ObjectImages::Containers(out), ObjectImages::Malformed)
                }
            }
        };
        Ok(AdmissionRequest {
            uid: uid.to_owned(),
            kind: kind.to_owned(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            images,
        })
    }

    fn same_as_value_reader(body: &[u8]) {
        let sparse = parse_review(body).map_err(|e| match e {
            ReviewError::NotJson { source } => format!("json: {source}"),
            ReviewError::NotAdmissionReview => "not a review".into(),
            ReviewError::NoRequest => "no request".into(),
            ReviewError::NoUid => "no uid".into(),
        });
        assert_eq!(
            sparse,
            value_reader(body),
            "{}",
            String::from_utf8_lossy(body)
        );
    }

    #[test]
    fn the_sparse_reader_reads_what_a_value_reader_reads() {
        let head = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":"#;
        let pod = |spec: &str| {
            format!(
                r#"{head}{{"uid":"u","kind":{{"kind":"Pod"}},"object":{{"metadata":{{"name":"n"}},"spec":{spec}}}}}}}"#
            )
        };
        let cases: Vec<Vec<u8>> = vec![
            // Repeated keys: the last wins, at every level.
            pod(r#"{"containers":[{"image":"a"}],"containers":[{"image":"b"},{"image":"c"}]}"#).into(),
            format!(r#"{head}{{"uid":"1","uid":"2"}}}}"#).into(),
            // Escaped keys and values are the same keys and values.
            pod(r#"{"cont\u0061iners":[{"im\u0061ge":"r.example/\u00e9:1","n\u0061me":"x"}]}"#).into(),
            // Wrong types where the reader looks.
            pod(r#"{"containers":{"image":"a"}}"#).into(),
            pod(r#"{"containers":null}"#).into(),
            pod(r#"{"containers":[5,{"name":7}]}"#).into(),
            pod(r#"{"containers":[{"image":null,"name":"c"}]}"#).into(),
            pod("null").into(),
            pod("[1,2]").into(),
            pod(r#""spec""#).into(),
            format!(r#"{head}{{"uid":"u","kind":{{"kind":"Deployment"}},"object":{{"spec":{{"template":[{{"spec":{{}}}}]}}}}}}}}"#).into(),
            format!(r#"{head}{{"uid":"u","kind":{{"kind":"CronJob"}},"object":{{"spec":{{"jobTemplate":{{"spec":{{"template":{{"spec":{{"initContainers":[{{"image":"i"}}]}}}}}}}}}}}}}}}}"#).into(),
            format!(r#"{head}{{"uid":"u","kind":"Pod","name":"from-request","namespace":5,"object":false}}}}"#).into(),
            format!(r#"{head}{{"uid":5}}}}"#).into(),
            format!(r#"{head}{{"uid":""}}}}"#).into(),
            format!(r#"{head}[]}}"#).into(),
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(),
            br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u"}}"#.to_vec(),
            br#"[{"apiVersion":"admission.k8s.io/v1"}]"#.to_vec(),
            // What the parser refuses anywhere, also in fields the reader drops.
            pod(r#"{"containers":[],"x":"\ud800"}"#).into(),
            pod(r#"{"containers":[],"x":1e400}"#).into(),
            pod(r#"{"containers":[],"x":"\q"}"#).into(),
            [pod(r#"{"containers":[],"x":""#).as_bytes(), b"\xff\xfe", br#""}"#].concat(),
            format!("{}trailing", pod("{}")).into(),
            format!("{}{}", "[".repeat(200), "]".repeat(200)).into(),
            pod(&format!(r#"{{"x":{}{}}}"#, "[".repeat(200), "]".repeat(200))).into(),
            b"".to_vec(),
        ];
        for body in &cases {
            same_as_value_reader(body);
        }
    }

    proptest::proptest! {
        #[test]
        fn the_sparse_reader_agrees_on_generated_reviews(object in json_value(), kind in proptest::sample::select(vec!["Pod", "Deployment", "CronJob", "Job", "Service", ""]), extra in json_value()) {
            let body = json!({
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "request": {"uid": "u", "kind": {"kind": kind}, "object": object, "other": extra},
            });
            same_as_value_reader(&serde_json::to_vec(&body).unwrap());
        }
    }

    /// JSON values whose objects use the keys the reader looks for, and others.
    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            proptest::sample::select(vec!["r.example/a:1", "", "Pod", "c\u{e9}"])
                .prop_map(|s| json!(s)),
        ];
        leaf.prop_recursive(5, 48, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec(
                    (
                        proptest::sample::select(vec![
                            "spec",
                            "template",
                            "jobTemplate",
                            "containers",
                            "initContainers",
                            "ephemeralContainers",
                            "image",
                            "name",
                            "metadata",
                            "env",
                            "x",
                        ]),
                        inner,
                    ),
                    0..4
                )
                .prop_map(|kv| Value::Object(
                    kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }
}
