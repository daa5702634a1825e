//! A user's page (001, 000, 003) over HTTPS with a cookie: activation and failure only for the
//! operator (buttons and POST), deactivation with announcement and transfer, reactivation,
//! deletion after the page that says it cannot be undone, the desk phone's login details
//! shown once, bulk device passwords as a CSV download, the app registration, the PBX options;
//! and the admin's day in the browser, with the phone's real fetches.

use autoprov::admin::NumberInput;
use autoprov::model::{User, UserState};
use fantoccini::Locator;
use reqwest::StatusCode;

use super::browser::Browser;
use super::handsets::add_device;
use super::*;

const MAC: &str = "001565a1b2c3";
const UA: &str = "Yealink SIP-T54W 96.86.0.100 00:15:65:a1:b2:c3";
const NUMBER: &str = "+4930123456";

fn user_page(p: &Portal, u: &User) -> String {
    format!("/t/{}/users/{}", p.acme.id.0, u.id.0)
}

async fn fresh(p: &Portal, u: &User) -> User {
    p.server
        .app
        .admin
        .user(p.acme.id, &u.id.0.to_string())
        .await
        .unwrap()
}

/// Ada active with `NUMBER` at Berlin, and a T54W there: its Phone ID.
async fn ada_with_number(p: &Portal) -> String {
    let admin = &p.server.app.admin;
    let phone_id = add_device(p, MAC).await;
    p.active_number(NUMBER).await;
    let ada = admin.user_activate(p.acme.id, &p.ada).await.unwrap();
    let number = admin.number(p.acme.id, NUMBER).await.unwrap();
    admin.number_assign(p.acme.id, &number, &ada).await.unwrap();
    phone_id
}

async fn post(p: &Portal, s: &Sess, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let mut form = form.to_vec();
    form.push(("csrf", s.csrf.as_str()));
    let (status, _, body) = p.post(Some(s), path, &form).await;
    (status, body)
}

