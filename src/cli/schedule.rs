//! `autoprov schedule` and `autoprov night-service`: opening hours, holiday lists, and group
//! night forwarding of a tenant or a site.

use autoprov::admin::{Admin, NightServiceInput, NightStatus, ScheduleInput};
use autoprov::model::{HolidayEntry, ListQuery, Schedule, WeeklyHours, LIST_MAX};
use clap::{Args, Subcommand};

use super::{Output, TenantArg};

#[derive(Subcommand, Debug)]
pub(super) enum ScheduleCmd {
    /// Add a schedule: opening hours (--day) or a holiday list (--holiday, --yearly)
    Add(ScheduleArgs),
    /// Replace a schedule's name and contents
    Set {
        /// The schedule (id or name)
        schedule: String,
        #[command(flatten)]
        args: ScheduleArgs,
    },
    /// Show a schedule
    Show(ScheduleKey),
    /// List the tenant's schedules
    List(TenantArg),
    /// Delete a schedule no night service uses
    Delete(ScheduleKey),
}

#[derive(Args, Debug)]
pub(super) struct ScheduleArgs {
    #[command(flatten)]
    tenant: TenantArg,
    /// The schedule's name (unique in the tenant)
    #[arg(long)]
    name: String,
    /// Opening hours of a weekday, e.g. monday=08:00-12:00,13:00-17:00; repeat per day
    #[arg(long = "day", value_name = "WEEKDAY=RANGES")]
    days: Vec<String>,
    /// An empty opening-hours schedule (closed all week) or holiday list: opening-hours or holidays
    #[arg(long)]
    kind: Option<String>,
    /// A holiday: a date, or a range FROM..TO (YYYY-MM-DD); repeat for more
    #[arg(long = "holiday", value_name = "DATE[..DATE]")]
    holidays: Vec<String>,
    /// A holiday that comes back every year: a date or a range FROM..TO; repeat for more
    #[arg(long = "yearly", value_name = "DATE[..DATE]")]
    yearly: Vec<String>,
}

#[derive(Args, Debug)]
pub(super) struct ScheduleKey {
    #[command(flatten)]
    tenant: TenantArg,
    /// The schedule (id or name)
    schedule: String,
}

#[derive(Subcommand, Debug)]
pub(super) enum NightCmd {
    /// Whether night service is in force now (or --at), and until when
    Show {
        #[command(flatten)]
        place: Place,
        /// An instant to judge at instead of now, e.g. 2026-03-28T12:00:00Z
        #[arg(long)]
        at: Option<String>,
    },
    /// Set night forwarding of the tenant, or of one site
    Set {
        #[command(flatten)]
        place: Place,
        /// off, on or automatic
        #[arg(long)]
        mode: String,
        /// The opening-hours schedule automatic mode follows
        #[arg(long)]
        hours: Option<String>,
        /// The holiday list automatic mode follows
        #[arg(long)]
        holidays: Option<String>,
        /// voicemail (default) or auto-attendant
        #[arg(long)]
        target: Option<String>,
        /// The auto-attendant's number (E.164) or extension
        #[arg(long)]
        destination: Option<String>,
    },
    /// Remove a site's own night forwarding (the tenant's applies again)
    Clear {
        #[command(flatten)]
        tenant: TenantArg,
        /// Site id or name
        #[arg(long)]
        site: String,
    },
}

#[derive(Args, Debug)]
pub(super) struct Place {
    #[command(flatten)]
    tenant: TenantArg,
    /// Site id or name [default: the tenant's own night service]
    #[arg(long)]
    site: Option<String>,
}

pub(super) async fn run(admin: &Admin, out: &Output, cmd: ScheduleCmd) -> anyhow::Result<()> {
    let tenant = match &cmd {
        ScheduleCmd::Add(a) | ScheduleCmd::Set { args: a, .. } => &a.tenant.tenant,
        ScheduleCmd::Show(k) | ScheduleCmd::Delete(k) => &k.tenant.tenant,
        ScheduleCmd::List(t) => &t.tenant,
    };
    let tenant = admin.tenant(tenant).await?.id;
    let schedule = match cmd {
        ScheduleCmd::Add(a) => admin.schedule_add(tenant, &input(a)?).await?,
        ScheduleCmd::Set { schedule, args } => {
            let schedule = admin.schedule(tenant, &schedule).await?;
            admin.schedule_set(tenant, &schedule, &input(args)?).await?
        }
        ScheduleCmd::Show(k) => admin.schedule(tenant, &k.schedule).await?,
        ScheduleCmd::List(_) => {
            let query = ListQuery {
                limit: Some(LIST_MAX),
                ..Default::default()
            };
            let all = admin.schedule_page(tenant, &query).await?;
            out.list(&all.items, |s| format!("{}\t{}\t{}", s.id, s.name, s.kind));
            return Ok(());
        }
        ScheduleCmd::Delete(k) => {
            let schedule = admin.schedule(tenant, &k.schedule).await?;
            admin.schedule_delete(tenant, &schedule).await?;
            out.one(&schedule, format!("schedule {} deleted", schedule.name));
            return Ok(());
        }
    };
    out.one(&schedule, describe(&schedule));
    Ok(())
}

