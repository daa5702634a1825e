//! Users (000, 001, 003): licences, the pending lock, app registration, PBX options,
//! self-service, trunks and BLF monitor lists.

use serde_json::json;

use super::{Ada, Admin, Operator, Portal, UA};

const KIM: &str = "users/Kim Mobile";

/// Sizes the app licence pool to one and creates Kim (pending) with it.
async fn kim(p: &Portal) {
    p.put(Operator, "licences/app", json!({ "total": 1 }))
        .await
        .is(200);
    let user = p
        .post(
            Admin,
            "users",
            json!({ "first_name": "Kim", "last_name": "Mobile", "mobile": "+491701234567",
                    "contract_number": "K-1", "licences": ["app"] }),
        )
        .await;
    assert_eq!(user.is(201)["mobile"], "+491701234567");
}

/// The operator sizes licence pools; users draw from them; a refused creation leaves nothing;
/// a pool cannot fall below what is assigned; an unknown kind names its field.
#[tokio::test]
async fn licence_pools_are_the_operators_and_users_draw_from_them() {
    let p = Portal::new().await;
    p.put(Admin, "licences/app", json!({ "total": 1 }))
        .await
        .is(403);
    kim(&p).await;
    p.post(
        Admin,
        "users",
        json!({ "first_name": "Lee", "last_name": "Late", "licences": ["app"] }),
    )
    .await
    .refused(409, "no app licence");
    let lee = p.get(Admin, "users/Lee Late").await;
    assert_eq!(lee.status, 404, "a refused creation leaves no user behind");
    let pools = p.get(Admin, "licences").await;
    let app = pools.is(200).as_array().unwrap();
    let app = app.iter().find(|p| p["kind"] == "app").unwrap();
    assert_eq!(
        (
            app["total"].as_i64(),
            app["assigned"].as_i64(),
            app["available"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
    let shrink = p.put(Operator, "licences/app", json!({ "total": 0 })).await;
    assert_eq!(
        shrink.status, 409,
        "a pool cannot fall below what is assigned"
    );
    p.put(Operator, "licences/fax", json!({ "total": 1 }))
        .await
        .invalid("kind");
}

/// Pending: the profile changes, the configuration does not.
#[tokio::test]
async fn a_pending_users_configuration_is_fixed() {
    let p = Portal::new().await;
    kim(&p).await;
    p.patch(Admin, KIM, json!({ "first_name": "Kimberly" }))
        .await
        .is(200);
    let kim = "users/Kimberly Mobile";
    p.patch(Admin, kim, json!({ "mobile": "+491709999999" }))
        .await
        .refused(409, "pending");
    p.put(Admin, &format!("{kim}/licences"), json!({ "licences": [] }))
        .await
        .is(409);
    p.patch(Admin, kim, json!({ "mobile": "0170 123" }))
        .await
        .invalid("mobile");
}

/// The app registration e-mail is changeable (each change re-invites) until registered.
#[tokio::test]
async fn the_app_email_is_fixed_once_registered() {
    let p = Portal::new().await;
    kim(&p).await;
    let u = p
        .patch(Admin, KIM, json!({ "app_email": "kim@example.com" }))
        .await;
    assert_eq!(u.is(200)["app_invitations"], 1);
    let u = p
        .patch(Admin, KIM, json!({ "app_email": "kim@example.org" }))
        .await;
    assert_eq!(
        (
            u.is(200)["app_invitations"].as_i64(),
            u.body["app_login"].as_str()
        ),
        (Some(2), None)
    );
    let u = p
        .post(
            Operator,
            &format!("{KIM}/app-registration"),
            json!({ "login": "kim.m" }),
        )
        .await;
    assert_eq!(u.is(200)["app_login"], "kim.m");
    p.patch(Admin, KIM, json!({ "app_email": "new@example.com" }))
        .await
        .refused(409, "fixed");
}

/// Each PBX option is validated and named when wrong.
#[tokio::test]
async fn each_pbx_option_is_validated() {
    let p = Portal::new().await;
    kim(&p).await;
    for (option, value) in [
        ("conference_pin", json!("1111")),
        ("displayed_number", json!("+4990012345678")),
        ("missed_call_email", json!(true)),
        ("personal_conference_room", json!(true)),
    ] {
        p.patch(Admin, KIM, json!({ "options": { option: value } }))
            .await
            .invalid(option);
    }
    let u = p
        .patch(
            Admin,
            KIM,
            json!({ "options": { "cti_access": true, "room_number": "204" } }),
        )
        .await;
    assert_eq!(
        (
            u.is(200)["options"]["cti_access"].as_bool(),
            u.body["options"]["behind_nat"].as_bool()
        ),
        (Some(true), Some(true))
    );
}

/// A user who hides from the directory leaves the phones' directory.
#[tokio::test]
async fn a_hidden_user_leaves_the_phones_directory() {
    let p = Portal::new().await;
    let directory = "/001565a1b2c3-directory.xml";
    let (_, _, before) = p.server.fetch(directory, Some(UA)).await;
    assert!(before.contains("Ada Lovelace"), "{before}");
    p.patch(
        Ada,
        "users/Ada Lovelace",
        json!({ "options": { "hidden_from_directory": true } }),
    )
    .await
    .is(200);
    let (_, _, after) = p.server.fetch(directory, Some(UA)).await;
    assert!(!after.contains("Ada Lovelace"), "{after}");
}

/// Self-service options are the user's; the other options and the configuration are the
/// admin's.
#[tokio::test]
async fn a_user_changes_only_self_service_options() {
    let p = Portal::new().await;
    let ada = "users/Ada Lovelace";
    p.patch(Ada, ada, json!({ "options": { "cti_access": true } }))
        .await
        .is(403);
    p.patch(Ada, ada, json!({ "options": { "push_missed": true } }))
        .await
        .is(200);
    p.patch(Ada, ada, json!({ "extension": "99" }))
        .await
        .is(403);
}

/// A displayed number must be the tenant's own active number.
#[tokio::test]
async fn a_displayed_number_is_the_tenants_own() {
    let p = Portal::new().await;
    let ada = "users/Ada Lovelace";
    let shown = |n: &str| json!({ "options": { "displayed_number": n } });
    p.patch(Admin, ada, shown("+4930555555"))
        .await
        .invalid("displayed_number");
    p.patch(Admin, ada, shown("+4930123456")).await.is(200);
}

/// Options that depend on something else keep it: the e-mail of missed-call e-mails, the
/// licence of a conference room. The audit trail keeps that a conference PIN is set, not the
/// PIN, and the licences before and after.
#[tokio::test]
async fn options_keep_what_they_depend_on() {
    let p = Portal::new().await;
    let ada = "users/Ada Lovelace";
    p.patch(
        Admin,
        ada,
        json!({ "email": "ada@example.com", "options": { "missed_call_email": true } }),
    )
    .await
    .is(200);
    p.patch(Admin, ada, json!({ "email": "" }))
        .await
        .invalid("email");
    p.put(Operator, "licences/conference-room", json!({ "total": 1 }))
        .await
        .is(200);
    // MyRoom dials in through a Collaborate bridge.
    p.numbers(&[("+4930123461", "active")]).await;
    let bridge = json!({ "name": "Bridge", "number": "+4930123461" });
    p.post(Admin, "bridges", bridge).await.is(201);
    let licences = format!("{ada}/licences");
    p.put(Admin, &licences, json!({ "licences": ["conference-room"] }))
        .await
        .is(200);
    p.patch(
        Admin,
        ada,
        json!({ "options": { "personal_conference_room": true, "conference_pin": "2580" } }),
    )
    .await
    .is(200);
    p.put(Admin, &licences, json!({ "licences": [] }))
        .await
        .refused(409, "conference room");
    let trail = p
        .get(Admin, "audit?entity=user&action=update&limit=1")
        .await;
    assert_eq!(
        trail.is(200)[0]["after"]["options"]["conference_pin"],
        "(set)",
        "{}",
        trail.body
    );
    assert!(!trail.body.to_string().contains("2580"));
    let trail = p.get(Admin, "audit?action=licences&limit=1").await;
    assert_eq!(
        trail.is(200)[0]["after"]["licences"],
        json!(["conference-room"]),
        "{}",
        trail.body
    );
}

/// With several trunks a user needs a preferred one (the error lists them); the extension
/// need not match the external number.
#[tokio::test]
async fn trunks_need_a_preferred_one_when_several() {
    let p = Portal::new().await;
    p.numbers(&[("+4930123460", "active")]).await;
    for name in ["Trunk A", "Trunk B"] {
        p.post(Operator, "sites/Berlin/trunks", json!({ "name": name }))
            .await
            .is(201);
    }
    let mut ext = json!({ "first_name": "Ext", "last_name": "Ension",
                          "number": "+4930123460", "extension": "77" });
    let answer = p.post(Admin, "users", ext.clone()).await;
    answer.invalid("trunk");
    answer.refused(422, "Trunk A, Trunk B");
    ext["trunk"] = json!("Trunk B");
    let u = p.post(Admin, "users", ext).await;
    assert_eq!(u.is(201)["extension"], "77");
    assert!(u.body["trunk_id"].is_i64());
}

/// BLF: a user may watch a colleague only with the admin's grant; the list shows nothing
/// private and becomes a key named by the number's label; withdrawing the grant takes it away.
#[tokio::test]
async fn blf_grants_gate_monitor_lists_that_become_keys() {
    let p = Portal::new().await;
    p.numbers(&[("+4930123470", "active")]).await;
    p.post(
        Admin,
        "users",
        json!({ "first_name": "Bea", "last_name": "Busy", "number": "+4930123470" }),
    )
    .await
    .is(201);
    let monitors = "users/Ada Lovelace/monitors";
    let bea = json!({ "user": "Bea Busy" });
    p.post(Ada, monitors, bea.clone()).await.invalid("watched");
    p.post(Ada, "blf-grants", json!({ "watched": "Bea Busy" }))
        .await
        .is(403);
    let grant = p
        .post(
            Admin,
            "blf-grants",
            json!({ "watched": "Bea Busy", "watcher": "Ada Lovelace" }),
        )
        .await;
    let grant = grant.is(201).clone();
    let list = p.post(Ada, monitors, bea).await;
    let list = list.is(200);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["name"], "Bea Busy");
    assert!(
        list[0].get("options").is_none() && list[0].get("mobile").is_none(),
        "{list}"
    );
    let file = p.phone_file().await;
    assert!(
        file.contains("linekey.2.type = 16") && file.contains("linekey.2.value = 3470"),
        "{file}"
    );
    p.put(
        Admin,
        "numbers/+4930123470/label",
        json!({ "first": "Sales", "last": "Desk" }),
    )
    .await
    .is(200);
    assert!(p
        .phone_file()
        .await
        .contains("linekey.2.label = Sales Desk"));
    p.delete(Admin, "blf-grants/abc").await.is(404);
    p.delete(Admin, &format!("blf-grants/{}", grant["id"]))
        .await
        .is(204);
    let list = p.get(Ada, monitors).await;
    assert_eq!(list.is(200).as_array().map(Vec::len), Some(0));
    assert!(!p.phone_file().await.contains("linekey.2.type = 16"));
}
