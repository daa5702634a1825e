//! The `directory` kind: the phone directory's own entries in the portal's format — `Name,
//! Number` a line, with or without a `name,number` header, optionally a `site` column (empty:
//! the whole tenant) — checked by the single entry's rules (`admin::phonebook`).

use std::collections::{HashMap, HashSet};

use super::numbers::Sites;
use super::{seen_before, Column, Kind, Row, RowError};
use crate::admin::phonebook::entry_of_name;
use crate::admin::Admin;
use crate::error::{FieldError, Result};
use crate::model::{SiteId, TenantId};
use crate::store::{Import, NewDirectoryEntry};

pub(super) struct Directory {
    sites: Sites,
    /// The entries already stored, as (site, name, number).
    stored: HashSet<(Option<SiteId>, String, String)>,
    /// Each entry of the file, with its line.
    seen: HashMap<(Option<SiteId>, String, String), u64>,
}

impl Kind for Directory {
    const COLUMNS: &'static [Column] = &[
        Column::required("name"),
        Column::required("number"),
        Column::optional("site"),
    ];
    const HEADER_OPTIONAL: bool = true;
    type Item = NewDirectoryEntry;

    async fn prepare(_: &Admin, tx: &mut Import<'_>) -> Result<Directory> {
        Ok(Directory {
            sites: Sites(tx.sites().await?),
            stored: tx.directory_keys().await?,
            seen: HashMap::new(),
        })
    }

    fn parse(&mut self, row: &Row) -> Result<NewDirectoryEntry, FieldError> {
        let site = match row.get("site") {
            Some(name) => Some(self.sites.find(Some(name))?.id),
            None => None,
        };
        let entry = entry_of_name(row.required("name")?, row.required("number")?, site)?;
        let key = (site, entry.name.clone(), entry.number.clone());
        if self.stored.contains(&key) {
            return Err(FieldError {
                code: None,
                field: "name".into(),
                message: format!(
                    "the directory already has {:?} with {}",
                    entry.name, entry.number
                ),
            });
        }
        if let Some(first) = seen_before(&mut self.seen, key, row.line) {
            return Err(FieldError {
                code: None,
                field: "name".into(),
                message: format!(
                    "{:?} with {} is also on line {first}",
                    entry.name, entry.number
                ),
            });
        }
        Ok(entry)
    }

    async fn check(
        &mut self,
        _: &mut Import<'_>,
        _: &mut [(u64, NewDirectoryEntry)],
    ) -> Result<Vec<RowError>> {
        // Everything is known from `prepare` and the rows before: nothing to ask the store.
        Ok(Vec::new())
    }

    async fn write(&mut self, tx: &mut Import<'_>, batch: Vec<NewDirectoryEntry>) -> Result<()> {
        tx.directory_insert(&batch).await
    }

    async fn export(admin: &Admin, tenant: TenantId) -> Result<Vec<Vec<String>>> {
        let sites = Sites(admin.store.site_list(tenant).await?);
        let entries = admin.store.directory_entries(tenant).await?;
        Ok(entries
            .into_iter()
            .map(|e| {
                vec![
                    crate::admin::logins::spreadsheet_safe(&e.name),
                    e.number,
                    e.site_id.map(|s| sites.name(s)).unwrap_or_default(),
                ]
            })
            .collect())
    }
}
