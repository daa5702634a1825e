use proptest::prelude::*;

use super::*;

fn rrq(name: &str, mode: Mode, options: &[(&str, &str)]) -> Vec<u8> {
    Packet::Rrq(Request {
        filename: name.into(),
        mode,
        options: options
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    })
    .to_bytes()
}

#[test]
fn every_packet_type_round_trips() {
    let request = Request {
        filename: "SEP001565A1B2C3.cnf.xml".into(),
        mode: Mode::Octet,
        options: vec![
            ("blksize".into(), "1428".into()),
            ("tsize".into(), "0".into()),
        ],
    };
    let packets = [
        Packet::Rrq(request.clone()),
        Packet::Wrq(Request {
            mode: Mode::Netascii,
            ..request.clone()
        }),
        Packet::Data {
            block: 65535,
            data: b"hello",
        },
        Packet::Data {
            block: 0,
            data: b"",
        },
        Packet::Ack(7),
        Packet::Error {
            code: ErrorCode::FileNotFound,
            message: "file not found".into(),
        },
        Packet::Error {
            code: ErrorCode::Other(42),
            message: String::new(),
        },
        Packet::Oack(vec![("windowsize".into(), "8".into())]),
    ];
    for packet in packets {
        let bytes = packet.to_bytes();
        assert_eq!(parse(&bytes), Ok(packet.clone()), "{bytes:?}");
    }
}

#[test]
fn wire_layout_is_rfc_1350() {
    assert_eq!(rrq("a", Mode::Octet, &[]), b"\0\x01a\0octet\0");
    assert_eq!(Packet::Ack(0x0102).to_bytes(), b"\0\x04\x01\x02");
    assert_eq!(
        Packet::Error {
            code: ErrorCode::UnknownTid,
            message: "x".into()
        }
        .to_bytes(),
        b"\0\x05\0\x05x\0"
    );
}

#[test]
fn names_and_modes_are_case_insensitive_and_first_option_wins() {
    let packet = parse(b"\0\x01f\0OcTeT\0BLKSIZE\x00512\0blksize\x001024\0").unwrap();
    let Packet::Rrq(r) = packet else { panic!() };
    assert_eq!(r.mode, Mode::Octet);
    assert_eq!(r.options, vec![("blksize".to_string(), "512".to_string())]);
}

#[test]
fn a_stray_extra_nul_is_accepted() {
    // Cisco 7940: `OS79XX.TXT\0octet\0\0`.
    let packet = parse(b"\0\x01OS79XX.TXT\0octet\0\0").unwrap();
    assert!(
        matches!(packet, Packet::Rrq(ref r) if r.filename == "OS79XX.TXT" && r.options.is_empty())
    );
    let packet = parse(b"\0\x01f\0octet\0tsize\x000\0\0\0").unwrap();
    assert!(matches!(packet, Packet::Rrq(ref r) if r.options.len() == 1));
}

#[track_caller]
fn bad(bytes: &[u8], expected: ParseError) {
    assert_eq!(parse(bytes), Err(expected), "{bytes:?}");
}

#[test]
fn malformed_packets_are_errors() {
    bad(b"", ParseError::TooShort);
    bad(b"\0", ParseError::TooShort);
    bad(b"\0\x04\0", ParseError::TooShort);
    bad(b"\0\x03\x01", ParseError::TooShort);
    bad(b"\0\x05\0", ParseError::TooShort);
    bad(b"\0\x04\0\x01\0", ParseError::TrailingBytes);
    bad(b"\0\x00abc", ParseError::UnknownOpcode(0));
    bad(b"\0\x07abc", ParseError::UnknownOpcode(7));
    bad(b"\xff\xff", ParseError::UnknownOpcode(65535));
    bad(b"\0\x01", ParseError::Unterminated("file name"));
    bad(b"\0\x01file", ParseError::Unterminated("file name"));
    bad(b"\0\x01file\0octet", ParseError::Unterminated("mode"));
    bad(b"\0\x01\0octet\0", ParseError::EmptyFilename);
    bad(
        b"\0\x01f\0binary\0",
        ParseError::UnknownMode("binary".into()),
    );
    bad(b"\0\x01f\xff\0octet\0", ParseError::NotText("file name"));
    bad(b"\0\x01f\nx\0octet\0", ParseError::NotText("file name"));
    bad(
        b"\0\x01f\0octet\0blksize\0",
        ParseError::OptionWithoutValue("blksize".into()),
    );
    bad(
        b"\0\x01f\0octet\0blksize\x001428",
        ParseError::Unterminated("option value"),
    );
    bad(
        b"\0\x01f\0octet\0blksize",
        ParseError::Unterminated("option name"),
    );
    bad(
        b"\0\x01f\0octet\0\0junk\0",
        ParseError::NotText("option name"),
    );
    let mut long = b"\0\x01".to_vec();
    long.extend_from_slice(&[b'a'; 256]);
    long.extend_from_slice(b"\0octet\0");
    bad(&long, ParseError::FilenameTooLong);
    let mut huge = b"\0\x01f\0octet\0".to_vec();
    for i in 0..17 {
        huge.extend_from_slice(format!("opt{i}\x001\0").as_bytes());
    }
    bad(&huge, ParseError::TooManyOptions);
    let mut long_opt = b"\0\x01f\0octet\0".to_vec();
    long_opt.extend_from_slice(&[b'x'; 65]);
    long_opt.extend_from_slice(b"\x001\0");
    bad(&long_opt, ParseError::OptionTooLong);
    // Whatever a peer puts in an error message, it is only text.
    assert_eq!(
        parse(b"\0\x05\0\x01oops\xff\n"),
        Ok(Packet::Error {
            code: ErrorCode::FileNotFound,
            message: "oops\u{fffd}".into()
        })
    );
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn random_requests_round_trip(
        name in "[A-Za-z0-9._/-]{1,64}",
        options in proptest::collection::vec(("[a-z]{1,10}", "[0-9]{1,6}"), 0..8),
    ) {
        let mut unique: Vec<(String, String)> = Vec::new();
        for (n, v) in options {
            if !unique.iter().any(|(m, _)| *m == n) {
                unique.push((n, v));
            }
        }
        let packet = Packet::Rrq(Request { filename: name, mode: Mode::Octet, options: unique });
        let bytes = packet.to_bytes();
        prop_assert_eq!(parse(&bytes), Ok(packet));
    }

    #[test]
    fn requests_with_random_tails_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = b"\0\x01file\0octet\0".to_vec();
        bytes.extend_from_slice(&tail);
        let _ = parse(&bytes);
    }
}
