//! The admin rules of the security review (issue 10, items 11, 13b, 13c), each through the REST
//! API as an attacker would try it: another tenant's MACs, a colleague's number as CLI, and text
//! that hides line breaks or shows nothing.

use serde_json::{json, Value};

use crate::api::{call, setup, Tokens};
use crate::support::{TestServer, MAC, UA};

/// Gives Other a site of its own (it has none after `setup`), trusting loopback like Acme's.
async fn other_site(server: &TestServer, t: &Tokens) {
    let (s, body) = call(
        server,
        "POST",
        "/api/v1/tenants/Other/sites",
        Some(&t.platform),
        Some(json!({ "name": "Bonn", "sip_domain": "sip.other.example", "allowed_networks": ["127.0.0.0/8"] })),
    )
    .await;
    assert_eq!(s, 201, "{body}");
}

async fn register(server: &TestServer, token: &str, tenant: &str, mac: &str) -> (u16, Value) {
    call(
        server,
        "POST",
        &format!("/api/v1/tenants/{tenant}/devices"),
        Some(token),
        Some(json!({ "mac": mac, "model": "T54W" })),
    )
    .await
}

/// A conflict's body with the MAC it names blanked out, to compare answers about two MACs.
fn without(body: &Value, mac: &str) -> String {
    body.to_string().replace(mac, "<mac>")
}

#[tokio::test]
async fn issue_10_another_tenants_mac_gets_the_answer_of_any_registration_conflict() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    other_site(&server, &t).await;
    // Other's own conflict: a MAC it registered itself, registered again.
    let own = "001565000b01";
    assert_eq!(register(&server, &t.other_admin, "Other", own).await.0, 201);
    let (status, mine) = register(&server, &t.other_admin, "Other", own).await;
    assert_eq!(status, 409, "{mine}");
    // Acme's registered MAC, and one the operator reserved for Acme (registered nowhere).
    let reserved = "001565000a02";
    let (s, body) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/device-reservations",
        Some(&t.platform),
        Some(json!({ "macs": [reserved] })),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    for theirs in ["001565a1b2c3", reserved] {
        let (status, body) = register(&server, &t.other_admin, "Other", theirs).await;
        assert_eq!(status, 409, "{theirs}: {body}");
        assert_eq!(without(&body, theirs), without(&mine, own), "{theirs}");
        assert!(!body.to_string().contains("Acme"), "{body}");
    }
    // Nothing of Acme's reached Other's list.
    let (_, list) = call(
        &server,
        "GET",
        "/api/v1/tenants/Other/devices",
        Some(&t.other_admin),
        None,
    )
    .await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
}

#[tokio::test]
async fn issue_10_a_reserved_mac_is_registered_only_by_its_tenant() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    other_site(&server, &t).await;
    let p = Some(t.platform.as_str());
    let (first, second) = ("001565000a01", "00:15:65:00:0a:02");
    // Reservations are the operator's: a tenant admin may neither make nor read them.
    let reserve = json!({ "macs": [first, second, first] });
    let (s, _) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/device-reservations",
        Some(&t.acme_admin),
        Some(reserve.clone()),
    )
    .await;
    assert_eq!(s, 403);
    let (s, body) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/device-reservations",
        p,
        Some(reserve),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let (s, list) = call(
        &server,
        "GET",
        "/api/v1/tenants/Acme/device-reservations",
        p,
        None,
    )
    .await;
    let macs: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mac"].as_str().unwrap())
        .collect();
    assert_eq!((s, macs), (200, vec![first, "001565000a02"]));
    let (s, _) = call(
        &server,
        "GET",
        "/api/v1/tenants/Acme/device-reservations",
        Some(&t.acme_admin),
        None,
    )
    .await;
    assert_eq!(s, 403);

    // Other cannot claim Acme's reserved MAC (the generic conflict); Acme can register it.
    let (s, body) = register(&server, &t.other_admin, "Other", first).await;
    assert_eq!(s, 409, "{body}");
    assert!(!body.to_string().contains("Acme"), "{body}");
    let (s, body) = register(&server, &t.acme_admin, "Acme", first).await;
    assert_eq!(s, 201, "{body}");

    // The operator is told who holds a MAC: registered in, or reserved for, another tenant.
    for (mac, says) in [
        (MAC, "registered in tenant \"Acme\""),
        (second, "reserved for tenant \"Acme\""),
    ] {
        let (s, body) = call(
            &server,
            "POST",
            "/api/v1/tenants/Other/device-reservations",
            p,
            Some(json!({ "macs": ["001565000c01", mac] })),
        )
        .await;
        assert_eq!(s, 409, "{body}");
        assert!(body["detail"].as_str().unwrap().contains(says), "{body}");
    }
    // All or none: the free MAC of the refused call was not reserved either.
    let (_, list) = call(
        &server,
        "GET",
        "/api/v1/tenants/Other/device-reservations",
        p,
        None,
    )
    .await;
    assert_eq!(list, json!([]));

    // Released, the MAC is anyone's again.
    let (s, _) = call(
        &server,
        "DELETE",
        "/api/v1/tenants/Acme/device-reservations/001565000a02",
        p,
        None,
    )
    .await;
    assert_eq!(s, 204);
    let (s, _) = call(
        &server,
        "DELETE",
        "/api/v1/tenants/Acme/device-reservations/001565000a02",
        p,
        None,
    )
    .await;
    assert_eq!(s, 404);
    let (s, body) = register(&server, &t.other_admin, "Other", second).await;
    assert_eq!(s, 201, "{body}");

    // Every reservation change is in Acme's trail, with its actor.
    let (_, trail) = call(
        &server,
        "GET",
        "/api/v1/tenants/Acme/audit?entity=device-reservation",
        p,
        None,
    )
    .await;
    let entries: Vec<(&str, &str, String)> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor"].as_str().unwrap(),
                e["after"].to_string(),
            )
        })
        .collect();
    assert_eq!(entries.len(), 2, "{trail}");
    assert_eq!(entries[0].0, "release");
    assert!(entries[0].2.contains("001565000a02"), "{trail}");
    assert_eq!(entries[1].0, "reserve");
    assert!(entries[1].1.ends_with("platform-admin"), "{trail}");
    assert!(entries[1].2.contains(first), "{trail}");
}

