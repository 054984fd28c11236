//! Test helper: a request written by hand on a std `TcpStream`, for what HTTP clients do not
//! let a test do (declare a body and not send it).

#![allow(dead_code, clippy::unwrap_used, unreachable_pub, missing_docs)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// What a server answered to a request whose body was declared and never sent.
pub struct Refusal {
    /// Everything the server sent until it closed the connection.
    pub text: String,
    /// How long the answer took to start.
    pub first_byte: Duration,
    /// Whether the server closed the connection (within a few seconds of answering).
    pub closed: bool,
}

impl Refusal {
    /// The status line.
    pub fn status_line(&self) -> &str {
        self.text.lines().next().unwrap_or_default()
    }

    /// The header `name` (case-insensitive) of the final answer.
    pub fn header(&self, name: &str) -> Option<&str> {
        let head = &self.text[..self.text.find("\r\n\r\n").unwrap_or(self.text.len())];
        head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The body of the answer.
    pub fn body(&self) -> &str {
        self.text
            .find("\r\n\r\n")
            .map_or("", |i| &self.text[i + 4..])
    }

    /// The body as JSON (asserting its content type).
    pub fn json(&self) -> serde_json::Value {
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{}",
            self.text
        );
        signet_proto::json::from_slice(self.body().as_bytes())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

/// Sends `POST path` to the HTTP server at `url` (`http://host:port`) with `Content-Length:
/// declared` and `Expect: 100-continue`, and no body; reads what comes back until the server
/// closes the connection or 10 s pass.
pub fn declare_body(url: &str, path: &str, content_type: &str, declared: u64) -> Refusal {
    let addr = url.strip_prefix("http://").unwrap().trim_end_matches('/');
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {declared}\r\nExpect: 100-continue\r\n\r\n"
    )
    .unwrap();
    read_answer(&mut s, started)
}

/// Asserts that `r` is a 413 sent within 2 s, with no `100 Continue` before it, closing the
/// connection.
pub fn assert_refused_at_once(r: &Refusal, what: &str) {
    assert!(
        r.first_byte < Duration::from_secs(2),
        "{what}: answered after {:?}: {}",
        r.first_byte,
        r.text
    );
    assert!(
        r.status_line().starts_with("HTTP/1.1 413 "),
        "{what}: {}",
        r.text
    );
    assert!(!r.text.contains("100 Continue"), "{what}: {}", r.text);
    assert!(r.closed, "{what}: the connection stayed open: {}", r.text);
    assert_eq!(r.header("connection"), Some("close"), "{what}: {}", r.text);
}

/// Sends `POST path` to the HTTP server at `url` with a chunked body (no declared length) of
/// `len` spaces, ignoring a write the server refuses once it has answered; reads what comes
/// back until the server closes the connection or 10 s pass.
pub fn send_chunked(url: &str, path: &str, content_type: &str, len: usize) -> Refusal {
    let addr = url.strip_prefix("http://").unwrap().trim_end_matches('/');
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = vec![b' '; 16 * 1024];
        let mut sent = 0;
        while sent < len {
            let n = chunk.len().min(len - sent);
            if write!(w, "{n:x}\r\n")
                .and_then(|()| w.write_all(&chunk[..n]))
                .and_then(|()| w.write_all(b"\r\n"))
                .is_err()
            {
                return;
            }
            sent += n;
        }
        let _ = w.write_all(b"0\r\n\r\n");
    });
    let r = read_answer(&mut s, started);
    let _ = writer.join();
    r
}

/// Reads what the server sends on `s` until it closes the connection or the read times out,
/// timing the first byte from `started`.
fn read_answer(s: &mut TcpStream, started: Instant) -> Refusal {
    let mut out = Vec::new();
    let mut first_byte = None;
    let mut buf = [0u8; 4096];
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => {
                first_byte.get_or_insert_with(|| started.elapsed());
                out.extend_from_slice(&buf[..n]);
            }
            Err(_) => break false,
        }
    };
    Refusal {
        text: String::from_utf8_lossy(&out).into_owned(),
        first_byte: first_byte.unwrap_or_else(|| started.elapsed()),
        closed,
    }
}
