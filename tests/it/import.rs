//! Bulk import and export: real-world files (BOM, `;`, quotes, CRLF, cp1252), every bad row
//! named, all or nothing (dry run, duplicates in the file, kill -9 mid-import on SQLite and
//! PostgreSQL), the API's problem+json, and export → import → export round trips.

use autoprov::admin::import::{Encoding, ImportOptions, ImportReport, KindName};
use autoprov::admin::{Admin, SiteInput};
use autoprov::error::Error;
use autoprov::model::TenantId;
use serde_json::Value;

use crate::support::TestServer;

/// A tenant `Acme` with the sites Berlin and Hamburg, and no numbers yet.
async fn acme(admin: &Admin) -> TenantId {
    let acme = admin.tenant_add("Acme").await.unwrap();
    for name in ["Berlin", "Hamburg"] {
        let site = SiteInput {
            name: name.into(),
            sip_domain: Some("sip.example.com".into()),
            ..Default::default()
        };
        admin.site_add(acme.id, &site).await.unwrap();
    }
    acme.id
}

async fn import(
    admin: &Admin,
    tenant: TenantId,
    kind: KindName,
    file: &str,
) -> Result<ImportReport, Error> {
    import_with(
        admin,
        tenant,
        kind,
        file.as_bytes(),
        ImportOptions::default(),
    )
    .await
}

async fn import_with(
    admin: &Admin,
    tenant: TenantId,
    kind: KindName,
    file: &[u8],
    options: ImportOptions,
) -> Result<ImportReport, Error> {
    admin
        .import(
            kind,
            tenant,
            std::io::Cursor::new(file.to_vec()),
            options,
            &|_| {},
        )
        .await
}

/// The bad rows of a failed import, as the CLI prints them.
#[track_caller]
fn bad_rows(result: Result<ImportReport, Error>) -> Vec<String> {
    match result {
        Err(Error::Rows(rows)) => rows.iter().map(|r| r.to_string()).collect(),
        other => panic!("expected bad rows, got {other:?}"),
    }
}

async fn export(admin: &Admin, tenant: TenantId, kind: KindName) -> String {
    let mut out = Vec::new();
    admin.export(kind, tenant, &mut out).await.unwrap();
    String::from_utf8(out).unwrap()
}

const NUMBERS: &str = "number,site,status,main\n\
    +4930123400,Berlin,active,yes\n\
    +4930123401,Berlin,active,no\n\
    +4930123402,Berlin,active,no\n\
    +4940123401,Hamburg,active,no\n\
    +4930123409,Berlin,reserved,no\n";

#[tokio::test]
async fn every_bad_row_is_named_and_nothing_is_written() {
    let server = TestServer::start().await;
    let admin = &server.app.admin;
    let t = acme(admin).await;
    import(admin, t, KindName::Numbers, NUMBERS).await.unwrap();
    let revision = server.app.store.revisions().global();
    let file = "mac,model,site,numbers\n\
        001565000001,T54W,Berlin,+4930123401\n\
        0015650000zz,T54W,Berlin,\n\
        001565000003,T99X,Berlin,\n\
        001565000004,T54W,Paris,\n\
        001565000005,T54W,Berlin,+4940123401\n\
        001565000006,T54W,Berlin,+4930123409\n\
        001565000007,T54W,Berlin,+4930123400\n\
        001565000008,T54W,Berlin,+4930999999\n\
        001565000009,T54W,Berlin,+4930123402\n";
    let rows = bad_rows(import(admin, t, KindName::Devices, file).await);
    let fields: Vec<&str> = rows.iter().map(|r| r.split(':').next().unwrap()).collect();
    assert_eq!(
        fields,
        [
            "line 3, mac",
            "line 4, model",
            "line 5, site",
            "line 6, numbers",
            "line 7, numbers",
            "line 8, numbers",
            "line 9, numbers",
        ],
        "{rows:#?}"
    );
    assert!(
        rows[3].contains("at another site than handset"),
        "{}",
        rows[3]
    );
    assert!(rows[4].contains("+4930123409 is reserved"), "{}", rows[4]);
    assert!(rows[5].contains("main number"), "{}", rows[5]);
    assert!(
        rows[6].contains("number not found: +4930999999"),
        "{}",
        rows[6]
    );
    // The good rows (2 and 10) were not written either.
    assert_eq!(server.app.store.device_list(t).await.unwrap().len(), 0);
    assert_eq!(server.app.store.revisions().global(), revision);
}

