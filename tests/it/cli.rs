//! The `autoprov` binary in another process, on the same data dir as the test.

use std::path::Path;
use std::process::Output;

use tokio::process::Command;

/// `autoprov --data DIR` with a clean environment for our settings.
pub fn autoprov(data: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_autoprov"));
    for (key, _) in std::env::vars() {
        if key.starts_with("AUTOPROV_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd.arg("--data").arg(data);
    cmd
}

async fn run(data: &Path, args: &[&str]) -> Output {
    autoprov(data)
        .args(args)
        .output()
        .await
        .expect("run autoprov")
}

#[track_caller]
fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[track_caller]
fn err(output: &Output) -> String {
    assert!(!output.status.success(), "unexpected success");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn walkthrough_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&run(d, &["tenant", "add", "Acme"]).await);
    ok(&run(
        d,
        &[
            "site",
            "add",
            "--tenant",
            "Acme",
            "Berlin",
            "--time-zone",
            "Europe/Berlin",
            "--sip-domain",
            "sip.example.com",
        ],
    )
    .await);
    ok(&run(
        d,
        &[
            "number",
            "add",
            "--tenant",
            "Acme",
            "+4930123456",
            "--status",
            "active",
        ],
    )
    .await);
    let out = ok(&run(
        d,
        &[
            "--json",
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
    )
    .await);
    let user: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(user["state"], "pending");
    assert_eq!(user["extension"], "3456");
    let out = ok(&run(
        d,
        &[
            "--json",
            "user",
            "activate",
            "--tenant",
            "Acme",
            "Ada Lovelace",
        ],
    )
    .await);
    let user: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(user["state"], "active");
    ok(&run(
        d,
        &[
            "device",
            "add",
            "--tenant",
            "Acme",
            "--mac",
            "00:15:65:a1:b2:c3",
            "--model",
            "T54W",
        ],
    )
    .await);
    let out = ok(&run(
        d,
        &[
            "--json",
            "device",
            "login",
            "--tenant",
            "Acme",
            "--mac",
            "001565A1B2C3",
            "--number",
            "+4930123456",
        ],
    )
    .await);
    let login: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(login["position"], 1);
    // The login details are shown once, to the admin; `render` masks them afterwards.
    let password = login["sip_password"].as_str().unwrap().to_owned();
    assert_eq!(password.len(), 24);

    let out = ok(&run(d, &["render", "0015.65a1.b2c3"]).await);
    assert!(
        out.contains("account.1.display_name = Ada Lovelace"),
        "{out}"
    );
    assert!(!out.contains(&password), "{out}");
    let out = ok(&run(d, &["render", "00-15-65-A1-B2-C3", "001565a1b2c3.boot"]).await);
    assert!(out.starts_with("#!version:1.0.0.1\n"), "{out}");
    let out = ok(&run(d, &["--json", "render", "001565a1b2c3"]).await);
    let file: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(file["content_type"], "text/plain");

    ok(&run(
        d,
        &[
            "user",
            "update",
            "--tenant",
            "Acme",
            "+4930123456",
            "--first",
            "Grace",
        ],
    )
    .await);
    let out = ok(&run(d, &["render", "001565a1b2c3"]).await);
    assert!(
        out.contains("account.1.display_name = Grace Lovelace"),
        "{out}"
    );
    let list = ok(&run(d, &["--json", "user", "list", "--tenant", "1"]).await);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list.as_array().map(|a| a.len()), Some(1));
}

#[tokio::test]
async fn bad_input_is_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&run(d, &["tenant", "add", "Acme"]).await);
    ok(&run(
        d,
        &[
            "site",
            "add",
            "--tenant",
            "Acme",
            "HQ",
            "--sip-domain",
            "sip.example.com",
        ],
    )
    .await);
    ok(&run(
        d,
        &[
            "number",
            "add",
            "--tenant",
            "Acme",
            "+4930123456",
            "--status",
            "active",
        ],
    )
    .await);

    let e = err(&run(
        d,
        &[
            "device",
            "add",
            "--tenant",
            "Acme",
            "--mac",
            "00:15:65:a1:b2",
            "--model",
            "T54W",
        ],
    )
    .await);
    assert!(e.contains("\"00:15:65:a1:b2\" is not a MAC address"), "{e}");
    let e = err(&run(
        d,
        &[
            "device",
            "add",
            "--tenant",
            "Acme",
            "--mac",
            "001565a1b2c3",
            "--model",
            "T99X",
        ],
    )
    .await);
    assert!(e.contains("\"T99X\" is not a known model"), "{e}");
    let e = err(&run(
        d,
        &[
            "user",
            "add",
            "--tenant",
            "Acme",
            "--first",
            &"A".repeat(24),
            "--last",
            "B",
        ],
    )
    .await);
    assert!(
        e.contains("first_name") && e.contains("24 characters"),
        "{e}"
    );
    let e = err(&run(d, &["number", "add", "--tenant", "Acme", "030123456"]).await);
    assert!(e.contains("\"030123456\" is not an E.164 number"), "{e}");
    let e = err(&run(
        d,
        &[
            "--json", "user", "add", "--tenant", "Acme", "--first", "A", "--last", "B", "--number",
            "+49301",
        ],
    )
    .await);
    let body: serde_json::Value = serde_json::from_str(e.trim()).expect("JSON error");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("number not found: +49301"),
        "{e}"
    );
    let e = err(&run(
        d,
        &[
            "site",
            "add",
            "--tenant",
            "Acme",
            "Paris",
            "--sip-domain",
            "x",
            "--time-zone",
            "Europe/Atlantis",
        ],
    )
    .await);
    assert!(e.contains("Europe/Atlantis"), "{e}");
    let e = err(&run(d, &["user", "list", "--tenant", "Nobody"]).await);
    assert!(e.contains("tenant not found: Nobody"), "{e}");

    for kind in ["user", "site"] {
        let out = ok(&run(d, &["--json", kind, "list", "--tenant", "Acme"]).await);
        let list: serde_json::Value = serde_json::from_str(&out).unwrap();
        let expected = if kind == "site" { 1 } else { 0 };
        assert_eq!(list.as_array().unwrap().len(), expected, "{kind}: {out}");
    }
}

