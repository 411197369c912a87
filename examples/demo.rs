//! The end-to-end demonstration: TLS backends that require client
//! certificates, the tls-slots proxy, N concurrent clients doing
//! request/response through it, and the proxy's client certificate rotated
//! through its control socket every few seconds. Runs the lock-free table,
//! the rwlock table (HAProxy's design) and rustls's default cache one after
//! the other and prints them side by side.

#[path = "proxy/mod.rs"]
mod proxy;

use proxy::designs::Design;
use proxy::harness::{self, Progress, RunOptions, RunReport};
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "\
usage: cargo run --release --example demo -- [--seconds S] [--clients N] [--json]
           [--backends N] [--rotate-ms MS] [--workers N] [--design lock-free|rwlock|rustls-default]...

  --seconds S     load per design (default 15; three designs run: ~50 s in all)
  --clients N     concurrent closed-loop clients, one request per connection (default 16)
  --json          print the results as JSON on stdout instead of the table
  --backends N    TLS backends, round robin (default 3)
  --rotate-ms MS  commit a new client certificate on every backend every MS (default 3000)
  --workers N     proxy worker threads (default: available cores)
  --design D      run only these designs (repeatable; default: all three)";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("demo: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let mut template = RunOptions::demo(Design::LockFree);
    let mut json = false;
    let mut designs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            "--json" => json = true,
            "--seconds" => template.seconds = positive(&flag, &value()?)?,
            "--clients" => template.clients = positive(&flag, &value()?)? as usize,
            "--backends" => template.backends = positive(&flag, &value()?)? as usize,
            "--workers" => {
                let n = positive(&flag, &value()?)? as usize;
                template.proxy_workers = n;
            }
            "--rotate-ms" => {
                template.rotate_every = Duration::from_millis(positive(&flag, &value()?)? as u64);
                template.settle = (template.rotate_every / 6).min(Duration::from_millis(500));
            }
            "--design" => designs.push(value()?.parse::<Design>()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if designs.is_empty() {
        designs = Design::ALL.to_vec();
    }
    if json {
        template.progress = Progress::Off;
    }
    eprintln!(
        "demo: {} backends (rustls, client certificates required), proxy with {} workers, {} clients, \
         a new client certificate every {:?}, {} s per design",
        template.backends,
        template.proxy_workers,
        template.clients,
        template.rotate_every,
        template.seconds
    );
    let mut reports = Vec::new();
    for design in designs {
        let options = RunOptions {
            design,
            ..template.clone()
        };
        reports.push(harness::run(&options)?);
    }
    if json {
        let items: Vec<String> = reports.iter().map(RunReport::json).collect();
        println!("[{}]", items.join(",\n "));
    } else {
        print!("{}", table(&reports));
    }
    let clean = reports
        .iter()
        .all(|r| r.stale == 0 && r.failed == 0 && r.bad_accepted == 0);
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn positive(flag: &str, text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x > 0.0 => Ok(x),
        _ => Err(format!("{flag}: {text:?} is not a positive number")),
    }
}

/// The side-by-side table, one column per design.
fn table(reports: &[RunReport]) -> String {
    type Cell = fn(&RunReport) -> String;
    let rows: [(&str, Cell); 13] = [
        ("requests/s", |r| format!("{:.0}", r.rps())),
        ("backend handshakes/s", |r| {
            format!("{:.0}", r.handshakes_per_s())
        }),
        ("resumed share", |r| {
            format!("{:.2}%", 100.0 * r.resumed_share())
        }),
        ("resumed share, settled", |r| {
            format!("{:.2}%", 100.0 * r.settled_share())
        }),
        ("commits (backend x rounds)", |r| r.commits.to_string()),
        ("full handshakes per commit", |r| {
            format!("{:.1}", r.full_per_commit())
        }),
        ("p50 latency", |r| format!("{} us", r.p50_us())),
        ("p99 latency", |r| format!("{} us", r.p99_us())),
        ("failed requests", |r| {
            format!("{} ({} near a commit)", r.failed, r.failed_near_commit)
        }),
        ("stale resumptions", |r| r.stale.to_string()),
        ("bad certs refused", |r| {
            format!("{} (accepted: {})", r.rejected, r.bad_accepted)
        }),
        ("tickets stored/taken/borrowed", |r| {
            let p = &r.proxy;
            format!(
                "{}/{}/{}",
                p.tickets_stored, p.tickets_taken, p.tickets_borrowed
            )
        }),
        ("sessions flushed/freed", |r| {
            format!(
                "{}/{}",
                r.proxy.sessions_flushed, r.proxy.sessions_reclaimed
            )
        }),
    ];
    let mut out = format!("\n{:<28}", "");
    for r in reports {
        out.push_str(&format!("{:>22}", r.design));
    }
    out.push('\n');
    for (name, cell) in rows {
        out.push_str(&format!("{name:<28}"));
        for r in reports {
            out.push_str(&format!("{:>22}", cell(r)));
        }
        out.push('\n');
    }
    out
}
