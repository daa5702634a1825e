//! A Yealink phone (simulated with HTTP requests) fetching its files from the in-process server.

use std::time::Duration;

use autoprov::admin::UserUpdate;

use crate::support::{walkthrough, TestServer, MAC, NUMBER, UA};

#[tokio::test]
async fn mac_cfg_carries_the_logged_in_users_account() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let (status, headers, body) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["content-type"], "text/plain");
    assert!(body.starts_with("#!version:1.0.0.1\n"), "{body}");
    for line in [
        "account.1.enable = 1",
        "account.1.label = 3456",
        "account.1.display_name = Ada Lovelace",
        "account.1.user_name = 4930123456",
        "account.1.auth_name = 4930123456",
        "account.1.sip_server.1.address = sip.example.com",
        "account.1.sip_server.1.port = 5060",
        "account.1.sip_server.1.transport_type = 0",
        "account.2.enable = 0",
        "local_time.time_zone = +1",
        "local_time.time_zone_name = Germany(Berlin)",
        "local_time.ntp_server1 = pool.ntp.org",
        "static.auto_provision.repeat.minutes = 1440",
    ] {
        assert!(
            body.lines().any(|l| l == line),
            "missing {line:?} in\n{body}"
        );
    }
    let password = body
        .lines()
        .find_map(|l| l.strip_prefix("account.1.password = "))
        .expect("a password line");
    assert!(password.len() >= 20 && password.chars().all(|c| c.is_ascii_alphanumeric()));
    // The first fetch was the device's first contact: it now has HTTP credentials, and is sent
    // to the HTTPS listener (whose URL follows the bound port when it is not configured).
    let url = format!(
        "static.auto_provision.server.url = https://{}/",
        server.https_addr
    );
    assert!(body.lines().any(|l| l == url), "{body}");
    assert!(body
        .lines()
        .any(|l| l == "static.auto_provision.server.username = 001565a1b2c3"));
    let http_password = body
        .lines()
        .find_map(|l| l.strip_prefix("static.auto_provision.server.password = "))
        .expect("HTTP credentials");
    assert!(http_password.len() >= 20);
    let ca = format!(
        "static.trusted_certificates.url = http://{}/autoprov-ca.crt",
        server.addr
    );
    assert!(body.lines().any(|l| l == ca), "{body}");
}

#[tokio::test]
async fn boot_files_start_with_the_version_line_and_include_the_model_file() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    for path in [
        "/y000000000000.boot",
        "/001565a1b2c3.boot",
        "/some/prefix/001565A1B2C3.boot",
    ] {
        let (status, _, body) = server.fetch(path, Some(UA)).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body.lines().next(), Some("#!version:1.0.0.1"), "{path}");
        assert!(
            body.contains("include:config \"y000000000096.cfg\""),
            "{path}: {body}"
        );
    }
    let (_, _, body) = server.fetch("/001565a1b2c3.boot", Some(UA)).await;
    assert!(
        body.contains("include:config \"001565a1b2c3.cfg\""),
        "{body}"
    );
    let (status, _, body) = server.fetch("/y000000000096.cfg", Some(UA)).await;
    assert_eq!(status, 200);
    assert!(
        !body.contains("password =")
            && !body.contains("user_password")
            && !body.contains("account."),
        "the common file holds no secret: {body}"
    );
}