#[tokio::test]
async fn configuration_errors_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("autoprov.toml");
    std::fs::write(
        &config,
        "[listen]\nhttp = \"127.0.0.1:0\"\ncolour = \"blue\"\n",
    )
    .unwrap();
    let e = err(&autoprov(dir.path())
        .arg("--config")
        .arg(&config)
        .args(["tenant", "list"])
        .output()
        .await
        .unwrap());
    assert!(e.contains("unknown key listen.colour"), "{e}");

    let e = err(&autoprov(dir.path())
        .env("AUTOPROV_CACHE__MAX_MIB", "lots")
        .args(["tenant", "list"])
        .output()
        .await
        .unwrap());
    assert!(e.contains("AUTOPROV_CACHE__MAX_MIB"), "{e}");
}

#[tokio::test]
async fn check_templates_reports_a_broken_override_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["check-templates"]).await;
    assert!(ok(&out).contains("every file renders and parses"));
    let overrides = dir.path().join("overrides/yealink");
    std::fs::create_dir_all(&overrides).unwrap();
    std::fs::write(
        overrides.join("mac.cfg.j2"),
        "#!version:1.0.0.1\n{% if %}\n",
    )
    .unwrap();
    let out = autoprov(dir.path())
        .env(
            "AUTOPROV_TEMPLATES__OVERRIDE_DIR",
            dir.path().join("overrides"),
        )
        .arg("check-templates")
        .output()
        .await
        .unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), err(&out));
    assert!(all.contains("mac.cfg.j2:2"), "{all}");
}

