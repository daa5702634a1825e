//! Discovery and resync over real UDP: a socket in the test plays the phone. SIP PnP (unicast,
//! and multicast where this machine can), and the check-sync NOTIFY a change sends.

use std::net::SocketAddr;
use std::time::Duration;

use autoprov::admin::UserUpdate;
use autoprov::sip::message::{self, Message, StartLine};
use tokio::net::UdpSocket;

use crate::support::{say, walkthrough, TestServer, MAC, NUMBER, UA};

pub(crate) const WAIT: Duration = Duration::from_secs(5);

/// A PnP SUBSCRIBE as a Yealink sends it, from `from` (its Contact), with this Call-ID and MAC.
fn subscribe(from: SocketAddr, call_id: &str, mac: &str, vendor: &str) -> String {
    format!(
        "SUBSCRIBE sip:MAC%3a{mac}@224.0.1.75:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP {from};branch=z9hG4bK{call_id};rport\r\n\
From: <sip:MAC%3a{mac}@224.0.1.75:5060>;tag=ph{call_id}\r\n\
To: <sip:MAC%3a{mac}@224.0.1.75:5060>\r\n\
Call-ID: {call_id}@{ip}\r\n\
CSeq: 1 SUBSCRIBE\r\n\
Contact: <sip:{from}>\r\n\
Max-Forwards: 70\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"{vendor}\";model=\"T54W\";version=\"96.86.0.100\"\r\n\
Expires: 0\r\n\
Accept: application/url\r\n\
Content-Length: 0\r\n\r\n",
        ip = from.ip()
    )
}

pub(crate) async fn phone() -> (UdpSocket, SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let addr = socket.local_addr().expect("address");
    (socket, addr)
}

/// The next SIP message the phone socket receives, within `within`.
pub(crate) async fn receive(socket: &UdpSocket, within: Duration) -> Option<(Message, SocketAddr)> {
    let mut buf = vec![0u8; 8192];
    let (n, from) = tokio::time::timeout(within, socket.recv_from(&mut buf))
        .await
        .ok()?
        .expect("receive");
    Some((
        message::parse(&buf[..n]).expect("the server sends SIP"),
        from,
    ))
}

/// The phone's `200 OK` to a request it received.
pub(crate) fn ok_to(m: &Message) -> Vec<u8> {
    let headers: Vec<(&str, &str)> = ["Via", "From", "To", "Call-ID", "CSeq"]
        .iter()
        .filter_map(|h| Some((*h, m.header(h)?)))
        .collect();
    message::write("SIP/2.0 200 OK", &headers, b"")
}

/// Sends a SUBSCRIBE and reads the `200 OK` and the NOTIFY: (200, NOTIFY).
async fn pnp_exchange(socket: &UdpSocket, to: SocketAddr, request: &str) -> (Message, Message) {
    socket.send_to(request.as_bytes(), to).await.expect("send");
    let (ok, _) = receive(socket, WAIT).await.expect("a 200 OK");
    let (notify, _) = receive(socket, WAIT).await.expect("a NOTIFY");
    (ok, notify)
}

#[tokio::test]
async fn pnp_subscribe_gets_200_and_a_notify_with_the_provisioning_url() {
    let server = TestServer::start_with(&[("listen.pnp", "127.0.0.1:0")]).await;
    let pnp = server.pnp_addr.expect("pnp listener");
    let (socket, addr) = phone().await;
    let (ok, notify) = pnp_exchange(
        &socket,
        pnp,
        &subscribe(addr, "c1", "001565A1B2C3", "Yealink"),
    )
    .await;
    assert_eq!(
        ok.start,
        StartLine::Response {
            code: 200,
            reason: "OK".into()
        }
    );
    assert_eq!(ok.header("Call-ID"), Some("c1@127.0.0.1"));
    assert_eq!(ok.header("CSeq"), Some("1 SUBSCRIBE"));
    assert_eq!(ok.header("Expires"), Some("0"));
    assert_eq!(notify.method(), Some("NOTIFY"));
    assert_eq!(
        notify.header("Call-ID"),
        Some("c1@127.0.0.1"),
        "in the subscription's dialog"
    );
    assert_eq!(notify.header("Event"), Some("ua-profile"));
    assert_eq!(notify.header("Content-Type"), Some("application/url"));
    assert_eq!(
        String::from_utf8_lossy(&notify.body),
        server.url("/"),
        "Yealink gets the server's URL"
    );
    socket.send_to(&ok_to(&notify), pnp).await.expect("send");

    // Snom firmware that says vendor="OEM" is known by its MAC's vendor prefix (00:04:13).
    let (_, notify) =
        pnp_exchange(&socket, pnp, &subscribe(addr, "c3", "000413A1B2C4", "OEM")).await;
    assert_eq!(
        String::from_utf8_lossy(&notify.body),
        server.url("/000413a1b2c4.xml")
    );
    // Snom gets its own file's URL, by the vendor its Event names.
    let (_, notify) =
        pnp_exchange(&socket, pnp, &subscribe(addr, "c2", "000413A1B2C3", "snom")).await;
    assert_eq!(
        String::from_utf8_lossy(&notify.body),
        server.url("/000413a1b2c3.xml")
    );
}

