//! The admin operations and their rules — the hosted-PBX portal behaviour — used alike by the
//! CLI, the REST API and the portal. Each operation validates its input into model types, checks
//! the rules against the store, and writes through the store (which bumps the revision); a rule
//! that guards a write goes with it, as a closure the store checks on the record it reads
//! inside the write's transaction. Knows nothing of HTTP.

mod bridges;
mod devices;
mod dialplan;
mod directory;
pub mod extensions;
mod groups;
mod hashing;
pub mod import;
mod keys;
mod licences;
mod lifecycle;
mod logins;
mod numbers;
mod phonebook;
mod pickpark;
pub mod portal;
mod rollout;
mod schedules;
mod signin;
mod sites;
mod tokens;
mod user_states;
mod users;
mod virtual_users;

use std::sync::Arc;

pub use bridges::BridgeInput;
pub use devices::{DeviceDetail, DeviceInput, TenantMove};
pub use dialplan::{DialPlan, Handling, PlanEntry, Target};
pub use groups::{AgentInput, GroupInput, QueueInput, MAX_AGENTS};
pub use lifecycle::{DeviceUpdate, ModelInfo, RemovedDevice, SiteUpdate};
pub use logins::{login_details_csv, LoginDetails, LoginTarget, UserLogin};
pub use numbers::NumberQuery;
pub use phonebook::DirectoryEntryInput;
pub use pickpark::{ParkGroupInput, PickupGroupInput, SlotsInput, PARK_SLOTS_MAX};
pub use rollout::{DeviceState, DeviceView, Laggard, Rollout, STALE_DAYS};
pub use schedules::{NightServiceInput, NightStatus, ScheduleInput};
pub use sites::{NumberInput, SiteInput};
pub use tokens::Authenticated;
pub use user_states::may_activate;
pub use users::{UserAdded, UserInput, UserUpdate, SELF_SERVICE_OPTIONS};
pub use virtual_users::VirtualUserInput;

use crate::model::SiteDefaults;
use crate::render::Catalog;
use crate::store::Store;

#[derive(Clone)]
pub struct Admin {
    store: Store,
    catalog: Arc<Catalog>,
    defaults: SiteDefaults,
    /// API tokens verified lately, by the SHA-256 of the token.
    verified: moka::sync::Cache<[u8; 32], crate::model::Principal>,
    /// argon2 for tokens and PINs, on the blocking pool.
    hasher: hashing::Hasher,
    /// Failed token checks per source address (see `tokens.rs`).
    token_failures: tokens::Failures,
    /// Failed portal logins per address and per account (see `portal.rs`).
    login_failures: portal::LoginFailures,
}

impl Admin {
    pub fn new(store: Store, catalog: Arc<Catalog>, defaults: SiteDefaults) -> Admin {
        Admin {
            store,
            catalog,
            defaults,
            verified: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(60))
                .build(),
            hasher: hashing::Hasher::new(),
            token_failures: tokens::Failures::new(),
            login_failures: portal::LoginFailures::new(),
        }
    }

    /// The same admin, its writes recorded in the audit trail as done by `actor` (e.g.
    /// `token:12 tenant-admin`, `cli:alice`).
    pub fn acting(&self, actor: &str) -> Admin {
        Admin {
            store: self.store.acting(actor),
            ..self.clone()
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// argon2 hashes computed so far (tokens and PINs).
    pub fn hashes_run(&self) -> u64 {
        self.hasher.runs()
    }
}