/// The portal's number, handset, BLF, licence and audit operations, as an operator types them.
#[tokio::test]
async fn portal_operations_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let t = ["--tenant", "Acme"];
    let with = |head: &[&'static str], tail: &[&str]| -> Vec<String> {
        head.iter()
            .chain(t.iter())
            .chain(tail.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let go = |args: Vec<String>| async move {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run(d, &refs).await
    };
    ok(&run(d, &["tenant", "add", "Acme"]).await);
    ok(&go(with(
        &["site", "add"],
        &["Berlin", "--sip-domain", "sip.example.com"],
    ))
    .await);
    for n in ["+4930500001", "+4930500002"] {
        ok(&go(with(&["number", "add"], &[n, "--status", "active"])).await);
    }
    ok(&go(with(
        &["user", "add"],
        &[
            "--first",
            "Ada",
            "--last",
            "Lovelace",
            "--number",
            "+4930500001",
        ],
    ))
    .await);
    ok(&go(with(
        &["user", "add"],
        &[
            "--first",
            "Bob",
            "--last",
            "Builder",
            "--number",
            "+4930500002",
        ],
    ))
    .await);
    ok(&go(with(&["user", "activate"], &["Ada Lovelace"])).await);
    ok(&go(with(&["user", "activate"], &["Bob Builder"])).await);
    let device: serde_json::Value = serde_json::from_str(&ok(&go(with(
        &["--json", "device", "add"],
        &["--mac", "001565a1b2c3", "--model", "T54W"],
    ))
    .await))
    .unwrap();
    let phone_id = device["phone_id"].as_str().unwrap().to_owned();

    // Log in by Phone ID: the details are printed once; a second number is refused.
    let out = ok(&go(with(
        &["number", "login"],
        &["+4930500001", "--handset", &phone_id],
    ))
    .await);
    assert!(out.contains("login details (shown once)"), "{out}");
    let e = err(&go(with(
        &["number", "login"],
        &["+4930500002", "--handset", &phone_id],
    ))
    .await);
    assert!(e.contains("someone is already logged in"), "{e}");
    let out = ok(&go(with(&["number", "list"], &[])).await);
    assert!(out.contains(&format!("logged in to {phone_id}")), "{out}");
    let out = ok(&go(with(&["device", "show"], &[&phone_id])).await);
    assert!(
        out.contains("state: awaiting-first-contact") && out.contains("lines: 1:+4930500001"),
        "{out}"
    );

    // Labels and features, with the rule named on a conflict.
    ok(&go(with(
        &["number", "label"],
        &["+4930500001", "--first", "Front", "--last", "Desk"],
    ))
    .await);
    let out = ok(&go(with(&["number", "list"], &["--search", "front"])).await);
    assert!(out.contains("Front Desk") && !out.contains("Bob"), "{out}");
    let e = err(&go(with(
        &["number", "features"],
        &[
            "+4930500001",
            "--set",
            "call_waiting=true",
            "--set",
            "forward_busy=+4930999",
        ],
    ))
    .await);
    assert!(e.contains("forward_busy"), "{e}");
    let out = ok(&go(with(
        &["number", "features"],
        &["+4930500001", "--set", "voicemail=true"],
    ))
    .await);
    assert!(out.contains("\"voicemail\": true"), "{out}");

    // Bulk passwords to a CSV file.
    let csv = d.join("passwords.csv");
    ok(&go(with(
        &["user", "device-passwords"],
        &[
            "--user",
            "Ada Lovelace",
            "--password",
            "Winter-2026!",
            "--csv",
            csv.to_str().unwrap(),
        ],
    ))
    .await);
    let text = std::fs::read_to_string(&csv).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(&csv).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "passwords are the operator's alone");
    assert!(
        text.starts_with("first_name,last_name,number,phone_id"),
        "{text}"
    );
    assert!(text.contains("Ada,Lovelace,+4930500001"), "{text}");
    let file = ok(&run(d, &["render", "001565a1b2c3", "--show-secrets"]).await);
    assert!(file.contains("account.1.password = Winter-2026!"), "{file}");

    // BLF: refused until granted.
    let e = err(&go(with(
        &["user", "monitor"],
        &["Ada Lovelace", "--add", "Bob Builder"],
    ))
    .await);
    assert!(e.contains("grant"), "{e}");
    ok(&go(with(&["blf", "grant"], &["--watched", "Bob Builder"])).await);
    let out = ok(&go(with(
        &["user", "monitor"],
        &["Ada Lovelace", "--add", "Bob Builder"],
    ))
    .await);
    assert!(out.contains("Bob Builder"), "{out}");

    // Licences from the pool.
    ok(&go(with(&["licence", "set"], &["app", "1"])).await);
    ok(&go(with(
        &["user", "licences"],
        &["Ada Lovelace", "--set", "app"],
    ))
    .await);
    let e = err(&go(with(
        &["user", "licences"],
        &["Bob Builder", "--set", "app"],
    ))
    .await);
    assert!(e.contains("no app licence available"), "{e}");

    // The audit trail names the CLI as the actor.
    let out = ok(&go(with(
        &["--json", "audit"],
        &["--entity", "number", "--action", "label"],
    ))
    .await);
    let entries: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        entries[0]["actor"].as_str().unwrap().starts_with("cli:"),
        "{out}"
    );
    assert_eq!(entries[0]["after"]["label_last"], "Desk");
}