#[tokio::test]
async fn pnp_answers_registered_and_unknown_macs_alike() {
    let server = TestServer::start_with(&[("listen.pnp", "127.0.0.1:0")]).await;
    walkthrough(&server.app).await;
    let pnp = server.pnp_addr.expect("pnp listener");
    let (socket, addr) = phone().await;
    let (_, registered) = pnp_exchange(
        &socket,
        pnp,
        &subscribe(addr, "r1", "001565A1B2C3", "Yealink"),
    )
    .await;
    let (_, unknown) = pnp_exchange(
        &socket,
        pnp,
        &subscribe(addr, "u1", "001565FFFFFF", "Yealink"),
    )
    .await;
    assert_eq!(
        registered.body, unknown.body,
        "the answer says nothing about registration"
    );
    assert!(!String::from_utf8_lossy(&registered.body).contains("password"));
}

#[tokio::test]
async fn pnp_drops_broken_and_foreign_packets_and_keeps_serving() {
    let server = TestServer::start_with(&[("listen.pnp", "127.0.0.1:0")]).await;
    let pnp = server.pnp_addr.expect("pnp listener");
    let (socket, addr) = phone().await;
    let good = subscribe(addr, "g1", "001565A1B2C3", "Yealink");
    let mut broken: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\xff\xfe\x00garbage".to_vec(),
        good.replace("SIP/2.0\r\n", "SIP/3.0\r\n").into_bytes(),
        good.replace("ua-profile", "presence").into_bytes(),
        subscribe(addr, "v1", "AABBCC000001", "NoSuchVendor").into_bytes(),
        good.replace("Content-Length: 0", "Content-Length: 99")
            .into_bytes(),
        vec![b'A'; 9000],
    ];
    broken.extend(
        (0..good.len())
            .step_by(7)
            .map(|n| good.as_bytes()[..n].to_vec()),
    );
    for packet in &broken {
        socket.send_to(packet, pnp).await.expect("send");
    }
    let (ok, _) = pnp_exchange(&socket, pnp, &good).await;
    assert_eq!(
        ok.header("Call-ID"),
        Some("g1@127.0.0.1"),
        "the first answer is the good packet's"
    );
}