#[tokio::test]
async fn the_file_as_a_whole_is_checked_too() {
    let server = TestServer::start().await;
    let admin = &server.app.admin;
    let t = acme(admin).await;
    let rows = bad_rows(
        import(
            admin,
            t,
            KindName::Numbers,
            "number,main\n+4930123400,yes\n+4930123401,yes\n+4930123400,\n",
        )
        .await,
    );
    assert_eq!(
        rows,
        [
            "line 3, main: site \"Berlin\" already has a main number",
            "line 4, number: +4930123400 is also on line 2",
        ]
    );
    import(admin, t, KindName::Numbers, NUMBERS).await.unwrap();
    let devices = "mac,model,numbers,phone_id\n\
        00:15:65:00:00:01,T54W,+4930123401,PX1\n\
        001565000001,T54W,,\n\
        001565000002,T54W,+4930123401,px1\n\
        001565000003,T46S,+4930123401,\n";
    assert_eq!(
        bad_rows(import(admin, t, KindName::Devices, devices).await),
        [
            "line 3, mac: 001565000001 is also on line 2",
            "line 4, numbers: +4930123401 is also on line 2",
            "line 5, numbers: +4930123401 is also on line 2",
        ]
    );
    let users = "first_name,last_name,email,number\n\
        Ada,Lovelace,ada@example.com,+4930123401\n\
        Alan,Turing,ADA@example.com,\n\
        Grace,Hopper,,+4930123401\n\
        Bob,,,\n\
        Eve,Example,eve@example.com,+4930123409\n";
    assert_eq!(
        bad_rows(import(admin, t, KindName::Users, users).await),
        [
            "line 3, email: ADA@example.com is also on line 2",
            "line 4, number: +4930123401 is also on line 2",
            "line 5, last_name: is empty",
            "line 6, number: +4930123409 is reserved; only an active number can be assigned",
        ]
    );
    assert!(server.app.store.user_list(t).await.unwrap().is_empty());
}

#[tokio::test]
async fn spreadsheet_files_semicolons_quotes_crlf_and_bom() {
    let server = TestServer::start().await;
    let admin = &server.app.admin;
    let t = acme(admin).await;
    import(admin, t, KindName::Numbers, NUMBERS).await.unwrap();
    // What German Excel writes: BOM, `;`, CRLF, columns in its own order, a quoted `;`.
    let file = "\u{feff}Nachname;First Name;Email;Number\r\n\
        \"Lovelace; Countess\";Ada;ada@example.com;+4930123401\r\n\
        \"O\"\"Brien\";Pat;;\r\n";
    let file = file.replace("Nachname", "last_name");
    let report = import(admin, t, KindName::Users, &file).await.unwrap();
    assert_eq!((report.rows, report.dry_run), (2, false));
    let users = server.app.store.user_list(t).await.unwrap();
    let names: Vec<String> = users.iter().map(|u| u.display_name()).collect();
    assert!(
        names.contains(&"Ada Lovelace; Countess".to_owned()),
        "{names:?}"
    );
    assert!(names.contains(&"Pat O\"Brien".to_owned()), "{names:?}");
}

#[tokio::test]
async fn a_cp1252_file_is_refused_with_its_line_and_read_when_asked() {
    let server = TestServer::start().await;
    let admin = &server.app.admin;
    let t = acme(admin).await;
    let file = b"first_name;last_name\r\nAda;Lovelace\r\nJ\xfcrgen;M\xfcller\r\n";
    let rows =
        bad_rows(import_with(admin, t, KindName::Users, file, ImportOptions::default()).await);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].starts_with("line 3, first_name: the file is not UTF-8"),
        "{}",
        rows[0]
    );
    assert!(rows[0].contains("--encoding cp1252"), "{}", rows[0]);
    let options = ImportOptions {
        encoding: Encoding::Cp1252,
        ..Default::default()
    };
    import_with(admin, t, KindName::Users, file, options)
        .await
        .unwrap();
    let users = server.app.store.user_list(t).await.unwrap();
    assert!(users.iter().any(|u| u.display_name() == "Jürgen Müller"));
}

#[tokio::test]
async fn header_problems_are_named() {
    let server = TestServer::start().await;
    let admin = &server.app.admin;
    let t = acme(admin).await;
    let rows = bad_rows(
        import(
            admin,
            t,
            KindName::Devices,
            "MAC;Modell;site\n001565000001;T54W;Berlin\n",
        )
        .await,
    );
    assert_eq!(
        rows,
        [
            "line 1, modell: unknown column \"modell\"; the columns are: mac, model, site, phone_id, numbers, user",
            "line 1, model: required column is missing",
        ]
    );
}

