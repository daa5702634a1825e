//! TLS for the HTTPS listener: the server certificate (reloaded when its files change, without a
//! restart) and phone client certificates checked against the vendor CA bundles. A client
//! certificate that chains to a vendor CA yields the MAC in its subject, which `provision` then
//! compares with the file's MAC.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use crate::error::{Error, Result};

/// TLS 1.2 sessions kept for resumption by id: one small entry each (about 100 bytes, and the
/// certificate chain of a phone that showed one).
const SESSIONS: usize = 20_000;
use crate::model::Mac;

/// The current TLS configuration, swapped whole on reload.
pub struct TlsState {
    cert: PathBuf,
    key: PathBuf,
    vendor_ca_dir: PathBuf,
    current: RwLock<(Arc<ServerConfig>, Stamp)>,
}

/// Modification times of everything the configuration was built from.
type Stamp = Vec<Option<SystemTime>>;

impl TlsState {
    pub fn load(cert: PathBuf, key: PathBuf, vendor_ca_dir: PathBuf) -> Result<TlsState> {
        let stamp = stamp(&cert, &key, &vendor_ca_dir);
        let config = build(&cert, &key, &vendor_ca_dir)?;
        Ok(TlsState {
            cert,
            key,
            vendor_ca_dir,
            current: RwLock::new((Arc::new(config), stamp)),
        })
    }

    pub fn config(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    /// Rebuilds the configuration if a file changed; a broken new file is logged and the last
    /// good configuration stays in use. Returns whether it reloaded.
    pub fn reload_if_changed(&self) -> bool {
        let now = stamp(&self.cert, &self.key, &self.vendor_ca_dir);
        if self.current.read().unwrap_or_else(|e| e.into_inner()).1 == now {
            return false;
        }
        match build(&self.cert, &self.key, &self.vendor_ca_dir) {
            Ok(config) => {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = (Arc::new(config), now);
                tracing::info!(cert = %self.cert.display(), "TLS certificates reloaded");
                true
            }
            Err(e) => {
                // Remember the stamp so a broken file is reported once, not every check.
                self.current.write().unwrap_or_else(|e| e.into_inner()).1 = now;
                tracing::error!(error = %e, "new TLS certificates are unusable; keeping the previous ones");
                false
            }
        }
    }
}

fn stamp(cert: &Path, key: &Path, vendor_dir: &Path) -> Stamp {
    let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut out = vec![mtime(cert), mtime(key), mtime(vendor_dir)];
    for path in vendor_bundles(vendor_dir) {
        out.push(mtime(&path));
    }
    out
}

fn vendor_bundles(dir: &Path) -> Vec<PathBuf> {
    let mut list: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "pem" || x == "crt"))
                .collect()
        })
        .unwrap_or_default();
    list.sort();
    list
}

fn build(cert: &Path, key: &Path, vendor_dir: &Path) -> Result<ServerConfig> {
    let bad =
        |what: &Path, e: &dyn std::fmt::Display| Error::Config(format!("{}: {e}", what.display()));
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, &e))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(cert, &e))?;
    if chain.is_empty() {
        return Err(bad(cert, &"no certificate in the file"));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for bundle in vendor_bundles(vendor_dir) {
        let certs = CertificateDer::pem_file_iter(&bundle).map_err(|e| bad(&bundle, &e))?;
        for c in certs {
            let c = c.map_err(|e| bad(&bundle, &e))?;
            roots.add(c).map_err(|e| bad(&bundle, &e))?;
        }
    }
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?;
    let builder = if roots.is_empty() {
        builder.with_no_client_auth()
    } else {
        // Phones without a certificate are welcome too: they prove themselves other ways.
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .allow_unauthenticated()
            .build()
            .map_err(|e| Error::Config(format!("vendor CA bundles: {e}")))?;
        builder.with_client_cert_verifier(verifier)
    };
    let mut config = builder
        .with_single_cert(chain, key_der)
        .map_err(|e| bad(cert, &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // Resumption after a power cut: phones that come back resume instead of a full handshake.
    // Tickets (TLS 1.3, and 1.2 clients that ask for them) keep nothing per phone here; their
    // key is rustls's own, rotated every few hours, per node (a phone resuming at another node
    // makes a full handshake). Session ids (1.2 without tickets) are kept for the last
    // `SESSIONS` phones, not rustls's default 256.
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(SESSIONS);
    config.ticketer = rustls::crypto::ring::Ticketer::new()
        .map_err(|e| Error::Config(format!("TLS session tickets: {e}")))?;
    Ok(config)
}

/// The MAC in a (verified) client certificate's subject: the first common name or serial number
/// (Cisco's `S=`) that holds one, as 12 hex digits or with `:`/`-` separators, possibly inside
/// other text (`SEP001565A1B2C3`, `Yealink 00:15:65:a1:b2:c3`).
pub fn client_mac(der: &[u8]) -> Option<Mac> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let subject = cert.subject();
    let texts = subject
        .iter_common_name()
        .chain(subject.iter_by_oid(&x509_parser::oid_registry::OID_X509_SERIALNUMBER))
        .filter_map(|attr| attr.as_str().ok());
    for text in texts {
        // A MAC is a whole run of hex digits and separators: a longer run (a serial number, a
        // hash) is not read as one.
        let found = text
            .split(|c: char| !(c.is_ascii_hexdigit() || c == ':' || c == '-'))
            .find_map(|run| run.parse::<Mac>().ok());
        if found.is_some() {
            return found;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let (c, k) = (dir.join("server.pem"), dir.join("server-key.pem"));
        std::fs::write(&c, cert.pem()).unwrap();
        std::fs::write(&k, key.serialize_pem()).unwrap();
        (c, k)
    }

    #[test]
    fn reloads_changed_files_and_keeps_the_last_good_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = make(dir.path(), "one.example");
        let state = TlsState::load(cert.clone(), key.clone(), dir.path().join("vendors")).unwrap();
        let first = state.config();
        assert!(!state.reload_if_changed(), "nothing changed");
        // Same second as the first write on some file systems: make the change visible.
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        make(dir.path(), "two.example");
        std::fs::File::options()
            .write(true)
            .open(&cert)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert!(state.reload_if_changed());
        assert!(!Arc::ptr_eq(&first, &state.config()));
        let good = state.config();
        std::fs::write(&cert, "garbage").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&cert)
            .unwrap()
            .set_modified(later + std::time::Duration::from_secs(5))
            .unwrap();
        assert!(!state.reload_if_changed(), "a broken file is not taken");
        assert!(Arc::ptr_eq(&good, &state.config()));
    }

    #[test]
    fn client_macs_from_subjects() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        for (cn, expected) in [
            ("SEP001565A1B2C3", Some("001565a1b2c3")),
            ("Yealink 00:15:65:a1:b2:c3", Some("001565a1b2c3")),
            ("no mac here", None),
            ("serial 00112233445566778899", None),
            ("CE001565A1B2C3", None),
        ] {
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, cn);
            let cert = params.self_signed(&key).unwrap();
            let mac = client_mac(cert.der()).map(|m| m.to_string());
            assert_eq!(mac.as_deref(), expected, "{cn}");
        }
    }
}
