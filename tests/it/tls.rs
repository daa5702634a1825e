//! The phones' HTTPS listener and TLS session resumption: after a power cut, phones that come
//! back resume their sessions instead of a full handshake each, however many came first.

use std::sync::Arc;

use rustls::client::{Resumption, Tls12Resumption};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::HandshakeKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::TestServer;

/// More phones than rustls's default session cache (256) holds.
const PHONES: usize = 300;

fn roots(server: &TestServer) -> rustls::RootCertStore {
    let pem = std::fs::read(server.dir.path().join("certs/ca.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    roots
}

/// A phone's TLS client: its own session store, so each phone resumes only its own session.
fn phone(
    roots: &rustls::RootCertStore,
    version: &'static rustls::SupportedProtocolVersion,
    tls12: Tls12Resumption,
) -> tokio_rustls::TlsConnector {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
    config.resumption = Resumption::in_memory_sessions(4).tls12_resumption(tls12);
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// One connection with one request read to its end (a TLS 1.3 ticket arrives after the
/// handshake); how its handshake went.
async fn fetch(server: &TestServer, phone: &tokio_rustls::TlsConnector) -> HandshakeKind {
    let tcp = tokio::net::TcpStream::connect(server.https_addr)
        .await
        .unwrap();
    let name = ServerName::IpAddress(server.https_addr.ip().into());
    let mut tls = phone.connect(name, tcp).await.unwrap();
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: prov\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tls.read_to_end(&mut answer).await.unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    tls.get_ref().1.handshake_kind().unwrap()
}

#[tokio::test]
async fn issue_15_a_phone_resumes_its_tls_session_after_hundreds_of_others_connected() {
    let server = TestServer::start().await;
    let roots = roots(&server);
    for (version, tls12, how) in [
        (
            &rustls::version::TLS13,
            Tls12Resumption::SessionIdOrTickets,
            "TLS 1.3 ticket",
        ),
        (
            &rustls::version::TLS12,
            Tls12Resumption::SessionIdOrTickets,
            "TLS 1.2 ticket",
        ),
        (
            &rustls::version::TLS12,
            Tls12Resumption::SessionIdOnly,
            "TLS 1.2 session id",
        ),
    ] {
        let phones: Vec<_> = (0..PHONES).map(|_| phone(&roots, version, tls12)).collect();
        for phone in &phones {
            assert_eq!(fetch(&server, phone).await, HandshakeKind::Full, "{how}");
        }
        // The first phone comes back after all the others.
        assert_eq!(
            fetch(&server, &phones[0]).await,
            HandshakeKind::Resumed,
            "{how}: the first of {PHONES} phones resumes"
        );
    }
}
