//! The phone directory's own entries (portal 000 "Phone Site Directory", 004 "Telefonbuch"):
//! a rule per test with its error answer, the CSV import and export, and what reaches Ada's
//! Yealink's directory file.

use serde_json::{json, Value};

use super::{Ada, Admin, Operator, Portal};

const DIRECTORY: &str = "/001565a1b2c3-directory.xml";

impl Portal {
    /// POSTs `csv` to the directory import as Acme's admin, with `query` (e.g. `?dry_run=true`).
    async fn import(&self, csv: &[u8], query: &str) -> (u16, Value) {
        let url = self
            .server
            .admin_url(&format!("/api/v1/tenants/Acme/import/directory{query}"));
        let resp = self
            .server
            .admin_client
            .post(url)
            .header("Authorization", format!("Bearer {}", self.t.acme_admin))
            .header("Content-Type", "text/csv")
            .body(csv.to_vec())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn export(&self) -> String {
        let url = self
            .server
            .admin_url("/api/v1/tenants/Acme/export/directory");
        let resp = self
            .server
            .admin_client
            .get(url)
            .header("Authorization", format!("Bearer {}", self.t.acme_admin))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        resp.text().await.unwrap()
    }

    async fn directory_file(&self) -> String {
        let (status, _, body) = self.server.fetch(DIRECTORY, None).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn names(&self, query: &str) -> Vec<String> {
        let list = self.get(Admin, &format!("directory{query}")).await;
        list.is(200)
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_owned())
            .collect()
    }
}

#[tokio::test]
async fn an_entry_is_a_person_or_a_company_with_a_number() {
    let p = Portal::new().await;
    let ann = p
        .post(
            Admin,
            "directory",
            json!({ "first_name": "Ann", "last_name": "Example", "number": "+49 30 555-111" }),
        )
        .await;
    let ann = ann.is(201);
    assert_eq!(
        (ann["name"].as_str(), ann["number"].as_str()),
        (Some("Ann Example"), Some("+4930555111"))
    );
    p.post(
        Admin,
        "directory",
        json!({ "company": "Pizza Roma", "number": "0049301234567" }),
    )
    .await
    .is(201);
    p.post(
        Admin,
        "directory",
        json!({ "first_name": "Ann", "number": "1234" }),
    )
    .await
    .invalid("last_name");
    p.post(Admin, "directory", json!({ "number": "1234" }))
        .await
        .invalid("name");
    p.post(
        Admin,
        "directory",
        json!({ "company": "x".repeat(65), "number": "1234" }),
    )
    .await
    .invalid("company");
    let national = p
        .post(
            Admin,
            "directory",
            json!({ "company": "Taxi", "number": "030 1234567" }),
        )
        .await;
    let detail = national.invalid("number")["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        detail.contains("E.164") && detail.contains("030 1234567"),
        "{detail}"
    );
    p.post(
        Admin,
        "directory",
        json!({ "company": "Front desk", "number": "100" }),
    )
    .await
    .is(201);
}

#[tokio::test]
async fn the_same_name_and_number_is_there_once() {
    let p = Portal::new().await;
    let body = json!({ "company": "Pizza Roma", "number": "+4930555111" });
    p.post(Admin, "directory", body.clone()).await.is(201);
    p.post(Admin, "directory", body.clone())
        .await
        .refused(409, "already has this name with this number");
    // Another site's list may have it too.
    p.site("Hamburg").await;
    let mut hamburg = body.clone();
    hamburg["site"] = json!("Hamburg");
    p.post(Admin, "directory", hamburg).await.is(201);
}

#[tokio::test]
async fn entries_are_edited_deleted_and_searched() {
    let p = Portal::new().await;
    let id = p
        .post(
            Admin,
            "directory",
            json!({ "company": "Pizza Roma", "number": "+4930555111" }),
        )
        .await
        .is(201)["id"]
        .clone();
    p.post(
        Admin,
        "directory",
        json!({ "company": "Taxi Berlin", "number": "+4930202020" }),
    )
    .await
    .is(201);
    assert_eq!(p.names("?q=roma").await, ["Pizza Roma"]);
    assert_eq!(p.names("?q=2020").await, ["Taxi Berlin"]);
    let edited = p
        .put(
            Admin,
            &format!("directory/{id}"),
            json!({ "company": "Pizza Napoli", "number": "+4930555112" }),
        )
        .await;
    assert_eq!(edited.is(200)["name"], "Pizza Napoli");
    p.put(
        Admin,
        &format!("directory/{id}"),
        json!({ "company": "Pizza Napoli", "number": "x" }),
    )
    .await
    .invalid("number");
    assert_eq!(
        p.get(Ada, &format!("directory/{id}")).await.is(200)["number"],
        "+4930555112"
    );
    p.delete(Ada, &format!("directory/{id}")).await.is(403);
    p.delete(Admin, &format!("directory/{id}")).await.is(204);
    p.get(Admin, &format!("directory/{id}")).await.is(404);
    p.delete(Admin, &format!("directory/{id}")).await.is(404);
    assert_eq!(p.names("").await, ["Taxi Berlin"]);
}

#[tokio::test]
async fn another_tenants_entry_is_not_found() {
    let p = Portal::new().await;
    let id = p
        .post(
            Admin,
            "directory",
            json!({ "company": "Pizza Roma", "number": "+4930555111" }),
        )
        .await
        .is(201)["id"]
        .clone();
    let other = p
        .post(
            Operator,
            "/api/v1/tenants/Other/directory",
            json!({ "company": "Theirs", "number": "1234" }),
        )
        .await;
    let theirs = other.is(201)["id"].clone();
    p.get(Admin, &format!("directory/{theirs}")).await.is(404);
    p.put(
        Admin,
        &format!("directory/{theirs}"),
        json!({ "company": "Mine", "number": "1234" }),
    )
    .await
    .is(404);
    p.delete(Admin, &format!("directory/{theirs}"))
        .await
        .is(404);
    p.get(Operator, &format!("/api/v1/tenants/Other/directory/{id}"))
        .await
        .is(404);
    assert_eq!(p.names("").await, ["Pizza Roma"]);
}

#[tokio::test]
async fn a_site_entry_is_only_on_that_sites_phones() {
    let p = Portal::new().await;
    p.site("Hamburg").await;
    p.post(
        Admin,
        "directory",
        json!({ "company": "Berlin desk", "number": "100", "site": "Berlin" }),
    )
    .await
    .is(201);
    p.post(
        Admin,
        "directory",
        json!({ "company": "Hamburg desk", "number": "200", "site": "Hamburg" }),
    )
    .await
    .is(201);
    p.post(
        Admin,
        "directory",
        json!({ "company": "Everyone", "number": "+4930555111" }),
    )
    .await
    .is(201);
    p.post(
        Admin,
        "directory",
        json!({ "company": "Nowhere", "number": "100", "site": "Paris" }),
    )
    .await
    .is(404);
    assert_eq!(p.names("?site=Berlin").await, ["Berlin desk", "Everyone"]);
    let file = p.directory_file().await;
    assert!(
        file.contains("Name=\"Berlin desk\"") && file.contains("Phone1=\"100\""),
        "{file}"
    );
    assert!(file.contains("Name=\"Everyone\""), "{file}");
    assert!(
        file.contains("Name=\"Ada Lovelace\""),
        "the users stay: {file}"
    );
    assert!(!file.contains("Hamburg desk"), "{file}");
}

#[tokio::test]
async fn an_edit_reaches_the_phones_directory_at_its_next_fetch() {
    let p = Portal::new().await;
    let before = p.directory_file().await;
    let id = p
        .post(
            Admin,
            "directory",
            json!({ "company": "Pizza <Roma> & Co", "number": "+4930555111" }),
        )
        .await
        .is(201)["id"]
        .clone();
    let file = p.directory_file().await;
    assert_ne!(file, before);
    assert!(
        file.contains("Name=\"Pizza &lt;Roma&gt; &amp; Co\""),
        "{file}"
    );
    p.delete(Admin, &format!("directory/{id}")).await.is(204);
    assert_eq!(p.directory_file().await, before);
}

/// Issue 14: an entry edited in place (PUT) and a bridge replaced are what the phone's next
/// directory file shows, and the old name and number are gone from it.
#[tokio::test]
async fn issue_14_an_edited_entry_and_bridge_reach_the_phones_next_directory_file() {
    let p = Portal::new().await;
    let id = p
        .post(
            Admin,
            "directory",
            json!({ "company": "Pizza Roma", "number": "+4930555111" }),
        )
        .await
        .is(201)["id"]
        .clone();
    p.numbers(&[("+4930123461", "active"), ("+4930123462", "active")])
        .await;
    let bridge = json!({ "name": "Sales Bridge", "number": "+4930123461", "extension": "580" });
    p.post(Admin, "bridges", bridge).await.is(201);
    let before = p.directory_file().await;
    assert!(
        before.contains("Name=\"Pizza Roma\" Phone1=\"+4930555111\""),
        "{before}"
    );
    assert!(
        before.contains("Name=\"Sales Bridge\" Phone1=\"580\""),
        "{before}"
    );
    let edit = json!({ "first_name": "Luigi", "last_name": "Roma", "number": "+4930555222" });
    let edited = p.put(Admin, &format!("directory/{id}"), edit).await;
    assert_eq!(edited.is(200)["name"], "Luigi Roma");
    let replaced = json!({ "name": "Team Bridge", "number": "+4930123462", "extension": "581" });
    p.put(Admin, "bridges/Sales Bridge", replaced).await.is(200);
    let file = p.directory_file().await;
    assert!(
        file.contains("Name=\"Luigi Roma\" Phone1=\"+4930555222\""),
        "{file}"
    );
    assert!(
        file.contains("Name=\"Team Bridge\" Phone1=\"581\" Phone2=\"+4930123462\""),
        "{file}"
    );
    for gone in ["Pizza Roma", "+4930555111", "Sales Bridge", "+4930123461"] {
        assert!(!file.contains(gone), "{gone} in {file}");
    }
}

#[tokio::test]
async fn an_import_adds_every_row_or_none() {
    let p = Portal::new().await;
    let good = b"\xEF\xBB\xBFname,number\r\nAnn Example, +4930555111\r\n\"Roma, Pizza\",0049 30 555112\r\nFront desk,100\r\n";
    let (status, report) = p.import(good, "?dry_run=true").await;
    assert_eq!(
        (status, report["rows"].as_u64(), report["dry_run"].as_bool()),
        (200, Some(3), Some(true)),
        "{report}"
    );
    assert!(p.names("").await.is_empty(), "a dry run adds nothing");
    let (status, report) = p.import(good, "").await;
    assert_eq!(
        (status, report["rows"].as_u64()),
        (200, Some(3)),
        "{report}"
    );
    assert_eq!(
        p.names("").await,
        ["Ann Example", "Front desk", "Roma, Pizza"]
    );

    // Bad rows: each named by its line, and nothing added.
    let bad = b"Bob Example, +4930555113\nNo Number,\nCarol Example, 030 1234\nAnn Example, +4930555111\nBob Example, +4930555113\nToo, many, cells, here\n";
    let (status, problem) = p.import(bad, "").await;
    assert_eq!(status, 422, "{problem}");
    let errors: Vec<(u64, String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let at: Vec<(u64, &str)> = errors.iter().map(|(l, f, _)| (*l, f.as_str())).collect();
    assert_eq!(
        at,
        [
            (2, "number"),
            (3, "number"),
            (4, "name"),
            (5, "name"),
            (6, "file")
        ],
        "{problem}"
    );
    assert!(errors[1].2.contains("030 1234"), "{problem}");
    assert!(errors[2].2.contains("already has"), "{problem}");
    assert!(errors[3].2.contains("also on line 1"), "{problem}");
    assert!(errors[4].2.contains("4 cells"), "{problem}");
    assert_eq!(
        p.names("").await.len(),
        3,
        "nothing of the bad file was added"
    );
}

#[tokio::test]
async fn an_export_imports_again_as_it_was() {
    let p = Portal::new().await;
    p.post(
        Admin,
        "directory",
        json!({ "company": "=cmd", "number": "+4930555111" }),
    )
    .await
    .is(201);
    p.post(
        Admin,
        "directory",
        json!({ "first_name": "Ann", "last_name": "Example", "number": "100", "site": "Berlin" }),
    )
    .await
    .is(201);
    let csv = p.export().await;
    assert_eq!(
        csv,
        "name,number,site\n'=cmd,+4930555111,\nAnn Example,100,Berlin\n"
    );
    for entry in p
        .get(Admin, "directory")
        .await
        .is(200)
        .as_array()
        .unwrap()
        .clone()
    {
        p.delete(Admin, &format!("directory/{}", entry["id"]))
            .await
            .is(204);
    }
    let (status, report) = p.import(csv.as_bytes(), "").await;
    assert_eq!(
        (status, report["rows"].as_u64()),
        (200, Some(2)),
        "{report}"
    );
    assert_eq!(p.export().await, csv);
}

#[tokio::test]
async fn a_virtual_user_reaches_the_phones_directory_by_its_extension() {
    let p = Portal::new().await;
    let before = p.directory_file().await;
    p.post(
        Admin,
        "virtual-users",
        json!({ "first_name": "Mobile", "last_name": "Max", "number": "+491701234567", "extension": "61" }),
    )
    .await
    .is(201);
    let file = p.directory_file().await;
    assert_ne!(file, before);
    assert!(
        file.contains("Name=\"Mobile Max\" Phone1=\"61\" Phone2=\"+491701234567\""),
        "{file}"
    );
}
