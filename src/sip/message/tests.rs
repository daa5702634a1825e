use super::*;

/// A Snom phone's PnP SUBSCRIBE, as traced (docs/vendor-formats.md §9).
pub(crate) const SNOM: &str = "SUBSCRIBE sip:MAC%3a00135E874B49@intern.snom.de SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.10.67:5060;rport;branch=z9hG4bK-abc\r\n\
From: <sip:MAC%3a00135E874B49@intern.snom.de>;tag=1234\r\n\
To: <sip:MAC%3a00135E874B49@intern.snom.de>\r\n\
Call-ID: 3c26700e1bb8-abc@snom\r\n\
CSeq: 1 SUBSCRIBE\r\n\
Max-Forwards: 70\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"OEM\";model=\"OEM\";version=\"7.1.19\"\r\n\
Expires: 0\r\n\
Accept: application/url\r\n\
Contact: <sip:192.168.10.67:5060>\r\n\
Content-Length: 0\r\n\r\n";

#[test]
fn parses_a_snom_subscribe() {
    let m = parse(SNOM.as_bytes()).expect("parses");
    assert_eq!(
        m.start,
        StartLine::Request {
            method: "SUBSCRIBE".into(),
            uri: "sip:MAC%3a00135E874B49@intern.snom.de".into()
        }
    );
    assert_eq!(m.header("call-id"), Some("3c26700e1bb8-abc@snom"));
    assert_eq!(m.cseq_method(), Some("SUBSCRIBE"));
    let (event, p) = params(m.header("Event").unwrap());
    assert_eq!(event, "ua-profile");
    assert_eq!(param(&p, "version"), Some("7.1.19"));
    assert_eq!(param(&p, "PROFILE-TYPE"), Some("device"));
    let from = Uri::find(m.header("From").unwrap()).unwrap();
    assert_eq!(from.user.as_deref(), Some("MAC:00135E874B49"));
    assert_eq!(from.host, "intern.snom.de");
    let contact = Uri::find(m.header("Contact").unwrap()).unwrap();
    assert_eq!(
        (contact.host.as_str(), contact.port),
        ("192.168.10.67", Some(5060))
    );
    assert!(m.body.is_empty());
}

#[test]
fn compact_forms_folding_and_bare_line_feeds() {
    let text = "NOTIFY sip:a@b SIP/2.0\nv: SIP/2.0/UDP h;branch=z9hG4bK1\nf: <sip:x@y>;tag=1\n\
t: <sip:a@b>\ni: 42\nCSeq: 7 NOTIFY\no: check-sync;\n reboot=false\nl: 3\n\nabcdef";
    let m = parse(text.as_bytes()).expect("parses");
    assert_eq!(m.header("Via"), Some("SIP/2.0/UDP h;branch=z9hG4bK1"));
    assert_eq!(m.header("Event"), Some("check-sync; reboot=false"));
    assert_eq!(m.body, b"abc", "bytes past Content-Length are ignored");
    let (event, p) = params(m.header("Event").unwrap());
    assert_eq!(
        (event.as_str(), param(&p, "reboot")),
        ("check-sync", Some("false"))
    );
}

#[test]
fn responses() {
    let m = parse(b"SIP/2.0 200 OK\r\nCSeq: 1 NOTIFY\r\nCall-ID: x\r\n\r\n").expect("parses");
    assert_eq!(
        m.start,
        StartLine::Response {
            code: 200,
            reason: "OK".into()
        }
    );
    assert_eq!(m.cseq_method(), Some("NOTIFY"));
    assert_eq!(m.method(), None);
}

#[track_caller]
fn refused(datagram: &[u8], expected: ParseError) {
    assert_eq!(
        parse(datagram),
        Err(expected),
        "{:?}",
        String::from_utf8_lossy(datagram)
    );
}

