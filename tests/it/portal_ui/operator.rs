//! The Operator pages over HTTPS with a cookie: only the platform admin (403 for a tenant
//! admin, 404 for another tenant's address), tenants (add, remove refused while not empty),
//! the activation queue (activate, fail, the rule's refusal), numbers allocated to a tenant's
//! site (add, release refused while assigned) and MACs pre-assigned (reserve, release); and
//! one browser walk with screenshots.

use autoprov::admin::UserInput;
use autoprov::model::UserState;
use reqwest::StatusCode;

use super::sites::{error_by, site, PAYLOAD};
use super::*;

fn tenant_page(t: &Tenant) -> String {
    format!("/operator/tenants/{}", t.id.0)
}

#[tokio::test]
async fn issue_14_operator_pages_are_the_platform_admins_only() {
    let p = Portal::start().await;
    let admin = p.session(ACME_ADMIN).await;
    let (status, _, body) = p.get(Some(&admin), "/operator").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        !body.contains("href=\"&#x2f;operator\""),
        "no nav item: {body}"
    );
    let form = [("csrf", admin.csrf.as_str()), ("name", "Evil")];
    let (status, _, _) = p.post(Some(&admin), "/operator/tenants", &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Their own tenant's operator page: 403; another tenant's: 404, as everywhere.
    let (status, _, _) = p.get(Some(&admin), &tenant_page(&p.acme)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = p.get(Some(&admin), &tenant_page(&p.other)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let activate = format!(
        "/operator/tenants/{}/users/{}/activate",
        p.acme.id.0, p.ada.id.0
    );
    let (status, _, _) = p
        .post(Some(&admin), &activate, &[("csrf", &admin.csrf)])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let remove = format!("/operator/tenants/{}/remove", p.other.id.0);
    let (status, _, _) = p
        .post(Some(&admin), &remove, &[("csrf", &admin.csrf)])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let a = &p.server.app.admin;
    assert_eq!(a.tenant_list().await.unwrap().len(), 2);
    assert_eq!(
        a.user(p.acme.id, "Ada Lovelace").await.unwrap().state,
        UserState::Pending
    );
    let user = p.session(ACME_USER).await;
    let (status, _, _) = p.get(Some(&user), "/operator").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The operator has the nav item and the page.
    let op = p.session(OPERATOR).await;
    let (status, _, body) = p.get(Some(&op), "/operator").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("href=\"&#x2f;operator\""), "{body}");
}

#[tokio::test]
async fn issue_14_operator_tenants_add_and_remove_refused_while_not_empty() {
    let p = Portal::start().await;
    let op = p.session(OPERATOR).await;
    let csrf = op.csrf.as_str();
    let (status, headers, _) = p
        .post(
            Some(&op),
            "/operator/tenants",
            &[("csrf", csrf), ("name", "Beta")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers["location"]
        .to_str()
        .unwrap()
        .starts_with("/operator/tenants/"));
    let (status, _, body) = p
        .post(
            Some(&op),
            "/operator/tenants",
            &[("csrf", csrf), ("name", "Beta")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    error_by(&body, "name", "already exists");
    let (status, _, body) = p
        .post(
            Some(&op),
            "/operator/tenants",
            &[("csrf", csrf), ("name", "12345")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    error_by(&body, "name", "all digits");
    // Acme still has Ada: the rule's message.
    let remove = format!("/operator/tenants/{}/remove", p.acme.id.0);
    let (status, _, body) = p.post(Some(&op), &remove, &[("csrf", csrf)]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    error_by(&body, "remove", "still has 1 user");
    let admin = &p.server.app.admin;
    let beta = admin.tenant("Beta").await.unwrap();
    let remove = format!("/operator/tenants/{}/remove", beta.id.0);
    let (status, _, _) = p.post(Some(&op), &remove, &[("csrf", csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let names: Vec<_> = admin
        .tenant_list()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(!names.contains(&"Beta".to_owned()));
    // Without CSRF: refused.
    let (status, _, _) = p
        .post(Some(&op), "/operator/tenants", &[("name", "Gamma")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Escaped.
    let (_, _, body) = p
        .post(
            Some(&op),
            "/operator/tenants",
            &[("csrf", csrf), ("name", &"x".repeat(70))],
        )
        .await;
    assert!(body.contains("id=\"name-error\""), "{body}");
    let form = [("csrf", csrf), ("name", PAYLOAD)];
    let (status, _, _) = p.post(Some(&op), "/operator/tenants", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, body) = p.get(Some(&op), "/operator").await;
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(body.contains("&lt;script&gt;"), "{body}");
    assert!(body.contains("{{ 7*7 }}"), "{body}");
}

#[tokio::test]
async fn issue_14_operator_activation_queue_activates_and_fails_pending_users() {
    let p = Portal::start().await;
    let admin = &p.server.app.admin;
    let bob = admin
        .user_add(
            p.other.id,
            &UserInput {
                first_name: "Bob".into(),
                last_name: "Other".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let op = p.session(OPERATOR).await;
    let csrf = op.csrf.as_str();
    let (_, _, body) = p.get(Some(&op), "/operator").await;
    assert!(
        body.contains("Ada Lovelace") && body.contains("Bob Other"),
        "{body}"
    );
    let ada = format!("/operator/tenants/{}/users/{}", p.acme.id.0, p.ada.id.0);
    let (status, _, _) = p
        .post(Some(&op), &format!("{ada}/activate"), &[("csrf", csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        admin
            .user(p.acme.id, &p.ada.id.0.to_string())
            .await
            .unwrap()
            .state,
        UserState::Active
    );
    // The queue holds pending users only: Ada has left it, Bob of the other tenant is there.
    let (_, _, body) = p.get(Some(&op), "/operator").await;
    assert!(
        !body.contains("Ada Lovelace") && body.contains("Bob Other"),
        "{body}"
    );
    // Failing an active user: the rule refuses, its message shown.
    let (status, _, body) = p
        .post(Some(&op), &format!("{ada}/fail"), &[("csrf", csrf)])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    error_by(&body, "queue", "only a pending user can fail");
    let bob_url = format!("/operator/tenants/{}/users/{}", p.other.id.0, bob.id.0);
    let (status, _, _) = p
        .post(Some(&op), &format!("{bob_url}/fail"), &[("csrf", csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        admin.user(p.other.id, "Bob Other").await.unwrap().state,
        UserState::Failed
    );
    let (_, _, body) = p.get(Some(&op), "/operator").await;
    assert!(body.contains("No users wait for activation"), "{body}");
    // A user of another tenant under this tenant's address: 404.
    let wrong = format!(
        "/operator/tenants/{}/users/{}/activate",
        p.acme.id.0, bob.id.0
    );
    let (status, _, _) = p.post(Some(&op), &wrong, &[("csrf", csrf)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn issue_14_operator_allocates_numbers_and_pre_assigns_macs() {
    let p = Portal::start().await;
    let admin = &p.server.app.admin;
    site(&p, p.acme.id, "Berlin").await;
    let op = p.session(OPERATOR).await;
    let csrf = op.csrf.as_str();
    let page = tenant_page(&p.acme);
    let numbers = format!("{page}/numbers");
    let add = |n: &'static str, main: bool| {
        let mut f = vec![
            ("csrf", csrf),
            ("number", n),
            ("site", "Berlin"),
            ("status", "active"),
        ];
        if main {
            f.push(("main", "1"));
        }
        f
    };
    let (status, _, body) = p.post(Some(&op), &numbers, &add("12x", false)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"number-error\""), "{body}");
    let (status, _, _) = p.post(Some(&op), &numbers, &add("+4930123450", true)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, body) = p.post(Some(&op), &numbers, &add("+4930123451", true)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    error_by(&body, "number", "already has a main number");
    let (status, _, _) = p
        .post(Some(&op), &numbers, &add("+4930123452", false))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, body) = p.get(Some(&op), &page).await;
    assert!(
        body.contains("+4930123450") && body.contains("+4930123452"),
        "{body}"
    );
    assert!(body.contains("2 numbers"), "{body}");
    assert!(
        body.contains(&format!("{}/licences", p.acme.id.0)),
        "{body}"
    );
    // A number assigned to a user: release refused with the rule's message.
    let ada = admin.user(p.acme.id, "Ada Lovelace").await.unwrap();
    let n = admin.number(p.acme.id, "+4930123452").await.unwrap();
    let ada = admin.user_activate(p.acme.id, &ada).await.unwrap();
    admin.number_assign(p.acme.id, &n, &ada).await.unwrap();
    let release = format!("{page}/numbers/{}/release", n.id.0);
    let (status, _, body) = p.post(Some(&op), &release, &[("csrf", csrf)]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    error_by(&body, "release", "assigned to Ada Lovelace");
    let main = admin.number(p.acme.id, "+4930123450").await.unwrap();
    let release = format!("{page}/numbers/{}/release", main.id.0);
    let (status, _, _) = p.post(Some(&op), &release, &[("csrf", csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(admin.number(p.acme.id, "+4930123450").await.is_err());
    // Another tenant's number under this tenant's address: 404.
    let other_release = format!("{}/numbers/{}/release", tenant_page(&p.other), n.id.0);
    let (status, _, _) = p.post(Some(&op), &other_release, &[("csrf", csrf)]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // MACs: a bad one by the field, two reserved, the same for another tenant refused.
    let reserve = format!("{page}/reservations");
    let form = [("csrf", csrf), ("macs", "001565a1b2c3\nnot-a-mac")];
    let (status, _, body) = p.post(Some(&op), &reserve, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"macs-error\""), "{body}");
    assert!(body.contains("not-a-mac</textarea>"), "kept: {body}");
    let form = [("csrf", csrf), ("macs", "001565a1b2c3\n00:15:65:a1:b2:c4")];
    let (status, _, _) = p.post(Some(&op), &reserve, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(admin.device_reservations(p.acme.id).await.unwrap().len(), 2);
    let theirs = format!("{}/reservations", tenant_page(&p.other));
    let form = [("csrf", csrf), ("macs", "001565a1b2c3")];
    let (status, _, body) = p.post(Some(&op), &theirs, &form).await;
    assert_eq!(status, StatusCode::CONFLICT);
    error_by(&body, "macs", "is reserved for tenant");
    let (_, _, body) = p.get(Some(&op), &page).await;
    let shown = admin.device_reservations(p.acme.id).await.unwrap()[0]
        .mac
        .to_string();
    assert!(body.contains(&shown), "{body}");
    let release = format!("{page}/reservations/release");
    let (status, _, _) = p
        .post(Some(&op), &release, &[("csrf", csrf), ("mac", &shown)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(admin.device_reservations(p.acme.id).await.unwrap().len(), 1);
    let (status, _, _) = p
        .post(Some(&op), &release, &[("csrf", csrf), ("mac", &shown)])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn issue_14_browser_operator_activates_allocates_and_removes() {
    use super::browser::Browser;
    use fantoccini::Locator;
    let Some(b) = Browser::open("operator").await else {
        return;
    };
    let p = &b.portal;
    site(p, p.acme.id, "Berlin").await;
    b.login_as(OPERATOR).await;
    assert!(b.nav_labels().await.contains(&"Operator".to_owned()));
    b.go("/operator").await;
    assert_eq!(b.heading().await, "Operator");
    b.assert_no_console_errors().await;
    b.screenshots("operator").await;
    let c = &b.client;
    // Activate Ada from the queue.
    b.click("#queue + div form button").await;
    b.wait_for_text("The user has been activated").await;
    assert_eq!(
        p.server
            .app
            .admin
            .user(p.acme.id, "Ada Lovelace")
            .await
            .unwrap()
            .state,
        UserState::Active
    );
    // Removing Acme is refused with the rule's message.
    let remove = format!(
        "form[action=\"/operator/tenants/{}/remove\"] button",
        p.acme.id.0
    );
    b.click(&remove).await;
    b.wait_for_text("still has").await;
    b.forget_console().await;
    b.screenshots("operator-refused").await;
    // Acme's numbers and MACs: allocate one.
    b.go(&tenant_page(&p.acme)).await;
    b.type_into("new-number", "+4930123456").await;
    b.click("#add + form button[type=submit]").await;
    b.wait_for_text("The number has been allocated").await;
    b.type_into("new-macs", "001565a1b2c3").await;
    b.click("#new-macs ~ button[type=submit]").await;
    b.wait_for_text("The MACs have been pre-assigned").await;
    let main = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        main.contains("+4930123456") && main.contains("001565a1b2c3"),
        "{main}"
    );
    b.assert_no_console_errors().await;
    b.screenshots("operator-tenant").await;
    b.close().await;
}
