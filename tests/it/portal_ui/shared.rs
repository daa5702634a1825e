//! The Groups pages beyond hunt groups and the directory: pickup and park groups, virtual
//! users and bridges (their rules' errors by field), and one browser walk over the pages.

use autoprov::admin::PickupGroupInput;
use reqwest::StatusCode;

use super::groups::seed;
use super::sites::error_by;
use super::*;

#[tokio::test]
async fn issue_14_pickup_and_park_groups_members_and_slots() {
    let p = Portal::start().await;
    let bob = seed(&p).await;
    let admin = &p.server.app.admin;
    admin
        .pickup_group_add(
            p.acme.id,
            &PickupGroupInput {
                name: "Front desk".into(),
                members: vec![bob.id.0.to_string()],
            },
        )
        .await
        .unwrap();
    let sess = p.session(ACME_ADMIN).await;
    let csrf = sess.csrf.as_str();
    let bob_id = bob.id.0.to_string();
    let pickup = format!("/t/{}/pickup-groups", p.acme.id.0);
    let (status, _, body) = p.get(Some(&sess), &pickup).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Front desk") && body.contains("Bob Builder"),
        "{body}"
    );
    // Bob is in Front desk already: the conflict by the members.
    let form = [("csrf", csrf), ("name", "Back office"), ("member", &bob_id)];
    let (status, _, body) = p.post(Some(&sess), &pickup, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("id=\"members-error\">Bob Builder is already in pickup group"),
        "{body}"
    );
    // A pending user may join a pickup group.
    let ada_id = p.ada.id.0.to_string();
    let form = [("csrf", csrf), ("name", "Back office"), ("member", &ada_id)];
    let (status, _, body) = p.post(Some(&sess), &pickup, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let back = admin.pickup_group(p.acme.id, "Back office").await.unwrap();
    assert_eq!(back.members.len(), 1);
    // Edit: rename; delete after the page that asks.
    let url = format!("{pickup}/{}", back.id);
    let form = [("csrf", csrf), ("name", "Back room")];
    let (status, _, _) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let renamed = admin.pickup_group(p.acme.id, "Back room").await.unwrap();
    assert!(renamed.members.is_empty(), "the members are what was sent");
    let (status, _, body) = p.get(Some(&sess), &format!("{url}/delete")).await;
    assert_eq!(status, 200);
    assert!(body.contains("Delete Back room?"), "{body}");
    let (status, _, _) = p
        .post(Some(&sess), &format!("{url}/delete"), &[("csrf", csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(admin.pickup_group(p.acme.id, "Back room").await.is_err());

    // Park: slots as a range; a slot that is Bob's extension by the slots.
    let park = format!("/t/{}/park-groups", p.acme.id.0);
    let form = [("csrf", csrf), ("name", "Lobby"), ("slots", "498-502")];
    let (status, _, body) = p.post(Some(&sess), &park, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"slots-error\">extension 500"), "{body}");
    let form = [("csrf", csrf), ("name", "Lobby"), ("slots", "12x")];
    let (_, _, body) = p.post(Some(&sess), &park, &form).await;
    assert!(
        body.contains("id=\"slots-error\">&quot;12x&quot; is not an extension"),
        "{body}"
    );
    let form = [
        ("csrf", csrf),
        ("name", "Lobby"),
        ("slots", "800-803"),
        ("member", &bob_id),
    ];
    let (status, _, body) = p.post(Some(&sess), &park, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let lobby = admin.park_group(p.acme.id, "Lobby").await.unwrap();
    assert_eq!(lobby.slots, ["800", "801", "802", "803"]);
    let url = format!("{park}/{}", lobby.id);
    let (_, _, body) = p.get(Some(&sess), &url).await;
    assert!(body.contains("value=\"800, 801, 802, 803\""), "{body}");
    let form = [("csrf", csrf), ("name", "Lobby"), ("slots", "800, 805")];
    let (status, _, _) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let lobby = admin.park_group(p.acme.id, "Lobby").await.unwrap();
    assert_eq!(lobby.slots, ["800", "805"]);
    // Another tenant's group is not found.
    let other = p.session(OTHER_ADMIN).await;
    let (status, _, _) = p
        .get(
            Some(&other),
            &format!("/t/{}/park-groups/{}", p.other.id.0, lobby.id),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let user = p.session(ACME_USER).await;
    let (status, _, _) = p.get(Some(&user), &park).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn issue_14_virtual_users_and_bridges_errors_by_field() {
    let p = Portal::start().await;
    seed(&p).await;
    let admin = &p.server.app.admin;
    let sess = p.session(ACME_ADMIN).await;
    let csrf = sess.csrf.as_str();
    let url = format!("/t/{}/virtual-users", p.acme.id.0);
    let form = [
        ("csrf", csrf),
        ("first_name", "Key"),
        ("last_name", "Supplier"),
        ("number", "+4940123456"),
        ("extension", "500"),
    ];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("id=\"extension-error\">extension 500 is already used by user Bob Builder"),
        "{body}"
    );
    let mut form = form;
    form[4] = ("extension", "1234567");
    let (_, _, body) = p.post(Some(&sess), &url, &form).await;
    assert!(
        body.contains("id=\"extension-error\">&quot;1234567&quot;"),
        "{body}"
    );
    form[4] = ("extension", "700");
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let v = admin.virtual_user(p.acme.id, "700").await.unwrap();
    let (_, _, body) = p.get(Some(&sess), &url).await;
    assert!(
        body.contains("Key Supplier") && body.contains("+4940123456"),
        "{body}"
    );
    let edit = format!("{url}/{}", v.id);
    form[4] = ("extension", "701");
    let (status, _, _) = p.post(Some(&sess), &edit, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(admin.virtual_user(p.acme.id, "701").await.is_ok());
    let (status, _, _) = p
        .post(Some(&sess), &format!("{edit}/delete"), &[("csrf", csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(admin.virtual_user(p.acme.id, "701").await.is_err());

    // Bridges: an unknown number and a taken extension by their fields, then one added.
    let url = format!("/t/{}/bridges", p.acme.id.0);
    let form = [
        ("csrf", csrf),
        ("name", "Sales bridge"),
        ("number", "+4930999999"),
    ];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"number-error\""), "{body}");
    let form = [
        ("csrf", csrf),
        ("name", "Sales bridge"),
        ("number", "+4930555002"),
        ("extension", "500"),
    ];
    let (_, _, body) = p.post(Some(&sess), &url, &form).await;
    assert!(
        body.contains("id=\"extension-error\">extension 500"),
        "{body}"
    );
    let form = [
        ("csrf", csrf),
        ("name", "Sales bridge"),
        ("number", "+4930555002"),
        ("extension", "900"),
    ];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let bridge = admin.bridge(p.acme.id, "Sales bridge").await.unwrap();
    let (_, _, body) = p.get(Some(&sess), &url).await;
    assert!(
        body.contains("Sales bridge") && body.contains("+4930555002"),
        "{body}"
    );
    let delete = format!("{url}/{}/delete", bridge.id);
    let (status, _, body) = p.get(Some(&sess), &delete).await;
    assert_eq!(status, 200);
    assert!(body.contains("Delete Sales bridge?"), "{body}");
    let (status, _, _) = p.post(Some(&sess), &delete, &[("csrf", csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(admin.bridge(p.acme.id, "Sales bridge").await.is_err());
    let other = p.session(OTHER_ADMIN).await;
    let (status, _, _) = p.get(Some(&other), &url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn issue_14_browser_groups_walk() {
    use super::browser::Browser;
    use fantoccini::Locator;
    let Some(b) = Browser::open("groups").await else {
        return;
    };
    let bob = seed(&b.portal).await;
    let t = b.portal.acme.id.0;
    b.login_as(ACME_ADMIN).await;
    let c = &b.client;
    c.find(Locator::LinkText("Groups"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(b.heading().await.starts_with("Groups and shared resources"));
    b.assert_no_console_errors().await;
    b.screenshots("groups").await;
    c.find(Locator::LinkText("Hunt groups"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_text("None yet.").await;
    c.find(Locator::Id("add"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_text("Agent 1").await;
    b.type_into("f-name", "Sales").await;
    b.type_into("f-extension", "500").await;
    c.find(Locator::Css("#agent-1"))
        .await
        .unwrap()
        .select_by_value(&bob.id.0.to_string())
        .await
        .unwrap();
    b.click("#group button[type=submit]").await;
    b.wait_for_text("extension 500 is already used by user Bob Builder")
        .await;
    b.forget_console().await;
    b.screenshots("groups-hunt-error").await;
    c.find(Locator::Id("f-extension"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    b.type_into("f-extension", "600").await;
    b.click("#group button[type=submit]").await;
    b.wait_for_text("The group has been added.").await;
    b.assert_no_console_errors().await;
    b.screenshots("groups-hunt").await;
    for (path, shot, text) in [
        ("call-centres/new", "groups-centre-new", "Queue"),
        ("pickup-groups", "groups-pickup", "Add a pickup group"),
        ("park-groups", "groups-park", "Park slots"),
        (
            "virtual-users",
            "groups-virtual-users",
            "Add a virtual user",
        ),
        ("bridges", "groups-bridges", "Add a bridge"),
        ("night-service", "groups-night", "Add opening hours"),
        ("directory", "groups-directory", "Upload a CSV file"),
    ] {
        b.go(&format!("/t/{t}/{path}")).await;
        b.wait_for_text(text).await;
        b.assert_no_console_errors().await;
        b.screenshots(shot).await;
    }
    // Opening hours added on the night service page, then edited from its link.
    b.go(&format!("/t/{t}/night-service")).await;
    b.type_into("f-name", "Office").await;
    b.type_into("f-monday", "08:00-17:00").await;
    b.click("#hours-form button[type=submit]").await;
    b.wait_for_text("The schedule has been added.").await;
    c.find(Locator::LinkText("Office"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_text("Save").await;
    let monday = c.find(Locator::Id("f-monday")).await.unwrap();
    assert_eq!(
        monday.prop("value").await.unwrap().as_deref(),
        Some("08:00-17:00")
    );
    monday.clear().await.unwrap();
    monday.send_keys("08:00-12:00, 13:00-18:00").await.unwrap();
    b.type_into("f-friday", "08:00-14:00").await;
    b.assert_no_console_errors().await;
    b.screenshots("groups-schedule-edit").await;
    b.click("#schedule-form button[type=submit]").await;
    b.wait_for_text("The schedule has been saved.").await;
    let office = b
        .portal
        .server
        .app
        .admin
        .schedule(b.portal.acme.id, "Office")
        .await
        .unwrap();
    let hours = office.hours.unwrap();
    assert_eq!(hours.monday, ["08:00-12:00", "13:00-18:00"]);
    assert_eq!(hours.friday, ["08:00-14:00"]);
    b.assert_no_console_errors().await;
    b.close().await;
}

#[tokio::test]
async fn issue_14_night_service_schedules_status_set_and_clear() {
    let p = Portal::start().await;
    seed(&p).await;
    let admin = &p.server.app.admin;
    let sess = p.session(ACME_ADMIN).await;
    let csrf = sess.csrf.as_str();
    let url = format!("/t/{}/night-service", p.acme.id.0);
    let schedules = format!("{url}/schedules");
    let (status, _, body) = p.get(Some(&sess), &url).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("the whole tenant") && body.contains("Berlin"),
        "{body}"
    );

    // Opening hours: a bad range by the hours, then a good week.
    let form = [
        ("csrf", csrf),
        ("kind", "opening-hours"),
        ("name", "Office"),
        ("monday", "08:00-25:00"),
    ];
    let (status, _, body) = p.post(Some(&sess), &schedules, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"hours-error\">monday"), "{body}");
    assert!(
        body.contains("value=\"08:00-25:00\""),
        "what was typed stays"
    );
    let form = [
        ("csrf", csrf),
        ("kind", "opening-hours"),
        ("name", "Office"),
        ("monday", "08:00-12:00, 13:00-17:00"),
        ("friday", "08:00-14:00"),
    ];
    let (status, _, body) = p.post(Some(&sess), &schedules, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let office = admin.schedule(p.acme.id, "Office").await.unwrap();
    assert_eq!(
        office.hours.as_ref().unwrap().monday,
        ["08:00-12:00", "13:00-17:00"]
    );
    // Holidays: a bad date by the holidays, then a list.
    let form = [
        ("csrf", csrf),
        ("kind", "holidays"),
        ("name", "Closed days"),
        ("holidays", "2026-13-01"),
    ];
    let (status, _, body) = p.post(Some(&sess), &schedules, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"holidays-error\""), "{body}");
    let form = [
        ("csrf", csrf),
        ("kind", "holidays"),
        ("name", "Closed days"),
        ("holidays", "2026-12-24 2026-12-26 yearly\n2027-01-01\n"),
    ];
    let (status, _, body) = p.post(Some(&sess), &schedules, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let closed = admin.schedule(p.acme.id, "Closed days").await.unwrap();
    assert_eq!(closed.holidays.len(), 2);
    assert!(closed.holidays[0].every_year);
    let (_, _, body) = p.get(Some(&sess), &url).await;
    assert!(body.contains("2026-12-24 2026-12-26 yearly"), "{body}");

    // The tenant's night service: automatic needs the hours (by that field); then set.
    let form = [("csrf", csrf), ("site", ""), ("mode", "automatic")];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"hours-error\""), "{body}");
    let form = [
        ("csrf", csrf),
        ("site", ""),
        ("mode", "automatic"),
        ("hours", "Office"),
        ("holidays", "Closed days"),
    ];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let status_now = admin
        .night_status(p.acme.id, None, jiff::Timestamp::now())
        .await
        .unwrap();
    assert_eq!(status_now.service.mode.as_str(), "automatic");
    // Berlin's own: always on, shown in force; then cleared back to the tenant's.
    let berlin = admin.site(p.acme.id, Some("Berlin")).await.unwrap();
    let site = berlin.id.0.to_string();
    let form = [("csrf", csrf), ("site", site.as_str()), ("mode", "on")];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, _, body) = p.get(Some(&sess), &url).await;
    assert!(body.contains(">night service</span>"), "{body}");
    assert!(
        body.contains("Use the tenant&#x27;s night service for Berlin"),
        "{body}"
    );
    let (status, _, _) = p
        .post(
            Some(&sess),
            &format!("{url}/clear"),
            &[("csrf", csrf), ("site", &site)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let berlin_now = admin
        .night_status(p.acme.id, Some(&berlin), jiff::Timestamp::now())
        .await
        .unwrap();
    assert!(berlin_now.inherited);
    // A schedule in no night service is deleted after the page that asks.
    admin
        .night_service_set(
            p.acme.id,
            None,
            &autoprov::admin::NightServiceInput {
                mode: "off".into(),
                hours: None,
                holidays: None,
                target: None,
                destination: None,
            },
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    let delete = format!("{schedules}/{}/delete", closed.id);
    let (status, _, body) = p.get(Some(&sess), &delete).await;
    assert_eq!(status, 200);
    assert!(body.contains("Delete Closed days?"), "{body}");
    let (status, _, _) = p.post(Some(&sess), &delete, &[("csrf", csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(admin.schedule(p.acme.id, "Closed days").await.is_err());
    let user = p.session(ACME_USER).await;
    let (status, _, _) = p.get(Some(&user), &url).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// Issue 14: a schedule in use is not deleted; the 409 names the schedule and every night
/// service that uses it, shown in the schedule's row of the night-service page.
#[tokio::test]
async fn issue_14_deleting_a_schedule_in_use_names_who_uses_it() {
    let p = Portal::start().await;
    seed(&p).await;
    let admin = &p.server.app.admin;
    let hours = autoprov::model::WeeklyHours {
        monday: vec!["08:00-17:00".into()],
        ..Default::default()
    };
    let office = admin
        .schedule_add(
            p.acme.id,
            &autoprov::admin::ScheduleInput {
                name: "Office".into(),
                kind: Some("opening-hours".into()),
                hours: Some(hours),
                holidays: Vec::new(),
            },
        )
        .await
        .unwrap();
    let automatic = |hours: &str| autoprov::admin::NightServiceInput {
        mode: "automatic".into(),
        hours: Some(hours.into()),
        holidays: None,
        target: None,
        destination: None,
    };
    let now = jiff::Timestamp::now();
    admin
        .night_service_set(p.acme.id, None, &automatic("Office"), now)
        .await
        .unwrap();
    let berlin = admin.site(p.acme.id, Some("Berlin")).await.unwrap();
    admin
        .night_service_set(p.acme.id, Some(&berlin), &automatic("Office"), now)
        .await
        .unwrap();
    let sess = p.session(ACME_ADMIN).await;
    let delete = format!(
        "/t/{}/night-service/schedules/{}/delete",
        p.acme.id.0, office.id
    );
    let (status, _, body) = p
        .post(Some(&sess), &delete, &[("csrf", sess.csrf.as_str())])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let said = "schedule &quot;Office&quot; is used by the tenant&#x27;s and site \
                &quot;Berlin&quot;&#x27;s night services; change that first";
    assert!(
        body.contains(&format!("id=\"schedule-error\" role=\"alert\">{said}")),
        "{body}"
    );
    assert!(
        body.contains("id=\"schedule-list\""),
        "the page itself: {body}"
    );
    assert!(admin.schedule(p.acme.id, "Office").await.is_ok());
    // The same rule's message for the API and the CLI (the admin operation's).
    let e = admin.schedule_delete(p.acme.id, &office).await.unwrap_err();
    assert!(
        matches!(&e, autoprov::error::Error::Conflict { field: Some(f), .. } if f == "schedule"),
        "{e:?}"
    );
}

/// Issue 14: a conflict is placed by the field the rule names, not by its text: a pickup group's
/// taken name is shown by the name (its text names no member nor slot).
#[tokio::test]
async fn issue_14_a_conflict_is_shown_by_the_field_it_names() {
    let p = Portal::start().await;
    seed(&p).await;
    let admin = &p.server.app.admin;
    admin
        .pickup_group_add(
            p.acme.id,
            &PickupGroupInput {
                name: "Front desk".into(),
                members: Vec::new(),
            },
        )
        .await
        .unwrap();
    let sess = p.session(ACME_ADMIN).await;
    let pickup = format!("/t/{}/pickup-groups", p.acme.id.0);
    let form = [("csrf", sess.csrf.as_str()), ("name", "Front desk")];
    let (status, _, body) = p.post(Some(&sess), &pickup, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("id=\"name-error\">this tenant already has a pickup group named"),
        "{body}"
    );
    assert!(!body.contains("id=\"members-error\""), "{body}");
}

/// A German page says the rules of park slots, pickup groups, schedules and bridges in German,
/// under their fields, with the words inside them (a weekday, an owner's kind) German too.
#[tokio::test]
async fn issue_14_shared_rule_errors_in_german_under_the_field() {
    let p = Portal::start().await;
    let bob = seed(&p).await;
    let admin = &p.server.app.admin;
    admin
        .pickup_group_add(
            p.acme.id,
            &PickupGroupInput {
                name: "Front desk".into(),
                members: vec![bob.id.0.to_string()],
            },
        )
        .await
        .unwrap();
    let sess = p.session(ACME_ADMIN).await;
    let t = p.acme.id.0;
    let bob_id = bob.id.0.to_string();
    let form = [("name", "Back office"), ("member", bob_id.as_str())];
    let (status, body) = p
        .post_de(&sess, &format!("/t/{t}/pickup-groups"), &form)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    error_by(
        &body,
        "members",
        "Bob Builder ist schon in der Pickup-Gruppe Front desk",
    );
    let form = [("name", "Lobby"), ("slots", "510-500")];
    let (status, body) = p
        .post_de(&sess, &format!("/t/{t}/park-groups"), &form)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    error_by(
        &body,
        "slots",
        "Der Bereich 510-500 endet, bevor er beginnt",
    );
    let schedules = format!("/t/{t}/night-service/schedules");
    let form = [
        ("kind", "opening-hours"),
        ("name", "Office"),
        ("monday", "08:00-25:00"),
    ];
    let (status, body) = p.post_de(&sess, &schedules, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    error_by(&body, "hours", "Montag: ");
    error_by(&body, "hours", "ist kein Zeitraum wie 08:00-12:00");
    let bridges = format!("/t/{t}/bridges");
    let form = [("name", "Sales bridge"), ("number", "+4930555002")];
    let (status, body) = p.post_de(&sess, &bridges, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let form = [("name", "Support bridge"), ("number", "+4930555002")];
    let (status, body) = p.post_de(&sess, &bridges, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    error_by(
        &body,
        "number",
        "+4930555002 ist schon vergeben (Konferenzraum Sales bridge)",
    );
    assert!(!body.contains("already"), "{body}");
    // The owner's kind is a word of the language inside the rule's text.
    let form = [
        ("first_name", "Key"),
        ("last_name", "Supplier"),
        ("number", "+4940123456"),
        ("extension", "1234567"),
    ];
    let (status, body) = p
        .post_de(&sess, &format!("/t/{t}/virtual-users"), &form)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    error_by(
        &body,
        "extension",
        "ist keine gültige Nebenstelle (virtueller Benutzer): 2 bis 6 Ziffern",
    );
}
