//! The Import page: a CSV upload (`multipart/form-data`) checked as a dry run that shows every
//! bad row or the count, then committed from the hidden field; CSRF on both.

use reqwest::StatusCode;

use super::handsets::berlin;
use super::*;

pub const BOUNDARY: &str = "----autoprovTestBoundary7MA4YWxk";

/// A multipart body of text fields and, if given, the `file` part.
pub fn multipart(fields: &[(&str, &str)], file: Option<&str>) -> String {
    String::from_utf8(multipart_bytes(fields, file.map(str::as_bytes)))
        .expect("UTF-8 in, UTF-8 out")
}

/// `multipart` with a file of any bytes (one not in UTF-8).
pub fn multipart_bytes(fields: &[(&str, &str)], file: Option<&[u8]>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some(csv) = file {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"phones.csv\"\r\nContent-Type: text/csv\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(csv);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(p: &Portal, sess: &Sess, body: impl Into<reqwest::Body>) -> (StatusCode, String) {
    let resp = p
        .http
        .post(p.url(&format!("/t/{}/import", p.acme.id.0)))
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

/// The hidden field's value in the commit form, unescaped as a browser would.
pub fn hidden_csv(body: &str) -> String {
    let at = body.find("name=\"csv\" value=\"").expect("the commit form") + 18;
    let raw = body[at..].split('"').next().unwrap();
    raw.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn issue_14_import_dry_run_shows_bad_rows_then_commits_the_same_file() {
    let p = Portal::start().await;
    berlin(&p).await;
    let admin = &p.server.app.admin;
    let sess = p.session(ACME_ADMIN).await;
    let (status, _, body) = p
        .get(Some(&sess), &format!("/t/{}/import", p.acme.id.0))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("enctype=\"multipart/form-data\"") && body.contains("type=\"file\""));
    assert!(
        !body.contains("value=\"numbers\""),
        "numbers are the operator's: {body}"
    );

    // Bad rows: each with its line, field and message; nothing written.
    let bad = "mac,model\n001565a1b2c3,T54W\nnot-a-mac,T54W\n001565a1b2c5,T54\n";
    let csrf = sess.csrf.as_str();
    let (status, body) = upload(
        &p,
        &sess,
        multipart(&[("csrf", csrf), ("kind", "devices")], Some(bad)),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("Rows with errors: 2"), "{body}");
    assert!(
        body.contains("<td data-label=\"Line\">3</td><td data-label=\"Field\">mac</td>"),
        "{body}"
    );
    assert!(
        body.contains("<td data-label=\"Line\">4</td><td data-label=\"Field\">model</td>"),
        "{body}"
    );
    assert!(!body.contains("id=\"commit\""), "no commit for a bad file");
    assert!(admin.device_list(p.acme.id).await.unwrap().is_empty());

    // A good file: the count, nothing written yet, and a commit form carrying the file.
    let good = "mac;model\r\n001565a1b2c3;T54W\r\n001565a1b2c4;T46S\r\n";
    let (status, body) = upload(
        &p,
        &sess,
        multipart(&[("csrf", csrf), ("kind", "devices")], Some(good)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("2 rows would be written."), "{body}");
    assert!(
        admin.device_list(p.acme.id).await.unwrap().is_empty(),
        "a dry run writes nothing"
    );
    let carried = hidden_csv(&body);
    assert_eq!(carried, good);

    // The commit without the token is refused; with it the same file is imported.
    let (status, _) = upload(
        &p,
        &sess,
        multipart(
            &[("kind", "devices"), ("commit", "1"), ("csv", &carried)],
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = upload(
        &p,
        &sess,
        multipart(
            &[
                ("csrf", "0000"),
                ("kind", "devices"),
                ("commit", "1"),
                ("csv", &carried),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(admin.device_list(p.acme.id).await.unwrap().is_empty());
    let (status, body) = upload(
        &p,
        &sess,
        multipart(
            &[
                ("csrf", csrf),
                ("kind", "devices"),
                ("commit", "1"),
                ("csv", &carried),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("2 rows have been written."), "{body}");
    assert_eq!(admin.device_list(p.acme.id).await.unwrap().len(), 2);

    // The commit is checked again: the same file a second time has its MACs taken.
    let (status, body) = upload(
        &p,
        &sess,
        multipart(
            &[
                ("csrf", csrf),
                ("kind", "devices"),
                ("commit", "1"),
                ("csv", &carried),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("Rows with errors: 2"), "{body}");
    assert_eq!(admin.device_list(p.acme.id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn issue_14_import_reads_a_windows_1252_file_when_told_and_names_the_character_set_otherwise()
{
    let p = Portal::start().await;
    let sess = p.session(ACME_ADMIN).await;
    let csrf = sess.csrf.as_str();
    // "Jürgen Müller" as older Excel saves it: ü is the single byte 0xfc.
    let csv = b"first_name,last_name\nJ\xfcrgen,M\xfcller\n";
    let body = |encoding: &str| {
        let fields = [("csrf", csrf), ("kind", "users"), ("encoding", encoding)];
        multipart_bytes(&fields, Some(csv))
    };
    // Read as UTF-8 it is refused, saying how to read it instead.
    let (status, page) = upload(&p, &sess, body("utf-8")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"file-error\""), "{page}");
    assert!(page.contains("choose Windows-1252"), "{page}");
    // Read as Windows-1252 it passes the dry run, carried on as UTF-8, and commits.
    let (status, page) = upload(&p, &sess, body("cp1252")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("1 rows would be written."), "{page}");
    assert!(
        page.contains("<option value=\"cp1252\" selected>"),
        "{page}"
    );
    let carried = hidden_csv(&page);
    assert_eq!(carried, "first_name,last_name\nJürgen,Müller\n");
    let (status, page) = upload(
        &p,
        &sess,
        multipart(
            &[
                ("csrf", csrf),
                ("kind", "users"),
                ("commit", "1"),
                ("csv", &carried),
            ],
            None,
        ),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let users = p.server.app.admin.user_list(p.acme.id).await.unwrap();
    assert!(
        users
            .iter()
            .any(|u| u.first_name.as_str() == "Jürgen" && u.last_name.as_str() == "Müller"),
        "{users:?}"
    );
}

#[tokio::test]
async fn issue_14_import_refuses_the_operators_kinds_a_missing_file_and_other_tenants() {
    let p = Portal::start().await;
    let sess = p.session(ACME_ADMIN).await;
    let csrf = sess.csrf.as_str();
    let csv = "number,site\n+4930123456,Berlin\n";
    let (status, body) = upload(
        &p,
        &sess,
        multipart(&[("csrf", csrf), ("kind", "numbers")], Some(csv)),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"kind-error\""), "{body}");
    let (status, body) = upload(
        &p,
        &sess,
        multipart(&[("csrf", csrf), ("kind", "devices")], Some("")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Choose a CSV file."), "{body}");
    // A file without the columns: the reader's message by the file field.
    let (status, body) = upload(
        &p,
        &sess,
        multipart(&[("csrf", csrf), ("kind", "devices")], Some("name\nx\n")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("id=\"file-error\"") || body.contains("Rows with errors"),
        "{body}"
    );
    let other = p.session(OTHER_ADMIN).await;
    let (status, _, _) = p
        .get(Some(&other), &format!("/t/{}/import", p.acme.id.0))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let op = p.session(OPERATOR).await;
    let (_, _, body) = p
        .get(Some(&op), &format!("/t/{}/import", p.acme.id.0))
        .await;
    assert!(
        body.contains("value=\"numbers\""),
        "the operator imports numbers: {body}"
    );
}

#[tokio::test]
async fn issue_14_browser_import_dry_run_then_commit() {
    use super::browser::Browser;
    use fantoccini::Locator;
    let Some(b) = Browser::open("import").await else {
        return;
    };
    berlin(&b.portal).await;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "mac,model\n001565a1b2c3,T54W\nnot-a-mac,T54W\n").unwrap();
    let good = dir.path().join("phones.csv");
    std::fs::write(&good, "mac,model\n001565a1b2c3,T54W\n001565a1b2c4,T46S\n").unwrap();
    b.login_as(ACME_ADMIN).await;
    let c = &b.client;
    c.find(Locator::LinkText("Imports"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_for_path(|p| p.ends_with("/import"), "the Import page")
        .await;
    assert!(b.heading().await.starts_with("Import"));
    b.assert_no_console_errors().await;
    b.screenshots("import").await;
    let check = "#upload button[type=submit]";
    b.type_into("file", bad.to_str().unwrap()).await;
    b.click(check).await;
    b.wait_for_text("Rows with errors: 1").await;
    let rows = c
        .find(Locator::Id("bad-rows"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(rows.contains("3") && rows.contains("mac"), "{rows}");
    b.forget_console().await;
    b.screenshots("import-errors").await;
    b.type_into("file", good.to_str().unwrap()).await;
    b.click(check).await;
    b.wait_for_text("2 rows would be written.").await;
    b.assert_no_console_errors().await;
    b.screenshots("import-dry-run").await;
    b.click("#commit button").await;
    b.wait_for_text("2 rows have been written.").await;
    b.screenshots("import-done").await;
    let devices = b
        .portal
        .server
        .app
        .admin
        .device_list(b.portal.acme.id)
        .await
        .unwrap();
    assert_eq!(devices.len(), 2);
    b.close().await;
}