#[tokio::test]
async fn issue_14_users_activation_and_failure_are_the_operators_only() {
    let p = Portal::start().await;
    let admin = p.session(ACME_ADMIN).await;
    let page = user_page(&p, &p.ada);
    let (status, _, body) = p.get(Some(&admin), &page).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Lovelace") && body.contains("pending"),
        "{body}"
    );
    assert!(!body.contains("id=\"activate\"") && !body.contains("id=\"fail\""));
    assert!(
        body.contains("Only the operator activates users."),
        "{body}"
    );
    // The POSTs are refused by the admin rule, and nothing changes.
    for action in ["activate", "fail"] {
        let (status, _) = post(&p, &admin, &format!("{page}/{action}"), &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{action}");
    }
    assert_eq!(fresh(&p, &p.ada).await.state, UserState::Pending);
    // The operator sees both and activates.
    let op = p.session(OPERATOR).await;
    let (_, _, body) = p.get(Some(&op), &page).await;
    assert!(body.contains("id=\"activate\"") && body.contains("id=\"fail\""));
    let (status, _) = post(&p, &op, &format!("{page}/activate"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(fresh(&p, &p.ada).await.state, UserState::Active);
    // Failing an active user is the rule's conflict, shown on the page.
    let (status, body) = post(&p, &op, &format!("{page}/fail"), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("id=\"state-error\""), "{body}");
    // Another tenant's admin does not find her; a user may not open the page.
    let other = p.session(OTHER_ADMIN).await;
    let (status, _, _) = p.get(Some(&other), &page).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = p
        .get(
            Some(&other),
            &format!("/t/{}/users/{}", p.other.id.0, p.ada.id.0),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let user = p.session(ACME_USER).await;
    let (status, _, _) = p.get(Some(&user), &page).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn issue_14_users_deactivate_reactivate_and_delete_after_the_confirmation() {
    let p = Portal::start().await;
    ada_with_number(&p).await;
    let admin = p.session(ACME_ADMIN).await;
    let page = user_page(&p, &p.ada);
    // A bad transfer number by its field.
    let (status, body) = post(
        &p,
        &admin,
        &format!("{page}/deactivate"),
        &[
            ("announcement", "Gone"),
            ("transfer", "0301"),
            ("transfer_mode", "key-press"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"transfer-error\""), "{body}");
    let (status, body) = post(
        &p,
        &admin,
        &format!("{page}/deactivate"),
        &[
            ("announcement", "Ada has left"),
            ("transfer", "+4930100"),
            ("transfer_mode", "key-press"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(fresh(&p, &p.ada).await.state, UserState::Deactivated);
    let (_, _, body) = p.get(Some(&admin), &page).await;
    assert!(body.contains("id=\"reactivate\""), "{body}");
    let (status, _) = post(&p, &admin, &format!("{page}/activate"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(fresh(&p, &p.ada).await.state, UserState::Active);
    // The confirmation page says it cannot be undone; only its POST deletes.
    let (status, _, body) = p.get(Some(&admin), &format!("{page}/delete")).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("cannot be undone") && body.contains(NUMBER),
        "{body}"
    );
    assert_eq!(fresh(&p, &p.ada).await.state, UserState::Active);
    let (status, _, _) = p
        .post(
            Some(&admin),
            &format!("{page}/delete"),
            &[("csrf", "wrong")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "CSRF");
    let (status, _) = post(&p, &admin, &format!("{page}/delete"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = p.get(Some(&admin), &page).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn issue_14_users_desk_phone_login_details_are_shown_once() {
    let p = Portal::start().await;
    let phone_id = ada_with_number(&p).await;
    let admin = p.session(ACME_ADMIN).await;
    let page = user_page(&p, &p.ada);
    let (_, _, body) = p.get(Some(&admin), &page).await;
    assert!(
        body.contains(&format!("<option value=\"{phone_id}\">")),
        "{body}"
    );
    let (status, body) = post(
        &p,
        &admin,
        &format!("{page}/desk-phone"),
        &[("handset", &phone_id)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Note these down now"), "{body}");
    let password = secret_of(&body);
    assert!(password.len() >= 20, "{password}");
    // The phone gets the line with that password.
    let (_, _, file) = p.server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(
        file.lines()
            .any(|l| l == format!("account.1.password = {password}")),
        "{file}"
    );
    // Never again on a later view.
    let (_, _, body) = p.get(Some(&admin), &page).await;
    assert!(!body.contains(&password) && !body.contains("Note these down"));
    assert!(
        body.contains(&format!("Logged in to handset {phone_id}")),
        "{body}"
    );
    // New login details: another password, shown once.
    let (status, body) = post(&p, &admin, &format!("{page}/login-details"), &[]).await;
    assert_eq!(status, 200, "{body}");
    let renewed = secret_of(&body);
    assert_ne!(renewed, password);
    let (_, _, body) = p.get(Some(&admin), &page).await;
    assert!(!body.contains(&renewed));
    // No desk phone: logged out.
    let (status, _) = post(
        &p,
        &admin,
        &format!("{page}/desk-phone"),
        &[("handset", "")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, body) = p.get(Some(&admin), &page).await;
    assert!(body.contains("No desk phone") && !body.contains("Logged in to handset"));
}

/// `NUMBER` active at Berlin (nobody's) and a T54W there: its Phone ID.
async fn free_number_and_handset(p: &Portal) -> String {
    let phone_id = add_device(p, MAC).await;
    p.active_number(NUMBER).await;
    phone_id
}

/// The user called `last` in Acme.
async fn user_named(p: &Portal, last: &str) -> User {
    let users = p.server.app.admin.user_list(p.acme.id).await.unwrap();
    users
        .into_iter()
        .find(|u| u.last_name.as_str() == last)
        .expect("the user was added")
}

#[tokio::test]
async fn issue_14_users_add_with_a_desk_phone_shows_its_login_details_once() {
    let p = Portal::start().await;
    let phone_id = free_number_and_handset(&p).await;
    let admin = p.session(ACME_ADMIN).await;
    let list = format!("/t/{}/users", p.acme.id.0);
    let (_, _, body) = p.get(Some(&admin), &list).await;
    // The picker: no desk phone first, then the free handsets by Phone ID, model and MAC.
    assert!(
        body.contains("<option value=\"\">No desk phone</option>"),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "<option value=\"{phone_id}\">{phone_id} (T54W, 001565a1b2c3)</option>"
        )),
        "{body}"
    );
    let (status, body) = post(
        &p,
        &admin,
        &list,
        &[
            ("first_name", "Grace"),
            ("last_name", "Hopper"),
            ("number", NUMBER),
            ("handset", &phone_id),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Note these down now"), "{body}");
    let password = secret_of(&body);
    assert!(password.len() >= 20, "{password}");
    let grace = user_named(&p, "Hopper").await;
    assert_eq!(grace.state, UserState::Pending);
    // The phone gets the pending user's line with that password.
    let (_, _, file) = p.server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(
        file.lines()
            .any(|l| l == format!("account.1.password = {password}")),
        "{file}"
    );
    // Never again: the user's page shows the Phone ID only, and the handset is no longer free.
    let (_, _, body) = p.get(Some(&admin), &user_page(&p, &grace)).await;
    assert!(!body.contains(&password) && !body.contains("Note these down"));
    assert!(
        body.contains(&format!("Logged in to handset {phone_id}")),
        "{body}"
    );
    let (_, _, body) = p.get(Some(&admin), &list).await;
    assert!(!body.contains(&format!("<option value=\"{phone_id}\">")));
    // Her configuration is fixed now until the operator activates her: no second handset.
    let (status, body) = post(
        &p,
        &admin,
        &format!("{}/desk-phone", user_page(&p, &grace)),
        &[("handset", "")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("is pending"), "{body}");
}

/// Berlin with `NUMBER` and a T54W (as `free_number_and_handset`), and Zurich with
/// `ZURICH_NUMBER` and a handset of its own: the Berlin handset's Phone ID, Zurich, and the
/// Zurich handset's.
async fn two_sites(p: &Portal) -> (String, autoprov::model::Site, String) {
    let berlin_phone = free_number_and_handset(p).await;
    let a = &p.server.app.admin;
    let zurich = a
        .site_add(
            p.acme.id,
            &autoprov::admin::SiteInput {
                name: "Zurich".into(),
                sip_domain: Some("sip.zurich.example".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    a.number_add(
        p.acme.id,
        &NumberInput {
            number: ZURICH_NUMBER.into(),
            site: Some("Zurich".into()),
            status: Some("active".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let phone_id = a
        .device_add(
            p.acme.id,
            &autoprov::admin::DeviceInput {
                mac: "001565a1b2c4".into(),
                model: "T54W".into(),
                site: Some("Zurich".into()),
            },
        )
        .await
        .unwrap()
        .phone_id;
    (berlin_phone, zurich, phone_id)
}

const ZURICH_NUMBER: &str = "+41445551234";

/// The add form's `<select>` of `name`, up to its end.
fn picker<'a>(body: &'a str, name: &str) -> &'a str {
    let at = body
        .find(&format!("id=\"new-{name}\""))
        .expect("the picker");
    let rest = &body[at..];
    &rest[..rest.find("</select>").expect("the picker's end")]
}

/// The add form offers only one site's numbers and handsets, the site picked by a GET form
/// (no script needed), the first alphabetically by default; a failed add keeps the site.
#[tokio::test]
async fn issue_14_users_add_offers_the_numbers_and_handsets_of_the_site_picked() {
    let p = Portal::start().await;
    let (berlin_phone, zurich, zurich_phone) = two_sites(&p).await;
    let admin = p.session(ACME_ADMIN).await;
    let list = format!("/t/{}/users", p.acme.id.0);
    let option = |value: &str| format!("<option value=\"{value}\"");
    // Berlin by default: its number and handset, not Zurich's.
    let (_, _, body) = p.get(Some(&admin), &list).await;
    assert!(
        body.contains("id=\"add-site-select\" name=\"site\""),
        "{body}"
    );
    assert!(
        body.contains("<button type=\"submit\">Show</button>"),
        "{body}"
    );
    assert!(picker(&body, "number").contains(&option(NUMBER)), "{body}");
    assert!(body.contains(&option(&berlin_phone)), "{body}");
    assert!(
        !picker(&body, "number").contains(&option(ZURICH_NUMBER)),
        "{body}"
    );
    assert!(!body.contains(&option(&zurich_phone)), "{body}");
    // Zurich picked: only Zurich's, and the add form sends the site along.
    let (_, _, body) = p
        .get(Some(&admin), &format!("{list}?site={}", zurich.id.0))
        .await;
    assert!(
        body.contains(&format!(
            "<option value=\"{}\" selected>Zurich</option>",
            zurich.id.0
        )),
        "{body}"
    );
    assert!(
        picker(&body, "number").contains(&option(ZURICH_NUMBER)),
        "{body}"
    );
    assert!(body.contains(&option(&zurich_phone)), "{body}");
    assert!(!picker(&body, "number").contains(&option(NUMBER)), "{body}");
    assert!(!body.contains(&option(&berlin_phone)), "{body}");
    assert!(
        body.contains(&format!(
            "<input type=\"hidden\" name=\"site\" value=\"{}\">",
            zurich.id.0
        )),
        "{body}"
    );
    // A refused add is shown again with Zurich's pickers.
    let zurich_id = zurich.id.0.to_string();
    let (status, body) = post(
        &p,
        &admin,
        &list,
        &[
            ("first_name", ""),
            ("last_name", "Hopper"),
            ("site", &zurich_id),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains(&option(&zurich_phone)), "{body}");
    assert!(!body.contains(&option(&berlin_phone)), "{body}");
}

#[tokio::test]
async fn issue_14_users_add_adds_nobody_when_the_handset_refuses_the_line() {
    let p = Portal::start().await;
    // Ada's number is logged in to the only handset.
    let phone_id = ada_with_number(&p).await;
    let a = &p.server.app.admin;
    let number = a.number(p.acme.id, NUMBER).await.unwrap();
    a.number_login(
        p.acme.id,
        &number,
        &autoprov::admin::LoginTarget {
            handset: phone_id.clone(),
            additional_line: false,
        },
    )
    .await
    .unwrap();
    a.number_add(
        p.acme.id,
        &NumberInput {
            number: "+4930123457".into(),
            status: Some("active".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let admin = p.session(ACME_ADMIN).await;
    let list = format!("/t/{}/users", p.acme.id.0);
    let (status, body) = post(
        &p,
        &admin,
        &list,
        &[
            ("first_name", "Grace"),
            ("last_name", "Hopper"),
            ("number", "+4930123457"),
            ("handset", &phone_id),
        ],
    )
    .await;
    // Refused as one: nobody added, the form again with why under the desk phone picker,
    // and what was typed kept.
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let users = a.user_list(p.acme.id).await.unwrap();
    assert!(
        !users.iter().any(|u| u.last_name.as_str() == "Hopper"),
        "{users:?}"
    );
    assert!(body.contains("id=\"handset-error\""), "{body}");
    assert!(
        body.contains("aria-describedby=\"handset-error\""),
        "{body}"
    );
    assert!(body.contains("someone is already logged in"), "{body}");
    assert!(body.contains("value=\"Grace\""), "{body}");
    assert!(!body.contains("sip-password"), "{body}");
    // The number is still free: once the handset is, the same add goes through in one step.
    a.number_logout(p.acme.id, &number).await.unwrap();
    let (status, body) = post(
        &p,
        &admin,
        &list,
        &[
            ("first_name", "Grace"),
            ("last_name", "Hopper"),
            ("number", "+4930123457"),
            ("handset", &phone_id),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("sip-password"), "{body}");
    let grace = user_named(&p, "Hopper").await;
    assert_eq!(
        grace.number.as_ref().map(|n| n.as_str()),
        Some("+4930123457")
    );
}

#[tokio::test]
async fn issue_14_users_add_takes_the_trunk_and_the_fax_number() {
    let p = Portal::start().await;
    free_number_and_handset(&p).await;
    let a = &p.server.app.admin;
    let fax = "+4930123499";
    a.number_add(
        p.acme.id,
        &NumberInput {
            number: fax.into(),
            status: Some("active".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    a.trunk_add(p.acme.id, "Berlin", "Main trunk")
        .await
        .unwrap();
    let spare = a
        .trunk_add(p.acme.id, "Berlin", "Spare trunk")
        .await
        .unwrap();
    a.licence_pool_set(p.acme.id, "e-fax", 2).await.unwrap();
    let admin = p.session(ACME_ADMIN).await;
    let list = format!("/t/{}/users", p.acme.id.0);
    let (_, _, body) = p.get(Some(&admin), &list).await;
    assert!(
        body.contains(&format!(
            "<option value=\"{}\">Spare trunk</option>",
            spare.id
        )),
        "{body}"
    );
    assert!(body.contains("id=\"new-fax_number\""), "{body}");
    let grace = [
        ("first_name", "Grace"),
        ("last_name", "Hopper"),
        ("number", NUMBER),
        ("licence", "e-fax"),
        ("fax_number", fax),
    ];
    // Two trunks at the number's site: the rule asks for one, by the trunk's picker, and
    // the pickers keep what was chosen.
    let (status, body) = post(&p, &admin, &list, &grace).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"trunk-error\""), "{body}");
    assert!(
        body.contains(&format!("<option value=\"{fax}\" selected>")),
        "{body}"
    );
    // A fax number without the e-fax licence: by its field.
    let spare_id = spare.id.to_string();
    let (status, body) = post(
        &p,
        &admin,
        &list,
        &[
            ("first_name", "Grace"),
            ("last_name", "Hopper"),
            ("number", NUMBER),
            ("trunk", &spare_id),
            ("fax_number", fax),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"fax_number-error\""), "{body}");
    let mut form = grace.to_vec();
    form.push(("trunk", &spare_id));
    let (status, body) = post(&p, &admin, &list, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let added = user_named(&p, "Hopper").await;
    assert_eq!(added.trunk_id, Some(spare.id));
    let fax_id = a.number(p.acme.id, fax).await.unwrap().id;
    assert_eq!(added.fax_number_id, Some(fax_id));
}

/// The SIP password on a login details page.
fn secret_of(body: &str) -> String {
    let at = body.find("id=\"sip-password\">").expect("the password") + 18;
    body[at..].split('<').next().unwrap().to_owned()
}

#[tokio::test]
async fn issue_14_users_bulk_device_passwords_answer_a_csv_download() {
    let p = Portal::start().await;
    let phone_id = ada_with_number(&p).await;
    let admin = &p.server.app.admin;
    let number = admin.number(p.acme.id, NUMBER).await.unwrap();
    admin
        .number_login(
            p.acme.id,
            &number,
            &autoprov::admin::LoginTarget {
                handset: phone_id,
                additional_line: false,
            },
        )
        .await
        .unwrap();
    let sess = p.session(ACME_ADMIN).await;
    let list = format!("/t/{}/users", p.acme.id.0);
    let (_, _, body) = p.get(Some(&sess), &list).await;
    assert!(
        body.contains(&format!(
            "name=\"user\" value=\"{}\" form=\"bulk\"",
            p.ada.id.0
        )),
        "{body}"
    );
    let id = p.ada.id.0.to_string();
    let resp = p
        .http
        .post(p.url(&format!("{list}/device-passwords")))
        .header(reqwest::header::COOKIE, &sess.cookie)
        .form(&[
            ("csrf", sess.csrf.as_str()),
            ("user", id.as_str()),
            ("mode", "set"),
            ("password", "Secret-Pass-42"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let csv = resp.text().await.unwrap();
    assert!(csv.starts_with("first_name,last_name,number"), "{csv}");
    assert!(
        csv.contains("Ada,Lovelace,+4930123456") && csv.contains("Secret-Pass-42"),
        "{csv}"
    );
    let (_, _, file) = p.server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(
        file.lines()
            .any(|l| l == "account.1.password = Secret-Pass-42"),
        "{file}"
    );
    // Random passwords differ from the set one; nobody ticked is an error on the list.
    let (status, _, csv) = p
        .post(
            Some(&sess),
            &format!("{list}/device-passwords"),
            &[
                ("csrf", sess.csrf.as_str()),
                ("user", id.as_str()),
                ("mode", "random"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        !csv.contains("Secret-Pass-42") && csv.contains("Ada,Lovelace"),
        "{csv}"
    );
    let (status, body) = post(
        &p,
        &sess,
        &format!("{list}/device-passwords"),
        &[("mode", "random")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"bulk-error\""), "{body}");
    let (status, body) = post(
        &p,
        &sess,
        &format!("{list}/device-passwords"),
        &[
            ("user", id.as_str()),
            ("mode", "set"),
            ("password", "short"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("8 to 64 printable"), "{body}");
}

#[tokio::test]
async fn issue_14_users_add_with_number_licence_and_mobile_then_edit_options_and_app() {
    let p = Portal::start().await;
    ada_with_number(&p).await;
    let admin = &p.server.app.admin;
    p.active_number("+4930123457").await;
    let sess = p.session(ACME_ADMIN).await;
    let list = format!("/t/{}/users", p.acme.id.0);
    let (_, _, body) = p.get(Some(&sess), &list).await;
    assert!(body.contains("<option value=\"+4930123457\">"), "{body}");
    assert!(
        !body.contains("<option value=\"+4930123456\">"),
        "Ada's is not offered"
    );
    // Ada's number is taken: the conflict by the number's field.
    let (status, body) = post(
        &p,
        &sess,
        &list,
        &[
            ("first_name", "Bob"),
            ("last_name", "B"),
            ("number", NUMBER),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("id=\"number-error\""), "{body}");
    let (status, _, body) = p
        .post(
            Some(&sess),
            &list,
            &[
                ("csrf", sess.csrf.as_str()),
                ("first_name", "Bob"),
                ("last_name", "B"),
                ("number", "+4930123457"),
                ("mobile", "+491701234567"),
                ("contract_number", "C-1"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let bob = admin.user(p.acme.id, "+4930123457").await.unwrap();
    assert_eq!(bob.extension.as_deref(), Some("3457"));
    assert_eq!(
        bob.mobile.as_ref().map(|m| m.as_str()),
        Some("+491701234567")
    );
    // Pending: a name may change, the mobile may not (the rule's conflict).
    let page = user_page(&p, &bob);
    let edit = |first: &'static str, mobile: &'static str| {
        vec![
            ("first_name", first),
            ("last_name", "B"),
            ("email", ""),
            ("extension", "3457"),
            ("mobile", mobile),
            ("contract_number", "C-1"),
        ]
    };
    let (status, body) = post(
        &p,
        &sess,
        &format!("{page}/edit"),
        &edit("Robert", "+491701234567"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(fresh(&p, &bob).await.first_name.as_str(), "Robert");
    let (status, body) = post(
        &p,
        &sess,
        &format!("{page}/edit"),
        &edit("Robert", "+491709999999"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("is pending"), "{body}");
    // Options, grouped: a box ticked is saved; a bad PIN by its field.
    let (_, _, body) = p.get(Some(&sess), &page).await;
    assert!(body.contains("Clients and CTI") && body.contains("Telephone is behind NAT"));
    let (status, body) = post(
        &p,
        &sess,
        &format!("{page}/options"),
        &[("cti_access", "on"), ("behind_nat", "on")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let options = fresh(&p, &bob).await.options;
    assert!(options.cti_access && options.behind_nat && !options.may_record);
    let (status, body) = post(
        &p,
        &sess,
        &format!("{page}/options"),
        &[("conference_pin", "1111")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"conference_pin-error\""), "{body}");
    // The app registration e-mail, then the login the operator records.
    let (status, _) = post(
        &p,
        &sess,
        &format!("{page}/app"),
        &[("app_email", "bob@acme.test")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, body) = p.get(Some(&sess), &page).await;
    assert!(
        !body.contains("app-registered"),
        "a tenant admin cannot record it"
    );
    let (status, _) = post(
        &p,
        &sess,
        &format!("{page}/app-registered"),
        &[("login", "bob")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let op = p.session(OPERATOR).await;
    let (status, _) = post(
        &p,
        &op,
        &format!("{page}/app-registered"),
        &[("login", "bob.b")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, body) = p.get(Some(&sess), &page).await;
    assert!(body.contains("Registered as bob.b."), "{body}");
}

#[tokio::test]
async fn issue_14_users_page_echoes_xss_payloads_inert() {
    let p = Portal::start().await;
    let sess = p.session(ACME_ADMIN).await;
    let page = user_page(&p, &p.ada);
    let payload = "<script>alert(1)</script>\"'{{ 7*7 }}";
    let form = [
        ("first_name", payload),
        ("last_name", "L"),
        ("email", ""),
        ("extension", ""),
        ("mobile", ""),
        ("contract_number", ""),
    ];
    let (status, body) = post(&p, &sess, &format!("{page}/edit"), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(
        body.contains("&lt;script&gt;") && body.contains("{{ 7*7 }}"),
        "{body}"
    );
    let (status, body) = post(
        &p,
        &sess,
        &format!("{page}/options"),
        &[("room_number", payload)],
    )
    .await;
    assert!(!body.contains("<script>alert"), "{status} {body}");
}

/// A fixture account's first login and password change through the forms, each step awaiting
/// its next page (`Browser::login_as` looks at the address at once, which a slow machine
/// loses): on the page that shows `then`.
pub async fn first_login(b: &Browser, login: &str, then: &str) {
    b.login_form(login, FIRST).await;
    b.wait_for_text("Please choose your own password").await;
    b.type_into("current", FIRST).await;
    b.type_into("password", CHANGED).await;
    b.type_into("confirm", CHANGED).await;
    b.click("main form button[type=submit]").await;
    b.wait_for_text(then).await;
}

/// The admin's day (seeds 001, 002, 004) in the browser, as the operator: add a user, activate,
/// assign a number, log a handset in by Phone ID (the phone's next fetch has the line), change
/// features, reset the PIN, delete the user (the phone's next fetch has lost the line).
#[tokio::test]
async fn issue_14_browser_admins_day() {
    let Some(b) = Browser::open("admins_day").await else {
        return;
    };
    let p = &b.portal;
    let phone_id = add_device(p, MAC).await;
    let number = p.active_number(NUMBER).await;
    let (_, _, file) = p.server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(file.lines().any(|l| l == "account.1.enable = 0"), "{file}");
    let c = &b.client;
    first_login(&b, OPERATOR, "Tenants").await;
    let acme = p.acme.id.0;
    // Add a user.
    b.go(&format!("/t/{acme}/users")).await;
    b.type_into("new-first_name", "Grace").await;
    b.type_into("new-last_name", "Hopper").await;
    b.click("form[action$='#add'] button[type=submit]").await;
    b.wait_for_text("The user has been added").await;
    assert!(b.heading().await.starts_with("Grace Hopper"));
    b.assert_no_console_errors().await;
    b.screenshots("user-pending").await;
    // Active.
    c.find(Locator::Id("activate"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_text("The user is active.").await;
    // Assign the number (Telephony).
    let grace = p
        .server
        .app
        .admin
        .user(p.acme.id, "Grace Hopper")
        .await
        .unwrap();
    b.go(&format!("/t/{acme}/telephony/{}", number.id.0)).await;
    b.click(&format!("#assign-user option[value='{}']", grace.id.0))
        .await;
    b.click("form[action$='/assign#assign'] button").await;
    b.wait_for_text("The number has been assigned.").await;
    // Log in the handset by Phone ID on the user's page: the details shown once.
    b.go(&format!("/t/{acme}/users/{}", grace.id.0)).await;
    b.click(&format!("#handset option[value='{phone_id}']"))
        .await;
    b.click("form[action$='/desk-phone#desk_phone'] button")
        .await;
    b.wait_for_text("Note these down").await;
    let password = c
        .find(Locator::Id("sip-password"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    b.assert_no_console_errors().await;
    b.screenshots("user-login-details").await;
    // The phone's next fetch shows the line.
    let (status, _, file) = p.server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(status, 200);
    for line in [
        "account.1.enable = 1".to_owned(),
        "account.1.user_name = 4930123456".to_owned(),
        "account.1.display_name = Grace Hopper".to_owned(),
        format!("account.1.password = {password}"),
    ] {
        assert!(file.lines().any(|l| l == line), "{line} in {file}");
    }
    c.find(Locator::Id("continue"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_text(&format!("Logged in to handset {phone_id}"))
        .await;
    b.screenshots("user-active").await;
    // Change features (Telephony).
    b.go(&format!("/t/{acme}/telephony/{}", number.id.0)).await;
    c.find(Locator::Id("do_not_disturb"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.click("#features ~ form button[type=submit]").await;
    b.wait_for_text("The features have been saved.").await;
    let (_, _, file) = p.server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(file.contains("account.1.user_name = 4930123456"), "{file}");
    // Reset PIN (the form asks first).
    b.click("form[action$='/reset-pin'] button").await;
    c.accept_alert().await.unwrap();
    b.wait_for_text("The PIN has been reset to the default PIN.")
        .await;
    // Delete the user after the confirmation page.
    b.go(&format!("/t/{acme}/users/{}", grace.id.0)).await;
    c.find(Locator::Id("delete"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_text("cannot be undone").await;
    b.assert_no_console_errors().await;
    b.screenshots("user-delete").await;
    c.find(Locator::Id("delete-confirm"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_text("The user has been deleted.").await;
    b.assert_no_console_errors().await;
    b.screenshots("users").await;
    // The phone's next fetch has lost the line.
    let (_, _, file) = p.server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(file.lines().any(|l| l == "account.1.enable = 0"), "{file}");
    assert!(!file.contains("4930123456"), "{file}");
    b.close().await;
}

/// `post` with the browser's language German.
async fn post_de(p: &Portal, s: &Sess, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let mut form = form.to_vec();
    form.push(("csrf", s.csrf.as_str()));
    let resp = p
        .http
        .post(p.url(path))
        .form(&form)
        .header("cookie", &s.cookie)
        .header("accept-language", "de")
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

/// A rule's refusal is said in the page's language under its field (the rule's code looked
/// up in the portal's German catalogue); the rule itself, and so the API, says it in English.
#[tokio::test]
async fn issue_14_rule_messages_in_german_under_the_field() {
    let p = Portal::start().await;
    let phone_id = ada_with_number(&p).await;
    let a = &p.server.app.admin;
    let number = a.number(p.acme.id, NUMBER).await.unwrap();
    let target = autoprov::admin::LoginTarget {
        handset: phone_id.clone(),
        additional_line: false,
    };
    a.number_login(p.acme.id, &number, &target).await.unwrap();
    let admin = p.session(ACME_ADMIN).await;
    let list = format!("/t/{}/users", p.acme.id.0);
    let long = "A".repeat(24);
    let form = [("first_name", long.as_str()), ("last_name", "Hopper")];
    let (status, body) = post_de(&p, &admin, &list, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("hat 24 Zeichen; höchstens 23 sind erlaubt"),
        "{body}"
    );
    assert!(body.contains("id=\"first_name-error\""), "{body}");
    assert!(!body.contains("characters; at most"), "{body}");
    let mobile = [
        ("first_name", "Grace"),
        ("last_name", "Hopper"),
        ("mobile", "abc"),
    ];
    let (status, body) = post_de(&p, &admin, &list, &mobile).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("ist keine E.164-Nummer"), "{body}");
    // The same form in English says what the rule says.
    let (_, body) = post(&p, &admin, &list, &form).await;
    assert!(
        body.contains("has 24 characters; at most 23 are allowed"),
        "{body}"
    );
    // A number someone has, under the number field.
    let form = [
        ("first_name", "Grace"),
        ("last_name", "Hopper"),
        ("number", NUMBER),
    ];
    let (status, body) = post_de(&p, &admin, &list, &form).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.contains(
            "id=\"number-error\" role=\"alert\">+4930123456 ist schon Ada Lovelace zugewiesen"
        ),
        "{body}"
    );
    // Telephony's handset login: someone is logged in already.
    a.number_add(
        p.acme.id,
        &NumberInput {
            number: "+4930123457".into(),
            status: Some("active".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let second = a.number(p.acme.id, "+4930123457").await.unwrap();
    let (status, body) = post_de(
        &p,
        &admin,
        &format!("/t/{}/telephony/{}/login", p.acme.id.0, second.id.0),
        &[("handset", &phone_id)],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.contains(&format!(
            "Am Telefon {phone_id} ist schon jemand angemeldet (+4930123456)"
        )),
        "{body}"
    );
    // The rule's own text, which the API and the CLI answer, stays English.
    let e = a
        .number_login(p.acme.id, &second, &target)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("someone is already logged in to handset"),
        "{e}"
    );
    assert_eq!(e.code().map(|c| c.key), Some("handset_taken"));
}
