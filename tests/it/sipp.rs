//! A real SIP peer: sipp (Debian's `sip-tester`) plays the phone. It sends a ua-profile
//! SUBSCRIBE to the PnP listener and checks the 200 and the NOTIFY with the provisioning URL;
//! and, as the phone at its last-seen address, it takes the NOTIFY an admin change sends (its
//! event checked) and fails if a second one comes while it listens. Each test says "skipped" when sipp is not installed (`.ci/run`
//! installs it). sipp's scenario checks decide; its exit code is the verdict.

use std::net::UdpSocket;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use crate::support::{say, walkthrough, TestServer, NUMBER, UA};

/// Whether sipp can be run here; says so when it cannot.
async fn have_sipp(test: &str) -> bool {
    let found = Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok();
    if !found {
        say(&format!(
            "sipp {test}: skipped (sipp is not installed: apt-get install sip-tester)"
        ));
    }
    found
}

/// A UDP port free on loopback just now, for sipp to bind.
fn free_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("address").port()
}

/// How long sipp runs.
enum Bound {
    /// One call, and failing if it is not done in 15 s.
    OneCall,
    /// Up to two calls for this long; a scenario failing the second call fails the run, and
    /// no call at all ends it with 97 (not success).
    Window(Duration),
}

/// Starts sipp with `scenario` (written into `dir`) on local port `port`.
fn sipp(
    dir: &Path,
    scenario: &str,
    port: u16,
    remote: Option<String>,
    bound: Bound,
) -> tokio::process::Child {
    let file = dir.join("scenario.xml");
    std::fs::write(&file, scenario).expect("write the scenario");
    let mut command = Command::new("sipp");
    if let Some(remote) = remote {
        command.arg(remote);
    }
    command
        .arg("-sf")
        .arg(&file)
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-t", "u1"])
        .arg("-nostdin");
    match bound {
        Bound::OneCall => command.args(["-m", "1", "-timeout", "15s", "-timeout_error"]),
        Bound::Window(window) => command.args([
            "-m".to_owned(),
            "2".to_owned(),
            "-timeout".to_owned(),
            format!("{}s", window.as_secs()),
        ]),
    };
    command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command.spawn().expect("start sipp")
}

/// Waits for sipp's verdict: Ok, or what it said on failing.
async fn verdict(child: tokio::process::Child) -> Result<(), String> {
    let out = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .map_err(|_| "sipp did not finish".to_owned())?
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "sipp failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The phone's side of PnP: SUBSCRIBE, expect 200, expect the NOTIFY (its event, its content
/// type, and a body that is `url`), answer it 200.
fn pnp_scenario(url: &str) -> String {
    let url = regex_quote(url);
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="ua-profile subscribe">
  <send>
    <![CDATA[
SUBSCRIBE sip:MAC%3a001565A1B2C3@224.0.1.75:5060 SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:MAC%3a001565A1B2C3@224.0.1.75:5060>;tag=[call_number]
To: <sip:MAC%3a001565A1B2C3@224.0.1.75:5060>
Call-ID: [call_id]
CSeq: 1 SUBSCRIBE
Contact: <sip:[local_ip]:[local_port]>
Max-Forwards: 70
Event: ua-profile;profile-type="device";vendor="Yealink";model="T54W";version="96.86.0.100"
Expires: 0
Accept: application/url
Content-Length: 0

    ]]>
  </send>
  <recv response="200">
    <action>
      <ereg regexp="^ *0$" search_in="hdr" header="Expires:" check_it="true" assign_to="expires"/>
    </action>
  </recv>
  <recv request="NOTIFY">
    <action>
      <ereg regexp="ua-profile" search_in="hdr" header="Event:" check_it="true" assign_to="event"/>
      <ereg regexp="application/url" search_in="hdr" header="Content-Type:" check_it="true" assign_to="type"/>
      <ereg regexp="^{url}$" search_in="body" check_it="true" assign_to="url"/>
    </action>
  </recv>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>
  <Reference variables="expires,event,type,url"/>
</scenario>
"#
    )
}

/// The phone at its last-seen address: take a NOTIFY with `event` and answer 200. A NOTIFY
/// of a new dialog is a new call for sipp: the second call (`call_number` above 1) waits for
/// a message that never comes, and fails.
fn resync_scenario(event: &str) -> String {
    let event = regex_quote(event);
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="check-sync">
  <recv request="NOTIFY">
    <action>
      <ereg regexp="^ *{event}$" search_in="hdr" header="Event:" check_it="true" assign_to="event"/>
    </action>
  </recv>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>
  <nop>
    <action>
      <assignstr assign_to="n" value="[call_number]"/>
      <todouble assign_to="d" variable="n"/>
      <test assign_to="again" variable="d" compare="greater_than" value="1"/>
    </action>
  </nop>
  <nop test="again" next="again"/>
  <nop next="done"/>
  <label id="again"/>
  <recv request="INFO" timeout="10"/>
  <label id="done"/>
  <Reference variables="event"/>
</scenario>
"#
    )
}

/// `text` as a POSIX extended regex matching itself.
fn regex_quote(text: &str) -> String {
    let mut quoted = String::new();
    for c in text.chars() {
        if "\\.^$|?*+()[]{}".contains(c) {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted
}

#[tokio::test]
async fn sipp_subscribes_ua_profile_and_gets_200_and_the_url() {
    if !have_sipp("pnp").await {
        return;
    }
    let server = TestServer::start_with(&[("listen.pnp", "127.0.0.1:0")]).await;
    let pnp = server.pnp_addr.expect("pnp listener");
    let dir = tempfile::tempdir().unwrap();
    let child = sipp(
        dir.path(),
        &pnp_scenario(&server.url("/")),
        free_port(),
        Some(pnp.to_string()),
        Bound::OneCall,
    );
    verdict(child).await.unwrap();
}

#[tokio::test]
async fn sipp_as_the_phone_gets_one_check_sync_after_a_change() {
    if !have_sipp("resync").await {
        return;
    }
    let port = free_port();
    let server = TestServer::start_with(&[("resync.phone_port", &port.to_string())]).await;
    walkthrough(&server.app).await;
    // The phone fetched its file from 127.0.0.1: that is where it was last seen.
    let (status, _, _) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(status, 200);
    server.app.provisioner.flush_seen().await;
    let dir = tempfile::tempdir().unwrap();
    // sipp listens this long from before the change: the NOTIFY must come in it (the debounce
    // is 500 ms), and a second one in it fails the run.
    let window = Duration::from_secs(2);
    let child = sipp(
        dir.path(),
        &resync_scenario("check-sync;reboot=false"),
        port,
        None,
        Bound::Window(window),
    );
    // The change: the user's name, which the phone's file shows. The server resends its
    // NOTIFY until the phone answers, so sipp may still be starting.
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    let user = admin.user(tenant.id, NUMBER).await.unwrap();
    let update = autoprov::admin::UserUpdate {
        first_name: Some("Grace".into()),
        ..Default::default()
    };
    admin.user_update(tenant.id, &user, &update).await.unwrap();
    // One NOTIFY, answered, and no second one in the window (else sipp fails the run;
    // without any NOTIFY it ends with 97).
    verdict(child).await.unwrap();
}
