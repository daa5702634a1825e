//! Schedules (portal seed 000): named weekly opening hours and named holiday lists, and the
//! question group night forwarding asks of them — is night service in force at an instant, and
//! until when — answered by the wall clock of the site's zone, so a DST change moves the instant
//! an opening hour starts, never the hour itself.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::Error;

text_enum!(
    /// What a schedule holds: weekly `opening-hours` or a list of `holidays`.
    ScheduleKind, "kind" {
        OpeningHours = "opening-hours",
        Holidays = "holidays",
    }
);

/// Time ranges per weekday, `HH:MM-HH:MM` (end after start; `24:00` ends at midnight), in the
/// site's time zone. A day without ranges is closed all day.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHours {
    #[serde(default)]
    pub monday: Vec<String>,
    #[serde(default)]
    pub tuesday: Vec<String>,
    #[serde(default)]
    pub wednesday: Vec<String>,
    #[serde(default)]
    pub thursday: Vec<String>,
    #[serde(default)]
    pub friday: Vec<String>,
    #[serde(default)]
    pub saturday: Vec<String>,
    #[serde(default)]
    pub sunday: Vec<String>,
}

/// A holiday: one date (`from`, or `date`), or a range `from`..=`to`; `every_year` repeats it on
/// the same days each year (a range may wrap the year's end: 12-24 to 01-01).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayEntry {
    /// `YYYY-MM-DD`.
    #[serde(alias = "date")]
    #[schema(example = "2026-12-24")]
    pub from: String,
    /// `YYYY-MM-DD`, inclusive; absent: the one day `from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default)]
    pub every_year: bool,
}

/// A named schedule of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Schedule {
    pub id: i64,
    pub name: String,
    pub kind: ScheduleKind,
    /// Opening hours (kind `opening-hours`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<WeeklyHours>,
    /// Holidays (kind `holidays`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<HolidayEntry>,
}

/// The days of a week as opening hours name them, Monday first.
pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

text_enum!(
    /// Group night forwarding: `off`, `on` (forward everything now) or `automatic` (outside the
    /// opening hours and on the holidays of its schedules).
    NightMode, "mode" {
        Off = "off",
        On = "on",
        Automatic = "automatic",
    }
);

text_enum!(
    /// Where night service sends calls: the group `voicemail` or an `auto-attendant` (a
    /// destination).
    NightTarget, "target" {
        Voicemail = "voicemail",
        AutoAttendant = "auto-attendant",
    }
);

/// Group night forwarding of a tenant, or of one of its sites.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NightService {
    /// The site it is for; none: the tenant's (every site without its own).
    pub site: Option<String>,
    pub mode: NightMode,
    /// The opening-hours schedule of `automatic`, by name.
    pub hours: Option<String>,
    /// The holiday list of `automatic`, by name.
    pub holidays: Option<String>,
    pub target: NightTarget,
    /// The auto-attendant's number (E.164) or extension.
    pub destination: Option<String>,
}

/// A week as minutes of the day, Monday first: sorted ranges `[start, end)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Week([Vec<(u16, u16)>; 7]);

impl WeeklyHours {
    fn days(&self) -> [&Vec<String>; 7] {
        [
            &self.monday,
            &self.tuesday,
            &self.wednesday,
            &self.thursday,
            &self.friday,
            &self.saturday,
            &self.sunday,
        ]
    }

    /// The week these hours describe; a bad range or two that overlap are named with their day.
    pub fn parse(&self) -> Result<Week, Error> {
        let mut week = Week::default();
        for (i, texts) in self.days().into_iter().enumerate() {
            let mut ranges = texts
                .iter()
                .map(|t| parse_range(WEEKDAYS[i], t))
                .collect::<Result<Vec<_>, _>>()?;
            ranges.sort();
            for pair in ranges.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                if b.0 < a.1 {
                    return Err(Error::invalid(
                        "hours",
                        format!(
                            "{}: {} overlaps {}",
                            WEEKDAYS[i],
                            show_range(a),
                            show_range(b)
                        ),
                    )
                    .coded(
                        "hours_overlap",
                        [
                            ("day", WEEKDAYS[i].to_owned()),
                            ("range", show_range(a)),
                            ("other", show_range(b)),
                        ],
                    ));
                }
            }
            week.0[i] = ranges;
        }
        Ok(week)
    }

    /// The same hours written as the API shows them (`08:00-12:00`, sorted).
    pub fn normalized(&self) -> Result<WeeklyHours, Error> {
        let week = self.parse()?;
        let show = |i: usize| week.0[i].iter().map(|r| show_range(*r)).collect();
        Ok(WeeklyHours {
            monday: show(0),
            tuesday: show(1),
            wednesday: show(2),
            thursday: show(3),
            friday: show(4),
            saturday: show(5),
            sunday: show(6),
        })
    }
}

