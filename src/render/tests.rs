use super::*;

fn default_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("device-templates")
}

fn catalog() -> Catalog {
    Catalog::load(&default_dir()).expect("shipped templates load")
}

#[track_caller]
fn check_ua(catalog: &Catalog, ua: &str, model: &str, version: Option<&str>, mac: Option<&str>) {
    let info = catalog
        .identify_user_agent(ua)
        .unwrap_or_else(|| panic!("not recognised: {ua:?}"));
    assert_eq!(catalog.family(info.family).manifest.family, "yealink");
    assert_eq!(info.model, model, "{ua:?}");
    assert_eq!(info.version.as_deref(), version, "{ua:?}");
    assert_eq!(info.mac.map(|m| m.to_string()).as_deref(), mac, "{ua:?}");
}

#[test]
fn yealink_user_agents() {
    let c = catalog();
    check_ua(
        &c,
        "Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37",
        "T46G",
        Some("28.72.0.1"),
        Some("0015654aa937"),
    );
    check_ua(
        &c,
        "Yealink SIP VP-T49G 51.80.0.10 00:15:65:4a:a9:38",
        "T49G",
        Some("51.80.0.10"),
        Some("0015654aa938"),
    );
    check_ua(
        &c,
        "Yealink W52P 25.80.0.15 00:15:65:4a:a9:39",
        "W52P",
        Some("25.80.0.15"),
        Some("0015654aa939"),
    );
    // No MAC: the trailing hardware version must not be taken for one.
    check_ua(
        &c,
        "Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0",
        "T46G",
        Some("28.71.0.81"),
        None,
    );
    // Two spaces and a bare MAC (T5x).
    check_ua(
        &c,
        "Yealink SIP-T56A  58.80.0.25 001565f429a4",
        "T56A",
        Some("58.80.0.25"),
        Some("001565f429a4"),
    );
    check_ua(
        &c,
        "Yealink SIP-T54W 96.86.0.100 00:15:65:a1:b2:c3",
        "T54W",
        Some("96.86.0.100"),
        Some("001565a1b2c3"),
    );
    assert!(c.identify_user_agent("curl/8.5.0").is_none());
    assert!(c.identify_user_agent("Mozilla/5.0 Yealink").is_none());
}

#[track_caller]
fn check_family_ua(
    c: &Catalog,
    family: &str,
    ua: &str,
    model: &str,
    version: &str,
    mac: Option<&str>,
) {
    let info = c
        .identify_user_agent(ua)
        .unwrap_or_else(|| panic!("not recognised: {ua:?}"));
    assert_eq!(c.family(info.family).manifest.family, family, "{ua:?}");
    assert_eq!(info.model, model, "{ua:?}");
    assert_eq!(info.version.as_deref(), Some(version), "{ua:?}");
    assert_eq!(info.mac.map(|m| m.to_string()).as_deref(), mac, "{ua:?}");
}

#[test]
fn other_families_user_agents() {
    let c = catalog();
    check_family_ua(&c, "snom", "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9e5ac9f SXM:0 UXM:0 UXMC:0 000413922D24)", "D785", "10.1.33.33", Some("000413922d24"));
    check_family_ua(
        &c,
        "snom",
        "snom320-SIP 8.4.18 1.1.3-s",
        "320",
        "8.4.18",
        None,
    );
    check_family_ua(
        &c,
        "fanvil",
        "Fanvil X4 2.10.2.6887 0c383e07e16c",
        "X4",
        "2.10.2.6887",
        Some("0c383e07e16c"),
    );
    check_family_ua(
        &c,
        "fanvil",
        "Fanvil X6U Pro 0.0.10 0c383e2cd782",
        "X6U Pro",
        "0.0.10",
        Some("0c383e2cd782"),
    );
    check_family_ua(
        &c,
        "fanvil",
        "Fanvil X4 2.10.2.6887",
        "X4",
        "2.10.2.6887",
        None,
    );
    check_family_ua(
        &c,
        "poly",
        "FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application",
        "VVX_400",
        "4.1.4.7430",
        None,
    );
    check_family_ua(&c, "poly", "FileTransport PolycomSoundPointIP-SPIP_550-UA/4.0.15.1047 (SN:0004f21a1a1a) Type/Application", "SPIP_550", "4.0.15.1047", Some("0004f21a1a1a"));
    check_family_ua(
        &c,
        "grandstream",
        "Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872",
        "GXP2135",
        "1.0.7.97",
        Some("000b828aa872"),
    );
    check_family_ua(
        &c,
        "grandstream",
        "Grandstream Model HW GXV3350  V1.3A SW 1.0.1.7 DevId 000b82000001",
        "GXV3350",
        "1.0.1.7",
        Some("000b82000001"),
    );
    check_family_ua(
        &c,
        "grandstream",
        "Grandstream GRP2612W 1.0.5.67",
        "GRP2612W",
        "1.0.5.67",
        None,
    );
}

