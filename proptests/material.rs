//! Bad credential material for the rustls layer: whatever bytes arrive, a
//! commit either publishes a new generation or returns a typed
//! `MaterialError`; it never panics, and a refused commit leaves the previous
//! generation serving (same generation number, same `ClientConfig`).

#[path = "../tests/tls_support/pki.rs"]
#[allow(dead_code)]
mod pki;

use pki::{Identity, Pki};
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};
use tls_slots::SessionTable;
use tls_slots::tls::{
    Context, Entry, LockFreeUpstream, Material, MaterialError, RwLockUpstream, Upstream,
    UpstreamOptions,
};

struct Fixture {
    pki: Pki,
    clients: Vec<Identity>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let pki = Pki::new();
        let clients = (0..3).map(|i| pki.client(&format!("client-{i}"))).collect();
        Fixture { pki, clients }
    })
}

fn good(who: &Identity) -> Material {
    Material::new()
        .roots_pem(fixture().pki.ca_pem.clone())
        .client_cert_pem(who.cert_pem.clone(), who.key_pem.clone())
}

/// Commits `material` on a fresh upstream of design `T` and checks the
/// contract: on `Err`, nothing changed and the rejection was counted; on `Ok`,
/// exactly one new generation.
fn commit_keeps_contract<T: SessionTable<Context, Entry>>(
    material: &Material,
) -> Result<(), MaterialError> {
    let upstream =
        Upstream::<T>::new(&good(&fixture().clients[0]), UpstreamOptions::new(2)).unwrap();
    let (generation, config) = (upstream.generation(), upstream.config());
    let outcome = upstream.commit(material);
    match &outcome {
        Ok(new) => {
            assert_eq!(new.get(), generation.get() + 1);
            assert_eq!(upstream.generation(), *new);
        }
        Err(error) => {
            assert!(!error.to_string().is_empty());
            assert_eq!(
                upstream.generation(),
                generation,
                "a refused commit published"
            );
            assert!(
                Arc::ptr_eq(&upstream.config(), &config),
                "the old config stopped serving"
            );
            assert_eq!(upstream.stats().rejected_commits, 1);
        }
    }
    outcome.map(|_| ())
}

/// Runs the contract on both designs and checks they agree.
fn both(material: &Material) -> Result<(), MaterialError> {
    let lock_free = commit_keeps_contract::<tls_slots::LockFreeTable<Context, Entry>>(material);
    let rwlock = commit_keeps_contract::<tls_slots::RwLockTable<Context, Entry>>(material);
    assert_eq!(
        lock_free, rwlock,
        "the designs disagree on the same material"
    );
    lock_free
}

// The aliases are what proxies name; keep them exercised here too.
#[test]
fn the_upstream_aliases_refuse_an_empty_chain() {
    let key = fixture().clients[0].key_der.clone();
    let material = Material::new()
        .roots_pem(fixture().pki.ca_pem.clone())
        .client_cert_der(vec![], key);
    let good = good(&fixture().clients[0]);
    let lock_free = LockFreeUpstream::new(&good, UpstreamOptions::new(1)).unwrap();
    let rwlock = RwLockUpstream::new(&good, UpstreamOptions::new(1)).unwrap();
    assert_eq!(
        lock_free.commit(&material),
        Err(MaterialError::NoCertificate)
    );
    assert_eq!(rwlock.commit(&material), Err(MaterialError::NoCertificate));
}

#[test]
fn good_material_commits() {
    assert_eq!(both(&good(&fixture().clients[1])), Ok(()));
}

/// Which input a property corrupts.
#[derive(Clone, Copy, Debug)]
enum Input {
    Roots,
    Chain,
    Key,
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![Just(Input::Roots), Just(Input::Chain), Just(Input::Key)]
}

/// Good PEM material with one input replaced by `bytes`.
fn pem_with(input: Input, bytes: Vec<u8>) -> Material {
    let (ca, who) = (&fixture().pki.ca_pem, &fixture().clients[0]);
    let (roots, chain, key) = match input {
        Input::Roots => (
            bytes,
            who.cert_pem.clone().into(),
            who.key_pem.clone().into(),
        ),
        Input::Chain => (ca.clone().into(), bytes, who.key_pem.clone().into()),
        Input::Key => (ca.clone().into(), who.cert_pem.clone().into(), bytes),
    };
    Material::new().roots_pem(roots).client_cert_pem(chain, key)
}

/// Good DER material with one input replaced by `bytes`.
fn der_with(input: Input, bytes: Vec<u8>) -> Material {
    let (ca, who) = (&fixture().pki.ca_der, &fixture().clients[0]);
    let (roots, chain, key) = match input {
        Input::Roots => (bytes, who.cert_der.clone(), who.key_der.clone()),
        Input::Chain => (ca.clone(), bytes, who.key_der.clone()),
        Input::Key => (ca.clone(), who.cert_der.clone(), bytes),
    };
    Material::new()
        .roots_der(vec![roots])
        .client_cert_der(vec![chain], key)
}

fn original(input: Input, pem: bool) -> Vec<u8> {
    let (ca, who) = (&fixture().pki, &fixture().clients[0]);
    match (input, pem) {
        (Input::Roots, true) => ca.ca_pem.clone().into(),
        (Input::Chain, true) => who.cert_pem.clone().into(),
        (Input::Key, true) => who.key_pem.clone().into(),
        (Input::Roots, false) => ca.ca_der.clone(),
        (Input::Chain, false) => who.cert_der.clone(),
        (Input::Key, false) => who.key_der.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_MATERIAL_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(200)
    ))]

    /// Arbitrary bytes where PEM is expected are refused with a typed error.
    #[test]
    fn garbage_pem_is_refused(input in input(), bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        prop_assert!(both(&pem_with(input, bytes)).is_err());
    }

    /// DER cut short anywhere is refused with a typed error.
    #[test]
    fn truncated_der_is_refused(input in input(), cut in any::<prop::sample::Index>()) {
        let full = original(input, false);
        let truncated = full[..cut.index(full.len())].to_vec();
        prop_assert!(both(&der_with(input, truncated)).is_err());
    }

    /// One corrupted byte in valid PEM or DER: a typed error or (if the
    /// change happens to keep it valid) a commit, never a panic, and the
    /// contract holds either way.
    #[test]
    fn a_flipped_byte_never_panics(input in input(), pem in any::<bool>(),
                                   at in any::<prop::sample::Index>(), xor in 1u8..) {
        let mut bytes = original(input, pem);
        let i = at.index(bytes.len());
        bytes[i] ^= xor;
        let material = if pem { pem_with(input, bytes) } else { der_with(input, bytes) };
        let _ = both(&material);
    }

    /// A certificate with another identity's key is refused as a mismatch.
    #[test]
    fn a_key_from_another_identity_is_a_mismatch(cert in 0usize..3, key in 0usize..3, pem in any::<bool>()) {
        let clients = &fixture().clients;
        let (c, k) = (&clients[cert], &clients[key]);
        let material = if pem {
            Material::new().roots_pem(fixture().pki.ca_pem.clone())
                .client_cert_pem(c.cert_pem.clone(), k.key_pem.clone())
        } else {
            Material::new().roots_der(vec![fixture().pki.ca_der.clone()])
                .client_cert_der(vec![c.cert_der.clone()], k.key_der.clone())
        };
        let expected = if cert == key { Ok(()) } else { Err(MaterialError::KeyMismatch) };
        prop_assert_eq!(both(&material), expected);
    }
}