#[tokio::test]
async fn issue_10_the_operator_moves_a_wrongly_claimed_handset_to_its_tenant() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    other_site(&server, &t).await;
    let p = Some(t.platform.as_str());
    let o = Some(t.other_admin.as_str());
    // Other claims a handset Acme bought, and logs one of its own numbers in to it.
    let claimed = "001565000d01";
    let ua = "Yealink SIP-T54W 96.86.0.100 00:15:65:00:0d:01";
    assert_eq!(
        register(&server, &t.other_admin, "Other", claimed).await.0,
        201
    );
    let (s, _) = call(
        &server,
        "POST",
        "/api/v1/tenants/Other/numbers",
        p,
        Some(json!({ "number": "+4922812345", "status": "active" })),
    )
    .await;
    assert_eq!(s, 201);
    let (s, body) = call(
        &server,
        "POST",
        &format!("/api/v1/tenants/Other/devices/{claimed}/login"),
        o,
        Some(json!({ "number": "+4922812345" })),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let (_, _, file) = server.fetch(&format!("/{claimed}.cfg"), Some(ua)).await;
    assert!(
        file.contains("at site Bonn") && file.contains("4922812345"),
        "{file}"
    );

    // Only the operator moves handsets between tenants.
    let to_acme = json!({ "tenant": "Acme", "site": "Berlin" });
    for token in [&t.other_admin, &t.acme_admin, &t.acme_user] {
        let (s, _) = call(
            &server,
            "POST",
            &format!("/api/v1/devices/{claimed}/move"),
            Some(token),
            Some(to_acme.clone()),
        )
        .await;
        assert_eq!(s, 403);
    }
    let (s, moved) = call(
        &server,
        "POST",
        &format!("/api/v1/devices/{claimed}/move"),
        p,
        Some(to_acme.clone()),
    )
    .await;
    assert_eq!(s, 200, "{moved}");
    assert_eq!(moved["lines_logged_out"], json!(["+4922812345"]));
    assert_eq!(moved["device"]["mac"], claimed);
    let again = call(
        &server,
        "POST",
        &format!("/api/v1/devices/{claimed}/move"),
        p,
        Some(to_acme),
    )
    .await;
    assert_eq!(again.0, 409, "{}", again.1);

    // Acme has it, Other does not, and Other's number is free of it.
    let (s, detail) = call(
        &server,
        "GET",
        &format!("/api/v1/tenants/Acme/devices/{claimed}"),
        Some(&t.acme_admin),
        None,
    )
    .await;
    assert_eq!((s, detail["lines"].clone()), (200, json!([])), "{detail}");
    let (s, _) = call(
        &server,
        "GET",
        &format!("/api/v1/tenants/Other/devices/{claimed}"),
        o,
        None,
    )
    .await;
    assert_eq!(s, 404);
    let (_, list) = call(
        &server,
        "GET",
        "/api/v1/tenants/Other/numbers?site=all",
        o,
        None,
    )
    .await;
    assert!(list[0]["logged_in"].is_null(), "{list}");
    // The phone's next fetch is Acme's file, without Other's line.
    let (_, _, file) = server.fetch(&format!("/{claimed}.cfg"), Some(ua)).await;
    assert!(file.contains("at site Berlin"), "{file}");
    assert!(
        !file.contains("4922812345") && !file.contains("sip.other.example"),
        "{file}"
    );

    // Both trails have the move.
    for (tenant, token) in [("Acme", &t.acme_admin), ("Other", &t.other_admin)] {
        let (_, trail) = call(
            &server,
            "GET",
            &format!("/api/v1/tenants/{tenant}/audit?action=move-tenant"),
            Some(token),
            None,
        )
        .await;
        assert_eq!(trail.as_array().map(Vec::len), Some(1), "{tenant}: {trail}");
        assert!(
            trail[0]["before"]["lines_logged_out"] == json!(["+4922812345"]),
            "{trail}"
        );
    }
    // A MAC reserved for a third tenant does not move elsewhere.
    let (s, _) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/device-reservations",
        p,
        Some(json!({ "macs": [MAC] })),
    )
    .await;
    assert_eq!(s, 201);
    let (s, body) = call(
        &server,
        "POST",
        &format!("/api/v1/devices/{MAC}/move"),
        p,
        Some(json!({ "tenant": "Other" })),
    )
    .await;
    assert_eq!(s, 409, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("reserved"),
        "{body}"
    );
    let (status, _, _) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn issue_10_a_user_cannot_show_a_colleagues_number_as_cli() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let p = Some(t.platform.as_str());
    let a = Some(t.acme_admin.as_str());
    let u = Some(t.acme_user.as_str());
    for (number, main) in [("+4930123401", false), ("+4930123400", true)] {
        let (s, body) = call(
            &server,
            "POST",
            "/api/v1/tenants/Acme/numbers",
            p,
            Some(json!({ "number": number, "status": "active", "main": main })),
        )
        .await;
        assert_eq!(s, 201, "{body}");
    }
    let (s, body) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/users",
        a,
        Some(json!({ "first_name": "Bob", "last_name": "Colleague", "number": "+4930123401" })),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    let features = "/api/v1/tenants/Acme/numbers/+4930123456/features";
    let cli = |n: &str| json!({ "cli_enabled": true, "cli_number": n });

    // Ada's token shows Bob's number: refused, naming the field, and nothing changes.
    let (s, body) = call(&server, "PATCH", features, u, Some(cli("+4930123401"))).await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "cli_number", "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("own number"),
        "{body}"
    );
    let (_, number) = call(
        &server,
        "GET",
        "/api/v1/tenants/Acme/numbers/+4930123456",
        u,
        None,
    )
    .await;
    assert!(number["features"]["cli_number"].is_null(), "{number}");

    // Her own number and her site's main number pass.
    for n in ["+4930123456", "+4930123400"] {
        let (s, body) = call(&server, "PATCH", features, u, Some(cli(n))).await;
        assert_eq!(s, 200, "{n}: {body}");
        assert_eq!(body["features"]["cli_number"], n);
    }
    // An admin may choose another number of the site; Ada then changes the rest around it.
    let (s, body) = call(&server, "PATCH", features, a, Some(cli("+4930123401"))).await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = call(
        &server,
        "PATCH",
        features,
        u,
        Some(json!({ "do_not_disturb": true })),
    )
    .await;
    assert_eq!(
        (s, body["features"]["cli_number"].as_str()),
        (200, Some("+4930123401")),
        "{body}"
    );
}

