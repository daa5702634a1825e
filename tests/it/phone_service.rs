//! Signing in and out at the phone (seed 002): the Yealink XML-browser service over HTTPS, as a
//! phone uses it — the soft key its file sets up, the screen, the form sent back with the number
//! and PIN — and every refusal: wrong PINs lock, another handset's number, another tenant's
//! number, and the uniform 404 for anything without the device's own token over HTTPS.

use autoprov::admin::{DeviceInput, NumberInput, SiteInput};
use autoprov::model::Secret;

use crate::support::{TestServer, NUMBER};
use crate::trust::{challenge, digest_header, first_contact, https_client, https_url, line};

const MAC: &str = "001565a1b2c3";
const OTHER_MAC: &str = "001565a1b2c4";

fn service_path(password: &str, mac: &str, action: &str) -> String {
    let token = autoprov::provision::trust::service_token(&Secret::new(password.to_owned()));
    format!("/x/{token}/{mac}/{action}")
}

/// GET over HTTPS as the phone: (status, body).
async fn get(server: &TestServer, path: &str) -> (u16, String) {
    let resp = https_client(server, None)
        .get(https_url(server, path))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn default_pin(server: &TestServer, number: &str) -> String {
    let tenant = server.app.admin.tenant("Acme").await.unwrap();
    server
        .app
        .admin
        .number(tenant.id, number)
        .await
        .unwrap()
        .default_pin
}

async fn lines_of(server: &TestServer, mac: &str) -> Vec<String> {
    let device = server
        .app
        .store
        .device_by_mac(mac.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let record = server.app.store.device_record(device.id).await.unwrap();
    record.lines.iter().map(|l| l.number.to_string()).collect()
}

/// The phone's own file over HTTPS with its credentials.
async fn main_file(server: &TestServer, password: &str) -> String {
    let client = https_client(server, None);
    let path = format!("/{MAC}.cfg");
    let url = https_url(server, &path);
    let c = challenge(&client, &url).await;
    let resp = client
        .get(&url)
        .header(
            "Authorization",
            digest_header(&c, MAC, password, &path, 1, true),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    resp.text().await.unwrap()
}

#[tokio::test]
async fn sign_out_and_in_at_the_phone_with_number_and_pin() {
    let server = TestServer::start().await;
    let password = first_contact(&server).await;
    let pin = default_pin(&server, NUMBER).await;
    // The file sets up the soft key: a number is logged in, so it signs out.
    let file = main_file(&server, &password).await;
    assert_eq!(line(&file, "programablekey.3.type"), Some("27"));
    assert_eq!(line(&file, "programablekey.3.label"), Some("Sign out"));
    let key = line(&file, "programablekey.3.value").expect("the key's URL");
    let logout = service_path(&password, MAC, "logout");
    assert!(
        key.starts_with("https://") && key.ends_with(&logout),
        "{key}"
    );
    let (status, screen) = get(&server, &logout).await;
    assert_eq!(status, 200);
    assert!(screen.contains("<YealinkIPPhoneInputScreen"), "{screen}");
    assert!(screen.contains("<Parameter>pin</Parameter>"), "{screen}");
    // The phone sends the form back with the two inputs.
    let (status, said) = get(&server, &format!("{logout}?number={NUMBER}&pin={pin}")).await;
    assert_eq!(status, 200);
    assert!(said.contains("<YealinkIPPhoneTextScreen"), "{said}");
    assert!(said.contains("is signed out of this phone"), "{said}");
    assert!(lines_of(&server, MAC).await.is_empty());
    // Its file changed: now the key signs in. The number typed without + (a keypad has none).
    let file = main_file(&server, &password).await;
    assert_eq!(line(&file, "programablekey.3.label"), Some("Sign in"));
    assert!(line(&file, "account.1.password").is_none());
    let login = service_path(&password, MAC, "login");
    let digits = NUMBER.trim_start_matches('+');
    let (status, said) = get(&server, &format!("{login}?number={digits}&pin={pin}")).await;
    assert_eq!(status, 200);
    assert!(
        said.contains("+4930123456 is signed in to this phone"),
        "{said}"
    );
    assert_eq!(lines_of(&server, MAC).await, vec![NUMBER.to_owned()]);
    // Signed in once more: the one-number-per-handset rule's message, nothing changed.
    let (_, said) = get(&server, &format!("{login}?number={digits}&pin={pin}")).await;
    assert!(said.contains("already logged in"), "{said}");
    // By extension: the user's, in this tenant.
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    let user = admin.user(tenant.id, NUMBER).await.unwrap();
    let update = autoprov::admin::UserUpdate {
        extension: Some("201".into()),
        ..Default::default()
    };
    admin.user_update(tenant.id, &user, &update).await.unwrap();
    let (_, said) = get(&server, &format!("{logout}?number=201&pin={pin}")).await;
    assert!(said.contains("+4930123456 is signed out"), "{said}");
    let (_, said) = get(&server, &format!("{login}?number=202&pin={pin}")).await;
    assert!(said.contains("unknown number or extension: 202"), "{said}");
}

#[tokio::test]
async fn three_wrong_pins_in_a_row_lock_the_pin() {
    let server = TestServer::start().await;
    let password = first_contact(&server).await;
    let pin = default_pin(&server, NUMBER).await;
    let logout = service_path(&password, MAC, "logout");
    let wrong = if pin == "99999999" {
        "11111111"
    } else {
        "99999999"
    };
    let (_, said) = get(&server, &format!("{logout}?number={NUMBER}&pin={wrong}")).await;
    assert!(said.contains("wrong PIN; 2 attempt(s) left"), "{said}");
    let (_, said) = get(&server, &format!("{logout}?number={NUMBER}&pin={wrong}")).await;
    assert!(said.contains("wrong PIN; 1 attempt(s) left"), "{said}");
    let (_, said) = get(&server, &format!("{logout}?number={NUMBER}&pin={wrong}")).await;
    assert!(said.contains("is locked after 3 wrong attempts"), "{said}");
    // Locked: the right PIN is refused too, and the number stays signed in.
    let (_, said) = get(&server, &format!("{logout}?number={NUMBER}&pin={pin}")).await;
    assert!(said.contains("is locked"), "{said}");
    assert_eq!(lines_of(&server, MAC).await, vec![NUMBER.to_owned()]);
}

/// A second handset at the site, its first contact done: its HTTP password.
async fn second_handset(server: &TestServer) -> String {
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    admin
        .device_add(
            tenant.id,
            &DeviceInput {
                mac: OTHER_MAC.into(),
                model: "T54W".into(),
                site: None,
            },
        )
        .await
        .unwrap();
    let ua = "Yealink SIP-T54W 96.86.0.100 00:15:65:a1:b2:c4";
    let (status, _, body) = server.fetch(&format!("/{OTHER_MAC}.cfg"), Some(ua)).await;
    assert_eq!(status, 200, "first contact of the second handset");
    line(&body, "static.auto_provision.server.password")
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn another_handsets_number_and_another_tenants_are_refused() {
    let server = TestServer::start().await;
    let password = first_contact(&server).await;
    let other = second_handset(&server).await;
    let pin = default_pin(&server, NUMBER).await;
    let login = service_path(&other, OTHER_MAC, "login");
    let (_, said) = get(&server, &format!("{login}?number={NUMBER}&pin={pin}")).await;
    assert!(said.contains("already logged in to a handset"), "{said}");
    assert!(lines_of(&server, OTHER_MAC).await.is_empty());
    assert_eq!(lines_of(&server, MAC).await, vec![NUMBER.to_owned()]);
    // Another tenant's number is as unknown as a number nobody has.
    let admin = &server.app.admin;
    let globex = admin.tenant_add("Globex").await.unwrap();
    admin
        .site_add(
            globex.id,
            &SiteInput {
                name: "Paris".into(),
                time_zone: Some("Europe/Paris".into()),
                sip_domain: Some("sip.example.org".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let foreign = admin
        .number_add(
            globex.id,
            &NumberInput {
                number: "+33140000000".into(),
                status: Some("active".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (_, theirs) = get(
        &server,
        &format!("{login}?number=%2B33140000000&pin={}", foreign.default_pin),
    )
    .await;
    let (_, nobodys) = get(&server, &format!("{login}?number=%2B33140000001&pin=1234")).await;
    assert!(
        theirs.contains("unknown number or extension: +33140000000"),
        "{theirs}"
    );
    assert_eq!(
        theirs.replace("+33140000000", "N"),
        nobodys.replace("+33140000001", "N")
    );
    // Signing out a number of another handset here is refused, and it stays where it is.
    let logout = service_path(&other, OTHER_MAC, "logout");
    let (_, said) = get(&server, &format!("{logout}?number={NUMBER}&pin={pin}")).await;
    assert!(said.contains("is not logged in to this handset"), "{said}");
    assert_eq!(lines_of(&server, MAC).await, vec![NUMBER.to_owned()]);
    let _ = password;
}

#[tokio::test]
async fn without_the_devices_own_token_over_https_it_is_the_uniform_404() {
    let server = TestServer::start().await;
    let password = first_contact(&server).await;
    let other = second_handset(&server).await;
    let (_, _, uniform) = server.fetch("/no-such-file.cfg", None).await;
    let right = service_path(&password, MAC, "login");
    let (status, _) = get(&server, &right).await;
    assert_eq!(status, 200, "the device's own token opens its screen");
    let pin = default_pin(&server, NUMBER).await;
    let directory_token = autoprov::provision::trust::url_token(&Secret::new(password.clone()));
    for path in [
        format!("/x/{}/{MAC}/login", "0".repeat(32)),
        format!("/x//{MAC}/login"),
        // Another device's token for this MAC, and this device's directory token.
        service_path(&other, MAC, "login"),
        format!("/x/{directory_token}/{MAC}/login"),
        // An unknown MAC, a bad one, an unknown screen.
        service_path(&password, "001565ffffff", "login"),
        service_path(&password, "zz", "login"),
        service_path(&password, MAC, "settings"),
        format!(
            "{}?number={NUMBER}&pin={pin}",
            service_path(&other, MAC, "logout")
        ),
    ] {
        let (status, body) = get(&server, &path).await;
        assert_eq!((status, body.as_str()), (404, uniform.as_str()), "{path}");
    }
    // The right token over plain HTTP, and another method over HTTPS.
    let (status, _, body) = server.fetch(&right, None).await;
    assert_eq!(
        (status, body.as_str()),
        (404, uniform.as_str()),
        "plain HTTP"
    );
    let resp = https_client(&server, None)
        .post(https_url(&server, &right))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404, "POST");
    assert_eq!(resp.text().await.unwrap(), uniform);
    assert_eq!(lines_of(&server, MAC).await, vec![NUMBER.to_owned()]);
}

#[tokio::test]
async fn a_sign_in_tells_the_phone_to_fetch_its_files_once() {
    use crate::discovery::{ok_to, phone, receive, WAIT};
    let (socket, addr) = phone().await;
    let port = addr.port().to_string();
    let server = TestServer::start_with(&[("resync.phone_port", &port)]).await;
    let password = first_contact(&server).await;
    server.app.provisioner.flush_seen().await;
    let pin = default_pin(&server, NUMBER).await;
    let logout = service_path(&password, MAC, "logout");
    let (_, said) = get(&server, &format!("{logout}?number={NUMBER}&pin={pin}")).await;
    assert!(said.contains("signed out"), "{said}");
    let (notify, from) = receive(&socket, WAIT).await.expect("a NOTIFY");
    assert_eq!(notify.header("Event"), Some("check-sync;reboot=false"));
    socket.send_to(&ok_to(&notify), from).await.expect("send");
    // The watcher sees the same change: the phone was told of this file already.
    assert!(
        receive(&socket, std::time::Duration::from_millis(1500))
            .await
            .is_none(),
        "told once"
    );
}

/// A phone of another family with the phone service, as the tests below drive it.
struct Phone {
    model: &'static str,
    mac: &'static str,
    ua: &'static str,
    /// The phone's own file, as it asks for it.
    file: &'static str,
    /// Text before and after the HTTP password in its first-contact file.
    password: (&'static str, &'static str),
    /// Text before and after the URL its key (or home page) opens, and the key's label.
    key: (&'static str, &'static str),
    label: Option<&'static str>,
    /// The root element of a screen asking for input, of the message, and their type.
    input: &'static str,
    message: &'static str,
    content_type: &'static str,
    /// One input per screen: the number first, then the screen again asking for its PIN.
    one_input: bool,
    event: &'static str,
}

const SNOM: Phone = Phone {
    model: "D785",
    mac: "000413922d24",
    ua: "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9e5ac9f SXM:0 UXM:0 UXMC:0 000413922D24)",
    file: "/000413922D24.xml",
    password: ("<http_client_pass perm=\"R\">", "</http_client_pass>"),
    key: ("perm=\"R\">url ", "</fkey>"),
    label: Some("label=\"Sign out\" perm=\"R\">url "),
    input: "<SnomIPPhoneInput>",
    message: "<SnomIPPhoneText>",
    content_type: "text/xml",
    one_input: true,
    event: "check-sync;reboot=false",
};

const CISCO: Phone = Phone {
    model: "CP-8841-3PCC",
    mac: "00562b043616",
    ua: "Cisco-CP-8841-3PCC/11.3.1 (00562b043616)",
    file: "/00562b043616.xml",
    password: ("--pwd ", "]"),
    key: ("<PSK_1 ua=\"na\">fnc=xml;url=", ";nme="),
    label: Some(";nme=Sign out</PSK_1>"),
    input: "<CiscoIPPhoneInput>",
    message: "<CiscoIPPhoneText>",
    content_type: "text/xml",
    one_input: false,
    event: "resync",
};

const POLY: Phone = Phone {
    model: "VVX_400",
    mac: "0004f21a1a1a",
    ua: "FileTransport PolycomVVX-VVX_400-UA/5.9.0.1 (SN:0004f21a1a1a) Type/Application",
    file: "/0004f21a1a1a-autoprov.cfg",
    password: ("device.prov.password=\"", "\""),
    key: ("mb.main.home=\"", "\""),
    label: None,
    input: "<form action=",
    message: "<html xmlns=\"http://www.w3.org/1999/xhtml\">",
    content_type: "application/xhtml+xml",
    one_input: false,
    event: "check-sync",
};

fn between<'a>(body: &'a str, (start, end): (&str, &str)) -> Option<&'a str> {
    let rest = &body[body.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

/// The walkthrough's number moved to a `phone` of the family, whose first contact is done:
/// its HTTP password.
async fn family_first_contact(server: &TestServer, phone: &Phone) -> String {
    crate::support::walkthrough_with(&server.app, &[]).await;
    let admin = &server.app.admin;
    let tenant = admin.tenant("Acme").await.unwrap();
    let number = admin.number(tenant.id, NUMBER).await.unwrap();
    admin.number_logout(tenant.id, &number).await.unwrap();
    admin
        .device_add(
            tenant.id,
            &DeviceInput {
                mac: phone.mac.into(),
                model: phone.model.into(),
                site: None,
            },
        )
        .await
        .unwrap();
    admin
        .device_login(tenant.id, phone.mac, NUMBER)
        .await
        .unwrap();
    let (status, _, body) = server.fetch(phone.file, Some(phone.ua)).await;
    assert_eq!(status, 200, "first contact of {}: {body}", phone.model);
    between(&body, phone.password)
        .unwrap_or_else(|| panic!("credentials at first contact: {body}"))
        .to_owned()
}

/// The phone's own file over HTTPS with its credentials (Digest, user = its MAC).
async fn family_file(server: &TestServer, phone: &Phone, password: &str) -> String {
    let client = https_client(server, None);
    let url = https_url(server, phone.file);
    let c = challenge(&client, &url).await;
    let resp = client
        .get(&url)
        .header("User-Agent", phone.ua)
        .header(
            "Authorization",
            digest_header(&c, phone.mac, password, phone.file, 1, true),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{}", phone.model);
    resp.text().await.unwrap()
}

/// GET over HTTPS as the phone: (status, content type, body).
async fn get_typed(server: &TestServer, path: &str) -> (u16, String, String) {
    let resp = https_client(server, None)
        .get(https_url(server, path))
        .send()
        .await
        .unwrap();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        resp.status().as_u16(),
        content_type,
        resp.text().await.unwrap(),
    )
}

/// Signs `number` with `pin` at `path` as the family's screens do: both at once, or (one input
/// per screen) the number, then the PIN on the screen that answer shows. The last screen.
async fn submit(server: &TestServer, phone: &Phone, path: &str, number: &str, pin: &str) -> String {
    if phone.one_input {
        let (status, _, asks) = get_typed(server, &format!("{path}?number={number}")).await;
        assert_eq!(status, 200);
        assert!(asks.contains(phone.input), "{asks}");
        assert!(asks.contains("__PIN__"), "the PIN screen: {asks}");
        // The phone puts the PIN where the token is, in the URL the screen names.
        let url = between(&asks, ("<Url>", "</Url>"))
            .expect("the PIN screen's URL")
            .replace("&amp;", "&")
            .replace("__PIN__", pin);
        let path = url
            .split_once("/x/")
            .map(|(_, rest)| format!("/x/{rest}"))
            .expect("the service's path");
        get_typed(server, &path).await.2
    } else {
        get_typed(server, &format!("{path}?number={number}&pin={pin}"))
            .await
            .2
    }
}

/// Signing out and in at a Snom, Cisco MPP or Poly phone: the key its file sets up, the
/// family's screens and their type, the one-number-per-handset rule, a lock after three wrong
/// PINs, and the uniform 404 for another token.
async fn sign_in_and_out_at(phone: &Phone) {
    let server = TestServer::start().await;
    let password = family_first_contact(&server, phone).await;
    let pin = default_pin(&server, NUMBER).await;
    let file = family_file(&server, phone, &password).await;
    let key = between(&file, phone.key).unwrap_or_else(|| panic!("the key: {file}"));
    let logout = service_path(&password, phone.mac, "logout");
    assert!(
        key.starts_with("https://") && key.ends_with(&logout),
        "{}: {key}",
        phone.model
    );
    if let Some(label) = phone.label {
        assert!(file.contains(label), "{file}");
    }
    let (status, content_type, screen) = get_typed(&server, &logout).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, phone.content_type);
    assert!(screen.contains(phone.input), "{screen}");
    let said = submit(&server, phone, &logout, NUMBER, &pin).await;
    assert!(said.contains(phone.message), "{said}");
    assert!(said.contains("is signed out of this phone"), "{said}");
    assert!(lines_of(&server, phone.mac).await.is_empty());
    // Now its key signs in.
    let file = family_file(&server, phone, &password).await;
    let key = between(&file, phone.key).expect("the key");
    let login = service_path(&password, phone.mac, "login");
    assert!(key.ends_with(&login), "{key}");
    let digits = NUMBER.trim_start_matches('+');
    let said = submit(&server, phone, &login, digits, &pin).await;
    assert!(
        said.contains("+4930123456 is signed in to this phone"),
        "{said}"
    );
    assert_eq!(lines_of(&server, phone.mac).await, vec![NUMBER.to_owned()]);
    let said = submit(&server, phone, &login, digits, &pin).await;
    assert!(said.contains("already logged in"), "{said}");
    // Three wrong PINs lock it; then the right one is refused too.
    let wrong = if pin == "99999999" {
        "11111111"
    } else {
        "99999999"
    };
    for left in [
        "2 attempt(s) left",
        "1 attempt(s) left",
        "is locked after 3",
    ] {
        let said = submit(&server, phone, &logout, digits, wrong).await;
        assert!(said.contains(left), "{left}: {said}");
    }
    let said = submit(&server, phone, &logout, digits, &pin).await;
    assert!(said.contains("is locked"), "{said}");
    assert_eq!(lines_of(&server, phone.mac).await, vec![NUMBER.to_owned()]);
    // Another token for this MAC, or this token over plain HTTP: the uniform 404.
    let (_, _, uniform) = server.fetch("/no-such-file.cfg", None).await;
    let (status, _, body) = get_typed(&server, &service_path("x", phone.mac, "login")).await;
    assert_eq!((status, body.as_str()), (404, uniform.as_str()));
    let (status, _, body) = server.fetch(&login, None).await;
    assert_eq!((status, body.as_str()), (404, uniform.as_str()));
}

#[tokio::test]
async fn sign_in_and_out_at_a_snom_phone() {
    sign_in_and_out_at(&SNOM).await;
}

#[tokio::test]
async fn sign_in_and_out_at_a_cisco_mpp_phone() {
    sign_in_and_out_at(&CISCO).await;
}

#[tokio::test]
async fn sign_in_and_out_at_a_poly_phone() {
    sign_in_and_out_at(&POLY).await;
}

/// A sign-out at a Snom, Cisco MPP or Poly phone tells it to fetch its files, with its family's
/// event, once.
#[tokio::test]
async fn a_sign_out_at_each_family_tells_the_phone_once_with_its_event() {
    use crate::discovery::{ok_to, phone as sip_phone, receive, WAIT};
    for phone in [&SNOM, &CISCO, &POLY] {
        let (socket, addr) = sip_phone().await;
        let port = addr.port().to_string();
        let server = TestServer::start_with(&[("resync.phone_port", &port)]).await;
        let password = family_first_contact(&server, phone).await;
        server.app.provisioner.flush_seen().await;
        let pin = default_pin(&server, NUMBER).await;
        let logout = service_path(&password, phone.mac, "logout");
        let said = submit(&server, phone, &logout, NUMBER, &pin).await;
        assert!(said.contains("signed out"), "{said}");
        let (notify, from) = receive(&socket, WAIT).await.expect("a NOTIFY");
        assert_eq!(notify.header("Event"), Some(phone.event), "{}", phone.model);
        socket.send_to(&ok_to(&notify), from).await.expect("send");
        assert!(
            receive(&socket, std::time::Duration::from_millis(1500))
                .await
                .is_none(),
            "{}: told once",
            phone.model
        );
    }
}
