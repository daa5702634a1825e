//! The portal rules (seeds 000–004) through the REST API, each with its error answer, and what
//! reaches the phone's next fetch.

use serde_json::{json, Value};

use crate::api::{call, setup, Tokens};
use crate::support::{TestServer, UA};

const FILE: &str = "/001565a1b2c3.cfg";
const ADA: &str = "+4930123456";

/// Adds numbers to Acme's Berlin site (active unless said) as the operator.
async fn numbers(server: &TestServer, t: &Tokens, list: &[(&str, &str)]) {
    for (number, status) in list {
        let (s, body) = call(
            server,
            "POST",
            "/api/v1/tenants/Acme/numbers",
            Some(&t.platform),
            Some(json!({ "number": number, "status": status })),
        )
        .await;
        assert_eq!(s, 201, "{body}");
    }
}

async fn phone_file(server: &TestServer) -> String {
    let (status, _, body) = server.fetch(FILE, Some(UA)).await;
    assert_eq!(status, 200);
    body
}

fn path(rest: &str) -> String {
    format!("/api/v1/tenants/Acme/{rest}")
}

#[tokio::test]
async fn number_list_actions_labels_and_search() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let a = Some(t.acme_admin.as_str());
    numbers(
        &server,
        &t,
        &[("+4930123400", "active"), ("+4930123401", "reserved")],
    )
    .await;
    let (s, _) = call(
        &server,
        "POST",
        &path("numbers"),
        Some(&t.platform),
        Some(json!({ "number": "+4930123000", "status": "active", "main": true })),
    )
    .await;
    assert_eq!(s, 201);
    // A second site sorts before Berlin: the list defaults to it (empty), `site` picks.
    let (s, _) = call(
        &server,
        "POST",
        &path("sites"),
        a,
        Some(json!({ "name": "Aachen", "sip_domain": "sip.example.com" })),
    )
    .await;
    assert_eq!(s, 201);
    let (_, list) = call(&server, "GET", &path("numbers"), a, None).await;
    assert_eq!(list.as_array().unwrap().len(), 0, "{list}");
    let (_, list) = call(&server, "GET", &path("numbers?site=Berlin"), a, None).await;
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 4, "{list}");
    let row = |n: &str| rows.iter().find(|r| r["e164"] == n).unwrap().clone();
    assert_eq!(row("+4930123000")["assigned_to"], "Main Number");
    assert_eq!(row(ADA)["assigned_to"], "Ada Lovelace");
    assert_eq!(row(ADA)["extension"], "3456");
    assert_eq!(row(ADA)["logged_in"]["mac"], "001565a1b2c3");
    assert_eq!(row("+4930123401")["status"], "reserved");
    assert_eq!(row("+4930123401")["default_pin"].as_str().unwrap().len(), 6);

    // TKG §66k: no premium or mass-calling number as a tenant's number.
    let (s, body) = call(
        &server,
        "POST",
        &path("numbers"),
        Some(&t.platform),
        Some(json!({ "number": "+4913799999" })),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("number"))
    );
    assert!(
        body["detail"].as_str().unwrap().contains("mass-calling"),
        "{body}"
    );

    // Actions: not on the main number, not on a reserved one.
    let (s, body) = call(
        &server,
        "POST",
        &path("numbers/+4930123000/reset-pin"),
        a,
        None,
    )
    .await;
    assert_eq!(s, 409);
    assert!(
        body["detail"].as_str().unwrap().contains("read-only"),
        "{body}"
    );
    let (s, body) = call(
        &server,
        "POST",
        &path("numbers/+4930123401/reset-pin"),
        a,
        None,
    )
    .await;
    assert_eq!(s, 409);
    assert!(
        body["detail"].as_str().unwrap().contains("reserved"),
        "{body}"
    );
    // The operator activates it; a tenant admin may not.
    let (s, _) = call(
        &server,
        "POST",
        &path("numbers/+4930123401/status"),
        a,
        Some(json!({ "status": "active" })),
    )
    .await;
    assert_eq!(s, 403);
    let (s, n) = call(
        &server,
        "POST",
        &path("numbers/+4930123401/status"),
        Some(&t.platform),
        Some(json!({ "status": "active" })),
    )
    .await;
    assert_eq!((s, n["status"].as_str()), (200, Some("active")));

    // The label overrides the user's name in the list and on the phone, the assignment stays.
    let (s, n) = call(
        &server,
        "PUT",
        &path(&format!("numbers/{ADA}/label")),
        a,
        Some(json!({ "first": "Front", "last": "Desk" })),
    )
    .await;
    assert_eq!((s, n["label_first"].as_str()), (200, Some("Front")), "{n}");
    assert!(phone_file(&server)
        .await
        .contains("account.1.display_name = Front Desk"));
    let (_, user) = call(&server, "GET", &path("users/Ada Lovelace"), a, None).await;
    assert_eq!(user["number"], ADA);
    // Search: by number, and by "assigned to" (the label now).
    let (_, found) = call(
        &server,
        "GET",
        &path("numbers?site=Berlin&q=front"),
        a,
        None,
    )
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    let (_, found) = call(&server, "GET", &path("numbers?site=all&q=12340"), a, None).await;
    assert_eq!(found.as_array().unwrap().len(), 2, "{found}");
    let (s, body) = call(
        &server,
        "PUT",
        &path(&format!("numbers/{ADA}/label")),
        a,
        Some(json!({ "first": "x".repeat(65) })),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("label_first"))
    );

    // Assign: only to a user without a number; unassign gives it back.
    let (s, body) = call(
        &server,
        "POST",
        &path("numbers/+4930123400/assign"),
        a,
        Some(json!({ "user": "Ada Lovelace" })),
    )
    .await;
    assert_eq!(s, 409);
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("already has a number"));
    server
        .app
        .admin
        .user_add(
            server.app.admin.tenant("Acme").await.unwrap().id,
            &autoprov::admin::UserInput {
                first_name: "Grace".into(),
                last_name: "Hopper".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (s, body) = call(
        &server,
        "POST",
        &path("numbers/+4930123400/assign"),
        a,
        Some(json!({ "user": "Grace Hopper" })),
    )
    .await;
    assert_eq!(s, 409, "a pending user's configuration is fixed");
    assert!(
        body["detail"].as_str().unwrap().contains("pending"),
        "{body}"
    );
    let (s, _) = call(
        &server,
        "POST",
        &path("users/Grace Hopper/activate"),
        Some(&t.platform),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        &server,
        "POST",
        &path("numbers/+4930123400/assign"),
        a,
        Some(json!({ "user": "Grace Hopper" })),
    )
    .await;
    assert_eq!(s, 200);
    let (_, grace) = call(&server, "GET", &path("users/Grace Hopper"), a, None).await;
    assert_eq!(
        (grace["number"].as_str(), grace["extension"].as_str()),
        (Some("+4930123400"), Some("3400"))
    );
    let (s, _) = call(
        &server,
        "PATCH",
        &path("numbers/+4930123400/features"),
        a,
        Some(json!({ "forward_always": "+4930999000" })),
    )
    .await;
    assert_eq!(s, 200);
    let (_, before) = call(&server, "GET", &path("numbers/+4930123400"), a, None).await;
    let (s, n) = call(
        &server,
        "POST",
        &path("numbers/+4930123400/unassign"),
        a,
        None,
    )
    .await;
    assert_eq!(s, 200);
    // Grace could read the default PIN: the number gets a new one.
    assert_ne!(n["default_pin"], before["default_pin"], "{n}");
    // The next holder does not inherit Grace's forwarding (or PIN).
    assert!(n["features"]["forward_always"].is_null(), "{n}");
    let (_, grace) = call(&server, "GET", &path("users/Grace Hopper"), a, None).await;
    assert!(grace["number"].is_null());

    // A number in use cannot go back to reserved: assigned, or logged in to a handset.
    let to_reserved = |n: &'static str| {
        let server = &server;
        let p = t.platform.clone();
        async move {
            call(
                server,
                "POST",
                &path(&format!("numbers/{n}/status")),
                Some(&p),
                Some(json!({ "status": "reserved" })),
            )
            .await
        }
    };
    let (s, body) = to_reserved(ADA).await;
    assert_eq!(s, 409);
    assert!(
        body["detail"].as_str().unwrap().contains("assigned to Ada"),
        "{body}"
    );
    let (s, _) = call(
        &server,
        "POST",
        &path("devices"),
        a,
        Some(json!({ "mac": "001565000400", "model": "T54W", "site": "Berlin" })),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = call(
        &server,
        "POST",
        &path("numbers/+4930123400/login"),
        a,
        Some(json!({ "mac": "00:15:65:00:04:00" })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = to_reserved("+4930123400").await;
    assert_eq!(s, 409);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("logged in to handset"),
        "{body}"
    );
}

#[tokio::test]
async fn pins_default_custom_reset_and_lock() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let a = Some(t.acme_admin.as_str());
    let u = Some(t.acme_user.as_str());
    let pin = |p: &str| Some(json!({ "pin": p }));
    let (_, n) = call(&server, "GET", &path(&format!("numbers/{ADA}")), u, None).await;
    let default = n["default_pin"].as_str().unwrap().to_owned();
    assert_eq!(n["custom_pin"], false);
    let verify = format!("numbers/{ADA}/verify-pin");
    let (s, _) = call(&server, "POST", &path(&verify), u, pin(&default)).await;
    assert_eq!(s, 204);
    // The custom PIN is the user's: an admin cannot set it; trivial PINs are refused.
    let set = format!("numbers/{ADA}/pin");
    let (s, _) = call(&server, "PUT", &path(&set), a, pin("4711")).await;
    assert_eq!(s, 403);
    for bad in ["1234", "0000", "12", &default] {
        let (s, body) = call(&server, "PUT", &path(&set), u, pin(bad)).await;
        assert_eq!(
            (s, body["errors"][0]["field"].as_str()),
            (422, Some("pin")),
            "{bad}"
        );
    }
    let (s, n) = call(&server, "PUT", &path(&set), u, pin("4711")).await;
    assert_eq!((s, n["custom_pin"].as_bool()), (200, Some(true)));
    assert!(
        !n.to_string().contains("4711"),
        "the custom PIN is never shown"
    );
    let (s, _) = call(&server, "POST", &path(&verify), u, pin(&default)).await;
    assert_eq!(s, 422, "the default no longer works");
    let (s, _) = call(&server, "POST", &path(&verify), u, pin("4711")).await;
    assert_eq!(s, 204);
    // Three wrong in a row lock it, the right one too, until a reset.
    let mut last = Value::Null;
    for _ in 0..3 {
        last = call(&server, "POST", &path(&verify), u, pin("9999"))
            .await
            .1;
    }
    assert_eq!(last["status"], 423, "{last}");
    let (s, _) = call(&server, "POST", &path(&verify), u, pin("4711")).await;
    assert_eq!(s, 423);
    let (s, _) = call(&server, "PUT", &path(&set), u, pin("8642")).await;
    assert_eq!(
        s, 423,
        "a new PIN does not open the lock: the admin's reset does"
    );
    let (s, _) = call(
        &server,
        "POST",
        &path(&format!("numbers/{ADA}/reset-pin")),
        u,
        None,
    )
    .await;
    assert_eq!(s, 403, "resetting is the admin's");
    let (s, n) = call(
        &server,
        "POST",
        &path(&format!("numbers/{ADA}/reset-pin")),
        a,
        None,
    )
    .await;
    assert_eq!(
        (s, n["pin_locked"].as_bool(), n["custom_pin"].as_bool()),
        (200, Some(false), Some(false))
    );
    let (s, _) = call(&server, "POST", &path(&verify), u, pin(&default)).await;
    assert_eq!(s, 204);
}

#[tokio::test]
async fn features_forwarding_cli_and_tkg_66k() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let a = Some(t.acme_admin.as_str());
    numbers(
        &server,
        &t,
        &[("+4930123499", "active"), ("+4930123498", "reserved")],
    )
    .await;
    let features = path(&format!("numbers/{ADA}/features"));
    let patch = |body: Value| {
        let features = features.clone();
        let server = &server;
        async move { call(server, "PATCH", &features, a, Some(body)).await }
    };
    let (s, n) = patch(json!({ "forward_no_answer": "+4930999000", "voicemail": true })).await;
    assert_eq!(s, 200, "{n}");
    assert_eq!(n["features"]["forward_no_answer"], "+4930999000");
    // A merge: earlier settings stay.
    let (_, n) = patch(json!({ "call_waiting": true })).await;
    assert_eq!(n["features"]["voicemail"], true);
    let cases = [
        (
            json!({ "forward_busy": "+4930999001" }),
            "forward_busy",
            "call waiting",
        ),
        (
            json!({ "voicemail_email": "not-an-address" }),
            "voicemail_email",
            "e-mail",
        ),
        (
            json!({ "forward_always": "030123" }),
            "forward_always",
            "E.164",
        ),
        (json!({ "cli_enabled": true }), "cli_number", "choose"),
        (
            json!({ "cli_enabled": true, "cli_number": "+4913712345" }),
            "cli_number",
            "66k",
        ),
        (
            json!({ "cli_enabled": true, "cli_number": "+499001234567" }),
            "cli_number",
            "premium",
        ),
        (
            json!({ "cli_enabled": true, "cli_number": "+4930123498" }),
            "cli_number",
            "active",
        ),
        (
            json!({ "cli_enabled": true, "cli_number": "+4940999999" }),
            "cli_number",
            "not one of",
        ),
        (json!({ "colour": "red" }), "colour", "unknown field"),
    ];
    for (body, field, says) in cases {
        let (s, reply) = patch(body.clone()).await;
        assert_eq!(s, 422, "{body}: {reply}");
        assert_eq!(reply["errors"][0]["field"], field, "{body}: {reply}");
        assert!(
            reply["detail"].as_str().unwrap().contains(says),
            "{body}: {reply}"
        );
    }
    let (s, n) =
        patch(json!({ "cli_enabled": true, "cli_number": "+4930123499", "hide_caller_id": true }))
            .await;
    assert_eq!(
        (s, n["features"]["cli_number"].as_str()),
        (200, Some("+4930123499"))
    );
    // A number shown as someone's CLI stays active until they stop showing it.
    let (s, body) = call(
        &server,
        "POST",
        &path("numbers/+4930123499/status"),
        Some(&t.platform),
        Some(json!({ "status": "reserved" })),
    )
    .await;
    assert_eq!(s, 409);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("shown to callers by +4930123456"),
        "{body}"
    );
    // The user may change their own number's features, not someone else's.
    let (s, _) = call(
        &server,
        "PATCH",
        &features,
        Some(&t.acme_user),
        Some(json!({ "do_not_disturb": true })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        &server,
        "PATCH",
        &path("numbers/+4930123499/features"),
        Some(&t.acme_user),
        Some(json!({ "do_not_disturb": true })),
    )
    .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn handsets_by_phone_id_one_number_each_and_login_details() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let a = Some(t.acme_admin.as_str());
    numbers(&server, &t, &[("+4930123455", "active")]).await;
    let (_, device) = call(&server, "GET", &path("devices/001565a1b2c3"), a, None).await;
    let phone_id = device["phone_id"].as_str().unwrap().to_owned();
    assert_eq!(phone_id.len(), 6);
    let (_, same) = call(
        &server,
        "GET",
        &path(&format!("devices/{phone_id}")),
        a,
        None,
    )
    .await;
    assert_eq!(same["mac"], "001565a1b2c3");
    assert!(same["last_seen"].is_null());
    // Inside the allowed network, no credentials were issued: the window is still open.
    assert_eq!(same["state"], "awaiting-first-contact");
    assert_eq!(same["lines"][0]["number"], ADA);
    assert!(!same.to_string().contains("password"), "{same}");
    // Someone is logged in there: a second number is refused.
    let (s, body) = call(
        &server,
        "POST",
        &path("numbers/+4930123455/login"),
        a,
        Some(json!({ "phone_id": phone_id })),
    )
    .await;
    assert_eq!(s, 409);
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("someone is already logged in"));
    // Log Ada out: the phone loses the line at its next fetch; log her in by Phone ID.
    let (s, _) = call(
        &server,
        "POST",
        &path(&format!("numbers/{ADA}/logout")),
        a,
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert!(!phone_file(&server).await.contains("account.1.user_name"));
    let (s, body) = call(
        &server,
        "POST",
        &path(&format!("numbers/{ADA}/logout")),
        a,
        None,
    )
    .await;
    assert_eq!(s, 409, "{body}");
    let (s, login) = call(
        &server,
        "POST",
        &path(&format!("numbers/{ADA}/login")),
        a,
        Some(json!({ "phone_id": phone_id.to_lowercase() })),
    )
    .await;
    assert_eq!(s, 200, "{login}");
    let first = login["sip_password"].as_str().unwrap().to_owned();
    assert!(phone_file(&server)
        .await
        .contains(&format!("account.1.password = {first}")));
    // The login details are shown once: never in a GET.
    for get in [
        "numbers?site=all",
        "devices",
        "users",
        &format!("numbers/{ADA}"),
    ] {
        let (_, body) = call(&server, "GET", &path(get), a, None).await;
        assert!(!body.to_string().contains(&first), "{get}");
    }
    // New login details: a new password, which the phone gets at its next fetch.
    let (s, again) = call(
        &server,
        "POST",
        &path(&format!("numbers/{ADA}/login-details")),
        a,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let second = again["sip_password"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let file = phone_file(&server).await;
    assert!(
        file.contains(&format!("account.1.password = {second}")),
        "{file}"
    );
    // Bulk: one password for the chosen users, as CSV.
    let resp = server
        .admin_client
        .post(server.admin_url(&path("users/device-passwords?format=csv")))
        .header("Authorization", format!("Bearer {}", t.acme_admin))
        .header("Content-Type", "application/json")
        .body(json!({ "users": ["Ada Lovelace"], "password": "Sommer-2026!" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = resp.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "first_name,last_name,number,phone_id,mac,position,sip_user,sip_password"
    );
    assert_eq!(
        lines.next().unwrap(),
        format!("Ada,Lovelace,{ADA},{phone_id},001565a1b2c3,1,4930123456,Sommer-2026!")
    );
    assert!(phone_file(&server)
        .await
        .contains("account.1.password = Sommer-2026!"));
    let (s, body) = call(
        &server,
        "POST",
        &path("users/device-passwords"),
        a,
        Some(json!({ "password": "short" })),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("password"))
    );
    // A number logs in to handsets at its own site only.
    let (s, _) = call(
        &server,
        "POST",
        &path("sites"),
        a,
        Some(json!({ "name": "Hamburg", "sip_domain": "sip.example.com" })),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = call(
        &server,
        "POST",
        &path("numbers"),
        Some(&t.platform),
        Some(json!({ "number": "+494012345", "site": "Hamburg", "status": "active" })),
    )
    .await;
    assert_eq!(s, 201);
    let (s, _) = call(
        &server,
        "POST",
        &path("devices"),
        a,
        Some(json!({ "mac": "001565000999", "model": "T54W" })),
    )
    .await;
    assert_eq!(s, 201);
    let (s, body) = call(
        &server,
        "POST",
        &path("numbers/+494012345/login"),
        a,
        Some(json!({ "mac": "001565000999" })),
    )
    .await;
    assert_eq!(s, 409);
    assert!(
        body["detail"].as_str().unwrap().contains("another site"),
        "{body}"
    );
    // Move the handset to Hamburg: then it takes Hamburg's number. A handset with a line stays.
    let (s, body) = call(
        &server,
        "PATCH",
        &path(&format!("devices/{phone_id}")),
        a,
        Some(json!({ "site": "Hamburg" })),
    )
    .await;
    assert_eq!(s, 409, "{body}");
    let (s, _) = call(
        &server,
        "PATCH",
        &path("devices/001565000999"),
        a,
        Some(json!({ "site": "Hamburg" })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = call(
        &server,
        "POST",
        &path("numbers/+494012345/login"),
        a,
        Some(json!({ "mac": "001565000999" })),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    // Neither the handset nor MAC given: the field is named.
    let (s, body) = call(
        &server,
        "POST",
        &path("numbers/+4930123455/login"),
        a,
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("phone_id"))
    );
}

#[tokio::test]
async fn users_mobile_licences_app_registration_and_options() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let a = Some(t.acme_admin.as_str());
    let p = Some(t.platform.as_str());
    // Licence pools: the operator sizes them; users draw from them.
    let (s, _) = call(
        &server,
        "PUT",
        &path("licences/app"),
        a,
        Some(json!({ "total": 1 })),
    )
    .await;
    assert_eq!(s, 403);
    let (s, pools) = call(
        &server,
        "PUT",
        &path("licences/app"),
        p,
        Some(json!({ "total": 1 })),
    )
    .await;
    assert_eq!(s, 200, "{pools}");
    let (s, user) = call(
        &server,
        "POST",
        &path("users"),
        a,
        Some(
            json!({ "first_name": "Kim", "last_name": "Mobile", "mobile": "+491701234567",
                     "contract_number": "K-1", "licences": ["app"] }),
        ),
    )
    .await;
    assert_eq!(
        (s, user["mobile"].as_str()),
        (201, Some("+491701234567")),
        "{user}"
    );
    let (s, body) = call(
        &server,
        "POST",
        &path("users"),
        a,
        Some(json!({ "first_name": "Lee", "last_name": "Late", "licences": ["app"] })),
    )
    .await;
    assert_eq!(s, 409);
    assert!(
        body["detail"].as_str().unwrap().contains("no app licence"),
        "{body}"
    );
    let (s, _) = call(&server, "GET", &path("users/Lee Late"), a, None).await;
    assert_eq!(s, 404, "a refused creation leaves no user behind");
    let (_, pools) = call(&server, "GET", &path("licences"), a, None).await;
    let app = pools
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "app")
        .unwrap()
        .clone();
    assert_eq!(
        (
            app["total"].as_i64(),
            app["assigned"].as_i64(),
            app["available"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
    let (s, _) = call(
        &server,
        "PUT",
        &path("licences/app"),
        p,
        Some(json!({ "total": 0 })),
    )
    .await;
    assert_eq!(s, 409, "a pool cannot fall below what is assigned");
    let (s, body) = call(
        &server,
        "PUT",
        &path("licences/fax"),
        p,
        Some(json!({ "total": 1 })),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("kind"))
    );

    // Pending: profile changes, configuration does not.
    let (s, _) = call(
        &server,
        "PATCH",
        &path("users/Kim Mobile"),
        a,
        Some(json!({ "first_name": "Kimberly" })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = call(
        &server,
        "PATCH",
        &path("users/Kimberly Mobile"),
        a,
        Some(json!({ "mobile": "+491709999999" })),
    )
    .await;
    assert_eq!(s, 409);
    assert!(body["detail"].as_str().unwrap().contains("pending"));
    let (s, _) = call(
        &server,
        "PUT",
        &path("users/Kimberly Mobile/licences"),
        a,
        Some(json!({ "licences": [] })),
    )
    .await;
    assert_eq!(s, 409);
    let (s, body) = call(
        &server,
        "PATCH",
        &path("users/Kimberly Mobile"),
        a,
        Some(json!({ "mobile": "0170 123" })),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("mobile"))
    );

    // App registration e-mail: changeable (each change re-invites) until registered.
    let kim = "users/Kimberly Mobile";
    let (_, u) = call(
        &server,
        "PATCH",
        &path(kim),
        a,
        Some(json!({ "app_email": "kim@example.com" })),
    )
    .await;
    assert_eq!(u["app_invitations"], 1);
    let (_, u) = call(
        &server,
        "PATCH",
        &path(kim),
        a,
        Some(json!({ "app_email": "kim@example.org" })),
    )
    .await;
    assert_eq!(
        (u["app_invitations"].as_i64(), u["app_login"].as_str()),
        (Some(2), None)
    );
    let (s, u) = call(
        &server,
        "POST",
        &path(&format!("{kim}/app-registration")),
        p,
        Some(json!({ "login": "kim.m" })),
    )
    .await;
    assert_eq!((s, u["app_login"].as_str()), (200, Some("kim.m")));
    let (s, body) = call(
        &server,
        "PATCH",
        &path(kim),
        a,
        Some(json!({ "app_email": "new@example.com" })),
    )
    .await;
    assert_eq!(s, 409);
    assert!(body["detail"].as_str().unwrap().contains("fixed"));

    // PBX options: each validated; hidden users leave the phones' directory.
    let (s, body) = call(
        &server,
        "PATCH",
        &path(kim),
        a,
        Some(json!({ "options": { "conference_pin": "1111" } })),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("conference_pin"))
    );
    let (s, body) = call(
        &server,
        "PATCH",
        &path(kim),
        a,
        Some(json!({ "options": { "displayed_number": "+4990012345678" } })),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("displayed_number"))
    );
    let (s, body) = call(
        &server,
        "PATCH",
        &path(kim),
        a,
        Some(json!({ "options": { "missed_call_email": true } })),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("missed_call_email"))
    );
    let (s, body) = call(
        &server,
        "PATCH",
        &path(kim),
        a,
        Some(json!({ "options": { "personal_conference_room": true } })),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("personal_conference_room"))
    );
    let (s, u) = call(
        &server,
        "PATCH",
        &path(kim),
        a,
        Some(json!({ "options": { "cti_access": true, "room_number": "204" } })),
    )
    .await;
    assert_eq!(
        (
            s,
            u["options"]["cti_access"].as_bool(),
            u["options"]["behind_nat"].as_bool()
        ),
        (200, Some(true), Some(true))
    );
    let directory = "/001565a1b2c3-directory.xml";
    let (_, _, before) = server.fetch(directory, Some(UA)).await;
    assert!(before.contains("Ada Lovelace"), "{before}");
    let (s, _) = call(
        &server,
        "PATCH",
        &path("users/Ada Lovelace"),
        Some(&t.acme_user),
        Some(json!({ "options": { "hidden_from_directory": true } })),
    )
    .await;
    assert_eq!(s, 200);
    let (_, _, after) = server.fetch(directory, Some(UA)).await;
    assert!(!after.contains("Ada Lovelace"), "{after}");
    // Self-service options only for the user; the rest is the admin's.
    let (s, _) = call(
        &server,
        "PATCH",
        &path("users/Ada Lovelace"),
        Some(&t.acme_user),
        Some(json!({ "options": { "cti_access": true } })),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = call(
        &server,
        "PATCH",
        &path("users/Ada Lovelace"),
        Some(&t.acme_user),
        Some(json!({ "options": { "push_missed": true } })),
    )
    .await;
    assert_eq!(s, 200);
    // A displayed number must be the tenant's own active number.
    let (s, body) = call(
        &server,
        "PATCH",
        &path("users/Ada Lovelace"),
        a,
        Some(json!({ "options": { "displayed_number": "+4930555555" } })),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("displayed_number"))
    );
    let (s, _) = call(
        &server,
        "PATCH",
        &path("users/Ada Lovelace"),
        a,
        Some(json!({ "options": { "displayed_number": "+4930123456" } })),
    )
    .await;
    assert_eq!(s, 200);
    // Options that depend on something else keep it: the e-mail of missed-call e-mails, the
    // licence of a conference room.
    let (s, _) = call(
        &server,
        "PATCH",
        &path("users/Ada Lovelace"),
        a,
        Some(json!({ "email": "ada@example.com", "options": { "missed_call_email": true } })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = call(
        &server,
        "PATCH",
        &path("users/Ada Lovelace"),
        a,
        Some(json!({ "email": "" })),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("email"))
    );
    let (s, _) = call(
        &server,
        "PUT",
        &path("licences/conference-room"),
        p,
        Some(json!({ "total": 1 })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        &server,
        "PUT",
        &path("users/Ada Lovelace/licences"),
        a,
        Some(json!({ "licences": ["conference-room"] })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        &server,
        "PATCH",
        &path("users/Ada Lovelace"),
        a,
        Some(json!({ "options": { "personal_conference_room": true, "conference_pin": "2580" } })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, body) = call(
        &server,
        "PUT",
        &path("users/Ada Lovelace/licences"),
        a,
        Some(json!({ "licences": [] })),
    )
    .await;
    assert_eq!(s, 409);
    assert!(
        body["detail"].as_str().unwrap().contains("conference room"),
        "{body}"
    );
    // The audit trail keeps that a conference PIN is set, not the PIN; licences before/after.
    let (_, trail) = call(
        &server,
        "GET",
        &path("audit?entity=user&action=update&limit=1"),
        a,
        None,
    )
    .await;
    assert_eq!(
        trail[0]["after"]["options"]["conference_pin"], "(set)",
        "{trail}"
    );
    assert!(!trail.to_string().contains("2580"));
    let (_, trail) = call(
        &server,
        "GET",
        &path("audit?action=licences&limit=1"),
        a,
        None,
    )
    .await;
    assert_eq!(
        trail[0]["after"]["licences"],
        json!(["conference-room"]),
        "{trail}"
    );
    // A user may not change their own configuration.
    let (s, _) = call(
        &server,
        "PATCH",
        &path("users/Ada Lovelace"),
        Some(&t.acme_user),
        Some(json!({ "extension": "99" })),
    )
    .await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn trunks_need_a_preferred_one_when_several() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let p = Some(t.platform.as_str());
    let a = Some(t.acme_admin.as_str());
    numbers(&server, &t, &[("+4930123460", "active")]).await;
    for name in ["Trunk A", "Trunk B"] {
        let (s, _) = call(
            &server,
            "POST",
            &path("sites/Berlin/trunks"),
            p,
            Some(json!({ "name": name })),
        )
        .await;
        assert_eq!(s, 201);
    }
    let (s, body) = call(
        &server,
        "POST",
        &path("users"),
        a,
        Some(json!({ "first_name": "Ext", "last_name": "Ension", "number": "+4930123460", "extension": "77" })),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("trunk")),
        "{body}"
    );
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("Trunk A, Trunk B"));
    // With a trunk chosen; the internal number (77) need not match the external one.
    let (s, u) = call(
        &server,
        "POST",
        &path("users"),
        a,
        Some(json!({ "first_name": "Ext", "last_name": "Ension", "number": "+4930123460", "extension": "77", "trunk": "Trunk B" })),
    )
    .await;
    assert_eq!((s, u["extension"].as_str()), (201, Some("77")), "{u}");
    assert!(u["trunk_id"].is_i64());
}

#[tokio::test]
async fn blf_permissions_gate_monitor_lists_that_become_keys() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let a = Some(t.acme_admin.as_str());
    let u = Some(t.acme_user.as_str());
    numbers(&server, &t, &[("+4930123470", "active")]).await;
    let (s, _) = call(
        &server,
        "POST",
        &path("users"),
        a,
        Some(json!({ "first_name": "Bea", "last_name": "Busy", "number": "+4930123470" })),
    )
    .await;
    assert_eq!(s, 201);
    let monitors = path("users/Ada Lovelace/monitors");
    let (s, body) = call(
        &server,
        "POST",
        &monitors,
        u,
        Some(json!({ "user": "Bea Busy" })),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("watched")),
        "{body}"
    );
    // The admin grants; the user keeps her own list; the phone gets a BLF key.
    let (s, _) = call(
        &server,
        "POST",
        &path("blf-grants"),
        u,
        Some(json!({ "watched": "Bea Busy" })),
    )
    .await;
    assert_eq!(s, 403);
    let (s, grant) = call(
        &server,
        "POST",
        &path("blf-grants"),
        a,
        Some(json!({ "watched": "Bea Busy", "watcher": "Ada Lovelace" })),
    )
    .await;
    assert_eq!(s, 201);
    let (s, list) = call(
        &server,
        "POST",
        &monitors,
        u,
        Some(json!({ "user": "Bea Busy" })),
    )
    .await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(1)));
    // A colleague as a monitor list shows them: nothing private.
    assert_eq!(list[0]["name"], "Bea Busy");
    assert!(
        list[0].get("options").is_none() && list[0].get("mobile").is_none(),
        "{list}"
    );
    let file = phone_file(&server).await;
    assert!(
        file.contains("linekey.2.type = 16") && file.contains("linekey.2.value = 3470"),
        "{file}"
    );
    // The number's label names the key, as everywhere the user is shown.
    let (s, _) = call(
        &server,
        "PUT",
        &path("numbers/+4930123470/label"),
        a,
        Some(json!({ "first": "Sales", "last": "Desk" })),
    )
    .await;
    assert_eq!(s, 200);
    assert!(phone_file(&server)
        .await
        .contains("linekey.2.label = Sales Desk"));
    let (s, body) = call(&server, "DELETE", &path("blf-grants/abc"), a, None).await;
    assert_eq!(s, 404, "{body}");
    // Withdrawing the grant takes the key away at the next fetch.
    let (s, _) = call(
        &server,
        "DELETE",
        &path(&format!("blf-grants/{}", grant["id"])),
        a,
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (_, list) = call(&server, "GET", &monitors, u, None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(0));
    assert!(!phone_file(&server).await.contains("linekey.2.type = 16"));
}

#[tokio::test]
async fn the_audit_trail_records_who_did_what() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let a = Some(t.acme_admin.as_str());
    let (s, _) = call(
        &server,
        "PATCH",
        &path("users/Ada Lovelace"),
        a,
        Some(json!({ "last_name": "Byron" })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, list) = call(
        &server,
        "GET",
        &path("audit?entity=user&action=update"),
        a,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let e = &list[0];
    assert!(
        e["actor"].as_str().unwrap().ends_with("tenant-admin"),
        "{e}"
    );
    assert_eq!(
        (
            e["before"]["last_name"].as_str(),
            e["after"]["last_name"].as_str()
        ),
        (Some("Lovelace"), Some("Byron"))
    );
    let (_, all) = call(&server, "GET", &path("audit?limit=500"), a, None).await;
    let text = all.to_string();
    assert!(
        !text.contains("password") && !text.contains("pin_hash"),
        "no secrets in the audit: {text}"
    );
    // Filters: by actor, and the page size is bounded.
    let (_, mine) = call(
        &server,
        "GET",
        &path(&format!(
            "audit?actor={}",
            urlencode(e["actor"].as_str().unwrap())
        )),
        a,
        None,
    )
    .await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    let (s, body) = call(&server, "GET", &path("audit?limit=100000"), a, None).await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("limit"))
    );
    // Tokens: their creation (role, never the secret) and revocation are on record too.
    let id = crate::api::token_id(&server, &t.acme_user).await;
    server.app.admin.token_revoke(id).await.unwrap();
    let (_, tokens) = call(&server, "GET", &path("audit?entity=token"), a, None).await;
    let actions: Vec<(&str, &str)> = tokens
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["after"]["role"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("revoke", "-"),
            ("create", "user"),
            ("create", "tenant-admin")
        ]
    );
    assert!(!tokens.to_string().contains(&t.acme_user), "{tokens}");
    // The operator's trail holds every tenant's entries and the platform's own tokens.
    let platform_id = crate::api::token_id(&server, &t.platform).await;
    let (s, all) = call(
        &server,
        "GET",
        "/api/v1/audit?entity=token&limit=500",
        Some(&t.platform),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let platform_token = all
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity_id"] == platform_id)
        .unwrap_or_else(|| panic!("{all}"));
    assert!(
        platform_token["tenant_id"].is_null()
            && platform_token["after"]["role"] == "platform-admin"
    );
    // Deleting a user leaves a record with the user as they were.
    let (s, _) = call(&server, "DELETE", &path("users/Ada Byron"), a, None).await;
    assert_eq!(s, 204);
    let (_, gone) = call(
        &server,
        "GET",
        &path("audit?entity=user&action=delete"),
        a,
        None,
    )
    .await;
    assert_eq!(gone[0]["before"]["first_name"], "Ada");
    assert!(gone[0]["after"].is_null());
}

fn urlencode(s: &str) -> String {
    s.replace(' ', "%20").replace(':', "%3A")
}

#[tokio::test]
async fn malformed_bodies_and_paging() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let send = |body: &'static str, content_type: Option<&'static str>| {
        let mut req = server
            .admin_client
            .post(server.admin_url(&path("users")))
            .header("Authorization", format!("Bearer {}", t.acme_admin))
            .body(body);
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
            let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
            (status, ct, body)
        }
    };
    let (s, ct, body) = send("{\"first_name\": ", Some("application/json")).await;
    assert_eq!(
        (s, ct.as_str()),
        (400, "application/problem+json"),
        "{body}"
    );
    let (s, _, body) = send(
        "{\"first_name\": \"A\", \"last_name\": \"B\", \"shoe\": 1}",
        Some("application/json"),
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("shoe")),
        "{body}"
    );
    let (s, _, body) = send("{\"first_name\": \"A\"}", Some("application/json")).await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("last_name")),
        "{body}"
    );
    let (s, _, body) = send(
        "{\"first_name\": 5, \"last_name\": \"B\"}",
        Some("application/json"),
    )
    .await;
    assert_eq!(s, 422, "{body}");
    let (s, _, _) = send("{}", None).await;
    assert_eq!(s, 415);

    // Paging: X-Total-Count holds the total, limit and offset cut the page.
    for n in 0..5 {
        let (s, _) = call(
            &server,
            "POST",
            &path("users"),
            Some(&t.acme_admin),
            Some(json!({ "first_name": format!("Page{n}"), "last_name": "Person" })),
        )
        .await;
        assert_eq!(s, 201);
    }
    let resp = server
        .admin_client
        .get(server.admin_url(&path("users?q=person&limit=2&offset=1")))
        .header("Authorization", format!("Bearer {}", t.acme_admin))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-total-count"], "5");
    let page: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    let names: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["first_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Page1", "Page2"]);
    let (s, body) = call(
        &server,
        "GET",
        &path("users?limit=0"),
        Some(&t.acme_admin),
        None,
    )
    .await;
    assert_eq!(
        (s, body["errors"][0]["field"].as_str()),
        (422, Some("limit"))
    );
}
