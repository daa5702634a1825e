//! Groups and shared resources (issue 12, part A): the extension plan, hunt groups, call
//! centres, virtual users, bridges, e-fax numbers, and the dial plan a PBX reads.

use serde_json::json;

use super::{Admin, Portal};

/// One extension plan per tenant: an extension is digits of its kind's length, and nobody
/// else's in the tenant, whatever kind owns it; the resolver names the owner.
#[tokio::test]
async fn an_extension_is_owned_once_per_tenant() {
    let p = Portal::new().await;
    p.post(
        Admin,
        "users",
        json!({ "first_name": "Grace", "last_name": "Hopper", "extension": "3456" }),
    )
    .await
    .refused(409, "extension 3456 is already used by user Ada Lovelace");
    p.post(
        Admin,
        "users",
        json!({ "first_name": "Grace", "last_name": "Hopper", "extension": "34x6" }),
    )
    .await
    .invalid("extension")
    .to_string()
    .contains("2 to 8 digits")
    .then_some(())
    .expect("the lengths are named");
    let grace = p
        .post(
            Admin,
            "users",
            json!({ "first_name": "Grace", "last_name": "Hopper", "extension": "200" }),
        )
        .await;
    grace.is(201);
    p.patch(Admin, "users/Grace Hopper", json!({ "extension": "3456" }))
        .await
        .refused(409, "already used by user Ada Lovelace");
    // Keeping one's own extension is no conflict.
    p.patch(Admin, "users/Grace Hopper", json!({ "extension": "200" }))
        .await
        .is(200);
    let admin = &p.server.app.admin;
    let acme = admin.tenant("Acme").await.unwrap();
    let owner = admin
        .extension_owner(acme.id, "3456")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str()),
        ("user", "Ada Lovelace")
    );
    assert!(admin
        .extension_owner(acme.id, "999")
        .await
        .unwrap()
        .is_none());
    // Another tenant's plan is its own.
    let other = admin.tenant("Other").await.unwrap();
    assert!(admin
        .extension_owner(other.id, "3456")
        .await
        .unwrap()
        .is_none());
}
