//! Device trust end to end: HTTPS with the local CA, vendor client certificates, first contact,
//! Digest (and its replay), allowed networks, bootstrap, throttling, credential rotation, and a
//! whole server run whose log must not hold a secret.

use std::time::Duration;

use md5::Md5;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, PKCS_ECDSA_P256_SHA256};
use sha2::{Digest as _, Sha256};

use crate::support::{walkthrough_with, TestServer, UA};

const FILE: &str = "/001565a1b2c3.cfg";

fn ca_pem(server: &TestServer) -> Vec<u8> {
    std::fs::read(server.data_dir().join("certs/ca.pem")).expect("local CA made at start")
}

/// An HTTPS client trusting the server's local CA, optionally with a client identity (PEM).
pub(crate) fn https_client(server: &TestServer, identity: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca_pem(server)).unwrap())
        .use_rustls_tls();
    if let Some(pem) = identity {
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

pub(crate) fn https_url(server: &TestServer, path: &str) -> String {
    format!("https://127.0.0.1:{}{path}", server.https_addr.port())
}

pub(crate) fn line<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
}

/// A Digest `Authorization` for a challenge, computed here independently of the server's code.
pub(crate) fn digest_header(
    challenge: &str,
    user: &str,
    password: &str,
    uri: &str,
    nc: u32,
    sha256: bool,
) -> String {
    let nonce = challenge
        .split("nonce=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a nonce");
    let h = |text: String| -> String {
        if sha256 {
            Sha256::digest(text.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        } else {
            Md5::digest(text.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        }
    };
    let ha1 = h(format!("{user}:autoprov:{password}"));
    let ha2 = h(format!("GET:{uri}"));
    let nc = format!("{nc:08x}");
    let response = h(format!("{ha1}:{nonce}:{nc}:0a4f113b:auth:{ha2}"));
    format!(
        "Digest username=\"{user}\", realm=\"autoprov\", nonce=\"{nonce}\", uri=\"{uri}\", \
         algorithm={}, qop=auth, nc={nc}, cnonce=\"0a4f113b\", response=\"{response}\"",
        if sha256 { "SHA-256" } else { "MD5" }
    )
}

pub(crate) async fn challenge(client: &reqwest::Client, url: &str) -> String {
    let resp = client.get(url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// A walkthrough without allowed networks, and the first contact done over HTTP: returns the
/// HTTP password the phone received.
pub(crate) async fn first_contact(server: &TestServer) -> String {
    walkthrough_with(&server.app, &[]).await;
    // As a Yealink boots: its own boot file first. Inside the window it is answered like any
    // unproven request (nothing may tell a window is open without using it), so the phone falls
    // back to the common boot file, which leads it to its own file by the MAC of its
    // User-Agent.
    let (status, _, _) = server.fetch("/001565a1b2c3.boot", Some(UA)).await;
    assert_eq!(status, 404);
    let (status, _, boot) = server.fetch("/y000000000000.boot", Some(UA)).await;
    assert_eq!(status, 200);
    assert!(
        boot.contains("include:config \"001565a1b2c3.cfg\""),
        "{boot}"
    );
    let head = server.client.head(server.url(FILE)).send().await.unwrap();
    assert_eq!(
        head.status().as_u16(),
        404,
        "a HEAD does not use the window"
    );
    let (status, _, body) = server.fetch(FILE, Some(UA)).await;
    assert_eq!(status, 200, "first contact gets the full file");
    assert!(line(&body, "account.1.password").is_some());
    assert_eq!(
        line(&body, "static.auto_provision.server.username"),
        Some("001565a1b2c3")
    );
    line(&body, "static.auto_provision.server.password")
        .expect("credentials at first contact")
        .to_owned()
}

#[tokio::test]
async fn first_contact_then_credentials_only() {
    let server = TestServer::start().await;
    let password = first_contact(&server).await;
    // The window is closed: without credentials, the uniform 404, as for an unknown MAC.
    let (status, headers, body) = server.fetch(FILE, None).await;
    let (status2, headers2, body2) = server.fetch("/001565ffffff.cfg", None).await;
    assert_eq!((status, status2), (404, 404));
    assert_eq!(body, body2);
    let without_date = |h: &reqwest::header::HeaderMap| {
        let mut v: Vec<String> = h
            .iter()
            .filter(|(k, _)| *k != "date")
            .map(|(k, v)| format!("{k}: {v:?}"))
            .collect();
        v.sort();
        v
    };
    assert_eq!(without_date(&headers), without_date(&headers2));
    // Credentials over plain HTTP are refused: the file would travel in clear.
    let resp = server
        .client
        .get(server.url(FILE))
        .header(
            "Authorization",
            format!("Digest username=\"001565a1b2c3\", response=\"{password}\""),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    // Over HTTPS every device file is challenged, known MAC or not.
    let client = https_client(&server, None);
    let known = challenge(&client, &https_url(&server, FILE)).await;
    let unknown = challenge(&client, &https_url(&server, "/001565ffffff.cfg")).await;
    assert!(known.contains("algorithm=SHA-256") && unknown.contains("algorithm=SHA-256"));
    // With the credentials, the full file, with either algorithm.
    for (n, sha) in [(1, true), (2, false)] {
        let c = challenge(&client, &https_url(&server, FILE)).await;
        let auth = digest_header(&c, "001565a1b2c3", &password, FILE, n, sha);
        let resp = client
            .get(https_url(&server, FILE))
            .header("Authorization", &auth)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let body = resp.text().await.unwrap();
        assert_eq!(line(&body, "account.1.display_name"), Some("Ada Lovelace"));
    }
}

#[tokio::test]
async fn a_foreign_or_old_nonce_is_challenged_again() {
    let server = TestServer::start().await;
    let password = first_contact(&server).await;
    let client = https_client(&server, None);
    let fake = format!("Digest realm=\"autoprov\", nonce=\"{}\"", "0".repeat(64));
    let auth = digest_header(&fake, "001565a1b2c3", &password, FILE, 1, true);
    for uri in [FILE, "/001565ffffff.cfg"] {
        let resp = client
            .get(https_url(&server, uri))
            .header("Authorization", &auth)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 401, "{uri}");
        let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.ends_with("stale=true"), "{challenge}");
    }
}

#[tokio::test]
async fn bootstrap_answers_are_throttled_too() {
    let server = TestServer::start_with(&[
        ("trust.unproven", "bootstrap"),
        ("trust.fail_burst", "10"),
        ("trust.fail_per_minute", "1"),
        ("trust.slow_ms", "0"),
    ])
    .await;
    walkthrough_with(&server.app, &[]).await;
    let mut statuses = Vec::new();
    for i in 0..30 {
        statuses.push(server.fetch(&format!("/001565{i:06x}.cfg"), None).await.0);
    }
    assert_eq!(statuses[0], 200, "a bootstrap file at first");
    assert_eq!(*statuses.last().unwrap(), 404, "then refused: {statuses:?}");
}

#[tokio::test]
async fn a_replayed_digest_response_is_refused() {
    let server = TestServer::start().await;
    let password = first_contact(&server).await;
    let client = https_client(&server, None);
    let c = challenge(&client, &https_url(&server, FILE)).await;
    let auth = digest_header(&c, "001565a1b2c3", &password, FILE, 1, true);
    let get = || {
        client
            .get(https_url(&server, FILE))
            .header("Authorization", &auth)
            .send()
    };
    assert_eq!(get().await.unwrap().status().as_u16(), 200);
    assert_eq!(
        get().await.unwrap().status().as_u16(),
        404,
        "the same response again"
    );
    // Wrong password, another device's file, a made-up nonce: the same 404.
    let c = challenge(&client, &https_url(&server, FILE)).await;
    for (user, pw, uri) in [
        ("001565a1b2c3", "wrong", FILE),
        ("001565a1b2c3", password.as_str(), "/001565000000.cfg"),
    ] {
        let auth = digest_header(&c, user, pw, uri, 5, true);
        let resp = client
            .get(https_url(&server, uri))
            .header("Authorization", auth)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404, "{user} {uri}");
        assert_eq!(resp.text().await.unwrap(), "not found\n");
    }
}

#[tokio::test]
async fn rotated_credentials_overlap() {
    let server = TestServer::start().await;
    let old = first_contact(&server).await;
    let tenant = server.app.admin.tenant("Acme").await.unwrap();
    server
        .app
        .admin
        .device_rotate_credentials(tenant.id, "001565a1b2c3", 1)
        .await
        .unwrap();
    let client = https_client(&server, None);
    let fetch = |password: String, nc: u32| {
        let client = client.clone();
        let url = https_url(&server, FILE);
        async move {
            let c = challenge(&client, &url).await;
            let auth = digest_header(&c, "001565a1b2c3", &password, FILE, nc, true);
            let resp = client
                .get(&url)
                .header("Authorization", auth)
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    // The old password still works during the overlap, and brings the new one.
    let (status, body) = fetch(old.clone(), 1).await;
    assert_eq!(status, 200);
    let new = line(&body, "static.auto_provision.server.password")
        .unwrap()
        .to_owned();
    assert_ne!(new, old);
    assert_eq!(fetch(new, 1).await.0, 200);
    // Without an overlap, the old one stops at once.
    server
        .app
        .admin
        .device_rotate_credentials(tenant.id, "001565a1b2c3", 0)
        .await
        .unwrap();
    assert_eq!(fetch(old, 2).await.0, 404);
}

/// A vendor CA and a phone certificate for `mac` (in the subject's CN), as PEM (CA, identity).
fn vendor_phone_cert(mac: &str) -> (String, String) {
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(DnType::CommonName, "Test Vendor Device CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut phone = CertificateParams::new(Vec::<String>::new()).unwrap();
    phone
        .distinguished_name
        .push(DnType::CommonName, format!("SIP-T54W {mac}"));
    let phone_cert = phone.signed_by(&key, &ca_cert, &ca_key).unwrap();
    (
        ca_cert.pem(),
        format!("{}{}", phone_cert.pem(), key.serialize_pem()),
    )
}

#[tokio::test]
async fn a_vendor_certificate_proves_its_own_mac_only() {
    let vendors = tempfile::tempdir().unwrap();
    let (ca, identity) = vendor_phone_cert("00:15:65:a1:b2:c3");
    std::fs::write(vendors.path().join("test-vendor.pem"), ca).unwrap();
    let dir = vendors.path().display().to_string();
    let server = TestServer::start_with(&[("https.vendor_ca_dir", &dir)]).await;
    walkthrough_with(&server.app, &[]).await;
    let tenant = server.app.admin.tenant("Acme").await.unwrap();
    // Use up the first-contact window, so only the certificate can prove anything.
    server.fetch(FILE, Some(UA)).await;
    let b = autoprov::admin::DeviceInput {
        mac: "001565000000".into(),
        model: "T54W".into(),
        site: None,
    };
    server.app.admin.device_add(tenant.id, &b).await.unwrap();
    server.fetch("/001565000000.cfg", None).await;

    let client = https_client(&server, Some(&identity));
    let resp = client.get(https_url(&server, FILE)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body = resp.text().await.unwrap();
    assert!(line(&body, "account.1.password").is_some_and(|p| p.len() >= 20));
    let resp = client
        .get(https_url(&server, "/001565000000.cfg"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404, "B's file with A's certificate");
    assert_eq!(resp.text().await.unwrap(), "not found\n");
    // A certificate from a CA we do not trust does not get through the handshake.
    let (_, stranger) = vendor_phone_cert("00:15:65:a1:b2:c3");
    let refused = https_client(&server, Some(&stranger))
        .get(https_url(&server, FILE))
        .send()
        .await;
    assert!(refused.is_err() || refused.unwrap().status().as_u16() != 200);
}

#[tokio::test]
async fn allowed_networks_and_bootstrap() {
    let server = TestServer::start_with(&[("trust.unproven", "bootstrap")]).await;
    walkthrough_with(&server.app, &["127.0.0.2/32"]).await;
    // First contact, from 127.0.0.1.
    server.fetch(FILE, Some(UA)).await;
    // 127.0.0.1 is not an allowed network: the bootstrap file, with no secret and nothing of the
    // device; the same for an unknown MAC. (The User-Agent names the family: `<mac>.cfg` is
    // Fanvil's file too.)
    let yealink = Some("Yealink SIP-T54W 96.86.0.100");
    let (status, _, body) = server.fetch(FILE, yealink).await;
    let (_, _, unknown) = server.fetch("/001565ffffff.cfg", yealink).await;
    assert_eq!(status, 200);
    assert_eq!(body, unknown);
    assert!(
        !body.contains("password") && !body.contains("account."),
        "{body}"
    );
    assert_eq!(
        line(&body, "static.auto_provision.server.url"),
        Some(format!("https://{}/", server.https_addr).as_str())
    );
    // From 127.0.0.2, an allowed network: the full file.
    let lan = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse().unwrap()))
        .build()
        .unwrap();
    let body = lan
        .get(server.url(FILE))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(line(&body, "account.1.display_name"), Some("Ada Lovelace"));
}

#[tokio::test]
async fn guessing_macs_gets_an_address_throttled_and_no_one_else() {
    let server = TestServer::start_with(&[
        ("trust.fail_burst", "20"),
        ("trust.fail_per_minute", "1"),
        ("trust.slow_ms", "0"),
    ])
    .await;
    let password = first_contact(&server).await;
    let tenant = server.app.admin.tenant("Acme").await.unwrap();
    server
        .app
        .admin
        .site_trust(tenant.id, None, &["127.0.0.2/32".to_string()], &[], None)
        .await
        .unwrap();
    let mut seed: u32 = 12345;
    for _ in 0..500 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let (status, _, _) = server
            .fetch(&format!("/001565{:06x}.cfg", seed & 0xff_ffff), None)
            .await;
        assert_eq!(status, 404);
    }
    let throttled = server
        .app
        .provisioner
        .metrics
        .throttled
        .load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        throttled >= 400,
        "the address was refused without look-ups: {throttled}"
    );
    // Another address is still served.
    let lan = reqwest::Client::builder()
        .local_address(Some("127.0.0.2".parse().unwrap()))
        .build()
        .unwrap();
    let resp = lan.get(server.url(FILE)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    // And a device that proves itself from the throttled address too.
    let client = https_client(&server, None);
    let resp = client.get(https_url(&server, FILE)).send().await.unwrap();
    let c = resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let auth = digest_header(&c, "001565a1b2c3", &password, FILE, 1, true);
    let resp = client
        .get(https_url(&server, FILE))
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let (_, _, metrics) = server.fetch("/metrics", None).await;
    assert!(
        metrics.contains("autoprov_trust_decisions_total{decision=\"proven-digest\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn tftp_gets_first_contact_or_nothing() {
    let server = TestServer::start().await;
    walkthrough_with(&server.app, &[]).await;
    let get = |name: &'static str, from: &'static str| async move {
        crate::support::tftp_get(server.tftp_addr, from, name)
            .await
            .map(|bytes| String::from_utf8(bytes).unwrap())
    };
    let first = get("001565a1b2c3.cfg", "127.0.0.1:0").await.unwrap();
    assert!(line(&first, "static.auto_provision.server.password").is_some());
    // The same phone asking again at once (it missed our answer): served again.
    assert_eq!(get("001565a1b2c3.cfg", "127.0.0.1:0").await, Ok(first));
    // Anyone else: nothing.
    assert_eq!(
        get("001565a1b2c3.cfg", "127.0.0.2:0").await,
        Err("file not found".to_string())
    );
}

#[tokio::test]
async fn odd_paths_and_oversized_requests() {
    let server = TestServer::start().await;
    crate::support::walkthrough(&server.app).await;
    for path in [
        "/..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/001565a1b2c3.cfg%00.txt",
        "//etc/passwd",
        "/a/../../../etc/passwd",
    ] {
        let (status, _, body) = server.fetch(path, None).await;
        assert_eq!((status, body.as_str()), (404, "not found\n"), "{path}");
    }
    let long = format!("/{}/001565a1b2c3.cfg", "a".repeat(1100));
    assert_eq!(server.fetch(&long, None).await.0, 404);
    let resp = server
        .client
        .get(server.url(FILE))
        .header("X-Big", "x".repeat(20 * 1024))
        .send()
        .await;
    assert!(
        resp.is_err() || resp.unwrap().status().as_u16() == 431,
        "oversized headers refused"
    );
    // A write is refused without the body being read into the server.
    let resp = server
        .client
        .put(server.url("/001565a1b2c3-local.cfg"))
        .body(vec![b'x'; 1024 * 1024])
        .send()
        .await;
    assert!(resp.is_err() || resp.unwrap().status().as_u16() == 404);
}

#[tokio::test]
async fn the_server_log_holds_no_secret() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cli = |args: &[&str]| {
        let mut cmd = crate::cli::autoprov(d);
        cmd.args(args);
        cmd
    };
    for args in [
        &["tenant", "add", "Acme"][..],
        &[
            "site",
            "add",
            "--tenant",
            "Acme",
            "HQ",
            "--sip-domain",
            "sip.example.com",
        ],
        &[
            "number",
            "add",
            "--tenant",
            "Acme",
            "+4930123456",
            "--status",
            "active",
        ],
        &[
            "user",
            "add",
            "--tenant",
            "Acme",
            "--first",
            "Ada",
            "--last",
            "Lovelace",
            "--number",
            "+4930123456",
        ],
        &["user", "activate", "--tenant", "Acme", "Ada Lovelace"],
        &[
            "device",
            "add",
            "--tenant",
            "Acme",
            "--mac",
            "001565a1b2c3",
            "--model",
            "T54W",
        ],
        &[
            "device",
            "login",
            "--tenant",
            "Acme",
            "--mac",
            "001565a1b2c3",
            "--number",
            "+4930123456",
        ],
    ] {
        let out = cli(args).output().await.unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The most talkative log there is.
    let mut server = cli(&[
        "serve",
        "--http",
        "127.0.0.1:0",
        "--https",
        "127.0.0.1:0",
        "--tftp",
        "127.0.0.1:0",
        "--admin",
        "127.0.0.1:0",
    ])
    .env("RUST_LOG", "trace")
    .stderr(std::process::Stdio::piped())
    .kill_on_drop(true)
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let mut log = String::new();
    let (mut http, mut https) = (None, None);
    while http.is_none() || https.is_none() {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the server starts")
            .unwrap()
            .expect("the server runs");
        log.push_str(&line);
        log.push('\n');
        if line.contains("listening") {
            let addr = line.split("addr=").nth(1).map(|a| a.trim().to_owned());
            if line.contains("\"https\"") {
                https = addr;
            } else if line.contains("\"http\"") {
                http = addr;
            }
        }
    }
    let (http, https) = (http.unwrap(), https.unwrap());
    let plain = reqwest::Client::new();
    let first = plain
        .get(format!("http://{http}{FILE}"))
        .header("User-Agent", UA)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let secrets: Vec<String> = [
        "account.1.password",
        "static.auto_provision.server.password",
    ]
    .iter()
    .map(|k| line(&first, k).expect("a secret").to_owned())
    .chain(std::iter::once(
        line(&first, "static.security.user_password")
            .and_then(|v| v.strip_prefix("admin:"))
            .unwrap()
            .to_owned(),
    ))
    .collect();
    // Digest over HTTPS, a wrong password, a replay, unknown MACs.
    let ca = std::fs::read(d.join("certs/ca.pem")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .use_rustls_tls()
        .build()
        .unwrap();
    let url = format!(
        "https://127.0.0.1:{}{FILE}",
        https.rsplit(':').next().unwrap()
    );
    let c = challenge(&client, &url).await;
    for (password, nc) in [
        (secrets[1].as_str(), 1),
        ("wrong", 2),
        (secrets[1].as_str(), 1),
    ] {
        let auth = digest_header(&c, "001565a1b2c3", password, FILE, nc, true);
        client
            .get(&url)
            .header("Authorization", auth)
            .send()
            .await
            .unwrap();
    }
    plain
        .get(format!("http://{http}/001565ffffff.cfg"))
        .send()
        .await
        .unwrap();
    // Signing in at the phone: its service URL (with the token) and a PIN stay out of the log.
    let service = line(&first, "programablekey.3.value").expect("the phone service key");
    let token = service
        .split("/x/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let said = client
        .get(format!("{service}?number=4930123456&pin=73915824"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(said.contains("wrong PIN"), "{said}");
    // A request's line may be written after its answer went out: read until the last one's is
    // there (a loaded machine may be slow to write it), then stop the server.
    while !(log.contains("served") && log.contains("phone service refused")) {
        let Ok(Ok(Some(line))) =
            tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await
        else {
            break;
        };
        log.push_str(&line);
        log.push('\n');
    }
    let _ = server.start_kill();
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_secs(5), lines.next_line()).await
    {
        log.push_str(&line);
        log.push('\n');
    }
    assert!(log.contains("served"), "the log was captured: {log}");
    for secret in &secrets {
        assert!(secret.len() >= 20);
        assert!(!log.contains(secret.as_str()), "a secret in the log");
    }
    assert!(log.contains("phone service refused"), "{log}");
    assert!(!log.contains(token), "the service token in the log");
    assert!(!log.contains("73915824"), "a PIN in the log");
}

#[tokio::test]
async fn an_operator_certificate_replaces_the_local_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(DnType::CommonName, "Operator CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca_cert, &ca_key)
        .unwrap();
    let (cert_path, key_path) = (dir.path().join("op.pem"), dir.path().join("op-key.pem"));
    std::fs::write(&cert_path, leaf.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let (c, k) = (
        cert_path.display().to_string(),
        key_path.display().to_string(),
    );
    let server = TestServer::start_with(&[("https.cert", &c), ("https.key", &k)]).await;
    crate::support::walkthrough(&server.app).await;
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_cert.pem().as_bytes()).unwrap())
        .use_rustls_tls()
        .build()
        .unwrap();
    // Loopback is an allowed network in the walkthrough: served without credentials.
    let resp = client.get(https_url(&server, FILE)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        !server.data_dir().join("certs/ca.pem").exists(),
        "no local CA made"
    );
    let fact = server.app.store.fact(autoprov::app::LOCAL_CA_FACT).await;
    assert_eq!(fact.unwrap(), None, "no local CA recorded");
    assert_eq!(server.fetch("/autoprov-ca.crt", None).await.0, 404);
}