#[tokio::test]
async fn issue_10_a_closed_pipe_ends_a_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&run(d, &["tenant", "add", "Acme"]).await);
    // `autoprov tenant list | head -0`: the reader is gone before anything is written.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = autoprov(d)
        .args(["tenant", "list"])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn reservations_and_moves_between_tenants_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (tenant, site) in [("Acme", "Berlin"), ("Other", "Bonn")] {
        ok(&run(d, &["tenant", "add", tenant]).await);
        ok(&run(
            d,
            &[
                "site",
                "add",
                "--tenant",
                tenant,
                site,
                "--sip-domain",
                "sip.example.com",
            ],
        )
        .await);
    }
    let e = err(&run(
        d,
        &[
            "site",
            "add",
            "--tenant",
            "Acme",
            "Hamburg",
            "--sip-domain",
            "sip.example.com:5060",
        ],
    )
    .await);
    assert!(e.contains("sip_domain") && e.contains("--sip-port"), "{e}");
    let add = |tenant: &'static str, mac: &'static str| {
        let args = [
            "device", "add", "--tenant", tenant, "--mac", mac, "--model", "T54W",
        ];
        async move { run(d, &args).await }
    };
    ok(&add("Other", "001565000d01").await);

    let out = ok(&run(
        d,
        &[
            "--json",
            "device",
            "reserve",
            "--tenant",
            "Acme",
            "001565000a01",
            "00:15:65:00:0a:02",
        ],
    )
    .await);
    let reserved: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(reserved.as_array().map(Vec::len), Some(2), "{out}");
    let out = ok(&run(d, &["device", "reservations", "--tenant", "Acme"]).await);
    assert!(
        out.contains("001565000a01") && out.contains("001565000a02"),
        "{out}"
    );
    let e = err(&add("Other", "001565000a01").await);
    assert!(
        e.contains("already registered") && !e.contains("Acme"),
        "{e}"
    );
    let e = err(&run(
        d,
        &["device", "reserve", "--tenant", "Acme", "001565000d01"],
    )
    .await);
    assert!(e.contains("registered in tenant \"Other\""), "{e}");
    ok(&run(
        d,
        &["device", "release", "--tenant", "Acme", "001565000a02"],
    )
    .await);
    ok(&add("Other", "001565000a02").await);

    let out = ok(&run(
        d,
        &[
            "--json",
            "device",
            "move-tenant",
            "001565000d01",
            "--to-tenant",
            "Acme",
        ],
    )
    .await);
    let moved: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(moved["lines_logged_out"], serde_json::json!([]), "{out}");
    let out = ok(&run(d, &["device", "list", "--tenant", "Acme"]).await);
    assert!(out.contains("001565000d01"), "{out}");
}

