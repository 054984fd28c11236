//! Read-side client of a Signet (or any C2SP tlog-tiles) log: checkpoints, tiles, entry
//! bundles. Shared by `signet monitor` and `signet audit`.
