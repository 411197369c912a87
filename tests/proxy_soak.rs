//! The soak: continuous load through the proxy while the client certificate
//! of every backend is committed every 100 ms (and a bad one is refused
//! every tenth round), for `SOAK_SECONDS` (default 60).
//!
//! ```text
//! cargo test --release --test proxy_soak -- --ignored --nocapture                  # 60 s (CI)
//! SOAK_SECONDS=600 cargo test --release --test proxy_soak -- --ignored --nocapture # 10 min
//! SOAK_DESIGN=rwlock ...                                                          # another design
//! SOAK_CLIENTS=32 ...                                                             # more load (default 8)
//! ```
//!
//! It asserts: 0 stale resumptions (defined in `examples/proxy/harness.rs`),
//! 0 failed requests (so in particular none attributable to a commit), no
//! bad certificate accepted, a resumed share of at least 99% over settled
//! requests (those starting 50 ms or more after the last commit, with no
//! commit while they ran), and a flat RSS (`RssCheck`: after the warm-up,
//! growth at most 4 MiB + 5% and slope at most 64 KiB/s).

#[path = "../examples/proxy/mod.rs"]
mod proxy;

use proxy::designs::Design;
use proxy::harness::{self, RunOptions};

#[test]
#[ignore = "a 60 s soak; .ci/run runs it with --ignored in release"]
fn soak_commits_every_100ms_under_load() {
    let seconds: f64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60.0);
    let design: Design = std::env::var("SOAK_DESIGN")
        .ok()
        .map(|s| s.parse().expect("SOAK_DESIGN"))
        .unwrap_or(Design::LockFree);
    let mut options = RunOptions::soak(design, seconds);
    if let Some(n) = std::env::var("SOAK_CLIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        options.clients = n;
    }
    eprintln!(
        "soak: {design}, {seconds} s, {} clients, {} backends, commits every {:?}",
        options.clients, options.backends, options.rotate_every
    );
    let r = harness::run(&options).expect("soak run");
    let rss = r.rss_check();
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    eprintln!(
        "soak: {} requests ({:.0}/s), {} commits, {} bad certs refused, resumed {:.2}% overall, \
         {:.3}% settled ({} settled requests), {:.1} full handshakes per commit, p50 {} us, p99 {} us, \
         failed {} ({} near a commit), stale {}, sessions flushed {} freed {}, \
         RSS {:.1} -> {:.1} MiB, slope {:.1} KiB/s, flat: {}",
        r.requests,
        r.rps(),
        r.commits,
        r.rejected,
        100.0 * r.resumed_share(),
        100.0 * r.settled_share(),
        r.settled,
        r.full_per_commit(),
        r.p50_us(),
        r.p99_us(),
        r.failed,
        r.failed_near_commit,
        r.stale,
        r.proxy.sessions_flushed,
        r.proxy.sessions_reclaimed,
        mib(rss.baseline),
        mib(rss.end),
        rss.slope / 1024.0,
        rss.flat,
    );
    println!("{}", r.json());
    assert_eq!(r.stale, 0, "stale resumptions");
    assert_eq!(
        r.failed, 0,
        "failed requests ({} near a commit)",
        r.failed_near_commit
    );
    assert_eq!(r.bad_accepted, 0, "a bad certificate was accepted");
    assert!(r.rejected > 0, "the bad certificates were never tried");
    assert!(
        r.commits as f64 >= seconds * 5.0,
        "too few commits: {}",
        r.commits
    );
    assert!(
        r.settled_share() >= 0.99,
        "resumed share between commits {:.3}% < 99%",
        100.0 * r.settled_share()
    );
    assert!(rss.judged, "too few RSS samples");
    assert!(
        rss.flat,
        "RSS not flat: {:.1} -> {:.1} MiB, slope {:.1} KiB/s",
        mib(rss.baseline),
        mib(rss.end),
        rss.slope / 1024.0
    );
}