#[test]
fn gigaset_user_agents() {
    let c = catalog();
    check_family_ua(
        &c,
        "gigaset",
        "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605",
        "N870",
        "83.V2.11.0",
        Some("7c2f80e0d605"),
    );
    check_family_ua(
        &c,
        "gigaset",
        "N510 IP PRO/42.245.00.000.000;7C2F804DF9A9",
        "N510",
        "42.245.00.000.000",
        Some("7c2f804df9a9"),
    );
    check_family_ua(
        &c,
        "gigaset",
        "N510 IP PRO/42.245.00.000.000",
        "N510",
        "42.245.00.000.000",
        None,
    );
}

#[test]
fn cisco_user_agents() {
    let c = catalog();
    check_family_ua(
        &c,
        "cisco-mpp",
        "Cisco-CP-7832-3PCC/11.0.1 (00562b043615)",
        "CP-7832-3PCC",
        "11.0.1",
        Some("00562b043615"),
    );
    check_family_ua(
        &c,
        "cisco-mpp",
        "Cisco-CP-7832-3PCC/11.0.1",
        "CP-7832-3PCC",
        "11.0.1",
        None,
    );
    check_family_ua(
        &c,
        "cisco-mpp",
        "Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK)",
        "SPA508G",
        "7.4.4",
        Some("0002fdff2103"),
    );
    check_family_ua(
        &c,
        "cisco-mpp",
        "Cisco/SPA525G-7.4.4 (CBT141900G7)",
        "SPA525G",
        "7.4.4",
        None,
    );
    check_family_ua(
        &c,
        "cisco-sip",
        "Cisco-CP8841/12.6.1",
        "8841",
        "12.6.1",
        None,
    );
}

#[test]
fn yealink_file_names() {
    let c = catalog();
    // `<mac>.cfg` is Yealink's and Fanvil's: the User-Agent or the registered device decides.
    let m = c.match_file("001565A1B2C3.cfg");
    let families: Vec<&str> = m
        .iter()
        .map(|m| c.family(m.family).manifest.family.as_str())
        .collect();
    assert!(
        families.contains(&"yealink") && families.contains(&"fanvil"),
        "{families:?}"
    );
    assert!(m
        .iter()
        .all(|m| m.mac.map(|m| m.to_string()).as_deref() == Some("001565a1b2c3")));
    let m = c.match_file("y000000000096.cfg");
    assert_eq!(m[0].model_code, Some(96));
    assert_eq!(m[0].mac, None);
    assert_eq!(c.match_file("y000000000000.boot")[0].mac, None);
    assert!(c.match_file("001565a1b2c3.cfg.bak").is_empty());
    assert!(c.match_file("../001565a1b2c3.cfg").is_empty());
    assert!(c.match_file("00156.cfg").is_empty());
}

#[test]
fn models_resolve_by_name_and_code() {
    let c = catalog();
    let (family, model) = c.find_model("t54w").unwrap();
    assert_eq!(model.name, "T54W");
    assert_eq!(
        c.family(family).model_by_code(96).map(|m| m.name.as_str()),
        Some("T54W")
    );
    assert!(c.find_model("T99X").is_none());
}

