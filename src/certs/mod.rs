//! Certificates: the local CA and server certificate made on first start (rcgen, ECDSA P-256),
//! kept in `<data>/certs/` (0700, keys 0600), and what `autoprov certs show` tells about them.
//! Phones provisioned over HTTPS trust the local CA and no other, so [`init`] never replaces it
//! unasked: it checks the CA against the fingerprint the store recorded (the caller passes it in
//! and records what comes out; no SQL here). Vendor CA bundles for phone client certificates are
//! read by the TLS listener (`http::tls`).

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
    pub dir: PathBuf,
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
            dir,
        }
    }
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

/// What [`init`] may make anew.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Renew {
    /// Only what is missing: the CA if there is none (and none was recorded), the server
    /// certificate if it is missing or not from this CA. What `serve` does.
    Missing,
    /// A new server certificate from the existing CA, e.g. for new `https.hostnames`
    /// (`certs init --force`).
    ServerCert,
    /// A new CA and server certificate (`certs init --replace`): every phone that trusts the
    /// old CA must be provisioned again.
    Ca,
}

/// The local CA and server certificate as [`init`] left them.
#[derive(Clone, Debug)]
pub struct Local {
    pub paths: LocalPaths,
    /// SHA-256 of the CA certificate's DER, lowercase hex: what the store records.
    pub ca_sha256: String,
}

/// The SHA-256 of a certificate's DER, lowercase hex.
pub fn sha256_hex(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// Makes the local CA and a server certificate for `https.hostnames` in `<data>/certs/`, or
/// checks the ones there. `recorded` is the CA fingerprint the store holds, if any: phones that
/// were provisioned over HTTPS trust that CA and no other, so a missing or different CA is
/// refused rather than made anew (unless `renew` is [`Renew::Ca`]). The caller records the
/// returned fingerprint. Keys are written 0600 in a 0700 folder.
pub fn init(settings: &Settings, recorded: Option<&str>, renew: Renew) -> Result<Local> {
    let paths = LocalPaths::new(&settings.data_dir);
    let existing = match renew {
        Renew::Ca => None,
        Renew::Missing | Renew::ServerCert => read_ca(&paths, recorded)?,
    };
    if let Some(recorded) = recorded.filter(|_| renew != Renew::Ca) {
        match &existing {
            None => return Err(refused(&paths, Some(recorded), "there is no CA")),
            Some(ca) if ca.sha256 != recorded => {
                let found = format!("there is another CA (SHA-256 {})", ca.sha256);
                return Err(refused(&paths, Some(recorded), &found));
            }
            Some(_) => {}
        }
    }

    crate::private::dir(&paths.dir, "certificate folder")?;
    crate::private::tighten(&paths.ca_key, "CA key")?;
    crate::private::tighten(&paths.key, "server key")?;

    let (ca, made_ca) = match existing {
        Some(ca) => (ca, false),
        None => (make_ca(&paths)?, true),
    };
    let server_current = renew == Renew::Missing && !made_ca && server_cert_from(&paths, &ca);
    if !server_current {
        make_server_cert(settings, &paths, &ca)?;
    }
    if made_ca {
        tracing::info!(dir = %paths.dir.display(), sha256 = %ca.sha256, "made a local CA");
    }
    Ok(Local {
        paths,
        ca_sha256: ca.sha256,
    })
}

/// The local CA, loaded to sign with.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
    /// Its certificate, PEM, as written to `ca.pem`.
    pem: String,
    der: Vec<u8>,
    sha256: String,
}

/// A local CA that cannot be used as it is (`found` says why): what the operator may do. Making a
/// new one over it would lose the CA phones trust, so that is theirs to decide.
fn refused(paths: &LocalPaths, recorded: Option<&str>, found: &str) -> Error {
    let dir = paths.dir.display();
    let why = match recorded {
        Some(recorded) => format!(
            "the store recorded the CA with SHA-256 {recorded}, but {found}; every phone \
             provisioned over HTTPS trusts only the recorded CA"
        ),
        None => found.to_owned(),
    };
    Error::conflict(format!(
        "local CA in {dir}: {why}. Restore {dir} from a backup, or run `autoprov certs init \
         --replace` to make a new CA on purpose (phones that trust the old one must then be \
         provisioned again)"
    ))
}