/// Issue 12 part B through the CLI: pickup and park groups, schedules and night service, each
/// rule's error named on stderr and nothing written by a refused command.
#[tokio::test]
async fn pickup_park_schedules_and_night_service_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let t = ["--tenant", "Acme"];
    let go = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        async move {
            let mut all: Vec<&str> = Vec::new();
            let (head, tail) = args.split_at(2);
            all.extend(head.iter().map(String::as_str));
            all.extend(t);
            all.extend(tail.iter().map(String::as_str));
            run(d, &all).await
        }
    };
    ok(&run(d, &["tenant", "add", "Acme"]).await);
    ok(&go(&[
        "site",
        "add",
        "Berlin",
        "--sip-domain",
        "sip.example.com",
        "--time-zone",
        "Europe/Berlin",
    ])
    .await);
    for (first, ext) in [("Ada", "100"), ("Bob", "101")] {
        ok(&go(&[
            "user",
            "add",
            "--first",
            first,
            "--last",
            "Member",
            "--extension",
            ext,
        ])
        .await);
    }
    let out = ok(&go(&[
        "pickup-group",
        "add",
        "--name",
        "Front",
        "--member",
        "Ada Member",
    ])
    .await);
    assert!(out.contains("Ada Member (pending)"), "{out}");
    let e = err(&go(&[
        "pickup-group",
        "add",
        "--name",
        "Back",
        "--member",
        "Ada Member",
    ])
    .await);
    assert!(e.contains("already in pickup group \"Front\""), "{e}");
    let e = err(&go(&[
        "park-group",
        "add",
        "--name",
        "Lot",
        "--slot-range",
        "099-101",
    ])
    .await);
    assert!(
        e.contains("extension 100 is already used by user Ada Member"),
        "{e}"
    );
    let out = ok(&go(&[
        "park-group",
        "add",
        "--name",
        "Lot",
        "--slot-range",
        "800-802",
        "--member",
        "Bob Member",
    ])
    .await);
    assert!(out.contains("slots 800, 801, 802"), "{out}");
    let list = ok(&go(&["park-group", "list"]).await);
    assert_eq!(list.lines().count(), 1, "{list}");
    let e = err(&go(&[
        "schedule",
        "add",
        "--name",
        "Office",
        "--day",
        "monday=08:00-12:00,11:00-13:00",
    ])
    .await);
    assert!(
        e.contains("monday: 08:00-12:00 overlaps 11:00-13:00"),
        "{e}"
    );
    let out = ok(&go(&[
        "schedule",
        "add",
        "--name",
        "Office",
        "--day",
        "monday=08:00-18:00",
        "--day",
        "tuesday=08:00-18:00",
    ])
    .await);
    assert!(out.contains("mon 08:00-18:00"), "{out}");
    ok(&go(&[
        "schedule",
        "add",
        "--name",
        "Feiertage",
        "--yearly",
        "2026-12-24..2026-12-26",
        "--holiday",
        "2026-06-08",
    ])
    .await);
    let e = err(&go(&["night-service", "set", "--mode", "automatic"]).await);
    assert!(e.contains("needs an opening-hours schedule"), "{e}");
    ok(&go(&[
        "night-service",
        "set",
        "--mode",
        "automatic",
        "--hours",
        "Office",
        "--holidays",
        "Feiertage",
    ])
    .await);
    // Sunday 29 March 2026, 12:00 CEST: in force until Monday 08:00 CEST (06:00 UTC).
    let out = ok(&go(&["night-service", "show", "--at", "2026-03-29T10:00:00Z"]).await);
    assert!(
        out.contains("in force until 2026-03-30T06:00:00Z (Europe/Berlin)"),
        "{out}"
    );
    let e = err(&go(&["schedule", "delete", "Office"]).await);
    assert!(e.contains("used by the tenant's night service"), "{e}");
    ok(&go(&["user", "activate", "Bob Member"]).await);
    ok(&go(&["user", "delete", "Bob Member"]).await);
    let out = ok(&go(&["park-group", "show", "Lot"]).await);
    assert!(out.contains("no members"), "{out}");
}

