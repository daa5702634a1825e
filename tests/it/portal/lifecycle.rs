//! The device life cycle through the API (issue 13): removing, replacing and changing handsets,
//! numbers back to the operator, sites changed and removed, tenants removed, tokens listed,
//! models listed; each refusal with its message, each change in the audit trail.

use serde_json::{json, Value};

use super::{Ada, Admin, Operator, Portal, ADA};

/// The audit entries of Acme matching `query` (e.g. `entity=device&action=delete`).
async fn audit(p: &Portal, query: &str) -> Vec<Value> {
    let list = p.get(Admin, &format!("audit?{query}")).await;
    list.is(200).as_array().unwrap().clone()
}

/// Removing a handset logs its lines out (the number stays, free to log in elsewhere), keeps
/// its record in the trail, and frees its MAC.
#[tokio::test]
async fn a_removed_handset_frees_its_mac_and_its_lines() {
    let p = Portal::new().await;
    p.delete(Ada, "devices/001565a1b2c3").await.is(403);
    let removed = p.delete(Admin, "devices/001565a1b2c3").await;
    assert_eq!(removed.is(200)["lines_logged_out"], json!([ADA]));
    p.get(Admin, "devices/001565a1b2c3").await.is(404);
    p.delete(Admin, "devices/001565a1b2c3")
        .await
        .refused(404, "001565a1b2c3");
    // The number is free to log in to another handset.
    p.device("001565000002", None).await;
    p.post(
        Admin,
        &format!("numbers/{ADA}/login"),
        json!({ "mac": "001565000002" }),
    )
    .await
    .is(200);
    let trail = audit(&p, "entity=device&action=delete").await;
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0]["before"]["mac"], "001565a1b2c3");
    assert_eq!(trail[0]["after"]["lines_logged_out"], json!([ADA]));
    // Gone from the phone's view too: the uniform 404, as for a MAC nobody registered.
    let (status, _, _) = p.server.fetch("/001565a1b2c3.cfg", None).await;
    assert_eq!(status, 404);
    p.device("001565a1b2c3", None).await;
}

/// A replacement MAC must be new hardware's: the handset's own or a taken one is refused.
#[tokio::test]
async fn a_replacement_mac_must_be_free() {
    let p = Portal::new().await;
    p.device("001565000002", None).await;
    let replace = "devices/001565a1b2c3/replace";
    p.post(Admin, replace, json!({ "mac": "00:15:65:a1:b2:c3" }))
        .await
        .invalid("mac");
    p.post(Admin, replace, json!({ "mac": "001565000002" }))
        .await
        .refused(409, "already registered");
    p.post(Admin, replace, json!({ "mac": "not a mac" }))
        .await
        .invalid("mac");
    let done = p
        .post(Admin, replace, json!({ "mac": "00-15-65-00-00-99" }))
        .await;
    let done = done.is(200);
    assert_eq!(done["mac"], "001565000099");
    let trail = audit(&p, "entity=device&action=replace").await;
    assert_eq!(trail[0]["before"]["mac"], "001565a1b2c3");
    assert_eq!(trail[0]["after"]["mac"], "001565000099");
}

