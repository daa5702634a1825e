//! The REST API's first slice: tokens, roles, tenant isolation, problem+json.

use autoprov::model::Role;
use serde_json::{json, Value};

use crate::support::{walkthrough, TestServer};

struct Tokens {
    platform: String,
    acme_admin: String,
    other_admin: String,
    acme_user: String,
}

async fn setup(server: &TestServer) -> Tokens {
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let acme = admin.tenant("Acme").await.unwrap();
    let other = admin.tenant_add("Other").await.unwrap();
    let ada = admin.user(acme.id, "Ada Lovelace").await.unwrap();
    let token = |role, tenant, user| async move {
        admin
            .token_create(role, tenant, user)
            .await
            .unwrap()
            .1
            .expose()
            .to_owned()
    };
    Tokens {
        platform: token(Role::PlatformAdmin, None, None).await,
        acme_admin: token(Role::TenantAdmin, Some(acme.id), None).await,
        other_admin: token(Role::TenantAdmin, Some(other.id), None).await,
        acme_user: token(Role::User, Some(acme.id), Some(ada.id)).await,
    }
}

async fn call(
    server: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let url = server.url(path);
    let mut req = match method {
        "GET" => server.client.get(url),
        _ => server.client.post(url),
    };
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    if let Some(b) = body {
        req = req
            .header("Content-Type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    if status >= 400 {
        assert_eq!(content_type, "application/problem+json", "{path}: {text}");
    }
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test]
async fn role_matrix_and_tenant_isolation() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let user = |n: u32| json!({ "first_name": format!("New{n}"), "last_name": "Person" });
    // (method, path, body, [platform, acme-admin, other-admin, acme-user])
    let cases: Vec<(&str, &str, Option<Value>, [u16; 4])> = vec![
        ("GET", "/api/v1/tenants", None, [200, 200, 200, 200]),
        (
            "POST",
            "/api/v1/tenants",
            Some(json!({ "name": "T" })),
            [201, 403, 403, 403],
        ),
        (
            "GET",
            "/api/v1/tenants/Acme/users",
            None,
            [200, 200, 404, 403],
        ),
        (
            "POST",
            "/api/v1/tenants/Acme/users",
            None,
            [201, 201, 404, 403],
        ),
        (
            "POST",
            "/api/v1/tenants/Acme/users/New0 Person/activate",
            None,
            [200, 403, 404, 403],
        ),
    ];
    let tokens = [&t.platform, &t.acme_admin, &t.other_admin, &t.acme_user];
    let mut n = 0;
    for (method, path, body, expected) in cases {
        for (i, token) in tokens.iter().enumerate() {
            let body = match (body.clone(), path.ends_with("/users") && method == "POST") {
                (_, true) => {
                    n += 1;
                    Some(user(n))
                }
                (b, false) => b,
            };
            // Activation acts on the first user the matrix made (pending until then).
            let path = path.replace("New0 Person", "New1 Person");
            let body = if path == "/api/v1/tenants" && method == "POST" {
                Some(json!({ "name": format!("T{i}") }))
            } else {
                body
            };
            let (status, reply) = call(&server, method, &path, Some(token), body).await;
            assert_eq!(status, expected[i], "{method} {path} as token {i}: {reply}");
        }
    }
    // Lists never show another tenant.
    let (_, list) = call(&server, "GET", "/api/v1/tenants", Some(&t.acme_admin), None).await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Acme"]);
    let (_, list) = call(&server, "GET", "/api/v1/tenants", Some(&t.platform), None).await;
    assert!(list.as_array().unwrap().len() >= 3);
}