#[test]
fn broken_datagrams_are_errors_naming_what_is_wrong() {
    refused(b"", ParseError::Empty);
    refused(b"\r\n\r\n", ParseError::Empty);
    refused(
        &vec![b'A'; MAX_DATAGRAM + 1],
        ParseError::TooLong(MAX_DATAGRAM + 1),
    );
    refused(
        b"SUBSCRIBE sip:a@b SIP/2.0\r\nVia: x\r\n",
        ParseError::Unterminated,
    );
    refused(b"\xff\xfe SIP/2.0\r\n\r\n", ParseError::NotText);
    refused(
        b"SUBSCRIBE\r\n\r\n",
        ParseError::StartLine("SUBSCRIBE".into()),
    );
    refused(
        b"subscribe sip:a SIP/2.0\r\n\r\n",
        ParseError::StartLine("subscribe sip:a SIP/2.0".into()),
    );
    refused(
        b"SUBSCRIBE sip:a SIP/3.0\r\n\r\n",
        ParseError::Version("SIP/3.0".into()),
    );
    refused(
        b"SIP/2.0 2000 OK\r\n\r\n",
        ParseError::StartLine("SIP/2.0 2000 OK".into()),
    );
    refused(
        b"SIP/2.0 099 Eh\r\n\r\n",
        ParseError::StartLine("SIP/2.0 099 Eh".into()),
    );
    refused(
        b"SUBSCRIBE sip:a SIP/2.0\r\nno colon\r\n\r\n",
        ParseError::Header("no colon".into()),
    );
    refused(
        b"SUBSCRIBE sip:a SIP/2.0\r\nBad Name: x\r\n\r\n",
        ParseError::Header("Bad Name: x".into()),
    );
    refused(
        b"SUBSCRIBE sip:a SIP/2.0\r\n folded first\r\n\r\n",
        ParseError::Header(" folded first".into()),
    );
    refused(
        b"SUBSCRIBE sip:a SIP/2.0\r\nX: a\x00b\r\n\r\n",
        ParseError::Header("X: a\0b".into()),
    );
    refused(
        b"SIP/2.0 200 OK\r\nContent-Length: -1\r\n\r\n",
        ParseError::ContentLength("-1".into()),
    );
    refused(
        b"SIP/2.0 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        ParseError::Truncated { said: 10, got: 3 },
    );
    refused(
        b"SUBSCRIBE sip:a SIP/2.0\r\nVia: x\r\n\r\n",
        ParseError::Missing("From"),
    );
    let many = format!(
        "SIP/2.0 200 OK\r\n{}\r\n",
        "X: y\r\n".repeat(MAX_HEADERS + 1)
    );
    refused(many.as_bytes(), ParseError::TooManyHeaders);
}

/// Every prefix of a real message, and every message with one byte changed, parses or is an
/// error: never a panic.
#[test]
fn truncations_and_flipped_bytes_never_panic() {
    let bytes = SNOM.as_bytes();
    for n in 0..=bytes.len() {
        let _ = parse(&bytes[..n]);
    }
    for i in 0..bytes.len() {
        for b in [0u8, b'\r', b'\n', b':', b';', b'"', b'<', b'%', 0xff] {
            let mut copy = bytes.to_vec();
            copy[i] = b;
            if let Ok(m) = parse(&copy) {
                for (_, v) in &m.headers {
                    let _ = params(v);
                    let _ = Uri::find(v);
                }
            }
        }
    }
}

proptest::proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn random_header_values_never_panic(value in "\\PC{0,80}") {
        let _ = params(&value);
        let _ = Uri::find(&value);
    }
}

#[test]
fn uris() {
    let check = |text: &str, user: Option<&str>, host: &str, port: Option<u16>| {
        let uri = Uri::find(text).unwrap_or_else(|| panic!("{text}"));
        assert_eq!(
            (uri.user.as_deref(), uri.host.as_str(), uri.port),
            (user, host, port),
            "{text}"
        );
    };
    check(
        "sip:MAC%3AC074AD112233@224.0.1.75",
        Some("MAC:C074AD112233"),
        "224.0.1.75",
        None,
    );
    check(
        "\"x;y\" <sip:MAC=00304fa99948@h:5062;transport=udp>;tag=9",
        Some("MAC=00304fa99948"),
        "h",
        Some(5062),
    );
    check("sip:224.0.1.75:5060", None, "224.0.1.75", Some(5060));
    check("<sip:[fe80::1]:5060>", None, "fe80::1", Some(5060));
    for bad in [
        "tel:+49301234",
        "sip:",
        "sip:a@",
        "sip:a@h:99999",
        "sip:%zz@h",
        "<sip:a@h h>",
    ] {
        assert_eq!(Uri::find(bad), None, "{bad}");
    }
}

#[test]
fn writes_what_it_reads() {
    let out = write(
        "NOTIFY sip:a@b SIP/2.0",
        &[
            ("Via", "SIP/2.0/UDP h;branch=z9hG4bK1"),
            ("From", "<sip:x@y>;tag=1"),
            ("To", "<sip:a@b>"),
            ("Call-ID", "c"),
            ("CSeq", "1 NOTIFY"),
            ("Event", "check-sync\r\nX: injected"),
        ],
        b"hi",
    );
    let m = parse(&out).expect("our own message parses");
    assert_eq!(
        m.header("Event"),
        Some("check-syncX: injected"),
        "no value adds a header"
    );
    assert_eq!(m.header("X"), None);
    assert_eq!(m.body, b"hi");
}
