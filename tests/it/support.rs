//! `TestServer`: the whole server in-process on port 0 with a temp data dir; cancelled on drop.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use autoprov::config::{self, Settings, Sources};
use autoprov::{App, Listeners};
use tokio_util::sync::CancellationToken;

pub struct TestServer {
    pub app: App,
    pub addr: SocketAddr,
    pub tftp_addr: SocketAddr,
    pub https_addr: SocketAddr,
    /// The admin listener (REST API), HTTPS with the local CA.
    pub admin_addr: SocketAddr,
    /// The SIP PnP listener, when the test turned it on (`listen.pnp`).
    pub pnp_addr: Option<SocketAddr>,
    pub dir: tempfile::TempDir,
    shutdown: CancellationToken,
    pub client: reqwest::Client,
    /// A client trusting the local CA, for the admin listener.
    pub admin_client: reqwest::Client,
}

/// Settings for a temp data dir, through the same layering as the binary (flags only).
pub fn settings(data: &Path, extra: &[(&'static str, &str)]) -> Settings {
    let mut flags: Vec<(&'static str, String)> = vec![
        ("data", data.display().to_string()),
        ("listen.http", "127.0.0.1:0".to_owned()),
        ("listen.tftp", "127.0.0.1:0".to_owned()),
        ("listen.https", "127.0.0.1:0".to_owned()),
        ("listen.admin", "127.0.0.1:0".to_owned()),
    ];
    flags.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    let (settings, _) = config::load(&Sources {
        config_file: None,
        read_env: false,
        flags,
    })
    .expect("test settings are valid");
    settings
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(&[]).await
    }

    pub async fn start_with(extra: &[(&'static str, &str)]) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = settings(dir.path(), extra);
        let listeners = Listeners::bind(&settings).await.expect("bind port 0");
        let addr = listeners
            .http
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .expect("http address");
        let tftp_addr = listeners
            .tftp
            .as_ref()
            .and_then(|s| s.local_addr().ok())
            .expect("tftp address");
        let https_addr = listeners
            .https
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .expect("https address");
        let admin_addr = listeners
            .admin
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .expect("admin address");
        let pnp_addr = listeners.pnp.as_ref().and_then(|s| s.local_addr().ok());
        let app = App::open(settings.with_bound(Some(addr), Some(https_addr)))
            .await
            .expect("app opens");
        // The local CA exists before the server starts, so a client can trust it now.
        app.server_files().await.expect("local certificates");
        // (An operator's certificate, when a test gives one, makes no local CA.)
        let mut builder = reqwest::Client::builder().use_rustls_tls();
        if let Ok(ca) = std::fs::read(dir.path().join("certs/ca.pem")) {
            builder =
                builder.add_root_certificate(reqwest::Certificate::from_pem(&ca).expect("CA PEM"));
        }
        let admin_client = builder.build().expect("admin client");
        let shutdown = CancellationToken::new();
        tokio::spawn(autoprov::run(app.clone(), listeners, shutdown.clone()));
        TestServer {
            app,
            addr,
            tftp_addr,
            https_addr,
            admin_addr,
            pnp_addr,
            dir,
            shutdown,
            client: reqwest::Client::new(),
            admin_client,
        }
    }

    /// For `#[tokio::test(start_paused = true)]`: the server starts on the real clock (opening the
    /// database waits on SQLite's own thread, which a paused clock would skip past into sqlx's
    /// time-outs), then time is paused again for the test.
    pub async fn start_paused_with(extra: &[(&'static str, &str)]) -> TestServer {
        tokio::time::resume();
        let server = Self::start_with(extra).await;
        // `run` checks the local CA against the store (a database read) before it starts any
        // listener; one answered request shows it got past that on the real clock, so the paused
        // clock cannot race past a listener that is not serving yet.
        let (status, _, _) = server.fetch("/healthz", None).await;
        assert_eq!(status, 200, "the server serves");
        tokio::time::pause();
        server
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A URL on the admin listener (the REST API).
    pub fn admin_url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.admin_addr.port())
    }

    /// GET as a phone with this User-Agent: (status, headers, body).
    pub async fn fetch(
        &self,
        path: &str,
        ua: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut req = self.client.get(self.url(path));
        if let Some(ua) = ua {
            req = req.header("User-Agent", ua);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.text().await.expect("body"))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub const MAC: &str = "00:15:65:a1:b2:c3";
pub const UA: &str = "Yealink SIP-T54W 96.86.0.100 00:15:65:a1:b2:c3";
pub const NUMBER: &str = "+4930123456";

/// The README walkthrough: tenant Acme, site Berlin, an active number, Ada Lovelace activated,
/// a T54W with the number logged in. The site trusts loopback (an allowed network), so tests of
/// other things fetch full files without credentials; `trust.rs` tests the other levels.
pub async fn walkthrough(app: &App) {
    walkthrough_with(app, &["127.0.0.0/8"]).await
}

/// The walkthrough with these allowed networks at the site.
pub async fn walkthrough_with(app: &App, allowed_networks: &[&str]) {
    use autoprov::admin::{DeviceInput, NumberInput, SiteInput, UserInput};
    let admin = &app.admin;
    let tenant = admin.tenant_add("Acme").await.unwrap();
    admin
        .site_add(
            tenant.id,
            &SiteInput {
                name: "Berlin".into(),
                time_zone: Some("Europe/Berlin".into()),
                sip_domain: Some("sip.example.com".into()),
                allowed_networks: allowed_networks.iter().map(|n| n.to_string()).collect(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    admin
        .number_add(
            tenant.id,
            &NumberInput {
                number: NUMBER.into(),
                status: Some("active".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let user = admin
        .user_add(
            tenant.id,
            &UserInput {
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                number: Some(NUMBER.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    admin.user_activate(tenant.id, &user).await.unwrap();
    admin
        .device_add(
            tenant.id,
            &DeviceInput {
                mac: MAC.into(),
                model: "T54W".into(),
                site: None,
            },
        )
        .await
        .unwrap();
    admin.device_login(tenant.id, MAC, NUMBER).await.unwrap();
}

/// Fetches `name` over TFTP from a socket bound to `from` (octet, no options, lock-step):
/// the bytes, or the server's error message.
pub async fn tftp_get(server: SocketAddr, from: &str, name: &str) -> Result<Vec<u8>, String> {
    use autoprov::tftp::packet::{self, Mode, Packet, Request};
    let socket = tokio::net::UdpSocket::bind(from).await.expect("bind");
    let rrq = Packet::Rrq(Request {
        filename: name.into(),
        mode: Mode::Octet,
        options: vec![],
    });
    socket.send_to(&rrq.to_bytes(), server).await.expect("send");
    let mut buf = vec![0u8; 600];
    let mut body = Vec::new();
    loop {
        let (n, peer) = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            socket.recv_from(&mut buf),
        )
        .await
        .expect("the server answers")
        .expect("receive");
        match packet::parse(&buf[..n]).expect("a TFTP packet") {
            Packet::Data { block, data } => {
                body.extend_from_slice(data);
                let last = data.len() < 512;
                socket
                    .send_to(&Packet::Ack(block).to_bytes(), peer)
                    .await
                    .expect("send");
                if last {
                    return Ok(body);
                }
            }
            Packet::Error { message, .. } => return Err(message),
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Tells the person running the tests something (a part skipped), past the test harness's
/// capture of `eprintln!`: written straight to the process's stderr, so `cargo test` shows it.
pub fn say(message: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}
