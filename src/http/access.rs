//! The phone path's access line: one line per answered file request (`served`), with the same
//! fields, target and layout as a `tracing` event of the formatter the CLI installs, but made
//! without it.
//!
//! The server's busiest path is a cached file; formatting its line through `tracing`'s
//! formatter (span walk, field visitors, a new buffer and a queue message per line, one write
//! per line on the writer's thread) cost about a third of such a request's instructions. Here a
//! line is appended to one shared buffer (the timestamp's date and time text is made once per
//! second), and a flusher thread hands the buffer to the log writer every few milliseconds, or
//! at once when it is large: one write for many lines. No line is dropped: when the writer
//! falls far behind, a request waits for room.
//!
//! [`AccessLog::default`] (a library user, the tests' in-process servers, a terminal) emits the
//! `tracing` event itself; `autoprov serve` with its log on a file or pipe uses
//! [`AccessLog::direct`]. Either way the line is written only when the filter lets `info` of
//! `autoprov::http` through.

use std::io::Write;
use std::net::IpAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use crate::model::Mac;

/// The fields of one access line.
pub struct Served<'a> {
    /// The MAC the request was identified as, if any.
    pub mac: Option<Mac>,
    pub file: &'a str,
    pub status: u16,
    /// Why a request was not answered with its file (`unknown device`), or empty.
    pub reason: &'a str,
    /// How the phone proved who it is (`certificate`, `digest`, …), or empty.
    pub decision: &'a str,
    pub tls: bool,
    pub peer: IpAddr,
    /// Milliseconds, two decimals (`model::millis`).
    pub ms: f64,
}

/// Where access lines go: through `tracing` (the default) or straight to the log writer.
#[derive(Clone, Default)]
pub struct AccessLog(Option<Arc<Direct>>);

/// How often the flusher hands what has gathered to the writer; and how much makes it do so at
/// once, and how much makes a request wait for it.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
const FLUSH_AT: usize = 64 * 1024;
const WAIT_AT: usize = 8 * 1024 * 1024;

struct Direct {
    json: bool,
    state: Mutex<Pending>,
    /// Wakes the flusher (a large buffer, or the end).
    flush: Condvar,
    /// Wakes requests waiting for room.
    room: Condvar,
}

#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    /// The second `second_text` shows (`2026-12-02T14:58:27`), in seconds since 1970.
    second: u64,
    second_text: String,
    stop: bool,
}

/// Runs the flusher thread; dropping it writes what is pending and stops the thread. Keep it
/// until the server has stopped, and drop it before the log writer's own guard.
pub struct Flusher {
    direct: Arc<Direct>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AccessLog {
    /// Lines formatted here and written to `out` in batches, by a thread of their own. `json`
    /// picks the JSON layout (`log_format = "json"`), else the human one.
    pub fn direct<W: Write + Send + 'static>(
        out: W,
        json: bool,
    ) -> std::io::Result<(AccessLog, Flusher)> {
        let direct = Arc::new(Direct {
            json,
            state: Mutex::new(Pending::default()),
            flush: Condvar::new(),
            room: Condvar::new(),
        });
        let shared = direct.clone();
        let thread = std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || flush_loop(&shared, out))?;
        Ok((
            AccessLog(Some(direct.clone())),
            Flusher {
                direct,
                thread: Some(thread),
            },
        ))
    }

    /// One line for an answered request.
    pub fn served(&self, line: &Served<'_>) {
        if !tracing::enabled!(target: "autoprov::http", tracing::Level::INFO) {
            return;
        }
        let Some(direct) = &self.0 else {
            tracing::info!(
                target: "autoprov::http",
                mac = line.mac.map(|m| m.to_string()).unwrap_or_default(),
                file = %line.file,
                status = line.status,
                reason = line.reason,
                decision = line.decision,
                tls = line.tls,
                peer = %line.peer,
                ms = line.ms,
                "served"
            );
            return;
        };
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let mut state = direct.lock();
        while state.lines.len() >= WAIT_AT && !state.stop {
            direct.flush.notify_one();
            state = direct
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let Pending {
            lines,
            second,
            second_text,
            ..
        } = &mut *state;
        if *second != now.as_secs() || second_text.is_empty() {
            *second = now.as_secs();
            *second_text = second_text_of(now.as_secs());
        }
        let micros = now.subsec_micros();
        if direct.json {
            json_line(lines, second_text, micros, line);
        } else {
            human_line(lines, second_text, micros, line);
        }
        if lines.len() >= FLUSH_AT {
            direct.flush.notify_one();
        }
    }
}

