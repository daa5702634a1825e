//! kill -9 in the middle of an import: the real binary imports a big file, is killed with
//! SIGKILL once its progress shows it is writing, and the store holds all of the file or none
//! of it — on SQLite, and on PostgreSQL when `AUTOPROV_TEST_PG_URL` is set.

use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::cli::autoprov;

/// Rows in the file: enough that the import is still running after its first progress line.
const ROWS: u32 = 40_000;

async fn ok(data: &Path, url: &str, args: &[&str]) -> String {
    let out = autoprov(data)
        .arg("--database")
        .arg(url)
        .args(args)
        .output()
        .await
        .expect("run autoprov");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Devices the tenant has, by its export.
async fn devices(data: &Path, url: &str) -> usize {
    let csv = ok(data, url, &["export", "devices", "--tenant", "acme"]).await;
    csv.lines().count() - 1
}

#[tokio::test]
async fn store_kill_9_mid_import_leaves_all_or_nothing() {
    for (backend, db) in crate::store::backends("kill").await {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let url = db.url.clone();
        // On PostgreSQL a node never migrates on its own start.
        ok(&data, &url, &["migrate"]).await;
        ok(&data, &url, &["tenant", "add", "acme"]).await;
        let site = [
            "site",
            "add",
            "--tenant",
            "acme",
            "--sip-domain",
            "sip.example.com",
            "HQ",
        ];
        ok(&data, &url, &site).await;
        let file = dir.path().join("devices.csv");
        let mut csv = String::from("mac,model,site\n");
        for i in 0..ROWS {
            csv.push_str(&format!("0015{i:08x},T54W,HQ\n"));
        }
        std::fs::write(&file, csv).unwrap();
        let import = || {
            let mut cmd = autoprov(&data);
            cmd.arg("--database")
                .arg(&url)
                .arg("import")
                .arg("devices")
                .arg(&file);
            cmd.args(["--tenant", "acme"]);
            cmd
        };

        let mut child = import()
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        // The first progress line: 10,000 rows are in the open transaction.
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.ends_with("rows read") {
                break;
            }
        }
        child.start_kill().unwrap(); // SIGKILL
        let status = child.wait().await.unwrap();
        assert!(
            !status.success(),
            "{backend}: the import finished before the kill"
        );
        let after_kill = devices(&data, &url).await;
        assert!(
            after_kill == 0 || after_kill == ROWS as usize,
            "{backend}: {after_kill} of {ROWS} devices after kill -9"
        );

        // The store is whole: the same import runs to its end.
        if after_kill == 0 {
            ok(
                &data,
                &url,
                &[
                    "import",
                    "devices",
                    file.to_str().unwrap(),
                    "--tenant",
                    "acme",
                ],
            )
            .await;
        }
        assert_eq!(devices(&data, &url).await, ROWS as usize, "{backend}");
        db.drop_db().await;
    }
}

#[tokio::test]
async fn the_cli_prints_every_bad_row_and_a_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    ok(&data, &url, &["tenant", "add", "acme"]).await;
    ok(
        &data,
        &url,
        &[
            "site",
            "add",
            "--tenant",
            "acme",
            "--sip-domain",
            "sip.example.com",
            "HQ",
        ],
    )
    .await;
    let file = dir.path().join("devices.csv");
    std::fs::write(
        &file,
        "MAC;Model\r\n001565000001;T54W\r\nxx;T54W\r\n001565000001;T54W\r\n",
    )
    .unwrap();
    let out = autoprov(&data)
        .args([
            "--database",
            &url,
            "import",
            "devices",
            file.to_str().unwrap(),
        ])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the file has 2 errors; nothing was imported"),
        "{stderr}"
    );
    assert!(stderr.contains("\nline 3, mac: "), "{stderr}");
    assert!(
        stderr.contains("\nline 4, mac: 001565000001 is also on line 2"),
        "{stderr}"
    );

    std::fs::write(&file, "mac,model\n001565000001,T54W\n").unwrap();
    let path = file.to_str().unwrap();
    let said = ok(&data, &url, &["import", "devices", path, "--dry-run"]).await;
    assert!(
        said.contains("1 devices rows checked: no errors (dry run, nothing written)"),
        "{said}"
    );
    assert_eq!(devices(&data, &url).await, 0);
    ok(&data, &url, &["import", "devices", path]).await;
    assert_eq!(devices(&data, &url).await, 1);
}