/// A model must be one the catalogue knows; the error offers a few close ones, not the
/// catalogue. The family follows the model.
#[tokio::test]
async fn a_model_must_be_known_and_close_ones_are_offered() {
    let p = Portal::new().await;
    let wrong = p
        .call(
            Admin,
            "PATCH",
            "devices/001565a1b2c3",
            Some(json!({ "model": "T54X" })),
        )
        .await;
    let detail = wrong.invalid("model")["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        detail.contains("did you mean one of T54S, T54W?"),
        "{detail}"
    );
    assert!(
        !detail.contains("T46S"),
        "not the whole catalogue: {detail}"
    );
    let added = p
        .post(
            Admin,
            "devices",
            json!({ "mac": "001565000003", "model": "VVX 450" }),
        )
        .await;
    let detail = added.invalid("model")["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains("did you mean VVX_450?"), "{detail}");
    let changed = p
        .patch(Admin, "devices/001565a1b2c3", json!({ "model": "t57w" }))
        .await;
    assert_eq!(changed.is(200)["model"], "T57W");
    let poly = p
        .patch(Admin, "devices/001565a1b2c3", json!({ "model": "VVX_450" }))
        .await;
    assert_eq!(poly.is(200)["family"], "poly");
    assert_eq!(audit(&p, "entity=device&action=update").await.len(), 2);
    // A model with fewer lines than are logged in is refused.
    p.numbers(&[("+4930123455", "active")]).await;
    p.post(
        Admin,
        "devices/001565a1b2c3/login",
        json!({ "number": "+4930123455", "additional_line": true }),
    )
    .await
    .is(200);
    p.patch(
        Admin,
        "devices/001565a1b2c3",
        json!({ "model": "CP-7811-3PCC" }),
    )
    .await
    .refused(409, "CP-7811-3PCC takes 1 line and 2 numbers are logged in");
    let models = p.get(Ada, "/api/v1/models?family=Yealink").await;
    let models = models.is(200).as_array().unwrap().clone();
    assert!(models.iter().all(|m| m["family"] == "yealink"));
    assert!(models.iter().any(|m| m["model"] == "T54W"));
    p.get(Ada, "/api/v1/models?family=polly")
        .await
        .invalid("family");
}

/// A number goes back to the operator only when nothing uses it, and the refusal says what
/// does; only the operator gives numbers back.
#[tokio::test]
async fn a_number_is_released_only_when_unused() {
    let p = Portal::new().await;
    let release = format!("numbers/{ADA}/release");
    p.act(Admin, &release).await.is(403);
    p.act(Operator, &release)
        .await
        .refused(409, "assigned to Ada Lovelace");
    p.act(Admin, &format!("numbers/{ADA}/unassign"))
        .await
        .is(200);
    p.act(Operator, &release)
        .await
        .refused(409, "logged in to handset");
    p.act(Admin, &format!("numbers/{ADA}/logout")).await.is(200);
    p.act(Operator, &release).await.is(204);
    p.get(Admin, &format!("numbers/{ADA}")).await.is(404);
    let trail = audit(&p, "entity=number&action=release").await;
    assert_eq!(trail[0]["before"]["e164"], ADA);
    // The operator can allocate it again, to anyone.
    p.numbers(&[(ADA, "reserved")]).await;
    // A number a bridge (or a group, or an e-fax) has is in use too.
    p.numbers(&[("+4930123499", "active")]).await;
    p.post(
        Admin,
        "bridges",
        json!({ "name": "Sales Bridge", "number": "+4930123499" }),
    )
    .await
    .is(201);
    p.act(Operator, "numbers/+4930123499/release")
        .await
        .refused(409, "the number of bridge Sales Bridge");
}

/// A site's settings change (with the checks of `site add`) and reach its phones; a site that
/// holds numbers or devices is not removed, and the refusal counts them.
#[tokio::test]
async fn sites_change_and_go_only_when_empty() {
    let p = Portal::new().await;
    let changed = p
        .patch(
            Admin,
            "sites/Berlin",
            json!({ "ntp_server": "ntp.example.org" }),
        )
        .await;
    assert_eq!(changed.is(200)["ntp_server"], "ntp.example.org");
    assert!(p.phone_file().await.contains("ntp.example.org"));
    p.patch(
        Admin,
        "sites/Berlin",
        json!({ "time_zone": "Mars/Olympus" }),
    )
    .await
    .invalid("time_zone");
    p.patch(Admin, "sites/Berlin", json!({ "sip_port": 0 }))
        .await
        .invalid("sip_port");
    p.delete(Admin, "sites/Berlin")
        .await
        .refused(409, "site \"Berlin\" still holds 1 number and 1 device");
    p.site("Hamburg").await;
    p.patch(Admin, "sites/Hamburg", json!({ "name": "Berlin" }))
        .await
        .refused(409, "already has a site named \"Berlin\"");
    p.delete(Ada, "sites/Hamburg").await.is(403);
    p.delete(Admin, "sites/Hamburg").await.is(204);
    p.get(Admin, "sites/Hamburg/trunks").await.is(404);
    assert_eq!(audit(&p, "entity=site&action=delete").await.len(), 1);
}

/// A tenant goes only when empty (the refusal says what it still has), only by the operator;
/// its tokens go with it, and the removal is in the platform's trail.
#[tokio::test]
async fn a_tenant_goes_only_when_empty() {
    let p = Portal::new().await;
    p.delete(Admin, "/api/v1/tenants/Acme").await.is(403);
    p.delete(Operator, "/api/v1/tenants/Acme").await.refused(
        409,
        "tenant \"Acme\" still has 1 site, 1 number, 1 user and 1 device",
    );
    p.delete(Operator, "/api/v1/tenants/Other").await.is(204);
    let (status, _) =
        crate::api::call(&p.server, "GET", "/api/v1/me", Some(&p.t.other_admin), None).await;
    assert_eq!(status, 401, "the tenant's tokens went with it");
    let trail = p
        .get(Operator, "/api/v1/audit?entity=tenant&action=delete")
        .await;
    assert_eq!(trail.is(200)[0]["before"]["name"], "Other");
}

/// The token list shows ids, roles and bindings, never a secret or its hash.
#[tokio::test]
async fn the_token_list_holds_no_secret() {
    let p = Portal::new().await;
    p.get(Admin, "/api/v1/tokens").await.is(403);
    let list = p.get(Operator, "/api/v1/tokens").await;
    let text = list.is(200).to_string();
    assert_eq!(list.body.as_array().unwrap().len(), 4);
    for token in [
        &p.t.platform,
        &p.t.acme_admin,
        &p.t.other_admin,
        &p.t.acme_user,
    ] {
        let secret = token.rsplit('_').next().unwrap();
        assert!(!text.contains(secret), "{text}");
    }
    assert!(!text.contains("argon2") && !text.contains("hash"), "{text}");
    let acme = p.get(Operator, "/api/v1/tokens?tenant=Acme").await;
    assert_eq!(acme.is(200).as_array().unwrap().len(), 2);
}
