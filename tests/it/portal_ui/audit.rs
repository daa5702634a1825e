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
