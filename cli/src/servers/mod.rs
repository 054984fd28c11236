//! The servers zone: long-running HTTP services, each started by its own command.
//!
//! * [`serve`]: `signet serve` (and `signet ca-init`), the CA and the transparency log.
//! * [`witness`]: `signet witness`, a C2SP tlog-witness.
//! * [`admission`]: `signet admission`, a Kubernetes admission webhook that verifies image
//!   signatures (with the client's verification glue and the registry client).
//! * `listen`: the listener, TLS and graceful shutdown all three share; `logging`: their
//!   `--log-format`.
//!
//! Servers may use the shared zones (`registry`, `fsutil`) and the client's verification
//! glue (`client::verify`); nothing outside this zone imports it, except `main`.

pub(crate) mod admission;
mod listen;
pub(crate) mod logging;
pub(crate) mod serve;
pub(crate) mod witness;
