//! "My profile" for a user (000, 002): own details, own number's features (the self-service
//! rule for the CLI), own PIN (never shown), own monitor list (only granted colleagues), own
//! speed dials; nobody else's, and only for a user's session.

use autoprov::admin::{NumberInput, UserInput};
use reqwest::StatusCode;

use super::browser::Browser;
use super::handsets::berlin;
use super::*;

/// Ada active with +4930123456 at Berlin (whose main number is +4930100); Bob granted to be
/// watched by her, Carol not.
async fn setup(p: &Portal) -> (User, User) {
    berlin(p).await;
    let admin = &p.server.app.admin;
    let t = p.acme.id;
    for (n, main) in [
        ("+4930100", true),
        ("+4930123456", false),
        ("+4930123457", false),
    ] {
        admin
            .number_add(
                t,
                &NumberInput {
                    number: n.into(),
                    status: Some("active".into()),
                    main,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let ada = admin.user_activate(t, &p.ada).await.unwrap();
    let number = admin.number(t, "+4930123456").await.unwrap();
    admin.number_assign(t, &number, &ada).await.unwrap();
    let add = |first: &'static str, ext: &'static str| async move {
        admin
            .user_add(
                t,
                &UserInput {
                    first_name: first.into(),
                    last_name: "Colleague".into(),
                    extension: Some(ext.into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    };
    let bob = add("Bob", "201").await;
    let carol = add("Carol", "202").await;
    admin.blf_grant(t, &bob, Some(&ada)).await.unwrap();
    (bob, carol)
}

fn me(p: &Portal) -> String {
    format!("/t/{}/me", p.acme.id.0)
}

async fn post(p: &Portal, s: &Sess, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let mut form = form.to_vec();
    form.push(("csrf", s.csrf.as_str()));
    let (status, _, body) = p.post(Some(s), path, &form).await;
    (status, body)
}

#[tokio::test]
async fn issue_14_profile_features_pin_monitors_and_speed_dials_are_the_users_own() {
    let p = Portal::start().await;
    let (bob, carol) = setup(&p).await;
    let sess = p.session(ACME_USER).await;
    let url = me(&p);
    let (status, _, body) = p.get(Some(&sess), &url).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("+4930123456") && body.contains("Lovelace"),
        "{body}"
    );
    // Only granted colleagues are offered.
    assert!(
        body.contains(&format!("<option value=\"{}\">", bob.id.0)),
        "{body}"
    );
    assert!(!body.contains(&format!("<option value=\"{}\">", carol.id.0)));
    // The CLI picker: her own number and the site's main number, no colleague's.
    assert!(body.contains("<option value=\"+4930100\">"), "{body}");
    assert!(!body.contains("<option value=\"+4930123457\">"));

    // Features: saved on her number; a colleague's number as CLI is refused by the rule.
    let (status, body) = post(
        &p,
        &sess,
        &format!("{url}/features"),
        &[("busy", "wait"), ("do_not_disturb", "on")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let admin = &p.server.app.admin;
    let f = admin
        .number(p.acme.id, "+4930123456")
        .await
        .unwrap()
        .features;
    assert!(f.call_waiting && f.do_not_disturb);
    let (status, body) = post(
        &p,
        &sess,
        &format!("{url}/features"),
        &[
            ("cli_enabled", "on"),
            ("cli_number", "+4930123457"),
            ("busy", "none"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"cli_number-error\""), "{body}");

    // PIN: a plain run refused, a good one set and never shown.
    let (status, body) = post(
        &p,
        &sess,
        &format!("{url}/pin"),
        &[("pin", "1234"), ("confirm", "1234")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = post(
        &p,
        &sess,
        &format!("{url}/pin"),
        &[("pin", "4711"), ("confirm", "4712")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"confirm-error\""), "{body}");
    let (status, _) = post(
        &p,
        &sess,
        &format!("{url}/pin"),
        &[("pin", "4711"), ("confirm", "4711")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let number = admin.number(p.acme.id, "+4930123456").await.unwrap();
    assert!(number.custom_pin);
    admin.number_verify_pin(&number, "4711").await.unwrap();
    let (_, _, body) = p.get(Some(&sess), &url).await;
    assert!(!body.contains("4711"), "the PIN is never shown");

    // Monitors: the granted colleague added, the other refused by the grant rule.
    let bob_id = bob.id.0.to_string();
    let (status, _) = post(
        &p,
        &sess,
        &format!("{url}/monitors"),
        &[("colleague", &bob_id)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let carol_id = carol.id.0.to_string();
    let (status, body) = post(
        &p,
        &sess,
        &format!("{url}/monitors"),
        &[("colleague", &carol_id)],
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
    let ada = admin
        .user(p.acme.id, &p.ada.id.0.to_string())
        .await
        .unwrap();
    let list = admin.monitor_list(p.acme.id, &ada).await.unwrap();
    assert_eq!(list.iter().map(|u| u.id).collect::<Vec<_>>(), vec![bob.id]);
    let (status, _) = post(
        &p,
        &sess,
        &format!("{url}/monitors/remove"),
        &[("colleague", &bob_id)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(admin
        .monitor_list(p.acme.id, &ada)
        .await
        .unwrap()
        .is_empty());

    // Speed dials: empty rows dropped, a bad target by its field, payloads inert.
    let payload = "<script>x()</script>\"'{{ 7*7 }}";
    let (status, body) = post(
        &p,
        &sess,
        &format!("{url}/speed-dials"),
        &[
            ("label", payload),
            ("target", "+4930999"),
            ("label", ""),
            ("target", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let dials = admin.speed_dials(p.acme.id, &ada).await.unwrap();
    assert_eq!(dials, vec![(payload.to_owned(), "+4930999".to_owned())]);
    let (_, _, body) = p.get(Some(&sess), &url).await;
    assert!(
        !body.contains("<script>x()") && body.contains("&lt;script&gt;x()"),
        "{body}"
    );
    assert!(body.contains("{{ 7*7 }}"), "{body}");
    let (status, body) = post(
        &p,
        &sess,
        &format!("{url}/speed-dials"),
        &[("label", "Bad"), ("target", "abc")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"target-error\""), "{body}");

    // Own details.
    let (status, _) = post(
        &p,
        &sess,
        &format!("{url}/details"),
        &[
            ("first_name", "Augusta"),
            ("last_name", "Lovelace"),
            ("email", "ada@acme.test"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let ada = admin
        .user(p.acme.id, &p.ada.id.0.to_string())
        .await
        .unwrap();
    assert_eq!(ada.first_name.as_str(), "Augusta");
    assert_eq!(ada.email.as_deref(), Some("ada@acme.test"));
}

#[tokio::test]
async fn issue_14_profile_is_a_users_own_page_only() {
    let p = Portal::start().await;
    setup(&p).await;
    let url = me(&p);
    let admin = p.session(ACME_ADMIN).await;
    let (status, _, _) = p.get(Some(&admin), &url).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post(
        &p,
        &admin,
        &format!("{url}/pin"),
        &[("pin", "4711"), ("confirm", "4711")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let user = p.session(ACME_USER).await;
    let (status, _, _) = p.get(Some(&user), &format!("/t/{}/me", p.other.id.0)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = p
        .post(
            Some(&user),
            &format!("{url}/pin"),
            &[("pin", "4711"), ("confirm", "4711")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    assert!(
        !p.server
            .app
            .admin
            .number(p.acme.id, "+4930123456")
            .await
            .unwrap()
            .custom_pin
    );
}

#[tokio::test]
async fn issue_14_browser_profile() {
    let Some(b) = Browser::open("profile").await else {
        return;
    };
    setup(&b.portal).await;
    super::users_life::first_login(&b, ACME_USER, "My number's features").await;
    assert_eq!(b.nav_labels().await, vec!["My profile".to_owned()]);
    assert_eq!(b.heading().await, "My profile");
    b.type_into("new-pin", "4711").await;
    b.type_into("confirm-pin", "4711").await;
    b.client
        .find(fantoccini::Locator::Css("form[action$='/pin#pin'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_text("Your PIN has been changed.").await;
    b.assert_no_console_errors().await;
    b.screenshots("profile").await;
    b.close().await;
}

/// The PIN rules, in German under the PIN field.
#[tokio::test]
async fn issue_14_pin_rules_in_german_under_the_field() {
    let p = Portal::start().await;
    setup(&p).await;
    let sess = p.session(ACME_USER).await;
    let pin = format!("{}/pin", me(&p));
    let (status, body) = p
        .post_de(&sess, &pin, &[("pin", "1234"), ("confirm", "1234")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    super::sites::error_by(&body, "pin", "Zu leicht zu erraten");
    let (status, body) = p
        .post_de(&sess, &pin, &[("pin", "12a"), ("confirm", "12a")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    super::sites::error_by(&body, "pin", "Eine PIN hat 4 bis 8 Ziffern");
}
