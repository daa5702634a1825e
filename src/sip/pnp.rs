//! SIP PnP (RFC 6080 style, as desk phones do it): what a phone's `SUBSCRIBE` with
//! `Event: ua-profile` says (MAC, vendor, model, firmware), and the two answers — a `200 OK`, then
//! a `NOTIFY` whose body is the provisioning URL. Pure: no IO, no clock (tags and branches are
//! passed in).

use std::net::SocketAddr;

use super::message::{self, param, params, Message, StartLine, Uri};
use crate::model::Mac;

/// A PnP SUBSCRIBE, as much of it as the answer needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscribe {
    pub mac: Mac,
    /// `vendor`, `model` and `version` of the `Event` header, as sent.
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub version: Option<String>,
    pub user_agent: Option<String>,
    /// The Contact URI (where the NOTIFY is addressed) and its port.
    pub contact: String,
    pub contact_port: Option<u16>,
}

/// Why a request is not a PnP SUBSCRIBE we answer: logged at debug level, never answered.
pub fn subscribe(m: &Message) -> Result<Subscribe, &'static str> {
    let StartLine::Request { method, uri } = &m.start else {
        return Err("a response");
    };
    if method != "SUBSCRIBE" {
        return Err("not a SUBSCRIBE");
    }
    let (event, event_params) = params(m.header("Event").ok_or("no Event header")?);
    if !event.eq_ignore_ascii_case("ua-profile") {
        return Err("not Event: ua-profile");
    }
    match param(&event_params, "profile-type") {
        None => {}
        Some(kind) if kind.eq_ignore_ascii_case("device") => {}
        Some(_) => return Err("not profile-type device"),
    }
    // The MAC is in the user part of the Request-URI, or of From (`MAC%3a00135E874B49`).
    let mac = Uri::find(uri)
        .and_then(|u| mac_of(u.user.as_deref()?))
        .or_else(|| mac_of(Uri::find(m.header("From")?)?.user.as_deref()?))
        .ok_or("no MAC in the Request-URI or From")?;
    let contact = m.header("Contact").unwrap_or(uri);
    let contact_uri = Uri::find(contact).ok_or("no sip: Contact")?;
    let text = |name: &str| param(&event_params, name).map(str::to_owned);
    Ok(Subscribe {
        mac,
        vendor: text("vendor"),
        model: text("model"),
        version: text("version"),
        user_agent: m.header("User-Agent").map(str::to_owned),
        contact: bare_uri(contact),
        contact_port: contact_uri.port,
    })
}

/// `MAC:00135E874B49`, `MAC=00304fa99948`, `mac%3a…` decoded, or a bare MAC.
fn mac_of(user: &str) -> Option<Mac> {
    let lower = user.to_ascii_lowercase();
    let digits = lower
        .strip_prefix("mac:")
        .or_else(|| lower.strip_prefix("mac="))
        .unwrap_or(&lower);
    digits.parse().ok()
}

