//! Credential material for a commit: parsed and checked before anything is
//! published.

use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{ClientConfig, Error as RustlsError, InconsistentKeys, RootCertStore};
use std::fmt;
use std::sync::Arc;

/// How certificates or a key are encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encoded {
    /// PEM text; may hold several sections (a chain, a bundle).
    Pem(Vec<u8>),
    /// DER, one item per element (for a key: the first element).
    Der(Vec<Vec<u8>>),
}

/// Which TLS versions a config offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Versions {
    /// TLS 1.3 and TLS 1.2 (rustls's default).
    #[default]
    Tls13And12,
    /// TLS 1.3 only.
    Tls13,
    /// TLS 1.2 only.
    Tls12,
}

impl Versions {
    fn rustls(self) -> &'static [&'static rustls::SupportedProtocolVersion] {
        static BOTH: [&rustls::SupportedProtocolVersion; 2] =
            [&rustls::version::TLS13, &rustls::version::TLS12];
        static TLS13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        static TLS12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
        match self {
            Versions::Tls13And12 => &BOTH,
            Versions::Tls13 => &TLS13,
            Versions::Tls12 => &TLS12,
        }
    }
}

/// Which input an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// The trusted roots (CA bundle).
    Roots,
    /// The client certificate chain.
    ClientChain,
    /// The client private key.
    ClientKey,
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Item::Roots => "trusted roots",
            Item::ClientChain => "client certificate chain",
            Item::ClientKey => "client private key",
        })
    }
}

/// Why material was refused. Nothing was published: the previous generation
/// keeps serving and resuming.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaterialError {
    /// PEM text that does not parse (a section without its end line, bad
    /// base64).
    Pem {
        /// The input.
        item: Item,
        /// What the PEM parser said.
        reason: String,
    },
    /// The client chain holds no certificate.
    NoCertificate,
    /// No trusted root was given (or the PEM held none).
    NoRoots,
    /// A root certificate that rustls cannot use as a trust anchor.
    BadRoot {
        /// Its position in the input, from 0.
        index: usize,
        /// What rustls said.
        reason: String,
    },
    /// A client chain was given but no private key was found with it.
    NoPrivateKey,
    /// The private key does not parse or is of an unsupported kind.
    BadPrivateKey {
        /// What rustls said.
        reason: String,
    },
    /// The client's end-entity certificate does not parse.
    BadCertificate {
        /// What rustls said.
        reason: String,
    },
    /// The private key is not the one the client certificate certifies.
    KeyMismatch,
    /// rustls refused the configuration (for example the protocol versions
    /// with the crypto provider).
    Config {
        /// What rustls said.
        reason: String,
    },
}

impl fmt::Display for MaterialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaterialError::Pem { item, reason } => write!(f, "{item}: unparsable PEM: {reason}"),
            MaterialError::NoCertificate => {
                f.write_str("client certificate chain: no certificate found")
            }
            MaterialError::NoRoots => f.write_str("trusted roots: no certificate found"),
            MaterialError::BadRoot { index, reason } => {
                write!(f, "trusted roots: certificate {index} refused: {reason}")
            }
            MaterialError::NoPrivateKey => f.write_str("client private key: none found"),
            MaterialError::BadPrivateKey { reason } => {
                write!(f, "client private key: unusable: {reason}")
            }
            MaterialError::BadCertificate { reason } => {
                write!(f, "client certificate: unusable: {reason}")
            }
            MaterialError::KeyMismatch => {
                f.write_str("client private key does not match the client certificate's public key")
            }
            MaterialError::Config { reason } => write!(f, "configuration refused: {reason}"),
        }
    }
}

impl std::error::Error for MaterialError {}

/// What a commit installs: the client identity (optional, for mTLS), the
/// trusted roots, and the `ClientConfig` knobs a proxy sets.
///
/// ```
/// # let (ca_pem, cert_pem, key_pem) = (b"", b"", b"");
/// let material = tls_slots::tls::Material::new()
///     .roots_pem(ca_pem.to_vec())
///     .client_cert_pem(cert_pem.to_vec(), key_pem.to_vec())
///     .alpn(vec![b"h2".to_vec()]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Material {
    roots: Option<Encoded>,
    client: Option<(Encoded, Encoded)>,
    alpn: Vec<Vec<u8>>,
    versions: Versions,
    sni: bool,
}

impl Default for Material {
    fn default() -> Self {
        Self::new()
    }
}

impl Material {
    /// No roots, no client identity, no ALPN, TLS 1.3 and 1.2, SNI on.
    pub fn new() -> Self {
        Self {
            roots: None,
            client: None,
            alpn: Vec::new(),
            versions: Versions::default(),
            sni: true,
        }
    }

