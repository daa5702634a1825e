//! Time-zone facts for phones. A site names an IANA zone (`Europe/Berlin`); every vendor wants it
//! in its own notation (an hour offset, a name from its own list, week-based DST rules, a POSIX
//! TZ string). This module derives the vendor-neutral facts once, from the tz database compiled
//! into the binary (so the output does not depend on the host); templates format them.

use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;
use serde::Serialize;

use crate::error::Error;

/// What a phone needs to know about a zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TimeZoneFacts {
    /// The IANA name, e.g. `Europe/Berlin`.
    pub iana: String,
    /// Offset from UTC outside daylight saving time, in seconds east.
    pub std_offset_seconds: i32,
    /// The same as Yealink writes it: `+1`, `-5`, `+5:30`, `0`.
    pub std_offset_hours: String,
    /// `+01:00`.
    pub std_offset_hhmm: String,
    pub std_abbreviation: String,
    /// Daylight saving time, when the zone observes it.
    pub dst: Option<DstRule>,
    /// POSIX TZ string, e.g. `CET-1CEST,M3.5.0/2,M10.5.0/3`.
    pub posix: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DstRule {
    /// Offset from UTC during daylight saving time, in seconds east.
    pub offset_seconds: i32,
    /// How far clocks move, in minutes (usually 60).
    pub save_minutes: i32,
    pub abbreviation: String,
    pub start: Transition,
    pub end: Transition,
}

/// When a change happens, as a rule that repeats every year, in local wall time before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Transition {
    pub month: i8,
    /// Week of the month, 1–4, or 5 for "the last".
    pub week: i8,
    /// 0 = Sunday … 6 = Saturday.
    pub weekday: i8,
    pub hour: i8,
    pub minute: i8,
}

impl TimeZoneFacts {
    /// Facts for `name` as of `now` (the rule in force for the coming year).
    pub fn new(name: &str, now: Timestamp) -> Result<Self, Error> {
        let tz = TimeZone::get(name).map_err(|_| {
            Error::invalid(
                "time_zone",
                format!("{name:?} is not an IANA time zone (e.g. Europe/Berlin)"),
            )
            .coded("time_zone_unknown", [("value", format!("{name:?}"))])
        })?;
        let mut next = tz.following(now);
        let (first, second) = (next.next(), next.next());
        let dst = match (first, second) {
            (Some(a), Some(b)) if a.dst().is_dst() != b.dst().is_dst() => {
                let (start, end) = if a.dst().is_dst() { (a, b) } else { (b, a) };
                let std = end.offset();
                let dst = start.offset();
                Some((
                    std,
                    end.abbreviation().to_owned(),
                    DstRule {
                        offset_seconds: dst.seconds(),
                        save_minutes: (dst.seconds() - std.seconds()) / 60,
                        abbreviation: start.abbreviation().to_owned(),
                        start: Transition::at(start.timestamp(), std),
                        end: Transition::at(end.timestamp(), dst),
                    },
                ))
            }
            _ => None,
        };
        let (std, std_abbreviation, dst) = match dst {
            Some((std, abbr, rule)) => (std, abbr, Some(rule)),
            None => {
                let info = tz.to_offset_info(now);
                (info.offset(), info.abbreviation().to_owned(), None)
            }
        };
        let posix = posix_string(&std_abbreviation, std, dst.as_ref());
        Ok(TimeZoneFacts {
            iana: name.to_owned(),
            std_offset_seconds: std.seconds(),
            std_offset_hours: hours(std.seconds()),
            std_offset_hhmm: hhmm(std.seconds()),
            std_abbreviation,
            dst,
            posix,
        })
    }
}

impl Transition {
    fn at(ts: Timestamp, offset_before: Offset) -> Transition {
        let local = offset_before.to_datetime(ts);
        let day = local.day();
        let week = if day + 7 > local.days_in_month() {
            5
        } else {
            (day - 1) / 7 + 1
        };
        Transition {
            month: local.month(),
            week,
            weekday: local.weekday().to_sunday_zero_offset(),
            hour: local.hour(),
            minute: local.minute(),
        }
    }
}

/// `+1`, `-5`, `+5:30`, `0`.
fn hours(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.abs() / 60;
    match (minutes / 60, minutes % 60) {
        (0, 0) => "0".to_owned(),
        (h, 0) => format!("{sign}{h}"),
        (h, m) => format!("{sign}{h}:{m:02}"),
    }
}

/// `+01:00`.
fn hhmm(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// POSIX writes offsets west of UTC as positive: CET (UTC+1) is `CET-1`.
fn posix_string(std_abbr: &str, std: Offset, dst: Option<&DstRule>) -> String {
    fn name(abbr: &str) -> String {
        if abbr.chars().all(|c| c.is_ascii_alphabetic()) && abbr.len() >= 3 {
            abbr.to_owned()
        } else {
            format!("<{abbr}>")
        }
    }
    fn offset(seconds: i32) -> String {
        let west = -seconds;
        let sign = if west < 0 { "-" } else { "" };
        let minutes = west.abs() / 60;
        match minutes % 60 {
            0 => format!("{sign}{}", minutes / 60),
            m => format!("{sign}{}:{m:02}", minutes / 60),
        }
    }
    fn rule(t: &Transition) -> String {
        let time = match t.minute {
            0 => format!("{}", t.hour),
            m => format!("{}:{m:02}", t.hour),
        };
        format!("M{}.{}.{}/{time}", t.month, t.week, t.weekday)
    }
    let mut out = format!("{}{}", name(std_abbr), offset(std.seconds()));
    if let Some(d) = dst {
        out.push_str(&name(&d.abbreviation));
        if d.save_minutes != 60 {
            out.push_str(&offset(d.offset_seconds));
        }
        out.push_str(&format!(",{},{}", rule(&d.start), rule(&d.end)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(name: &str) -> TimeZoneFacts {
        let now: Timestamp = "2026-01-15T12:00:00Z".parse().unwrap();
        TimeZoneFacts::new(name, now).unwrap()
    }

    #[test]
    fn berlin_has_eu_rules() {
        let f = facts("Europe/Berlin");
        assert_eq!(f.std_offset_hours, "+1");
        assert_eq!(f.std_offset_hhmm, "+01:00");
        assert_eq!(f.posix, "CET-1CEST,M3.5.0/2,M10.5.0/3");
        let dst = f.dst.unwrap();
        assert_eq!(dst.save_minutes, 60);
        assert_eq!(
            (dst.start.month, dst.start.week, dst.start.weekday),
            (3, 5, 0)
        );
    }

    #[test]
    fn new_york_kolkata_utc() {
        assert_eq!(
            facts("America/New_York").posix,
            "EST5EDT,M3.2.0/2,M11.1.0/2"
        );
        let kolkata = facts("Asia/Kolkata");
        assert_eq!(kolkata.std_offset_hours, "+5:30");
        assert_eq!(kolkata.posix, "IST-5:30");
        assert!(kolkata.dst.is_none());
        assert_eq!(facts("UTC").std_offset_hours, "0");
    }

    #[test]
    fn unknown_zone_is_named() {
        let err = TimeZoneFacts::new("Mars/Olympus", Timestamp::UNIX_EPOCH).unwrap_err();
        assert!(err.to_string().contains("Mars/Olympus"), "{err}");
    }
}
