//! Certificates made at run time with rcgen: a CA, a server certificate for
//! `localhost`, `alt.localhost` and 127.0.0.1, and as many client identities
//! as asked for. Shared by the tests, the examples and the benches.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::Path;

/// A certificate and its key.
#[derive(Clone)]
pub struct Identity {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PEM (PKCS#8).
    pub key_pem: String,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
    /// The private key, DER (PKCS#8).
    pub key_der: Vec<u8>,
}

impl Identity {
    /// The chain and key in one PEM: the payload of `set ssl cert`.
    pub fn bundle_pem(&self) -> String {
        format!("{}{}", self.cert_pem, self.key_pem)
    }
}

/// A CA that issues the server's and the clients' certificates.
pub struct Pki {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The CA certificate, DER.
    pub ca_der: Vec<u8>,
    /// A server identity for `localhost`, `alt.localhost` and 127.0.0.1.
    pub server: Identity,
    issuer: Issuer<'static, KeyPair>,
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

impl Pki {
    /// A fresh CA and server identity.
    pub fn new() -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "tls-slots demo CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::CrlSign,
        ];
        let ca = params.self_signed(&ca_key).expect("CA cert");
        let issuer = Issuer::new(params, ca_key);
        let server = issue(
            &issuer,
            "server",
            &["localhost", "alt.localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        Self {
            ca_pem: ca.pem(),
            ca_der: ca.der().to_vec(),
            server,
            issuer,
        }
    }

    /// A client identity whose common name is `name`.
    pub fn client(&self, name: &str) -> Identity {
        issue(&self.issuer, name, &[], ExtendedKeyUsagePurpose::ClientAuth)
    }

    /// Writes `ca.pem`, `server.pem`, `server.key`, `client-a.pem`,
    /// `client-a.key`, `client-b.pem`, `client-b.key` into `dir`.
    pub fn write_dir(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("ca.pem"), &self.ca_pem)?;
        std::fs::write(dir.join("server.pem"), &self.server.cert_pem)?;
        std::fs::write(dir.join("server.key"), &self.server.key_pem)?;
        for who in ["a", "b"] {
            let id = self.client(&format!("client {who}"));
            std::fs::write(dir.join(format!("client-{who}.pem")), &id.cert_pem)?;
            std::fs::write(dir.join(format!("client-{who}.key")), &id.key_pem)?;
        }
        Ok(())
    }
}

fn issue(
    issuer: &Issuer<'static, KeyPair>,
    name: &str,
    sans: &[&str],
    usage: ExtendedKeyUsagePurpose,
) -> Identity {
    let key = KeyPair::generate().expect("leaf key");
    let sans: Vec<String> = sans.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(sans).expect("leaf params");
    params.distinguished_name.push(DnType::CommonName, name);
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, issuer).expect("leaf cert");
    Identity {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert_der: cert.der().to_vec(),
        key_der: key.serialize_der(),
    }
}
