//! The files autoprov keeps, from the security review: every secret is its owner's only from the
//! first byte (issue 10), and the local CA that phones trust is never replaced unasked (issue 12).
//! Each test fails on the code before the fix.

use std::path::Path;
use std::process::Output;

use autoprov::app::LOCAL_CA_FACT;
use autoprov::store::Store;
use autoprov::{App, Listeners};
use tokio_util::sync::CancellationToken;

use crate::cli::autoprov;
use crate::support;

/// What `autoprov serve` does on `data` (listeners on port 0), stopped as soon as it has started:
/// the shutdown is cancelled before `run`, which then opens everything and returns.
async fn serve_once(data: &Path) -> autoprov::Result<()> {
    let settings = support::settings(data, &[]);
    let listeners = Listeners::bind(&settings).await?;
    let app = App::open(settings).await?;
    let shutdown = CancellationToken::new();
    shutdown.cancel();
    autoprov::run(app, listeners, shutdown).await
}

/// The CA fingerprint the store of `data` recorded.
async fn recorded(data: &Path) -> Option<String> {
    let url = format!("sqlite://{}", data.join("autoprov.db").display());
    let store = Store::connect(&url).await.expect("the database opens");
    let fact = store.fact(LOCAL_CA_FACT).await.expect("facts readable");
    store.close().await;
    fact
}

/// The SHA-256 of `<data>/certs/ca.pem` as `certs show` prints it, in the store's notation.
fn fingerprint_of(data: &Path) -> String {
    autoprov::certs::describe(&data.join("certs/ca.pem"))
        .expect("a CA certificate")
        .sha256
        .replace(':', "")
        .to_lowercase()
}

async fn cli(data: &Path, args: &[&str]) -> Output {
    autoprov(data)
        .args(args)
        .output()
        .await
        .expect("run autoprov")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    meta.permissions().mode() & 0o777
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The folders and files that hold secrets, with the mode each must have.
#[cfg(unix)]
fn private_paths(data: &Path) -> Vec<(std::path::PathBuf, u32)> {
    vec![
        (data.to_owned(), 0o700),
        (data.join("autoprov.db"), 0o600),
        (data.join("certs"), 0o700),
        (data.join("certs/ca-key.pem"), 0o600),
        (data.join("certs/server-key.pem"), 0o600),
    ]
}

#[cfg(unix)]
#[tokio::test]
async fn issue_10_the_data_folder_database_and_keys_are_the_owners_only() {
    let root = tempfile::tempdir().unwrap();
    // A data folder autoprov makes itself (a temp dir would be 0700 already).
    let data = root.path().join("data");
    let settings = support::settings(&data, &[]);
    let listeners = Listeners::bind(&settings).await.unwrap();
    let app = App::open(settings).await.unwrap();
    app.server_files().await.unwrap();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(autoprov::run(app.clone(), listeners, shutdown.clone()));
    // A write, so SQLite has its -wal and -shm files open.
    app.admin.tenant_add("Acme").await.unwrap();

    let mut paths = private_paths(&data);
    paths.push((data.join("autoprov.db-wal"), 0o600));
    paths.push((data.join("autoprov.db-shm"), 0o600));
    for (path, want) in &paths {
        assert_eq!(mode(path), *want, "{}", path.display());
    }
    shutdown.cancel();
    server.await.unwrap().unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn issue_10_an_open_layout_is_tightened_with_a_warning_naming_each_path() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    // The layout is made by a process of its own: when it has exited, none of its SQLite
    // connections can still be closing (and removing -wal and -shm) while the test loosens them.
    let made = cli(&data, &["certs", "init"]).await;
    assert!(made.status.success(), "{}", stderr(&made));
    // As an older version (or a careless restore) left it, with -wal and -shm left by a crash.
    let (wal, shm) = (data.join("autoprov.db-wal"), data.join("autoprov.db-shm"));
    for side in [&wal, &shm] {
        if !side.exists() {
            std::fs::write(side, b"").unwrap();
        }
    }
    let mut open = private_paths(&data);
    open.push((wal.clone(), 0o600));
    open.push((shm.clone(), 0o600));
    for (path, want) in &open {
        set_mode(path, if *want == 0o700 { 0o755 } else { 0o644 });
    }

    let out = cli(&data, &["certs", "init"]).await;
    let log = stderr(&out);
    assert!(out.status.success(), "{log}");
    for (path, _) in &open {
        assert!(
            log.contains(&format!("path={}", path.display())),
            "a warning names {}: {log}",
            path.display()
        );
    }
    for (path, want) in &private_paths(&data) {
        assert_eq!(mode(path), *want, "{}", path.display());
    }
    // SQLite removes -wal and -shm when the last connection closes; if they stayed, tightened.
    for side in [&wal, &shm] {
        if side.exists() {
            assert_eq!(mode(side), 0o600, "{}", side.display());
        }
    }
}

#[tokio::test]
async fn issue_12_a_lost_certs_folder_is_refused_and_nothing_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    serve_once(data).await.unwrap();
    let first = recorded(data)
        .await
        .expect("the first start records the CA's fingerprint");
    assert_eq!(first, fingerprint_of(data));

    let certs = data.join("certs");
    std::fs::remove_dir_all(&certs).unwrap();
    let refused = serve_once(data).await.expect_err("a start without the CA");
    let message = refused.to_string();
    for part in [
        certs.display().to_string(),
        first.clone(),
        "autoprov certs init --replace".into(),
    ] {
        assert!(message.contains(&part), "{part:?} in {message}");
    }
    assert!(!certs.exists(), "nothing made: {message}");

    // `certs init` refuses the same, and `--force` does not replace a CA either.
    for args in [&["certs", "init"][..], &["certs", "init", "--force"]] {
        let out = cli(data, args).await;
        let log = stderr(&out);
        assert!(!out.status.success(), "{args:?} refused");
        assert!(log.contains(&certs.display().to_string()), "{log}");
        assert!(log.contains(&first), "{log}");
        assert!(!certs.exists(), "{args:?} made nothing");
    }
    assert_eq!(recorded(data).await, Some(first));
}

