//! Bulk import and export of a tenant's objects as CSV (`autoprov import KIND FILE`, `POST
//! …/import/{kind}`). `reader` turns a file into rows; each kind is a small module holding its
//! row type, its checks (the single writes' rule functions, and the file-wide ones such as a
//! MAC twice) and its write, behind the [`Kind`] trait.
//!
//! An import is one transaction (`store::Import`): rows are read one at a time, checked in
//! batches against the store as the transaction sees it, and written in batches while no row
//! has failed; after the first bad row the rest are only checked, so the answer names every
//! bad row, and nothing is committed. A dry run is the same, rolled back at the end.

mod devices;
mod directory;
mod numbers;
mod reader;
mod rows;
mod speed_dials;
mod users;

use std::io::{Read, Write};

pub use reader::{normalise, Column, Encoding, Reader, Row, RowError};

use super::Admin;
use crate::error::{Error, FieldError, Result};
use crate::model::{Role, TenantId};
use crate::store::{Import, IMPORT_BATCH};

/// Bad rows collected before the rest are only counted (the answer stays small).
const MAX_ERRORS: usize = 1000;

/// What an import file holds, as `import KIND` and `/import/{kind}` name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindName {
    Devices,
    Users,
    Numbers,
    Directory,
    SpeedDials,
}

impl KindName {
    pub const ALL: &'static [KindName] = &[
        KindName::Devices,
        KindName::Users,
        KindName::Numbers,
        KindName::Directory,
        KindName::SpeedDials,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            KindName::Devices => "devices",
            KindName::Users => "users",
            KindName::Numbers => "numbers",
            KindName::Directory => "directory",
            KindName::SpeedDials => "speed-dials",
        }
    }

    /// Whether `role` may import this kind: numbers come with the contract, so importing
    /// them is the platform operator's alone; the rest is any admin's.
    pub fn may_import(self, role: Role) -> bool {
        match self {
            KindName::Numbers => role == Role::PlatformAdmin,
            _ => matches!(role, Role::PlatformAdmin | Role::TenantAdmin),
        }
    }
}

impl std::str::FromStr for KindName {
    type Err = Error;
    fn from_str(s: &str) -> Result<KindName> {
        KindName::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                let all: Vec<&str> = KindName::ALL.iter().map(|k| k.as_str()).collect();
                Error::invalid("kind", format!("{s:?} is not one of: {}", all.join(", ")))
            })
    }
}

impl std::fmt::Display for KindName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How to read an import.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Check everything, write nothing.
    pub dry_run: bool,
    pub encoding: Encoding,
}

/// What an import did.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub kind: String,
    /// Data rows read (blank lines not counted).
    pub rows: u64,
    pub dry_run: bool,
    /// The revision the import committed as; none for a dry run.
    pub revision: Option<i64>,
}

/// One kind of import file: its columns, how a row becomes an item, the checks a batch needs
/// from the store, the write, and the export (the same columns, so an export imports again).
pub(crate) trait Kind: Sized + Send {
    const COLUMNS: &'static [Column];
    /// Files may come without a header, their cells in the order of `COLUMNS`.
    const HEADER_OPTIONAL: bool = false;
    type Item: Send;