/// The CA in `paths`, `None` if neither its certificate nor its key is there. Half a CA, a file
/// that does not parse, or a key that is not the certificate's is refused.
fn read_ca(paths: &LocalPaths, recorded: Option<&str>) -> Result<Option<Ca>> {
    let refuse = |found: String| refused(paths, recorded, &found);
    let (pem, key_pem) = match (read_optional(&paths.ca)?, read_optional(&paths.ca_key)?) {
        (None, None) => return Ok(None),
        (Some(pem), Some(key_pem)) => (pem, key_pem),
        (Some(_), None) => return Err(refuse(format!("{} is missing", paths.ca_key.display()))),
        (None, Some(_)) => return Err(refuse(format!("{} is missing", paths.ca.display()))),
    };
    let unusable = |path: &Path, e: &dyn std::fmt::Display| {
        refuse(format!("{} is not usable ({e})", path.display()))
    };
    let (_, parsed) =
        x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|e| unusable(&paths.ca, &e))?;
    let der = parsed.contents.clone();
    let x509 = parsed.parse_x509().map_err(|e| unusable(&paths.ca, &e))?;
    let key = KeyPair::from_pem(&key_pem).map_err(|e| unusable(&paths.ca_key, &e))?;
    if key.public_key_raw() != &x509.public_key().subject_public_key.data[..] {
        return Err(refuse(format!(
            "{} is not the key of the certificate {}",
            paths.ca_key.display(),
            paths.ca.display()
        )));
    }
    let params = CertificateParams::from_ca_cert_pem(&pem).map_err(|e| unusable(&paths.ca, &e))?;
    // Only the subject and key identifier of this certificate are used, as the issuer of new
    // server certificates; the CA certificate phones trust stays the one in `ca.pem`.
    let cert = params
        .self_signed(&key)
        .map_err(|e| unusable(&paths.ca, &e))?;
    let sha256 = sha256_hex(&der);
    Ok(Some(Ca {
        cert,
        key,
        pem,
        der,
        sha256,
    }))
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))),
    }
}

/// Whether the server certificate and key are there and the chain in `server.pem` ends in this
/// CA (after a CA was restored from a backup, the server certificate may be another CA's).
fn server_cert_from(paths: &LocalPaths, ca: &Ca) -> bool {
    if !paths.key.is_file() {
        return false;
    }
    let Ok(chain) = std::fs::read(&paths.cert) else {
        return false;
    };
    let last = x509_parser::pem::Pem::iter_from_buffer(&chain)
        .filter_map(|pem| pem.ok())
        .last();
    last.is_some_and(|pem| pem.contents == ca.der)
}

fn rcgen_err(e: rcgen::Error) -> Error {
    Error::Config(format!("making certificates: {e}"))
}

/// Valid from a year ago (clocks of phones that have not synchronised yet) for `years` from
/// today; days past the 28th count as the 28th, which every month has.
fn set_validity(params: &mut CertificateParams, years: i16) {
    let today = jiff::Zoned::now().date();
    let ymd = |years: i16| {
        rcgen::date_time_ymd(
            i32::from(today.year() + years),
            today.month() as u8,
            today.day().min(28) as u8,
        )
    };
    params.not_before = ymd(-1);
    params.not_after = ymd(years);
}

/// Makes a new CA and writes it: the key first, so a certificate is never there without it.
fn make_ca(paths: &LocalPaths) -> Result<Ca> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(rcgen_err)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(rcgen_err)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "autoprov local CA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "autoprov");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(&mut params, 10);
    let cert = params.self_signed(&key).map_err(rcgen_err)?;
    crate::private::write(&paths.ca_key, key.serialize_pem().as_bytes())?;
    let pem = cert.pem();
    // Certificates are public, but written the same way: whole, then moved into place.
    crate::private::write(&paths.ca, pem.as_bytes())?;
    let der = cert.der().to_vec();
    let sha256 = sha256_hex(&der);
    Ok(Ca {
        cert,
        key,
        pem,
        der,
        sha256,
    })
}

/// Issues a server certificate for `https.hostnames` from `ca` and writes it with its key.
fn make_server_cert(settings: &Settings, paths: &LocalPaths, ca: &Ca) -> Result<()> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(rcgen_err)?;
    let hostnames = settings.https_settings.hostnames.clone();
    let mut server = CertificateParams::new(hostnames.clone()).map_err(rcgen_err)?;
    let common_name = hostnames.first().cloned().unwrap_or_default();
    server
        .distinguished_name
        .push(DnType::CommonName, common_name);
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    // Two years: under the 825 days some clients allow a server certificate.
    set_validity(&mut server, 2);
    let cert = server
        .signed_by(&key, &ca.cert, &ca.key)
        .map_err(rcgen_err)?;
    // The key before the certificate: the TLS reloader picks up a pair when the certificate
    // changes, and then its key is already there.
    crate::private::write(&paths.key, key.serialize_pem().as_bytes())?;
    // The chain: server certificate, then the CA.
    let chain = format!("{}{}", cert.pem(), ca.pem);
    crate::private::write(&paths.cert, chain.as_bytes())?;
    tracing::info!(dir = %paths.dir.display(), hosts = ?hostnames, "issued a server certificate from the local CA");
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
