//! The installer's commands through the binary (issue 13): `dhcp-config` in each format, parsed
//! structurally; `rollout status --watch` until the phones arrive; the life cycle commands with
//! their refusals.

use std::process::Output;
use std::time::Duration;

use crate::cli::autoprov;
use crate::support::{walkthrough, TestServer, UA};

async fn run(data: &std::path::Path, args: &[&str]) -> Output {
    autoprov(data)
        .env("AUTOPROV_PROVISIONING__PUBLIC_URL", "http://10.0.0.5:8080/")
        .args(args)
        .output()
        .await
        .expect("run autoprov")
}

#[track_caller]
fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[track_caller]
fn err(output: &Output) -> String {
    assert!(!output.status.success(), "unexpected success");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A data folder with Acme's Berlin site, whose first-contact network is 10.1.0.0/16.
async fn site_with_network() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&run(d, &["tenant", "add", "Acme"]).await);
    ok(&run(
        d,
        &[
            "site",
            "add",
            "--tenant",
            "Acme",
            "Berlin",
            "--sip-domain",
            "sip.example.com",
        ],
    )
    .await);
    ok(&run(
        d,
        &[
            "site",
            "trust",
            "--tenant",
            "Acme",
            "Berlin",
            "--first-contact-network",
            "10.1.0.0/16",
        ],
    )
    .await);
    dir
}

/// dnsmasq: every line is a comment, a `dhcp-vendorclass=set:TAG,CLASS` or a
/// `dhcp-option=tag:…,CODE,VALUE`; each family has its class and options.
#[tokio::test]
async fn dnsmasq_lines_are_well_formed_and_cover_every_family() {
    let dir = site_with_network().await;
    let out = ok(&run(dir.path(), &["dhcp-config", "--format", "dnsmasq"]).await);
    let mut tagged = std::collections::BTreeSet::new();
    let mut codes = std::collections::BTreeSet::new();
    for line in out.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(rest) = line.strip_prefix("dhcp-vendorclass=set:") {
            let (tag, class) = rest.split_once(',').expect("TAG,CLASS");
            assert!(!class.is_empty() && !class.contains(','), "{line}");
            tagged.insert(tag.to_owned());
        } else if let Some(rest) = line.strip_prefix("dhcp-option=") {
            let parts: Vec<&str> = rest.splitn(3, ',').collect();
            let tag = parts[0].strip_prefix("tag:").expect("a tag");
            assert!(tagged.contains(tag), "{line}: option before its class");
            let code: u8 = parts[1].parse().expect("an option code");
            codes.insert(code);
            let value = parts[2];
            if code == 150 {
                assert_eq!(value, "10.0.0.5", "{line}");
            } else {
                assert!(value.starts_with('"') && value.ends_with('"'), "{line}");
            }
        } else {
            panic!("not a dnsmasq line: {line}");
        }
    }
    for family in [
        "yealink",
        "poly",
        "cisco-mpp",
        "cisco-sip",
        "snom",
        "grandstream",
        "fanvil",
        "gigaset",
    ] {
        assert!(tagged.contains(family), "{family} missing:\n{out}");
    }
    assert_eq!(
        codes.into_iter().collect::<Vec<_>>(),
        [43, 66, 67, 114, 150, 160]
    );
    assert!(
        out.contains("dhcp-option=tag:yealink,66,\"http://10.0.0.5:8080/\""),
        "{out}"
    );
    let site = ok(&run(
        dir.path(),
        &[
            "dhcp-config",
            "--format",
            "dnsmasq",
            "--tenant",
            "Acme",
            "--site",
            "Berlin",
        ],
    )
    .await);
    assert!(
        site.contains("dhcp-option=tag:berlin,tag:berlin-poly,160,"),
        "{site}"
    );
    assert!(site.contains("# site Berlin: 10.1.0.0/16"), "{site}");
}

