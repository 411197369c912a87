//! The rustls layer, with real handshakes over 127.0.0.1 (tokio-rustls,
//! certificates made by rcgen at test time, a server that requires a client
//! certificate). Every test runs against both designs.

mod tls_support;

use rustls::HandshakeKind::{Full, Resumed};
use std::net::SocketAddr;
use tls_slots::tls::{
    Context, Entry, Item, Material, MaterialError, Upstream, UpstreamOptions, Versions,
};
use tls_slots::{GenerationId, SessionTable};
use tls_support::pki::{Identity, Pki};
use tls_support::server::{self, Known};
use tls_support::{Seen, connect, finish, health_check, start};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod rwlock {
            $(#[tokio::test] async fn $name() {
                super::$name::<tls_slots::RwLockTable<super::Context, super::Entry>>().await
            })*
        }
        mod lock_free {
            $(#[tokio::test] async fn $name() {
                super::$name::<tls_slots::LockFreeTable<super::Context, super::Entry>>().await
            })*
        }
    };
}

both!(
    full_then_resumed_on_several_workers,
    an_empty_worker_borrows_the_last_storers_ticket,
    commit_rotating_the_client_cert_forces_a_full_handshake_with_the_new_cert,
    a_full_handshake_straddling_a_commit_never_leads_to_a_stale_resumption,
    a_resumption_straddling_a_commit_never_leads_to_a_stale_resumption,
    each_bad_commit_is_refused_and_the_old_generation_keeps_resuming,
    stage_then_abort_or_commit,
    sni_mismatch_does_not_resume,
    no_reuse_never_resumes,
    health_checks_leave_the_cache_untouched,
    a_failed_handshake_clears_the_workers_slot,
    an_out_of_range_worker_is_counted_and_never_resumes,
    tls12_sessions_resume,
    der_material_works_like_pem,
    tickets_per_worker_bounds_the_slot,
);

struct World {
    pki: Pki,
    a: Identity,
    b: Identity,
    /// What the server answers for `a` and `b`.
    seen_a: u8,
    seen_b: u8,
    addr: SocketAddr,
}

async fn world() -> World {
    let pki = Pki::new();
    let (a, b) = (pki.client("client A"), pki.client("client B"));
    let known = Known::default();
    let (seen_a, seen_b) = (known.add(&a.cert_der), known.add(&b.cert_der));
    let addr = server::start(server::server_config(&pki, 4096), known).await;
    World {
        pki,
        a,
        b,
        seen_a,
        seen_b,
        addr,
    }
}

impl World {
    fn material(&self, who: &Identity) -> Material {
        Material::new()
            .roots_pem(self.pki.ca_pem.clone())
            .client_cert_pem(who.cert_pem.clone(), who.key_pem.clone())
    }

    fn upstream<T: SessionTable<Context, Entry>>(&self, options: UpstreamOptions) -> Upstream<T> {
        Upstream::new(&self.material(&self.a), options).expect("valid material")
    }

    fn full(&self, who: u8) -> Seen {
        Seen {
            kind: Full,
            identity: who,
        }
    }

    fn resumed(&self, who: u8) -> Seen {
        Seen {
            kind: Resumed,
            identity: who,
        }
    }
}

async fn full_then_resumed_on_several_workers<T: SessionTable<Context, Entry>>() {
    let w = world().await;
    let up: Upstream<T> = w.upstream(UpstreamOptions::new(3).borrow(false));
    for worker in 0..3 {
        assert_eq!(
            connect(&up, worker, w.addr, "localhost").await,
            w.full(w.seen_a)
        );
        for _ in 0..2 {
            assert_eq!(
                connect(&up, worker, w.addr, "localhost").await,
                w.resumed(w.seen_a)
            );
        }
    }
    let stats = up.stats();
    assert_eq!(
        (stats.full_handshakes, stats.resumed_handshakes),
        (3, 6),
        "{stats}"
    );
    assert_eq!(stats.tickets_taken, 6, "{stats}");
    assert_eq!(stats.tickets_borrowed, 0, "{stats}");
}