/// Groups and shared resources through the CLI: each rule's error as the API gives it, and the
/// dial plan.
#[tokio::test]
async fn groups_and_shared_resources_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let setup: &[&[&str]] = &[
        &["tenant", "add", "Acme"],
        &[
            "site",
            "add",
            "--tenant",
            "Acme",
            "Berlin",
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
            "number",
            "add",
            "--tenant",
            "Acme",
            "+4930123460",
            "--status",
            "active",
        ],
        &[
            "number",
            "add",
            "--tenant",
            "Acme",
            "+4930123000",
            "--status",
            "active",
            "--main",
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
            "user", "add", "--tenant", "Acme", "--first", "Grace", "--last", "Hopper",
        ],
    ];
    for args in setup {
        ok(&run(d, args).await);
    }
    let hunt = |agent: &'static str, ext: &'static str| {
        vec![
            "hunt-group",
            "add",
            "--tenant",
            "Acme",
            "Sales",
            "--agent",
            agent,
            "--extension",
            ext,
            "--number",
            "+4930123460",
            "--forward-to",
            "main",
        ]
    };
    // The available numbers: active, not the main number, nobody's (Ada has +4930123456).
    let available = ["number", "list", "--tenant", "Acme", "--available"];
    let out = ok(&run(d, &available).await);
    assert_eq!(out.trim(), "+4930123460\tactive\tavailable", "{out}");
    let e = err(&run(d, &hunt("Grace Hopper", "500")).await);
    assert!(e.contains("Grace Hopper is pending"), "{e}");
    let e = err(&run(d, &hunt("Ada Lovelace", "3456")).await);
    assert!(e.contains("already used by user Ada Lovelace"), "{e}");
    let out = ok(&run(d, &hunt("Ada Lovelace", "500")).await);
    assert!(out.contains("hunt-group Sales added"), "{out}");
    // The group took the last one.
    let out = ok(&run(d, &available).await);
    assert_eq!(out.trim(), "", "{out}");
    let e = err(&run(
        d,
        &[
            "hunt-group",
            "set",
            "--tenant",
            "Acme",
            "Sales",
            "--policy",
            "weighted",
            "--agent",
            "Ada Lovelace=90",
        ],
    )
    .await);
    assert!(e.contains("sum to 90%"), "{e}");
    let e = err(&run(
        d,
        &[
            "virtual-user",
            "add",
            "--tenant",
            "Acme",
            "--first",
            "Key",
            "--last",
            "Supplier",
            "--number",
            "+4940123456",
            "--extension",
            "1234567",
        ],
    )
    .await);
    assert!(e.contains("2 to 6 digits"), "{e}");
    ok(&run(
        d,
        &[
            "virtual-user",
            "add",
            "--tenant",
            "Acme",
            "--first",
            "Key",
            "--last",
            "Supplier",
            "--number",
            "+4940123456",
            "--extension",
            "77",
        ],
    )
    .await);
    let e = err(&run(
        d,
        &[
            "bridge",
            "add",
            "--tenant",
            "Acme",
            "Sales Bridge",
            "--number",
            "+4930123460",
        ],
    )
    .await);
    assert!(
        e.contains("is already the number of hunt group Sales"),
        "{e}"
    );
    let e = err(&run(
        d,
        &[
            "call-centre",
            "add",
            "--tenant",
            "Acme",
            "Support",
            "--queue-length",
            "0",
        ],
    )
    .await);
    assert!(e.contains("queue.length"), "{e}");
    let plan = ok(&run(d, &["--json", "dialplan", "--tenant", "Acme"]).await);
    let plan: serde_json::Value = serde_json::from_str(&plan).unwrap();
    let exts: Vec<&str> = plan["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["extension"].as_str().unwrap())
        .collect();
    assert_eq!(exts, ["3456", "500", "77"]);
    let human = ok(&run(d, &["dialplan", "--tenant", "Acme"]).await);
    assert!(human.contains("500\thunt group Sales\tgroup"), "{human}");
    ok(&run(d, &["hunt-group", "remove", "--tenant", "Acme", "Sales"]).await);
    ok(&run(
        d,
        &[
            "bridge",
            "add",
            "--tenant",
            "Acme",
            "Sales Bridge",
            "--number",
            "+4930123460",
        ],
    )
    .await);
}

