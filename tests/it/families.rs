//! Every family's phone, simulated with its real User-Agent and file names, gets its file with its
//! line; XML files parse; a name with XML's special characters is escaped, not obeyed.

use autoprov::admin::{DeviceInput, NumberInput, UserInput};
use autoprov::provision::check;
use autoprov::render::Format;

use crate::support::{walkthrough, TestServer};

/// (model, MAC, User-Agent, file requested)
const PHONES: &[(&str, &str, &str, &str)] = &[
    ("D785", "000413922d24", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9e5ac9f SXM:0 UXM:0 UXMC:0 000413922D24)", "/snomD785-000413922D24.htm"),
    ("D785", "000413922d24", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9e5ac9f SXM:0 UXM:0 UXMC:0 000413922D24)", "/000413922D24.xml"),
    ("X4", "0c383e07e16c", "Fanvil X4 2.10.2.6887 0c383e07e16c", "/0c383e07e16c.cfg"),
    ("T54W", "001565a1b2c3", "Yealink SIP-T54W 96.86.0.100 00:15:65:a1:b2:c3", "/001565a1b2c3.cfg"),
    ("VVX_400", "0004f21a1a1a", "FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 (SN:0004f21a1a1a) Type/Application", "/0004f21a1a1a-autoprov.cfg"),
    ("VVX_400", "0004f21a1a1a", "FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 (SN:0004f21a1a1a) Type/Application", "/0004f21a1a1a.cfg"),
    ("GXP2135", "000b828aa872", "Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872", "/cfg000b828aa872.xml"),
    ("N870", "7c2f80e0d605", "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605", "/7C2F80E0D605.xml"),
    ("N510", "7c2f804df9a9", "N510 IP PRO/42.245.00.000.000;7C2F804DF9A9", "/7C2F804DF9A9.xml"),
    ("CP-8841-3PCC", "00562b043616", "Cisco-CP-8841-3PCC/11.3.1 (00562b043616)", "/00562b043616.xml"),
    ("8841", "00562b043615", "Cisco-CP8841/12.6.1", "/SEP00562B043615.cnf.xml"),
];

