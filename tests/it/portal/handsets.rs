//! Handsets (002, 003): found by Phone ID, one number each, logged in and out, login details
//! shown once, and a number logs in at its own site only.

use serde_json::json;

use super::{Admin, Operator, Portal, ADA};

/// Ada's handset's Phone ID.
async fn phone_id(p: &Portal) -> String {
    let device = p.get(Admin, "devices/001565a1b2c3").await;
    device.is(200)["phone_id"].as_str().unwrap().to_owned()
}

/// A handset is found by its Phone ID too; inside the allowed network no credentials were
/// issued, so its window is still open, and no password is shown.
#[tokio::test]
async fn a_handset_is_found_by_its_phone_id() {
    let p = Portal::new().await;
    let phone_id = phone_id(&p).await;
    assert_eq!(phone_id.len(), 6);
    let same = p.get(Admin, &format!("devices/{phone_id}")).await;
    let same = same.is(200);
    assert_eq!(same["mac"], "001565a1b2c3");
    assert!(same["last_seen"].is_null());
    assert_eq!(same["state"], "awaiting-first-contact");
    assert_eq!(same["lines"][0]["number"], ADA);
    assert!(!same.to_string().contains("password"), "{same}");
}

/// Someone is logged in there: a second number is refused.
#[tokio::test]
async fn a_handset_takes_one_number() {
    let p = Portal::new().await;
    p.numbers(&[("+4930123455", "active")]).await;
    let phone_id = phone_id(&p).await;
    p.post(
        Admin,
        "numbers/+4930123455/login",
        json!({ "phone_id": phone_id }),
    )
    .await
    .refused(409, "someone is already logged in");
}

/// Logging out takes the line off the phone at its next fetch (twice is a conflict); logging
/// in by Phone ID (any case) puts it back with login details shown once, never in a GET; new
/// login details reach the phone.
#[tokio::test]
async fn login_details_are_shown_once_and_reach_the_phone() {
    let p = Portal::new().await;
    let phone_id = phone_id(&p).await;
    let logout = format!("numbers/{ADA}/logout");
    p.act(Admin, &logout).await.is(200);
    assert!(!p.phone_file().await.contains("account.1.user_name"));
    p.act(Admin, &logout).await.is(409);
    let login = p
        .post(
            Admin,
            &format!("numbers/{ADA}/login"),
            json!({ "phone_id": phone_id.to_lowercase() }),
        )
        .await;
    let first = login.is(200)["sip_password"].as_str().unwrap().to_owned();
    assert!(p
        .phone_file()
        .await
        .contains(&format!("account.1.password = {first}")));
    for get in [
        "numbers?site=all",
        "devices",
        "users",
        &format!("numbers/{ADA}"),
    ] {
        let body = p.get(Admin, get).await.body;
        assert!(!body.to_string().contains(&first), "{get}");
    }
    let again = p.act(Admin, &format!("numbers/{ADA}/login-details")).await;
    let second = again.is(200)["sip_password"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let file = p.phone_file().await;
    assert!(
        file.contains(&format!("account.1.password = {second}")),
        "{file}"
    );
}

/// Bulk: one password for the chosen users, as CSV, which the phones get; a short one is
/// refused.
#[tokio::test]
async fn device_passwords_in_bulk_as_csv() {
    let p = Portal::new().await;
    let phone_id = phone_id(&p).await;
    let server = &p.server;
    let resp = server
        .admin_client
        .post(server.admin_url(&super::path("users/device-passwords?format=csv")))
        .header("Authorization", format!("Bearer {}", p.t.acme_admin))
        .header("Content-Type", "application/json")
        .body(json!({ "users": ["Ada Lovelace"], "password": "Sommer-2026!" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = resp.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "first_name,last_name,number,phone_id,mac,position,sip_user,sip_password"
    );
    assert_eq!(
        lines.next().unwrap(),
        format!("Ada,Lovelace,{ADA},{phone_id},001565a1b2c3,1,4930123456,Sommer-2026!")
    );
    assert!(p
        .phone_file()
        .await
        .contains("account.1.password = Sommer-2026!"));
    p.post(
        Admin,
        "users/device-passwords",
        json!({ "password": "short" }),
    )
    .await
    .invalid("password");
}

/// A number logs in to handsets at its own site only; a handset moves site only without a
/// line, and then takes the new site's number.
#[tokio::test]
async fn a_number_logs_in_at_its_own_site_only() {
    let p = Portal::new().await;
    let phone_id = phone_id(&p).await;
    p.site("Hamburg").await;
    p.post(
        Operator,
        "numbers",
        json!({ "number": "+494012345", "site": "Hamburg", "status": "active" }),
    )
    .await
    .is(201);
    p.device("001565000999", None).await;
    let login = json!({ "mac": "001565000999" });
    p.post(Admin, "numbers/+494012345/login", login.clone())
        .await
        .refused(409, "another site");
    let hamburg = json!({ "site": "Hamburg" });
    p.patch(Admin, &format!("devices/{phone_id}"), hamburg.clone())
        .await
        .is(409);
    p.patch(Admin, "devices/001565000999", hamburg)
        .await
        .is(200);
    p.post(Admin, "numbers/+494012345/login", login)
        .await
        .is(200);
}

/// Neither the handset nor its MAC given: the field is named.
#[tokio::test]
async fn a_login_names_the_missing_handset() {
    let p = Portal::new().await;
    p.numbers(&[("+4930123455", "active")]).await;
    p.post(Admin, "numbers/+4930123455/login", json!({}))
        .await
        .invalid("phone_id");
}
