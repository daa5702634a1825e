//! The portal's rules over plain HTTPS with a cookie: login and its cookie, the first-login
//! password change, CSRF, scoping, escaping, the field errors, logout, the throttle, languages.

use reqwest::header::SET_COOKIE;
use reqwest::StatusCode;

use super::*;

#[tokio::test]
async fn issue_14_login_sets_a_strict_session_cookie_and_asks_for_a_new_password() {
    let p = Portal::start().await;
    let (status, _, body) = p.get(None, "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (status, _, body) = p.get(None, "/login").await;
    assert_eq!(status, 200);
    assert!(body.contains("<label for=\"login\">"), "{body}");

    let (status, headers, _) = p
        .post(None, "/login", &[("login", "ADA"), ("password", FIRST)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers["location"], "/password",
        "the first login asks for a new password"
    );
    let set = headers[SET_COOKIE].to_str().unwrap();
    for part in [
        "__Host-autoprov=",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(set.contains(part), "{set} lacks {part}");
    }
    let sess = Sess {
        cookie: session_cookie(&headers).unwrap(),
        csrf: String::new(),
    };
    // Every other page waits for the change.
    let (status, headers, _) = p.get(Some(&sess), &format!("/t/{}/me", p.acme.id.0)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/password");

    // Too short a new password is refused by its field.
    let (_, _, body) = p.get(Some(&sess), "/password").await;
    let csrf = csrf_of(&body);
    let (status, _, body) = p
        .post(
            Some(&sess),
            "/password",
            &[
                ("csrf", csrf.as_str()),
                ("current", FIRST),
                ("password", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"password-error\""), "{body}");

    let sess = p.session(ACME_ADMIN).await;
    let (status, _, body) = p.get(Some(&sess), "/").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Acme"), "{body}");
    // The old password no longer works; the new one does.
    assert!(p.login_with(ACME_ADMIN, FIRST).await.is_none());
    assert!(p.login_with(ACME_ADMIN, CHANGED).await.is_some());
    // The API and the operations endpoints are still there.
    let (status, _, _) = p.get(None, "/healthz").await;
    assert_eq!(status, 200);
    let (status, _, _) = p.get(None, "/api/v1/tenants").await;
    assert_eq!(status, 401);
}

/// A login to an account that does not exist costs the same argon2 verification as a wrong
/// password, so its answer's timing does not tell which accounts exist.
#[tokio::test]
async fn issue_14_an_unknown_login_costs_the_same_hashing_as_a_wrong_password() {
    let p = Portal::start().await;
    let admin = &p.server.app.admin;
    let before = admin.hashes_run();
    let wrong = admin
        .portal_login(OPERATOR, "not-the-password", None)
        .await
        .unwrap();
    assert!(matches!(wrong, autoprov::admin::portal::Login::No));
    let for_wrong = admin.hashes_run() - before;
    let before = admin.hashes_run();
    let unknown = admin
        .portal_login("nobody@example.com", "not-the-password", None)
        .await
        .unwrap();
    assert!(matches!(unknown, autoprov::admin::portal::Login::No));
    assert_eq!(for_wrong, 1);
    assert_eq!(admin.hashes_run() - before, for_wrong);
}

#[tokio::test]
async fn issue_14_wrong_password_is_refused_and_logins_are_throttled_per_account() {
    let p = Portal::start().await;
    let (status, headers, body) = p
        .post(
            None,
            "/login",
            &[("login", OPERATOR), ("password", "not-the-password")],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&headers).is_none());
    assert!(body.contains("Wrong login or password."), "{body}");
    // An unknown login gets the same answer.
    let (status, _, body2) = p
        .post(None, "/login", &[("login", "nobody"), ("password", "x")])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body2.contains("Wrong login or password."));
    for _ in 0..4 {
        p.post(
            None,
            "/login",
            &[("login", OPERATOR), ("password", "wrong")],
        )
        .await;
    }
    // Five failures for the account: even the right password waits now.
    let (status, _, body) = p
        .post(None, "/login", &[("login", OPERATOR), ("password", FIRST)])
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body.contains("Too many failed logins"), "{body}");
}

#[tokio::test]
async fn issue_14_a_post_without_the_sessions_csrf_token_is_refused() {
    let p = Portal::start().await;
    let sess = p.session(ACME_ADMIN).await;
    let path = format!("/t/{}/users", p.acme.id.0);
    let before = p.server.app.admin.user_list(p.acme.id).await.unwrap().len();
    for form in [
        vec![("first_name", "Eve"), ("last_name", "Forged")],
        vec![
            ("csrf", "0000"),
            ("first_name", "Eve"),
            ("last_name", "Forged"),
        ],
    ] {
        let (status, _, body) = p.post(Some(&sess), &path, &form).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(body.contains("Form expired"), "{body}");
    }
    // Another session's token is no better.
    let other = p.session(OPERATOR).await;
    let form = [
        ("csrf", other.csrf.as_str()),
        ("first_name", "Eve"),
        ("last_name", "Forged"),
    ];
    let (status, _, _) = p.post(Some(&sess), &path, &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = p.post(Some(&sess), "/logout", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "logout needs the token too");
    let after = p.server.app.admin.user_list(p.acme.id).await.unwrap().len();
    assert_eq!(before, after, "nothing was added");
}

#[tokio::test]
async fn issue_14_another_tenants_pages_answer_404_and_a_user_sees_only_my_profile() {
    let p = Portal::start().await;
    let admin = p.session(ACME_ADMIN).await;
    let (status, _, body) = p
        .get(Some(&admin), &format!("/t/{}/users", p.other.id.0))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _, _) = p.get(Some(&admin), "/t/Other/users").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = p.get(Some(&admin), "/t/999/users").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a tenant that does not exist looks the same"
    );
    let (status, _, _) = p
        .get(Some(&admin), &format!("/t/{}/users", p.acme.id.0))
        .await;
    assert_eq!(status, 200);
    let other = p.session(OTHER_ADMIN).await;
    let (status, _, _) = p
        .get(Some(&other), &format!("/t/{}/users", p.acme.id.0))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let user = p.session(ACME_USER).await;
    let (status, headers, _) = p.get(Some(&user), "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let me = format!("/t/{}/me", p.acme.id.0);
    assert_eq!(headers["location"], me.as_str());
    let (status, _, body) = p.get(Some(&user), &me).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("My profile") && body.contains("Lovelace"),
        "{body}"
    );
    assert!(
        !body.contains("/users\""),
        "a user's nav has no Users: {body}"
    );
    let (status, _, _) = p
        .get(Some(&user), &format!("/t/{}/users", p.acme.id.0))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The operator sees every tenant.
    let op = p.session(OPERATOR).await;
    let (status, _, body) = p.get(Some(&op), "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("Acme") && body.contains("Other"), "{body}");
    let (status, _, _) = p
        .get(Some(&op), &format!("/t/{}/users", p.other.id.0))
        .await;
    assert_eq!(status, 200);
}

/// The payloads a name may carry; each must come back as text.
pub const XSS_FIRST: &str = "<script>x()</script>";
pub const XSS_LAST: &str = "\"'{{ 7*7 }}<img src=x>";

#[tokio::test]
async fn issue_14_users_list_escapes_names_and_shows_field_errors() {
    let p = Portal::start().await;
    let sess = p.session(ACME_ADMIN).await;
    let path = format!("/t/{}/users", p.acme.id.0);
    let (status, headers, body) = p
        .post(
            Some(&sess),
            &path,
            &[
                ("csrf", sess.csrf.as_str()),
                ("first_name", XSS_FIRST),
                ("last_name", XSS_LAST),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    // To the new user's page.
    let page = headers["location"].to_str().unwrap().to_owned();
    assert!(page.starts_with(&format!("{path}/")), "{page}");
    let flash = headers[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let both = Sess {
        cookie: format!("{}; {flash}", sess.cookie),
        csrf: sess.csrf.clone(),
    };
    let (status, _, body) = p.get(Some(&both), &page).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("The user has been added"),
        "the flash: {body}"
    );
    assert!(!body.contains("<script>x()"), "{body}");
    assert!(
        body.contains("&lt;script&gt;x()&lt;&#x2f;script&gt;"),
        "{body}"
    );
    assert!(
        body.contains("&quot;&#x27;{{ 7*7 }}&lt;img src=x&gt;"),
        "{body}"
    );
    assert!(!body.contains("<img src=x>") && !body.contains(">49<"));
    assert!(body.contains("pending"));

    // Search, and a name over its limit shown by its field.
    let (_, _, body) = p.get(Some(&sess), &format!("{path}?q=Lovelace")).await;
    assert!(body.contains("Lovelace") && !body.contains("x()"), "{body}");
    let long = "A".repeat(24);
    let (status, _, body) = p
        .post(
            Some(&sess),
            &path,
            &[
                ("csrf", sess.csrf.as_str()),
                ("first_name", long.as_str()),
                ("last_name", "Long"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"first_name-error\""), "{body}");
    assert!(
        body.contains(&format!("value=\"{long}\"")),
        "the form keeps what was typed"
    );
}

#[tokio::test]
async fn issue_14_users_list_pages() {
    let p = Portal::start().await;
    for i in 0..30 {
        p.server
            .app
            .admin
            .user_add(
                p.acme.id,
                &UserInput {
                    first_name: format!("Pat{i:02}"),
                    last_name: "Paged".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let sess = p.session(ACME_ADMIN).await;
    let path = format!("/t/{}/users", p.acme.id.0);
    let (_, _, body) = p.get(Some(&sess), &path).await;
    assert!(body.contains("1–25 of 31"), "{body}");
    assert!(
        body.contains("offset=25") && body.contains("rel=\"next\""),
        "{body}"
    );
    let (_, _, body) = p.get(Some(&sess), &format!("{path}?offset=25")).await;
    assert!(
        body.contains("26–31 of 31") && body.contains("rel=\"prev\""),
        "{body}"
    );
    assert!(!body.contains("rel=\"next\""));
}

#[tokio::test]
async fn issue_14_logout_ends_the_session() {
    let p = Portal::start().await;
    let sess = p.session(OPERATOR).await;
    let (status, headers, _) = p
        .post(Some(&sess), "/logout", &[("csrf", sess.csrf.as_str())])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/login");
    assert!(headers[SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let (status, headers, _) = p.get(Some(&sess), "/").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the old cookie is worth nothing"
    );
    assert_eq!(headers["location"], "/login");
}

#[tokio::test]
async fn issue_14_a_reset_ends_sessions_and_asks_for_a_new_password() {
    let p = Portal::start().await;
    let sess = p.session(OPERATOR).await;
    let password = p
        .server
        .app
        .admin
        .portal_password_reset(OPERATOR)
        .await
        .unwrap();
    let (status, _, _) = p.get(Some(&sess), "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, headers, _) = p
        .post(
            None,
            "/login",
            &[("login", OPERATOR), ("password", password.expose())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/password");
}

#[tokio::test]
async fn issue_14_german_by_accept_language_and_by_the_switch() {
    let p = Portal::start().await;
    let resp = p
        .http
        .get(p.url("/login"))
        .header("accept-language", "de-DE,de;q=0.9,en;q=0.8")
        .send()
        .await
        .unwrap();
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("<html lang=\"de\">") && body.contains("Anmeldename oder E-Mail"),
        "{body}"
    );
    let (status, headers, _) = p.get(None, "/lang/de?back=/login").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/login");
    let set = headers[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let sess = Sess {
        cookie: set,
        csrf: String::new(),
    };
    let (_, _, body) = p.get(Some(&sess), "/login").await;
    assert!(body.contains("Passwort"), "{body}");
    // The switch sends nobody to another site.
    for back in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let (_, headers, _) = p.get(None, &format!("/lang/en?back={back}")).await;
        assert_eq!(headers["location"], "/", "{back}");
    }
}