#[tokio::test]
async fn a_cisco_enterprise_phone_boots_over_tftp() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    admin
        .number_add(
            tenant.id,
            &NumberInput {
                number: "+4930777000".into(),
                status: Some("active".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    admin
        .device_add(
            tenant.id,
            &DeviceInput {
                mac: "00:56:2b:04:36:15".into(),
                model: "8841".into(),
                site: None,
            },
        )
        .await
        .unwrap();
    admin
        .device_login(tenant.id, "00562b043615", "+4930777000")
        .await
        .unwrap();
    // TFTP, as these phones boot: no User-Agent, the file name alone.
    let body = crate::support::tftp_get(server.tftp_addr, "127.0.0.1:0", "SEP00562B043615.cnf.xml")
        .await
        .unwrap();
    let body = String::from_utf8(body).unwrap();
    check::parse(&body, Format::Xml, Some("device")).unwrap_or_else(|e| panic!("{e}\n{body}"));
    assert!(body.contains("4930777000"), "{body}");
    // Byte for byte what HTTP serves.
    let (_, _, http) = server.fetch("/SEP00562B043615.cnf.xml", None).await;
    assert_eq!(http, body);
}

#[tokio::test]
async fn poly_master_file_is_shared_even_without_a_user_agent() {
    let server = TestServer::start().await;
    for ua in [
        Some("FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application"),
        None,
    ] {
        let (status, _, body) = server.fetch("/000000000000.cfg", ua).await;
        assert_eq!(status, 200, "{ua:?}");
        assert!(body.contains("-autoprov.cfg"), "{body}");
        check::parse(&body, Format::Xml, None).unwrap();
    }
}

#[tokio::test]
async fn each_family_gets_its_line_in_a_file_that_parses() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    let mut added = std::collections::HashSet::new();
    for (i, (model, mac, ua, file)) in PHONES.iter().enumerate() {
        if added.insert(*mac) && *model != "T54W" {
            let number = format!("+49305550{i:02}");
            admin
                .number_add(
                    tenant.id,
                    &NumberInput {
                        number: number.clone(),
                        status: Some("active".into()),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            let user = admin
                .user_add(
                    tenant.id,
                    &UserInput {
                        first_name: "Zoë \"Q\" <&>".into(),
                        last_name: format!("Tester{i}"),
                        number: Some(number.clone()),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            admin.user_activate(tenant.id, &user).await.unwrap();
            admin
                .device_add(
                    tenant.id,
                    &DeviceInput {
                        mac: mac.to_string(),
                        model: model.to_string(),
                        site: None,
                    },
                )
                .await
                .unwrap();
            admin.device_login(tenant.id, mac, &number).await.unwrap();
        }
        let (status, headers, body) = server.fetch(file, Some(ua)).await;
        assert_eq!(status, 200, "{model} {file}");
        if file.ends_with("0004f21a1a1a.cfg") {
            // Poly's own master file: it names the phone's settings file.
            assert!(
                body.contains("CONFIG_FILES=\"0004f21a1a1a-autoprov.cfg\""),
                "{body}"
            );
            continue;
        }
        let content_type = headers["content-type"].to_str().unwrap();
        if content_type.contains("xml") {
            check::parse(&body, Format::Xml, None)
                .unwrap_or_else(|e| panic!("{file}: {e}\n{body}"));
            if *model != "T54W" {
                assert!(
                    body.contains("Zoë &quot;Q&quot; &lt;&amp;&gt;"),
                    "{file}: {body}"
                );
                assert!(!body.contains("<&>"), "{file}");
            }
        }
        if file.ends_with("0004f21a1a1a.cfg") {
            // Poly's own master file: it names the phone's settings file.
            assert!(
                body.contains("CONFIG_FILES=\"0004f21a1a1a-autoprov.cfg\""),
                "{body}"
            );
            continue;
        }
        assert!(body.contains("sip.example.com"), "{file}: {body}");
    }
}

#[tokio::test]
async fn the_shipped_templates_pass_their_own_check() {
    let server = TestServer::start().await;
    let problems = check::check(
        &server.app.catalog,
        &autoprov::App::provision_settings(&server.app.settings),
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert!(server.app.catalog.families().len() >= 3);
}

#[tokio::test]
async fn monitor_lists_become_blf_keys_and_the_directory_lists_the_tenant() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    let mut others = Vec::new();
    for (i, name) in ["Bob", "Carol", "Dan"].iter().enumerate() {
        let number = format!("+493012399{i}");
        admin
            .number_add(
                tenant.id,
                &NumberInput {
                    number: number.clone(),
                    status: Some("active".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let user = admin
            .user_add(
                tenant.id,
                &UserInput {
                    first_name: name.to_string(),
                    last_name: "Example".into(),
                    number: Some(number),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        others.push(user);
    }
    let ada = admin.user(tenant.id, "Ada Lovelace").await.unwrap();
    for other in &others {
        admin.blf_grant(tenant.id, other, None).await.unwrap();
        admin.monitor_add(tenant.id, &ada, other).await.unwrap();
    }
    let e = admin.monitor_add(tenant.id, &ada, &ada).await.unwrap_err();
    assert!(e.to_string().contains("cannot monitor themselves"), "{e}");
    let e = admin
        .monitor_add(tenant.id, &ada, &others[0])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already on the monitor list"), "{e}");

    let ua = "Yealink SIP-T54W 96.86.0.100 00:15:65:a1:b2:c3";
    let (_, _, body) = server.fetch("/001565a1b2c3.cfg", Some(ua)).await;
    for line in [
        "linekey.1.type = 15",
        "linekey.2.type = 16",
        "linekey.2.value = 3990",
        "linekey.2.label = Bob Example",
        "linekey.2.extension = **",
        "linekey.4.label = Dan Example",
        "features.remote_phonebook.enable = 1",
    ] {
        assert!(body.lines().any(|l| l == line), "missing {line:?}:\n{body}");
    }
    let url = body
        .lines()
        .find_map(|l| l.strip_prefix("remote_phonebook.data.1.url = "))
        .unwrap();
    assert!(url.ends_with("/001565a1b2c3-directory.xml"), "{url}");
    let (status, _, directory) = server.fetch("/001565a1b2c3-directory.xml", Some(ua)).await;
    assert_eq!(status, 200);
    check::parse(&directory, Format::Xml, Some("YealinkIPPhoneBook")).unwrap();
    for name in [
        "Ada Lovelace",
        "Bob Example",
        "Carol Example",
        "Dan Example",
    ] {
        assert!(
            directory.contains(&format!("Name=\"{name}\"")),
            "{directory}"
        );
    }
    // Speed dials follow the BLF keys; bad ones are refused whole.
    admin
        .speed_dials_set(tenant.id, &ada, &[("Reception".into(), "+4930999".into())])
        .await
        .unwrap();
    let e = admin
        .speed_dials_set(tenant.id, &ada, &[("X".into(), "12; DROP".into())])
        .await
        .unwrap_err();
    assert!(e.to_string().contains("target"), "{e}");
    let (_, _, body) = server.fetch("/001565a1b2c3.cfg", Some(ua)).await;
    for line in [
        "linekey.5.type = 13",
        "linekey.5.value = +4930999",
        "linekey.5.label = Reception",
    ] {
        assert!(body.lines().any(|l| l == line), "missing {line:?}:\n{body}");
    }
    // Taking Carol off the list moves Dan up at the phone's next fetch.
    admin
        .monitor_remove(tenant.id, ada.id, others[1].id)
        .await
        .unwrap();
    let (_, _, body) = server.fetch("/001565a1b2c3.cfg", Some(ua)).await;
    assert!(
        body.lines().any(|l| l == "linekey.3.label = Dan Example"),
        "{body}"
    );
}

#[tokio::test]
async fn the_firmware_catalogue_names_the_image() {
    let index = tempfile::tempdir().unwrap();
    std::fs::write(
        index.path().join("yealink.toml"),
        "[[firmware]]\nfamily = \"yealink\"\nmodel = \"T54W\"\nversion = \"96.86.0.100\"\nfile = \"firmware/T54W-96.86.0.100.rom\"\n",
    )
    .unwrap();
    let dir = index.path().display().to_string();
    let server = TestServer::start_with(&[("firmware.index_dir", &dir)]).await;
    walkthrough(&server.app).await;
    let image = server.data_dir().join("files/firmware");
    std::fs::create_dir_all(&image).unwrap();
    std::fs::write(image.join("T54W-96.86.0.100.rom"), b"image").unwrap();
    let (_, _, body) = server
        .fetch("/001565a1b2c3.cfg", Some("Yealink SIP-T54W 96.86.0.100"))
        .await;
    let url = body
        .lines()
        .find_map(|l| l.strip_prefix("static.firmware.url = "))
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(
        url,
        format!("http://{}/firmware/T54W-96.86.0.100.rom", server.addr)
    );
    let (status, _, image) = server.fetch("/firmware/T54W-96.86.0.100.rom", None).await;
    assert_eq!((status, image.as_str()), (200, "image"));
}
