//! `GET /metrics` answers parsed with the Prometheus reference parser.

/// One sample of a `GET /metrics` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSample {
    /// The family's type (`counter`, `gauge`, `histogram`, ...).
    pub kind: String,
    /// The sample's name (`..._bucket`, `..._count` for histograms).
    pub name: String,
    /// The labels.
    pub labels: std::collections::BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

/// Parses a `GET /metrics` answer with the Prometheus project's reference parser
/// (`prometheus_client.parser`, the Python client, installed by `./x`); any line that is not
/// valid text exposition format fails the test.
pub fn parse_metrics(text: &str) -> Vec<MetricSample> {
    use std::io::Write as _;
    const SCRIPT: &str = "import sys, json\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        for f in text_string_to_metric_families(sys.stdin.read()):\n\
        \x20   for s in f.samples:\n\
        \x20       print(json.dumps([f.type, s.name, s.labels, repr(float(s.value))]))\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is required to parse metrics");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser (pip install prometheus-client) refused the metrics: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (kind, name, labels, value): (String, String, _, String) =
                serde_json::from_str(l).unwrap();
            MetricSample {
                kind,
                name,
                labels,
                value: value.parse().unwrap(),
            }
        })
        .collect()
}

/// The value of the one sample `name` whose labels are exactly `labels`; panics (naming the
/// label sets there are) if there is not exactly one.
pub fn metric(samples: &[MetricSample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<&MetricSample> = samples
        .iter()
        .filter(|s| {
            s.name == name
                && s.labels.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    match found.as_slice() {
        [s] => s.value,
        _ => panic!(
            "expected one sample {name}{labels:?}, found {}; the label sets of {name}: {:?}",
            found.len(),
            samples
                .iter()
                .filter(|s| s.name == name)
                .map(|s| &s.labels)
                .collect::<Vec<_>>()
        ),
    }
}

/// The type of the family that sample `name` belongs to.
pub fn metric_kind<'a>(samples: &'a [MetricSample], name: &str) -> &'a str {
    samples
        .iter()
        .find(|s| s.name == name)
        .map_or_else(|| panic!("no sample {name}"), |s| s.kind.as_str())
}
