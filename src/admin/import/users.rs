//! The `users` kind (the portal's "Nebenstellen" import): people with their number, extension,
//! mobile, licences and trunk — `user add`'s rules, row by row, each e-mail, number and
//! extension once in the file, and the licence pools' room for the file as a whole. Users come
//! in pending, as `user add` makes them.

use std::collections::HashMap;

use super::{as_field, list, seen_before, twice, Column, Kind, Row, RowError};
use crate::admin::users::{new_users_number, parse_contract, parse_mobile, trunk_rule};
use crate::admin::Admin;
use crate::error::{Error, FieldError, Result};
use crate::model::{
    parse_email, parse_extension, FirstName, LastName, LicenceKind, SiteId, TenantId, E164,
};
use crate::store::{Import, ImportUser, NumberUse, Trunk};

pub(super) struct Users {
    tenant: TenantId,
    trunks: HashMap<SiteId, Vec<Trunk>>,
    emails: HashMap<String, u64>,
    numbers: HashMap<E164, u64>,
    extensions: HashMap<String, u64>,
    /// Licences left in the tenant's pools, less those the file's rows so far take.
    licences_free: Option<HashMap<LicenceKind, i64>>,
}

/// A row on its way in; `number` and `trunk` are resolved by `check`.
pub(super) struct Pending {
    user: ImportUser,
    number: Option<E164>,
    trunk: Option<String>,
}

impl Kind for Users {
    const COLUMNS: &'static [Column] = &[
        Column::required("first_name"),
        Column::required("last_name"),
        Column::optional("email"),
        Column::optional("number"),
        Column::optional("extension"),
        Column::optional("mobile"),
        Column::optional("contract_number"),
        Column::optional("licences"),
        Column::optional("trunk"),
    ];
    type Item = Pending;

    async fn prepare(admin: &Admin, tx: &mut Import<'_>) -> Result<Users> {
        let mut trunks = HashMap::new();
        for site in tx.sites().await? {
            trunks.insert(site.id, admin.store.trunks(tx.tenant(), site.id).await?);
        }
        Ok(Users {
            tenant: tx.tenant(),
            trunks,
            emails: HashMap::new(),
            numbers: HashMap::new(),
            extensions: HashMap::new(),
            licences_free: Some(tx.licences_free().await?),
        })
    }

    fn parse(&mut self, row: &Row) -> Result<Pending, FieldError> {
        let first_name =
            FirstName::parse(row.required("first_name")?).map_err(|e| as_field("first_name", e))?;
        let last_name =
            LastName::parse(row.required("last_name")?).map_err(|e| as_field("last_name", e))?;
        let email = row
            .get("email")
            .map(parse_email)
            .transpose()
            .map_err(|e| as_field("email", e))?;
        let mobile = row
            .get("mobile")
            .map(parse_mobile)
            .transpose()
            .map_err(|e| as_field("mobile", e))?;
        let contract_number = row
            .get("contract_number")
            .map(parse_contract)
            .transpose()
            .map_err(|e| as_field("contract_number", e))?;
        let number: Option<E164> = row
            .get("number")
            .map(str::parse)
            .transpose()
            .map_err(|e| as_field("number", e))?;
        let extension = match (row.get("extension"), &number) {
            (Some(ext), _) => Some(parse_extension(ext).map_err(|e| as_field("extension", e))?),
            (None, Some(n)) => Some(n.default_extension()),
            (None, None) => None,
        };
        let mut licences: Vec<LicenceKind> = list(row.get("licences"))
            .map(str::parse)
            .collect::<Result<_>>()
            .map_err(|e| as_field("licences", e))?;
        licences.sort_by_key(|k| k.as_str());
        licences.dedup();
        if let Some(email) = &email {
            if let Some(first) = seen_before(&mut self.emails, email.to_ascii_lowercase(), row.line)
            {
                return Err(twice("email", email, first));
            }
        }
        if let Some(n) = &number {
            if let Some(first) = seen_before(&mut self.numbers, n.clone(), row.line) {
                return Err(twice("number", n.as_str(), first));
            }
        }
        if let Some(ext) = &extension {
            if let Some(first) = seen_before(&mut self.extensions, ext.clone(), row.line) {
                return Err(twice("extension", ext, first));
            }
        }
        self.take_licences(&licences)?;
        Ok(Pending {
            user: ImportUser {
                tenant_id: self.tenant,
                first_name,
                last_name,
                email,
                number_id: None,
                extension,
                mobile,
                contract_number,
                trunk_id: None,
                licences,
                fax: None,
            },
            number,
            trunk: row.get("trunk").map(str::to_owned),
        })
    }

    async fn check(
        &mut self,
        tx: &mut Import<'_>,
        batch: &mut [(u64, Pending)],
    ) -> Result<Vec<RowError>> {
        let e164s: Vec<&str> = batch
            .iter()
            .filter_map(|(_, p)| p.number.as_ref().map(E164::as_str))
            .collect();
        let uses = tx.number_uses(&e164s).await?;
        let extensions: Vec<&str> = batch
            .iter()
            .filter_map(|(_, p)| p.user.extension.as_deref())
            .collect();
        let taken = tx.extensions_taken(&extensions).await?;
        let mut errors = Vec::new();
        for (line, pending) in batch.iter_mut() {
            if let Some(ext) = pending
                .user
                .extension
                .as_deref()
                .filter(|e| taken.iter().any(|t| t == e))
            {
                let message = format!("extension {ext} is already used in this tenant");
                errors.push(RowError::new(*line, "extension", message));
                continue;
            }
            if let Err(e) = self.number_and_trunk(pending, &uses) {
                errors.push(RowError::from_field(*line, e));
            }
        }
        Ok(errors)
    }

    async fn write(&mut self, tx: &mut Import<'_>, batch: Vec<Pending>) -> Result<()> {
        let users: Vec<ImportUser> = batch.into_iter().map(|p| p.user).collect();
        tx.users_insert(&users).await
    }

    async fn export(admin: &Admin, tenant: TenantId) -> Result<Vec<Vec<String>>> {
        let mut trunks = HashMap::new();
        for site in admin.store.site_list(tenant).await? {
            for t in admin.store.trunks(tenant, site.id).await? {
                trunks.insert(t.id, t.name);
            }
        }
        let mut rows = Vec::new();
        for u in admin.store.user_list(tenant).await? {
            let licences = admin.store.user_licences(tenant, u.id).await?;
            let licences: Vec<&str> = licences.iter().map(|k| k.as_str()).collect();
            let text = |v: Option<&str>| v.unwrap_or_default().to_owned();
            rows.push(vec![
                u.first_name.as_str().to_owned(),
                u.last_name.as_str().to_owned(),
                text(u.email.as_deref()),
                text(u.number.as_ref().map(E164::as_str)),
                text(u.extension.as_deref()),
                text(u.mobile.as_ref().map(E164::as_str)),
                text(u.contract_number.as_deref()),
                licences.join(" "),
                text(u.trunk_id.and_then(|t| trunks.get(&t)).map(String::as_str)),
            ]);
        }
        Ok(rows)
    }
}

