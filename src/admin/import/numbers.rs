//! The `numbers` kind (the operator's): numbers allocated to the tenant's sites, with their
//! status and which is a site's main number — `number add`'s rules, row by row.

use std::collections::{HashMap, HashSet};

use super::{as_field, seen_before, twice, Column, Kind, Row, RowError};
use crate::admin::sites::{main_number_taken, number_status, tenant_number};
use crate::admin::Admin;
use crate::error::{FieldError, Result};
use crate::model::{Site, SiteId, TenantId};
use crate::store::{Import, NewNumber};

pub(super) struct Numbers {
    tenant: TenantId,
    sites: Sites,
    /// Each number in the file, with its line.
    seen: HashMap<String, u64>,
    /// The sites given a main number, in the store or earlier in the file.
    mains: HashSet<SiteId>,
}

impl Kind for Numbers {
    const COLUMNS: &'static [Column] = &[
        Column::required("number"),
        Column::optional("site"),
        Column::optional("status"),
        Column::optional("main"),
    ];
    type Item = NewNumber;

    async fn prepare(_: &Admin, tx: &mut Import<'_>) -> Result<Numbers> {
        Ok(Numbers {
            tenant: tx.tenant(),
            sites: Sites(tx.sites().await?),
            seen: HashMap::new(),
            mains: tx.sites_with_main().await?.into_iter().collect(),
        })
    }

    fn parse(&mut self, row: &Row) -> Result<NewNumber, FieldError> {
        let e164 = tenant_number(row.required("number")?).map_err(|e| as_field("number", e))?;
        let status = number_status(row.get("status")).map_err(|e| as_field("status", e))?;
        let site = self.sites.find(row.get("site"))?;
        let is_main = flag("main", row.get("main"))?;
        if let Some(first) = seen_before(&mut self.seen, e164.as_str().to_owned(), row.line) {
            return Err(twice("number", e164.as_str(), first));
        }
        if is_main && !self.mains.insert(site.id) {
            return Err(as_field("main", main_number_taken(&site.name)));
        }
        Ok(NewNumber {
            tenant_id: self.tenant,
            site_id: site.id,
            e164,
            status,
            is_main,
            default_pin: crate::admin::numbers::default_pin(),
        })
    }

    async fn check(
        &mut self,
        tx: &mut Import<'_>,
        batch: &mut [(u64, NewNumber)],
    ) -> Result<Vec<RowError>> {
        let e164s: Vec<&str> = batch.iter().map(|(_, n)| n.e164.as_str()).collect();
        let taken: HashSet<String> = tx.numbers_taken(&e164s).await?.into_iter().collect();
        Ok(batch
            .iter()
            .filter(|(_, n)| taken.contains(n.e164.as_str()))
            .map(|(line, n)| RowError::new(*line, "number", format!("{} exists already", n.e164)))
            .collect())
    }

    async fn write(&mut self, tx: &mut Import<'_>, batch: Vec<NewNumber>) -> Result<()> {
        tx.numbers_insert(&batch).await
    }

    async fn export(admin: &Admin, tenant: TenantId) -> Result<Vec<Vec<String>>> {
        let sites = Sites(admin.store.site_list(tenant).await?);
        let numbers = admin.store.number_views(tenant, None).await?;
        Ok(numbers
            .into_iter()
            .map(|v| {
                let n = v.number;
                vec![
                    n.e164.to_string(),
                    sites.name(n.site_id),
                    n.status.to_string(),
                    if n.is_main { "yes" } else { "no" }.to_owned(),
                ]
            })
            .collect())
    }
}

/// The tenant's sites, as a `site` cell names them (the first, alphabetically, when empty).
pub(super) struct Sites(pub(super) Vec<Site>);

impl Sites {
    pub(super) fn find(&self, name: Option<&str>) -> Result<&Site, FieldError> {
        let found = match name {
            None => self.0.first(),
            Some(name) => self.0.iter().find(|s| s.name == name),
        };
        found.ok_or_else(|| FieldError {
            code: None,
            field: "site".into(),
            message: match name {
                None => "the tenant has no site yet: add one with `site add`".into(),
                Some(name) => format!("{name:?} is not a site of this tenant"),
            },
        })
    }

    pub(super) fn name(&self, id: SiteId) -> String {
        self.0
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }
}

/// A yes/no cell; empty is no.
fn flag(field: &'static str, cell: Option<&str>) -> Result<bool, FieldError> {
    match cell.map(str::to_ascii_lowercase).as_deref() {
        None | Some("no" | "n" | "false" | "0" | "nein") => Ok(false),
        Some("yes" | "y" | "true" | "1" | "ja" | "x") => Ok(true),
        Some(other) => Err(FieldError {
            code: None,
            field: field.into(),
            message: format!("{other:?} is not yes or no"),
        }),
    }
}
