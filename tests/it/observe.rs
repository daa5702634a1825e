//! What a request leaves in the log: a span with a request id that the admin listener echoes,
//! and one access line per API request (method, route template, status, actor, rounded
//! milliseconds — never the token).

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::cli::autoprov;

/// The next line of `lines` that contains `what` (the server must say it within 20 s).
async fn line_with<R: tokio::io::AsyncBufRead + Unpin>(
    lines: &mut tokio::io::Lines<R>,
    what: &str,
) -> String {
    loop {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("the server logs in time")
            .unwrap()
            .expect("the server runs");
        if line.contains(what) {
            return line;
        }
    }
}

#[tokio::test]
async fn an_api_request_has_a_request_id_and_one_access_line_without_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = autoprov(dir.path())
        .args(["tenant", "add", "Acme"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let out = autoprov(dir.path())
        .args(["--json", "token", "create", "--role", "platform-admin"])
        .output()
        .await
        .unwrap();
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let mut server = autoprov(dir.path())
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--https",
            "off",
            "--tftp",
            "off",
        ])
        .args(["--admin", "127.0.0.1:0"])
        .env("AUTOPROV_LISTEN__ADMIN_HTTP", "true")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let addr_of = |line: String| line.split("addr=").nth(1).unwrap().trim().to_owned();
    let phones = addr_of(line_with(&mut lines, "protocol=\"http\"").await);
    let addr = addr_of(line_with(&mut lines, "protocol=\"admin http\"").await);

    // A phone's request leaves one line of its own (no span: the line names the phone, its
    // address and the file), and its answer carries no id.
    let resp = reqwest::Client::new()
        .get(format!("http://{phones}/001565000001.cfg"))
        .header(
            "User-Agent",
            "Yealink SIP-T54W 96.86.0.100 00:15:65:00:00:01",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert!(resp.headers().get("x-request-id").is_none());
    let served = line_with(&mut lines, "served").await;
    for field in [
        " INFO autoprov::http: served ",
        "mac=\"001565000001\"",
        "file=001565000001.cfg",
        "status=404",
        "reason=\"unproven\"",
        "tls=false",
        "peer=127.0.0.1",
        "ms=",
    ] {
        assert!(served.contains(field), "{field} in {served}");
    }
    assert!(!served.contains("request{"), "{served}");

    let resp = reqwest::Client::new()
        .get(format!("http://{addr}/api/v1/tenants/Acme/sites?q=x"))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 16, "{id}");

    let access = line_with(&mut lines, "api request").await;
    for field in [
        &format!("request{{id={id}}}"),
        "method=GET",
        "route=\"/api/v1/tenants/{tenant}/sites\"",
        "status=200",
        "actor=\"token:1 platform-admin\"",
    ] {
        assert!(access.contains(field), "{field} in {access}");
    }
    let ms = access
        .split("ms=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let decimals = ms.split('.').nth(1).map_or(0, str::len);
    assert!(decimals <= 2 && ms.parse::<f64>().is_ok(), "{access}");
    assert!(
        !access.contains(&token) && !access.contains("Acme"),
        "{access}"
    );

    // A refused token: the line says so, with no actor.
    let resp = reqwest::Client::new()
        .get(format!("http://{addr}/api/v1/me"))
        .header("Authorization", "Bearer ap_nothing_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let access = line_with(&mut lines, "api request").await;
    assert!(
        access.contains("status=401") && access.contains("actor=\"-\""),
        "{access}"
    );
    assert!(!access.contains("ap_nothing_wrong"), "{access}");
}
