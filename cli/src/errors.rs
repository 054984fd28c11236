//! Rendering an error with its causes, each shown once.
//!
//! The rule for the error enums of this crate: a variant that wraps a cause shows it in its
//! message through [`chain`] and does not also return it from `Error::source` (the cause field
//! is not named `source` and has no `#[source]`). Otherwise `{:#}` (anyhow) prints the cause
//! twice, once inside the message and once as the next link of the chain.

use std::error::Error;

/// `err` followed by its causes, joined with ": ", each shown once: a cause whose text is
/// already shown is skipped (hyper and I/O errors often repeat the one below them, and an
/// error whose message includes its `source` would show it twice under `{:#}`).
pub(crate) fn chain(err: &(dyn Error + 'static)) -> String {
    chain_after("", err)
}

/// [`chain`] for a message that already shows `shown` (such as the URL a request went to):
/// text in `shown` is not repeated, and reqwest's " for url (…)" is dropped when it names a
/// URL in `shown` or earlier in the chain.
pub(crate) fn chain_after(shown: &str, err: &(dyn Error + 'static)) -> String {
    let mut seen = shown.to_owned();
    let mut out = String::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        let text = match text.split_once(" for url (") {
            Some((head, url))
                if url.ends_with(')') && {
                    let url = &url[..url.len() - 1];
                    seen.contains(url) || seen.contains(url.trim_end_matches('/'))
                } =>
            {
                head
            }
            _ => text.as_str(),
        };
        if !text.is_empty() && !seen.contains(text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(text);
            seen.push('\n');
            seen.push_str(text);
        }
        next = e.source();
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{chain, chain_after};

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("error sending request for url (http://x/)")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn each_cause_once_and_a_shown_url_not_again() {
        let e = Outer(Middle(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        assert_eq!(
            chain(&e),
            "outer: error sending request for url (http://x/): connection refused"
        );
        assert_eq!(
            chain_after("GET http://x", &e),
            "outer: error sending request: connection refused"
        );
        // An error whose message includes its source: the source is not shown again.
        let io = std::io::Error::other("disk on fire");
        let e = anyhow::Error::new(Wraps(io)).context("saving");
        assert_eq!(chain(e.as_ref()), "saving: wrapping: disk on fire");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("wrapping: {0}")]
    struct Wraps(#[source] std::io::Error);

    #[tokio::test]
    async fn refused_connection_names_each_cause_once() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let e = reqwest::get(format!("http://{addr}/x")).await.unwrap_err();
        let url = format!("http://{addr}/x");
        let text = chain_after(&url, &e);
        assert!(text.starts_with("error sending request: "), "{text}");
        assert_eq!(text.matches("Connection refused").count(), 1, "{text}");
        assert!(!text.contains("http://"), "{text}");
        // Without the URL shown, reqwest's message keeps it.
        assert!(chain(&e).contains(&url), "{}", chain(&e));
    }
}