fn parse_range(day: &str, text: &str) -> Result<(u16, u16), Error> {
    let bad = |why: &str| Error::invalid("hours", format!("{day}: {text:?} {why}"));
    let (day_, value) = (day.to_owned(), format!("{text:?}"));
    let (a, b) = text.trim().split_once('-').ok_or_else(|| {
        bad("is not a range like 08:00-12:00").coded(
            "hours_not_range",
            [("day", day_.clone()), ("value", value.clone())],
        )
    })?;
    let minutes = |t: &str| -> Option<u16> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        let total = h * 60 + m;
        (h <= 24 && m < 60 && total <= 1440).then_some(total)
    };
    let (Some(start), Some(end)) = (minutes(a), minutes(b)) else {
        return Err(bad("is not a range like 08:00-12:00 (00:00 to 24:00)")
            .coded("hours_not_range", [("day", day_), ("value", value)]));
    };
    if end <= start {
        return Err(bad("ends before it starts")
            .coded("hours_backwards", [("day", day_), ("value", value)]));
    }
    Ok((start, end))
}

fn show_range((a, b): (u16, u16)) -> String {
    format!("{:02}:{:02}-{:02}:{:02}", a / 60, a % 60, b / 60, b % 60)
}

/// A holiday as dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holiday {
    from: Date,
    to: Date,
    every_year: bool,
}

impl HolidayEntry {
    pub fn parse(&self) -> Result<Holiday, Error> {
        let date = |field: &'static str, text: &str| -> Result<Date, Error> {
            text.trim().parse::<Date>().map_err(|_| {
                Error::invalid(
                    "holidays",
                    format!("{field} {text:?} is not a date like 2026-12-24"),
                )
                .coded("holiday_not_date", [("value", format!("{text:?}"))])
            })
        };
        let from = date("from", &self.from)?;
        let to = match &self.to {
            Some(to) => date("to", to)?,
            None => from,
        };
        if !self.every_year && to < from {
            return Err(Error::invalid(
                "holidays",
                format!("{to} is before {from}: a holiday range ends on or after its first day"),
            )
            .coded(
                "holiday_backwards",
                [("from", from.to_string()), ("to", to.to_string())],
            ));
        }
        Ok(Holiday {
            from,
            to,
            every_year: self.every_year,
        })
    }
}

impl Holiday {
    fn contains(&self, day: Date) -> bool {
        if !self.every_year {
            return self.from <= day && day <= self.to;
        }
        let md = |d: Date| (d.month(), d.day());
        let (a, b, d) = (md(self.from), md(self.to), md(day));
        if a <= b {
            a <= d && d <= b
        } else {
            d >= a || d <= b
        }
    }
}

/// How far ahead `NightCalendar::status` looks for the next change.
const HORIZON_DAYS: i64 = 400;

/// When automatic night service is in force: outside the week's opening hours, and all day on
/// the holidays.
#[derive(Clone, Debug, Default)]
pub struct NightCalendar {
    pub week: Week,
    pub holidays: Vec<Holiday>,
}