async fn an_empty_worker_borrows_the_last_storers_ticket<T: SessionTable<Context, Entry>>() {
    let w = world().await;
    let up: Upstream<T> = w.upstream(UpstreamOptions::new(2));
    assert_eq!(connect(&up, 0, w.addr, "localhost").await, w.full(w.seen_a));
    assert_eq!(
        connect(&up, 1, w.addr, "localhost").await,
        w.resumed(w.seen_a)
    );
    let stats = up.stats();
    assert_eq!(stats.tickets_borrowed, 1, "{stats}");
    // Worker 1 now has tickets of its own.
    assert_eq!(
        connect(&up, 1, w.addr, "localhost").await,
        w.resumed(w.seen_a)
    );
    assert_eq!(up.stats().tickets_borrowed, 1);
}

async fn commit_rotating_the_client_cert_forces_a_full_handshake_with_the_new_cert<
    T: SessionTable<Context, Entry>,
>() {
    let w = world().await;
    let up: Upstream<T> = w.upstream(UpstreamOptions::new(2));
    for worker in 0..2 {
        connect(&up, worker, w.addr, "localhost").await;
        assert_eq!(
            connect(&up, worker, w.addr, "localhost").await,
            w.resumed(w.seen_a)
        );
    }
    let generation = up.commit(&w.material(&w.b)).expect("valid material");
    assert_eq!(generation, GenerationId::new(2));
    assert_eq!(
        up.context().client_cert().map(|c| c.to_vec()),
        Some(w.b.cert_der.clone())
    );
    // The first connection after the commit is full and shows B; after that
    // every connection on every worker resumes B's sessions, never A's.
    assert_eq!(connect(&up, 0, w.addr, "localhost").await, w.full(w.seen_b));
    for worker in [1, 0, 1] {
        assert_eq!(
            connect(&up, worker, w.addr, "localhost").await,
            w.resumed(w.seen_b)
        );
    }
    let stats = up.stats();
    assert_eq!(stats.commits, 1, "{stats}");
    assert!(stats.sessions_flushed >= 2, "{stats}");
}

/// HAProxy 2.6's measured window: a full handshake made with the old context
/// finishes after the commit, and its session must not be kept.
async fn a_full_handshake_straddling_a_commit_never_leads_to_a_stale_resumption<
    T: SessionTable<Context, Entry>,
>() {
    let w = world().await;
    let up: Upstream<T> = w.upstream(UpstreamOptions::new(2));
    tls_slots::tls::set_current_worker(tls_slots::WorkerId::new(0));
    // ClientHello built from generation 1 (nothing to resume: full).
    let straddling = start(up.config(), w.addr, "localhost").await;
    up.commit(&w.material(&w.b)).expect("valid material");
    // The handshake completes, and its tickets arrive, after the commit.
    let (seen, tls) = finish(straddling).await.expect("straddling connection");
    up.handshake_done(tls.get_ref().1);
    assert_eq!(
        seen,
        w.full(w.seen_a),
        "the old config presents the old cert"
    );
    let stats = up.stats();
    assert_eq!(stats.tickets_stored, 0, "{stats}");
    assert!(stats.stale_discarded >= 1, "{stats}");
    // No later connection, on any worker, resumes the pre-commit session.
    assert_eq!(connect(&up, 0, w.addr, "localhost").await, w.full(w.seen_b));
    for worker in [0, 1, 1, 0] {
        assert_eq!(
            connect(&up, worker, w.addr, "localhost").await,
            w.resumed(w.seen_b)
        );
    }
}

async fn a_resumption_straddling_a_commit_never_leads_to_a_stale_resumption<
    T: SessionTable<Context, Entry>,
