//! The Groups pages: hunt groups and call centres (the rules' errors by their field), the
//! directory (entries, the CSV upload's bad rows by line, the download), pickup and park
//! groups, virtual users, bridges; roles, another tenant's URLs, injection; one browser walk.

use autoprov::admin::{GroupInput, NumberInput, UserInput};
use autoprov::model::{OwnerKind, User};
use reqwest::StatusCode;

use super::handsets::berlin;
use super::imports::{hidden_csv, multipart, BOUNDARY};
use super::*;

/// Berlin with two active numbers, and Bob (active) beside Ada (pending).
pub async fn seed(p: &Portal) -> User {
    berlin(p).await;
    let admin = &p.server.app.admin;
    for n in ["+4930555001", "+4930555002"] {
        admin
            .number_add(
                p.acme.id,
                &NumberInput {
                    number: n.into(),
                    site: None,
                    status: Some("active".into()),
                    main: false,
                },
            )
            .await
            .unwrap();
    }
    let bob = admin
        .user_add(
            p.acme.id,
            &UserInput {
                first_name: "Bob".into(),
                last_name: "Builder".into(),
                extension: Some("500".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    admin.user_activate(p.acme.id, &bob).await.unwrap()
}

fn hunt(p: &Portal) -> String {
    format!("/t/{}/hunt-groups", p.acme.id.0)
}

#[tokio::test]
async fn issue_14_hunt_group_add_edit_delete_with_errors_by_field() {
    let p = Portal::start().await;
    let bob = seed(&p).await;
    let admin = &p.server.app.admin;
    let sess = p.session(ACME_ADMIN).await;
    let csrf = sess.csrf.as_str();
    let bob_id = bob.id.0.to_string();
    let ada_id = p.ada.id.0.to_string();

    let (status, _, body) = p
        .get(Some(&sess), &format!("/t/{}/groups", p.acme.id.0))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&format!("href=\"/t/{}/hunt-groups\"", p.acme.id.0)));
    let (status, _, body) = p.get(Some(&sess), &format!("{}/new", hunt(&p))).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Bob Builder") && body.contains("Ada Lovelace (pending)"));

    // The extension is Bob's: the conflict is shown by the extension field.
    let base = [("csrf", csrf), ("name", "Sales"), ("policy", "regular")];
    let form = [&base[..], &[("extension", "500"), ("agent", &bob_id)]].concat();
    let (status, _, body) = p.post(Some(&sess), &hunt(&p), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("id=\"extension-error\">extension 500 is already used by user Bob Builder"),
        "{body}"
    );
    assert!(
        body.contains("value=\"Sales\""),
        "the form keeps what was typed"
    );
    // A pending agent: by the agents.
    let form = [&base[..], &[("extension", "600"), ("agent", &ada_id)]].concat();
    let (status, _, body) = p.post(Some(&sess), &hunt(&p), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("id=\"agents-error\">Ada Lovelace is pending"),
        "{body}"
    );
    // Rings out of range and a forwarding target nobody owns: by their fields.
    let form = [&base[..], &[("skip_after_rings", "25")]].concat();
    let (_, _, body) = p.post(Some(&sess), &hunt(&p), &form).await;
    assert!(
        body.contains("id=\"skip_after_rings-error\">25 rings"),
        "{body}"
    );
    let form = [&base[..], &[("extension", "600"), ("forward_to", "777")]].concat();
    let (_, _, body) = p.post(Some(&sess), &hunt(&p), &form).await;
    assert!(
        body.contains("id=\"forward_to-error\">extension 777 belongs to nobody"),
        "{body}"
    );
    assert!(admin
        .group_page(p.acme.id, OwnerKind::HuntGroup, &Default::default())
        .await
        .unwrap()
        .items
        .is_empty());

    // A good one: agents in order, forwarding to Bob's extension.
    let form = [
        &base[..],
        &[
            ("number", "+4930555001"),
            ("extension", "600"),
            ("agent", &bob_id),
            ("weight", ""),
            ("agent", ""),
            ("weight", ""),
            ("skip_after_rings", "4"),
            ("forward_to", "500"),
            ("voicemail", "on"),
            ("voicemail_email", "sales@acme.test"),
        ],
    ]
    .concat();
    let (status, headers, body) = p.post(Some(&sess), &hunt(&p), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(headers["location"], hunt(&p));
    let group = admin
        .group(p.acme.id, OwnerKind::HuntGroup, "Sales")
        .await
        .unwrap();
    assert_eq!(group.agents.len(), 1);
    assert_eq!(group.skip_after_rings, 4);
    assert_eq!(group.voicemail_email.as_deref(), Some("sales@acme.test"));
    let (_, _, body) = p.get(Some(&sess), &hunt(&p)).await;
    assert!(
        body.contains(">Sales</a>") && body.contains("+4930555001"),
        "{body}"
    );

    // Edit: the form shows the group; a change is saved, an error shown by its field.
    let url = format!("{}/{}", hunt(&p), group.id);
    let (status, _, body) = p.get(Some(&sess), &url).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("value=\"600\"") && body.contains("value=\"sales@acme.test\""));
    let form = [
        ("csrf", csrf),
        ("name", "Sales"),
        ("policy", "weighted"),
        ("extension", "600"),
        ("agent", bob_id.as_str()),
        ("weight", "50"),
    ];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("id=\"agents-error\">the agents&#x27; weights sum to 50%"),
        "{body}"
    );
    let mut form = form;
    form[5] = ("weight", "100");
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let group = admin
        .group(p.acme.id, OwnerKind::HuntGroup, "Sales")
        .await
        .unwrap();
    assert_eq!(group.policy.as_str(), "weighted");
    assert_eq!(group.agents[0].weight, Some(100));

    // Delete: a page that asks, then the group is gone.
    let (status, _, body) = p.get(Some(&sess), &format!("{url}/delete")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Delete Sales?") && body.contains("cannot be undone"));
    let (status, _, _) = p
        .post(Some(&sess), &format!("{url}/delete"), &[("csrf", "nope")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = p
        .post(Some(&sess), &format!("{url}/delete"), &[("csrf", csrf)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(admin
        .group(p.acme.id, OwnerKind::HuntGroup, "Sales")
        .await
        .is_err());
}

#[tokio::test]
async fn issue_14_call_centre_queue_and_supervisors() {
    let p = Portal::start().await;
    let bob = seed(&p).await;
    let admin = &p.server.app.admin;
    let sess = p.session(ACME_ADMIN).await;
    let url = format!("/t/{}/call-centres", p.acme.id.0);
    let bob_id = bob.id.0.to_string();
    let ada_id = p.ada.id.0.to_string();
    let (_, _, body) = p.get(Some(&sess), &format!("{url}/new")).await;
    assert!(body.contains("name=\"queue_length\"") && body.contains("name=\"supervisor\""));
    let base = [
        ("csrf", sess.csrf.as_str()),
        ("name", "Support"),
        ("agent", bob_id.as_str()),
    ];
    let form = [&base[..], &[("queue_length", "500")]].concat();
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("id=\"queue_length-error\">500 callers"),
        "{body}"
    );
    let form = [&base[..], &[("supervisor", ada_id.as_str())]].concat();
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("Ada Lovelace is pending"), "{body}");
    let form = [
        &base[..],
        &[
            ("queue_length", "20"),
            ("queue_max_wait_secs", "300"),
            ("queue_announcement", "Please hold"),
            ("supervisor", bob_id.as_str()),
        ],
    ]
    .concat();
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let centre = admin
        .group(p.acme.id, OwnerKind::CallCentre, "Support")
        .await
        .unwrap();
    let queue = centre.queue.unwrap();
    assert_eq!((queue.length, queue.max_wait_secs), (20, 300));
    assert_eq!(centre.supervisors.len(), 1);
    let (_, _, body) = p.get(Some(&sess), &format!("{url}/{}", centre.id)).await;
    assert!(body.contains("value=\"Please hold\""), "{body}");
    assert!(
        body.contains(&format!(
            "value=\"{bob_id}\" id=\"supervisor-{bob_id}\" checked"
        )),
        "{body}"
    );
}

#[tokio::test]
async fn issue_14_groups_refuse_users_and_other_tenants() {
    let p = Portal::start().await;
    seed(&p).await;
    let admin = &p.server.app.admin;
    let group = admin
        .group_add(
            p.acme.id,
            OwnerKind::HuntGroup,
            &GroupInput {
                name: "Sales".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let t = p.acme.id.0;
    let pages = [
        format!("/t/{t}/groups"),
        format!("/t/{t}/hunt-groups"),
        format!("/t/{t}/hunt-groups/{}", group.id),
        format!("/t/{t}/call-centres/new"),
        format!("/t/{t}/directory"),
        format!("/t/{t}/directory/export"),
    ];
    let user = p.session(ACME_USER).await;
    let other = p.session(OTHER_ADMIN).await;
    for path in &pages {
        let (status, _, _) = p.get(Some(&user), path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        let (status, _, _) = p.get(Some(&other), path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    // Another tenant's group under one's own tenant is not found either.
    let o = p.other.id.0;
    let (status, _, _) = p
        .get(Some(&other), &format!("/t/{o}/hunt-groups/{}", group.id))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = p
        .post(
            Some(&other),
            &format!("/t/{o}/hunt-groups/{}/delete", group.id),
            &[("csrf", other.csrf.as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(admin
        .group(p.acme.id, OwnerKind::HuntGroup, "Sales")
        .await
        .is_ok());
    let (_, _, body) = p.get(Some(&other), &format!("/t/{o}/groups")).await;
    assert!(
        body.contains(&format!("href=\"&#x2f;t&#x2f;{o}&#x2f;groups\">Groups</a>")),
        "the nav links Groups: {body}"
    );
}

#[tokio::test]
async fn issue_14_groups_echo_injection_inert() {
    let p = Portal::start().await;
    seed(&p).await;
    let sess = p.session(ACME_ADMIN).await;
    let payload = "<script>alert(1)</script>\"'{{ 7*7 }}";
    let form = [
        ("csrf", sess.csrf.as_str()),
        ("name", payload),
        ("extension", payload),
        ("forward_to", payload),
    ];
    let (status, _, body) = p.post(Some(&sess), &hunt(&p), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(body.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;&quot;&#x27;{{ 7*7 }}"));
    let url = format!("/t/{}/directory", p.acme.id.0);
    let form = [
        ("csrf", sess.csrf.as_str()),
        ("company", payload),
        ("number", payload),
    ];
    let (status, _, body) = p.post(Some(&sess), &url, &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(!body.contains("<script>alert"), "{body}");
    assert!(
        body.contains("value=\"&lt;script&gt;alert(1)&lt;&#x2f;script&gt;&quot;&#x27;{{ 7*7 }}\"")
    );
}

async fn upload_directory(p: &Portal, sess: &Sess, body: String) -> (StatusCode, String) {
    let resp = p
        .http
        .post(p.url(&format!("/t/{}/directory/import", p.acme.id.0)))
        .header("cookie", &sess.cookie)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.text().await.unwrap())
}

#[tokio::test]
async fn issue_14_directory_entries_csv_upload_by_line_and_download() {
    let p = Portal::start().await;
    seed(&p).await;
    let admin = &p.server.app.admin;
    let sess = p.session(ACME_ADMIN).await;
    let csrf = sess.csrf.as_str();
    let url = format!("/t/{}/directory", p.acme.id.0);
    let count = || async {
        admin
            .directory_page(p.acme.id, None, &Default::default())
            .await
            .unwrap()
            .total
    };

    // Add: a bad number by its field, then a good entry, then delete it.
    let (status, _, body) = p
        .post(
            Some(&sess),
            &url,
            &[("csrf", csrf), ("company", "Plumber"), ("number", "12a")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("id=\"number-error\""), "{body}");
    let (status, _, body) = p
        .post(
            Some(&sess),
            &url,
            &[
                ("csrf", csrf),
                ("company", "Plumber"),
                ("number", "+4930999111"),
                ("site", "Berlin"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, _, body) = p.get(Some(&sess), &url).await;
    assert!(
        body.contains("Plumber") && body.contains(">Berlin<"),
        "{body}"
    );
    let entry = admin
        .directory_page(p.acme.id, None, &Default::default())
        .await
        .unwrap()
        .items
        .remove(0);
    let delete = format!("{url}/{}/delete", entry.id.0);
    let (status, _, _) = p.post(Some(&sess), &delete, &[("csrf", "x")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = p.post(Some(&sess), &delete, &[("csrf", csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(count().await, 0);

    // A CSV with bad rows: each shown against its line; nothing written.
    let bad = "name,number,site\nPlumber,+4930999111,\nElectrician,not-a-number,\nBaker,+4930999333,Paris\n";
    let (status, body) = upload_directory(&p, &sess, multipart(&[("csrf", csrf)], Some(bad))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("Rows with errors: 2"), "{body}");
    assert!(
        body.contains("<td data-label=\"Line\">3</td><td data-label=\"Field\">number</td>"),
        "{body}"
    );
    assert!(
        body.contains("<td data-label=\"Line\">4</td><td data-label=\"Field\">site</td>"),
        "{body}"
    );
    assert_eq!(count().await, 0);
    // A good one: dry run, then the commit of the same file.
    let good = "name,number,site\nPlumber,+4930999111,\nElectrician,+4930999222,Berlin\n";
    let (status, body) =
        upload_directory(&p, &sess, multipart(&[("csrf", csrf)], Some(good))).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("2 rows would be written."), "{body}");
    assert_eq!(count().await, 0);
    let carried = hidden_csv(&body);
    let (status, _) = upload_directory(
        &p,
        &sess,
        multipart(
            &[("kind", "directory"), ("commit", "1"), ("csv", &carried)],
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the commit needs the token");
    let commit = [
        ("csrf", csrf),
        ("kind", "directory"),
        ("commit", "1"),
        ("csv", carried.as_str()),
    ];
    let (status, body) = upload_directory(&p, &sess, multipart(&commit, None)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("2 rows have been written."), "{body}");
    assert_eq!(count().await, 2);

    // The download is the export.
    let resp = p
        .http
        .get(p.url(&format!("{url}/export")))
        .header("cookie", &sess.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = resp.text().await.unwrap();
    assert!(
        csv.contains("Electrician") && csv.contains("+4930999222"),
        "{csv}"
    );
}

/// The groups pages say the rules' refusals in the page's language, under their fields.
#[tokio::test]
async fn issue_14_hunt_group_errors_in_german() {
    let p = Portal::start().await;
    let bob = seed(&p).await;
    let sess = p.session(ACME_ADMIN).await;
    let bob_id = bob.id.0.to_string();
    let ada_id = p.ada.id.0.to_string();
    let base = [
        ("csrf", sess.csrf.as_str()),
        ("name", "Sales"),
        ("policy", "regular"),
    ];
    let german = |form: Vec<(&'static str, String)>| {
        let req = p
            .http
            .post(p.url(&hunt(&p)))
            .form(&form)
            .header("cookie", &sess.cookie)
            .header("accept-language", "de");
        async move {
            let resp = req.send().await.unwrap();
            (resp.status(), resp.text().await.unwrap())
        }
    };
    let with = |extra: &[(&'static str, &str)]| {
        base.iter()
            .chain(extra)
            .map(|(k, v)| (*k, v.to_string()))
            .collect::<Vec<_>>()
    };
    let (status, body) = german(with(&[("extension", "500"), ("agent", &bob_id)])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains(
            "id=\"extension-error\">Die Nebenstelle 500 ist schon vergeben (Benutzer Bob Builder); bitte eine andere wählen"
        ),
        "{body}"
    );
    let (status, body) = german(with(&[("extension", "600"), ("agent", &ada_id)])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("id=\"agents-error\">Ada Lovelace ist noch nicht aktiviert"),
        "{body}"
    );
}
