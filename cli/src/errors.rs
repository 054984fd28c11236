//! Rendering an error with its causes, each shown once.
//!
//! The rule for the error enums of this crate: a variant that wraps a cause shows it in its
//! message through [`chain`] and does not also return it from `Error::source` (the cause field
//! is not named `source` and has no `#[source]`). Otherwise `{:#}` (anyhow) prints the cause
//! twice, once inside the message and once as the next link of the chain.

/// `err` followed by its causes, each shown once; [`chain_after`]: not repeating what the
/// message already shows. One implementation for the workspace, in `signet-net` (the CA and
/// the log render their HTTP clients' errors with it too).
pub(crate) use signet_net::{chain, chain_after};

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
