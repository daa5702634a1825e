//! The audit trail (004): who did what, before and after, with no secrets, filtered and bounded.

use serde_json::json;

use super::{Admin, Operator, Portal};

fn urlencode(s: &str) -> String {
    s.replace(' ', "%20").replace(':', "%3A")
}

/// A change is recorded with its actor and the record before and after; no secret is in the
/// trail; it filters by actor and bounds its page.
#[tokio::test]
async fn a_change_is_recorded_with_its_actor() {
    let p = Portal::new().await;
    p.patch(Admin, "users/Ada Lovelace", json!({ "last_name": "Byron" }))
        .await
        .is(200);
    let list = p.get(Admin, "audit?entity=user&action=update").await;
    let e = &list.is(200)[0];
    assert!(
        e["actor"].as_str().unwrap().ends_with("tenant-admin"),
        "{e}"
    );
    assert_eq!(
        (
            e["before"]["last_name"].as_str(),
            e["after"]["last_name"].as_str()
        ),
        (Some("Lovelace"), Some("Byron"))
    );
    let all = p.get(Admin, "audit?limit=500").await;
    let text = all.is(200).to_string();
    assert!(
        !text.contains("password") && !text.contains("pin_hash"),
        "no secrets in the audit: {text}"
    );
    let actor = urlencode(e["actor"].as_str().unwrap());
    let mine = p.get(Admin, &format!("audit?actor={actor}")).await;
    assert_eq!(mine.is(200).as_array().unwrap().len(), 1, "{}", mine.body);
    p.get(Admin, "audit?limit=100000").await.invalid("limit");
}

/// Tokens: their creation (role, never the secret) and revocation are on record; the
/// operator's trail holds every tenant's entries and the platform's own tokens.
#[tokio::test]
async fn tokens_are_on_record_without_their_secrets() {
    let p = Portal::new().await;
    let id = crate::api::token_id(&p.server, &p.t.acme_user).await;
    p.server.app.admin.token_revoke(id).await.unwrap();
    let tokens = p.get(Admin, "audit?entity=token").await;
    let actions: Vec<(&str, &str)> = tokens
        .is(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["after"]["role"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("revoke", "-"),
            ("create", "user"),
            ("create", "tenant-admin")
        ]
    );
    assert!(
        !tokens.body.to_string().contains(&p.t.acme_user),
        "{}",
        tokens.body
    );
    let platform_id = crate::api::token_id(&p.server, &p.t.platform).await;
    let all = p
        .get(Operator, "/api/v1/audit?entity=token&limit=500")
        .await;
    let platform_token = all
        .is(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entity_id"] == platform_id)
        .unwrap_or_else(|| panic!("{}", all.body));
    assert!(
        platform_token["tenant_id"].is_null()
            && platform_token["after"]["role"] == "platform-admin"
    );
}

/// Deleting a user leaves a record with the user as they were.
#[tokio::test]
async fn a_deleted_user_stays_on_record() {
    let p = Portal::new().await;
    p.delete(Admin, "users/Ada Lovelace").await.is(204);
    let gone = p.get(Admin, "audit?entity=user&action=delete").await;
    assert_eq!(gone.is(200)[0]["before"]["first_name"], "Ada");
    assert!(gone.body[0]["after"].is_null());
}
