//! The `speed-dials` kind: rows of (user, label, target), each user's in key order; the file
//! replaces the speed dials of every user it names — `speed-dials set`'s rules, and at most 100
//! a user across the file.

use std::collections::{HashMap, HashSet};

use super::{as_field, Column, Kind, Row, RowError};
use crate::admin::keys::{speed_dial, MAX_SPEED_DIALS};
use crate::admin::Admin;
use crate::error::{FieldError, Result};
use crate::model::{TenantId, User, UserId};
use crate::store::{Import, ImportSpeedDial};

pub(super) struct SpeedDials {
    /// The tenant's users by e-mail, extension, number and "First Last" (`None`: two have it).
    users: HashMap<String, Option<UserId>>,
    /// Speed dials so far in the file, per user.
    counts: HashMap<UserId, u32>,
    /// Users whose old speed dials are already removed.
    cleared: HashSet<UserId>,
}

/// How a `user` cell names a user: the first of e-mail, extension, number, "First Last".
fn keys(user: &User) -> Vec<String> {
    let mut keys: Vec<String> = [
        user.email.as_deref().map(str::to_ascii_lowercase),
        user.extension.clone(),
        user.number.as_ref().map(|n| n.to_string()),
    ]
    .into_iter()
    .flatten()
    .collect();
    keys.push(user.display_name().to_lowercase());
    keys
}

impl Kind for SpeedDials {
    const COLUMNS: &'static [Column] = &[
        Column::required("user"),
        Column::required("label"),
        Column::required("target"),
    ];
    type Item = ImportSpeedDial;

    async fn prepare(admin: &Admin, tx: &mut Import<'_>) -> Result<SpeedDials> {
        let mut users: HashMap<String, Option<UserId>> = HashMap::new();
        for user in admin.store.user_list(tx.tenant()).await? {
            for key in keys(&user) {
                users
                    .entry(key)
                    .and_modify(|id| *id = None)
                    .or_insert(Some(user.id));
            }
        }
        Ok(SpeedDials {
            users,
            counts: HashMap::new(),
            cleared: HashSet::new(),
        })
    }

    fn parse(&mut self, row: &Row) -> Result<ImportSpeedDial, FieldError> {
        let key = row.required("user")?;
        let user = match self.users.get(&key.to_lowercase()) {
            Some(Some(id)) => *id,
            found => {
                let message = match found {
                    None => format!("no user has the e-mail, extension, number or name {key:?}"),
                    Some(_) => format!("{key:?} names more than one user: give the e-mail"),
                };
                return Err(FieldError {
                    code: None,
                    field: "user".into(),
                    message,
                });
            }
        };
        let (label, target) = speed_dial(row.required("label")?, row.required("target")?)
            .map_err(|e| as_field("target", e))?;
        let count = self.counts.entry(user).or_default();
        *count += 1;
        if *count as usize > MAX_SPEED_DIALS {
            return Err(FieldError {
                code: None,
                field: "user".into(),
                message: format!("more than {MAX_SPEED_DIALS} speed dials for {key}"),
            });
        }
        Ok(ImportSpeedDial {
            user,
            position: *count,
            label,
            target,
        })
    }

    async fn check(
        &mut self,
        _: &mut Import<'_>,
        _: &mut [(u64, ImportSpeedDial)],
    ) -> Result<Vec<RowError>> {
        Ok(Vec::new())
    }

    async fn write(&mut self, tx: &mut Import<'_>, batch: Vec<ImportSpeedDial>) -> Result<()> {
        let mut clear: Vec<UserId> = batch
            .iter()
            .map(|d| d.user)
            .filter(|u| self.cleared.insert(*u))
            .collect();
        clear.dedup();
        for chunk in clear.chunks(super::IMPORT_BATCH) {
            tx.speed_dials_clear(chunk).await?;
        }
        tx.speed_dials_insert(&batch).await
    }

    async fn export(admin: &Admin, tenant: TenantId) -> Result<Vec<Vec<String>>> {
        let mut rows = Vec::new();
        for user in admin.store.user_list(tenant).await? {
            let key = keys(&user).remove(0);
            for (label, target) in admin.store.speed_dials(tenant, user.id).await? {
                rows.push(vec![key.clone(), label, target]);
            }
        }
        Ok(rows)
    }
}
