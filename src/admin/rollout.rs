//! Rollout status: which phones have arrived. A device's state is read from what the store
//! records (its first-contact window, its credentials, where and when it last fetched its file,
//! whether it proved itself, its last refused request); a summary counts a site's (or tenant's)
//! devices by it and lists the laggards.

use super::Admin;
use crate::error::{Error, Result};
use crate::model::{Device, ListQuery, Listed, TenantId};
use crate::store::{Activity, Failure, LastSeen};

/// Days without a fetch after which a device counts as stale, unless asked otherwise.
pub const STALE_DAYS: u32 = 7;

/// Where a device is in its rollout, from what the store records:
///
/// - `registered`: no credentials, and its first-contact window is closed (re-arm it);
/// - `awaiting-first-contact`: its window is open and it has not fetched its file yet;
/// - `provisioned`: it got its full file (won its window, or from an allowed network);
/// - `proven`: it came back with its own credentials or certificate;
/// - `stale`: it got its file once but has not fetched for `stale_days`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceState {
    Registered,
    AwaitingFirstContact,
    Provisioned,
    Proven,
    Stale,
}

impl DeviceState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceState::Registered => "registered",
            DeviceState::AwaitingFirstContact => "awaiting-first-contact",
            DeviceState::Provisioned => "provisioned",
            DeviceState::Proven => "proven",
            DeviceState::Stale => "stale",
        }
    }

    /// The state of `device` at `now` (Unix seconds).
    pub fn of(device: &Device, activity: &Activity, now: i64, stale_days: u32) -> DeviceState {
        let stale_before = now - i64::from(stale_days) * 86_400;
        match &activity.last_seen {
            Some(seen) if seen.at < stale_before => DeviceState::Stale,
            _ if activity.proven_at.is_some() => DeviceState::Proven,
            Some(_) => DeviceState::Provisioned,
            None if device.access.http_password.is_some() => DeviceState::Provisioned,
            None if device.access.first_contact_until.is_some_and(|u| u > now) => {
                DeviceState::AwaitingFirstContact
            }
            None => DeviceState::Registered,
        }
    }
}

/// A handset as the device list shows it: with its state, last sighting and last refusal.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DeviceView {
    #[serde(flatten)]
    pub device: Device,
    pub state: DeviceState,
    /// The last fetch of its file: when, from where, over what, and the firmware it reported.
    pub last_seen: Option<LastSeen>,
    /// Unix seconds of the last fetch with its own credentials or certificate.
    pub proven_at: Option<i64>,
    /// Its last refused request, while no fetch of its file has succeeded since.
    pub last_failure: Option<Failure>,
    /// Whether its last request was refused.
    pub failing: bool,
}

impl DeviceView {
    pub(super) fn new(device: Device, activity: Activity, now: i64, stale_days: u32) -> DeviceView {
        let state = DeviceState::of(&device, &activity, now, stale_days);
        let failing = activity.failure.is_some();
        DeviceView {
            device,
            state,
            last_seen: activity.last_seen,
            proven_at: activity.proven_at,
            last_failure: activity.failure,
            failing,
        }
    }

    /// Whether the phone has asked for its file at all (served or refused).
    pub fn arrived(&self) -> bool {
        self.last_seen.is_some() || self.last_failure.is_some()
    }

    fn provisioned(&self) -> bool {
        matches!(self.state, DeviceState::Provisioned | DeviceState::Proven)
    }
}

/// A device that holds the rollout up, and why.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Laggard {
    pub mac: String,
    pub phone_id: String,
    pub model: String,
    pub state: DeviceState,
    /// `not seen yet`, `failing: wrong-credentials from 192.0.2.7`, `not seen for 9 days`, …
    pub why: String,
}

/// A site's (or tenant's) rollout at a glance.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Rollout {
    /// The site summarised; none: the whole tenant.
    pub site: Option<String>,
    /// Registered devices.
    pub expected: usize,
    /// Devices that asked for their file at least once (served or refused).
    pub arrived: usize,
    /// Devices that got their full file (`provisioned` or `proven`).
    pub provisioned: usize,
    pub proven: usize,
    /// Devices whose last request was refused.
    pub failing: usize,
    /// Devices not seen for `stale_days`.
    pub stale: usize,
    pub stale_days: u32,
    /// Every device not provisioned, failing or stale, by MAC.
    pub laggards: Vec<Laggard>,
}

impl Rollout {
    /// Whether every expected device has arrived (what `rollout status --watch` waits for).
    pub fn all_arrived(&self) -> bool {
        self.arrived == self.expected
    }
}

impl Admin {
    /// A page of the tenant's handsets with their rollout state (stale after `STALE_DAYS`).
    pub async fn device_view_page(
        &self,
        tenant: TenantId,
        query: &ListQuery,
        firmware: Option<&str>,
    ) -> Result<Listed<DeviceView>> {
        let page = self
            .store
            .device_activity_page(tenant, query, firmware)
            .await?;
        let now = now();
        Ok(Listed {
            items: page
                .items
                .into_iter()
                .map(|(d, a)| DeviceView::new(d, a, now, STALE_DAYS))
                .collect(),
            total: page.total,
        })
    }

    /// The firmware versions the tenant's handsets last reported, for a list's filter.
    pub async fn device_firmwares(&self, tenant: TenantId) -> Result<Vec<String>> {
        self.store.device_firmwares(tenant).await
    }