fn input(a: ScheduleArgs) -> anyhow::Result<ScheduleInput> {
    let hours = if a.days.is_empty() {
        None
    } else {
        let mut hours = serde_json::Map::new();
        for day in &a.days {
            let (name, ranges) = day.split_once('=').ok_or_else(|| {
                anyhow::anyhow!("--day {day:?}: give it as WEEKDAY=RANGES, e.g. monday=08:00-12:00")
            })?;
            let ranges: Vec<&str> = ranges.split(',').map(str::trim).collect();
            hours.insert(name.trim().to_ascii_lowercase(), ranges.into());
        }
        Some(
            serde_json::from_value::<WeeklyHours>(hours.into())
                .map_err(|e| anyhow::anyhow!("--day: {e}"))?,
        )
    };
    let holiday = |text: &String, every_year| {
        let (from, to) = match text.split_once("..") {
            Some((from, to)) => (from.to_owned(), Some(to.to_owned())),
            None => (text.clone(), None),
        };
        HolidayEntry {
            from,
            to,
            every_year,
        }
    };
    let holidays = a
        .holidays
        .iter()
        .map(|h| holiday(h, false))
        .chain(a.yearly.iter().map(|h| holiday(h, true)))
        .collect();
    Ok(ScheduleInput {
        name: a.name,
        kind: a.kind,
        hours,
        holidays,
    })
}

fn describe(s: &Schedule) -> String {
    let mut text = format!("schedule {} (id {}, {})", s.name, s.id, s.kind);
    if let Some(hours) = &s.hours {
        let days = [
            ("mon", &hours.monday),
            ("tue", &hours.tuesday),
            ("wed", &hours.wednesday),
            ("thu", &hours.thursday),
            ("fri", &hours.friday),
            ("sat", &hours.saturday),
            ("sun", &hours.sunday),
        ];
        for (day, ranges) in days {
            let shown = if ranges.is_empty() {
                "closed".to_owned()
            } else {
                ranges.join(", ")
            };
            text.push_str(&format!("\n  {day} {shown}"));
        }
    }
    for h in &s.holidays {
        let to =
            h.to.as_deref()
                .map(|t| format!("..{t}"))
                .unwrap_or_default();
        let yearly = if h.every_year { " every year" } else { "" };
        text.push_str(&format!("\n  {}{to}{yearly}", h.from));
    }
    text
}

pub(super) async fn run_night(admin: &Admin, out: &Output, cmd: NightCmd) -> anyhow::Result<()> {
    let status = match cmd {
        NightCmd::Show { place, at } => {
            let tenant = admin.tenant(&place.tenant.tenant).await?.id;
            let site = match &place.site {
                Some(site) => Some(admin.site(tenant, Some(site)).await?),
                None => None,
            };
            let now = match at {
                Some(at) => at.trim().parse().map_err(|_| {
                    anyhow::anyhow!("--at {at:?}: give an instant like 2026-03-28T12:00:00Z")
                })?,
                None => jiff::Timestamp::now(),
            };
            admin.night_status(tenant, site.as_ref(), now).await?
        }
        NightCmd::Set {
            place,
            mode,
            hours,
            holidays,
            target,
            destination,
        } => {
            let tenant = admin.tenant(&place.tenant.tenant).await?.id;
            let site = match &place.site {
                Some(site) => Some(admin.site(tenant, Some(site)).await?),
                None => None,
            };
            let input = NightServiceInput {
                mode,
                hours,
                holidays,
                target,
                destination,
            };
            admin
                .night_service_set(tenant, site.as_ref(), &input, jiff::Timestamp::now())
                .await?
        }
        NightCmd::Clear { tenant, site } => {
            let tenant = admin.tenant(&tenant.tenant).await?.id;
            let site = admin.site(tenant, Some(&site)).await?;
            admin.night_service_clear(tenant, &site).await?;
            let status = admin
                .night_status(tenant, Some(&site), jiff::Timestamp::now())
                .await?;
            out.one(
                &status,
                format!("site {}: the tenant's night service applies", site.name),
            );
            return Ok(());
        }
    };
    out.one(&status, night_line(&status));
    Ok(())
}

fn night_line(s: &NightStatus) -> String {
    let whose = match (&s.service.site, s.inherited) {
        (Some(site), _) => format!("site {site}"),
        (None, true) => "the tenant's (inherited)".to_owned(),
        (None, false) => "the tenant".to_owned(),
    };
    let target = match &s.service.destination {
        Some(d) => format!("{} {d}", s.service.target),
        None => s.service.target.to_string(),
    };
    let now = if s.in_force {
        "in force"
    } else {
        "not in force"
    };
    let until = match &s.until {
        Some(u) => format!(" until {u}"),
        None => String::new(),
    };
    format!(
        "night service of {whose}: {} to {target}; {now}{until} ({})",
        s.service.mode, s.time_zone
    )
}
