//! Rollout status (issue 13): what the phone path records about each device — its last fetch,
//! whether it proved itself, its last refused request — reaches the device list and the rollout
//! summary; a replaced handset's old MAC is dead and the new one makes first contact.

use std::time::Duration;

use autoprov::admin::DeviceInput;
use autoprov::model::Role;
use serde_json::Value;

use crate::api::call;
use crate::support::{walkthrough, walkthrough_with, TestServer, MAC, UA};
use crate::trust::{challenge, digest_header, first_contact, https_client, https_url, line};

const FILE: &str = "/001565a1b2c3.cfg";

async fn platform_token(server: &TestServer) -> String {
    let (_, token) = server
        .app
        .admin
        .token_create(Role::PlatformAdmin, None, None)
        .await
        .unwrap();
    token.expose().to_owned()
}

async fn add_device(server: &TestServer, mac: &str) {
    let acme = server.app.admin.tenant("Acme").await.unwrap();
    server
        .app
        .admin
        .device_add(
            acme.id,
            &DeviceInput {
                mac: mac.into(),
                model: "T54W".into(),
                site: None,
            },
        )
        .await
        .unwrap();
}

/// Closes the device's first-contact window (as if it had expired).
async fn close_window(server: &TestServer, mac: &str) {
    let store = &server.app.store;
    let device = store
        .device_by_mac(mac.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    store.device_arm(&device, 0).await.unwrap();
}

/// A proven fetch of Ada's file over HTTPS with the phone's password.
async fn proven_fetch(server: &TestServer, mac: &str, password: &str) -> u16 {
    let client = https_client(server, None);
    let file = format!("/{mac}.cfg");
    let c = challenge(&client, &https_url(server, &file)).await;
    let auth = digest_header(&c, mac, password, &file, 1, true);
    let resp = client
        .get(https_url(server, &file))
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    resp.status().as_u16()
}

/// The device list shows each handset's state, where and how it was last seen and the firmware
/// it reported, once the poller has written the sighting (within a second: no flush by hand).
#[tokio::test]
async fn the_device_list_shows_state_last_seen_and_firmware() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let token = platform_token(&server).await;
    let list = "/api/v1/tenants/Acme/devices";
    let (_, before) = call(&server, "GET", list, Some(&token), None).await;
    assert_eq!(before[0]["state"], "awaiting-first-contact");
    assert!(before[0]["last_seen"].is_null());
    let (status, _, _) = server.fetch(FILE, Some(UA)).await;
    assert_eq!(status, 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    let device = loop {
        let (_, after) = call(&server, "GET", list, Some(&token), None).await;
        if !after[0]["last_seen"].is_null() {
            break after[0].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "never shown");
        tokio::task::yield_now().await;
    };
    assert_eq!(device["state"], "provisioned", "{device}");
    assert_eq!(device["last_seen"]["addr"], "127.0.0.1");
    assert_eq!(device["last_seen"]["protocol"], "http");
    assert_eq!(device["last_seen"]["firmware"], "96.86.0.100");
    assert_eq!(device["model"], "T54W");
    assert_eq!(device["failing"], false);
}

/// The summary counts expected, arrived, provisioned, proven and failing phones and lists the
/// laggards with the reason: never seen, wrong credentials, no way in.
#[tokio::test]
async fn the_rollout_summary_counts_and_names_the_laggards() {
    let server = TestServer::start().await;
    // Ada's phone makes first contact over HTTP (no allowed networks), then proves itself.
    let password = first_contact(&server).await;
    assert_eq!(proven_fetch(&server, "001565a1b2c3", &password).await, 200);
    for mac in ["001565000002", "001565000003", "001565000004"] {
        add_device(&server, mac).await;
    }
    // 3 and 4 have their windows closed; 3 asks with credentials that do not fit, 4 with none.
    close_window(&server, "001565000003").await;
    close_window(&server, "001565000004").await;
    assert_eq!(proven_fetch(&server, "001565000003", "wrong").await, 404);
    let (status, _, _) = server
        .fetch(
            "/001565000004.cfg",
            Some("Yealink SIP-T54W 96.86.0.100 00:15:65:00:00:04"),
        )
        .await;
    assert_eq!(status, 404);
    // The poller writes every 250 ms; writing now is the same write, awaited.
    server.app.provisioner.flush_seen().await;
    let token = platform_token(&server).await;
    let (status, r) = call(
        &server,
        "GET",
        "/api/v1/tenants/Acme/rollout?site=Berlin",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let counts: Vec<&Value> = [
        "expected",
        "arrived",
        "provisioned",
        "proven",
        "failing",
        "stale",
    ]
    .iter()
    .map(|k| &r[*k])
    .collect();
    assert_eq!(counts, [4, 3, 1, 1, 2, 0], "{r}");
    let laggards: Vec<(String, String)> = r["laggards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["mac"].as_str().unwrap().into(),
                l["why"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        laggards,
        [
            ("001565000002".into(), "not seen yet".into()),
            (
                "001565000003".into(),
                "failing: wrong-credentials from 127.0.0.1".into()
            ),
            (
                "001565000004".into(),
                "failing: no-credentials from 127.0.0.1".into()
            ),
        ]
    );
    let (_, detail) = call(
        &server,
        "GET",
        "/api/v1/tenants/Acme/devices/001565a1b2c3",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(detail["state"], "proven", "{detail}");
    assert_eq!(detail["last_seen"]["protocol"], "https");
    for (query, status) in [("site=Nowhere", 404), ("stale_days=0", 422)] {
        let path = format!("/api/v1/tenants/Acme/rollout?{query}");
        let (got, body) = call(&server, "GET", &path, Some(&token), None).await;
        assert_eq!(got, status, "{query}: {body}");
    }
}

/// A User-Agent naming another MAC than the file's counts as a failure of the file's device,
/// until its next good fetch.
#[tokio::test]
async fn a_mac_mismatch_is_recorded_as_a_failure() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let (status, _, _) = server.fetch(FILE, Some(UA)).await;
    assert_eq!(status, 200);
    let (status, _, _) = server
        .fetch(FILE, Some("Yealink SIP-T54W 96.86.0.100 00:15:65:ff:ff:ff"))
        .await;
    assert_eq!(status, 404);
    // Both in one flush: the fetch is kept, and the later refusal is what the views show.
    server.app.provisioner.flush_seen().await;
    let acme = server.app.admin.tenant("Acme").await.unwrap();
    let d = server.app.admin.device_detail(acme.id, MAC).await.unwrap();
    assert!(d.view.failing && d.view.last_seen.is_some(), "{:?}", d.view);
    assert_eq!(d.view.last_failure.unwrap().reason, "mac-mismatch");
    // The next good fetch is recorded again, and the device is no longer failing.
    let (status, _, _) = server.fetch(FILE, Some(UA)).await;
    assert_eq!(status, 200);
    server.app.provisioner.flush_seen().await;
    let d = server.app.admin.device_detail(acme.id, MAC).await.unwrap();
    assert!(
        !d.view.failing && d.view.last_failure.is_none(),
        "{:?}",
        d.view
    );
}

/// New hardware takes over the handset: the old MAC with its old credentials gets what any
/// unknown MAC gets, and the new MAC makes first contact and gets Ada's line under the same
/// Phone ID.
#[tokio::test]
async fn a_replaced_handset_s_old_credentials_die_and_the_new_one_makes_first_contact() {
    let server = TestServer::start().await;
    let password = first_contact(&server).await;
    assert_eq!(proven_fetch(&server, "001565a1b2c3", &password).await, 200);
    let acme = server.app.admin.tenant("Acme").await.unwrap();
    let before = server.app.admin.device_detail(acme.id, MAC).await.unwrap();
    let new = server
        .app
        .admin
        .device_replace(acme.id, MAC, "00:15:65:00:00:99")
        .await
        .unwrap();
    assert_eq!(new.phone_id, before.view.device.phone_id);
    let old = proven_fetch(&server, "001565a1b2c3", &password).await;
    let unknown = proven_fetch(&server, "001565ffffff", &password).await;
    assert_eq!((old, unknown), (404, 404));
    let (status, _, _) = server.fetch(FILE, None).await;
    assert_eq!(status, 404);
    let (status, _, body) = server
        .fetch(
            "/001565000099.cfg",
            Some("Yealink SIP-T54W 96.86.0.100 00:15:65:00:00:99"),
        )
        .await;
    assert_eq!(status, 200, "the new MAC's first contact");
    assert_eq!(line(&body, "account.1.display_name"), Some("Ada Lovelace"));
    let new_password = line(&body, "static.auto_provision.server.password").unwrap();
    assert_ne!(new_password, password);
    assert_eq!(
        proven_fetch(&server, "001565000099", new_password).await,
        200
    );
}

/// Nothing on the phone path waits for the rollout records: a refused request of a device
/// that was removed meanwhile is dropped quietly at the flush.
#[tokio::test]
async fn a_refusal_of_a_device_removed_meanwhile_is_dropped() {
    let server = TestServer::start().await;
    walkthrough_with(&server.app, &[]).await;
    let acme = server.app.admin.tenant("Acme").await.unwrap();
    close_window(&server, MAC).await;
    assert_eq!(proven_fetch(&server, "001565a1b2c3", "wrong").await, 404);
    server.app.admin.device_remove(acme.id, MAC).await.unwrap();
    server.app.provisioner.flush_seen().await;
    add_device(&server, MAC).await;
    let d = server.app.admin.device_detail(acme.id, MAC).await.unwrap();
    assert!(d.view.last_failure.is_none() && !d.view.failing);
}