#[tokio::test]
async fn errors_are_problem_json_with_the_field() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    for token in [None, Some("ap_1_wrong"), Some("nonsense")] {
        let (status, body) = call(&server, "GET", "/api/v1/tenants", token, None).await;
        assert_eq!(status, 401, "{token:?}");
        assert_eq!(body["title"], "unauthorized");
    }
    let (status, body) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/users",
        Some(&t.acme_admin),
        Some(json!({ "first_name": "A".repeat(24), "last_name": "B" })),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "first_name");
    let (status, _) = call(
        &server,
        "GET",
        "/api/v1/tenants/Nobody/users",
        Some(&t.platform),
        None,
    )
    .await;
    assert_eq!(status, 404);
    // Ada is active already: activating her again conflicts.
    let (status, _) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/users/Ada Lovelace/activate",
        Some(&t.platform),
        None,
    )
    .await;
    assert_eq!(status, 409);
    // A revoked token is refused.
    let id: i64 = t.acme_admin.split('_').nth(1).unwrap().parse().unwrap();
    server.app.admin.token_revoke(id).await.unwrap();
    let (status, _) = call(&server, "GET", "/api/v1/tenants", Some(&t.acme_admin), None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn token_create_prints_the_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::cli::autoprov(dir.path())
        .args(["tenant", "add", "Acme"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let out = crate::cli::autoprov(dir.path())
        .args([
            "--json",
            "token",
            "create",
            "--role",
            "tenant-admin",
            "--tenant",
            "Acme",
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(body["token"].as_str().unwrap().starts_with("ap_"));
    let out = crate::cli::autoprov(dir.path())
        .args(["token", "create", "--role", "user", "--tenant", "Acme"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --user"));
}

#[tokio::test]
async fn a_phone_set_up_through_the_api_gets_its_line() {
    let server = TestServer::start().await;
    let platform = server
        .app
        .admin
        .token_create(Role::PlatformAdmin, None, None)
        .await
        .unwrap()
        .1
        .expose()
        .to_owned();
    let p = Some(platform.as_str());
    let steps: Vec<(&str, Value, u16)> = vec![
        ("/api/v1/tenants", json!({ "name": "Beta" }), 201),
        (
            "/api/v1/tenants/Beta/sites",
            json!({ "name": "HQ", "sip_domain": "sip.beta.example", "time_zone": "Europe/Vienna", "allowed_networks": ["127.0.0.0/8"] }),
            201,
        ),
        (
            "/api/v1/tenants/Beta/numbers",
            json!({ "number": "+43101234567", "status": "active" }),
            201,
        ),
        (
            "/api/v1/tenants/Beta/users",
            json!({ "first_name": "Lise", "last_name": "Meitner", "number": "+43101234567" }),
            201,
        ),
        (
            "/api/v1/tenants/Beta/users/Lise Meitner/activate",
            Value::Null,
            200,
        ),
        (
            "/api/v1/tenants/Beta/devices",
            json!({ "mac": "00:15:65:be:ef:01", "model": "T46S" }),
            201,
        ),
        (
            "/api/v1/tenants/Beta/devices/001565beef01/login",
            json!({ "number": "+43101234567" }),
            200,
        ),
    ];
    for (path, body, expected) in steps {
        let body = (!body.is_null()).then_some(body);
        let (status, reply) = call(&server, "POST", path, p, body).await;
        assert_eq!(status, expected, "{path}: {reply}");
    }
    let (status, _, file) = server
        .fetch(
            "/001565beef01.cfg",
            Some("Yealink SIP-T46S 66.86.0.15 00:15:65:be:ef:01"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        file.lines()
            .any(|l| l == "account.1.display_name = Lise Meitner"),
        "{file}"
    );
    // Numbers are the operator's to allocate; a tenant admin sees but cannot add them.
    let acme_admin = server
        .app
        .admin
        .token_create(
            Role::TenantAdmin,
            Some(server.app.admin.tenant("Beta").await.unwrap().id),
            None,
        )
        .await
        .unwrap()
        .1
        .expose()
        .to_owned();
    let (status, list) = call(
        &server,
        "GET",
        "/api/v1/tenants/Beta/numbers",
        Some(&acme_admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, _) = call(
        &server,
        "POST",
        "/api/v1/tenants/Beta/numbers",
        Some(&acme_admin),
        Some(json!({ "number": "+43109999" })),
    )
    .await;
    assert_eq!(status, 403);
    let (status, devices) = call(
        &server,
        "GET",
        "/api/v1/tenants/Beta/devices",
        Some(&acme_admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(devices[0]["mac"], "001565beef01");
    assert!(
        devices[0].get("admin_password").is_none(),
        "no secret in the API"
    );
}

#[tokio::test]
async fn deactivate_and_delete_through_the_api() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let (status, _) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/users",
        Some(&t.acme_admin),
        Some(json!({ "first_name": "Pat", "last_name": "Pending" })),
    )
    .await;
    assert_eq!(status, 201);
    let delete = |path: &'static str, token: String| {
        let client = server.client.clone();
        let url = server.url(path);
        async move {
            let resp = client
                .delete(url)
                .header("Authorization", format!("Bearer {token}"))
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    let (status, body) = delete(
        "/api/v1/tenants/Acme/users/Pat Pending",
        t.acme_admin.clone(),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("pending"), "{body}");
    let (status, _) = delete(
        "/api/v1/tenants/Acme/users/Pat Pending",
        t.acme_user.clone(),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = delete(
        "/api/v1/tenants/Acme/users/Pat Pending",
        t.other_admin.clone(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, user) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/users/Ada Lovelace/deactivate",
        Some(&t.acme_admin),
        Some(json!({ "announcement": "On leave", "transfer": "+4930999", "transfer_mode": "announced" })),
    )
    .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["state"], "deactivated");
    let (status, _) = delete(
        "/api/v1/tenants/Acme/users/Ada Lovelace",
        t.acme_admin.clone(),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/users/Pat Pending/fail",
        Some(&t.acme_admin),
        None,
    )
    .await;
    assert_eq!(status, 403, "failing activation is the operator's");
    let (status, user) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/users/Pat Pending/fail",
        Some(&t.platform),
        None,
    )
    .await;
    assert_eq!((status, user["state"].as_str()), (200, Some("failed")));
}
