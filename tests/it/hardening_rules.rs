//! The admin rules of the security review (issue 10), each through the REST API as an attacker
//! would try it: a colleague's number as CLI, text that hides line breaks or shows nothing, a
//! host with a port.

use serde_json::{json, Value};

use crate::api::{call, setup};
use crate::support::{TestServer, UA};

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