impl Direct {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.direct.lock().stop = true;
        self.direct.flush.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn flush_loop<W: Write>(direct: &Direct, mut out: W) {
    let mut batch = Vec::new();
    loop {
        let stop = {
            let mut state = direct.lock();
            if state.lines.len() < FLUSH_AT && !state.stop {
                state = direct
                    .flush
                    .wait_timeout(state, FLUSH_EVERY)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            std::mem::swap(&mut batch, &mut state.lines);
            direct.room.notify_all();
            state.stop
        };
        if !batch.is_empty() {
            // The log is all there is to tell of a failed write to the log.
            let _ = out.write_all(&batch);
            let _ = out.flush();
            batch.clear();
        }
        if stop {
            return;
        }
    }
}

/// `2026-12-02T14:58:27`: the part of an RFC 3339 timestamp that is the same all second.
fn second_text_of(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|s| jiff::Timestamp::from_second(s).ok())
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_else(|| "1970-01-01T00:00:00".to_owned())
}

/// The layout of `tracing_subscriber`'s full formatter without colours:
/// `2026-12-02T14:58:27.123456Z  INFO autoprov::http: served mac="…" file=… status=200 …`.
/// Written piece by piece: `format!`'s machinery cost more than the rest of the line.
fn human_line(out: &mut Vec<u8>, second: &str, micros: u32, l: &Served<'_>) {
    timestamp(out, second, micros);
    out.extend_from_slice(b"  INFO autoprov::http: served mac=\"");
    mac(out, l.mac);
    out.extend_from_slice(b"\" file=");
    out.extend_from_slice(l.file.as_bytes());
    out.extend_from_slice(b" status=");
    number(out, u64::from(l.status));
    out.extend_from_slice(b" reason=");
    quoted(out, l.reason);
    out.extend_from_slice(b" decision=");
    quoted(out, l.decision);
    out.extend_from_slice(if l.tls {
        b" tls=true peer="
    } else {
        b" tls=false peer="
    });
    ip(out, l.peer);
    out.extend_from_slice(b" ms=");
    millis(out, l.ms);
    out.push(b'\n');
}

/// The layout of `tracing_subscriber`'s JSON formatter.
fn json_line(out: &mut Vec<u8>, second: &str, micros: u32, l: &Served<'_>) {
    out.extend_from_slice(b"{\"timestamp\":\"");
    timestamp(out, second, micros);
    out.extend_from_slice(b"\",\"level\":\"INFO\",\"fields\":{\"message\":\"served\",\"mac\":\"");
    mac(out, l.mac);
    out.extend_from_slice(b"\",\"file\":");
    json_text(out, l.file);
    out.extend_from_slice(b",\"status\":");
    number(out, u64::from(l.status));
    out.extend_from_slice(b",\"reason\":");
    json_text(out, l.reason);
    out.extend_from_slice(b",\"decision\":");
    json_text(out, l.decision);
    out.extend_from_slice(if l.tls {
        b",\"tls\":true,\"peer\":\""
    } else {
        b",\"tls\":false,\"peer\":\""
    });
    ip(out, l.peer);
    out.extend_from_slice(b"\",\"ms\":");
    millis(out, l.ms);
    out.extend_from_slice(b"},\"target\":\"autoprov::http\"}\n");
}

/// `2026-12-02T14:58:27.000042Z`.
fn timestamp(out: &mut Vec<u8>, second: &str, micros: u32) {
    out.extend_from_slice(second.as_bytes());
    out.push(b'.');
    let mut digits = [b'0'; 6];
    let mut rest = micros;
    for d in digits.iter_mut().rev() {
        *d = digit(rest);
        rest /= 10;
    }
    out.extend_from_slice(&digits);
    out.push(b'Z');
}

/// The last decimal digit of `n`, as text.
fn digit(n: impl Into<u64>) -> u8 {
    b"0123456789"[(n.into() % 10) as usize]
}

/// A MAC as twelve lower-case hex digits, or nothing.
fn mac(out: &mut Vec<u8>, mac: Option<Mac>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    if let Some(mac) = mac {
        for b in mac.bytes() {
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        }
    }
}

fn number(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = digit(rest);
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Milliseconds with at most two decimals, as `f64`'s `Display` shows them (`6.3`, `0.25`,
/// `12`).
fn millis(out: &mut Vec<u8>, ms: f64) {
    if !(0.0..1e15).contains(&ms) {
        let _ = write!(out, "{ms}");
        return;
    }
    // Below 1e17: well inside u64.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let hundredths = (ms * 100.0).round() as u64;
    number(out, hundredths / 100);
    let fraction = hundredths % 100;
    if fraction != 0 {
        out.push(b'.');
        out.push(digit(fraction / 10));
        if fraction % 10 != 0 {
            out.push(digit(fraction));
        }
    }
}

fn ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                number(out, u64::from(octet));
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

/// A text as `Debug` shows it: quoted, escaped where it needs to be.
fn quoted(out: &mut Vec<u8>, text: &str) {
    if text
        .bytes()
        .all(|b| (b' '..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        let _ = write!(out, "{text:?}");
    }
}

fn json_text(out: &mut Vec<u8>, text: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> Served<'static> {
        Served {
            mac: Some("00:15:65:a1:b2:c3".parse().unwrap()),
            file: "001565a1b2c3.cfg",
            status: 200,
            reason: "",
            decision: "certificate",
            tls: true,
            peer: "192.0.2.7".parse().unwrap(),
            ms: 0.25,
        }
    }

    #[test]
    fn the_human_line_has_every_field_as_the_tracing_formatter_writes_it() {
        let mut out = Vec::new();
        human_line(&mut out, "2026-12-02T14:58:27", 42, &line());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2026-12-02T14:58:27.000042Z  INFO autoprov::http: served mac=\"001565a1b2c3\" \
             file=001565a1b2c3.cfg status=200 reason=\"\" decision=\"certificate\" tls=true \
             peer=192.0.2.7 ms=0.25\n"
        );
    }

    #[test]
    fn the_json_line_is_one_json_object_with_the_fields_escaped() {
        let mut out = Vec::new();
        let mut l = line();
        l.file = "a\"b\n.cfg";
        json_line(&mut out, "2026-12-02T14:58:27", 42, &l);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with('\n') && text.matches('\n').count() == 1,
            "{text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["timestamp"], "2026-12-02T14:58:27.000042Z");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["target"], "autoprov::http");
        assert_eq!(v["fields"]["message"], "served");
        assert_eq!(v["fields"]["file"], "a\"b\n.cfg");
        assert_eq!(v["fields"]["status"], 200);
        assert_eq!(v["fields"]["tls"], true);
        assert_eq!(v["fields"]["peer"], "192.0.2.7");
        assert_eq!(v["fields"]["ms"], 0.25);
    }

    #[test]
    fn numbers_and_addresses_read_as_their_display_does() {
        for ms in [0.0, 0.01, 0.1, 0.25, 6.3, 12.0, 1234.56, 99.99, 100.5] {
            let mut out = Vec::new();
            millis(
                &mut out,
                crate::model::millis(std::time::Duration::from_secs_f64(ms / 1000.0)),
            );
            let want = crate::model::millis(std::time::Duration::from_secs_f64(ms / 1000.0));
            assert_eq!(String::from_utf8(out).unwrap(), want.to_string());
        }
        for ip in [
            "0.0.0.0",
            "255.255.255.255",
            "10.1.20.3",
            "2001:db8::7",
            "::1",
        ] {
            let mut out = Vec::new();
            super::ip(&mut out, ip.parse().unwrap());
            assert_eq!(String::from_utf8(out).unwrap(), ip);
        }
        for n in [0, 7, 10, 404, u64::MAX] {
            let mut out = Vec::new();
            number(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
        for text in ["", "unknown MAC", "a\"b", "tab\there", "ü"] {
            let mut out = Vec::new();
            quoted(&mut out, text);
            assert_eq!(String::from_utf8(out).unwrap(), format!("{text:?}"));
        }
    }

    #[test]
    fn the_second_text_is_utc() {
        assert_eq!(second_text_of(0), "1970-01-01T00:00:00");
        assert_eq!(second_text_of(1_796_223_507), "2026-12-02T14:58:27");
    }

    /// A writer the test can read while the flusher owns it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_reaches_the_writer_by_the_time_the_flusher_is_dropped() {
        let out = Shared::default();
        let (log, flusher) = AccessLog::direct(out.clone(), false).unwrap();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(std::io::sink)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..10_000 {
                log.served(&line());
            }
        });
        drop(flusher);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 10_000);
        assert!(
            text.lines().all(|l| l.ends_with("ms=0.25")),
            "whole lines only"
        );
    }

    #[test]
    fn nothing_is_written_when_the_filter_keeps_info_out() {
        let out = Shared::default();
        let (log, flusher) = AccessLog::direct(out.clone(), false).unwrap();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_writer(std::io::sink)
            .finish();
        tracing::subscriber::with_default(subscriber, || log.served(&line()));
        drop(flusher);
        assert!(out.0.lock().unwrap().is_empty());
    }
}
