//! Several nodes on one PostgreSQL (issue 16): two `serve` processes of the real binary on one
//! database, and the change feed's propagation measured. Skipped, with a message, unless
//! `AUTOPROV_TEST_PG_URL` is set.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use sqlx::Connection;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::cli::autoprov;
use crate::support::{say, walkthrough_with, UA};
use crate::trust::{digest_header, line};

const FILE: &str = "/001565a1b2c3.cfg";
const USER: &str = "001565a1b2c3";

/// A database of its own on the test PostgreSQL, dropped afterwards; `None` (said) without one.
struct PgDb {
    url: String,
    admin_url: String,
    name: String,
}

impl PgDb {
    async fn new(test: &str) -> Option<PgDb> {
        let Ok(admin_url) = std::env::var("AUTOPROV_TEST_PG_URL") else {
            say(&format!(
                "cluster {test}: skipped (AUTOPROV_TEST_PG_URL is not set; it needs PostgreSQL)"
            ));
            return None;
        };
        sqlx::any::install_default_drivers();
        let name = format!("autoprov_cluster_{test}_{}", std::process::id());
        let mut conn = sqlx::AnyConnection::connect(&admin_url).await.unwrap();
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let base = admin_url.split('?').next().unwrap_or(&admin_url);
        let (server, _) = base.rsplit_once('/').unwrap();
        Some(PgDb {
            url: format!("{server}/{name}"),
            admin_url,
            name,
        })
    }

    async fn drop_db(self) {
        if let Ok(mut conn) = sqlx::AnyConnection::connect(&self.admin_url).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
        }
    }
}

/// One `autoprov serve` process and the addresses it logged.
struct Node {
    _child: tokio::process::Child,
    http: String,
    https: String,
    admin: String,
}

