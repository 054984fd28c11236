//! An HTTPS server certificate for tests, made by the openssl CLI: a CA and a P-256 leaf for
//! 127.0.0.1 that it issued (as cert-manager issues one for a webhook). Included with
//! `#[path]` by the tests that serve HTTPS (`openssl` must be installed: check with
//! `support::require_tools`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A CA and a P-256 server certificate for 127.0.0.1 that it issued, made by the openssl CLI
/// (as cert-manager would for a webhook). Returns (CA certificate, server chain, server key).
pub(crate) fn server_certificate(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let p = |name: &str| dir.join(name);
    let openssl = |args: &[String]| {
        let out = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    let args = |line: &str| line.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let mut ca = args(&format!(
        "req -x509 {ec} -days 1 -keyout ca.key -out ca.crt -subj"
    ));
    ca.push("/CN=test webhook CA".to_owned());
    openssl(&ca);
    openssl(&args(&format!(
        "req {ec} -keyout tls.key -out tls.csr -subj /CN=signet-admission"
    )));
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&args(
        "x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 \
         -extfile ext.cnf -out tls.crt",
    ));
    (p("ca.crt"), p("tls.crt"), p("tls.key"))
}