    /// The trusted roots, as PEM (a CA bundle).
    pub fn roots_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.roots = Some(Encoded::Pem(pem.into()));
        self
    }

    /// The trusted roots, as DER certificates.
    pub fn roots_der(mut self, certs: Vec<Vec<u8>>) -> Self {
        self.roots = Some(Encoded::Der(certs));
        self
    }

    /// The client certificate chain (end-entity first) and its private key,
    /// as PEM.
    pub fn client_cert_pem(mut self, chain: impl Into<Vec<u8>>, key: impl Into<Vec<u8>>) -> Self {
        self.client = Some((Encoded::Pem(chain.into()), Encoded::Pem(key.into())));
        self
    }

    /// The client certificate chain (end-entity first) and its private key
    /// (PKCS#8, PKCS#1 or SEC1), as DER.
    pub fn client_cert_der(mut self, chain: Vec<Vec<u8>>, key: Vec<u8>) -> Self {
        self.client = Some((Encoded::Der(chain), Encoded::Der(vec![key])));
        self
    }

    /// No client certificate (no mTLS).
    pub fn no_client_cert(mut self) -> Self {
        self.client = None;
        self
    }

    /// The ALPN protocols to offer, most preferred first.
    pub fn alpn(mut self, protocols: Vec<Vec<u8>>) -> Self {
        self.alpn = protocols;
        self
    }

    /// The TLS versions to offer.
    pub fn versions(mut self, versions: Versions) -> Self {
        self.versions = versions;
        self
    }

    /// Whether to send SNI (rustls's `enable_sni`). Sessions are keyed by the
    /// server name either way.
    pub fn sni(mut self, enable: bool) -> Self {
        self.sni = enable;
        self
    }

    /// Parses and checks everything, and builds the configuration every
    /// generation made from it starts from.
    pub fn prepare(&self) -> Result<Prepared, MaterialError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = roots(self.roots.as_ref())?;
        let identity = match &self.client {
            Some((chain, key)) => Some(identity(chain, key, &provider)?),
            None => None,
        };
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| match e {
                    rustls::server::VerifierBuilderError::NoRootAnchors => MaterialError::NoRoots,
                    other => MaterialError::Config {
                        reason: other.to_string(),
                    },
                })?;
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(self.versions.rustls())
            .map_err(|e| MaterialError::Config {
                reason: e.to_string(),
            })?
            .with_webpki_verifier(verifier);
        let client_cert = identity.as_ref().map(|key| key.cert[0].clone());
        let mut template = match identity {
            Some(key) => builder.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(key))),
            None => builder.with_no_client_auth(),
        };
        template.alpn_protocols = self.alpn.clone();
        template.enable_sni = self.sni;
        Ok(Prepared {
            template,
            client_cert,
        })
    }
}

/// Material that passed every check: what a commit publishes. Every
/// generation built from it shares its verifier and client-certificate
/// resolver (one `Arc` each), as rustls 0.23.24+ requires for resumption.
#[derive(Clone, Debug)]
pub struct Prepared {
    template: ClientConfig,
    client_cert: Option<CertificateDer<'static>>,
}

impl Prepared {
    /// The client's end-entity certificate, if the material has one.
    pub fn client_cert(&self) -> Option<&CertificateDer<'static>> {
        self.client_cert.as_ref()
    }

    /// A config for one generation, with `resumption`.
    pub(crate) fn config(&self, resumption: rustls::client::Resumption) -> Arc<ClientConfig> {
        let mut config = self.template.clone();
        config.resumption = resumption;
        Arc::new(config)
    }
}

fn pem_error(item: Item, e: pem::Error) -> MaterialError {
    MaterialError::Pem {
        item,
        reason: e.to_string(),
    }
}

fn certs(item: Item, encoded: &Encoded) -> Result<Vec<CertificateDer<'static>>, MaterialError> {
    match encoded {
        Encoded::Pem(text) => CertificateDer::pem_slice_iter(text)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error(item, e)),
        Encoded::Der(items) => Ok(items
            .iter()
            .map(|der| CertificateDer::from(der.clone()))
            .collect()),
    }
}

fn roots(encoded: Option<&Encoded>) -> Result<RootCertStore, MaterialError> {
    let certs = certs(Item::Roots, encoded.ok_or(MaterialError::NoRoots)?)?;
    if certs.is_empty() {
        return Err(MaterialError::NoRoots);
    }
    let mut store = RootCertStore::empty();
    for (index, cert) in certs.into_iter().enumerate() {
        store.add(cert).map_err(|e| MaterialError::BadRoot {
            index,
            reason: e.to_string(),
        })?;
    }
    Ok(store)
}

fn identity(
    chain: &Encoded,
    key: &Encoded,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, MaterialError> {
    let chain = certs(Item::ClientChain, chain)?;
    if chain.is_empty() {
        return Err(MaterialError::NoCertificate);
    }
    let key = match key {
        Encoded::Pem(text) => PrivateKeyDer::from_pem_slice(text).map_err(|e| match e {
            pem::Error::NoItemsFound => MaterialError::NoPrivateKey,
            e => pem_error(Item::ClientKey, e),
        })?,
        Encoded::Der(items) => {
            let der = items.first().ok_or(MaterialError::NoPrivateKey)?;
            PrivateKeyDer::try_from(der.clone()).map_err(|e| MaterialError::BadPrivateKey {
                reason: e.to_string(),
            })?
        }
    };
    let signing_key =
        provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| MaterialError::BadPrivateKey {
                reason: e.to_string(),
            })?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        // `Unknown`: the key cannot tell its public half; rustls's own
        // `CertifiedKey::from_der` accepts that too.
        Ok(()) | Err(RustlsError::InconsistentKeys(InconsistentKeys::Unknown)) => Ok(certified),
        Err(RustlsError::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            Err(MaterialError::KeyMismatch)
        }
        Err(e) => Err(MaterialError::BadCertificate {
            reason: e.to_string(),
        }),
    }
}
