//! Schedules and group night forwarding (portal seed 000): the checks of opening hours and
//! holidays, what night service needs for each mode and target, and whether it is in force at an
//! instant — in the site's zone (the tenant's: its default site's), by `model::NightCalendar`.

use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{
    parse_extension, parse_label, HolidayEntry, ListQuery, Listed, NightCalendar, NightMode,
    NightService, NightTarget, Schedule, ScheduleKind, Site, TenantId, WeeklyHours, E164,
};
use crate::store::{ExtensionUse, NightRecord, NightWrite, ScheduleWrite};

/// A schedule as typed: opening hours or holidays (the kind follows from which is given).
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// 1 to 64 characters, not all digits.
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// `opening-hours` or `holidays`; absent: the kind of what is given.
    pub kind: Option<String>,
    pub hours: Option<WeeklyHours>,
    #[serde(default)]
    pub holidays: Vec<HolidayEntry>,
}

/// Night service as typed.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NightServiceInput {
    /// `off`, `on` or `automatic`.
    pub mode: String,
    /// The opening-hours schedule (id or name); needed by `automatic`.
    pub hours: Option<String>,
    /// A holiday list (id or name), for `automatic`.
    pub holidays: Option<String>,
    /// `voicemail` (default) or `auto-attendant`.
    pub target: Option<String>,
    /// The auto-attendant's number (E.164) or extension.
    pub destination: Option<String>,
}

/// Night service and whether it is in force now.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct NightStatus {
    #[serde(flatten)]
    pub service: NightService,
    /// The site has none of its own: this is the tenant's.
    pub inherited: bool,
    /// The zone the schedules are read in.
    pub time_zone: String,
    pub in_force: bool,
    /// When that changes (RFC 3339, UTC); none: not by itself (mode `off` or `on`, or no change
    /// within a year).
    pub until: Option<String>,
}

impl Admin {
    pub async fn schedule_add(&self, tenant: TenantId, input: &ScheduleInput) -> Result<Schedule> {
        self.schedule_write(tenant, None, input).await
    }

    /// Replaces a schedule's name and contents (its kind stays).
    pub async fn schedule_set(
        &self,
        tenant: TenantId,
        schedule: &Schedule,
        input: &ScheduleInput,
    ) -> Result<Schedule> {
        let input = ScheduleInput {
            kind: Some(
                input
                    .kind
                    .clone()
                    .unwrap_or_else(|| schedule.kind.to_string()),
            ),
            ..input.clone()
        };
        if input
            .kind
            .as_deref()
            .map(str::parse::<ScheduleKind>)
            .transpose()?
            != Some(schedule.kind)
        {
            return Err(Error::invalid(
                "kind",
                format!(
                    "schedule {:?} holds {}; its kind cannot change",
                    schedule.name, schedule.kind
                ),
            )
            .coded(
                "schedule_kind_fixed",
                [
                    ("name", schedule.name.clone()),
                    ("kind", schedule.kind.as_str().to_owned()),
                ],
            ));
        }
        self.schedule_write(tenant, Some(schedule.id), &input).await
    }

    async fn schedule_write(
        &self,
        tenant: TenantId,
        id: Option<i64>,
        input: &ScheduleInput,
    ) -> Result<Schedule> {
        let name = parse_label("name", &input.name)?;
        let kind = match (&input.kind, &input.hours, input.holidays.is_empty()) {
            (_, Some(_), false) => {
                return Err(Error::invalid(
                    "holidays",
                    "a schedule holds opening hours or holidays, not both",
                )
                .coded("schedule_hours_or_holidays", []))
            }
            (Some(kind), _, _) => kind.parse()?,
            (None, Some(_), _) => ScheduleKind::OpeningHours,
            (None, None, false) => ScheduleKind::Holidays,
            (None, None, true) => {
                return Err(Error::invalid(
                    "kind",
                    "give opening hours (hours) or holidays, or the kind of an empty schedule",
                )
                .coded("schedule_kind_needed", []))
            }
        };
        let hours = match (kind, &input.hours) {
            (ScheduleKind::OpeningHours, hours) => {
                Some(hours.clone().unwrap_or_default().normalized()?)
            }
            (ScheduleKind::Holidays, Some(_)) => {
                return Err(
                    Error::invalid("hours", "a holiday list holds no opening hours")
                        .coded("holidays_no_hours", []),
                )
            }
            (ScheduleKind::Holidays, None) => None,
        };
        if kind == ScheduleKind::OpeningHours && !input.holidays.is_empty() {
            return Err(Error::invalid(
                "holidays",
                "opening hours hold no holidays: make a holiday list",
            )
            .coded("hours_no_holidays", []));
        }
        for holiday in &input.holidays {
            holiday.parse()?;
        }
        let write = ScheduleWrite {
            name: &name,
            kind,
            hours: hours.as_ref(),
            holidays: &input.holidays,
        };
        self.store.schedule_write(tenant, id, &write).await
    }