impl Users {
    /// Takes the row's licences from what the pools have left.
    fn take_licences(&mut self, kinds: &[LicenceKind]) -> Result<(), FieldError> {
        let Some(free) = self.licences_free.as_mut() else {
            return Ok(());
        };
        for kind in kinds {
            let left = free.entry(*kind).or_default();
            if *left <= 0 {
                return Err(FieldError {
                    code: None,
                    field: "licences".into(),
                    message: format!("no {kind} licence available: the tenant's pool is used up"),
                });
            }
            *left -= 1;
        }
        Ok(())
    }

    /// The row's number (active, not a main number, nobody's yet) and its trunk (one of the
    /// number's site, needed when the site has several).
    fn number_and_trunk(
        &self,
        pending: &mut Pending,
        uses: &HashMap<String, NumberUse>,
    ) -> Result<(), FieldError> {
        let number = match &pending.number {
            Some(e164) => {
                let number_use = uses
                    .get(e164.as_str())
                    .ok_or_else(|| as_field("number", Error::not_found("number", e164)))?;
                new_users_number(number_use).map_err(|e| as_field("number", e))?;
                Some(&number_use.number)
            }
            None => None,
        };
        let trunk = match &pending.trunk {
            Some(key) => Some(self.trunk_id(key)?),
            None => None,
        };
        if let Some(n) = number {
            let none = Vec::new();
            trunk_rule(n, trunk, self.trunks.get(&n.site_id).unwrap_or(&none))
                .map_err(|e| as_field("trunk", e))?;
            pending.user.number_id = Some(n.id);
        }
        pending.user.trunk_id = trunk;
        Ok(())
    }

    fn trunk_id(&self, key: &str) -> Result<i64, FieldError> {
        self.trunks
            .values()
            .flatten()
            .find(|t| t.id.to_string() == key || t.name == key)
            .map(|t| t.id)
            .ok_or_else(|| FieldError {
                code: None,
                field: "trunk".into(),
                message: format!("{key:?} is not a trunk of this tenant"),
            })
    }
}
