//! The Telephony page (seed 002): a site's numbers with the site picker and the search, and a
//! number's actions, over HTTP with a session and in the browser.

use autoprov::admin::{DeviceInput, NumberInput, SiteInput};
use autoprov::model::{Device, Number};
use fantoccini::Locator;
use reqwest::StatusCode;

use super::browser::Browser;
use super::*;

/// Acme's telephony: Berlin (first alphabetically, added second) with a main number, Ada's
/// number, a labelled one, a reserved one and a free one, and a handset; Zurich with one number.
struct Tel {
    zurich: i64,
    main: Number,
    ada: Number,
    desk: Number,
    reserved: Number,
    free: Number,
    handset: Device,
}

async fn telephony(p: &Portal) -> Tel {
    let admin = &p.server.app.admin;
    let t = p.acme.id;
    let zurich = admin
        .site_add(
            t,
            &SiteInput {
                name: "Zurich".into(),
                sip_domain: Some("sip.zurich.example".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    admin
        .site_add(
            t,
            &SiteInput {
                name: "Berlin".into(),
                sip_domain: Some("sip.berlin.example".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let add = |number: &'static str, site: &'static str, status: &'static str, main: bool| async move {
        admin
            .number_add(
                t,
                &NumberInput {
                    number: number.into(),
                    site: Some(site.into()),
                    status: Some(status.into()),
                    main,
                },
            )
            .await
            .unwrap()
    };
    let main = add("+4930100", "Berlin", "active", true).await;
    let ada = add("+4930101", "Berlin", "active", false).await;
    let desk = add("+4930102", "Berlin", "active", false).await;
    let reserved = add("+4930103", "Berlin", "reserved", false).await;
    let free = add("+4930104", "Berlin", "active", false).await;
    add("+41441000", "Zurich", "active", false).await;
    let ada_user = admin.user(t, &p.ada.id.0.to_string()).await.unwrap();
    let ada_user = admin.user_activate(t, &ada_user).await.unwrap();
    admin.number_assign(t, &ada, &ada_user).await.unwrap();
    admin
        .number_label(t, &desk, Some("Front"), Some("Desk"))
        .await
        .unwrap();
    let handset = admin
        .device_add(
            t,
            &DeviceInput {
                mac: "001565a1b2c3".into(),
                model: "T54W".into(),
                site: Some("Berlin".into()),
            },
        )
        .await
        .unwrap();
    Tel {
        zurich: zurich.id.0,
        main,
        ada,
        desk,
        reserved,
        free,
        handset,
    }
}

fn page(p: &Portal) -> String {
    format!("/t/{}/telephony", p.acme.id.0)
}

fn of(p: &Portal, n: &Number) -> String {
    format!("/t/{}/telephony/{}", p.acme.id.0, n.id.0)
}

/// The table row of `n` in a list page.
fn row<'a>(body: &'a str, n: &Number) -> &'a str {
    let at = body
        .find(&format!("<tr id=\"n{}\">", n.id.0))
        .unwrap_or_else(|| panic!("a row for {}: {body}", n.e164));
    let rest = &body[at..];
    &rest[..rest.find("</tr>").unwrap()]
}

/// GET with the session; the body with `/` and `'` unescaped (the engine escapes them).
async fn get(
    p: &Portal,
    sess: &Sess,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let (status, headers, body) = p.get(Some(sess), path).await;
    (
        status,
        headers,
        body.replace("&#x2f;", "/").replace("&#x27;", "'"),
    )
}

/// The flash a redirect leaves for the next page.
fn flash(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("autoprov-flash="))
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_owned()
}

/// Posts the features form with the session's CSRF token.
async fn save(
    p: &Portal,
    sess: &Sess,
    url: &str,
    mut form: Vec<(&str, &str)>,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    form.push(("csrf", sess.csrf.as_str()));
    p.post(Some(sess), url, &form).await
}

async fn number(p: &Portal, n: &Number) -> Number {
    p.server
        .app
        .admin
        .number(p.acme.id, &n.id.0.to_string())
        .await
        .unwrap()
}

#[tokio::test]
async fn issue_14_telephony_lists_the_first_site_with_its_columns_picker_and_search() {
    let p = Portal::start().await;
    let tel = telephony(&p).await;
    let admin = p.session(ACME_ADMIN).await;
    let (status, _, body) = get(&p, &admin, &page(&p)).await;
    assert_eq!(status, 200, "{body}");
    // Berlin is the default (first alphabetically), Zurich in the picker.
    assert!(body.contains(">Berlin</option>") && body.contains(">Zurich</option>"));
    assert!(body.contains("selected>Berlin</option>"), "{body}");
    assert!(!body.contains("+41441000"));
    let main = row(&body, &tel.main);
    assert!(
        main.contains("Main number") && !main.contains("reset-pin"),
        "{main}"
    );
    let ada = row(&body, &tel.ada);
    assert!(
        ada.contains("Ada Lovelace") && ada.contains("/users?q=Ada"),
        "{ada}"
    );
    assert!(
        ada.contains(&tel.ada.default_pin) && ada.contains(">active<"),
        "{ada}"
    );
    assert!(ada.contains("/reset-pin") && ada.contains(&of(&p, &tel.ada)));
    let desk = row(&body, &tel.desk);
    assert!(
        desk.contains("Front Desk") && !desk.contains("/users?"),
        "{desk}"
    );
    let reserved = row(&body, &tel.reserved);
    assert!(reserved.contains(">reserved<") && !reserved.contains("/reset-pin"));
    let free = row(&body, &tel.free);
    assert!(
        free.contains("Unassigned") && free.contains("N/A"),
        "{free}"
    );
    // The picker: Zurich's numbers.
    let (_, _, body) = p
        .get(Some(&admin), &format!("{}?site={}", page(&p), tel.zurich))
        .await;
    assert!(
        body.contains("+41441000") && !body.contains("+4930101"),
        "{body}"
    );
    // The search: number and "assigned to".
    let (_, _, body) = get(&p, &admin, &format!("{}?q=front", page(&p))).await;
    assert!(
        body.contains("+4930102") && !body.contains("+4930101"),
        "{body}"
    );
    let (_, _, body) = get(&p, &admin, &format!("{}?q=30104", page(&p))).await;
    assert!(
        body.contains("+4930104") && !body.contains("+4930102"),
        "{body}"
    );
    assert!(body.contains("1–1 of 1"), "{body}");
    // German.
    let resp = p
        .http
        .get(p.url(&page(&p)))
        .header(COOKIE, &admin.cookie)
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    let body = resp.text().await.unwrap();
    assert!(
        body.contains("Telefonie") && body.contains("Hauptnummer"),
        "{body}"
    );
    // The nav links it; a number page shows its details.
    let (_, _, body) = get(&p, &admin, &of(&p, &tel.ada)).await;
    assert!(body.contains(&format!("href=\"{}\"", page(&p))), "{body}");
    assert!(body.contains("+4930101") && body.contains("Ada Lovelace"));
}

#[tokio::test]
async fn issue_14_telephony_is_the_tenants_admins_only() {
    let p = Portal::start().await;
    let tel = telephony(&p).await;
    let other = p.session(OTHER_ADMIN).await;
    let (status, _, _) = get(&p, &other, &page(&p)).await;
    assert_eq!(status, 404);
    let (status, _, _) = get(&p, &other, &of(&p, &tel.ada)).await;
    assert_eq!(status, 404);
    // Acme's number under Other's own page is not found either.
    let other_page = format!("/t/{}/telephony/{}", p.other.id.0, tel.ada.id.0);
    let (status, _, _) = get(&p, &other, &other_page).await;
    assert_eq!(status, 404);
    let user = p.session(ACME_USER).await;
    let (status, _, _) = get(&p, &user, &page(&p)).await;
    assert_eq!(status, 403);
    let (status, _, _) = p.get(None, &page(&p)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn issue_14_telephony_features_save_and_show_the_rules_errors_by_their_fields() {
    let p = Portal::start().await;
    let tel = telephony(&p).await;
    let admin = p.session(ACME_ADMIN).await;
    let url = format!("{}/features", of(&p, &tel.free));
    let (_, _, body) = get(&p, &admin, &of(&p, &tel.free)).await;
    // Busy forwarding and call waiting are one choice of three.
    assert!(body.contains("name=\"busy\" value=\"wait\""), "{body}");
    assert!(
        body.contains("<option value=\"+4930102\">"),
        "CLI picker: {body}"
    );
    assert!(!body.contains("<option value=\"+41441000\">"), "{body}");
    let (status, headers, body) = save(
        &p,
        &admin,
        &url,
        vec![
            ("forward_always", ""),
            ("busy", "forward"),
            ("forward_busy", "+4930999"),
            ("forward_no_answer", "+4930998"),
            ("voicemail", "on"),
            ("voicemail_email", "vm@acme.test"),
            ("do_not_disturb", "on"),
            ("cli_enabled", "on"),
            ("cli_number", "+4930102"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(headers["location"], of(&p, &tel.free));
    assert_eq!(flash(&headers), "telephony.flash_features");
    let f = number(&p, &tel.free).await.features;
    assert_eq!(f.forward_busy.unwrap().as_str(), "+4930999");
    assert_eq!(f.forward_no_answer.unwrap().as_str(), "+4930998");
    assert!(f.voicemail && f.do_not_disturb && f.cli_enabled && !f.call_waiting);
    assert!(f.forward_always.is_none() && !f.hide_caller_id);
    assert_eq!(f.voicemail_email.as_deref(), Some("vm@acme.test"));
    assert_eq!(f.cli_number.unwrap().as_str(), "+4930102");
    let (_, _, body) = get(&p, &admin, &of(&p, &tel.free)).await;
    assert!(body.contains("value=\"forward\" checked"), "{body}");
    // Call waiting: the busy target goes.
    let (status, _, body) = save(
        &p,
        &admin,
        &url,
        vec![("busy", "wait"), ("forward_busy", "+4930999")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let f = number(&p, &tel.free).await.features;
    assert!(f.call_waiting && f.forward_busy.is_none() && !f.voicemail);
    // The rules' errors, by their fields, nothing saved.
    let before = number(&p, &tel.free).await.features;
    let (status, _, body) = save(
        &p,
        &admin,
        &url,
        vec![("busy", "none"), ("forward_always", "not a number")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"forward_always-error\""), "{body}");
    assert!(
        body.contains("value=\"not a number\""),
        "the form as sent: {body}"
    );
    let (status, _, body) = save(
        &p,
        &admin,
        &url,
        vec![("busy", "none"), ("voicemail_email", "vm@acme.test")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"voicemail_email-error\""), "{body}");
    assert!(body.contains("needs voicemail enabled"), "{body}");
    let (status, _, body) = save(
        &p,
        &admin,
        &url,
        vec![
            ("busy", "none"),
            ("cli_enabled", "on"),
            ("cli_number", "+41441000"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"cli_number-error\""), "{body}");
    assert!(body.contains("same site"), "{body}");
    assert_eq!(number(&p, &tel.free).await.features, before);
    // Without the CSRF token: refused, nothing changed.
    let (status, _, _) = p
        .post(
            Some(&admin),
            &url,
            &[("busy", "none"), ("do_not_disturb", "on")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(number(&p, &tel.free).await.features, before);
    // Not on the main number (read-only).
    let main = format!("{}/features", of(&p, &tel.main));
    let (status, _, _) = p
        .post(
            Some(&admin),
            &main,
            &[("csrf", admin.csrf.as_str()), ("do_not_disturb", "on")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(!number(&p, &tel.main).await.features.do_not_disturb);
}

#[tokio::test]
async fn issue_14_telephony_reset_pin_and_display_name() {
    let p = Portal::start().await;
    let tel = telephony(&p).await;
    let admin = p.session(ACME_ADMIN).await;
    let a = &p.server.app.admin;
    a.number_set_pin(p.acme.id, &tel.ada, "4711").await.unwrap();
    assert!(number(&p, &tel.ada).await.custom_pin);
    let csrf = [("csrf", admin.csrf.as_str())];
    let (status, headers, body) = p
        .post(
            Some(&admin),
            &format!("{}/reset-pin", of(&p, &tel.ada)),
            &csrf,
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(flash(&headers), "telephony.flash_pin_reset");
    assert!(!number(&p, &tel.ada).await.custom_pin);
    // Not on a reserved number: the rule's message shown.
    let (status, _, body) = p
        .post(
            Some(&admin),
            &format!("{}/reset-pin", of(&p, &tel.reserved)),
            &csrf,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("actions need an active number"), "{body}");
    // The two-part display name, escaped; an all-digit part is refused by its field.
    let label = format!("{}/label", of(&p, &tel.free));
    let (status, _, _) = p
        .post(
            Some(&admin),
            &label,
            &[
                ("csrf", admin.csrf.as_str()),
                ("first", "<b>Meeting</b>"),
                ("last", "Room"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let n = number(&p, &tel.free).await;
    assert_eq!(n.label_first.as_deref(), Some("<b>Meeting</b>"));
    assert_eq!(n.label_last.as_deref(), Some("Room"));
    let (_, _, body) = get(&p, &admin, &page(&p)).await;
    let free = row(&body, &tel.free);
    assert!(
        free.contains("&lt;b&gt;Meeting") && !free.contains("<b>"),
        "{free}"
    );
    let (status, _, body) = p
        .post(
            Some(&admin),
            &label,
            &[
                ("csrf", admin.csrf.as_str()),
                ("first", "1234"),
                ("last", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"label_first-error\""), "{body}");
    // The field shows what was sent, not the stored label.
    assert!(body.contains("name=\"first\" value=\"1234\""), "{body}");
    // Both empty: no label.
    let (status, _, _) = p
        .post(
            Some(&admin),
            &label,
            &[("csrf", admin.csrf.as_str()), ("first", ""), ("last", "")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(number(&p, &tel.free).await.label().is_none());
}

#[tokio::test]
async fn issue_14_telephony_assign_only_users_without_a_number_and_unassign() {
    let p = Portal::start().await;
    let tel = telephony(&p).await;
    let a = &p.server.app.admin;
    let bob = a
        .user_add(
            p.acme.id,
            &autoprov::admin::UserInput {
                first_name: "Bob".into(),
                last_name: "Builder".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let bob = a.user_activate(p.acme.id, &bob).await.unwrap();
    let admin = p.session(ACME_ADMIN).await;
    let (_, _, body) = get(&p, &admin, &of(&p, &tel.free)).await;
    let picker = &body[body.find("id=\"assign-user\"").expect("the picker")..];
    let picker = &picker[..picker.find("</select>").unwrap()];
    assert!(
        picker.contains("Bob Builder") && !picker.contains("Ada"),
        "{picker}"
    );
    let assign = format!("{}/assign", of(&p, &tel.free));
    let bob_id = bob.id.0.to_string();
    let (status, _, body) = p
        .post(
            Some(&admin),
            &assign,
            &[("csrf", admin.csrf.as_str()), ("user", bob_id.as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, _, body) = get(&p, &admin, &page(&p)).await;
    assert!(row(&body, &tel.free).contains("Bob Builder"), "{body}");
    // Ada has a number already: the rule refuses, its message by the picker.
    let ada_id = p.ada.id.0.to_string();
    let (status, _, body) = p
        .post(
            Some(&admin),
            &format!("{}/assign", of(&p, &tel.desk)),
            &[("csrf", admin.csrf.as_str()), ("user", ada_id.as_str())],
        )
        .await;
    assert!(status.is_client_error(), "{status}");
    assert!(body.contains("id=\"user-error\""), "{body}");
    assert!(a.user(p.acme.id, &ada_id).await.unwrap().number_id == Some(tel.ada.id));
    // Unassign.
    let (status, _, body) = p
        .post(
            Some(&admin),
            &format!("{}/unassign", of(&p, &tel.free)),
            &[("csrf", admin.csrf.as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(a
        .user(p.acme.id, &bob_id)
        .await
        .unwrap()
        .number_id
        .is_none());
    let (_, _, body) = get(&p, &admin, &page(&p)).await;
    assert!(row(&body, &tel.free).contains("Unassigned"));
}

#[tokio::test]
async fn issue_14_telephony_log_in_a_handset_by_phone_id_and_log_out() {
    let p = Portal::start().await;
    let tel = telephony(&p).await;
    let admin = p.session(ACME_ADMIN).await;
    let (_, _, body) = get(&p, &admin, &of(&p, &tel.free)).await;
    assert!(
        body.contains(&format!("<option value=\"{}\">", tel.handset.phone_id)),
        "the site's handsets: {body}"
    );
    let phone_id = tel.handset.phone_id.as_str();
    let (status, _, body) = p
        .post(
            Some(&admin),
            &format!("{}/login", of(&p, &tel.free)),
            &[("csrf", admin.csrf.as_str()), ("handset", phone_id)],
        )
        .await;
    // The line's login details, this once, as the user's page shows them.
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Note these down now"), "{body}");
    let password = sip_password_of(&body);
    assert!(password.len() >= 20, "{password}");
    assert!(
        body.contains(&format!(
            "href=\"{}\" id=\"continue\"",
            of(&p, &tel.free).replace('/', "&#x2f;")
        )),
        "{body}"
    );
    let (_, _, body) = get(&p, &admin, &of(&p, &tel.free)).await;
    assert!(!body.contains(&password) && !body.contains("Note these down"));
    let (_, _, body) = get(&p, &admin, &page(&p)).await;
    assert!(
        row(&body, &tel.free).contains(&format!("Logged in ({phone_id})")),
        "{body}"
    );
    // Someone is already logged in there: the error shown, nothing done.
    let (status, _, body) = p
        .post(
            Some(&admin),
            &format!("{}/login", of(&p, &tel.desk)),
            &[("csrf", admin.csrf.as_str()), ("handset", phone_id)],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("id=\"handset-error\""), "{body}");
    assert!(body.contains("someone is already logged in"), "{body}");
    // The picker keeps the handset the admin chose.
    assert!(
        body.contains(&format!("<option value=\"{phone_id}\" selected>")),
        "{body}"
    );
    let (_, _, body) = get(&p, &admin, &page(&p)).await;
    assert!(row(&body, &tel.desk).contains("N/A"));
    // No secret on the page after a login.
    assert!(!body.contains("sip_password"));
    // An unknown Phone ID.
    let (status, _, body) = p
        .post(
            Some(&admin),
            &format!("{}/login", of(&p, &tel.desk)),
            &[("csrf", admin.csrf.as_str()), ("handset", "ZZZZZZ")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"handset-error\""), "{body}");
    // Log out.
    let (status, _, body) = p
        .post(
            Some(&admin),
            &format!("{}/logout", of(&p, &tel.free)),
            &[("csrf", admin.csrf.as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, _, body) = get(&p, &admin, &page(&p)).await;
    assert!(row(&body, &tel.free).contains("N/A"));
}

#[tokio::test]
async fn issue_14_browser_telephony() {
    let Some(b) = Browser::open("telephony").await else {
        return;
    };
    let tel = telephony(&b.portal).await;
    b.login_as(ACME_ADMIN).await;
    assert!(b.nav_labels().await.contains(&"Telephony".to_owned()));
    let c = &b.client;
    c.find(Locator::LinkText("Telephony"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_path(|p| p.ends_with("/telephony"), "the Telephony page")
        .await;
    assert!(b.heading().await.starts_with("Telephony"));
    let text = c
        .find(Locator::Css("tbody"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("+4930101") && text.contains("Main number"),
        "{text}"
    );
    b.assert_no_console_errors().await;
    b.screenshots("telephony").await;
    // Search as you type (the script sends the form when typing pauses).
    b.type_into("q", "front").await;
    let mut rows = 0;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if c.current_url()
            .await
            .unwrap()
            .query()
            .unwrap_or("")
            .contains("q=front")
        {
            rows = c.find_all(Locator::Css("tbody tr")).await.unwrap().len();
            break;
        }
    }
    assert_eq!(rows, 1, "one row for \"front\"");
    // The site picker changes the list (the search is kept: start without one).
    b.go(&format!("/t/{}/telephony", b.portal.acme.id.0)).await;
    b.click(&format!("#site option[value='{}']", tel.zurich))
        .await;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if c.current_url()
            .await
            .unwrap()
            .query()
            .unwrap_or("")
            .contains(&format!("site={}", tel.zurich))
        {
            break;
        }
    }
    let text = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("+41441000"), "{text}");
    // A number's page: features, log in a handset.
    b.go(&format!("/t/{}/telephony", b.portal.acme.id.0)).await;
    b.click(&format!("#n{} a", tel.free.id.0)).await;
    let number_page = format!("/telephony/{}", tel.free.id.0);
    b.wait_for_path(|p| p.ends_with(&number_page), "the number's page")
        .await;
    assert_eq!(b.heading().await, "+4930104 Berlin");
    c.find(Locator::Id("do_not_disturb"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Id("busy-wait"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.click("#features ~ form button[type=submit]").await;
    b.wait_for_text("The features have been saved.").await;
    let flash = c
        .find(Locator::Css(".flash"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(flash, "The features have been saved.");
    let f = number(&b.portal, &tel.free).await.features;
    assert!(f.do_not_disturb && f.call_waiting);
    b.click(&format!(
        "#login-handset option[value='{}']",
        tel.handset.phone_id
    ))
    .await;
    b.click("form[action$='/login#handset'] button").await;
    // The line's login details, once; "Continue" goes back to the number.
    b.wait_for_text("Note these down now").await;
    b.screenshots("telephony-login-details").await;
    c.find(Locator::Id("continue"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_text(&format!("Logged in ({})", tel.handset.phone_id))
        .await;
    b.assert_no_console_errors().await;
    b.screenshots("telephony-number").await;
    // Another number on the same handset: the error shown.
    b.go(&format!(
        "/t/{}/telephony/{}",
        b.portal.acme.id.0, tel.desk.id.0
    ))
    .await;
    b.click(&format!(
        "#login-handset option[value='{}']",
        tel.handset.phone_id
    ))
    .await;
    b.click("form[action$='/login#handset'] button").await;
    b.wait_for_text("someone is already logged in").await;
    let error = c
        .find(Locator::Id("handset-error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(error.contains("someone is already logged in"), "{error}");
    b.forget_console().await;
    b.screenshots("telephony-login-error").await;
    b.close().await;
}

/// The SIP password on a login details page.
fn sip_password_of(body: &str) -> String {
    let at = body.find("id=\"sip-password\">").expect("the password") + 18;
    body[at..].split('<').next().unwrap().to_owned()
}