#[tokio::test]
async fn a_dry_run_checks_everything_and_writes_nothing() {
    let server = TestServer::start().await;
    let admin = &server.app.admin;
    let t = acme(admin).await;
    let dry = ImportOptions {
        dry_run: true,
        ..Default::default()
    };
    let revision = server.app.store.revisions().global();
    let report = import_with(admin, t, KindName::Numbers, NUMBERS.as_bytes(), dry)
        .await
        .unwrap();
    assert_eq!(
        (report.rows, report.dry_run, report.revision),
        (5, true, None)
    );
    assert_eq!(
        export(admin, t, KindName::Numbers).await,
        "number,site,status,main\n"
    );
    assert_eq!(server.app.store.revisions().global(), revision);
    // It reports what the import would.
    let bad = "number\n+4930123400\n+4930123400\n";
    let rows = bad_rows(import_with(admin, t, KindName::Numbers, bad.as_bytes(), dry).await);
    assert_eq!(rows, ["line 3, number: +4930123400 is also on line 2"]);
}

#[tokio::test]
async fn an_import_is_one_revision_and_one_audit_entry() {
    let server = TestServer::start().await;
    let admin = &server.app.admin;
    let t = acme(admin).await;
    let before = server.app.store.revisions().global();
    let report = import(admin, t, KindName::Numbers, NUMBERS).await.unwrap();
    assert_eq!(report.revision, Some(before + 1));
    assert_eq!(server.app.store.revisions().global(), before + 1);
}

#[tokio::test]
async fn export_then_import_into_an_empty_tenant_gives_the_same_file() {
    let source = TestServer::start().await;
    let admin = &source.app.admin;
    let t = acme(admin).await;
    import(admin, t, KindName::Numbers, NUMBERS).await.unwrap();
    let devices = "mac,model,site,phone_id,numbers\n\
        001565000002,T46S,Berlin,,+4930123402\n\
        001565000001,T54W,Berlin,ABC123,+4930123401\n\
        001565000003,T54W,Hamburg,,+4940123401\n\
        001565000004,T54W,Hamburg,,\n";
    import(admin, t, KindName::Devices, devices).await.unwrap();
    let users = "first_name,last_name,email,number,extension,mobile\n\
        Ada,Lovelace,ada@example.com,+4930123401,,+491701234567\n\
        Alan,Turing,,+4930123402,77,\n\
        Grace,Hopper,grace@example.com,,,\n";
    import(admin, t, KindName::Users, users).await.unwrap();
    let dials = "user,label,target\n\
        ada@example.com,Reception,100\n\
        77,Ada,3401\n\
        ada@example.com,Mobile,+491701234567\n";
    import(admin, t, KindName::SpeedDials, dials).await.unwrap();
    let kinds = [
        KindName::Numbers,
        KindName::Devices,
        KindName::Users,
        KindName::SpeedDials,
    ];
    let mut files = Vec::new();
    for kind in kinds {
        files.push(export(admin, t, kind).await);
    }
    assert!(
        files[1].contains("001565000001,T54W,Berlin,ABC123,+4930123401,\n"),
        "{}",
        files[1]
    );

    let target = TestServer::start().await;
    let other = acme(&target.app.admin).await;
    for (kind, file) in kinds.iter().zip(&files) {
        import(&target.app.admin, other, *kind, file).await.unwrap();
    }
    for (kind, file) in kinds.iter().zip(&files) {
        assert_eq!(
            &export(&target.app.admin, other, *kind).await,
            file,
            "{kind}"
        );
    }
}