#[tokio::test]
async fn pnp_answers_are_rate_limited_per_source() {
    let server = TestServer::start_with(&[
        ("listen.pnp", "127.0.0.1:0"),
        ("pnp.burst", "2"),
        ("pnp.per_minute", "0"),
    ])
    .await;
    let pnp = server.pnp_addr.expect("pnp listener");
    let (socket, addr) = phone().await;
    for call in ["a", "b"] {
        let (ok, notify) = pnp_exchange(
            &socket,
            pnp,
            &subscribe(addr, call, "001565A1B2C3", "Yealink"),
        )
        .await;
        assert_eq!(
            ok.header("Call-ID"),
            Some(format!("{call}@127.0.0.1").as_str())
        );
        socket.send_to(&ok_to(&notify), pnp).await.expect("send");
    }
    socket
        .send_to(
            subscribe(addr, "c", "001565A1B2C3", "Yealink").as_bytes(),
            pnp,
        )
        .await
        .expect("send");
    assert!(
        receive(&socket, Duration::from_millis(700)).await.is_none(),
        "a third answer past the burst of 2"
    );
    let (_, _, metrics) = server.fetch("/metrics", None).await;
    assert!(
        metrics.contains("autoprov_pnp_subscribes_total{outcome=\"answered\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("autoprov_pnp_subscribes_total{outcome=\"rate_limited\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn pnp_notify_is_resent_until_the_phone_answers() {
    let server = TestServer::start_with(&[("listen.pnp", "127.0.0.1:0")]).await;
    let pnp = server.pnp_addr.expect("pnp listener");
    let (socket, addr) = phone().await;
    let (_, first) = pnp_exchange(
        &socket,
        pnp,
        &subscribe(addr, "re", "001565A1B2C3", "Yealink"),
    )
    .await;
    let (again, _) = receive(&socket, WAIT).await.expect("the NOTIFY again");
    assert_eq!(again, first, "the same NOTIFY, resent");
    // The phone resends its SUBSCRIBE: it gets the 200 again, and no second NOTIFY series.
    let request = subscribe(addr, "re", "001565A1B2C3", "Yealink");
    socket.send_to(request.as_bytes(), pnp).await.expect("send");
    loop {
        let (m, _) = receive(&socket, WAIT).await.expect("the 200 again");
        if m.method().is_none() {
            break;
        }
        assert_eq!(m, first, "only the first NOTIFY, resent");
    }
    socket.send_to(&ok_to(&again), pnp).await.expect("send");
    let sent = server
        .app
        .pnp_metrics
        .answered
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(sent, 2, "two SUBSCRIBEs answered");
}

/// Multicast to 224.0.1.75, as phones send it: where this machine can deliver multicast to
/// itself (a route for 224.0.0.0/4; a network namespace in CI), else skipped with a message.
#[tokio::test]
async fn pnp_over_multicast() {
    if let Err(why) = multicast_works().await {
        say(&format!("pnp_over_multicast: skipped: {why}"));
        return;
    }
    let server = TestServer::start_with(&[("listen.pnp", "224.0.1.75:0")]).await;
    let port = server.pnp_addr.expect("pnp listener").port();
    let socket = UdpSocket::bind("0.0.0.0:0").await.expect("bind");
    let port_of_phone = socket.local_addr().expect("address").port();
    let contact = SocketAddr::from(([127, 0, 0, 1], port_of_phone));
    let group = SocketAddr::from((autoprov::sip::PNP_GROUP, port));
    let request = subscribe(contact, "m1", "001565A1B2C3", "Yealink");
    socket
        .send_to(request.as_bytes(), group)
        .await
        .expect("send");
    let (ok, _) = receive(&socket, WAIT)
        .await
        .expect("a 200 OK to the multicast SUBSCRIBE");
    assert_eq!(ok.header("Call-ID"), Some("m1@127.0.0.1"));
}

/// Whether a datagram sent to the PnP group comes back to a socket of this process.
async fn multicast_works() -> Result<(), String> {
    let receiver = UdpSocket::bind("0.0.0.0:0")
        .await
        .map_err(|e| e.to_string())?;
    receiver
        .join_multicast_v4(autoprov::sip::PNP_GROUP, std::net::Ipv4Addr::UNSPECIFIED)
        .map_err(|e| format!("cannot join 224.0.1.75: {e}"))?;
    let port = receiver.local_addr().map_err(|e| e.to_string())?.port();
    let sender = UdpSocket::bind("0.0.0.0:0")
        .await
        .map_err(|e| e.to_string())?;
    sender
        .send_to(b"probe", (autoprov::sip::PNP_GROUP, port))
        .await
        .map_err(|e| format!("cannot send to 224.0.1.75: {e}"))?;
    let mut buf = [0u8; 16];
    tokio::time::timeout(Duration::from_secs(1), receiver.recv_from(&mut buf))
        .await
        .map_err(|_| "multicast sent here does not come back (no multicast route)".to_owned())?
        .map_err(|e| e.to_string())?;
    Ok(())
}

async fn rename(server: &TestServer, first: &str) {
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    let user = admin.user(tenant.id, NUMBER).await.unwrap();
    let update = UserUpdate {
        first_name: Some(first.into()),
        ..Default::default()
    };
    admin.user_update(tenant.id, &user, &update).await.unwrap();
}

#[tokio::test]
async fn a_change_sends_the_phone_one_check_sync_notify() {
    let (socket, addr) = phone().await;
    let port = addr.port().to_string();
    let server = TestServer::start_with(&[("resync.phone_port", &port)]).await;
    walkthrough(&server.app).await;
    let (status, _, _) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert_eq!(status, 200);
    server.app.provisioner.flush_seen().await;

    // A change that leaves the phone's file as it was tells it nothing …
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    admin
        .site_add(
            tenant.id,
            &autoprov::admin::SiteInput {
                name: "Hamburg".into(),
                sip_domain: Some("sip.example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // … one that changes it sends one NOTIFY, with Yealink's event.
    let changed_at = tokio::time::Instant::now();
    rename(&server, "Grace").await;
    let (notify, from) = receive(&socket, WAIT)
        .await
        .expect("a NOTIFY after the change");
    assert!(
        changed_at.elapsed() < Duration::from_secs(2),
        "within the debounce and a bit"
    );
    assert_eq!(notify.method(), Some("NOTIFY"));
    assert_eq!(notify.header("Event"), Some("check-sync;reboot=false"));
    assert!(
        matches!(&notify.start, StartLine::Request { uri, .. } if uri == &format!("sip:4930123456@{addr}")),
        "{:?}",
        notify.start
    );
    socket.send_to(&ok_to(&notify), from).await.expect("send");

    // The phone fetches; the next change is told once more, and only the next one.
    server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    rename(&server, "Ada").await;
    let (second, from) = receive(&socket, WAIT)
        .await
        .expect("a NOTIFY after the second change");
    assert_ne!(
        second.header("Call-ID"),
        notify.header("Call-ID"),
        "a new NOTIFY, not a resend"
    );
    socket.send_to(&ok_to(&second), from).await.expect("send");
    assert!(
        receive(&socket, Duration::from_millis(1500))
            .await
            .is_none(),
        "told once"
    );
    let sent = server
        .app
        .notifier
        .metrics
        .sent
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(
        sent, 2,
        "one NOTIFY per change of the file, none for the new site or the fetches"
    );
}

#[tokio::test]
async fn device_resync_notifies_and_runs_the_hook() {
    let (socket, addr) = phone().await;
    let port = addr.port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("hook.txt");
    let script = format!(
        "echo \"$AUTOPROV_MAC {{line_user}} $AUTOPROV_EVENT\" >> {}",
        out.display()
    );
    let hook = format!("sh,-c,{script}");
    let server = TestServer::start_with(&[
        ("resync.phone_port", &port),
        ("resync.on_change", "false"),
        ("resync.hook", &hook),
    ])
    .await;
    walkthrough(&server.app).await;
    server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    server.app.provisioner.flush_seen().await;
    let tenant = server.app.admin.tenant("Acme").await.unwrap();
    let device = server.app.admin.handset(tenant.id, MAC).await.unwrap();
    let answer = tokio::spawn(async move {
        let (m, from) = receive(&socket, WAIT).await.expect("a NOTIFY");
        socket.send_to(&ok_to(&m), from).await.expect("send");
        m
    });
    let target = server
        .app
        .provisioner
        .resync_target(&device, Some("127.0.0.1"))
        .await
        .unwrap();
    let told = server.app.notifier.resync(&target).await;
    let notify = answer.await.unwrap();
    assert_eq!(notify.header("Event"), Some("check-sync;reboot=false"));
    assert!(
        told.notify_sent && told.answered && told.hook_ok,
        "{told:?}"
    );
    let line = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        line.trim(),
        "001565a1b2c3 4930123456 check-sync;reboot=false"
    );
}

#[tokio::test]
async fn device_resync_through_the_cli_reaches_the_phone() {
    let (socket, addr) = phone().await;
    let server = TestServer::start().await;
    walkthrough(&server.app).await;
    let cli = |args: &[&str]| {
        let mut cmd = crate::cli::autoprov(&server.data_dir());
        cmd.env("AUTOPROV_RESYNC__PHONE_PORT", addr.port().to_string())
            .args(args);
        cmd
    };
    let never = cli(&["device", "resync", "--tenant", "Acme", MAC])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&never.stdout);
    assert!(
        never.status.success() && text.contains("never seen"),
        "{text}"
    );

    server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    server.app.provisioner.flush_seen().await;
    let phone = tokio::spawn(async move {
        let (m, from) = receive(&socket, WAIT).await.expect("a NOTIFY from the CLI");
        socket.send_to(&ok_to(&m), from).await.expect("send");
        m
    });
    let done = cli(&["device", "resync", "--tenant", "Acme", MAC])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(
        text.contains("NOTIFY check-sync;reboot=false sent to 127.0.0.1, answered"),
        "{text}"
    );
    assert_eq!(
        phone.await.unwrap().header("Event"),
        Some("check-sync;reboot=false")
    );
    let json = cli(&["--json", "device", "resync", "--tenant", "Acme", "nosuch"])
        .output()
        .await
        .unwrap();
    assert!(!json.status.success());
    assert!(
        String::from_utf8_lossy(&json.stderr).contains("nosuch"),
        "names what is not found"
    );
}

/// The shipped manifests: every family has a resync event (Cisco MPP its own `resync`), every
/// PnP family a URL, and Grandstream's URL is a folder (it ignores anything else).
#[test]
fn every_family_says_how_it_is_found_and_resynced() {
    let catalog = autoprov::render::Catalog::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("device-templates"),
    )
    .unwrap();
    for family in catalog.families() {
        let (name, sip) = (&family.manifest.family, &family.manifest.sip);
        let event = sip
            .resync_event
            .as_deref()
            .unwrap_or_else(|| panic!("{name}: no resync_event"));
        assert_eq!(event == "resync", name == "cisco-mpp", "{name}: {event}");
        assert_eq!(
            sip.pnp_vendors.is_empty(),
            sip.pnp_url.is_none(),
            "{name}: pnp_vendors and pnp_url go together"
        );
        if name == "grandstream" {
            assert_eq!(sip.pnp_url.as_deref(), Some("{url}"), "a folder URL");
        }
    }
}

/// Seed 002: "the Phone ID for your handset is displayed on your device's screen". Every family
/// whose manifest says where (`phone_id_shown`) puts it in the phone's own file; the others are
/// the ones documented as showing none.
#[tokio::test]
async fn the_phone_id_is_in_every_family_file_that_can_show_it() {
    use autoprov::admin::{DeviceInput, SiteInput};
    let server = TestServer::start().await;
    let admin = &server.app.admin;
    let tenant = admin.tenant_add("Acme").await.unwrap();
    let site = SiteInput {
        name: "Berlin".into(),
        sip_domain: Some("sip.example.com".into()),
        ..Default::default()
    };
    admin.site_add(tenant.id, &site).await.unwrap();
    let mut without = Vec::new();
    for (i, family) in server.app.catalog.families().iter().enumerate() {
        let manifest = &family.manifest;
        let mac = format!("0000000000{i:02x}");
        let input = DeviceInput {
            mac: mac.clone(),
            model: manifest.models[0].name.clone(),
            site: None,
        };
        let device = admin.device_add(tenant.id, &input).await.unwrap();
        let file = server
            .app
            .provisioner
            .preview(mac.parse().unwrap(), None, false)
            .await
            .unwrap();
        let shown = file.body.contains(&format!("PhoneID-{}", device.phone_id))
            || file.body.contains(&format!("Phone ID {}", device.phone_id));
        match &manifest.phone_id_shown {
            Some(place) => assert!(
                shown,
                "{}: {place}, but not in its file:\n{}",
                manifest.family, file.body
            ),
            None => without.push(manifest.family.clone()),
        }
    }
    without.sort();
    assert_eq!(
        without,
        ["fanvil", "gigaset"],
        "families documented as showing no Phone ID"
    );
}

/// A change made by another process (the CLI on the same database) is seen through the
/// revision poller and told to the phone too.
#[tokio::test]
async fn a_cli_change_in_another_process_reaches_the_phone() {
    let (socket, addr) = phone().await;
    let port = addr.port().to_string();
    let server = TestServer::start_with(&[("resync.phone_port", &port)]).await;
    walkthrough(&server.app).await;
    server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    server.app.provisioner.flush_seen().await;
    let out = crate::cli::autoprov(&server.data_dir())
        .args([
            "user", "update", "--tenant", "Acme", NUMBER, "--last", "Byron",
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (notify, from) = receive(&socket, WAIT)
        .await
        .expect("a NOTIFY after the CLI's change");
    assert_eq!(notify.header("Event"), Some("check-sync;reboot=false"));
    socket.send_to(&ok_to(&notify), from).await.expect("send");
    let (_, _, file) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    assert!(file.contains("Ada Byron"), "{file}");
}
