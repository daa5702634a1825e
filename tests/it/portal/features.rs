//! Call features of a number (002): forwarding, voicemail, caller ID, each rule naming its
//! field.

use serde_json::{json, Value};

use super::{Ada, Admin, Operator, Portal, ADA};

async fn features(p: &Portal, body: Value) -> super::Answer {
    p.patch(Admin, &format!("numbers/{ADA}/features"), body)
        .await
}

/// A change is a merge: earlier settings stay.
#[tokio::test]
async fn a_change_merges_into_the_features() {
    let p = Portal::new().await;
    let n = features(
        &p,
        json!({ "forward_no_answer": "+4930999000", "voicemail": true }),
    )
    .await;
    assert_eq!(n.is(200)["features"]["forward_no_answer"], "+4930999000");
    let n = features(&p, json!({ "call_waiting": true })).await;
    assert_eq!(n.is(200)["features"]["voicemail"], true);
}

/// Each rule of the features answers 422 naming its field and saying why.
#[tokio::test]
async fn each_feature_rule_names_its_field() {
    let p = Portal::new().await;
    p.numbers(&[("+4930123498", "reserved")]).await;
    features(&p, json!({ "call_waiting": true })).await.is(200);
    let cases = [
        (
            json!({ "forward_busy": "+4930999001" }),
            "forward_busy",
            "call waiting",
        ),
        (
            json!({ "voicemail_email": "not-an-address" }),
            "voicemail_email",
            "e-mail",
        ),
        (
            json!({ "forward_always": "030123" }),
            "forward_always",
            "E.164",
        ),
        (json!({ "cli_enabled": true }), "cli_number", "choose"),
        (
            json!({ "cli_enabled": true, "cli_number": "+4913712345" }),
            "cli_number",
            "66k",
        ),
        (
            json!({ "cli_enabled": true, "cli_number": "+499001234567" }),
            "cli_number",
            "premium",
        ),
        (
            json!({ "cli_enabled": true, "cli_number": "+4930123498" }),
            "cli_number",
            "active",
        ),
        (
            json!({ "cli_enabled": true, "cli_number": "+4940999999" }),
            "cli_number",
            "not one of",
        ),
        (json!({ "colour": "red" }), "colour", "unknown field"),
    ];
    for (body, field, says) in cases {
        let reply = features(&p, body).await;
        reply.invalid(field);
        reply.refused(422, says);
    }
}

/// A number shown as someone's caller ID stays active until they stop showing it.
#[tokio::test]
async fn a_number_shown_as_caller_id_stays_active() {
    let p = Portal::new().await;
    p.numbers(&[("+4930123499", "active")]).await;
    let n = features(
        &p,
        json!({ "cli_enabled": true, "cli_number": "+4930123499", "hide_caller_id": true }),
    )
    .await;
    assert_eq!(n.is(200)["features"]["cli_number"], "+4930123499");
    p.post(
        Operator,
        "numbers/+4930123499/status",
        json!({ "status": "reserved" }),
    )
    .await
    .refused(409, "shown to callers by +4930123456");
}

/// The user may change their own number's features, not someone else's.
#[tokio::test]
async fn a_user_changes_only_their_own_numbers_features() {
    let p = Portal::new().await;
    p.numbers(&[("+4930123499", "active")]).await;
    let dnd = json!({ "do_not_disturb": true });
    p.patch(Ada, &format!("numbers/{ADA}/features"), dnd.clone())
        .await
        .is(200);
    p.patch(Ada, "numbers/+4930123499/features", dnd)
        .await
        .is(403);
}