    /// The tenant's handsets (of one site, when given) with their rollout state.
    pub async fn device_views(
        &self,
        tenant: TenantId,
        site: Option<&str>,
        stale_days: u32,
    ) -> Result<Vec<DeviceView>> {
        check_stale_days(stale_days)?;
        let site = match site {
            Some(s) => Some(self.site(tenant, Some(s)).await?.id),
            None => None,
        };
        let now = now();
        Ok(self
            .store
            .device_activities(tenant, site)
            .await?
            .into_iter()
            .map(|(d, a)| DeviceView::new(d, a, now, stale_days))
            .collect())
    }

    /// The rollout of a site (or the tenant): how many devices are expected, arrived,
    /// provisioned, proven, failing and stale, and the laggards.
    pub async fn rollout(
        &self,
        tenant: TenantId,
        site: Option<&str>,
        stale_days: Option<u32>,
    ) -> Result<Rollout> {
        let stale_days = stale_days.unwrap_or(STALE_DAYS);
        let views = self.device_views(tenant, site, stale_days).await?;
        let site = match site {
            Some(s) => Some(self.site(tenant, Some(s)).await?.name),
            None => None,
        };
        let count = |f: &dyn Fn(&DeviceView) -> bool| views.iter().filter(|v| f(v)).count();
        let now = now();
        Ok(Rollout {
            site,
            expected: views.len(),
            arrived: count(&|v| v.arrived()),
            provisioned: count(&|v| v.provisioned()),
            proven: count(&|v| v.state == DeviceState::Proven),
            failing: count(&|v| v.failing),
            stale: count(&|v| v.state == DeviceState::Stale),
            stale_days,
            laggards: views.iter().filter_map(|v| laggard(v, now)).collect(),
        })
    }
}

/// Why a device holds the rollout up, if it does.
fn laggard(v: &DeviceView, now: i64) -> Option<Laggard> {
    let why = match (&v.last_failure, v.failing, v.state) {
        (Some(f), true, _) => format!("failing: {} from {}", f.reason, f.addr),
        (_, _, DeviceState::Stale) => {
            let days = v.last_seen.as_ref().map_or(0, |s| (now - s.at) / 86_400);
            format!("not seen for {days} days")
        }
        (_, _, DeviceState::Registered) => {
            "not seen yet, and its first-contact window is closed: `device arm` it".to_owned()
        }
        (_, _, DeviceState::AwaitingFirstContact) => "not seen yet".to_owned(),
        (_, _, DeviceState::Provisioned | DeviceState::Proven) => return None,
    };
    Some(Laggard {
        mac: v.device.mac.to_string(),
        phone_id: v.device.phone_id.clone(),
        model: v.device.model.clone(),
        state: v.state,
        why,
    })
}

fn check_stale_days(days: u32) -> Result<()> {
    if (1..=3650).contains(&days) {
        Ok(())
    } else {
        Err(
            Error::invalid("stale_days", format!("{days} is not between 1 and 3650"))
                .coded("stale_days", [("days", days.to_string())]),
        )
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

#[cfg(test)]
mod tests {
    use super::{DeviceState, DeviceView};
    use crate::model::{Device, DeviceAccess, DeviceId, Secret, SiteId, TenantId};
    use crate::store::{Activity, Failure, LastSeen};

    const NOW: i64 = 1_000_000_000;
    const DAY: i64 = 86_400;

    fn device(password: bool, window_until: Option<i64>) -> Device {
        Device {
            id: DeviceId(1),
            tenant_id: TenantId(1),
            site_id: SiteId(1),
            mac: "001565a1b2c3".parse().unwrap(),
            family: "yealink".into(),
            model: "T54W".into(),
            phone_id: "ACDEFG".into(),
            admin_password: Secret::new("x".into()),
            access: DeviceAccess {
                http_password: password.then(|| Secret::new("p".into())),
                first_contact_until: window_until,
                ..DeviceAccess::default()
            },
        }
    }

    fn seen(at: i64) -> Option<LastSeen> {
        Some(LastSeen {
            at,
            addr: "192.0.2.7".into(),
            protocol: "https".into(),
            firmware: None,
        })
    }

    #[track_caller]
    fn check(device: Device, activity: Activity, expected: DeviceState) {
        assert_eq!(DeviceState::of(&device, &activity, NOW, 7), expected);
    }

    #[test]
    fn states_follow_what_the_store_records() {
        use DeviceState::*;
        let none = Activity::default();
        check(
            device(false, Some(NOW + 60)),
            none.clone(),
            AwaitingFirstContact,
        );
        check(device(false, Some(NOW - 60)), none.clone(), Registered);
        check(device(false, None), none.clone(), Registered);
        check(device(true, None), none.clone(), Provisioned);
        let fetched = Activity {
            last_seen: seen(NOW - 60),
            ..Activity::default()
        };
        check(device(false, None), fetched.clone(), Provisioned);
        let proven = Activity {
            proven_at: Some(NOW - 60),
            ..fetched
        };
        check(device(true, None), proven.clone(), Proven);
        let old = Activity {
            last_seen: seen(NOW - 8 * DAY),
            ..proven
        };
        check(device(true, None), old, Stale);
        let recent = Activity {
            last_seen: seen(NOW - 6 * DAY),
            ..Activity::default()
        };
        check(device(true, None), recent, Provisioned);
    }

    #[test]
    fn a_refusal_makes_a_device_arrived_and_failing() {
        let activity = Activity {
            failure: Some(Failure {
                at: NOW,
                reason: "wrong-credentials".into(),
                addr: "192.0.2.7".into(),
            }),
            ..Activity::default()
        };
        let v = DeviceView::new(device(false, None), activity, NOW, 7);
        assert!(v.failing && v.arrived());
        let v = DeviceView::new(device(false, None), Activity::default(), NOW, 7);
        assert!(!v.failing && !v.arrived());
    }
}
