//! The Licences page: pools per kind (total, assigned, available), set by the operator only
//! (never below what is assigned: the rule's message by the kind's field); a site's trunks,
//! added by the operator; a tenant admin reads (403 for the forms), another tenant's is 404.

use autoprov::admin::UserInput;
use reqwest::StatusCode;

use super::sites::{error_by, site};
use super::*;

#[tokio::test]
async fn issue_14_licences_pools_and_trunks_by_role() {
    let p = Portal::start().await;
    let berlin = site(&p, p.acme.id, "Berlin").await;
    let url = format!("/t/{}/licences", p.acme.id.0);
    let op = p.session(OPERATOR).await;
    let csrf = op.csrf.as_str();
    let (status, _, _) = p
        .post(
            Some(&op),
            &format!("{url}/app"),
            &[("csrf", csrf), ("total", "2")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let admin = &p.server.app.admin;
    admin
        .user_add(
            p.acme.id,
            &UserInput {
                first_name: "Bob".into(),
                last_name: "App".into(),
                licences: vec!["app".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Below what is assigned: the rule's message by the app pool's field.
    let (status, _, body) = p
        .post(
            Some(&op),
            &format!("{url}/app"),
            &[("csrf", csrf), ("total", "0")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    error_by(&body, "total_app", "cannot shrink to 0");
    let (status, _, body) = p
        .post(
            Some(&op),
            &format!("{url}/app"),
            &[("csrf", csrf), ("total", "lots")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    error_by(&body, "total_app", "whole number");
    // A trunk for Berlin.
    let form = [
        ("csrf", csrf),
        ("site", &berlin.to_string()),
        ("name", "SIP-Trunk 1"),
    ];
    let (status, _, _) = p
        .post(Some(&op), &format!("/t/{}/trunks", p.acme.id.0), &form)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // The tenant admin reads: 2 bought, 1 assigned, 1 available; the trunk; no forms.
    let sess = p.session(ACME_ADMIN).await;
    let (status, _, body) = p.get(Some(&sess), &url).await;
    assert_eq!(status, 200, "{body}");
    let row = &body[body.find("data-label=\"Licence\">App").expect("app row")..];
    let row = &row[..row.find("</tr>").unwrap()];
    for cell in [">2<", ">1<"] {
        assert!(row.contains(cell), "{cell} in {row}");
    }
    assert!(body.contains("SIP-Trunk 1"), "{body}");
    assert!(!body.contains("id=\"total-app\""), "no pool form: {body}");
    assert!(
        !body.contains("id=\"new-trunk_name\""),
        "no trunk form: {body}"
    );
    let form = [("csrf", sess.csrf.as_str()), ("total", "100")];
    let (status, _, _) = p.post(Some(&sess), &format!("{url}/app"), &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let form = [
        ("csrf", sess.csrf.as_str()),
        ("site", "Berlin"),
        ("name", "Mine"),
    ];
    let (status, _, _) = p
        .post(Some(&sess), &format!("/t/{}/trunks", p.acme.id.0), &form)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(admin.trunks(p.acme.id, "Berlin").await.unwrap().len(), 1);
    let pools = admin.licence_pools(p.acme.id).await.unwrap();
    assert!(pools.iter().all(|p| p.total <= 2), "unchanged");
    // Another tenant's admin: 404.
    let other = p.session(OTHER_ADMIN).await;
    let (status, _, _) = p.get(Some(&other), &url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