/// Kea: valid JSON, a client class per family testing option 60, options 66/67 by name and the
/// others by code with their bytes in hex (150 as addresses).
#[tokio::test]
async fn kea_output_is_json_with_the_options() {
    let dir = site_with_network().await;
    let out = ok(&run(
        dir.path(),
        &[
            "dhcp-config",
            "--format",
            "kea",
            "--tenant",
            "Acme",
            "--site",
            "Berlin",
        ],
    )
    .await);
    let doc: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let classes = doc["Dhcp4"]["client-classes"].as_array().unwrap();
    let class = |name: &str| {
        classes
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {out}"))
    };
    let yealink = class("berlin-yealink");
    assert_eq!(
        yealink["test"],
        "substring(option[60].hex,0,7) == 'yealink'"
    );
    assert_eq!(yealink["option-data"][0]["name"], "tftp-server-name");
    assert_eq!(yealink["option-data"][0]["data"], "http://10.0.0.5:8080/");
    let poly = &class("berlin-poly")["option-data"];
    let option_160 = poly
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == 160)
        .unwrap();
    let bytes = hex::decode(option_160["data"].as_str().unwrap()).unwrap();
    assert_eq!(String::from_utf8(bytes).unwrap(), "http://10.0.0.5:8080/");
    let cisco = &class("berlin-cisco-sip")["option-data"];
    let option_150 = cisco
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == 150)
        .unwrap();
    assert_eq!(option_150["data"], "0A000005");
    assert_eq!(doc["Dhcp4"]["subnet4"][0]["subnet"], "10.1.0.0/16");
}

/// ISC dhcpd: declarations for the options it does not know, an `if` per family on the vendor
/// class; braces balance, every statement ends in `;`; with a site, inside its subnet.
#[tokio::test]
async fn isc_blocks_balance_and_declare_their_options() {
    let dir = site_with_network().await;
    for args in [
        &["dhcp-config", "--format", "isc"][..],
        &[
            "dhcp-config",
            "--format",
            "isc",
            "--tenant",
            "Acme",
            "--site",
            "Berlin",
        ][..],
    ] {
        let out = ok(&run(dir.path(), args).await);
        let mut depth = 0i32;
        for line in out
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            match line.chars().last() {
                Some('{') => depth += 1,
                Some('}') => depth -= 1,
                Some(';') => {}
                _ => panic!("not an ISC statement: {line}"),
            }
            assert!(depth >= 0, "{out}");
        }
        assert_eq!(depth, 0, "{out}");
        assert!(
            out.contains("option autoprov-150 code 150 = array of ip-address;"),
            "{out}"
        );
        assert!(
            out.contains("option autoprov-160 code 160 = text;"),
            "{out}"
        );
        assert!(
            out.contains("if substring(option vendor-class-identifier, 0, 7) = \"yealink\" {"),
            "{out}"
        );
        assert!(out.contains("option autoprov-150 10.0.0.5;"), "{out}");
    }
    let site = ok(&run(
        dir.path(),
        &[
            "dhcp-config",
            "--format",
            "isc",
            "--tenant",
            "Acme",
            "--site",
            "Berlin",
        ],
    )
    .await);
    assert!(
        site.contains("subnet 10.1.0.0 netmask 255.255.0.0 {"),
        "{site}"
    );
    let e = err(&run(dir.path(), &["dhcp-config", "--format", "bind"]).await);
    assert!(
        e.contains("\"bind\" is not one of: dnsmasq, kea, isc"),
        "{e}"
    );
}