#[tokio::test]
async fn renaming_the_user_changes_the_very_next_fetch() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let (_, _, before) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(before.contains("display_name = Ada Lovelace"));
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    let user = admin.user(tenant.id, NUMBER).await.unwrap();
    admin
        .user_update(
            tenant.id,
            &user,
            &UserUpdate {
                first_name: Some("Grace".into()),
                last_name: Some("Hopper".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (_, _, after) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(after.contains("display_name = Grace Hopper"), "{after}");
}

#[tokio::test]
async fn a_cli_change_in_another_process_is_served_within_a_second() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let (_, _, before) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(before.contains("display_name = Ada Lovelace"));
    let mut changes = server.app.store.revisions().subscribe();
    let seen = *changes.borrow_and_update();

    let output = crate::cli::autoprov(&server.data_dir())
        .args([
            "user", "update", "--tenant", "Acme", NUMBER, "--last", "Byron",
        ])
        .output()
        .await
        .expect("run the CLI");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The server polls the store; await its next revision, no longer than a second.
    tokio::time::timeout(Duration::from_secs(1), changes.wait_for(|r| *r > seen))
        .await
        .expect("the server saw the CLI's change within a second")
        .expect("revision channel open");
    let (_, _, after) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(after.contains("display_name = Ada Byron"), "{after}");
}

#[tokio::test]
async fn unknown_mac_looks_like_any_unknown_file() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let (status, headers, body) = server.fetch("/001565ffffff.cfg", None).await;
    let (status2, headers2, body2) = server.fetch("/no-such-file.txt", None).await;
    let (status3, headers3, body3) = server.fetch("/..%2f..%2fetc%2fpasswd", None).await;
    assert_eq!((status, status2, status3), (404, 404, 404));
    assert_eq!(body, body2);
    assert_eq!(body, body3);
    for h in [&headers2, &headers3] {
        assert_eq!(headers.get("content-type"), h.get("content-type"));
        assert_eq!(headers.get("content-length"), h.get("content-length"));
    }
    assert!(headers.get("etag").is_none());
}

#[tokio::test]
async fn if_none_match_with_the_current_etag_gets_304() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let (_, headers, _) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let resp = server
        .client
        .get(server.url("/001565a1b2c3.cfg"))
        .header("User-Agent", UA)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 304);
    assert_eq!(resp.headers()["etag"].to_str().unwrap(), etag);
    assert!(resp.text().await.unwrap().is_empty());

    let resp = server
        .client
        .get(server.url("/001565a1b2c3.cfg"))
        .header("If-None-Match", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test]