async fn cli_ok(data: &Path, url: &str, args: &[&str]) -> String {
    let out = autoprov(data)
        .arg("--database")
        .arg(url)
        .args(args)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn start_node(data: &Path, url: &str) -> Node {
    let mut child = autoprov(data)
        .arg("--database")
        .arg(url)
        .args(["serve", "--http", "127.0.0.1:0", "--https", "127.0.0.1:0"])
        .args(["--tftp", "off", "--admin", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (mut http, mut https, mut admin) = (None, None, None);
    while http.is_none() || https.is_none() || admin.is_none() {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the node starts")
            .unwrap()
            .expect("the node runs");
        if line.contains("listening") {
            let addr = line.split("addr=").nth(1).map(|a| a.trim().to_owned());
            if line.contains("\"admin https\"") {
                admin = addr;
            } else if line.contains("\"https\"") {
                https = addr;
            } else if line.contains("\"http\"") {
                http = addr;
            }
        }
    }
    // Keep reading its log, so the pipe never fills.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Node {
        _child: child,
        http: http.unwrap(),
        https: https.unwrap(),
        admin: admin.unwrap(),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target: PathBuf = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The `id` of the first object in `value` whose `key` is `wanted`.
fn id_of(value: &serde_json::Value, key: &str, wanted: &str) -> Option<i64> {
    match value {
        serde_json::Value::Object(map) => {
            if map.get(key).and_then(|v| v.as_str()) == Some(wanted) {
                return map.get("id").and_then(|v| v.as_i64());
            }
            map.values().find_map(|v| id_of(v, key, wanted))
        }
        serde_json::Value::Array(items) => items.iter().find_map(|v| id_of(v, key, wanted)),
        _ => None,
    }
}

async fn challenge_at(client: &reqwest::Client, node: &Node, file: &str) -> String {
    let resp = client
        .get(format!("https://{}{file}", node.https))
        .header("User-Agent", UA)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn answer_at(client: &reqwest::Client, node: &Node, file: &str, auth: &str) -> (u16, String) {
    let resp = client
        .get(format!("https://{}{file}", node.https))
        .header("User-Agent", UA)
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn cluster_two_nodes_share_changes_nonces_replays_and_first_contact() {
    let Some(db) = PgDb::new("two").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (data_a, data_b) = (dir.path().join("a"), dir.path().join("b"));
    // A node does not migrate PostgreSQL on its own: before `autoprov migrate`, it refuses.
    let refused = autoprov(&data_a)
        .arg("--database")
        .arg(&db.url)
        .args(["tenant", "list"])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(text.contains("autoprov migrate"), "{text}");
    let migrated = cli_ok(&data_a, &db.url, &["migrate"]).await;
    assert!(
        migrated.contains("schema migrated from version 0"),
        "{migrated}"
    );
    assert!(cli_ok(&data_a, &db.url, &["migrate"])
        .await
        .contains("up to date"));

    // The data, written in this process (a third writer on the same database).
    let settings = crate::support::settings(&data_a, &[("database", db.url.as_str())]);
    let app = autoprov::App::open(settings).await.unwrap();
    walkthrough_with(&app, &[]).await;
    // Every node must hold the same local CA: A's made here, copied to B.
    cli_ok(&data_a, &db.url, &["certs", "init"]).await;
    copy_dir(&data_a.join("certs"), &data_b.join("certs"));
    let token_json = cli_ok(
        &data_a,
        &db.url,
        &["--json", "token", "create", "--role", "platform-admin"],
    )
    .await;
    let token: serde_json::Value = serde_json::from_str(token_json.trim()).unwrap();
    let token = token["token"].as_str().unwrap().to_owned();

    let a = start_node(&data_a, &db.url).await;
    let b = start_node(&data_b, &db.url).await;
    let ca = std::fs::read(data_a.join("certs/ca.pem")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .use_rustls_tls()
        .build()
        .unwrap();

    // First contact at A over HTTP: the phone's credentials.
    let (status, body) = {
        let r = client
            .get(format!("http://{}{FILE}", a.http))
            .header("User-Agent", UA)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(status, 200, "first contact at A");
    let password = line(&body, "static.auto_provision.server.password")
        .expect("credentials at first contact")
        .to_owned();

    // Challenged by A, answered at B.
    let challenge = challenge_at(&client, &a, FILE).await;
    let answer = digest_header(&challenge, USER, &password, FILE, 1, true);
    let (status, body) = answer_at(&client, &b, FILE, &answer).await;
    assert_eq!(status, 200, "A's challenge answered at B");
    assert!(body.contains("Lovelace"), "{body}");
    // The same answer again, at B and at A: a replay, refused on every node.
    let (status, _) = answer_at(&client, &b, FILE, &answer).await;
    assert_ne!(status, 200, "replayed at B");
    let (status, _) = answer_at(&client, &a, FILE, &answer).await;
    assert_ne!(status, 200, "replayed at A");
    // The next count of the same nonce is fine, at A.
    let next = digest_header(&challenge, USER, &password, FILE, 2, true);
    assert_eq!(answer_at(&client, &a, FILE, &next).await.0, 200);

    // A change through A's API is served by B.
    let auth = format!("Bearer {token}");
    let tenants: serde_json::Value = client
        .get(format!("https://{}/api/v1/tenants", a.admin))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let tenant = id_of(&tenants, "name", "Acme").expect("the tenant");
    let users: serde_json::Value = client
        .get(format!("https://{}/api/v1/tenants/{tenant}/users", a.admin))
        .header("Authorization", &auth)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap();
    let user = id_of(&users, "last_name", "Lovelace").expect("the user");
    let changed_at = Instant::now();
    let patched = client
        .patch(format!(
            "https://{}/api/v1/tenants/{tenant}/users/{user}",
            a.admin
        ))
        .header("Authorization", &auth)
        .header("Content-Type", "application/json")
        .body(serde_json::json!({ "last_name": "Byron" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status().as_u16(), 200, "{:?}", patched.text().await);
    let mut nc = 3;
    let seen = loop {
        let challenge = challenge_at(&client, &b, FILE).await;
        let answer = digest_header(&challenge, USER, &password, FILE, nc, true);
        nc += 1;
        let (status, body) = answer_at(&client, &b, FILE, &answer).await;
        assert_eq!(status, 200);
        if body.contains("Byron") {
            break changed_at.elapsed();
        }
        assert!(
            changed_at.elapsed() < Duration::from_secs(5),
            "B never saw A's change"
        );
    };
    say(&format!(
        "cluster: A's API change served by B after {seen:?}"
    ));

    // Two phones racing for one first-contact window, one at each node: one winner, each time.
    use autoprov::admin::DeviceInput;
    let acme = autoprov::model::TenantId(tenant);
    for i in 0..5u32 {
        let mac = format!("001565c0ff{i:02x}");
        app.admin
            .device_add(
                acme,
                &DeviceInput {
                    mac: mac.clone(),
                    model: "T54W".into(),
                    site: None,
                },
            )
            .await
            .unwrap();
        let ua = format!("Yealink SIP-T54W 96.86.0.100 {mac}");
        let get = |node: &Node| {
            client
                .get(format!("http://{}/{mac}.cfg", node.http))
                .header("User-Agent", ua.clone())
                .send()
        };
        let (at_a, at_b) = tokio::join!(get(&a), get(&b));
        let mut winners = 0;
        for resp in [at_a.unwrap(), at_b.unwrap()] {
            let body = resp.text().await.unwrap();
            if line(&body, "static.auto_provision.server.password").is_some() {
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "one winner of {mac}'s window");
    }
    app.store.close().await;
    drop((a, b));
    db.drop_db().await;
}

/// 1,000 changes written through one store, seen through another's change feed (LISTEN/NOTIFY):
/// the median and p99 of the time from commit to the second store's revision. Then the LISTEN
/// connection is killed: the next change still arrives (by polling or the reconnect's catch-up),
/// and the feed comes back.
#[tokio::test]
async fn cluster_change_feed_propagation() {
    let Some(db) = PgDb::new("feed").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let settings = crate::support::settings(
        dir.path(),
        &[("database", db.url.as_str()), ("store.migrate", "true")],
    );
    let writer = autoprov::App::open(settings).await.unwrap();
    let reader = autoprov::store::Store::open(&db.url, autoprov::store::Schema::Check)
        .await
        .unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let feed = {
        let (reader, stop) = (reader.clone(), stop.clone());
        tokio::spawn(async move { reader.listen_changes(stop).await })
    };
    let mut seen = reader.revisions().subscribe();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !reader.listening() {
        assert!(Instant::now() < deadline, "the feed listens");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut times = Vec::with_capacity(1000);
    for i in 0..1000 {
        writer.admin.tenant_add(&format!("t{i}")).await.unwrap();
        let revision = writer.store.revisions().global();
        let start = Instant::now();
        tokio::time::timeout(Duration::from_secs(5), seen.wait_for(|r| *r >= revision))
            .await
            .expect("the change arrives")
            .unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    let median = times[times.len() / 2];
    let p99 = times[times.len() * 99 / 100];
    say(&format!(
        "cluster: change feed over LISTEN/NOTIFY, 1,000 changes: median {median:?}, p99 {p99:?}, max {:?}",
        times[times.len() - 1]
    ));
    assert!(
        p99 < Duration::from_secs(1),
        "well under a second: p99 {p99:?}"
    );

    // The LISTEN connection dies: changes made meanwhile are caught up on reconnect.
    let mut admin = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = $1 AND datname = current_database()",
    )
    .bind(autoprov::store::LISTEN_APPLICATION)
    .execute(&mut admin)
    .await
    .unwrap();
    writer.admin.tenant_add("after-the-cut").await.unwrap();
    let revision = writer.store.revisions().global();
    tokio::time::timeout(Duration::from_secs(10), seen.wait_for(|r| *r >= revision))
        .await
        .expect("the change after the cut arrives")
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !reader.listening() {
        assert!(Instant::now() < deadline, "the feed listens again");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    writer
        .admin
        .tenant_add("after-the-reconnect")
        .await
        .unwrap();
    let revision = writer.store.revisions().global();
    tokio::time::timeout(Duration::from_secs(5), seen.wait_for(|r| *r >= revision))
        .await
        .expect("the feed delivers again")
        .unwrap();
    // The hot path's price: spending a nonce count cluster-wide (one insert) against the
    // cheapest round trip there is (`SELECT 1`), 1,000 each.
    let median = |mut t: Vec<Duration>| {
        t.sort();
        t[t.len() / 2]
    };
    let mut spends = Vec::with_capacity(1000);
    let mut pings = Vec::with_capacity(1000);
    for i in 0..1000u32 {
        let start = Instant::now();
        assert!(reader.spend_nonce("n", i, i64::MAX).await.unwrap());
        spends.push(start.elapsed());
        let start = Instant::now();
        reader.ping().await.unwrap();
        pings.push(start.elapsed());
    }
    assert!(
        !reader.spend_nonce("n", 7, i64::MAX).await.unwrap(),
        "spent once"
    );
    assert_eq!(
        reader.forget_spent_nonces(i64::MAX).await.unwrap(),
        0,
        "not expired"
    );
    let (spend, ping) = (median(spends), median(pings));
    say(&format!(
        "cluster: spending a nonce count in the store: median {spend:?}, {:.1}x a SELECT 1 ({ping:?})",
        spend.as_secs_f64() / ping.as_secs_f64()
    ));
    stop.cancel();
    let _ = feed.await;
    writer.store.close().await;
    reader.close().await;
    db.drop_db().await;
}

/// `firmware.redirect`: a file `<data>/files/` does not hold is at the shared base URL (a CDN),
/// over HTTP; a device file keeps the uniform 404, TFTP (per node) answers "file not found", and
/// the base URL is checked as a URL when redirecting.
#[tokio::test]
async fn cluster_static_files_redirect_to_the_shared_base_url() {
    use crate::support::{tftp_get, TestServer};
    let server = TestServer::start_with(&[
        ("firmware.base_url", "https://cdn.example.net/autoprov"),
        ("firmware.redirect", "true"),
    ])
    .await;
    std::fs::create_dir_all(server.data_dir().join("files")).unwrap();
    std::fs::write(server.data_dir().join("files/here.txt"), "local").unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str| client.get(server.url(path)).send();
    let resp = get("/fw/T54W-96.86.0.100.rom").await.unwrap();
    assert_eq!(resp.status().as_u16(), 302);
    assert_eq!(
        resp.headers()["location"],
        "https://cdn.example.net/autoprov/fw/T54W-96.86.0.100.rom"
    );
    let local = get("/here.txt").await.unwrap();
    assert_eq!(
        local.status().as_u16(),
        200,
        "a file this node holds is served"
    );
    for path in ["/001565a1b2c3.cfg", "/fw/a%20b", "/fw/.hidden"] {
        assert_eq!(get(path).await.unwrap().status().as_u16(), 404, "{path}");
    }
    let tftp = tftp_get(server.tftp_addr, "127.0.0.1:0", "fw/T54W-96.86.0.100.rom").await;
    assert_eq!(tftp, Err("file not found".to_owned()));

    let dir = tempfile::tempdir().unwrap();
    for (base, wanted) in [
        ("", "needs firmware.base_url"),
        ("cdn.example.net", "firmware.base_url"),
    ] {
        let err = autoprov::config::load(&autoprov::config::Sources {
            config_file: None,
            read_env: false,
            flags: vec![
                ("data", dir.path().display().to_string()),
                ("firmware.base_url", base.to_owned()),
                ("firmware.redirect", "true".to_owned()),
            ],
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains(wanted), "{err}");
    }
}

/// A schema newer than the build is refused (naming both versions), and on PostgreSQL an older
/// one is only migrated when told; SQLite migrates on its own.
#[tokio::test]
async fn cluster_a_newer_schema_is_refused_naming_both_versions() {
    use autoprov::store::{Schema, Store};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let Err(err) = Store::open(&url, Schema::Check).await else {
        panic!("an empty schema is not checked in");
    };
    assert!(err.to_string().contains("autoprov migrate"), "{err}");
    let store = Store::open(&url, Schema::Migrate).await.unwrap();
    let versions = store.schema_versions().await.unwrap();
    assert_eq!(versions.database, versions.build);
    store.close().await;
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', TRUE, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    for schema in [Schema::Check, Schema::Migrate] {
        let Err(err) = Store::open(&url, schema).await else {
            panic!("a newer schema is refused");
        };
        let err = err.to_string();
        assert!(
            err.contains("9999") && err.contains(&format!("this autoprov's {}", versions.build)),
            "{err}"
        );
    }
}
