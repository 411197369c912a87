//! Passes `TLS_SLOTS_BUG=<name>` on as `--cfg tls_slots_bug="<name>"`, to
//! this package only: `.ci/loom` builds each deliberately broken variant this
//! way, so switching bugs rebuilds one crate instead of every dependency (a
//! `RUSTFLAGS` change would rebuild them all). Unset in every normal build.
fn main() {
    println!("cargo:rerun-if-env-changed=TLS_SLOTS_BUG");
    if let Ok(bug) = std::env::var("TLS_SLOTS_BUG") {
        if !bug.is_empty() {
            println!("cargo:rustc-cfg=tls_slots_bug=\"{bug}\"");
        }
    }
}