#[tokio::test]
async fn the_api_takes_csv_and_answers_every_bad_row() {
    let server = TestServer::start().await;
    let t = crate::api::setup(&server).await;
    let post = |path: &str, token: &str, csv: &str| {
        let request = server
            .admin_client
            .post(server.admin_url(path))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "text/csv")
            .body(csv.to_owned());
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (
                status,
                serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
            )
        }
    };
    let file = "mac,model\n001565000101,T54W\n001565000101,T54W\nnot-a-mac,T54W\n";
    let (status, body) = post("/api/v1/tenants/Acme/import/devices", &t.acme_admin, file).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["line"], 3);
    assert_eq!(body["errors"][0]["field"], "mac");
    assert_eq!(body["errors"][1]["line"], 4);
    assert_eq!(body["errors"].as_array().unwrap().len(), 2, "{body}");

    let good = "mac,model\n001565000101,T54W\n";
    let path = "/api/v1/tenants/Acme/import/devices?dry_run=true";
    let (status, body) = post(path, &t.acme_admin, good).await;
    assert_eq!(
        (status, body["dry_run"].clone(), body["rows"].clone()),
        (200, true.into(), 1.into())
    );
    let (status, body) = post("/api/v1/tenants/Acme/import/devices", &t.acme_admin, good).await;
    assert_eq!(status, 200, "{body}");
    // Numbers are the operator's.
    let (status, _) = post(
        "/api/v1/tenants/Acme/import/numbers",
        &t.acme_admin,
        "number\n+4930555000\n",
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(
        "/api/v1/tenants/Acme/import/numbers",
        &t.platform,
        "number\n+4930555000\n",
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = post("/api/v1/tenants/Acme/import/phones", &t.acme_admin, good).await;
    assert_eq!(status, 404, "{body}");

    let response = server
        .admin_client
        .get(server.admin_url("/api/v1/tenants/Acme/export/devices"))
        .header("Authorization", format!("Bearer {}", t.acme_admin))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    assert!(
        text.starts_with("mac,model,site,phone_id,numbers,user\n"),
        "{text}"
    );
    assert!(text.contains("\n001565000101,T54W,Berlin,"), "{text}");
}

#[tokio::test]
async fn speed_dials_replace_each_named_users_list() {
    let server = TestServer::start().await;
    let admin = &server.app.admin;
    let t = acme(admin).await;
    let users = "first_name,last_name,email,extension\n\
        Ada,Lovelace,ada@example.com,10\n\
        Alan,Turing,alan@example.com,11\n";
    import(admin, t, KindName::Users, users).await.unwrap();
    let bad = "user,label,target\n\
        grace@example.com,Reception,100\n\
        ada@example.com,Reception,12ab\n\
        Alan Turing,,100\n";
    assert_eq!(
        bad_rows(import(admin, t, KindName::SpeedDials, bad).await),
        [
            "line 2, user: no user has the e-mail, extension, number or name \"grace@example.com\"",
            "line 3, target: \"12ab\" is not a number, extension or feature code",
            "line 4, label: is empty",
        ]
    );
    let first = "user,label,target\nada@example.com,Old,1\nalan turing,Ada,10\n";
    import(admin, t, KindName::SpeedDials, first).await.unwrap();
    let second = "user,label,target\nADA@example.com,Reception,100\nada@example.com,Fax,*21#\n";
    import(admin, t, KindName::SpeedDials, second)
        .await
        .unwrap();
    assert_eq!(
        export(admin, t, KindName::SpeedDials).await,
        "user,label,target\n\
         ada@example.com,Reception,100\n\
         ada@example.com,Fax,*21#\n\
         alan@example.com,Ada,10\n"
    );
}

/// The import sees the whole extension plan and every number's owner, as single writes do: a
/// bridge's number is nobody's line, a virtual user's extension nobody else's. On SQLite, and
/// on PostgreSQL when `AUTOPROV_TEST_PG_URL` is set (the import's owner query is written per
/// batch there: `store/import/`).
#[tokio::test]
async fn users_import_respects_the_extension_plan_and_number_owners() {
    for (backend, db) in crate::store::backends("importowners").await {
        let store = autoprov::store::Store::connect(&db.url).await.unwrap();
        let admin = &crate::store::admin_of(&store);
        let t = acme(admin).await;
        import(admin, t, KindName::Numbers, NUMBERS).await.unwrap();
        let bridge = autoprov::admin::BridgeInput {
            name: "Sales Bridge".into(),
            number: "+4930123402".into(),
            ..Default::default()
        };
        admin.bridge_add(t, &bridge).await.unwrap();
        let virtual_user = autoprov::admin::VirtualUserInput {
            first_name: "Key".into(),
            last_name: "Supplier".into(),
            number: "+4940123456".into(),
            extension: "77".into(),
        };
        admin.virtual_user_add(t, &virtual_user).await.unwrap();
        let users = "first_name,last_name,number,extension\n\
            Ada,Lovelace,+4930123402,\n\
            Alan,Turing,,77\n\
            Grace,Hopper,+4930123401,78\n";
        let rows = bad_rows(import(admin, t, KindName::Users, users).await);
        assert_eq!(rows.len(), 2, "{backend}: {rows:?}");
        assert!(
            rows[0].starts_with("line 2, number: +4930123402 is the number of bridge"),
            "{backend}: {rows:?}"
        );
        assert_eq!(
            rows[1], "line 3, extension: extension 77 is already used in this tenant",
            "{backend}"
        );
        assert!(store.user_list(t).await.unwrap().is_empty(), "{backend}");
        store.close().await;
        db.drop_db().await;
    }
}

/// A body sent in parts as the sender writes them, with no length: the parts go through
/// `parts`, and dropping it ends the body.
fn streamed_body() -> (
    tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
    reqwest::Body,
) {
    let (parts, rx) = tokio::sync::mpsc::channel(4);
    let body = reqwest::Body::wrap_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    (parts, body)
}

/// The API reads an import's body as the import goes: a bad header is answered while the
/// client is still sending (a server that read the whole body first would never answer here,
/// since the body does not end), and a body that comes in many parts with no length imports
/// whole, its line numbers right across the parts.
#[tokio::test]
async fn the_api_streams_the_body_into_the_import() {
    let server = TestServer::start().await;
    let t = crate::api::setup(&server).await;
    let send = |body: reqwest::Body| {
        server
            .admin_client
            .post(server.admin_url("/api/v1/tenants/Acme/import/devices"))
            .header("Authorization", format!("Bearer {}", t.acme_admin))
            .header("Content-Type", "text/csv")
            .body(body)
            .send()
    };

    let (parts, body) = streamed_body();
    parts.send(Ok(b"mac,modell\n".to_vec())).await.unwrap();
    parts
        .send(Ok(b"001565000101,T54W\n".to_vec()))
        .await
        .unwrap();
    // `parts` stays open: the body has not ended when the answer must come.
    let response = tokio::time::timeout(std::time::Duration::from_secs(30), send(body))
        .await
        .expect("no answer while the body was still open: the body is read whole first")
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let problem: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    let columns = problem["errors"].to_string();
    assert!(columns.contains("modell"), "{problem}");
    drop(parts);

    let (parts, body) = streamed_body();
    let writer = tokio::spawn(async move {
        parts.send(Ok(b"mac,model\n".to_vec())).await.unwrap();
        for i in 0..600u32 {
            // Each row in two parts, split inside the MAC.
            let row = format!("0015650{:05},T54W\n", 1000 + i);
            let (a, b) = row.as_bytes().split_at(5);
            parts.send(Ok(a.to_vec())).await.unwrap();
            parts.send(Ok(b.to_vec())).await.unwrap();
        }
        parts.send(Ok(b"not-a-mac,T54W\n".to_vec())).await.unwrap();
    });
    let response = send(body).await.unwrap();
    writer.await.unwrap();
    assert_eq!(response.status().as_u16(), 422);
    let problem: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(problem["errors"][0]["line"], 602, "{problem}");
    assert_eq!(problem["errors"].as_array().unwrap().len(), 1, "{problem}");

    let (parts, body) = streamed_body();
    let writer = tokio::spawn(async move {
        parts.send(Ok(b"mac,model\n".to_vec())).await.unwrap();
        for i in 0..600u32 {
            let row = format!("0015650{:05},T54W\n", 1000 + i);
            parts.send(Ok(row.into_bytes())).await.unwrap();
        }
    });
    let response = send(body).await.unwrap();
    writer.await.unwrap();
    let report: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(report["rows"], 600, "{report}");
}

/// A body that breaks off in the middle imports nothing: the import fails with the file
/// unreadable, never as a shorter file.
#[tokio::test]
async fn a_body_that_breaks_off_imports_nothing() {
    let server = TestServer::start().await;
    let t = crate::api::setup(&server).await;
    let (parts, body) = streamed_body();
    let writer = tokio::spawn(async move {
        parts.send(Ok(b"mac,model\n".to_vec())).await.unwrap();
        for i in 0..600u32 {
            let row = format!("0015650{:05},T54W\n", 1000 + i);
            parts.send(Ok(row.into_bytes())).await.unwrap();
        }
        parts
            .send(Err(std::io::Error::other("cable pulled")))
            .await
            .ok();
    });
    let sent = server
        .admin_client
        .post(server.admin_url("/api/v1/tenants/Acme/import/devices"))
        .header("Authorization", format!("Bearer {}", t.acme_admin))
        .header("Content-Type", "text/csv")
        .body(body)
        .send()
        .await;
    writer.await.unwrap();
    // The client may see its own error, or the server's answer; either way nothing landed.
    if let Ok(response) = sent {
        assert_ne!(response.status().as_u16(), 200);
    }
    let acme = server.app.admin.tenant("Acme").await.unwrap();
    let mut csv = Vec::new();
    server
        .app
        .admin
        .export(KindName::Devices, acme.id, &mut csv)
        .await
        .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(!csv.contains("001565001000"), "{csv}");
}