async fn a_user_agent_whose_mac_differs_from_the_files_is_refused() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let other = "Yealink SIP-T54W 96.86.0.100 00:15:65:00:00:01";
    let (status, _, body) = server.fetch("/001565a1b2c3.cfg", Some(other)).await;
    assert_eq!(status, 404);
    assert_eq!(body, "not found\n");
    // The same UA without a MAC is accepted.
    let (status, _, _) = server
        .fetch("/001565a1b2c3.cfg", Some("Yealink-T54W 96.86.0.100"))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn another_familys_user_agent_or_method_gets_404() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let resp = server
        .client
        .post(server.url("/001565a1b2c3.cfg"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    let (status, _, _) = server
        .fetch(&format!("/{}.cfg", "a".repeat(200)), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn operations_endpoints() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    assert_eq!(server.fetch("/healthz", None).await.0, 200);
    assert_eq!(server.fetch("/readyz", None).await.0, 200);
    server.fetch("/001565a1b2c3.cfg", None).await;
    server.fetch("/001565ffffff.cfg", None).await;
    let (status, _, body) = server.fetch("/metrics", None).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("autoprov_files_total{outcome=\"found\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("autoprov_files_total{outcome=\"not_found\"} 1"),
        "{body}"
    );
}

#[tokio::test]
async fn cached_files_are_reused_until_the_tenant_changes() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let renders = || {
        server
            .app
            .provisioner
            .metrics
            .renders
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    let after_first = renders();
    server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(renders(), after_first, "second fetch comes from the cache");
    let (status, _, _) = server
        .fetch("/some/prefix/001565A1B2C3.cfg", Some(UA))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        renders(),
        after_first,
        "the name's letter case and prefix are the same file: one cache entry"
    );
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    admin.tenant_add("Other").await.unwrap();
    server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(
        renders(),
        after_first,
        "another tenant's change does not invalidate"
    );
    let user = admin.user(tenant.id, NUMBER).await.unwrap();
    admin
        .user_update(
            tenant.id,
            &user,
            &UserUpdate {
                extension: Some("77".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (_, _, body) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(renders(), after_first + 1);
    assert!(body.contains("account.1.label = 77"), "{body}");
}

#[tokio::test]
async fn a_phones_first_contact_leaves_its_neighbours_files_and_the_directory_cached() {
    use std::sync::atomic::Ordering::Relaxed;
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    let other = "001565a1b2c4";
    admin
        .device_add(
            tenant.id,
            &autoprov::admin::DeviceInput {
                mac: other.into(),
                model: "T54W".into(),
                site: None,
            },
        )
        .await
        .unwrap();
    let metrics = &server.app.provisioner.metrics;
    let counts = || {
        (
            metrics.renders.load(Relaxed),
            metrics.directory_loads.load(Relaxed),
        )
    };
    // A's first contact, then its file with its credentials, cached.
    for _ in 0..3 {
        server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    }
    let (renders, loads) = counts();
    server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(counts(), (renders, loads), "A's file comes from the cache");

    let (status, _, body) = server.fetch(&format!("/{other}.cfg"), None).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("static.auto_provision.server.password = "),
        "B's first contact gave it credentials: {body}"
    );
    assert_eq!(
        counts(),
        (renders + 1, loads),
        "B's file rendered with the directory already loaded"
    );
    server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(
        counts(),
        (renders + 1, loads),
        "B's first contact leaves A's file cached"
    );
    // B's own change still reaches B: a rotation makes its cached file unreachable.
    server.fetch(&format!("/{other}.cfg"), None).await;
    let (renders, _) = counts();
    server.fetch(&format!("/{other}.cfg"), None).await;
    assert_eq!(counts().0, renders, "B's file is cached");
    let device = server
        .app
        .store
        .device_by_mac(other.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    server
        .app
        .store
        .device_rotate(&device, &autoprov::model::Secret::generate(), 0)
        .await
        .unwrap();
    server.fetch(&format!("/{other}.cfg"), None).await;
    assert_eq!(counts().0, renders + 1, "B's rotation renders B again");
    server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(counts().0, renders + 1, "and leaves A's file cached");
}

/// The directory loads and renders so far.
fn directory_counts(server: &TestServer) -> (u64, u64) {
    use std::sync::atomic::Ordering::Relaxed;
    let metrics = &server.app.provisioner.metrics;
    (
        metrics.directory_loads.load(Relaxed),
        metrics.renders.load(Relaxed),
    )
}

#[tokio::test]
async fn a_file_without_the_directory_loads_none() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let (status, _, _) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(status, 200);
    assert_eq!(
        directory_counts(&server),
        (0, 1),
        "<mac>.cfg does not name the directory: it is rendered without loading one"
    );
    let (status, _, body) = server.fetch("/001565a1b2c3-directory.xml", Some(UA)).await;
    assert_eq!(status, 200);
    assert!(body.contains("Name=\"Ada Lovelace\""), "{body}");
    assert_eq!(directory_counts(&server), (1, 2));
}

#[tokio::test]
async fn adding_a_device_reloads_no_directory() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    let directory = "/001565a1b2c3-directory.xml";
    // The phone's first contact (a write of its own), then its files, cached.
    for _ in 0..3 {
        server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
        server.fetch(directory, Some(UA)).await;
    }
    let (loads, renders) = directory_counts(&server);
    assert_eq!(loads, 1);
    let tenant_revision = server.app.store.revisions().tenant(tenant.id);
    admin
        .device_add(
            tenant.id,
            &autoprov::admin::DeviceInput {
                mac: "001565a1b2c4".into(),
                model: "T54W".into(),
                site: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        server.app.store.revisions().tenant(tenant.id),
        tenant_revision,
        "a new device stamps itself, not its tenant"
    );
    server.fetch(directory, Some(UA)).await;
    server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(
        directory_counts(&server),
        (loads, renders),
        "the neighbour's files and the directory stay cached"
    );
    // The new device's own directory file is built from the directory already loaded.
    let (status, _, body) = server.fetch("/001565a1b2c4-directory.xml", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(directory_counts(&server), (loads, renders + 1));

    // A write the directory shows moves its revision: the next render loads it again.
    admin
        .directory_add(
            tenant.id,
            &autoprov::admin::DirectoryEntryInput {
                company: Some("Pizza Roma".into()),
                number: "+4930555111".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (_, _, body) = server.fetch(directory, Some(UA)).await;
    assert!(body.contains("Name=\"Pizza Roma\""), "{body}");
    assert_eq!(directory_counts(&server).0, loads + 1);
}

#[tokio::test]
async fn a_renamed_user_reaches_every_directory() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let directory = "/001565a1b2c3-directory.xml";
    let (_, _, before) = server.fetch(directory, Some(UA)).await;
    assert!(before.contains("Name=\"Ada Lovelace\""), "{before}");
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    let ada = admin.user(tenant.id, NUMBER).await.unwrap();
    let rename = UserUpdate {
        last_name: Some("Byron".into()),
        ..Default::default()
    };
    admin.user_update(tenant.id, &ada, &rename).await.unwrap();
    let (_, _, after) = server.fetch(directory, Some(UA)).await;
    assert!(after.contains("Name=\"Ada Byron\""), "{after}");
}

#[tokio::test]
async fn a_remote_change_is_not_hidden_by_a_later_local_one() {
    // Polling only by hand, so the order of events is ours to choose.
    let server = TestServer::start_with(&[("store.poll_ms", "60000")]).await;
    walkthrough(&server.app).await;
    server.app.store.refresh_revisions().await.unwrap();
    let (_, _, before) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(before.contains("display_name = Ada Lovelace"));
    // Another process changes tenant Acme ...
    let output = crate::cli::autoprov(&server.data_dir())
        .args([
            "user", "update", "--tenant", "Acme", NUMBER, "--last", "Byron",
        ])
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    // ... then this process writes to another tenant, with a higher revision ...
    server.app.admin.tenant_add("Other").await.unwrap();
    // ... and the next poll must still pick up Acme's change.
    server.app.store.refresh_revisions().await.unwrap();
    let (_, _, after) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(after.contains("display_name = Ada Byron"), "{after}");
}

#[tokio::test]
async fn a_remote_change_of_one_device_reaches_it_by_polling() {
    let server = TestServer::start_with(&[("store.poll_ms", "60000")]).await;
    walkthrough(&server.app).await;
    let password = |body: &str| {
        body.lines()
            .find_map(|l| l.strip_prefix("static.auto_provision.server.password = "))
            .map(str::to_owned)
    };
    let (_, _, first) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    let (_, _, cached) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(password(&cached), password(&first));
    // Another process rotates this device's password: a write of the device alone.
    let output = crate::cli::autoprov(&server.data_dir())
        .args([
            "device",
            "rotate-credentials",
            "--tenant",
            "Acme",
            "--mac",
            "001565a1b2c3",
        ])
        .output()
        .await
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    server.app.store.refresh_revisions().await.unwrap();
    let (_, _, after) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(password(&after).is_some(), "{after}");
    assert_ne!(
        password(&after),
        password(&first),
        "the new password is served"
    );
}

#[tokio::test]
async fn a_mac_unknown_at_first_is_served_once_registered() {
    let server = TestServer::start().await;
    let (status, _, _) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(status, 404);
    walkthrough(&server.app).await;
    let (status, _, _) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn head_validators_and_cache_control() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let get = server
        .client
        .get(server.url("/001565a1b2c3.cfg"))
        .send()
        .await
        .unwrap();
    let etag = get.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(get.headers()["cache-control"], "private, no-cache");
    let length = get.text().await.unwrap().len();
    let head = server
        .client
        .head(server.url("/001565a1b2c3.cfg"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(
        head.headers()["content-length"].to_str().unwrap(),
        length.to_string()
    );
    assert_eq!(head.headers()["etag"].to_str().unwrap(), etag);
    for validator in [
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
        "*".to_owned(),
    ] {
        let resp = server
            .client
            .get(server.url("/001565a1b2c3.cfg"))
            .header("If-None-Match", &validator)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 304, "{validator}");
    }
}

#[tokio::test]
async fn every_refusal_has_the_same_headers() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let mismatch = "Yealink SIP-T54W 96.86.0.100 00:15:65:00:00:01";
    let answers = [
        server.fetch("/001565a1b2c3.cfg", Some(mismatch)).await,
        server.fetch("/001565ffffff.cfg", Some(UA)).await,
        server.fetch("/nothing.bin", None).await,
        server.fetch("/y000000000123.cfg", Some(UA)).await,
    ];
    let names = |h: &reqwest::header::HeaderMap| {
        let mut v: Vec<String> = h
            .iter()
            .filter(|(k, _)| *k != "date")
            .map(|(k, v)| format!("{k}: {v:?}"))
            .collect();
        v.sort();
        v
    };
    for (status, headers, body) in &answers {
        assert_eq!(*status, 404);
        assert_eq!(body, &answers[0].2);
        assert_eq!(names(headers), names(&answers[0].1));
    }
}

#[tokio::test]
async fn time_zone_and_transport_variants() {
    use autoprov::admin::{DeviceInput, NumberInput, SiteInput};
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    for (site, zone, transport, proxy, mac, number) in [
        (
            "Sydney",
            "Australia/Sydney",
            "tls",
            Some("edge.example.com"),
            "001565000001",
            "+61200000001",
        ),
        (
            "Pune",
            "Asia/Kolkata",
            "tcp",
            None,
            "001565000002",
            "+912000000002",
        ),
    ] {
        admin
            .site_add(
                tenant.id,
                &SiteInput {
                    name: site.into(),
                    time_zone: Some(zone.into()),
                    sip_domain: Some("sip.example.com".into()),
                    sip_proxy: proxy.map(Into::into),
                    sip_transport: Some(transport.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        admin
            .number_add(
                tenant.id,
                &NumberInput {
                    number: number.into(),
                    site: Some(site.into()),
                    status: Some("active".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        admin
            .device_add(
                tenant.id,
                &DeviceInput {
                    mac: mac.into(),
                    model: "T46S".into(),
                    site: Some(site.into()),
                },
            )
            .await
            .unwrap();
        admin.device_login(tenant.id, mac, number).await.unwrap();
    }
    let (_, _, sydney) = server.fetch("/001565000001.cfg", None).await;
    for line in [
        "local_time.time_zone = +10",
        "local_time.summer_time = 1",
        "local_time.dst_time_type = 1",
        "local_time.start_time = 10/1/7/2",
        "local_time.end_time = 4/1/7/3",
        "local_time.offset_time = 60",
        "account.1.sip_server.1.transport_type = 2",
        "account.1.sip_server.1.port = 5061",
        "account.1.outbound_proxy_enable = 1",
        "account.1.outbound_proxy.1.address = edge.example.com",
        "account.1.display_name = +61200000001",
    ] {
        assert!(
            sydney.lines().any(|l| l == line),
            "missing {line:?} in\n{sydney}"
        );
    }
    assert!(!sydney.contains("time_zone_name"), "{sydney}");
    let (_, _, pune) = server.fetch("/001565000002.cfg", None).await;
    for line in [
        "local_time.time_zone = +5:30",
        "local_time.summer_time = 0",
        "account.1.sip_server.1.transport_type = 1",
    ] {
        assert!(
            pune.lines().any(|l| l == line),
            "missing {line:?} in\n{pune}"
        );
    }
    assert!(!pune.contains("outbound_proxy"), "{pune}");
}

#[tokio::test]
async fn unknown_model_codes_are_unknown_files() {
    let server = TestServer::start().await;
    let (status, _, _) = server.fetch("/y000000000123.cfg", None).await;
    assert_eq!(status, 404);
    let (status, _, body) = server.fetch("/y000000000150.cfg", None).await;
    assert_eq!(status, 200);
    assert!(body.contains("T58W"), "{body}");
    let _ = MAC;
}

#[tokio::test]
async fn the_firmware_version_of_the_user_agent_is_recorded() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    let device = server
        .app
        .store
        .device_by_mac("001565a1b2c3".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    // Written in the background; give it up to two seconds.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let seen = server.app.store.device_last_seen(device.id).await.unwrap();
        if let Some(seen) = seen {
            assert_eq!(seen.firmware.as_deref(), Some("96.86.0.100"));
            assert_eq!(seen.protocol, "http");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never recorded");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn operator_overrides_are_used_and_a_broken_one_falls_back() {
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("device-templates/yealink");
    let overrides = tempfile::tempdir().unwrap();
    std::fs::create_dir(overrides.path().join("yealink")).unwrap();
    let custom = std::fs::read_to_string(shipped.join("mac.cfg.j2"))
        .unwrap()
        .replace(
            "## Time",
            "## Operator override\nlang.gui = German\n## Time",
        );
    std::fs::write(overrides.path().join("yealink/mac.cfg.j2"), custom).unwrap();
    let dir = overrides.path().display().to_string();
    let server = TestServer::start_with(&[("templates.override_dir", &dir)]).await;
    walkthrough(&server.app).await;
    let (_, _, body) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(body.lines().any(|l| l == "lang.gui = German"), "{body}");
    drop(server);

    // A broken override: the server starts anyway and serves the shipped file.
    std::fs::write(
        overrides.path().join("yealink/mac.cfg.j2"),
        "#!version:1.0.0.1\nbroken line\n",
    )
    .unwrap();
    let server = TestServer::start_with(&[("templates.override_dir", &dir)]).await;
    walkthrough(&server.app).await;
    let (status, _, body) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(status, 200);
    assert!(
        !body.contains("broken line") && body.contains("account.1.enable = 1"),
        "{body}"
    );
}

/// Issue 15: after a tenant-wide change, phones asking at once (as the resync watcher's
/// NOTIFYs make them) share batched loads of their records, and each still gets its own
/// file: its own number on its first account, the same bytes as one asking alone.
#[tokio::test]
async fn issue_15_phones_asking_at_once_share_record_loads_and_each_gets_its_own_file() {
    use autoprov::admin::{DeviceInput, NumberInput, UserInput};
    use autoprov::provision::{FileRequest, Outcome, Protocol};
    use std::sync::atomic::Ordering::Relaxed;

    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    let mut phones = vec![("001565a1b2c3".to_owned(), "4930123456".to_owned())];
    for i in 0..24 {
        let number = format!("+49302000{i:02}");
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
                    first_name: format!("Caller{i}"),
                    last_name: "Batch".into(),
                    number: Some(number.clone()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        admin.user_activate(tenant.id, &user).await.unwrap();
        let mac = format!("0015650001{i:02}");
        admin
            .device_add(
                tenant.id,
                &DeviceInput {
                    mac: mac.clone(),
                    model: "T54W".into(),
                    site: None,
                },
            )
            .await
            .unwrap();
        admin.device_login(tenant.id, &mac, &number).await.unwrap();
        phones.push((mac, number.trim_start_matches('+').to_owned()));
    }
    let provisioner = server.app.provisioner.clone();
    let fetch_all = |phones: Vec<(String, String)>| {
        let mut set = tokio::task::JoinSet::new();
        for (mac, user) in phones {
            let provisioner = provisioner.clone();
            set.spawn(async move {
                let name = format!("{mac}.cfg");
                let request =
                    FileRequest::plain(&name, Protocol::Http, Some([127, 0, 0, 1].into()));
                match provisioner.serve(&request).await.outcome {
                    Outcome::Found(file) => (mac, user, file.body.clone()),
                    other => panic!("{mac}: {other:?}"),
                }
            });
        }
        set.join_all()
    };
    // First contact, then every file once more from the cache.
    fetch_all(phones.clone()).await;
    let before = fetch_all(phones.clone()).await;
    let metrics = &server.app.provisioner.metrics;
    let counts = || {
        (
            metrics.renders.load(Relaxed),
            metrics.record_loads.load(Relaxed),
        )
    };
    let (renders, loads) = counts();
    admin
        .number_add(
            tenant.id,
            &NumberInput {
                number: "+4930999999".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let together = fetch_all(phones.clone()).await;
    let (renders_after, loads_after) = counts();
    assert_eq!(
        renders_after - renders,
        25,
        "every phone's file rendered again"
    );
    assert!(
        (1..=5).contains(&(loads_after - loads)),
        "25 phones asking at once took {} record loads",
        loads_after - loads
    );
    for (mac, user, body) in &together {
        let text = std::str::from_utf8(body).unwrap();
        assert!(
            text.contains(&format!("account.1.user_name = {user}\n")),
            "{mac}: {text}"
        );
        let (_, _, cached) = before.iter().find(|(m, _, _)| m == mac).unwrap();
        assert_eq!(body, cached, "{mac}: the same bytes as before the change");
    }
}