/// Issue 14: a portal account made or reset at the CLI is in the tenant's audit trail, by the
/// CLI's actor, with neither password nor hash.
#[tokio::test]
async fn issue_14_portal_user_add_and_reset_are_audited_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&run(d, &["tenant", "add", "Acme"]).await);
    let added = ok(&run(
        d,
        &[
            "portal-user",
            "add",
            "--role",
            "tenant-admin",
            "--tenant",
            "Acme",
            "admin@acme.test",
            "--json",
        ],
    )
    .await);
    let added: serde_json::Value = serde_json::from_str(&added).unwrap();
    let first = added["password"].as_str().unwrap().to_owned();
    let reset = ok(&run(
        d,
        &["portal-user", "reset-password", "admin@acme.test", "--json"],
    )
    .await);
    let reset: serde_json::Value = serde_json::from_str(&reset).unwrap();
    let second = reset["password"].as_str().unwrap().to_owned();
    let trail = ok(&run(
        d,
        &[
            "audit",
            "--tenant",
            "Acme",
            "--entity",
            "portal-account",
            "--json",
        ],
    )
    .await);
    let entries: serde_json::Value = serde_json::from_str(&trail).unwrap();
    let actions: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["password-reset", "create"], "{trail}");
    for e in entries.as_array().unwrap() {
        assert!(e["actor"].as_str().unwrap().starts_with("cli:"), "{trail}");
        assert_eq!(e["after"]["login"], "admin@acme.test", "{trail}");
    }
    for secret in [first.as_str(), second.as_str(), "argon2", "hash"] {
        assert!(!trail.contains(secret), "{secret} in the trail: {trail}");
    }
}

/// Issue 14: `bridge set` replaces a bridge by the add's rules (a bad extension is named, the
/// old number is free again) and `directory edit` replaces an entry, each seen by `list`.
#[tokio::test]
async fn issue_14_bridge_set_and_directory_edit_replace_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&run(d, &["tenant", "add", "Acme"]).await);
    ok(&run(
        d,
        &[
            "site",
            "add",
            "--tenant",
            "Acme",
            "Berlin",
            "--sip-domain",
            "sip.example.com",
        ],
    )
    .await);
    for n in ["+4930123461", "+4930123462"] {
        let add = ["number", "add", "--tenant", "Acme", n, "--status", "active"];
        ok(&run(d, &add).await);
    }
    let bridge = |verb: &'static str| {
        let mut args = vec!["bridge", verb, "--tenant", "Acme"];
        if verb == "set" {
            args.push("Sales Bridge");
        }
        args
    };
    let mut add = bridge("add");
    add.extend(["Sales Bridge", "--number", "+4930123461"]);
    ok(&run(d, &add).await);
    let mut bad = bridge("set");
    bad.extend(["Team Bridge", "--number", "+4930123462", "--extension", "5"]);
    let e = err(&run(d, &bad).await);
    assert!(e.contains("extension"), "{e}");
    let mut set = bridge("set");
    set.extend([
        "Team Bridge",
        "--number",
        "+4930123462",
        "--extension",
        "581",
    ]);
    let said = ok(&run(d, &set).await);
    assert!(said.contains("bridge Team Bridge on +4930123462"), "{said}");
    let list = ok(&run(d, &["--json", "bridge", "list", "--tenant", "Acme"]).await);
    let list: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(
        (
            &list[0]["name"],
            &list[0]["extension"],
            list.as_array().unwrap().len()
        ),
        (
            &serde_json::json!("Team Bridge"),
            &serde_json::json!("581"),
            1
        )
    );
    let free = ok(&run(d, &["number", "list", "--tenant", "Acme", "--available"]).await);
    assert!(
        free.contains("+4930123461") && !free.contains("+4930123462"),
        "{free}"
    );

    let added = ok(&run(
        d,
        &[
            "--json",
            "directory",
            "add",
            "--tenant",
            "Acme",
            "--company",
            "Pizza Roma",
            "--number",
            "+4930555111",
        ],
    )
    .await);
    let id = serde_json::from_str::<serde_json::Value>(&added).unwrap()["id"].to_string();
    let edit = [
        "directory",
        "edit",
        "--tenant",
        "Acme",
        &id,
        "--first",
        "Luigi",
        "--last",
        "Roma",
        "--number",
        "+4930555222",
        "--site",
        "Berlin",
    ];
    let said = ok(&run(d, &edit).await);
    assert!(said.contains("is now: Luigi Roma +4930555222"), "{said}");
    let list = ok(&run(d, &["directory", "list", "--tenant", "Acme"]).await);
    assert!(
        list.contains("Luigi Roma") && !list.contains("Pizza Roma"),
        "{list}"
    );
}

