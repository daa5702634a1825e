//! Loading and validating settings: defaults, layers, and the messages that name a bad key.

use std::path::PathBuf;
use std::time::Duration;

use toml::Value;

use super::raw::{env_key, set, Raw, SetError};
use super::{derived_url, load, Sources};

fn flags(list: &[(&'static str, &str)]) -> Sources {
    Sources {
        config_file: None,
        read_env: false,
        flags: list.iter().map(|(k, v)| (*k, v.to_string())).collect(),
    }
}

#[test]
fn defaults_validate() {
    let (s, warnings) = load(&flags(&[])).unwrap();
    assert!(warnings.is_empty());
    assert_eq!(s.http, Some("0.0.0.0:8080".parse().unwrap()));
    assert_eq!(s.https, Some("0.0.0.0:8443".parse().unwrap()));
    assert_eq!(s.https_url.as_deref(), Some("https://127.0.0.1:8443/"));
    assert!(!s.trust.bootstrap);
    assert_eq!(s.tftp, Some("0.0.0.0:6969".parse().unwrap()));
    assert_eq!(s.tftp_limits.max_blksize, 65464);
    assert_eq!(s.tftp_limits.retries_before_ack, 1);
    assert_eq!(s.public_url, "http://127.0.0.1:8080/");
    assert_eq!(s.database_url, "sqlite://./data/autoprov.db");
    assert_eq!(s.revision_poll, Duration::from_millis(250));
}

#[test]
fn file_then_flags_override() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("autoprov.toml");
    std::fs::write(
        &path,
        "data = \"/srv/ap\"\n[listen]\nhttp = \"127.0.0.1:9000\"\n[cache]\nmax_mib = 8\n",
    )
    .unwrap();
    let mut sources = flags(&[("listen.http", "127.0.0.1:9100")]);
    sources.config_file = Some(path);
    let (s, _) = load(&sources).unwrap();
    assert_eq!(s.data_dir, PathBuf::from("/srv/ap"));
    assert_eq!(s.http, Some("127.0.0.1:9100".parse().unwrap()));
    assert_eq!(s.cache_max_bytes, 8 * 1024 * 1024);
    assert_eq!(s.directory_cache_max_bytes, 64 * 1024 * 1024, "the default");
    assert_eq!(s.public_url, "http://127.0.0.1:9100/");
}

#[test]
fn unknown_and_mistyped_keys_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[listen]\nhttps = \"off\"\nhtp = \"x\"\n").unwrap();
    let mut sources = flags(&[]);
    sources.config_file = Some(path.clone());
    let err = load(&sources).unwrap_err().to_string();
    assert!(err.contains("unknown key listen.htp"), "{err}");

    std::fs::write(&path, "[cache]\nmax_mib = \"big\"\n").unwrap();
    let err = load(&sources).unwrap_err().to_string();
    assert!(
        err.contains("cache.max_mib must be of type integer, not string"),
        "{err}"
    );

    let err = load(&flags(&[("listen.http", "nowhere")]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("listen.http") && err.contains("nowhere"),
        "{err}"
    );
    let err = load(&flags(&[("store.poll_ms", "5")]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("store.poll_ms"), "{err}");
}

#[test]
fn derived_urls() {
    assert_eq!(
        derived_url("[::1]:8080".parse().unwrap()),
        "http://[::1]:8080/"
    );
    assert_eq!(
        derived_url("0.0.0.0:80".parse().unwrap()),
        "http://127.0.0.1:80/"
    );
    let (s, _) = load(&flags(&[])).unwrap();
    assert!(s.public_url_is_local_guess());
    let (s, _) = load(&flags(&[(
        "provisioning.public_url",
        "http://prov.example.com",
    )]))
    .unwrap();
    assert_eq!(s.public_url, "http://prov.example.com/");
    assert!(!s.public_url_is_local_guess());
}

#[test]
fn env_names_map_to_keys() {
    assert_eq!(env_key("AUTOPROV_HTTP").as_deref(), Some("listen.http"));
    assert_eq!(
        env_key("AUTOPROV_DATABASE_URL").as_deref(),
        Some("database")
    );
    assert_eq!(
        env_key("AUTOPROV_CACHE__MAX_MIB").as_deref(),
        Some("cache.max_mib")
    );
    assert_eq!(env_key("AUTOPROV_TEST_PG_URL"), None);
    assert_eq!(env_key("AUTOPROV_CONFIG"), None);
    let mut table = match Value::try_from(Raw::default()).unwrap() {
        Value::Table(t) => t,
        _ => unreachable!(),
    };
    assert!(matches!(
        set(&mut table, "cache.max_mib", "x"),
        Err(SetError::Type(_))
    ));
    assert!(matches!(
        set(&mut table, "cache.nope", "1"),
        Err(SetError::Unknown)
    ));
    assert!(set(&mut table, "cache.max_mib", "12").is_ok());
}

/// The shared checks keep each section's message word for word.
#[test]
fn section_messages_name_the_key_and_the_value() {
    #[track_caller]
    fn check(key: &'static str, value: &str, expected: &str) {
        let err = load(&flags(&[(key, value)])).unwrap_err().to_string();
        assert_eq!(err, format!("config: {expected}"));
    }
    check(
        "provisioning.recheck_minutes",
        "4",
        "provisioning.recheck_minutes: 4 is not between 5 and 43200",
    );
    check(
        "cache.max_mib",
        "0",
        "cache.max_mib: 0 is not between 1 and 65536",
    );
    check(
        "tftp.max_windowsize",
        "70000",
        "tftp.max_windowsize: 70000 is not between 1 and 65535",
    );
    check(
        "trust.fail_burst",
        "-1",
        "trust.fail_burst: -1 is not between 1 and 1000000",
    );
    check(
        "provisioning.public_url",
        "ftp://prov",
        "provisioning.public_url: \"ftp://prov\" is not an http:// or https:// URL",
    );
    check(
        "provisioning.https_url",
        "http://prov",
        "provisioning.https_url: \"http://prov\" is not an https:// URL",
    );
    check(
        "log_format",
        "xml",
        "log_format: \"xml\" is not human or json",
    );
    check(
        "trust.unproven",
        "maybe",
        "trust.unproven: \"maybe\" is not bootstrap or not-found",
    );
    check(
        "templates.dir",
        "/nonexistent/templates",
        "templates.dir: /nonexistent/templates is not a folder",
    );
    check("pnp.burst", "0", "pnp.burst: 0 is not between 1 and 10000");
    check(
        "resync.phone_port",
        "0",
        "resync.phone_port: 0 is not between 1 and 65535",
    );
    check(
        "listen.pnp",
        "224.0.1.75",
        "listen.pnp: \"224.0.1.75\" is not an address like 0.0.0.0:8080 (or off)",
    );
}

#[test]
fn pnp_and_resync_settings() {
    let (s, _) = load(&flags(&[
        ("listen.pnp", "224.0.1.75:5060"),
        ("resync.hook", "sh,-c,echo {mac}"),
    ]))
    .unwrap();
    assert_eq!(s.pnp, Some("224.0.1.75:5060".parse().unwrap()));
    assert_eq!(s.resync.hook, ["sh", "-c", "echo {mac}"]);
    assert!(s.resync.on_change && s.resync.notify && !s.pnp_settings.multicast);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("autoprov.toml");
    std::fs::write(&path, "[resync]\nhook = [\"\", \"x\"]\n").unwrap();
    let sources = Sources {
        config_file: Some(path),
        ..flags(&[])
    };
    let err = load(&sources).unwrap_err().to_string();
    assert_eq!(
        err,
        "config: resync.hook: the first word is the program to run, and it is empty"
    );
}

#[test]
fn throttle_limits_come_from_the_trust_section() {
    let (s, _) = load(&flags(&[
        ("trust.fail_burst", "7"),
        ("trust.slow_ms", "20"),
    ]))
    .unwrap();
    assert_eq!(s.trust.throttle.burst, 7);
    assert_eq!(s.trust.throttle.per_minute, 60);
    assert_eq!(s.trust.throttle.slow, Duration::from_millis(20));
    assert_eq!(s.trust.throttle.ban, Duration::from_secs(600));
}
