//! `signature_formats = "either"`: the Sigstore and the Notary Project checks run concurrently
//! and the first to succeed decides; when both fail, both causes are reported.
//!
//! Both checks mostly wait on the registry (manifests, referrers, blobs), so running them on
//! one task, interleaved, halves the wait when the first one fails; the one still running when
//! the other succeeds is dropped (its requests are cancelled).

use std::future::Future;

/// The first `Ok` of `a` and `b`, polled concurrently; `Err((a's error, b's error))` when both
/// fail (the order of the arguments, whichever failed first).
pub(crate) async fn first_success<A, B>(a: A, b: B) -> Result<String, (String, String)>
where
    A: Future<Output = Result<String, String>>,
    B: Future<Output = Result<String, String>>,
{
    tokio::pin!(a, b);
    tokio::select! {
        ra = &mut a => match ra {
            Ok(v) => Ok(v),
            Err(ea) => b.await.map_err(|eb| (ea, eb)),
        },
        rb = &mut b => match rb {
            Ok(v) => Ok(v),
            Err(eb) => a.await.map_err(|ea| (ea, eb)),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::first_success;

    async fn after(ms: u64, r: Result<&str, &str>) -> Result<String, String> {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        r.map(str::to_owned).map_err(str::to_owned)
    }

    /// A quick success does not wait for a slow check, whichever side it is on; a slow success
    /// after a quick failure still admits; two failures keep both causes in argument order.
    #[tokio::test]
    async fn the_first_success_decides_and_both_failures_are_kept() {
        let t = Instant::now();
        let r = first_success(after(5_000, Err("sigstore: none")), after(10, Ok("notary"))).await;
        assert_eq!(r, Ok("notary".to_owned()));
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

        let t = Instant::now();
        let r = first_success(after(10, Ok("sigstore")), after(5_000, Err("notary: none"))).await;
        assert_eq!(r, Ok("sigstore".to_owned()));
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

        // Concurrent, not one after the other: 300 ms + 300 ms takes about 300 ms.
        let t = Instant::now();
        let r = first_success(after(300, Err("s")), after(300, Ok("n"))).await;
        assert_eq!(r, Ok("n".to_owned()));
        assert!(
            t.elapsed() < Duration::from_millis(550),
            "{:?}",
            t.elapsed()
        );

        let r = first_success(after(10, Err("quick")), after(200, Ok("slow"))).await;
        assert_eq!(r, Ok("slow".to_owned()));

        let r = first_success(after(200, Err("sigstore")), after(10, Err("notary"))).await;
        assert_eq!(r, Err(("sigstore".to_owned(), "notary".to_owned())));
        let r = first_success(after(10, Err("sigstore")), after(200, Err("notary"))).await;
        assert_eq!(r, Err(("sigstore".to_owned(), "notary".to_owned())));
    }
}