/// `rollout status --watch` refreshes until every phone has arrived, then exits; without
/// `--watch` it prints once.
#[tokio::test]
async fn rollout_watch_ends_when_all_phones_have_arrived() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let data = server.data_dir();
    let once = ok(&run(&data, &["rollout", "status", "--tenant", "Acme"]).await);
    assert!(once.contains("1 expected, 0 arrived"), "{once}");
    assert!(
        once.contains("001565a1b2c3") && once.contains("not seen yet"),
        "{once}"
    );
    let watch = autoprov(&data)
        .args([
            "--json", "rollout", "status", "--tenant", "Acme", "--watch", "--every", "1",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The phone arrives while the CLI watches; the server's poller records it.
    let (status, _, _) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(status, 200);
    let out = tokio::time::timeout(Duration::from_secs(20), watch.wait_with_output())
        .await
        .expect("the watch ends once all have arrived")
        .unwrap();
    let text = ok(&out);
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(
        (last["expected"].as_u64(), last["arrived"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(last["provisioned"], 1);
    let list = ok(&run(&data, &["device", "list", "--tenant", "Acme"]).await);
    assert!(
        list.contains("provisioned")
            && list.contains("from 127.0.0.1 over http")
            && list.contains("96.86.0.100"),
        "{list}"
    );
}

/// The life cycle through the CLI: each refusal says what is in the way.
#[tokio::test]
async fn life_cycle_commands_refuse_with_what_is_in_the_way() {
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let d = server.data_dir();
    let e = err(&run(&d, &["tenant", "remove", "Acme"]).await);
    assert!(
        e.contains("still has 1 site, 1 number, 1 user and 1 device"),
        "{e}"
    );
    let e = err(&run(&d, &["site", "remove", "--tenant", "Acme", "Berlin"]).await);
    assert!(e.contains("still holds 1 number and 1 device"), "{e}");
    let e = err(&run(
        &d,
        &["number", "release", "--tenant", "Acme", "+4930123456"],
    )
    .await);
    assert!(e.contains("assigned to Ada Lovelace"), "{e}");
    let e = err(&run(
        &d,
        &[
            "device",
            "update",
            "--tenant",
            "Acme",
            "001565a1b2c3",
            "--model",
            "T54X",
        ],
    )
    .await);
    assert!(e.contains("did you mean one of T54S, T54W?"), "{e}");
    let out = ok(&run(
        &d,
        &[
            "device",
            "update",
            "--tenant",
            "Acme",
            "001565a1b2c3",
            "--model",
            "T57W",
        ],
    )
    .await);
    assert!(out.contains("yealink T57W"), "{out}");
    let out = ok(&run(
        &d,
        &[
            "device",
            "replace",
            "--tenant",
            "Acme",
            "001565a1b2c3",
            "--mac",
            "001565000099",
        ],
    )
    .await);
    assert!(out.contains("is now 001565000099"), "{out}");
    let out = ok(&run(
        &d,
        &["device", "remove", "--tenant", "Acme", "001565000099"],
    )
    .await);
    assert!(out.contains("logged out: +4930123456"), "{out}");
    let out = ok(&run(&d, &["models", "--family", "gigaset"]).await);
    assert!(
        out.lines().all(|l| l.starts_with("gigaset\t")) && !out.is_empty(),
        "{out}"
    );
    ok(&run(&d, &["token", "create", "--role", "platform-admin"]).await);
    let tokens = ok(&run(&d, &["--json", "token", "list"]).await);
    let list: serde_json::Value = serde_json::from_str(&tokens).unwrap();
    assert_eq!(list[0]["role"], "platform-admin");
    assert!(
        !tokens.contains("ap_") && !tokens.contains("argon2"),
        "{tokens}"
    );
}

/// The real servers accept what `dhcp-config` prints, where they are installed (`dnsmasq
/// --test`, `dhcpd -t`, `kea-dhcp4 -t`); each one missing is said and skipped.
#[tokio::test]
async fn the_dhcp_servers_themselves_accept_the_output_where_installed() {
    let dir = site_with_network().await;
    let checks: [(&str, &str, &[&str]); 3] = [
        ("dnsmasq", "dnsmasq", &["--test", "--conf-file={}"]),
        ("isc", "dhcpd", &["-t", "-cf", "{}"]),
        ("kea", "kea-dhcp4", &["-t", "{}"]),
    ];
    for (format, tool, args) in checks {
        let Some(path) = ["/usr/sbin", "/usr/bin", "/sbin", "/usr/local/sbin"]
            .iter()
            .map(|d| std::path::Path::new(d).join(tool))
            .find(|p| p.exists())
        else {
            crate::support::say(&format!(
                "dhcp-config: {tool} not installed, its check skipped"
            ));
            continue;
        };
        for site in [&[][..], &["--tenant", "Acme", "--site", "Berlin"][..]] {
            let mut command = vec!["dhcp-config", "--format", format];
            command.extend_from_slice(site);
            let mut text = ok(&run(dir.path(), &command).await);
            if format == "isc" {
                // dhcpd wants a subnet for an address of its own to serve.
                text.push_str("subnet 10.0.0.0 netmask 255.255.255.0 {}\n");
            }
            let file = dir.path().join(format!("dhcp.{format}"));
            std::fs::write(&file, text).unwrap();
            let file = file.display().to_string();
            let args: Vec<String> = args.iter().map(|a| a.replace("{}", &file)).collect();
            let out = tokio::process::Command::new(&path)
                .args(&args)
                .output()
                .await
                .unwrap();
            assert!(
                out.status.success(),
                "{tool} {site:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