/// A context for `mac.cfg.j2` with `hostile` in every text a user or admin controls (the keys'
/// type codes are the manifest's, not theirs): a BLF key, a park slot as the family's park key
/// and as a BLF key without pickup, and a group-pickup key, labelled with group names.
fn hostile_device_context(hostile: &str) -> serde_json::Value {
    serde_json::json!({
        "device": { "mac": "001565a1b2c3", "mac_upper": "001565A1B2C3", "mac_colon": "00:15:65:a1:b2:c3", "admin_password": "pw", "phone_id": hostile },
        "model": { "name": hostile, "code": 96, "accounts": 2, "line_keys": 6 },
        "site": { "name": hostile, "ntp_server": hostile },
        "sip": { "domain": hostile, "proxy": hostile, "port": 5060, "transport": "udp", "transport_code": hostile },
        "time_zone": {
            "iana": "Europe/Berlin", "std_offset_seconds": 3600, "std_offset_hours": hostile,
            "std_offset_hhmm": hostile, "std_abbreviation": hostile, "posix": hostile,
            "vendor_name": hostile,
            "dst": {
                "offset_seconds": 7200, "save_minutes": 60, "abbreviation": hostile,
                "start": { "month": 3, "week": 5, "weekday": 0, "hour": 2, "minute": 0 },
                "end": { "month": 10, "week": 5, "weekday": 0, "hour": 3, "minute": 0 }
            }
        },
        "lines": [{
            "position": 1, "number": hostile, "extension": hostile, "label": hostile,
            "display_name": hostile, "user_name": hostile, "auth_name": hostile, "password": hostile
        }],
        "unused_accounts": [2],
        "keys": [{
            "position": 2, "kind": "blf", "value": hostile, "label": hostile, "line": 1,
            "pickup": hostile, "pickup_code": hostile, "type_code": "1"
        }, {
            "position": 3, "kind": "park", "value": hostile, "label": hostile, "line": 1,
            "pickup": null, "pickup_code": null, "type_code": "9"
        }, {
            "position": 4, "kind": "blf", "value": hostile, "label": hostile, "line": 1,
            "pickup": null, "pickup_code": null, "type_code": "1"
        }, {
            "position": 5, "kind": "group_pickup", "value": hostile, "label": hostile, "line": 1,
            "pickup": null, "pickup_code": null, "type_code": "23"
        }],
        "directory": [{
            "name": hostile, "number": hostile, "extension": hostile, "kind": hostile,
            "group_id": 1, "group": hostile
        }],
        "directory_groups": [{ "id": 1, "name": hostile }],
        "firmware": { "url": format!("http://fw.example/{hostile}/image.bin"), "version": hostile },
        "provisioning": { "url": hostile, "recheck_minutes": 60, "directory_url": hostile },
    })
}

#[test]
fn key_value_output_cannot_gain_a_line() {
    let c = catalog();
    let family = c.family_by_name("yealink").unwrap();
    let files = &c.family(family).manifest.files;
    let hostile = "x\nstatic.security.user_password = admin:owned\r\naccount.9.enable = 1\u{0}\"/><evil a=\"'&";
    let clean = catalog()
        .render(
            family,
            files
                .iter()
                .position(|f| f.template == "mac.cfg.j2")
                .unwrap(),
            &hostile_device_context("x"),
        )
        .unwrap();
    for (index, spec) in files.iter().enumerate() {
        let out = c
            .render(family, index, &hostile_device_context(hostile))
            .unwrap();
        if spec.format == Format::Xml {
            // Well-formed, with the hostile text as text: no element, attribute or NUL added.
            crate::provision::check::parse(&out, Format::Xml, spec.root.as_deref())
                .unwrap_or_else(|e| panic!("{}: {e}\n{out}", spec.template));
            assert!(
                !out.contains("<evil") && !out.contains('\0'),
                "{}",
                spec.template
            );
            continue;
        }
        assert!(
            !out.lines().any(
                |l| l.starts_with("static.security.user_password = admin:owned")
                    || l.starts_with("account.9")
            ),
            "{}: {out}",
            spec.template
        );
        assert!(
            !out.contains('\r') && !out.contains('\0'),
            "{}",
            spec.template
        );
    }
    // The hostile text stays on the lines it was put on: the same line count as a clean render.
    let out = c
        .render(
            family,
            files
                .iter()
                .position(|f| f.template == "mac.cfg.j2")
                .unwrap(),
            &hostile_device_context(hostile),
        )
        .unwrap();
    assert_eq!(out.lines().count(), clean.lines().count(), "{out}");
}

#[test]
fn a_broken_template_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let family = dir.path().join("yealink");
    std::fs::create_dir(&family).unwrap();
    for entry in std::fs::read_dir(default_dir().join("yealink")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, family.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(family.join("mac.cfg.j2"), "line one\n{% if %}\n").unwrap();
    let err = Catalog::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("mac.cfg.j2:2"), "{err}");
}