impl NightCalendar {
    /// Whether night service is in force at the wall-clock time `local`.
    pub fn in_force_at(&self, local: DateTime) -> bool {
        let date = local.date();
        if self.holidays.iter().any(|h| h.contains(date)) {
            return true;
        }
        let day = usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0);
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        !self.week.0[day]
            .iter()
            .any(|&(a, b)| a <= minute && minute < b)
    }

    /// Whether night service is in force at `now` in `tz`, and the next instant that changes
    /// (none within a year and a month: until further notice). The state can only change where
    /// the wall clock passes a range's start or end or a midnight, or where it jumps (a DST
    /// change); every such instant is a candidate, both of an hour that happens twice.
    pub fn status(&self, tz: &TimeZone, now: Timestamp) -> (bool, Option<Timestamp>) {
        let at = |ts: Timestamp| self.in_force_at(tz.to_datetime(ts));
        let state = at(now);
        let today = tz.to_datetime(now).date();
        let mut candidates: Vec<Timestamp> = Vec::new();
        let mut day = today;
        for _ in 0..HORIZON_DAYS {
            let i = usize::try_from(day.weekday().to_monday_zero_offset()).unwrap_or(0);
            let marks = std::iter::once(0).chain(
                self.week.0[i]
                    .iter()
                    .flat_map(|&(a, b)| [a, b])
                    .filter(|&m| m < 1440),
            );
            for minute in marks {
                let local = day.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
                let amb = tz.to_ambiguous_timestamp(local);
                candidates.extend(amb.earlier().ok());
                candidates.extend(amb.later().ok());
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        let end = candidates.iter().max().copied().unwrap_or(now);
        candidates.extend(
            tz.following(now)
                .map(|t| t.timestamp())
                .take_while(|t| *t <= end),
        );
        candidates.retain(|c| *c > now);
        candidates.sort();
        let until = candidates.into_iter().find(|c| at(*c) != state);
        (state, until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// Office hours Monday to Friday 08:00-18:00, Saturday 09:00-12:00.
    fn office() -> NightCalendar {
        let day = || vec!["08:00-18:00".to_owned()];
        let hours = WeeklyHours {
            monday: day(),
            tuesday: day(),
            wednesday: day(),
            thursday: day(),
            friday: day(),
            saturday: vec!["09:00-12:00".into()],
            sunday: vec![],
        };
        NightCalendar {
            week: hours.parse().unwrap(),
            holidays: vec![],
        }
    }

    #[test]
    fn overlapping_ranges_name_the_day_and_both_ranges() {
        let hours = WeeklyHours {
            tuesday: vec!["11:00-14:00".into(), "08:00-12:00".into()],
            ..Default::default()
        };
        let err = hours.parse().unwrap_err().to_string();
        assert!(
            err.contains("tuesday: 08:00-12:00 overlaps 11:00-14:00"),
            "{err}"
        );
        let touching = WeeklyHours {
            monday: vec!["08:00-12:00".into(), "12:00-24:00".into()],
            ..Default::default()
        };
        assert!(touching.parse().is_ok());
        for bad in [
            "8-12",
            "12:00-08:00",
            "08:00-24:30",
            "25:00-26:00",
            "08:60-09:00",
        ] {
            let hours = WeeklyHours {
                friday: vec![bad.into()],
                ..Default::default()
            };
            let err = hours.parse().unwrap_err().to_string();
            assert!(err.contains("friday") && err.contains(bad), "{err}");
        }
    }

    #[test]
    fn march_change_moves_the_instant_not_the_hour() {
        // Saturday 28 March 2026, 13:00 CET: closed until Monday 08:00, which is CEST by then.
        let (on, until) = office().status(&berlin(), ts("2026-03-28T12:00:00Z"));
        assert!(on);
        assert_eq!(until, Some(ts("2026-03-30T06:00:00Z")));
        // The Friday before: 08:00 CET is 07:00 UTC.
        let (on, until) = office().status(&berlin(), ts("2026-03-27T05:00:00Z"));
        assert!(on);
        assert_eq!(until, Some(ts("2026-03-27T07:00:00Z")));
    }

    #[test]
    fn october_change_moves_it_back() {
        // Saturday 24 October 2026 after 12:00 CEST: closed until Monday 08:00 CET = 07:00 UTC.
        let (on, until) = office().status(&berlin(), ts("2026-10-24T11:00:00Z"));
        assert!(on);
        assert_eq!(until, Some(ts("2026-10-26T07:00:00Z")));
        // Open on Friday 23 October until 18:00 CEST = 16:00 UTC.
        let (on, until) = office().status(&berlin(), ts("2026-10-23T09:00:00Z"));
        assert!(!on);
        assert_eq!(until, Some(ts("2026-10-23T16:00:00Z")));
    }

    #[test]
    fn a_range_ending_in_the_skipped_hour_ends_when_the_clock_jumps() {
        // Sunday 29 March 2026 01:00-02:30: 02:00 CET jumps to 03:00 CEST (01:00 UTC), past
        // 02:30, so the range ends at the jump.
        let cal = NightCalendar {
            week: WeeklyHours {
                sunday: vec!["01:00-02:30".into()],
                ..Default::default()
            }
            .parse()
            .unwrap(),
            holidays: vec![],
        };
        let (on, until) = cal.status(&berlin(), ts("2026-03-29T00:30:00Z"));
        assert!(!on, "01:30 CET is open");
        assert_eq!(until, Some(ts("2026-03-29T01:00:00Z")));
        // In October the hour 02:00-03:00 happens twice: the wall clock is open in both.
        let cal = NightCalendar {
            week: WeeklyHours {
                sunday: vec!["02:00-02:30".into()],
                ..Default::default()
            }
            .parse()
            .unwrap(),
            holidays: vec![],
        };
        // 02:00 CEST = 00:00 UTC; closes 02:30 CEST = 00:30 UTC, opens again 02:00 CET.
        let (on, until) = cal.status(&berlin(), ts("2026-10-25T00:10:00Z"));
        assert!(!on);
        assert_eq!(until, Some(ts("2026-10-25T00:30:00Z")));
        let (on, until) = cal.status(&berlin(), ts("2026-10-25T00:40:00Z"));
        assert!(on);
        assert_eq!(until, Some(ts("2026-10-25T01:00:00Z")));
    }

    #[test]
    fn holidays_recurring_and_ranges() {
        let mut cal = office();
        let entry = |from: &str, to: Option<&str>, every_year| HolidayEntry {
            from: from.into(),
            to: to.map(Into::into),
            every_year,
        };
        cal.holidays = vec![
            // Christmas to New Year, every year, across the year's end.
            entry("2020-12-24", Some("2021-01-01"), true)
                .parse()
                .unwrap(),
            // Labour day, every year.
            entry("2020-05-01", None, true).parse().unwrap(),
            // A one-off range: the office move.
            entry("2026-06-08", Some("2026-06-09"), false)
                .parse()
                .unwrap(),
        ];
        // Friday 1 May 2026 10:00 CEST, a working day's hours: night service all day, until
        // Saturday 2 May 09:00 CEST.
        let (on, until) = cal.status(&berlin(), ts("2026-05-01T08:00:00Z"));
        assert!(on);
        assert_eq!(until, Some(ts("2026-05-02T07:00:00Z")));
        // Wednesday 23 December 2026 10:00 CET: open until 18:00; then closed until Saturday
        // 2 January 2027 09:00 CET (24 Dec – 1 Jan are holidays).
        let (on, until) = cal.status(&berlin(), ts("2026-12-23T09:00:00Z"));
        assert!(!on);
        assert_eq!(until, Some(ts("2026-12-23T17:00:00Z")));
        let (on, until) = cal.status(&berlin(), ts("2026-12-23T18:00:00Z"));
        assert!(on);
        assert_eq!(until, Some(ts("2027-01-02T08:00:00Z")));
        // The one-off range: Monday 8 June 2026 is closed, Wednesday 10 June 08:00 opens.
        let (on, until) = cal.status(&berlin(), ts("2026-06-08T10:00:00Z"));
        assert!(on);
        assert_eq!(until, Some(ts("2026-06-10T06:00:00Z")));
        // ... and 2027's 8 June is a working day.
        let (on, _) = cal.status(&berlin(), ts("2027-06-08T10:00:00Z"));
        assert!(!on);
    }

    #[test]
    fn bad_holidays_are_named() {
        let err = HolidayEntry {
            from: "2026-12-26".into(),
            to: Some("2026-12-24".into()),
            every_year: false,
        }
        .parse()
        .unwrap_err()
        .to_string();
        assert!(err.contains("2026-12-24 is before 2026-12-26"), "{err}");
        let err = HolidayEntry {
            from: "24.12.2026".into(),
            to: None,
            every_year: true,
        }
        .parse()
        .unwrap_err()
        .to_string();
        assert!(err.contains("\"24.12.2026\" is not a date"), "{err}");
    }

    #[test]
    fn no_opening_hours_means_always_in_force() {
        let cal = NightCalendar::default();
        assert_eq!(
            cal.status(&berlin(), ts("2026-03-28T12:00:00Z")),
            (true, None)
        );
    }
}
