//! The OpenAPI document declares every answer: each operation its error answers, all
//! problem+json with the `Problem` schema; the schemas the limits the server enforces; and the
//! error bodies sent are what the `Problem` schema says.

use serde_json::{json, Value};

use crate::api::setup;
use crate::support::TestServer;

/// The document as served: without a token.
async fn served(server: &TestServer) -> Value {
    let resp = server
        .admin_client
        .get(server.admin_url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    serde_json::from_str(&resp.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn the_openapi_document_is_served_without_a_token() {
    let server = TestServer::start().await;
    let doc = served(&server).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let login = &doc["paths"]["/api/v1/tenants/{tenant}/numbers/{number}/login"]["post"];
    assert!(login["requestBody"].is_object(), "{login}");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["NumberFeatures"]["properties"]["cli_number"].is_object());
}

/// The error answers `method` `operation` at `path` must declare.
fn wanted(method: &str, path: &str, operation: &Value) -> Vec<&'static str> {
    let mut wanted = vec!["401", "429", "500"];
    if method != "get" {
        wanted.push("409");
    }
    let names = path.contains('{');
    let body = operation.get("requestBody").is_some();
    let query = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["in"] == "query");
    if names {
        wanted.push("404");
    }
    if body {
        wanted.push("415");
    }
    if names || body || query {
        wanted.extend(["400", "422"]);
    }
    if path.starts_with("/api/v1/tenants/{tenant}") {
        wanted.push("403");
    }
    wanted
}

#[tokio::test]
async fn every_operation_declares_its_error_answers_as_problem_json() {
    let server = TestServer::start().await;
    let doc = served(&server).await;
    let mut gaps = Vec::new();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let at = format!("{} {path}", method.to_uppercase());
            let responses = operation["responses"].as_object().unwrap();
            for status in wanted(method, path, operation) {
                if !responses.contains_key(status) {
                    gaps.push(format!("{at}: no {status}"));
                }
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = response["content"].as_object();
                    let problem = json!({ "$ref": "#/components/schemas/Problem" });
                    let declared = content.is_some_and(|c| {
                        c.len() == 1 && c["application/problem+json"]["schema"] == problem
                    });
                    if !declared {
                        gaps.push(format!("{at}: {status} is not problem+json with Problem"));
                    }
                    if response["description"].as_str().unwrap_or("").is_empty() {
                        gaps.push(format!("{at}: {status} has no description"));
                    }
                }
            }
            for segment in path.split('/').filter_map(|s| s.strip_prefix('{')) {
                let name = segment.trim_end_matches('}');
                let declared = operation["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["in"] == "path" && p["name"] == name);
                if !declared {
                    gaps.push(format!("{at}: path segment {name} undeclared"));
                }
            }
        }
    }
    assert!(operations > 40, "{operations} operations");
    assert!(gaps.is_empty(), "{}", gaps.join("\n"));
}

#[tokio::test]
async fn the_schemas_carry_the_limits_the_server_enforces() {
    let server = TestServer::start().await;
    let doc = served(&server).await;
    let schemas = &doc["components"]["schemas"];
    let user = &schemas["NewUser"]["properties"];
    assert_eq!(
        user["first_name"]["maxLength"],
        autoprov::model::FIRST_NAME_MAX
    );
    assert_eq!(
        user["last_name"]["maxLength"],
        autoprov::model::LAST_NAME_MAX
    );
    assert_eq!(schemas["NewUser"]["additionalProperties"], false);
    assert_eq!(schemas["NewSite"]["properties"]["name"]["maxLength"], 64);
    let param = |path: &str, name: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} has no {name}"))["schema"]
            .clone()
    };
    let limit = param("/api/v1/tenants/{tenant}/users", "limit");
    assert_eq!(
        (&limit["minimum"], &limit["maximum"]),
        (&json!(1), &json!(1000))
    );
    assert_eq!(
        param("/api/v1/tenants/{tenant}/users", "offset")["minimum"],
        0
    );
    let audit = param("/api/v1/audit", "limit");
    assert_eq!(
        (&audit["minimum"], &audit["maximum"]),
        (&json!(1), &json!(500))
    );
}

/// Method, path, token, content type, body, and the status expected.
type Case<'a> = (
    &'a str,
    String,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    u16,
);

/// Every kind of error the API sends is problem+json whose fields the `Problem` schema has.
#[tokio::test]
async fn error_bodies_are_what_the_problem_schema_says() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let doc = served(&server).await;
    let problem = &doc["components"]["schemas"]["Problem"];
    let known: Vec<&str> = problem["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let users = "/api/v1/tenants/Acme/users";
    let cases: Vec<Case> = vec![
        ("GET", users.into(), None, None, "", 401),
        (
            "GET",
            "/api/v1/tenants/Nobody/users".into(),
            Some(&t.platform),
            None,
            "",
            404,
        ),
        (
            "GET",
            format!("{users}?limit=x"),
            Some(&t.platform),
            None,
            "",
            400,
        ),
        (
            "GET",
            format!("{users}?limit=0"),
            Some(&t.platform),
            None,
            "",
            422,
        ),
        ("GET", users.into(), Some(&t.acme_user), None, "", 403),
        (
            "POST",
            users.into(),
            Some(&t.platform),
            Some("text/plain"),
            "{}",
            415,
        ),
        (
            "POST",
            users.into(),
            Some(&t.platform),
            Some("application/json"),
            "{",
            400,
        ),
        (
            "POST",
            users.into(),
            Some(&t.platform),
            Some("application/json"),
            "{}",
            422,
        ),
    ];
    for (method, path, token, content_type, body, status) in cases {
        let mut req = server
            .admin_client
            .request(method.parse().unwrap(), server.admin_url(&path));
        if let Some(token) = token {
            req = req.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct).body(body.to_owned());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{method} {path}");
        assert_eq!(
            resp.headers()["content-type"],
            "application/problem+json",
            "{method} {path}"
        );
        let sent: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
        for field in sent.as_object().unwrap().keys() {
            assert!(known.contains(&field.as_str()), "{path}: {field} in {sent}");
        }
        for field in problem["required"].as_array().unwrap() {
            assert!(
                sent.get(field.as_str().unwrap()).is_some(),
                "{path}: {sent}"
            );
        }
        assert_eq!(sent["status"], status);
    }
}