#[test]
fn no_family_can_be_injected_into() {
    let c = catalog();
    let hostile = "x\nkey = injected\r\n\u{0}\"/><evil a=\"'&{{ 7*7 }}";
    for (family, f) in c.families().iter().enumerate() {
        for (index, spec) in f.manifest.files.iter().enumerate() {
            let clean = c.render(family, index, &hostile_device_context("x"));
            let out = c.render(family, index, &hostile_device_context(hostile));
            let (clean, out) = match (clean, out) {
                (Ok(a), Ok(b)) => (a, b),
                (a, b) => panic!("{}/{}: {a:?} {b:?}", f.manifest.family, spec.template),
            };
            let name = format!("{}/{}", f.manifest.family, spec.template);
            assert!(
                !out.contains("49"),
                "{name}: template syntax in a value was evaluated"
            );
            match spec.format {
                Format::Xml => {
                    crate::provision::check::parse(&out, Format::Xml, spec.root.as_deref())
                        .unwrap_or_else(|e| panic!("{name}: {e}\n{out}"));
                    assert!(!out.contains("<evil") && !out.contains('\0'), "{name}");
                }
                Format::Kv => {
                    assert_eq!(out.lines().count(), clean.lines().count(), "{name}: {out}");
                    assert!(
                        !out.lines().any(|l| l.starts_with("key = injected")),
                        "{name}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_bad_dhcp_section_is_named_at_load() {
    for (section, says) in [
        ("[dhcp.options]\n300 = \"{http}/\"\n", "DHCP option \"300\""),
        (
            "vendor_classes = [\"Cisco, Inc.\"]\n",
            "DHCP vendor class \"Cisco, Inc.\"",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let family = dir.path().join("yealink");
        std::fs::create_dir(&family).unwrap();
        for entry in std::fs::read_dir(default_dir().join("yealink")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, family.join(path.file_name().unwrap())).unwrap();
        }
        let manifest = std::fs::read_to_string(family.join("manifest.toml")).unwrap();
        let (head, _) = manifest.split_once("[dhcp]").unwrap();
        std::fs::write(
            family.join("manifest.toml"),
            format!("{head}[dhcp]\n{section}"),
        )
        .unwrap();
        let Err(e) = Catalog::load(dir.path()) else {
            panic!("{section:?} was taken")
        };
        let e = e.to_string();
        assert!(e.contains(says) && e.contains("manifest.toml"), "{e}");
    }
}

#[test]
fn every_family_says_how_dhcp_finds_this_server() {
    let c = catalog();
    for family in c.families() {
        let dhcp = &family.manifest.dhcp;
        assert!(
            !dhcp.vendor_classes.is_empty() && !dhcp.options.is_empty(),
            "{}",
            family.manifest.family
        );
    }
}

#[test]
fn the_files_that_show_the_directory_are_known() {
    let c = catalog();
    let mut using = Vec::new();
    for (family, f) in c.families().iter().enumerate() {
        for (index, spec) in f.manifest.files.iter().enumerate() {
            if c.uses_directory(family, index) {
                using.push(format!("{}/{}", f.manifest.family, spec.template));
            }
        }
    }
    using.sort();
    assert_eq!(
        using,
        [
            "cisco-mpp/directory-group.xml.j2",
            "cisco-mpp/directory.xml.j2",
            "cisco-sip/directory-group.xml.j2",
            "cisco-sip/directory.xml.j2",
            "fanvil/directory.xml.j2",
            "gigaset/directory.xml.j2",
            "grandstream/phonebook.xml.j2",
            "poly/directory.xml.j2",
            "snom/mac.xml.j2",
            "snom/mac.xml.j2",
            "yealink/directory.xml.j2",
        ]
    );
}

/// The memo gives what the patterns give, on the first request and on every repeat, for
/// User-Agents and names that match and for ones that do not.
#[test]
fn issue_15_identification_is_remembered_and_the_same_as_the_patterns() {
    let c = catalog();
    let agents = [
        "Yealink SIP-T54W 96.86.0.100 00:15:65:a1:b2:c3",
        "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9e5ac9f SXM:0 UXM:0 UXMC:0 000413922D24)",
        "curl/8.5.0",
    ];
    let names = ["001565a1b2c3.cfg", "y000000000000.boot", "no-such-file.bin"];
    for _ in 0..3 {
        for ua in agents {
            assert_eq!(
                c.identify_user_agent(ua),
                c.identify_user_agent_by_patterns(ua),
                "{ua}"
            );
        }
        for name in names {
            assert_eq!(c.match_file(name), c.match_file_by_patterns(name), "{name}");
        }
    }
    // A hit is the memo's own value, shared, not a copy; shared files come first.
    let ua = c.identify_user_agent(agents[0]).expect("a Yealink");
    assert!(Arc::ptr_eq(&ua, &c.identify_user_agent(agents[0]).unwrap()));
    let first = c.match_file("000000000000.cfg");
    assert!(Arc::ptr_eq(&first, &c.match_file("000000000000.cfg")));
    assert!(first.len() > 1 && first[0].mac.is_none(), "{first:?}");
    assert!(first
        .windows(2)
        .all(|w| w[0].mac.is_none() || w[1].mac.is_some()));
    assert!(c.memo.user_agents.contains_key(agents[0]));
    assert!(c.memo.files.contains_key(names[0]));
    assert!(c.identify_user_agent(agents[0]).is_some());
    assert!(c.match_file(names[2]).is_empty());
}
