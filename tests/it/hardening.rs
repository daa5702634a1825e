//! The attacks of the hardening review (issue 10), performed against a running server: each test
//! fails on the code before the fix.

use std::sync::atomic::Ordering;

use autoprov::admin::{DeviceInput, NumberInput, UserInput};
use autoprov::provision::check;
use autoprov::provision::{FileRequest, Outcome, Protocol};
use autoprov::render::Format;
use autoprov::store::AuditFilter;
use autoprov::App;

use crate::support::{tftp_get, walkthrough_with, TestServer, UA};
use crate::trust::{digest_header, first_contact, https_client, https_url, line};

/// The phone the guessers look for: registered, a line logged in, its window open, and its MAC
/// inside the 65,536 MACs they probe (00:15:65:00:00:00 to 00:15:65:00:ff:ff).
const VICTIM: &str = "00:15:65:00:9c:40";
const VICTIM_FILE: &str = "001565009c40.cfg";

/// A second phone with a line of its own, as `device add` leaves it: window open.
async fn victim(app: &App) {
    let admin = &app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    admin
        .number_add(
            tenant.id,
            &NumberInput {
                number: "+4930123457".into(),
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
                first_name: "Grace".into(),
                last_name: "Hopper".into(),
                number: Some("+4930123457".into()),
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
                mac: VICTIM.into(),
                model: "T54W".into(),
                site: None,
            },
        )
        .await
        .unwrap();
    admin
        .device_login(tenant.id, VICTIM, "+4930123457")
        .await
        .unwrap();
}

/// Whether a served file holds any secret: a password line with a value, or credentials.
fn holds_secret(body: &str) -> bool {
    body.lines().any(|l| {
        let l = l.trim();
        (l.contains("password") || l.contains("Password") || l.contains("passwd"))
            && !l.ends_with("=")
            && !l.ends_with("\"\"")
            && !l.ends_with("></P6714>")
    }) || body.contains("auto_provision.server.password")
}

/// The address of the `n`th guesser: consecutive ones are in different /24s, so no per-network
/// limit ever holds one back.
fn guesser_address(n: usize) -> String {
    format!("127.1.{}.{}", n % 256, 1 + n / 256)
}

/// Guesses `<mac>.cfg` for MACs 00:15:65:00:00:00 + `range` through the provisioning entry
/// point, as the transport `protocol` would pass them, a new address every 25: the names of
/// the files that held a secret.
async fn guess_in_process(
    app: &App,
    protocol: Protocol,
    range: std::ops::Range<usize>,
) -> Vec<String> {
    let mut secrets = Vec::new();
    for i in range {
        let name = format!("00156500{i:04x}.cfg");
        let peer = guesser_address(i / 25).parse().ok();
        let request = FileRequest {
            user_agent: (protocol != Protocol::Tftp).then_some("Yealink SIP-T54W 96.86.0.100"),
            ..FileRequest::plain(&name, protocol, peer)
        };
        if let Outcome::Found(file) = app.provisioner.serve(&request).await.outcome {
            if holds_secret(&String::from_utf8_lossy(&file.body)) {
                secrets.push(name);
            }
        }
    }
    secrets
}

