//! The Handsets pages and the rollout dashboard over HTTPS with a cookie: the list with its
//! numbers, adding (the model's "did you mean" by its field), replacing, changing the model,
//! resync, removing after the confirmation page; the dashboard's counts and lists.

use autoprov::admin::{DeviceInput, SiteInput};
use reqwest::StatusCode;

use super::*;

const MAC: &str = "001565a1b2c3";
const OTHER_MAC: &str = "001565a1b2c4";
const NUMBER: &str = "+4930123456";

fn handsets(p: &Portal) -> String {
    format!("/t/{}/handsets", p.acme.id.0)
}

/// Acme's site Berlin (the phones' loopback is an allowed network there).
pub async fn berlin(p: &Portal) {
    let admin = &p.server.app.admin;
    if !admin.site_list(p.acme.id).await.unwrap().is_empty() {
        return;
    }
    admin
        .site_add(
            p.acme.id,
            &SiteInput {
                name: "Berlin".into(),
                time_zone: Some("Europe/Berlin".into()),
                sip_domain: Some("sip.example.com".into()),
                allowed_networks: vec!["127.0.0.0/8".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

pub async fn add_device(p: &Portal, mac: &str) -> String {
    berlin(p).await;
    p.server
        .app
        .admin
        .device_add(
            p.acme.id,
            &DeviceInput {
                mac: mac.into(),
                model: "T54W".into(),
                site: None,
            },
        )
        .await
        .unwrap()
        .phone_id
}

#[tokio::test]
async fn issue_14_handsets_list_shows_numbers_and_add_shows_did_you_mean_by_the_field() {
    let p = Portal::start().await;
    let admin = &p.server.app.admin;
    let phone_id = add_device(&p, MAC).await;
    p.active_number(NUMBER).await;
    admin.device_login(p.acme.id, MAC, NUMBER).await.unwrap();
    let sess = p.session(ACME_ADMIN).await;
    let (status, _, body) = p.get(Some(&sess), &handsets(&p)).await;
    assert_eq!(status, 200, "{body}");
    for text in [
        "001565a1b2c3",
        "T54W",
        phone_id.as_str(),
        NUMBER,
        "awaiting first contact",
    ] {
        assert!(body.contains(text), "{text} missing: {body}");
    }
    assert!(body.contains("name=\"csrf\""), "{body}");

    // A model nobody knows: the error with its close match, by the model field, nothing added.
    let csrf = sess.csrf.clone();
    let form = [
        ("csrf", csrf.as_str()),
        ("mac", OTHER_MAC),
        ("model", "T54"),
        ("site", ""),
    ];
    let (status, _, body) = p.post(Some(&sess), &handsets(&p), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"model-error\""), "{body}");
    assert!(body.contains("did you mean"), "{body}");
    assert!(body.contains("value=\"T54\""), "the input is kept: {body}");
    // A MAC already registered: by the MAC field.
    let form = [
        ("csrf", csrf.as_str()),
        ("mac", MAC),
        ("model", "T54W"),
        ("site", ""),
    ];
    let (status, _, body) = p.post(Some(&sess), &handsets(&p), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"mac-error\""), "{body}");
    assert_eq!(admin.device_list(p.acme.id).await.unwrap().len(), 1);
    // Without the CSRF token: refused, nothing added.
    let form = [("mac", OTHER_MAC), ("model", "T54W")];
    let (status, _, _) = p.post(Some(&sess), &handsets(&p), &form).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(admin.device_list(p.acme.id).await.unwrap().len(), 1);

    // A good one: to its page, which says so.
    let form = [
        ("csrf", csrf.as_str()),
        ("mac", OTHER_MAC),
        ("model", "t46s"),
        ("site", ""),
    ];
    let (status, headers, _) = p.post(Some(&sess), &handsets(&p), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let to = headers["location"].to_str().unwrap().to_owned();
    let device = admin.handset(p.acme.id, OTHER_MAC).await.unwrap();
    assert_eq!(to, format!("{}/{}", handsets(&p), device.phone_id));
    assert_eq!(device.model, "T46S");
    let flash = session_flash(&headers);
    let (status, _, body) = p
        .get(
            Some(&Sess {
                cookie: format!("{}; {flash}", sess.cookie),
                csrf: String::new(),
            }),
            &to,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("The handset has been added"), "{body}");
    assert!(body.contains("001565a1b2c4"), "{body}");

    // The search finds by Phone ID.
    let (_, _, body) = p
        .get(Some(&sess), &format!("{}?q={}", handsets(&p), phone_id))
        .await;
    assert!(
        body.contains("001565a1b2c3") && !body.contains("001565a1b2c4"),
        "{body}"
    );
}

/// The flash cookie a redirect leaves, as `name=value`.
fn session_flash(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("autoprov-flash="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn issue_14_handset_detail_replaces_changes_model_resyncs_and_removes() {
    let p = Portal::start().await;
    let admin = &p.server.app.admin;
    let phone_id = add_device(&p, MAC).await;
    p.active_number(NUMBER).await;
    admin.device_login(p.acme.id, MAC, NUMBER).await.unwrap();
    let sess = p.session(ACME_ADMIN).await;
    let page = format!("{}/{phone_id}", handsets(&p));
    let (status, _, body) = p.get(Some(&sess), &page).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(NUMBER) && body.contains("never"), "{body}");
    let csrf = sess.csrf.as_str();

    // Replace: the same MAC is an error by the field; a new one takes over the Phone ID.
    let (status, _, body) = p
        .post(
            Some(&sess),
            &format!("{page}/replace"),
            &[("csrf", csrf), ("mac", MAC)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"mac-error\""), "{body}");
    let (status, headers, _) = p
        .post(
            Some(&sess),
            &format!("{page}/replace"),
            &[("csrf", csrf), ("mac", OTHER_MAC)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], page.as_str());
    let device = admin.handset(p.acme.id, &phone_id).await.unwrap();
    assert_eq!(device.mac.to_string(), "001565a1b2c4");
    assert!(
        admin.handset(p.acme.id, MAC).await.is_err(),
        "the old MAC is gone"
    );

    // Change the model: an unknown one by its field; a known one is saved.
    let site = admin.site_list(p.acme.id).await.unwrap()[0].name.clone();
    let form = [("csrf", csrf), ("model", "T4"), ("site", site.as_str())];
    let (status, _, body) = p.post(Some(&sess), &format!("{page}/update"), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"model-error\""), "{body}");
    let form = [("csrf", csrf), ("model", "T46S"), ("site", site.as_str())];
    let (status, _, body) = p.post(Some(&sess), &format!("{page}/update"), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(
        admin.handset(p.acme.id, &phone_id).await.unwrap().model,
        "T46S"
    );

    // Resync a phone never seen: nothing to send, and the flash says so.
    let (status, headers, _) = p
        .post(Some(&sess), &format!("{page}/resync"), &[("csrf", csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(session_flash(&headers).contains("handsets.resync_not_seen"));
    let (status, _, _) = p.post(Some(&sess), &format!("{page}/resync"), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "resync needs the token");

    // Remove: first a page that says what happens, then the POST.
    let (status, _, body) = p.get(Some(&sess), &format!("{page}/remove")).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("will be logged out") && body.contains(NUMBER),
        "{body}"
    );
    assert!(body.contains("MAC can be registered again"), "{body}");
    let (status, _, _) = p.post(Some(&sess), &format!("{page}/remove"), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        admin.handset(p.acme.id, &phone_id).await.is_ok(),
        "not removed without the token"
    );
    let (status, headers, _) = p
        .post(Some(&sess), &format!("{page}/remove"), &[("csrf", csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], handsets(&p).as_str());
    assert!(admin.handset(p.acme.id, &phone_id).await.is_err());
    let (status, _, _) = p.get(Some(&sess), &page).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn issue_14_handsets_and_rollout_are_the_tenants_admins_only() {
    let p = Portal::start().await;
    let phone_id = add_device(&p, MAC).await;
    let other = p.session(OTHER_ADMIN).await;
    for path in [
        handsets(&p),
        format!("{}/{phone_id}", handsets(&p)),
        format!("/t/{}/rollout", p.acme.id.0),
    ] {
        let (status, _, _) = p.get(Some(&other), &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    // The other tenant's admin cannot name Acme's handset under their own tenant either.
    let (status, _, _) = p
        .get(
            Some(&other),
            &format!("/t/{}/handsets/{phone_id}", p.other.id.0),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let user = p.session(ACME_USER).await;
    let (status, _, _) = p.get(Some(&user), &handsets(&p)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = p.session(ACME_ADMIN).await;
    let (_, _, body) = p.get(Some(&admin), "/").await;
    let nav = body.split("</nav>").next().unwrap();
    let escaped = |path: String| path.replace('/', "&#x2f;");
    assert!(
        nav.contains(&escaped(handsets(&p))) && nav.contains(">Handsets</a>"),
        "{nav}"
    );
    assert!(
        nav.contains(&escaped(format!("/t/{}/rollout", p.acme.id.0))),
        "{nav}"
    );
}

#[tokio::test]
async fn issue_14_rollout_counts_per_site_and_lists_who_arrived_and_who_not() {
    let p = Portal::start().await;
    add_device(&p, MAC).await;
    let waiting = add_device(&p, OTHER_MAC).await;
    // The first phone asks for its file.
    let (status, _, _) = p
        .server
        .fetch(
            "/001565a1b2c3.cfg",
            Some("Yealink SIP-T54W 96.86.0.100 00:15:65:a1:b2:c3"),
        )
        .await;
    assert!(status == 200 || status == 401 || status == 404, "{status}");
    p.server.app.provisioner.flush_seen().await;
    let sess = p.session(ACME_ADMIN).await;
    let (status, headers, body) = p
        .get(Some(&sess), &format!("/t/{}/rollout", p.acme.id.0))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["refresh"], "15", "reloads without JavaScript");
    assert!(body.contains("id=\"refresh\""), "{body}");
    let site = p.server.app.admin.site_list(p.acme.id).await.unwrap()[0]
        .name
        .clone();
    let row = |label: &str, value: usize| format!("<td data-label=\"{label}\">{value}</td>");
    assert!(body.contains(&site), "{body}");
    assert!(body.contains(&row("Expected", 2)), "{body}");
    assert!(body.contains(&row("First contact", 1)), "{body}");
    let (not_yet, arrived) = body.split_once("id=\"arrived\"").unwrap();
    let not_yet = not_yet.split_once("id=\"waiting\"").unwrap().1;
    assert!(
        not_yet.contains("001565a1b2c4") && not_yet.contains(&waiting),
        "{not_yet}"
    );
    assert!(!not_yet.contains("001565a1b2c3"), "{not_yet}");
    assert!(
        arrived.contains("001565a1b2c3") && arrived.contains(" UTC"),
        "{arrived}"
    );
    // German, by the browser's language.
    let resp = p
        .http
        .get(p.url(&format!("/t/{}/rollout", p.acme.id.0)))
        .header("cookie", &sess.cookie)
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    let body = resp.text().await.unwrap();
    assert!(body.contains("Noch nicht angekommen"), "{body}");
}

#[tokio::test]
async fn issue_14_browser_handsets_add_detail_remove_and_rollout() {
    use super::browser::Browser;
    use fantoccini::Locator;
    let Some(b) = Browser::open("handsets").await else {
        return;
    };
    let p = &b.portal;
    let phone_id = add_device(p, MAC).await;
    p.active_number(NUMBER).await;
    b.login_as(ACME_ADMIN).await;
    assert!(b.nav_labels().await.contains(&"Handsets".to_owned()));
    let c = &b.client;
    // A new user with that handset as her desk phone: the login details, once.
    b.go(&format!("/t/{}/users", p.acme.id.0)).await;
    b.type_into("new-first_name", "Grace").await;
    b.type_into("new-last_name", "Hopper").await;
    for option in [
        format!("#new-number option[value='{NUMBER}']"),
        format!("#new-handset option[value='{phone_id}']"),
    ] {
        b.click(&option).await;
    }
    b.click("form[action$='#add'] button[type=submit]").await;
    b.wait_for_text("Note these down now").await;
    let password = c
        .find(Locator::Id("sip-password"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(password.len() >= 20, "{password}");
    b.assert_no_console_errors().await;
    b.screenshots("users-add-desk-phone").await;
    c.find(Locator::Id("continue"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_text(&format!("Logged in to handset {phone_id}"))
        .await;
    let main = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!main.contains(&password), "shown once");
    // The list: her line and her name, linked to her page.
    b.go(&handsets(p)).await;
    assert!(b.heading().await.starts_with("Handsets"));
    c.find(Locator::LinkText("Grace Hopper")).await.unwrap();
    b.assert_no_console_errors().await;
    b.screenshots("handsets").await;
    // At 390 px the header is one line: the nav, languages and log out scroll in it.
    c.set_window_size(390, 844).await.unwrap();
    let tops = c
        .execute(
            "return [...document.querySelectorAll('header .bar a, header .bar button')]\
             .map(e => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2))",
            vec![],
        )
        .await
        .unwrap();
    let tops: Vec<i64> = serde_json::from_value(tops).unwrap();
    assert!(
        tops.len() > 5 && tops.iter().all(|t| (t - tops[0]).abs() <= 4),
        "one row at 390 px: {tops:?}"
    );
    let height = c
        .execute(
            "return document.querySelector('header.top').getBoundingClientRect().height",
            vec![],
        )
        .await
        .unwrap();
    let height = height.as_f64().unwrap();
    assert!(height < 72.0, "the header at 390 px is {height} px high");
    c.find(Locator::Css("header .bar form[action='/logout'] button"))
        .await
        .unwrap();
    c.set_window_size(1280, 900).await.unwrap();
    // Adding with a model nobody knows: the close match by the field.
    b.type_into("new-mac", OTHER_MAC).await;
    b.type_into("new-model", "T54").await;
    let submit = "#add + form button[type=submit]";
    b.click(submit).await;
    b.wait_for_text("did you mean").await;
    let error = c
        .find(Locator::Id("model-error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(error.contains("did you mean"), "{error}");
    b.forget_console().await;
    b.screenshots("handsets-error").await;
    // The MAC was kept; the model completed.
    b.type_into("new-model", "W").await;
    b.click(submit).await;
    b.wait_for_text("The handset has been added").await;
    assert!(
        b.heading().await.starts_with("Handset"),
        "{}",
        b.heading().await
    );
    let flash = c
        .find(Locator::Css(".flash"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(flash.contains("added"), "{flash}");
    b.assert_no_console_errors().await;
    b.screenshots("handset").await;
    // Remove: the page that says what happens, then the button.
    b.click("#remove + p a").await;
    b.wait_for_text("will be removed from this tenant").await;
    assert!(b.heading().await.starts_with("Remove handset"));
    b.screenshots("handset-remove").await;
    b.click("main form button[type=submit]").await;
    b.wait_for_text("The handset has been removed").await;
    let flash = c
        .find(Locator::Css(".flash"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(flash.contains("removed"), "{flash}");
    let rows = c
        .find(Locator::Css("tbody"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        rows.contains("001565a1b2c3") && !rows.contains("001565a1b2c4"),
        "{rows}"
    );
    // The rollout dashboard, reached from the nav.
    c.find(Locator::LinkText("Rollout"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_text("Not arrived yet").await;
    assert!(b.heading().await.starts_with("Rollout"));
    let waiting = c
        .find(Locator::Id("waiting"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(waiting.contains("(1)"), "{waiting}");
    b.assert_no_console_errors().await;
    b.screenshots("rollout").await;
    b.close().await;
}

#[tokio::test]
async fn issue_14_handsets_echo_xss_payloads_inert() {
    let p = Portal::start().await;
    berlin(&p).await;
    let sess = p.session(ACME_ADMIN).await;
    let payload = "<script>alert(1)</script>\"'{{ 7*7 }}";
    let form = [
        ("csrf", sess.csrf.as_str()),
        ("mac", payload),
        ("model", payload),
        ("site", payload),
    ];
    let (status, _, body) = p.post(Some(&sess), &handsets(&p), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(body.contains("{{ 7*7 }}"), "no template evaluation: {body}");
    assert!(body.contains("&lt;script&gt;"), "{body}");
}

#[tokio::test]
async fn issue_14_handsets_list_links_the_logged_in_user_and_filters_by_firmware() {
    let p = Portal::start().await;
    let admin = &p.server.app.admin;
    add_device(&p, MAC).await;
    add_device(&p, OTHER_MAC).await;
    p.active_number(NUMBER).await;
    let ada = admin.user_activate(p.acme.id, &p.ada).await.unwrap();
    let number = admin.number(p.acme.id, NUMBER).await.unwrap();
    admin.number_assign(p.acme.id, &number, &ada).await.unwrap();
    admin.device_login(p.acme.id, MAC, NUMBER).await.unwrap();
    // Each phone reports its firmware in its User-Agent.
    for (file, ua) in [
        (
            "/001565a1b2c3.cfg",
            "Yealink SIP-T54W 96.86.0.100 00:15:65:a1:b2:c3",
        ),
        (
            "/001565a1b2c4.cfg",
            "Yealink SIP-T54W 96.86.0.200 00:15:65:a1:b2:c4",
        ),
    ] {
        p.server.fetch(file, Some(ua)).await;
    }
    p.server.app.provisioner.flush_seen().await;
    let sess = p.session(ACME_ADMIN).await;
    let (status, _, body) = p.get(Some(&sess), &handsets(&p)).await;
    assert_eq!(status, 200, "{body}");
    // The user whose number is logged in, linked to her page.
    let user_href = format!("/t/{}/users/{}", p.acme.id.0, p.ada.id.0).replace('/', "&#x2f;");
    assert!(
        body.contains(&format!(
            "<td data-label=\"Users\"><a href=\"{user_href}\">Ada Lovelace</a></td>"
        )),
        "{body}"
    );
    // The firmware versions seen, and "any".
    assert!(body.contains("<option value=\"\">any</option>"), "{body}");
    for v in ["96.86.0.100", "96.86.0.200"] {
        assert!(
            body.contains(&format!("<option value=\"{v}\">{v}</option>")),
            "{body}"
        );
    }
    assert!(body.contains(OTHER_MAC) && body.contains(MAC));
    // One version: only its phone, counted so; the filter combines with the search.
    let (_, _, body) = p
        .get(
            Some(&sess),
            &format!("{}?firmware=96.86.0.200", handsets(&p)),
        )
        .await;
    assert!(
        body.contains(OTHER_MAC) && !body.contains(&format!(">{MAC}<")),
        "{body}"
    );
    assert!(body.contains("1–1 of 1"), "{body}");
    assert!(
        body.contains("<option value=\"96.86.0.200\" selected>"),
        "{body}"
    );
    let (_, _, body) = p
        .get(
            Some(&sess),
            &format!("{}?firmware=96.86.0.200&q=a1b2c3", handsets(&p)),
        )
        .await;
    assert!(body.contains("0–0 of 0"), "{body}");
}