>() {
    let w = world().await;
    let up: Upstream<T> = w.upstream(UpstreamOptions::new(1));
    assert_eq!(connect(&up, 0, w.addr, "localhost").await, w.full(w.seen_a));
    tls_slots::tls::set_current_worker(tls_slots::WorkerId::new(0));
    // Takes a generation-1 ticket before the commit...
    let straddling = start(up.config(), w.addr, "localhost").await;
    up.commit(&w.material(&w.b)).expect("valid material");
    // ...and resumes with it after: legitimate, it began before the commit.
    let (seen, _tls) = finish(straddling).await.expect("straddling connection");
    assert_eq!(seen, w.resumed(w.seen_a));
    // The fresh tickets it received belong to generation 1: dropped.
    assert_eq!(connect(&up, 0, w.addr, "localhost").await, w.full(w.seen_b));
    assert_eq!(
        connect(&up, 0, w.addr, "localhost").await,
        w.resumed(w.seen_b)
    );
}

/// Recognizes the error a bad commit must get.
type Expect = fn(&MaterialError) -> bool;

async fn each_bad_commit_is_refused_and_the_old_generation_keeps_resuming<
    T: SessionTable<Context, Entry>,
>() {
    let w = world().await;
    let up: Upstream<T> = w.upstream(UpstreamOptions::new(1));
    connect(&up, 0, w.addr, "localhost").await;
    let roots = w.pki.ca_pem.clone();
    let (a, b) = (&w.a, &w.b);
    let with_roots = || Material::new().roots_pem(roots.clone());
    let cases: Vec<(&str, Material, Expect)> = vec![
        (
            "bad base64 in roots",
            Material::new()
                .roots_pem("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"),
            |e| {
                matches!(
                    e,
                    MaterialError::Pem {
                        item: Item::Roots,
                        ..
                    }
                )
            },
        ),
        (
            "roots PEM without its end line",
            Material::new().roots_pem("-----BEGIN CERTIFICATE-----\nMIIB\n"),
            |e| {
                matches!(
                    e,
                    MaterialError::Pem {
                        item: Item::Roots,
                        ..
                    }
                )
            },
        ),
        ("empty roots", Material::new().roots_pem(""), |e| {
            *e == MaterialError::NoRoots
        }),
        ("no roots given", Material::new(), |e| {
            *e == MaterialError::NoRoots
        }),
        (
            "a key where the roots should be",
            Material::new().roots_pem(a.key_pem.clone()),
            |e| *e == MaterialError::NoRoots,
        ),
        (
            "garbage DER root",
            Material::new().roots_der(vec![vec![0x30, 0x03, 1, 2, 3]]),
            |e| matches!(e, MaterialError::BadRoot { index: 0, .. }),
        ),
        (
            "no certificate in the client chain",
            with_roots().client_cert_pem(a.key_pem.clone(), a.key_pem.clone()),
            |e| *e == MaterialError::NoCertificate,
        ),
        (
            "no key",
            with_roots().client_cert_pem(a.cert_pem.clone(), a.cert_pem.clone()),
            |e| *e == MaterialError::NoPrivateKey,
        ),
        (
            "key of another certificate",
            with_roots().client_cert_pem(a.cert_pem.clone(), b.key_pem.clone()),
            |e| *e == MaterialError::KeyMismatch,
        ),
        (
            "garbage DER key",
            with_roots().client_cert_der(vec![a.cert_der.clone()], vec![0x30, 0x03, 1, 2, 3]),
            |e| matches!(e, MaterialError::BadPrivateKey { .. }),
        ),
        (
            "garbage DER client certificate",
            with_roots().client_cert_der(vec![vec![0x30, 0x03, 1, 2, 3]], a.key_der.clone()),
            |e| matches!(e, MaterialError::BadCertificate { .. }),
        ),
    ];
    let count = cases.len() as u64;
    for (what, material, expected) in cases {
        let error = up.commit(&material).expect_err(what);
        assert!(expected(&error), "{what}: unexpected {error:?}");
        assert!(!error.to_string().is_empty());
        assert_eq!(up.generation(), GenerationId::FIRST, "{what}");
        // The old generation keeps serving and resuming.
        assert_eq!(
            connect(&up, 0, w.addr, "localhost").await,
            w.resumed(w.seen_a),
            "{what}"
        );
    }
    let stats = up.stats();
    assert_eq!(
        (stats.rejected_commits, stats.commits),
        (count, 0),
        "{stats}"
    );
}

