//! What the load generators (`log/examples/loadgen.rs`, `cli/examples/admission_loadgen.rs`)
//! share: a minimal HTTP/1.1 response reader for one keep-alive connection, a byte search for
//! checking answers, and the CPU time of a process from `/proc`.
//!
//! Not an example on its own (Cargo builds `examples/*.rs` and `examples/*/main.rs` only);
//! each load generator includes it with `#[path]`.

use tokio::io::{AsyncRead, AsyncReadExt};

/// (user, system) CPU seconds of `/proc/<pid>/stat` (`self` for this process).
pub(crate) fn proc_cpu(pid: &str) -> Option<(f64, f64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // USER_HZ is 100 on every Linux ABI this runs on.
    let tick = 100.0;
    Some((
        f.get(11)?.parse::<f64>().ok()? / tick,
        f.get(12)?.parse::<f64>().ok()? / tick,
    ))
}

/// User + system CPU seconds of `/proc/<pid>/stat`.
pub(crate) fn proc_cpu_total(pid: &str) -> Option<f64> {
    proc_cpu(pid).map(|(u, s)| u + s)
}

/// Whether `needle` occurs in `hay`.
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// One HTTP/1.1 response.
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    /// The server said `Connection: close`.
    pub(crate) close: bool,
}

/// Reads one HTTP/1.1 response (status line, headers, `Content-Length` body) from `s`. `buf`
/// keeps the bytes read past the response, for the next one. Chunked bodies are refused.
pub(crate) async fn read_response<S: AsyncRead + Unpin + ?Sized>(
    s: &mut S,
    buf: &mut Vec<u8>,
) -> Response {
    let header_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        read_more(s, buf).await;
    };
    let head = std::str::from_utf8(&buf[..header_end]).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let mut len = None;
    let mut close = false;
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = Some(v.trim().parse::<usize>().unwrap());
            } else if k.eq_ignore_ascii_case("connection") && v.trim().eq_ignore_ascii_case("close")
            {
                close = true;
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                panic!("chunked responses are not supported by this client");
            }
        }
    }
    let len = len.expect("content-length");
    while buf.len() < header_end + len {
        read_more(s, buf).await;
    }
    let body = buf[header_end..header_end + len].to_vec();
    buf.drain(..header_end + len);
    Response {
        status,
        body,
        close,
    }
}

async fn read_more<S: AsyncRead + Unpin + ?Sized>(s: &mut S, buf: &mut Vec<u8>) {
    // Reads into the spare capacity: no zeroing of a fresh 16 KB per read.
    buf.reserve(16 * 1024);
    let got = s.read_buf(buf).await.unwrap();
    assert!(got > 0, "the server closed the connection mid-response");
}