#[tokio::test]
async fn issue_12_certs_init_replace_makes_and_records_a_new_ca() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    serve_once(data).await.unwrap();
    let old = recorded(data).await.expect("recorded at first start");
    std::fs::remove_dir_all(data.join("certs")).unwrap();

    let out = cli(data, &["certs", "init", "--replace"]).await;
    let log = stderr(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("replaced the local CA"), "{log}");
    assert!(log.contains("provisioned again"), "{log}");
    let new = fingerprint_of(data);
    assert_ne!(new, old);
    assert_eq!(recorded(data).await, Some(new.clone()));
    // The server starts again, on the new CA.
    serve_once(data).await.unwrap();
    assert_eq!(fingerprint_of(data), new);
}

#[tokio::test]
async fn issue_12_force_reissues_the_server_certificate_from_the_same_ca() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    serve_once(data).await.unwrap();
    let ca = std::fs::read(data.join("certs/ca.pem")).unwrap();
    let server = std::fs::read(data.join("certs/server.pem")).unwrap();

    let out = cli(data, &["certs", "init", "--force"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(data.join("certs/ca.pem")).unwrap(), ca);
    let reissued = std::fs::read(data.join("certs/server.pem")).unwrap();
    assert_ne!(reissued, server, "a new server certificate");
    assert!(
        reissued.ends_with(&ca),
        "the chain ends in the same CA certificate"
    );
    assert_eq!(recorded(data).await, Some(fingerprint_of(data)));
    serve_once(data).await.unwrap();
}

#[tokio::test]
async fn issue_12_another_cas_files_are_refused() {
    let (ours, theirs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (data, other) = (ours.path(), theirs.path());
    serve_once(data).await.unwrap();
    serve_once(other).await.unwrap();
    let first = recorded(data).await.expect("recorded");
    let certs = data.join("certs");
    let names = ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"];
    let ours_before: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(certs.join(n)).unwrap())
        .collect();

    // Another installation's whole certs folder.
    for name in names {
        std::fs::copy(other.join("certs").join(name), certs.join(name)).unwrap();
    }
    let message = serve_once(data).await.expect_err("another CA").to_string();
    assert!(message.contains(&certs.display().to_string()), "{message}");
    assert!(message.contains(&first), "{message}");
    assert!(message.contains(&fingerprint_of(other)), "{message}");
    let out = cli(data, &["certs", "init"]).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains(&first), "{}", stderr(&out));
    for name in names {
        assert_eq!(
            std::fs::read(certs.join(name)).unwrap(),
            std::fs::read(other.join("certs").join(name)).unwrap(),
            "{name} left as it was"
        );
    }

    // Our certificate with another CA's key: not a CA that can sign for us.
    for (name, bytes) in names.iter().zip(&ours_before) {
        std::fs::write(certs.join(name), bytes).unwrap();
    }
    std::fs::copy(other.join("certs/ca-key.pem"), certs.join("ca-key.pem")).unwrap();
    let message = serve_once(data)
        .await
        .expect_err("a foreign key")
        .to_string();
    assert!(message.contains("ca-key.pem"), "{message}");
    assert_eq!(std::fs::read(certs.join("ca.pem")).unwrap(), ours_before[0]);
    assert_eq!(recorded(data).await, Some(first));
}

#[tokio::test]
async fn issue_12_an_existing_ca_without_a_record_is_recorded_as_it_is() {
    let (old, upgraded) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    serve_once(old.path()).await.unwrap();
    // An install from before the fingerprint was recorded: a CA, and a database without it.
    let certs = upgraded.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    for name in ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"] {
        std::fs::copy(old.path().join("certs").join(name), certs.join(name)).unwrap();
    }
    serve_once(upgraded.path()).await.unwrap();
    let ca = fingerprint_of(old.path());
    assert_eq!(fingerprint_of(upgraded.path()), ca, "the CA is kept");
    assert_eq!(recorded(upgraded.path()).await, Some(ca));
}