async fn stage_then_abort_or_commit<T: SessionTable<Context, Entry>>() {
    let w = world().await;
    let up: Upstream<T> = w.upstream(UpstreamOptions::new(1));
    connect(&up, 0, w.addr, "localhost").await;
    assert_eq!(up.commit_staged(), None, "nothing staged yet");
    assert!(up.stage(&Material::new()).is_err());
    up.stage(&w.material(&w.b)).expect("valid material");
    assert_eq!(
        up.generation(),
        GenerationId::FIRST,
        "staging publishes nothing"
    );
    assert_eq!(
        connect(&up, 0, w.addr, "localhost").await,
        w.resumed(w.seen_a)
    );
    assert!(up.abort());
    assert!(!up.abort());
    assert_eq!(up.commit_staged(), None);
    up.stage(&w.material(&w.b)).expect("valid material");
    assert_eq!(up.commit_staged(), Some(GenerationId::new(2)));
    assert_eq!(connect(&up, 0, w.addr, "localhost").await, w.full(w.seen_b));
}

async fn sni_mismatch_does_not_resume<T: SessionTable<Context, Entry>>() {
    let w = world().await;
    let up: Upstream<T> = w.upstream(UpstreamOptions::new(1));
    assert_eq!(connect(&up, 0, w.addr, "localhost").await.kind, Full);
    assert_eq!(connect(&up, 0, w.addr, "alt.localhost").await.kind, Full);
    assert!(up.stats().sni_mismatches >= 1);
    assert_eq!(connect(&up, 0, w.addr, "alt.localhost").await.kind, Resumed);
    // One server name per worker slot: the alt name replaced localhost.
    assert_eq!(connect(&up, 0, w.addr, "localhost").await.kind, Full);
}

async fn no_reuse_never_resumes<T: SessionTable<Context, Entry>>() {
    let w = world().await;
    let up: Upstream<T> = w.upstream(UpstreamOptions::new(2).no_reuse(true));
    for worker in [0, 0, 1, 1, 0] {
        assert_eq!(
            connect(&up, worker, w.addr, "localhost").await,
            w.full(w.seen_a)
        );
    }
    let stats = up.stats();
    assert_eq!(
        (stats.tickets_stored, stats.tickets_taken),
        (0, 0),
        "{stats}"
    );
    assert_eq!(up.table().counters().stores, 0);
}

async fn health_checks_leave_the_cache_untouched<T: SessionTable<Context, Entry>>() {
    let w = world().await;
    let up: Upstream<T> = w.upstream(UpstreamOptions::new(2));
    // A health check on a fresh upstream stores nothing.
    assert_eq!(health_check(&up, 0, w.addr).await, w.full(w.seen_a));
    assert_eq!(up.table().counters().stores, 0);
    assert_eq!(connect(&up, 0, w.addr, "localhost").await.kind, Full);
    let before = (up.stats(), up.table().counters());
    // With tickets in the slots, health checks neither take nor add any.
    for worker in [0, 1, 0] {
        assert_eq!(health_check(&up, worker, w.addr).await, w.full(w.seen_a));
    }
    assert_eq!((up.stats(), up.table().counters()), before);
    assert_eq!(
        connect(&up, 0, w.addr, "localhost").await,
        w.resumed(w.seen_a)
    );
}