    pub async fn schedule_delete(&self, tenant: TenantId, schedule: &Schedule) -> Result<()> {
        self.store.schedule_delete(tenant, schedule.id).await
    }

    /// A schedule by id or name.
    pub async fn schedule(&self, tenant: TenantId, key: &str) -> Result<Schedule> {
        let key = key.trim();
        let id = match key.parse::<i64>().ok().filter(|_| !key.starts_with('+')) {
            Some(id) => id,
            None => self
                .store
                .schedule_id_by_name(tenant, key)
                .await?
                .ok_or_else(|| Error::not_found("schedule", key))?,
        };
        self.store.schedule_get(tenant, id).await
    }

    pub async fn schedule_page(
        &self,
        tenant: TenantId,
        query: &ListQuery,
    ) -> Result<Listed<Schedule>> {
        self.store.schedule_page(tenant, query).await
    }

    /// Sets the night service of the tenant (`site` None) or of one site, and answers its
    /// status at `now`.
    pub async fn night_service_set(
        &self,
        tenant: TenantId,
        site: Option<&Site>,
        input: &NightServiceInput,
        now: Timestamp,
    ) -> Result<NightStatus> {
        let mode: NightMode = input.mode.parse()?;
        let target: NightTarget = match &input.target {
            Some(t) => t.parse()?,
            None => NightTarget::Voicemail,
        };
        let destination = match (target, input.destination.as_deref().map(str::trim)) {
            (NightTarget::Voicemail, None | Some("")) => None,
            (NightTarget::Voicemail, Some(_)) => {
                return Err(Error::invalid(
                    "destination",
                    "the group voicemail takes no destination; it is for an auto-attendant",
                )
                .coded("voicemail_no_destination", []))
            }
            (NightTarget::AutoAttendant, None | Some("")) => return Err(Error::invalid(
                "destination",
                "an auto-attendant target needs a destination: a number (E.164) or an extension",
            )
            .coded("attendant_needs_destination", [])),
            (NightTarget::AutoAttendant, Some(d)) => Some(destination(d)?),
        };
        let hours = self
            .schedule_of(
                tenant,
                input.hours.as_deref(),
                ScheduleKind::OpeningHours,
                "hours",
            )
            .await?;
        let holidays = self
            .schedule_of(
                tenant,
                input.holidays.as_deref(),
                ScheduleKind::Holidays,
                "holidays",
            )
            .await?;
        if mode == NightMode::Automatic && hours.is_none() {
            return Err(Error::invalid(
                "hours",
                "automatic night service needs an opening-hours schedule (hours)",
            )
            .coded("automatic_needs_hours", []));
        }
        let write = NightWrite {
            site: site.map(|s| s.id),
            mode,
            hours: hours.map(|s| s.id),
            holidays: holidays.map(|s| s.id),
            target,
            destination,
        };
        self.store
            .night_service_set(tenant, &write, attendant_owned)
            .await?;
        self.night_status(tenant, site, now).await
    }

    /// Removes a site's own night service: the tenant's applies to it again.
    pub async fn night_service_clear(&self, tenant: TenantId, site: &Site) -> Result<()> {
        self.store.night_service_clear(tenant, site.id).await
    }