    /// What every row is checked against, read once inside the import's transaction.
    async fn prepare(admin: &Admin, tx: &mut Import<'_>) -> Result<Self>;

    /// The row as an item: what the row alone shows, and what the rows before it show (a MAC
    /// twice in the file).
    fn parse(&mut self, row: &Row) -> Result<Self::Item, FieldError>;

    /// Checks a batch against the store, completing its items; the bad rows' errors.
    async fn check(
        &mut self,
        tx: &mut Import<'_>,
        batch: &mut [(u64, Self::Item)],
    ) -> Result<Vec<RowError>>;

    /// Writes a batch that passed.
    async fn write(&mut self, tx: &mut Import<'_>, batch: Vec<Self::Item>) -> Result<()>;

    /// The tenant's objects as rows of `COLUMNS`, in a stable order.
    async fn export(admin: &Admin, tenant: TenantId) -> Result<Vec<Vec<String>>>;
}

/// How far an import is: rows read so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Send + Sync);

impl Admin {
    /// Imports `input`, a CSV file of `kind`, into `tenant`: every row or none. Bad rows are
    /// `Error::Rows`, every one named.
    pub async fn import(
        &self,
        kind: KindName,
        tenant: TenantId,
        input: impl Read + Send + 'static,
        options: ImportOptions,
        progress: Progress<'_>,
    ) -> Result<ImportReport> {
        let rows = match kind {
            KindName::Devices => {
                self.import_as::<devices::Devices>(kind, tenant, input, options, progress)
                    .await
            }
            KindName::Users => {
                self.import_as::<users::Users>(kind, tenant, input, options, progress)
                    .await
            }
            KindName::Numbers => {
                self.import_as::<numbers::Numbers>(kind, tenant, input, options, progress)
                    .await
            }
            KindName::Directory => {
                self.import_as::<directory::Directory>(kind, tenant, input, options, progress)
                    .await
            }
            KindName::SpeedDials => {
                self.import_as::<speed_dials::SpeedDials>(kind, tenant, input, options, progress)
                    .await
            }
        };
        let (rows, revision) = rows?;
        Ok(ImportReport {
            kind: kind.as_str().to_owned(),
            rows,
            dry_run: options.dry_run,
            revision,
        })
    }

    async fn import_as<K: Kind>(
        &self,
        name: KindName,
        tenant: TenantId,
        input: impl Read + Send + 'static,
        options: ImportOptions,
        progress: Progress<'_>,
    ) -> Result<(u64, Option<i64>)> {
        let mut reader =
            rows::Rows::open(input, K::COLUMNS, K::HEADER_OPTIONAL, options.encoding).await?;
        let mut tx = self.store.import_begin(tenant).await?;
        let mut kind = K::prepare(self, &mut tx).await?;
        let mut bad = Bad::default();
        let mut batch = Vec::with_capacity(IMPORT_BATCH);
        let mut rows = 0;
        while let Some(chunk) = reader.next().await? {
            for row in chunk {
                rows += 1;
                match row.and_then(|r| kind.parse(&r).map(|i| (r.line, i)).map_err(|e| r.error(e)))
                {
                    Ok(item) => batch.push(item),
                    Err(e) => bad.push(e),
                }
                if batch.len() == IMPORT_BATCH {
                    flush(&mut kind, &mut tx, &mut batch, &mut bad).await?;
                    progress(rows);
                }
            }
        }
        flush(&mut kind, &mut tx, &mut batch, &mut bad).await?;
        progress(rows);
        if let Some(errors) = bad.into_errors(rows) {
            return Err(Error::Rows(errors)); // dropping `tx` rolls everything back
        }
        if options.dry_run {
            return Ok((rows, None));
        }
        let revision = tx.commit(name.as_str(), rows).await?;
        Ok((rows, Some(revision)))
    }

    /// Writes the tenant's objects of `kind` as CSV to `out`, in the columns the import takes.
    pub async fn export(&self, kind: KindName, tenant: TenantId, out: impl Write) -> Result<()> {
        let (columns, rows) = match kind {
            KindName::Devices => (
                devices::Devices::COLUMNS,
                devices::Devices::export(self, tenant).await?,
            ),
            KindName::Users => (
                users::Users::COLUMNS,
                users::Users::export(self, tenant).await?,
            ),
            KindName::Numbers => (
                numbers::Numbers::COLUMNS,
                numbers::Numbers::export(self, tenant).await?,
            ),
            KindName::Directory => (
                directory::Directory::COLUMNS,
                directory::Directory::export(self, tenant).await?,
            ),
            KindName::SpeedDials => (
                speed_dials::SpeedDials::COLUMNS,
                speed_dials::SpeedDials::export(self, tenant).await?,
            ),
        };
        let mut out = csv::Writer::from_writer(out);
        let err = |e: csv::Error| Error::Csv(e.into());
        out.write_record(columns.iter().map(|c| c.name))
            .map_err(err)?;
        for row in rows {
            out.write_record(&row).map_err(err)?;
        }
        out.flush()?;
        Ok(())
    }
}

/// Checks a batch, and writes it while no row has failed.
async fn flush<K: Kind>(
    kind: &mut K,
    tx: &mut Import<'_>,
    batch: &mut Vec<(u64, K::Item)>,
    bad: &mut Bad,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    for e in kind.check(tx, batch).await? {
        bad.push(e);
    }
    if bad.count == 0 {
        kind.write(tx, batch.drain(..).map(|(_, item)| item).collect())
            .await?;
    }
    batch.clear();
    Ok(())
}

/// The bad rows found so far: the first `MAX_ERRORS`, and how many in all.
#[derive(Default)]
struct Bad {
    errors: Vec<RowError>,
    count: usize,
}

impl Bad {
    fn push(&mut self, e: RowError) {
        self.count += 1;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(e);
        }
    }

    /// The errors in line order, with a last one counting those left out; `None` if none.
    fn into_errors(mut self, rows: u64) -> Option<Vec<RowError>> {
        if self.count == 0 {
            return None;
        }
        self.errors.sort_by_key(|e| e.line);
        if self.count > self.errors.len() {
            let more = self.count - self.errors.len();
            self.errors.push(RowError::new(
                rows + 1,
                "file",
                format!("{more} more bad rows not listed"),
            ));
        }
        Some(self.errors)
    }
}

/// A cell that lists several values (numbers to log in, licences): split at spaces, `|` or `,`.
fn list(cell: Option<&str>) -> impl Iterator<Item = &str> {
    cell.unwrap_or("")
        .split([' ', '|', ','])
        .filter(|s| !s.is_empty())
}

/// The line `key` was first seen on, if before `line`; else `key` is noted as on `line`.
fn seen_before<K: std::hash::Hash + Eq>(
    seen: &mut std::collections::HashMap<K, u64>,
    key: K,
    line: u64,
) -> Option<u64> {
    match seen.entry(key) {
        std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
        std::collections::hash_map::Entry::Vacant(slot) => {
            slot.insert(line);
            None
        }
    }
}

/// The error of a value given twice in the file.
fn twice(field: &'static str, value: &str, first: u64) -> FieldError {
    FieldError {
        code: None,
        field: field.into(),
        message: format!("{value} is also on line {first}"),
    }
}

/// A rule's `Error` as the field error of a row: the rule's field for `Invalid`, else `field`.
fn as_field(field: &'static str, e: Error) -> FieldError {
    match e {
        Error::Invalid(f) => f,
        other => FieldError {
            code: None,
            field: field.into(),
            message: other.to_string(),
        },
    }
}
