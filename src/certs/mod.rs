//! Certificates: the local CA and server certificate made on first start (rcgen, ECDSA P-256),
//! kept in `<data>/certs/`, and what `autoprov certs show` tells about them. Vendor CA bundles
//! for phone client certificates are read by the TLS listener (`http::tls`).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::error::{Error, Result};

/// Where the local CA and server certificate live.
#[derive(Clone, Debug)]
pub struct LocalPaths {
    pub ca: PathBuf,
    pub ca_key: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl LocalPaths {
    pub fn new(data_dir: &Path) -> LocalPaths {
        let dir = data_dir.join("certs");
        LocalPaths {
            ca: dir.join("ca.pem"),
            ca_key: dir.join("ca-key.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server-key.pem"),
        }
    }

    fn complete(&self) -> bool {
        [&self.ca, &self.ca_key, &self.cert, &self.key]
            .iter()
            .all(|p| p.is_file())
    }
}

/// The certificate and key the HTTPS listener uses: the operator's, or the local ones (made now
/// if missing).
pub fn server_files(settings: &Settings) -> Result<(PathBuf, PathBuf)> {
    if let Some((cert, key)) = &settings.https_settings.cert_and_key {
        return Ok((cert.clone(), key.clone()));
    }
    let paths = LocalPaths::new(&settings.data_dir);
    if !paths.complete() {
        init(settings, false)?;
    }
    Ok((paths.cert, paths.key))
}

/// Where phones fetch the local CA certificate: only when the local CA is in use.
pub fn ca_url(settings: &Settings) -> Option<String> {
    if settings.https.is_none() || settings.https_settings.cert_and_key.is_some() {
        return None;
    }
    Some(format!("{}{CA_FILE}", settings.public_url))
}

/// The public name of the local CA certificate on the HTTP listener.
pub const CA_FILE: &str = "autoprov-ca.crt";

/// Makes a local CA and a server certificate for `https.hostnames`. Keeps existing files unless
/// `force`. Returns the paths.
pub fn init(settings: &Settings, force: bool) -> Result<LocalPaths> {
    let paths = LocalPaths::new(&settings.data_dir);
    if paths.complete() && !force {
        return Ok(paths);
    }
    let dir = paths.ca.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let fail = |e: rcgen::Error| Error::Config(format!("making certificates: {e}"));
    let today = jiff::Zoned::now().date();
    let ymd = |years: i16| {
        rcgen::date_time_ymd(
            i32::from(today.year() + years),
            today.month() as u8,
            today.day().min(28) as u8,
        )
    };

    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(fail)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
    ca.distinguished_name
        .push(DnType::CommonName, "autoprov local CA");
    ca.distinguished_name
        .push(DnType::OrganizationName, "autoprov");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = ymd(-1);
    ca.not_after = ymd(10);
    let ca_cert = ca.self_signed(&ca_key).map_err(fail)?;

    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(fail)?;
    let hostnames = settings.https_settings.hostnames.clone();
    let mut server = CertificateParams::new(hostnames.clone()).map_err(fail)?;
    server
        .distinguished_name
        .push(DnType::CommonName, hostnames[0].clone());
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.not_before = ymd(-1);
    // Two years: under the 825 days some clients allow a server certificate.
    server.not_after = ymd(2);
    let server_cert = server.signed_by(&key, &ca_cert, &ca_key).map_err(fail)?;

    write_private(&paths.ca_key, &ca_key.serialize_pem())?;
    write_private(&paths.key, &key.serialize_pem())?;
    std::fs::write(&paths.ca, ca_cert.pem())?;
    // The chain: server certificate, then the CA.
    std::fs::write(
        &paths.cert,
        format!("{}{}", server_cert.pem(), ca_cert.pem()),
    )?;
    tracing::info!(dir = %dir.display(), hosts = ?hostnames, "made a local CA and server certificate");
    Ok(paths)
}

/// Private keys are readable by their owner only.
fn write_private(path: &Path, pem: &str) -> Result<()> {
    std::fs::write(path, pem)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// What `autoprov certs show` prints about one certificate.
#[derive(Debug, Serialize)]
pub struct CertInfo {
    pub path: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub names: Vec<String>,
    /// SHA-256 of the DER, as phones and browsers show it.
    pub sha256: String,
}

/// Facts about the first certificate in a PEM file.
pub fn describe(path: &Path) -> Result<CertInfo> {
    let text = std::fs::read(path)?;
    let (_, pem) = x509_parser::pem::parse_x509_pem(&text)
        .map_err(|e| Error::Config(format!("{}: not a PEM certificate: {e}", path.display())))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    let names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => d.to_string(),
                    x509_parser::extensions::GeneralName::IPAddress(ip) => match ip.len() {
                        4 => std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string(),
                        16 => {
                            let mut b = [0u8; 16];
                            b.copy_from_slice(ip);
                            std::net::Ipv6Addr::from(b).to_string()
                        }
                        _ => hex::encode(ip),
                    },
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .unwrap_or_default();
    let fingerprint = Sha256::digest(&pem.contents);
    Ok(CertInfo {
        path: path.display().to_string(),
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: cert.validity().not_before.to_string(),
        not_after: cert.validity().not_after.to_string(),
        names,
        sha256: fingerprint
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":"),
    })
}