    /// The night service of the tenant (`site` None) or of a site (its own, else the tenant's),
    /// and whether it is in force at `now`, in the site's zone.
    pub async fn night_status(
        &self,
        tenant: TenantId,
        site: Option<&Site>,
        now: Timestamp,
    ) -> Result<NightStatus> {
        let own = match site {
            Some(site) => self.store.night_service(tenant, Some(site.id)).await?,
            None => None,
        };
        let inherited = site.is_some() && own.is_none();
        let record = match own {
            Some(own) => Some(own),
            None => self.store.night_service(tenant, None).await?,
        };
        let zone = match site {
            Some(site) => site.time_zone.clone(),
            None => match self.site(tenant, None).await {
                Ok(site) => site.time_zone,
                Err(_) => self.defaults.time_zone.clone(),
            },
        };
        let tz = TimeZone::get(&zone).map_err(|e| Error::store("the site's time zone", e))?;
        let (in_force, until) = match &record {
            Some(record) => in_force(record, &tz, now)?,
            None => (false, None),
        };
        let service = record.map(|r| r.service).unwrap_or(NightService {
            site: None,
            mode: NightMode::Off,
            hours: None,
            holidays: None,
            target: NightTarget::Voicemail,
            destination: None,
        });
        Ok(NightStatus {
            service,
            inherited,
            time_zone: zone,
            in_force,
            until: until.map(|t| t.to_string()),
        })
    }

    /// The schedule `key` names, which must be of `kind`.
    async fn schedule_of(
        &self,
        tenant: TenantId,
        key: Option<&str>,
        kind: ScheduleKind,
        field: &'static str,
    ) -> Result<Option<Schedule>> {
        let Some(key) = key.filter(|k| !k.trim().is_empty()) else {
            return Ok(None);
        };
        let schedule = self.schedule(tenant, key).await.map_err(|e| match e {
            Error::NotFound { .. } => {
                Error::invalid(field, format!("this tenant has no schedule {key:?}"))
                    .coded("no_such_schedule", [("value", format!("{key:?}"))])
            }
            other => other,
        })?;
        if schedule.kind != kind {
            return Err(Error::invalid(
                field,
                format!(
                    "schedule {:?} holds {}, not {kind}",
                    schedule.name, schedule.kind
                ),
            )
            .coded(
                "schedule_wrong_kind",
                [
                    ("name", schedule.name.clone()),
                    ("kind", schedule.kind.as_str().to_owned()),
                    ("kind_wanted", kind.as_str().to_owned()),
                ],
            ));
        }
        Ok(Some(schedule))
    }
}

/// An auto-attendant's extension, as the write reads it: it must be somebody's in the tenant
/// (the auto-attendant is reached through whatever owns it: a hunt group, a virtual user, a
/// user), or night calls would go nowhere.
fn attendant_owned(fresh: &Option<ExtensionUse>) -> Result<()> {
    match fresh {
        Some(ExtensionUse {
            extension,
            owner: None,
        }) => Err(Error::invalid(
            "destination",
            format!(
                "extension {extension} belongs to nobody in this tenant: an auto-attendant's \
                 extension must be one a user, group, virtual user or bridge has"
            ),
        )
        .coded("attendant_nobody", [("extension", extension.to_string())])),
        _ => Ok(()),
    }
}

/// An auto-attendant's destination: a number (E.164, TKG §66k) or an extension.
fn destination(text: &str) -> Result<String> {
    if text.starts_with('+') {
        let number: E164 = text.parse().map_err(|_| {
            Error::invalid("destination", format!("{text:?} is not an E.164 number"))
                .coded("not_e164", [("value", format!("{text:?}"))])
        })?;
        number.check_tkg_66k("destination")?;
        return Ok(number.to_string());
    }
    parse_extension(text).map_err(|_| {
        Error::invalid(
            "destination",
            format!("{text:?} is neither a number (E.164, +49…) nor an extension (2 to 8 digits)"),
        )
        .coded("destination_invalid", [("value", format!("{text:?}"))])
    })
}

/// Whether `record` is in force at `now` in `tz`, and until when.
fn in_force(
    record: &NightRecord,
    tz: &TimeZone,
    now: Timestamp,
) -> Result<(bool, Option<Timestamp>)> {
    Ok(match record.service.mode {
        NightMode::Off => (false, None),
        NightMode::On => (true, None),
        NightMode::Automatic => {
            let stored = |e: Error| Error::store("a stored schedule no longer parses", e);
            let week = match record.hours.as_ref().and_then(|s| s.hours.as_ref()) {
                Some(hours) => hours.parse().map_err(stored)?,
                None => Default::default(),
            };
            let holidays = record
                .holidays
                .iter()
                .flat_map(|s| &s.holidays)
                .map(HolidayEntry::parse)
                .collect::<Result<Vec<_>>>()
                .map_err(stored)?;
            NightCalendar { week, holidays }.status(tz, now)
        }
    })
}