async fn a_failed_handshake_clears_the_workers_slot<T: SessionTable<Context, Entry>>() {
    let w = world().await;
    let up: Upstream<T> = w.upstream(UpstreamOptions::new(1));
    connect(&up, 0, w.addr, "localhost").await;
    tls_slots::tls::set_current_worker(tls_slots::WorkerId::new(0));
    assert!(up.handshake_failed(), "worker 0 had sessions");
    assert!(!up.handshake_failed(), "now it has none");
    assert_eq!(connect(&up, 0, w.addr, "localhost").await.kind, Full);
    assert_eq!(connect(&up, 0, w.addr, "localhost").await.kind, Resumed);
    assert_eq!(up.stats().failed_handshakes, 2);
}

async fn an_out_of_range_worker_is_counted_and_never_resumes<T: SessionTable<Context, Entry>>() {
    let w = world().await;
    let up: Upstream<T> = w.upstream(UpstreamOptions::new(2));
    for _ in 0..2 {
        assert_eq!(connect(&up, 99, w.addr, "localhost").await.kind, Full);
    }
    let stats = up.stats();
    assert!(stats.worker_out_of_range >= 2, "{stats}");
    assert_eq!(stats.tickets_stored, 0, "{stats}");
    assert_eq!(
        stats.full_handshakes, 2,
        "counted in the spare row: {stats}"
    );
}

async fn tls12_sessions_resume<T: SessionTable<Context, Entry>>() {
    let w = world().await;
    let material = w.material(&w.a).versions(Versions::Tls12);
    let up: Upstream<T> = Upstream::new(&material, UpstreamOptions::new(2)).unwrap();
    assert_eq!(connect(&up, 0, w.addr, "localhost").await, w.full(w.seen_a));
    assert_eq!(
        connect(&up, 0, w.addr, "localhost").await,
        w.resumed(w.seen_a)
    );
    // TLS 1.2 sessions are copied, so a borrower leaves the owner's in place.
    assert_eq!(
        connect(&up, 1, w.addr, "localhost").await,
        w.resumed(w.seen_a)
    );
    assert_eq!(
        connect(&up, 0, w.addr, "localhost").await,
        w.resumed(w.seen_a)
    );
    let stats = up.stats();
    assert!(
        stats.tls12_stored >= 1 && stats.tls12_offered >= 3,
        "{stats}"
    );
    up.commit(&w.material(&w.b).versions(Versions::Tls12))
        .unwrap();
    assert_eq!(connect(&up, 0, w.addr, "localhost").await, w.full(w.seen_b));
}

async fn der_material_works_like_pem<T: SessionTable<Context, Entry>>() {
    let w = world().await;
    let material = Material::new()
        .roots_der(vec![w.pki.ca_der.clone()])
        .client_cert_der(vec![w.b.cert_der.clone()], w.b.key_der.clone())
        .alpn(vec![b"h2".to_vec(), b"http/1.1".to_vec()])
        .sni(false);
    let up: Upstream<T> = Upstream::new(&material, UpstreamOptions::new(1)).unwrap();
    assert_eq!(up.config().alpn_protocols.len(), 2);
    assert!(!up.config().enable_sni);
    assert_eq!(connect(&up, 0, w.addr, "localhost").await, w.full(w.seen_b));
    assert_eq!(
        connect(&up, 0, w.addr, "localhost").await,
        w.resumed(w.seen_b)
    );
}

async fn tickets_per_worker_bounds_the_slot<T: SessionTable<Context, Entry>>() {
    let w = world().await;
    let up: Upstream<T> = w.upstream(UpstreamOptions::new(1).tickets_per_worker(1));
    assert_eq!(connect(&up, 0, w.addr, "localhost").await.kind, Full);
    // The server sends two tickets per handshake; only the newest is kept,
    // so every handshake uses it and brings the next.
    for _ in 0..3 {
        assert_eq!(connect(&up, 0, w.addr, "localhost").await.kind, Resumed);
    }
    let stats = up.stats();
    assert_eq!(stats.tickets_taken, 3, "{stats}");
}