#[tokio::test]
async fn issue_10_a_rotating_tftp_guesser_over_65536_macs_gets_no_secret() {
    let server = TestServer::start().await;
    walkthrough_with(&server.app, &[]).await;
    victim(&server.app).await;
    let tftp = server.tftp_addr;
    // The first 1,000 guesses over real TFTP, a new address every 25, 8 at a time...
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8usize {
        tasks.spawn(async move {
            let mut secrets = Vec::new();
            for i in (worker..1000).step_by(8) {
                let from = format!("{}:0", guesser_address(i / 25));
                let name = format!("00156500{i:04x}.cfg");
                if let Ok(body) = tftp_get(tftp, &from, &name).await {
                    if holds_secret(&String::from_utf8_lossy(&body)) {
                        secrets.push(name);
                    }
                }
            }
            secrets
        });
    }
    let mut secrets = Vec::new();
    while let Some(found) = tasks.join_next().await {
        secrets.extend(found.unwrap());
    }
    // ...and the rest of the 65,536 (the victim among them) as the TFTP listener passes them on.
    secrets.extend(guess_in_process(&server.app, Protocol::Tftp, 1000..65_536).await);
    assert_eq!(secrets, Vec::<String>::new(), "no guess gets a secret");
    // The window was not used up by anyone, and the admins were told.
    let app = &server.app;
    let tenant = app.admin.tenant("Acme").await.unwrap();
    let victim = app.store.device_by_mac(VICTIM.parse().unwrap()).await;
    let victim = victim.unwrap().unwrap();
    assert!(victim.access.http_password.is_none(), "window still unused");
    assert!(
        app.provisioner
            .metrics
            .windows_closed
            .load(Ordering::Relaxed)
            >= 1
    );
    let (events, _) = app
        .admin
        .audit(
            Some(tenant.id),
            &AuditFilter {
                action: Some("first-contact-closed".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "one event for the tenant: {events:?}");
    assert_eq!(events[0].after.as_ref().unwrap()["vendor_prefix"], "001565");
    // The real phone still provisions: the admin names the installers' network as where
    // windows may be used from, and the phone there gets its file at once.
    app.admin
        .site_trust(tenant.id, None, &[], &["127.0.0.9/32".into()], None)
        .await
        .unwrap();
    let body = tftp_get(tftp, "127.0.0.9:0", VICTIM_FILE).await.unwrap();
    let body = String::from_utf8(body).unwrap();
    assert!(line(&body, "static.auto_provision.server.password").is_some());
    assert!(line(&body, "account.1.password").is_some());
}

#[tokio::test]
async fn issue_10_a_rotating_http_guesser_gets_no_secret_and_proven_phones_are_served() {
    let server = TestServer::start().await;
    // Ada's phone has done its first contact and holds credentials; a site-mate is on the
    // site's allowed network.
    let password = first_contact(&server).await;
    victim(&server.app).await;
    let url = server.url("");
    // The first 1,024 guesses over real HTTP from 64 addresses, each with a keep-alive
    // connection of its own, 8 at a time...
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8usize {
        let url = url.clone();
        tasks.spawn(async move {
            let mut secrets = Vec::new();
            for a in (worker..64).step_by(8) {
                let client = reqwest::Client::builder()
                    .local_address(Some(guesser_address(a).parse().unwrap()))
                    .build()
                    .unwrap();
                for j in 0..16 {
                    let name = format!("00156500{:04x}.cfg", a * 16 + j);
                    let resp = client
                        .get(format!("{url}/{name}"))
                        .header("User-Agent", "Yealink SIP-T54W 96.86.0.100")
                        .send()
                        .await
                        .unwrap();
                    if holds_secret(&resp.text().await.unwrap()) {
                        secrets.push(name);
                    }
                }
            }
            secrets
        });
    }
    let mut secrets = Vec::new();
    while let Some(found) = tasks.join_next().await {
        secrets.extend(found.unwrap());
    }
    // ...and the rest of the 65,536 (the victim among them) as the HTTP listener passes them on.
    secrets.extend(guess_in_process(&server.app, Protocol::Http, 1024..65_536).await);
    assert_eq!(secrets, Vec::<String>::new(), "no guess gets a secret");
    // Other people's guesses never refuse a proven phone...
    let client = https_client(&server, None);
    let resp = client
        .get(https_url(&server, "/001565a1b2c3.cfg"))
        .send()
        .await
        .unwrap();
    let c = resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let auth = digest_header(&c, "001565a1b2c3", &password, "/001565a1b2c3.cfg", 1, true);
    let resp = client
        .get(https_url(&server, "/001565a1b2c3.cfg"))
        .header("Authorization", auth)
        .header("User-Agent", UA)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    // ...nor one on its site's allowed network.
    let tenant = server.app.admin.tenant("Acme").await.unwrap();
    server
        .app
        .admin
        .site_trust(tenant.id, None, &["127.0.0.7/32".into()], &[], None)
        .await
        .unwrap();
    let lan = reqwest::Client::builder()
        .local_address(Some("127.0.0.7".parse().unwrap()))
        .build()
        .unwrap();
    let resp = lan
        .get(server.url("/001565a1b2c3.cfg"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

/// A phone of every family, with every file of its family: (model, MAC, User-Agent, its main
/// file, its other files, how it finds its directory).
struct Phone {
    model: &'static str,
    mac: &'static str,
    ua: &'static str,
    main: &'static [&'static str],
    others: &'static [&'static str],
    directory: Directory,
}

/// How a phone's file tells it where its directory is.
#[derive(Clone, Copy)]
enum Directory {
    /// An HTTPS URL in the file (its URL token in the path), fetched as it is.
    Url(&'static str),
    /// Grandstream's P331: a folder without scheme, to which the phone adds `phonebook.xml`.
    Folder,
    /// From the provisioning server, with the provisioning credentials of the file (Poly).
    Provisioning(&'static str),
    /// Inside the phone's own file (Snom).
    None,
}

const EVERY_FAMILY: &[Phone] = &[
    Phone {
        model: "T54W",
        mac: "001565a1b2c3",
        ua: UA,
        main: &["001565a1b2c3.cfg"],
        others: &["001565a1b2c3.boot", "001565a1b2c3-directory.xml", "y000000000000.boot", "y000000000096.cfg"],
        directory: Directory::Url("remote_phonebook.data.1.url = "),
    },
    Phone {
        model: "D785",
        mac: "000413922d24",
        ua: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9e5ac9f SXM:0 UXM:0 UXMC:0 000413922D24)",
        main: &["snomD785-000413922D24.htm", "000413922D24.xml"],
        others: &["snomD785.htm"],
        directory: Directory::None,
    },
    Phone {
        model: "X4",
        mac: "0c383e07e16c",
        ua: "Fanvil X4 2.10.2.6887 0c383e07e16c",
        main: &["0c383e07e16c.cfg"],
        others: &["0c383e07e16c-directory.xml", "f0X4hw1.100.cfg"],
        directory: Directory::Url("<Addr>"),
    },
    Phone {
        model: "VVX_400",
        mac: "0004f21a1a1a",
        ua: "FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 (SN:0004f21a1a1a) Type/Application",
        main: &["0004f21a1a1a-autoprov.cfg"],
        others: &["0004f21a1a1a.cfg", "0004f21a1a1a-directory.xml", "000000000000.cfg"],
        directory: Directory::Provisioning("0004f21a1a1a-directory.xml"),
    },
    Phone {
        model: "GXP2135",
        mac: "000b828aa872",
        ua: "Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872",
        main: &["cfg000b828aa872.xml"],
        others: &["000b828aa872/phonebook.xml"],
        directory: Directory::Folder,
    },
    Phone {
        model: "N870",
        mac: "7c2f80e0d605",
        ua: "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605",
        main: &["7C2F80E0D605.xml"],
        others: &["7C2F80E0D605-directory.xml"],
        directory: Directory::Url("<param name=\"CentralBook.0.ServerURL\" value=\""),
    },
    Phone {
        model: "CP-8841-3PCC",
        mac: "00562b043616",
        ua: "Cisco-CP-8841-3PCC/11.3.1 (00562b043616)",
        main: &["00562b043616.xml"],
        others: &["00562b043616-directory.xml", "00562b043616-directory-1.xml", "8841-3PCC.xml"],
        directory: Directory::Url("<XML_Directory_Service_URL ua=\"na\">"),
    },
    Phone {
        model: "8841",
        mac: "00562b043615",
        ua: "Cisco-CP8841/12.6.1",
        main: &["SEP00562B043615.cnf.xml"],
        others: &["00562b043615-directory.xml", "00562b043615-directory-1.xml"],
        directory: Directory::Url("<directoryURL>"),
    },
];

/// Registers every family's phone (but the walkthrough's Yealink) with a line of its own.
async fn every_family(app: &App) {
    let admin = &app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    for (i, phone) in EVERY_FAMILY.iter().enumerate().skip(1) {
        let number = format!("+49305551{i:02}");
        admin
            .number_add(
                tenant.id,
                &NumberInput {
                    number: number.clone(),
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
                    first_name: "Family".into(),
                    last_name: format!("Tester{i}"),
                    number: Some(number.clone()),
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
                    mac: phone.mac.into(),
                    model: phone.model.into(),
                    site: None,
                },
            )
            .await
            .unwrap();
        admin
            .device_login(tenant.id, phone.mac, &number)
            .await
            .unwrap();
    }
}

/// Every secret of the phone with `mac` as the store holds it now.
async fn secrets_of(app: &App, mac: &str) -> Vec<String> {
    let device = app.store.device_by_mac(mac.parse().unwrap()).await;
    let record = app
        .store
        .device_record(device.unwrap().unwrap().id)
        .await
        .unwrap();
    std::iter::once(&record.device.admin_password)
        .chain(record.device.access.http_password.iter())
        .chain(record.lines.iter().map(|l| &l.sip_password))
        .map(|s| s.expose().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

#[tokio::test]
async fn issue_10_inside_a_window_every_file_of_every_family_gives_at_most_one_secret_and_then_the_directory_works(
) {
    // Many 404s from one address are the point here: not slowed.
    let server = TestServer::start_with(&[("trust.slow_ms", "0")]).await;
    walkthrough_with(&server.app, &[]).await;
    every_family(&server.app).await;
    let client = reqwest::Client::new();
    for phone in EVERY_FAMILY {
        // Every file, HEAD and GET, twice over, the main files last and then once more; and
        // over TFTP too. Remember every answer.
        let mut answers: Vec<(String, String)> = Vec::new();
        let names = phone
            .others
            .iter()
            .chain(phone.main)
            .chain(phone.others)
            .chain(phone.main);
        for name in names {
            for method in [reqwest::Method::HEAD, reqwest::Method::GET] {
                let resp = client
                    .request(method.clone(), server.url(&format!("/{name}")))
                    .header("User-Agent", phone.ua)
                    .send()
                    .await
                    .unwrap();
                let status = resp.status().as_u16();
                let device_file = name.to_ascii_lowercase().contains(phone.mac);
                if method == reqwest::Method::HEAD && device_file {
                    assert_eq!(status, 404, "{name}: a HEAD in a window is not answered");
                }
                answers.push((
                    format!("{method} {name} {status}"),
                    resp.text().await.unwrap(),
                ));
            }
            if let Ok(body) = tftp_get(server.tftp_addr, "127.0.0.3:0", name).await {
                answers.push((
                    format!("TFTP {name}"),
                    String::from_utf8_lossy(&body).into(),
                ));
            }
        }
        let secrets = secrets_of(&server.app, phone.mac).await;
        assert!(
            secrets.len() >= 3,
            "{}: web-admin, HTTP and SIP passwords",
            phone.mac
        );
        let with_secret: Vec<&String> = answers
            .iter()
            .filter(|(_, body)| secrets.iter().any(|s| body.contains(s.as_str())))
            .map(|(what, _)| what)
            .collect();
        assert_eq!(with_secret.len(), 1, "{}: {with_secret:?}", phone.mac);
        assert!(with_secret[0].starts_with("GET "), "{with_secret:?}");
        // The one answer with secrets tells the phone where its directory is: fetched over
        // HTTPS with exactly that, it is the directory.
        let (_, file) = answers
            .iter()
            .find(|(_, body)| secrets.iter().any(|s| body.contains(s.as_str())))
            .unwrap();
        let https = https_client(&server, None);
        let directory = match phone.directory {
            Directory::None => continue,
            Directory::Url(key) => {
                let start = file.find(key).unwrap_or_else(|| panic!("{key} in\n{file}"));
                let url: String = file[start + key.len()..]
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '<' && *c != '"')
                    .collect();
                assert!(url.starts_with("https://"), "{url}");
                https
                    .get(url.replace("&amp;", "&"))
                    .header("User-Agent", phone.ua)
                    .send()
                    .await
                    .unwrap()
            }
            Directory::Folder => {
                let start = file.find("<P331>").unwrap() + "<P331>".len();
                let folder = &file[start..start + file[start..].find('<').unwrap()];
                assert_eq!(
                    &file[file.find("<P330>").unwrap()..][..7],
                    "<P330>3",
                    "HTTPS"
                );
                https
                    .get(format!("https://{folder}phonebook.xml"))
                    .send()
                    .await
                    .unwrap()
            }
            Directory::Provisioning(name) => {
                let password = secrets_of(&server.app, phone.mac).await;
                let password = password
                    .iter()
                    .find(|p| file.contains(&format!("device.prov.password=\"{p}\"")))
                    .expect("the provisioning password in the file")
                    .clone();
                let path = format!("/{name}");
                let url = https_url(&server, &path);
                let resp = https
                    .get(&url)
                    .header("User-Agent", phone.ua)
                    .send()
                    .await
                    .unwrap();
                let c = resp.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .to_owned();
                let auth = digest_header(&c, phone.mac, &password, &path, 1, true);
                https
                    .get(&url)
                    .header("Authorization", auth)
                    .header("User-Agent", phone.ua)
                    .send()
                    .await
                    .unwrap()
            }
        };
        assert_eq!(directory.status().as_u16(), 200, "{}", phone.mac);
        let mut body = directory.text().await.unwrap();
        // Cisco's directory is a menu of its groups: the phone follows the first, People.
        if let Some(start) = body.find("<CiscoIPPhoneMenu>") {
            let url = &body[start..];
            let url = &url[url.find("<URL>").unwrap() + "<URL>".len()..];
            let url = url[..url.find("</URL>").unwrap()].replace("&amp;", "&");
            assert!(url.starts_with("https://"), "{url}");
            let list = https
                .get(&url)
                .header("User-Agent", phone.ua)
                .send()
                .await
                .unwrap();
            assert_eq!(list.status().as_u16(), 200, "{}: {url}", phone.mac);
            body = list.text().await.unwrap();
            check::parse(&body, Format::Xml, Some("CiscoIPPhoneDirectory")).unwrap();
        }
        assert!(
            body.contains("Ada") && body.contains("Lovelace"),
            "{}: {body}",
            phone.mac
        );
    }
}

#[tokio::test]
async fn issue_10_a_refused_address_gets_no_look_ups_for_any_authorization_header() {
    let server = TestServer::start_with(&[
        ("trust.fail_burst", "10"),
        ("trust.fail_per_minute", "1"),
        ("trust.slow_ms", "0"),
    ])
    .await;
    walkthrough_with(&server.app, &[]).await;
    for i in 0..20 {
        server.fetch(&format!("/001565{i:06x}.cfg"), None).await;
    }
    let throttled = || {
        server
            .app
            .provisioner
            .metrics
            .throttled
            .load(Ordering::Relaxed)
    };
    let before = throttled();
    let https = https_client(&server, None);
    for i in 0..250 {
        let path = format!("/001565{i:06x}.cfg");
        for url in [server.url(&path), https_url(&server, &path)] {
            let status = https
                .get(url)
                .header(
                    "Authorization",
                    "Digest username=\"x\", nonce=\"y\", response=\"z\"",
                )
                .send()
                .await
                .unwrap()
                .status();
            assert!(status == 404 || status == 401, "{status}");
        }
    }
    // 500 requests: at most a few credential checks a minute were looked at.
    assert!(throttled() - before >= 490, "{}", throttled() - before);
}

#[tokio::test]
async fn issue_10_a_digest_answer_sent_over_plain_http_cannot_be_replayed_over_https() {
    let server = TestServer::start().await;
    let password = first_contact(&server).await;
    let https = https_client(&server, None);
    let c = crate::trust::challenge(&https, &https_url(&server, "/001565a1b2c3.cfg")).await;
    let answer = digest_header(&c, "001565a1b2c3", &password, "/001565a1b2c3.cfg", 1, true);
    // Sent in clear by mistake (or seen there by someone): refused, and spent.
    let resp = server
        .client
        .get(server.url("/001565a1b2c3.cfg"))
        .header("Authorization", &answer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let replay = https
        .get(https_url(&server, "/001565a1b2c3.cfg"))
        .header("Authorization", &answer)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status().as_u16(), 404, "the same answer over HTTPS");
    // The phone's next answer (the next count) is served.
    let next = digest_header(&c, "001565a1b2c3", &password, "/001565a1b2c3.cfg", 2, true);
    let resp = https
        .get(https_url(&server, "/001565a1b2c3.cfg"))
        .header("Authorization", &next)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn issue_10_a_new_allowed_network_takes_effect_on_the_next_request_even_for_a_refused_address(
) {
    let server = TestServer::start_with(&[
        ("trust.fail_burst", "10"),
        ("trust.fail_per_minute", "1"),
        ("trust.slow_ms", "0"),
    ])
    .await;
    walkthrough_with(&server.app, &[]).await;
    let lan = reqwest::Client::builder()
        .local_address(Some("127.0.0.4".parse().unwrap()))
        .build()
        .unwrap();
    // The phone keeps asking before anyone trusted its network: the address is refused.
    for _ in 0..20 {
        let resp = lan
            .head(server.url("/001565a1b2c3.cfg"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404);
    }
    let tenant = server.app.admin.tenant("Acme").await.unwrap();
    server
        .app
        .admin
        .site_trust(tenant.id, None, &["127.0.0.4/32".into()], &[], None)
        .await
        .unwrap();
    let resp = lan
        .get(server.url("/001565a1b2c3.cfg"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "at once");
    // And taken away again, it is refused at once too.
    server
        .app
        .admin
        .site_trust(tenant.id, None, &[], &[], None)
        .await
        .unwrap();
    let resp = lan
        .get(server.url("/001565a1b2c3.cfg"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
}

#[tokio::test]
async fn issue_10_the_api_is_only_on_the_admin_listener() {
    let server = TestServer::start().await;
    walkthrough_with(&server.app, &[]).await;
    let (_, token) = server
        .app
        .admin
        .token_create(autoprov::model::Role::PlatformAdmin, None, None)
        .await
        .unwrap();
    let bulk = "/api/v1/tenants/Acme/users/device-passwords";
    let body = r#"{"users": ["Ada Lovelace"]}"#;
    // On the phones' listeners, HTTP and HTTPS: the uniform 404, and no password made.
    let (_, _, uniform) = server.fetch("/001565ffffff.cfg", None).await;
    for url in [server.url(bulk), https_url(&server, bulk)] {
        let resp = https_client(&server, None)
            .post(&url)
            .header("Authorization", format!("Bearer {}", token.expose()))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404, "{url}");
        assert_eq!(resp.text().await.unwrap(), uniform);
        let (status, _, _) = server.fetch("/api/v1/openapi.json", None).await;
        assert_eq!(status, 404);
    }
    // On the admin listener, over HTTPS with the server certificate: served.
    let resp = server
        .admin_client
        .post(server.admin_url(bulk))
        .header("Authorization", format!("Bearer {}", token.expose()))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    // Plain HTTP on the admin listener: refused by the TLS listener.
    let plain = server
        .client
        .get(format!("http://{}/api/v1/openapi.json", server.admin_addr))
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status().as_u16() != 200);
}

#[test]
fn issue_10_plain_http_for_the_admin_api_only_on_a_loopback_address() {
    let dir = tempfile::tempdir().unwrap();
    let load = |admin: &str| {
        autoprov::config::load(&autoprov::config::Sources {
            config_file: None,
            read_env: false,
            flags: vec![
                ("data", dir.path().display().to_string()),
                ("listen.admin", admin.to_owned()),
                ("listen.admin_http", "true".to_owned()),
            ],
        })
    };
    let err = load("0.0.0.0:9080").unwrap_err().to_string();
    assert!(
        err.contains("listen.admin_http") && err.contains("loopback"),
        "{err}"
    );
    assert!(load("127.0.0.1:9080").is_ok());
    let (settings, _) = autoprov::config::load(&autoprov::config::Sources {
        config_file: None,
        read_env: false,
        flags: vec![("data", dir.path().display().to_string())],
    })
    .unwrap();
    assert_eq!(settings.admin, Some("127.0.0.1:9443".parse().unwrap()));
    assert!(!settings.admin_http);
}

#[tokio::test]
async fn issue_10_wrong_tokens_cost_no_hashing_beyond_a_few_and_token_ids_name_nothing() {
    let server = TestServer::start().await;
    walkthrough_with(&server.app, &[]).await;
    let (id, token) = server
        .app
        .admin
        .token_create(autoprov::model::Role::PlatformAdmin, None, None)
        .await
        .unwrap();
    let token = token.expose().to_owned();
    // The token does not carry its id: knowing the id (from the audit trail) names no token.
    let handle = token.split('_').nth(1).unwrap();
    assert_eq!(handle.len(), 16);
    assert_ne!(handle, id.to_string());
    let ask = |token: String, from: &'static str| {
        let client = reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(
                    &std::fs::read(server.data_dir().join("certs/ca.pem")).unwrap(),
                )
                .unwrap(),
            )
            .use_rustls_tls()
            .local_address(Some(from.parse().unwrap()))
            .build()
            .unwrap();
        let url = server.admin_url("/api/v1/me");
        async move {
            let resp = client
                .get(url)
                .header("Authorization", format!("Bearer {token}"))
                .send()
                .await
                .unwrap();
            let retry = resp.headers().get("retry-after").is_some();
            (resp.status().as_u16(), retry)
        }
    };
    let before = server.app.admin.hashes_run();
    // Guessing by id, or by a made-up selector: no hashing at all.
    for guess in [
        format!("ap_{id}_wrong"),
        "ap_0123456789abcdef_wrong".to_owned(),
    ] {
        assert_eq!(ask(guess, "127.0.0.21").await, (401, false));
    }
    assert_eq!(server.app.admin.hashes_run(), before);
    // The right selector with wrong secrets: 20 are checked, then the address is told to wait,
    // with no more hashing.
    // The bucket refills at 20 a minute in real time, so on a slow machine (each check is an
    // argon2 hash, one at a time) a refill may let one more through while the 20 are checked:
    // at most one per three seconds the loop took.
    let mut statuses = Vec::new();
    let started = std::time::Instant::now();
    for _ in 0..40 {
        statuses.push(ask(format!("ap_{handle}_wrong"), "127.0.0.22").await);
    }
    let refills = (started.elapsed().as_secs_f64() / 3.0).ceil() as usize;
    let checked = statuses.iter().take_while(|s| **s == (401, false)).count();
    assert!(
        (20..=20 + refills).contains(&checked),
        "{checked} checked before the throttle, {refills} refills: {statuses:?}"
    );
    assert!(
        statuses[checked..].iter().all(|s| *s == (429, true)),
        "{statuses:?}"
    );
    assert_eq!(server.app.admin.hashes_run(), before + checked as u64);
    // Another address, and the right token from the throttled one, are served.
    assert_eq!(ask(format!("ap_{handle}_wrong"), "127.0.0.23").await.0, 401);
    assert_eq!(ask(token.clone(), "127.0.0.24").await.0, 200);
    assert_eq!(
        ask(token, "127.0.0.22").await.0,
        200,
        "a verified token is remembered"
    );
}

#[tokio::test]
async fn issue_10_europe_zurich_is_a_zone_yealink_lists() {
    let server = TestServer::start().await;
    crate::support::walkthrough(&server.app).await;
    let tenant = server.app.admin.tenant("Acme").await.unwrap();
    server
        .app
        .admin
        .site_add(
            tenant.id,
            &autoprov::admin::SiteInput {
                name: "Zurich".into(),
                time_zone: Some("Europe/Zurich".into()),
                sip_domain: Some("sip.example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    server
        .app
        .admin
        .device_add(
            tenant.id,
            &DeviceInput {
                mac: "00:15:65:00:00:99".into(),
                model: "T54W".into(),
                site: Some("Zurich".into()),
            },
        )
        .await
        .unwrap();
    let preview = server
        .app
        .provisioner
        .preview("001565000099".parse().unwrap(), None, false)
        .await
        .unwrap();
    // Yealink's list has no Swiss entry: Berlin's name, whose offsets and rules are Zurich's.
    assert!(
        preview
            .body
            .lines()
            .any(|l| l == "local_time.time_zone_name = Germany(Berlin)"),
        "{}",
        preview.body
    );
}