/// Issue 14: `user add --handset` logs the new user's number in to their desk phone through
/// the add form's rule: another site's handset is refused and adds nobody, a free one of the
/// number's site gets the line and its login details are printed once.
#[tokio::test]
async fn issue_14_user_add_with_a_desk_phone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let setup: &[&[&str]] = &[
        &["tenant", "add", "Acme"],
        &[
            "site",
            "add",
            "--tenant",
            "Acme",
            "Berlin",
            "--sip-domain",
            "sip.example.com",
        ],
        &[
            "site",
            "add",
            "--tenant",
            "Acme",
            "Hamburg",
            "--sip-domain",
            "sip.example.com",
        ],
        &[
            "number",
            "add",
            "--tenant",
            "Acme",
            "+4930123456",
            "--site",
            "Berlin",
            "--status",
            "active",
        ],
        &[
            "device",
            "add",
            "--tenant",
            "Acme",
            "--mac",
            "00:15:65:00:01:01",
            "--model",
            "T54W",
            "--site",
            "Berlin",
        ],
        &[
            "device",
            "add",
            "--tenant",
            "Acme",
            "--mac",
            "00:15:65:00:01:02",
            "--model",
            "T54W",
            "--site",
            "Hamburg",
        ],
    ];
    for args in setup {
        ok(&run(d, args).await);
    }
    let add = |handset: &'static str| {
        vec![
            "--json",
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
            "--handset",
            handset,
        ]
    };
    let e = err(&run(d, &add("00:15:65:00:01:02")).await);
    assert!(e.contains("at another site than handset"), "{e}");
    let out = ok(&run(d, &["user", "list", "--tenant", "Acme"]).await);
    assert!(!out.contains("Lovelace"), "{out}");
    let out = ok(&run(d, &add("001565000101")).await);
    let added: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(added["state"], "pending");
    assert_eq!(added["desk_phone"]["mac"], "001565000101");
    assert_eq!(added["desk_phone"]["position"], 1);
    assert!(!added["desk_phone"]["sip_password"]
        .as_str()
        .unwrap()
        .is_empty());
    // The handset is taken now: a second new user cannot have it.
    let out = ok(&run(
        d,
        &[
            "number",
            "add",
            "--tenant",
            "Acme",
            "+4930123457",
            "--site",
            "Berlin",
            "--status",
            "active",
        ],
    )
    .await);
    drop(out);
    let e = err(&run(
        d,
        &[
            "user",
            "add",
            "--tenant",
            "Acme",
            "--first",
            "Grace",
            "--last",
            "Hopper",
            "--number",
            "+4930123457",
            "--handset",
            "00:15:65:00:01:01",
        ],
    )
    .await);
    assert!(e.contains("someone is already logged in"), "{e}");
}
