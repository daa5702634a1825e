//! The telephony list (002): numbers, their actions, labels, search, assignment and status.

use serde_json::json;

use super::{Admin, Operator, Portal, ADA};

/// Adds Berlin's main number, +4930123000.
async fn main_number(p: &Portal) {
    let main = json!({ "number": "+4930123000", "status": "active", "main": true });
    p.post(Operator, "numbers", main).await.is(201);
}

/// The list shows the first site alphabetically unless `site` picks one, with each number's
/// assignment, extension, handset, status and default PIN.
#[tokio::test]
async fn the_list_defaults_to_the_first_site_and_shows_assignments() {
    let p = Portal::new().await;
    p.numbers(&[("+4930123400", "active"), ("+4930123401", "reserved")])
        .await;
    main_number(&p).await;
    p.site("Aachen").await;
    let list = p.get(Admin, "numbers").await;
    assert_eq!(list.is(200).as_array().unwrap().len(), 0, "{}", list.body);
    let list = p.get(Admin, "numbers?site=Berlin").await;
    let rows = list.is(200).as_array().unwrap();
    assert_eq!(rows.len(), 4, "{}", list.body);
    let row = |n: &str| rows.iter().find(|r| r["e164"] == n).unwrap().clone();
    assert_eq!(row("+4930123000")["assigned_to"], "Main Number");
    assert_eq!(row(ADA)["assigned_to"], "Ada Lovelace");
    assert_eq!(row(ADA)["extension"], "3456");
    assert_eq!(row(ADA)["logged_in"]["mac"], "001565a1b2c3");
    assert_eq!(row("+4930123401")["status"], "reserved");
    assert_eq!(row("+4930123401")["default_pin"].as_str().unwrap().len(), 6);
}

/// TKG §66k: no premium or mass-calling number as a tenant's number.
#[tokio::test]
async fn a_mass_calling_number_is_refused() {
    let p = Portal::new().await;
    let answer = p
        .post(Operator, "numbers", json!({ "number": "+4913799999" }))
        .await;
    answer.invalid("number");
    answer.refused(422, "mass-calling");
}

/// Actions are not offered on the main number, nor on a reserved one.
#[tokio::test]
async fn actions_are_refused_on_the_main_and_reserved_numbers() {
    let p = Portal::new().await;
    p.numbers(&[("+4930123401", "reserved")]).await;
    main_number(&p).await;
    p.act(Admin, "numbers/+4930123000/reset-pin")
        .await
        .refused(409, "read-only");
    p.act(Admin, "numbers/+4930123401/reset-pin")
        .await
        .refused(409, "reserved");
}

/// The operator activates a number; a tenant admin may not.
#[tokio::test]
async fn only_the_operator_changes_a_numbers_status() {
    let p = Portal::new().await;
    p.numbers(&[("+4930123401", "reserved")]).await;
    let active = json!({ "status": "active" });
    p.post(Admin, "numbers/+4930123401/status", active.clone())
        .await
        .is(403);
    let n = p.post(Operator, "numbers/+4930123401/status", active).await;
    assert_eq!(n.is(200)["status"], "active");
}

/// The label overrides the user's name in the list and on the phone; the assignment stays,
/// and search finds by number and by "assigned to".
#[tokio::test]
async fn a_label_names_the_number_and_is_searched() {
    let p = Portal::new().await;
    p.numbers(&[("+4930123400", "active"), ("+4930123401", "reserved")])
        .await;
    let label = format!("numbers/{ADA}/label");
    let n = p
        .put(Admin, &label, json!({ "first": "Front", "last": "Desk" }))
        .await;
    assert_eq!(n.is(200)["label_first"], "Front");
    assert!(p
        .phone_file()
        .await
        .contains("account.1.display_name = Front Desk"));
    let user = p.get(Admin, "users/Ada Lovelace").await;
    assert_eq!(user.is(200)["number"], ADA);
    let found = p.get(Admin, "numbers?site=Berlin&q=front").await;
    assert_eq!(found.is(200).as_array().unwrap().len(), 1, "{}", found.body);
    let found = p.get(Admin, "numbers?site=all&q=12340").await;
    assert_eq!(found.is(200).as_array().unwrap().len(), 2, "{}", found.body);
    p.put(Admin, &label, json!({ "first": "x".repeat(65) }))
        .await
        .invalid("label_first");
}

/// A number is assigned only to an active user without one.
#[tokio::test]
async fn a_number_is_assigned_only_to_an_active_user_without_one() {
    let p = Portal::new().await;
    p.numbers(&[("+4930123400", "active")]).await;
    let assign = "numbers/+4930123400/assign";
    p.post(Admin, assign, json!({ "user": "Ada Lovelace" }))
        .await
        .refused(409, "already has a number");
    p.grace_pending().await;
    let answer = p
        .post(Admin, assign, json!({ "user": "Grace Hopper" }))
        .await;
    assert_eq!(
        answer.status, 409,
        "a pending user's configuration is fixed"
    );
    answer.refused(409, "pending");
    p.act(Operator, "users/Grace Hopper/activate").await.is(200);
    p.post(Admin, assign, json!({ "user": "Grace Hopper" }))
        .await
        .is(200);
    let grace = p.get(Admin, "users/Grace Hopper").await;
    assert_eq!(
        (
            grace.is(200)["number"].as_str(),
            grace.body["extension"].as_str()
        ),
        (Some("+4930123400"), Some("3400"))
    );
}

/// Unassigning gives the number back with a new default PIN (the last holder could read the
/// old one) and without the last holder's forwarding.
#[tokio::test]
async fn unassigning_renews_the_pin_and_drops_the_features() {
    let p = Portal::new().await;
    p.numbers(&[("+4930123400", "active")]).await;
    p.grace_pending().await;
    p.act(Operator, "users/Grace Hopper/activate").await.is(200);
    p.post(
        Admin,
        "numbers/+4930123400/assign",
        json!({ "user": "Grace Hopper" }),
    )
    .await
    .is(200);
    p.patch(
        Admin,
        "numbers/+4930123400/features",
        json!({ "forward_always": "+4930999000" }),
    )
    .await
    .is(200);
    let before = p.get(Admin, "numbers/+4930123400").await;
    let n = p.act(Admin, "numbers/+4930123400/unassign").await;
    let n = n.is(200);
    assert_ne!(n["default_pin"], before.is(200)["default_pin"], "{n}");
    assert!(n["features"]["forward_always"].is_null(), "{n}");
    let grace = p.get(Admin, "users/Grace Hopper").await;
    assert!(grace.is(200)["number"].is_null());
}

/// A number in use cannot go back to reserved: assigned, or logged in to a handset.
#[tokio::test]
async fn a_number_in_use_stays_active() {
    let p = Portal::new().await;
    p.numbers(&[("+4930123400", "active")]).await;
    let reserved = json!({ "status": "reserved" });
    p.post(Operator, &format!("numbers/{ADA}/status"), reserved.clone())
        .await
        .refused(409, "assigned to Ada");
    p.device("001565000400", Some("Berlin")).await;
    p.post(
        Admin,
        "numbers/+4930123400/login",
        json!({ "mac": "00:15:65:00:04:00" }),
    )
    .await
    .is(200);
    p.post(Operator, "numbers/+4930123400/status", reserved)
        .await
        .refused(409, "logged in to handset");
}
