//! Editing in place (issue 14): a bridge, a directory entry and a schedule each have an edit
//! page that shows what is stored, saves through the same admin operation as the API and the
//! CLI, and shows a refusal by its field with what was typed; the directory's list is filtered
//! by the site whose phones show an entry. One browser walk edits a bridge.

use autoprov::admin::{BridgeInput, DirectoryEntryInput, SiteInput};
use reqwest::StatusCode;

use super::groups::seed;
use super::*;

async fn sales_bridge(p: &Portal) -> autoprov::model::Bridge {
    let input = BridgeInput {
        name: "Sales bridge".into(),
        number: "+4930555001".into(),
        extension: Some("900".into()),
    };
    p.server
        .app
        .admin
        .bridge_add(p.acme.id, &input)
        .await
        .unwrap()
}

#[tokio::test]
async fn issue_14_a_bridge_is_edited_with_errors_by_field() {
    let p = Portal::start().await;
    seed(&p).await;
    let admin = &p.server.app.admin;
    let bridge = sales_bridge(&p).await;
    let sess = p.session(ACME_ADMIN).await;
    let csrf = sess.csrf.as_str();
    let list = format!("/t/{}/bridges", p.acme.id.0);
    let url = format!("{list}/{}", bridge.id);
    let (status, _, body) = p.get(Some(&sess), &list).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!(
            "href=\"&#x2f;t&#x2f;{}&#x2f;bridges/{}\">Edit</a>",
            p.acme.id.0, bridge.id
        )),
        "{body}"
    );
    let (status, _, body) = p.get(Some(&sess), &url).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("value=\"Sales bridge\"")
            && body.contains("value=\"+4930555001\"")
            && body.contains("value=\"900\""),
        "{body}"
    );
    // Bob's extension, then a bad one: each by the extension, what was typed stays.
    for (extension, says) in [
        ("500", "extension 500 is already used by user Bob Builder"),
        ("9", "&quot;9&quot;"),
    ] {
        let form = [
            ("csrf", csrf),
            ("name", "Team bridge"),
            ("number", "+4930555002"),
            ("extension", extension),
        ];
        let (status, _, body) = p.post(Some(&sess), &url, &form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            body.contains(&format!("id=\"extension-error\">{says}")),
            "{body}"
        );
        assert!(body.contains("value=\"Team bridge\""), "{body}");
    }
    let form = [
        ("csrf", csrf),
        ("name", "Team bridge"),
        ("number", "+4930555002"),
        ("extension", "901"),
    ];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let saved = admin.bridge(p.acme.id, "Team bridge").await.unwrap();
    assert_eq!(
        (saved.id, saved.number.as_str(), saved.extension.as_deref()),
        (bridge.id, "+4930555002", Some("901"))
    );
    let (_, _, body) = p.get(Some(&sess), &list).await;
    assert!(
        body.contains("Team bridge") && !body.contains("Sales bridge"),
        "{body}"
    );
    let other = p.session(OTHER_ADMIN).await;
    let theirs = format!("/t/{}/bridges/{}", p.other.id.0, bridge.id);
    let (status, _, _) = p.get(Some(&other), &theirs).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let user = p.session(ACME_USER).await;
    let (status, _, _) = p.get(Some(&user), &url).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn issue_14_a_directory_entry_is_edited_and_the_list_filtered_by_site() {
    let p = Portal::start().await;
    seed(&p).await;
    let admin = &p.server.app.admin;
    admin
        .site_add(
            p.acme.id,
            &SiteInput {
                name: "Hamburg".into(),
                sip_domain: Some("sip.example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let entry = |company: &str, site: Option<&str>| DirectoryEntryInput {
        company: Some(company.into()),
        number: "+4930555111".into(),
        site: site.map(Into::into),
        ..Default::default()
    };
    admin
        .directory_add(p.acme.id, &entry("Pizza Roma", None))
        .await
        .unwrap();
    let desk = admin
        .directory_add(p.acme.id, &entry("Berlin desk", Some("Berlin")))
        .await
        .unwrap();
    admin
        .directory_add(p.acme.id, &entry("Hamburg desk", Some("Hamburg")))
        .await
        .unwrap();
    let sess = p.session(ACME_ADMIN).await;
    let csrf = sess.csrf.as_str();
    let list = format!("/t/{}/directory", p.acme.id.0);
    let (_, _, body) = p.get(Some(&sess), &format!("{list}?site=Berlin")).await;
    assert!(
        body.contains("Pizza Roma")
            && body.contains("Berlin desk")
            && !body.contains("Hamburg desk"),
        "{body}"
    );
    assert!(
        body.contains("<option value=\"Berlin\" selected>"),
        "{body}"
    );
    assert!(body.contains("2 entries"), "{body}");
    let (_, _, body) = p.get(Some(&sess), &list).await;
    assert!(
        body.contains("3 entries") && body.contains("Hamburg desk"),
        "{body}"
    );

    let url = format!("{list}/{}", desk.id.0);
    let (status, _, body) = p.get(Some(&sess), &url).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("value=\"Berlin desk\""), "{body}");
    assert!(
        body.contains("<option value=\"Berlin\" selected>"),
        "{body}"
    );
    let form = [
        ("csrf", csrf),
        ("first_name", "Luigi"),
        ("number", "+4930555222"),
        ("site", "Hamburg"),
    ];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("id=\"last_name-error\">a person needs a last name too"),
        "{body}"
    );
    assert!(body.contains("value=\"Luigi\""), "{body}");
    let form = [
        ("csrf", csrf),
        ("first_name", "Luigi"),
        ("last_name", "Roma"),
        ("number", "+4930555222"),
        ("site", "Hamburg"),
    ];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let saved = admin
        .directory_entry(p.acme.id, &desk.id.0.to_string())
        .await
        .unwrap();
    assert_eq!(
        (saved.name.as_str(), saved.number.as_str()),
        ("Luigi Roma", "+4930555222")
    );
    let (_, _, body) = p.get(Some(&sess), &format!("{list}?site=Hamburg")).await;
    assert!(
        body.contains("Luigi Roma") && !body.contains("Berlin desk"),
        "{body}"
    );
    let other = p.session(OTHER_ADMIN).await;
    let theirs = format!("/t/{}/directory/{}", p.other.id.0, desk.id.0);
    let (status, _, _) = p.get(Some(&other), &theirs).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn issue_14_a_schedule_is_edited_with_errors_by_field() {
    let p = Portal::start().await;
    seed(&p).await;
    let admin = &p.server.app.admin;
    let sess = p.session(ACME_ADMIN).await;
    let csrf = sess.csrf.as_str();
    let schedules = format!("/t/{}/night-service/schedules", p.acme.id.0);
    for form in [
        [
            ("kind", "opening-hours"),
            ("name", "Office"),
            ("monday", "08:00-12:00, 13:00-17:00"),
        ],
        [
            ("kind", "holidays"),
            ("name", "Closed days"),
            ("holidays", "2026-12-24 yearly"),
        ],
    ] {
        let mut form = form.to_vec();
        form.push(("csrf", csrf));
        let (status, _, body) = p.post(Some(&sess), &schedules, &form).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    }
    let office = admin.schedule(p.acme.id, "Office").await.unwrap();
    let url = format!("{schedules}/{}", office.id);
    let (status, _, body) = p.get(Some(&sess), &url).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("value=\"08:00-12:00, 13:00-17:00\""),
        "{body}"
    );
    let form = [
        ("csrf", csrf),
        ("kind", "opening-hours"),
        ("name", "Office hours"),
        ("monday", "08:00-25:00"),
    ];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"hours-error\">monday"), "{body}");
    assert!(
        body.contains("value=\"08:00-25:00\""),
        "what was typed stays"
    );
    let form = [
        ("csrf", csrf),
        ("kind", "opening-hours"),
        ("name", "Office hours"),
        ("monday", "09:00-17:00"),
        ("friday", "09:00-13:00"),
    ];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let saved = admin.schedule(p.acme.id, "Office hours").await.unwrap();
    let hours = saved.hours.unwrap();
    assert_eq!(
        (hours.monday, hours.friday),
        (
            vec!["09:00-17:00".to_owned()],
            vec!["09:00-13:00".to_owned()]
        )
    );

    let closed = admin.schedule(p.acme.id, "Closed days").await.unwrap();
    let url = format!("{schedules}/{}", closed.id);
    let (_, _, body) = p.get(Some(&sess), &url).await;
    assert!(body.contains(">2026-12-24 yearly</textarea>"), "{body}");
    // Its kind cannot change: the rule's refusal by the kind.
    let form = [
        ("csrf", csrf),
        ("kind", "opening-hours"),
        ("name", "Closed days"),
        ("monday", "08:00-09:00"),
    ];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"kind-error\""), "{body}");
    let form = [
        ("csrf", csrf),
        ("kind", "holidays"),
        ("name", "Closed days"),
        ("holidays", "2026-12-24 2026-12-26 yearly"),
    ];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let closed = admin.schedule(p.acme.id, "Closed days").await.unwrap();
    assert_eq!(closed.holidays[0].to.as_deref(), Some("2026-12-26"));
}

#[tokio::test]
async fn issue_14_browser_edits_a_bridge() {
    use super::browser::Browser;
    use fantoccini::Locator;
    let Some(b) = Browser::open("edit").await else {
        return;
    };
    seed(&b.portal).await;
    sales_bridge(&b.portal).await;
    let t = b.portal.acme.id.0;
    b.login_as(ACME_ADMIN).await;
    b.go(&format!("/t/{t}/bridges")).await;
    b.wait_for_text("Sales bridge").await;
    b.click("#bridges td:last-child a:first-child").await;
    b.wait_for_path(|p| !p.ends_with("/bridges"), "the edit page")
        .await;
    assert!(b.heading().await.starts_with("Sales bridge"));
    let name = b.client.find(Locator::Id("f-name")).await.unwrap();
    name.clear().await.unwrap();
    b.type_into("f-name", "Team bridge").await;
    b.click("#bridge button[type=submit]").await;
    b.wait_for_text("The bridge has been saved.").await;
    b.wait_for_text("Team bridge").await;
    b.assert_no_console_errors().await;
    b.screenshots("edit-bridge").await;
    b.close().await;
}
