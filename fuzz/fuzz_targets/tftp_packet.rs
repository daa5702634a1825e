//! `cargo +nightly fuzz run tftp_packet`: the TFTP codec must never panic, and whatever it parses
//! must encode to bytes that parse to the same packet.
#![no_main]

use autoprov::tftp::packet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = packet::parse(data) {
        let bytes = parsed.to_bytes();
        let again = packet::parse(&bytes).expect("an encoded packet parses");
        assert_eq!(parsed, again);
    }
});