/// The URI of a header value without display name, brackets or header parameters.
fn bare_uri(value: &str) -> String {
    match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => value[a + 1..b].to_owned(),
        _ => value
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

/// The `200 OK` to a SUBSCRIBE: its Via, From, Call-ID and CSeq echoed, its To with our tag, and
/// `Expires: 0` (a one-time subscription, as the phones expect).
pub fn ok(m: &Message, tag: &str) -> Vec<u8> {
    let mut headers: Vec<(&str, String)> = m.all("Via").map(|v| ("Via", v.to_owned())).collect();
    headers.push(("From", m.header("From").unwrap_or_default().to_owned()));
    headers.push(("To", with_tag(m.header("To").unwrap_or_default(), tag)));
    headers.push((
        "Call-ID",
        m.header("Call-ID").unwrap_or_default().to_owned(),
    ));
    headers.push(("CSeq", m.header("CSeq").unwrap_or_default().to_owned()));
    headers.push(("Expires", "0".to_owned()));
    let borrowed: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    message::write("SIP/2.0 200 OK", &borrowed, b"")
}

/// The NOTIFY that ends the subscription and carries `url` (`Content-Type: application/url`),
/// sent from `local` in the dialog the `200 OK` opened.
pub fn notify(
    m: &Message,
    sub: &Subscribe,
    tag: &str,
    branch: &str,
    local: SocketAddr,
    url: &str,
) -> Vec<u8> {
    let via = format!(
        "SIP/2.0/UDP {};branch=z9hG4bK{branch};rport",
        host_port(local)
    );
    let from = with_tag(m.header("To").unwrap_or_default(), tag);
    let contact = format!("<sip:autoprov@{}>", host_port(local));
    let headers = [
        ("Via", via.as_str()),
        ("Max-Forwards", "70"),
        ("From", from.as_str()),
        ("To", m.header("From").unwrap_or_default()),
        ("Call-ID", m.header("Call-ID").unwrap_or_default()),
        ("CSeq", "1 NOTIFY"),
        ("Contact", contact.as_str()),
        ("Event", "ua-profile"),
        ("Subscription-State", "terminated;reason=timeout"),
        ("Content-Type", "application/url"),
    ];
    message::write(
        &format!("NOTIFY {} SIP/2.0", sub.contact),
        &headers,
        url.as_bytes(),
    )
}

fn with_tag(value: &str, tag: &str) -> String {
    let (_, existing) = params(value);
    if param(&existing, "tag").is_some() {
        value.to_owned()
    } else {
        format!("{value};tag={tag}")
    }
}

/// `192.0.2.1:5060` or `[2001:db8::1]:5060`.
pub fn host_port(addr: SocketAddr) -> String {
    addr.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::parse;

    const SNOM: &str = crate::sip::message::tests::SNOM;

    const GRANDSTREAM: &str = "SUBSCRIBE sip:MAC%3AC074AD112233@224.0.1.75 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.9:5080;branch=z9hG4bK1;rport\r\n\
From: <sip:MAC%3AC074AD112233@224.0.1.75>;tag=77\r\n\
To: <sip:MAC%3AC074AD112233@224.0.1.75>\r\n\
Call-ID: 99@10.0.0.9\r\n\
CSeq: 1 SUBSCRIBE\r\n\
Contact: <sip:10.0.0.9:5080>\r\n\
User-Agent: Grandstream GRP2612W 1.0.5.67\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"Grandstream\";model=\"GRP2612W\";version=\"1.0.5.67\"\r\n\
Expires: 0\r\n\
Content-Length: 0\r\n\r\n";

    #[test]
    fn reads_the_phones_subscribes() {
        let snom = subscribe(&parse(SNOM.as_bytes()).unwrap()).unwrap();
        assert_eq!(snom.mac.to_string(), "00135e874b49");
        assert_eq!(snom.vendor.as_deref(), Some("OEM"));
        assert_eq!(
            (snom.contact.as_str(), snom.contact_port),
            ("sip:192.168.10.67:5060", Some(5060))
        );
        let gs = subscribe(&parse(GRANDSTREAM.as_bytes()).unwrap()).unwrap();
        assert_eq!(gs.mac.to_string(), "c074ad112233");
        assert_eq!(gs.model.as_deref(), Some("GRP2612W"));
        assert_eq!(
            gs.user_agent.as_deref(),
            Some("Grandstream GRP2612W 1.0.5.67")
        );
    }

    #[track_caller]
    fn not_pnp(text: &str, why: &str) {
        let m = parse(text.as_bytes()).expect("a SIP message");
        assert_eq!(subscribe(&m), Err(why));
    }

    #[test]
    fn other_requests_are_not_answered() {
        not_pnp(
            &SNOM.replace("SUBSCRIBE sip", "OPTIONS sip"),
            "not a SUBSCRIBE",
        );
        not_pnp(
            &SNOM.replace("ua-profile", "presence"),
            "not Event: ua-profile",
        );
        not_pnp(
            &SNOM.replace("\"device\"", "\"application\""),
            "not profile-type device",
        );
        not_pnp(
            &SNOM.replace("MAC%3a00135E874B49", "alice"),
            "no MAC in the Request-URI or From",
        );
        not_pnp(
            &SNOM.replace("Event: ua-profile", "X-Event: ua-profile"),
            "no Event header",
        );
        not_pnp(
            &SNOM.replace("<sip:192.168.10.67:5060>", "<tel:1>"),
            "no sip: Contact",
        );
        not_pnp("SIP/2.0 200 OK\r\nCSeq: 1 NOTIFY\r\n\r\n", "a response");
    }

    #[test]
    fn answers_echo_the_dialog_and_carry_the_url() {
        let m = parse(SNOM.as_bytes()).unwrap();
        let sub = subscribe(&m).unwrap();
        let ok = parse(&ok(&m, "t1")).expect("our 200 parses");
        assert_eq!(
            ok.start,
            StartLine::Response {
                code: 200,
                reason: "OK".into()
            }
        );
        assert_eq!(ok.header("Via"), m.header("Via"));
        assert_eq!(ok.header("Call-ID"), m.header("Call-ID"));
        assert_eq!(ok.header("CSeq"), Some("1 SUBSCRIBE"));
        assert_eq!(
            ok.header("To"),
            Some("<sip:MAC%3a00135E874B49@intern.snom.de>;tag=t1")
        );
        let local: SocketAddr = "192.168.10.2:5060".parse().unwrap();
        let url = "http://prov.example.com/00135e874b49.xml";
        let n = parse(&notify(&m, &sub, "t1", "b1", local, url)).expect("our NOTIFY parses");
        assert_eq!(
            n.start,
            StartLine::Request {
                method: "NOTIFY".into(),
                uri: "sip:192.168.10.67:5060".into()
            }
        );
        assert_eq!(
            n.header("From"),
            ok.header("To"),
            "the dialog the 200 opened"
        );
        assert_eq!(n.header("To"), m.header("From"));
        assert_eq!(n.header("Event"), Some("ua-profile"));
        assert_eq!(n.header("Content-Type"), Some("application/url"));
        assert_eq!(n.body, url.as_bytes());
    }
}
