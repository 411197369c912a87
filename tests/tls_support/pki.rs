//! Certificates made at run time with rcgen: a CA, a server leaf for
//! `localhost` and `alt.localhost`, and client identities.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A certificate and its key, in both encodings.
#[derive(Clone)]
pub struct Identity {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: Vec<u8>,
    pub key_der: Vec<u8>,
}

/// A CA that can issue more identities.
pub struct Pki {
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    pub server: Identity,
    issuer: Issuer<'static, KeyPair>,
}

impl Pki {
    pub fn new() -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "tls-slots test CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::CrlSign,
        ];
        let ca = params.self_signed(&ca_key).expect("CA cert");
        let issuer = Issuer::new(params, ca_key);
        let mut pki = Self {
            ca_pem: ca.pem(),
            ca_der: ca.der().to_vec(),
            server: Identity {
                cert_pem: String::new(),
                key_pem: String::new(),
                cert_der: Vec::new(),
                key_der: Vec::new(),
            },
            issuer,
        };
        pki.server = pki.issue(
            "server",
            &["localhost", "alt.localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        pki
    }

    /// A client identity named `name`.
    pub fn client(&self, name: &str) -> Identity {
        self.issue(name, &[], ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn issue(&self, name: &str, sans: &[&str], usage: ExtendedKeyUsagePurpose) -> Identity {
        let key = KeyPair::generate().expect("leaf key");
        let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(sans).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &self.issuer).expect("leaf cert");
        Identity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }
}
