//! Portal sessions end when unused for `portal.idle_minutes` or `portal.absolute_hours` after
//! the login, whichever comes first; an ended session is deleted, so it stays ended.

use std::time::Duration;

use autoprov::admin::portal::Login;
use autoprov::config::SessionLimits;

use super::{Portal, ACME_ADMIN, FIRST};

const HOUR: Duration = Duration::from_secs(3600);

/// A new session's id for Acme's admin.
async fn login(p: &Portal) -> String {
    match p
        .server
        .app
        .admin
        .portal_login(ACME_ADMIN, FIRST, None)
        .await
        .unwrap()
    {
        Login::Yes { session, .. } => session.expose().to_owned(),
        _ => panic!("the fixture's admin could not log in"),
    }
}

#[tokio::test]
async fn issue_14_a_session_ends_when_idle_or_too_old_and_stays_ended() {
    let p = Portal::start().await;
    let admin = &p.server.app.admin;
    let live = SessionLimits {
        idle: HOUR,
        absolute: 12 * HOUR,
    };
    let idle_over = SessionLimits {
        idle: Duration::ZERO,
        absolute: 12 * HOUR,
    };
    let age_over = SessionLimits {
        idle: HOUR,
        absolute: Duration::ZERO,
    };
    for ended_by in [idle_over, age_over] {
        let id = login(&p).await;
        let session = admin.portal_session(&id, live).await.unwrap();
        assert!(session.is_some(), "a fresh session is live");
        assert!(
            admin.portal_session(&id, ended_by).await.unwrap().is_none(),
            "{ended_by:?} ends it"
        );
        assert!(
            admin.portal_session(&id, live).await.unwrap().is_none(),
            "an ended session was deleted and stays ended"
        );
    }
}

/// Login CSRF: a login form posted from another site's page (the browser says so in `Origin`)
/// is refused and starts no session; from the portal's own page, or with no `Origin` at all
/// (a script), it logs in.
#[tokio::test]
async fn issue_14_a_login_posted_from_another_site_is_refused() {
    let p = Portal::start().await;
    let own = format!("https://{}", p.server.admin_addr);
    let post = |origin: Option<String>| {
        let mut req = p
            .http
            .post(p.url("/login"))
            .form(&[("login", ACME_ADMIN), ("password", FIRST)]);
        if let Some(origin) = origin {
            req = req.header(reqwest::header::ORIGIN, origin);
        }
        async move { req.send().await.unwrap() }
    };
    for evil in ["https://evil.example", "null", "https://127.0.0.1:1"] {
        let answer = post(Some(evil.to_owned())).await;
        assert_eq!(answer.status(), 403, "{evil}");
        assert!(answer.headers().get("set-cookie").is_none(), "{evil}");
    }
    for origin in [Some(own), None] {
        let answer = post(origin.clone()).await;
        assert!(
            answer.status().is_redirection(),
            "{origin:?}: {}",
            answer.status()
        );
        let cookie = answer.headers()["set-cookie"].to_str().unwrap();
        assert!(cookie.starts_with("__Host-autoprov="), "{cookie}");
    }
}
