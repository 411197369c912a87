//! The pieces of the drop-in proxy, shared by the `proxy` example
//! (`main.rs`), the end-to-end demo (`examples/demo.rs`) and the tests
//! (`tests/proxy_*.rs`), each of which includes this file with
//! `#[path = ".../examples/proxy/mod.rs"] mod proxy;`.
//!
//! | piece | file |
//! |---|---|
//! | the proxy: accept, round robin, TLS out through tls-slots, copy | `engine.rs` |
//! | the three session-cache designs behind one trait | `designs.rs` |
//! | command-line configuration and its errors | `config.rs` |
//! | the control socket (HAProxy-style CLI) and its client | `control.rs` |
//! | certificates made with rcgen | `tests/tls_support/pki.rs` (shared with the tests and benches) |
//! | a test backend: rustls server requiring client certificates | `backend.rs` |
//! | the demo/soak harness: backends + proxy + load + rotation | `harness.rs` |
//! | a small latency histogram | `hist.rs` |

// Every includer uses a different subset.
#![allow(dead_code)]

pub mod backend;
pub mod config;
pub mod control;
pub mod designs;
pub mod engine;
pub mod harness;
pub mod hist;
#[path = "../../tests/tls_support/pki.rs"]
pub mod pki;