/// Characters no text may hold, put inside a name, and texts that show nothing.
fn bad_texts() -> Vec<String> {
    let mut texts: Vec<String> = [
        '\u{2028}',
        '\u{2029}',
        '\u{85}',
        '\u{FDD0}',
        '\u{FDEF}',
        '\u{FFFE}',
        '\u{FFFF}',
        '\u{10FFFF}',
    ]
    .iter()
    .map(|c| format!("A{c}da"))
    .collect();
    texts.extend(
        [
            "\u{200B}",
            "\u{200C}",
            "\u{200D}",
            "\u{2060}",
            "\u{FEFF}",
            "\u{200B}\u{FEFF}",
        ]
        .map(str::to_owned),
    );
    texts
}

#[tokio::test]
async fn issue_10_separators_noncharacters_and_invisible_names_are_refused_in_text_fields() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let a = Some(t.acme_admin.as_str());
    let p = Some(t.platform.as_str());
    let ada = "/api/v1/tenants/Acme/users/Ada Lovelace";
    let number = "/api/v1/tenants/Acme/numbers/+4930123456";
    let dials = "/api/v1/tenants/Acme/users/Ada Lovelace/speed-dials";
    for text in bad_texts() {
        let attempts: Vec<(&str, String, Value, &str)> = vec![
            (
                "PATCH",
                ada.to_owned(),
                json!({ "first_name": text }),
                "first_name",
            ),
            (
                "PATCH",
                ada.to_owned(),
                json!({ "last_name": text }),
                "last_name",
            ),
            (
                "PUT",
                format!("{number}/label"),
                json!({ "first": text }),
                "label_first",
            ),
            (
                "POST",
                "/api/v1/tenants/Acme/sites".to_owned(),
                json!({ "name": text, "sip_domain": "sip.example.com" }),
                "name",
            ),
            (
                "PUT",
                dials.to_owned(),
                json!([{ "label": text, "target": "+4930123401" }]),
                "label",
            ),
            (
                "POST",
                "/api/v1/tenants".to_owned(),
                json!({ "name": text }),
                "name",
            ),
            (
                "PATCH",
                ada.to_owned(),
                json!({ "email": format!("{text}@example.com") }),
                "email",
            ),
            (
                "POST",
                format!("{ada}/deactivate"),
                json!({ "announcement": text }),
                "announcement",
            ),
        ];
        for (method, path, body, field) in attempts {
            let token = if path == "/api/v1/tenants" { p } else { a };
            let (s, reply) = call(&server, method, &path, token, Some(body.clone())).await;
            assert_eq!(s, 422, "{method} {path} {body}: {reply}");
            assert_eq!(reply["errors"][0]["field"], field, "{body}: {reply}");
        }
    }
    // Nothing was stored.
    let (_, user) = call(&server, "GET", ada, a, None).await;
    assert_eq!(
        (
            &user["first_name"],
            &user["last_name"],
            &user["email"],
            &user["state"]
        ),
        (
            &json!("Ada"),
            &json!("Lovelace"),
            &Value::Null,
            &json!("active")
        ),
        "{user}"
    );
    let (_, n) = call(&server, "GET", number, a, None).await;
    assert!(n["label_first"].is_null(), "{n}");
    let (_, sites) = call(&server, "GET", "/api/v1/tenants/Acme/sites", a, None).await;
    assert_eq!(sites.as_array().map(Vec::len), Some(1), "{sites}");
    let (_, list) = call(&server, "GET", dials, a, None).await;
    assert_eq!(list, json!([]));
    let (_, tenants) = call(&server, "GET", "/api/v1/tenants", p, None).await;
    assert_eq!(tenants.as_array().map(Vec::len), Some(2), "{tenants}");
    // Joiners between letters are text, and separators at the ends are trimmed away.
    let (s, reply) = call(
        &server,
        "PUT",
        dials,
        a,
        Some(json!([{ "label": "\u{2028}Zo\u{200D}e\u{2029}", "target": "+4930123401" }])),
    )
    .await;
    assert_eq!(
        (s, &reply[0]["label"]),
        (200, &json!("Zo\u{200D}e")),
        "{reply}"
    );
    let file = server.fetch("/001565a1b2c3.cfg", Some(UA)).await.2;
    assert!(!file.contains('\u{2028}'), "{file}");
}

