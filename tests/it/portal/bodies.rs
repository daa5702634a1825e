//! What every API body and list shares: malformed bodies answered as problems naming the field,
//! and paging.

use serde_json::{json, Value};

use super::{Admin, Portal};

/// Sends `body` to `POST users` as Acme's admin, with this content type.
async fn send(p: &Portal, body: &'static str, content_type: Option<&str>) -> (u16, String, Value) {
    let server = &p.server;
    let mut req = server
        .admin_client
        .post(server.admin_url(&super::path("users")))
        .header("Authorization", format!("Bearer {}", p.t.acme_admin))
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    (status, ct, body)
}

const JSON: Option<&str> = Some("application/json");

/// Broken JSON is a 400 problem; an unknown or missing field a 422 naming it; a wrong type a
/// 422; no JSON content type a 415.
#[tokio::test]
async fn malformed_bodies_are_problems_naming_the_field() {
    let p = Portal::new().await;
    let (s, ct, body) = send(&p, "{\"first_name\": ", JSON).await;
    assert_eq!(
        (s, ct.as_str()),
        (400, "application/problem+json"),
        "{body}"
    );
    for (sent, field) in [
        (
            "{\"first_name\": \"A\", \"last_name\": \"B\", \"shoe\": 1}",
            "shoe",
        ),
        ("{\"first_name\": \"A\"}", "last_name"),
    ] {
        let (s, _, body) = send(&p, sent, JSON).await;
        assert_eq!(
            (s, body["errors"][0]["field"].as_str()),
            (422, Some(field)),
            "{body}"
        );
    }
    let (s, _, body) = send(&p, "{\"first_name\": 5, \"last_name\": \"B\"}", JSON).await;
    assert_eq!(s, 422, "{body}");
    let (s, _, _) = send(&p, "{}", None).await;
    assert_eq!(s, 415);
}

/// X-Total-Count holds the total, limit and offset cut the page, and the limit is bounded.
#[tokio::test]
async fn lists_are_paged() {
    let p = Portal::new().await;
    for n in 0..5 {
        p.post(
            Admin,
            "users",
            json!({ "first_name": format!("Page{n}"), "last_name": "Person" }),
        )
        .await
        .is(201);
    }
    let server = &p.server;
    let resp = server
        .admin_client
        .get(server.admin_url(&super::path("users?q=person&limit=2&offset=1")))
        .header("Authorization", format!("Bearer {}", p.t.acme_admin))
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
    p.get(Admin, "users?limit=0").await.invalid("limit");
}
