//! The Sites page over HTTPS with a cookie: the list, adding (errors by field), a site's
//! settings and trust settings, removing (refused while it holds a number, the rule's message
//! shown), roles, another tenant's sites (404) and escaping.

use autoprov::admin::{NumberInput, SiteInput};
use reqwest::StatusCode;

use super::*;

pub const PAYLOAD: &str = "<script>alert(1)</script>\"'{{ 7*7 }}";

fn sites(p: &Portal) -> String {
    format!("/t/{}/sites", p.acme.id.0)
}

/// A site of `tenant` by the admin operation: its id.
pub async fn site(p: &Portal, tenant: autoprov::model::TenantId, name: &str) -> i64 {
    p.server
        .app
        .admin
        .site_add(
            tenant,
            &SiteInput {
                name: name.into(),
                time_zone: Some("Europe/Berlin".into()),
                sip_domain: Some("sip.example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id
        .0
}

/// Asserts that `body` shows the rule's message by `field` (its `id="<field>-error"`).
#[track_caller]
pub fn error_by(body: &str, field: &str, text: &str) {
    let at = body
        .find(&format!("id=\"{field}-error\""))
        .unwrap_or_else(|| panic!("no {field} error: {body}"));
    let shown = &body[at..];
    let shown = &shown[..shown.find("</p>").unwrap_or(shown.len())];
    assert!(shown.contains(text), "{field}: {shown:?} lacks {text:?}");
}

#[tokio::test]
async fn issue_14_sites_add_edit_trust_and_remove_through_the_rules() {
    let p = Portal::start().await;
    let admin = &p.server.app.admin;
    let sess = p.session(ACME_ADMIN).await;
    let (status, _, body) = p.get(Some(&sess), &sites(&p)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("No sites yet"), "{body}");
    let csrf = sess.csrf.as_str();

    // A time zone the tz database does not know: by its field, nothing added.
    let form = [
        ("csrf", csrf),
        ("name", "Berlin"),
        ("time_zone", "Mars/Olympus"),
        ("sip_domain", "sip.example.com"),
    ];
    let (status, _, body) = p.post(Some(&sess), &sites(&p), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"time_zone-error\""), "{body}");
    assert!(body.contains("value=\"Mars&#x2f;Olympus\""), "kept: {body}");
    assert!(admin.site_list(p.acme.id).await.unwrap().is_empty());
    // Without the CSRF token: refused.
    let (status, _, _) = p.post(Some(&sess), &sites(&p), &[("name", "Berlin")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(admin.site_list(p.acme.id).await.unwrap().is_empty());

    let form = [
        ("csrf", csrf),
        ("name", "Berlin"),
        ("time_zone", "Europe/Berlin"),
        ("sip_domain", "sip.example.com"),
    ];
    let (status, headers, body) = p.post(Some(&sess), &sites(&p), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let site_url = headers["location"].to_str().unwrap().to_owned();
    let (status, _, body) = p.get(Some(&sess), &site_url).await;
    assert_eq!(status, 200);
    assert!(body.contains("Site Berlin"), "{body}");
    // The same name again: the rule's conflict by the name field.
    let (status, _, body) = p.post(Some(&sess), &sites(&p), &form).await;
    assert_eq!(status, StatusCode::CONFLICT);
    error_by(&body, "name", "already has a site named");

    // Settings: port 0 refused by its field; a new name saved.
    let edit = |name: &'static str, port: &'static str| {
        vec![
            ("csrf", csrf),
            ("name", name),
            ("time_zone", "Europe/Berlin"),
            ("ntp_server", "pool.ntp.org"),
            ("sip_domain", "sip.example.com"),
            ("sip_proxy", ""),
            ("sip_port", port),
            ("sip_transport", "tls"),
        ]
    };
    let (status, _, body) = p.post(Some(&sess), &site_url, &edit("Mitte", "0")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    error_by(&body, "sip_port", "not a port");
    let (status, _, _) = p.post(Some(&sess), &site_url, &edit("Mitte", "5061")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let saved = admin.site_list(p.acme.id).await.unwrap().remove(0);
    assert_eq!(saved.name, "Mitte");
    assert_eq!(saved.sip.port, 5061);

    // Trust: a network that is none, by its field; then two saved.
    let trust = format!("{site_url}/trust");
    let form = [
        ("csrf", csrf),
        ("allowed_networks", "10.1.0.0/16\nnot-a-net"),
        ("first_contact_networks", ""),
        ("first_contact_hours", "24"),
    ];
    let (status, _, body) = p.post(Some(&sess), &trust, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    error_by(&body, "allowed_networks", "not-a-net");
    let form = [
        ("csrf", csrf),
        ("allowed_networks", "10.1.0.0/16\n192.0.2.7"),
        ("first_contact_networks", "10.1.0.0/16"),
        ("first_contact_hours", "48"),
    ];
    let (status, _, _) = p.post(Some(&sess), &trust, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let saved = admin.site_list(p.acme.id).await.unwrap().remove(0);
    assert_eq!(saved.allowed_networks.len(), 2);
    assert_eq!(saved.first_contact_hours, 48);

    // Removing while it holds a number: the rule's message, the site stays.
    admin
        .number_add(
            p.acme.id,
            &NumberInput {
                number: "+4930123456".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let remove = format!("{site_url}/remove");
    let (status, _, body) = p.post(Some(&sess), &remove, &[("csrf", csrf)]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    error_by(&body, "remove", "still holds 1 number");
    assert_eq!(admin.site_list(p.acme.id).await.unwrap().len(), 1);
    // An empty site goes.
    let empty = site(&p, p.acme.id, "Hamburg").await;
    let remove = format!("/t/{}/sites/{empty}/remove", p.acme.id.0);
    let (status, _, _) = p.post(Some(&sess), &remove, &[("csrf", csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let names: Vec<_> = admin
        .site_list(p.acme.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["Mitte"]);
}

#[tokio::test]
async fn issue_14_sites_roles_and_another_tenants_sites_are_404() {
    let p = Portal::start().await;
    let other_site = site(&p, p.other.id, "Wien").await;
    let admin_sess = p.session(ACME_ADMIN).await;
    // Another tenant's site under our tenant's address, and another tenant's list: 404.
    let theirs = format!("/t/{}/sites/{other_site}", p.acme.id.0);
    let (status, _, _) = p.get(Some(&admin_sess), &theirs).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let form = [("csrf", admin_sess.csrf.as_str())];
    let (status, _, _) = p
        .post(Some(&admin_sess), &format!("{theirs}/remove"), &form)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = p
        .get(Some(&admin_sess), &format!("/t/{}/sites", p.other.id.0))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        p.server
            .app
            .admin
            .site_list(p.other.id)
            .await
            .unwrap()
            .len(),
        1
    );
    // The nav has the item for the tenant admin.
    let (_, _, body) = p.get(Some(&admin_sess), &sites(&p)).await;
    assert!(
        body.contains(&format!("href=\"{}\"", sites(&p).replace('/', "&#x2f;"))),
        "{body}"
    );
    // A user may not open it.
    let user = p.session(ACME_USER).await;
    let (status, _, _) = p.get(Some(&user), &sites(&p)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Logged out: to the login page.
    let (status, headers, _) = p.get(None, &sites(&p)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/login");
}

#[tokio::test]
async fn issue_14_sites_echo_xss_payloads_inert() {
    let p = Portal::start().await;
    let sess = p.session(ACME_ADMIN).await;
    let form = [
        ("csrf", sess.csrf.as_str()),
        ("name", PAYLOAD),
        ("time_zone", PAYLOAD),
        ("sip_domain", PAYLOAD),
        ("ntp_server", PAYLOAD),
    ];
    let (status, _, body) = p.post(Some(&sess), &sites(&p), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(body.contains("{{ 7*7 }}"), "no template evaluation: {body}");
    assert!(body.contains("&lt;script&gt;"), "{body}");
    // A name the rule takes is listed escaped.
    site(&p, p.acme.id, "<b>x</b>\"'{{ 1+1 }}").await;
    let (_, _, body) = p.get(Some(&sess), &sites(&p)).await;
    assert!(!body.contains("<b>x</b>"), "{body}");
    assert!(body.contains("&lt;b&gt;x&lt;&#x2f;b&gt;"), "{body}");
    assert!(body.contains("{{ 1+1 }}"), "{body}");
}

#[tokio::test]
async fn issue_14_browser_sites_licences_audit_and_blf() {
    use super::browser::Browser;
    use fantoccini::Locator;
    let Some(b) = Browser::open("sites").await else {
        return;
    };
    let p = &b.portal;
    b.login_as(ACME_ADMIN).await;
    let nav = b.nav_labels().await;
    for item in ["Sites", "Licences", "Audit", "BLF"] {
        assert!(nav.contains(&item.to_owned()), "{item} not in {nav:?}");
    }
    assert!(!nav.contains(&"Operator".to_owned()), "{nav:?}");
    b.go(&sites(p)).await;
    assert!(b.heading().await.starts_with("Sites"));
    let c = &b.client;
    let submit = "#add + form button[type=submit]";
    // A time zone nobody knows: the error by its field.
    b.type_into("new-name", "Berlin").await;
    b.type_into("new-time_zone", "Mars/Olympus").await;
    b.type_into("new-sip_domain", "sip.example.com").await;
    b.click(submit).await;
    b.wait_for_text("Mars/Olympus").await;
    assert!(c.find(Locator::Id("time_zone-error")).await.is_ok());
    b.forget_console().await;
    b.screenshots("sites-error").await;
    let tz = c.find(Locator::Id("new-time_zone")).await.unwrap();
    tz.clear().await.unwrap();
    tz.send_keys("Europe/Berlin").await.unwrap();
    b.click(submit).await;
    b.wait_for_text("The site has been added").await;
    b.assert_no_console_errors().await;
    b.screenshots("site").await;
    // Removing while it holds a number: the rule's message.
    p.server
        .app
        .admin
        .number_add(
            p.acme.id,
            &NumberInput {
                number: "+4930123456".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    b.click("#remove + form button").await;
    b.wait_for_text("still holds 1 number").await;
    b.forget_console().await;
    b.go(&sites(p)).await;
    b.assert_no_console_errors().await;
    b.screenshots("sites").await;
    for (path, heading, shot) in [
        ("licences", "Licences and trunks", "licences"),
        ("audit", "Audit trail", "audit"),
        ("blf", "Busy Lamp Field", "blf"),
    ] {
        b.go(&format!("/t/{}/{path}", p.acme.id.0)).await;
        assert!(
            b.heading().await.starts_with(heading),
            "{}",
            b.heading().await
        );
        b.assert_no_console_errors().await;
        b.screenshots(shot).await;
    }
    // The audit trail shows the site's creation by this admin; its "after" opens.
    b.go(&format!("/t/{}/audit?entity=site", p.acme.id.0)).await;
    let main = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        main.contains("portal:admin@acme.test") && main.contains("site"),
        "{main}"
    );
    b.click("tbody details summary").await;
    b.wait_for_text("Europe/Berlin").await;
    b.screenshots("audit-entry").await;
    b.close().await;
}

/// A taken site name (the rule's conflict), in German under the name field.
#[tokio::test]
async fn issue_14_site_errors_in_german_under_the_field() {
    let p = Portal::start().await;
    site(&p, p.acme.id, "Berlin").await;
    let sess = p.session(ACME_ADMIN).await;
    let form = [
        ("name", "Berlin"),
        ("time_zone", "Europe/Berlin"),
        ("sip_domain", "sip.example.com"),
    ];
    let (status, body) = p.post_de(&sess, &sites(&p), &form).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    error_by(
        &body,
        "name",
        "Der Mandant hat schon einen Standort namens Berlin",
    );
}