#[tokio::test]
async fn issue_10_a_sip_host_with_a_port_is_refused_with_where_the_port_goes() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let a = Some(t.acme_admin.as_str());
    for (field, host) in [
        ("sip_domain", "sip.example.com:5060"),
        ("sip_proxy", "proxy.example.com:5060"),
        ("sip_domain", "[2001:db8::1]:5061"),
    ] {
        let mut body = json!({ "name": "Hamburg", "sip_domain": "sip.example.com" });
        body[field] = json!(host);
        let (s, reply) = call(&server, "POST", "/api/v1/tenants/Acme/sites", a, Some(body)).await;
        assert_eq!(s, 422, "{host}: {reply}");
        assert_eq!(reply["errors"][0]["field"], field, "{reply}");
        assert!(
            reply["detail"].as_str().unwrap().contains("--sip-port"),
            "{reply}"
        );
    }
    // Split, it is a site whose phones get the host and the port once each.
    let (s, site) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/sites",
        a,
        Some(json!({ "name": "Hamburg", "sip_domain": "sip.example.com", "sip_port": 5080 })),
    )
    .await;
    assert_eq!((s, &site["sip"]["port"]), (201, &json!(5080)), "{site}");
    let (_, sites) = call(&server, "GET", "/api/v1/tenants/Acme/sites", a, None).await;
    assert!(
        sites
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !s["sip"]["domain"].as_str().unwrap().contains(':')),
        "{sites}"
    );
}
