//! The audit trail page: who, when, what, before and after; filters by who, kind, action and
//! dates (a date that is none by its field); paging; another tenant's trail is 404.

use autoprov::admin::UserInput;
use reqwest::StatusCode;

use super::sites::{error_by, site};
use super::*;

fn audit(p: &Portal) -> String {
    format!("/t/{}/audit", p.acme.id.0)
}

#[tokio::test]
async fn issue_14_audit_shows_who_when_what_before_after_with_filters() {
    let p = Portal::start().await;
    let sess = p.session(ACME_ADMIN).await;
    // A change through the portal, with its before and after.
    let id = site(&p, p.acme.id, "Berlin").await;
    let form = [
        ("csrf", sess.csrf.as_str()),
        ("allowed_networks", "10.9.0.0/16"),
        ("first_contact_networks", ""),
        ("first_contact_hours", "24"),
    ];
    let trust = format!("/t/{}/sites/{id}/trust", p.acme.id.0);
    let (status, _, _) = p.post(Some(&sess), &trust, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, body) = p.get(Some(&sess), &audit(&p)).await;
    assert_eq!(status, 200, "{body}");
    for text in [
        "portal:admin@acme.test",
        "site",
        "user",
        "create",
        "10.9.0.0&#x2f;16",
        " UTC",
    ] {
        assert!(body.contains(text), "{text} missing: {body}");
    }
    // By kind: only the site's entries.
    let (_, _, body) = p
        .get(Some(&sess), &format!("{}?entity=site", audit(&p)))
        .await;
    assert!(body.contains("10.9.0.0&#x2f;16"), "{body}");
    assert!(
        !body.contains("Lovelace"),
        "the user's entry is filtered out: {body}"
    );
    // By who: nobody of that name.
    let (_, _, body) = p
        .get(Some(&sess), &format!("{}?actor=nobody", audit(&p)))
        .await;
    assert!(body.contains("No entries match"), "{body}");
    // Dates: from tomorrow nothing, to today everything; a date that is none by its field.
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let (_, _, body) = p
        .get(Some(&sess), &format!("{}?from=2999-01-01", audit(&p)))
        .await;
    assert!(body.contains("No entries match"), "{body}");
    let (_, _, body) = p
        .get(
            Some(&sess),
            &format!("{}?from={today}&to={today}", audit(&p)),
        )
        .await;
    assert!(body.contains("10.9.0.0&#x2f;16"), "{body}");
    let (status, _, body) = p
        .get(Some(&sess), &format!("{}?from=31.12.2026", audit(&p)))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    error_by(&body, "from", "not a date");
    // Another tenant's trail: 404; a user: 403.
    let (status, _, _) = p
        .get(Some(&sess), &format!("/t/{}/audit", p.other.id.0))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let user = p.session(ACME_USER).await;
    let (status, _, _) = p.get(Some(&user), &audit(&p)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn issue_14_audit_pages_fifty_at_a_time_with_the_filters_kept() {
    let p = Portal::start().await;
    let admin = &p.server.app.admin;
    for i in 0..55 {
        admin
            .user_add(
                p.acme.id,
                &UserInput {
                    first_name: format!("User{i}"),
                    last_name: "<b>Payload</b>".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let sess = p.session(ACME_ADMIN).await;
    let (_, _, body) = p
        .get(Some(&sess), &format!("{}?entity=user", audit(&p)))
        .await;
    assert!(body.contains("1–50 of 56"), "{body}");
    assert!(body.contains("offset=50&amp;entity=user"), "{body}");
    assert!(!body.contains("<b>Payload"), "escaped: {body}");
    let (_, _, body) = p
        .get(Some(&sess), &format!("{}?offset=50&entity=user", audit(&p)))
        .await;
    assert!(body.contains("51–56 of 56"), "{body}");
    assert!(body.contains("rel=\"prev\""), "{body}");
    assert!(!body.contains("rel=\"next\""), "{body}");
}

/// Every portal-account entry of the whole trail, oldest first, as (tenant, actor, action, text).
async fn account_entries(p: &Portal) -> Vec<(Option<i64>, String, String, String)> {
    let filter = autoprov::store::AuditFilter {
        entity: Some("portal-account".into()),
        limit: 100,
        ..Default::default()
    };
    let (mut entries, _) = p.server.app.admin.audit(None, &filter).await.unwrap();
    entries.reverse();
    entries
        .into_iter()
        .map(|e| {
            let text = serde_json::to_string(&e).unwrap();
            (e.tenant_id, e.actor.unwrap_or_default(), e.action, text)
        })
        .collect()
}

#[tokio::test]
async fn issue_14_portal_accounts_made_reset_and_changed_are_audited_without_secrets() {
    let p = Portal::start().await;
    // The fixture's four accounts: each made, in its tenant's trail (the operator's in the
    // platform's), with its login and role.
    let made = account_entries(&p).await;
    assert_eq!(made.len(), 4, "{made:?}");
    assert!(made.iter().all(|(_, _, action, _)| action == "create"));
    assert_eq!(
        made[0].0, None,
        "the operator's is the platform's: {made:?}"
    );
    assert_eq!(made[1].0, Some(p.acme.id.0), "{made:?}");
    assert!(made[1].3.contains("admin@acme.test") && made[1].3.contains("tenant-admin"));
    // The first login's change, by the account itself; a later change too.
    let sess = p.session(ACME_ADMIN).await;
    let (status, _, body) = p
        .post(
            Some(&sess),
            "/password",
            &[
                ("csrf", sess.csrf.as_str()),
                ("current", CHANGED),
                ("password", "third-password-3"),
                ("confirm", "third-password-3"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    // A reset by the operator at the CLI.
    let given = p
        .server
        .app
        .admin
        .acting("cli:root")
        .portal_password_reset(ACME_ADMIN)
        .await
        .unwrap();
    let all = account_entries(&p).await;
    let later: Vec<_> = all[4..]
        .iter()
        .map(|(t, actor, action, _)| (*t, actor.as_str(), action.as_str()))
        .collect();
    let me = "portal:admin@acme.test tenant-admin";
    let acme = Some(p.acme.id.0);
    assert_eq!(
        later,
        [
            (acme, me, "password-change"),
            (acme, me, "password-change"),
            (acme, "cli:root", "password-reset"),
        ]
    );
    assert!(all[4].3.contains(r#""must_change":true"#), "{:?}", all[4]);
    for (_, _, _, text) in &all {
        for secret in [FIRST, CHANGED, "third-password-3", given.expose(), "argon2"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

fn platform_audit(query: &str) -> String {
    format!("/operator/audit{query}")
}

#[tokio::test]
async fn issue_14_the_operator_audit_lists_every_tenant_with_a_tenant_filter() {
    let p = Portal::start().await;
    site(&p, p.acme.id, "Acme-Berlin").await;
    site(&p, p.other.id, "Other-Paris").await;
    let op = p.session(OPERATOR).await;
    // Reached from the operator's home.
    let (_, _, home) = p.get(Some(&op), "/operator").await;
    assert!(home.contains("href=\"/operator/audit\""), "{home}");
    let (status, _, body) = p.get(Some(&op), &platform_audit("")).await;
    assert_eq!(status, 200, "{body}");
    for text in [
        "Acme-Berlin",
        "Other-Paris",
        "data-label=\"Tenant\">Acme<",
        "data-label=\"Tenant\">Other<",
        "data-label=\"Tenant\">Platform<",
        "portal-account",
        "name=\"tenant\"",
    ] {
        assert!(body.contains(text), "{text} missing: {body}");
    }
    // One tenant's, by id or name.
    for key in [p.other.id.0.to_string(), "Other".to_owned()] {
        let (status, _, body) = p
            .get(
                Some(&op),
                &platform_audit(&format!("?tenant={key}&entity=site")),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("Other-Paris"), "{body}");
        assert!(!body.contains("Acme-Berlin"), "{body}");
    }
    // The platform's own: the operator's account and the tenants, nothing of a tenant's.
    let (_, _, body) = p.get(Some(&op), &platform_audit("?tenant=platform")).await;
    assert!(body.contains("portal-account"), "{body}");
    assert!(
        body.contains("&quot;login&quot;: &quot;operator&quot;"),
        "{body}"
    );
    assert!(!body.contains("Acme-Berlin") && !body.contains("admin@acme.test"));
    // The other filters still work; the page keeps the tenant filter in its links.
    let (_, _, body) = p
        .get(Some(&op), &platform_audit("?tenant=platform&actor=nobody"))
        .await;
    assert!(body.contains("No entries match"), "{body}");
    // An unknown tenant is an error by its field.
    let (status, _, body) = p.get(Some(&op), &platform_audit("?tenant=Nope")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    error_by(&body, "tenant", "no tenant &quot;Nope&quot;");
    // Only the operator: a tenant's admin and a user get the 403 page.
    for login in [ACME_ADMIN, ACME_USER] {
        let sess = p.session(login).await;
        let (status, _, body) = p.get(Some(&sess), &platform_audit("")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{login}: {body}");
        assert!(!body.contains("Other-Paris"), "{body}");
    }
}

#[tokio::test]
async fn issue_14_browser_operator_audit_from_the_operator_home() {
    use super::browser::Browser;
    use fantoccini::Locator;
    let Some(b) = Browser::open("operator_audit").await else {
        return;
    };
    let p = &b.portal;
    site(p, p.acme.id, "Acme-Berlin").await;
    site(p, p.other.id, "Other-Paris").await;
    b.login_as(OPERATOR).await;
    b.go("/operator").await;
    b.client
        .find(Locator::Css("a[href='/operator/audit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_path(
        |path| path == "/operator/audit",
        "the platform's audit trail",
    )
    .await;
    assert!(b.heading().await.starts_with("Audit trail"));
    b.assert_no_console_errors().await;
    b.screenshots("operator-audit").await;
    b.close().await;
}
