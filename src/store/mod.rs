//! Every SQL statement of autoprov, over SQLite (embedded default) or PostgreSQL.
//!
//! One concrete [`Store`] wraps an sqlx `AnyPool`, so each statement is written once: the SQL is
//! the common subset of both backends (`$1` placeholders, `RETURNING`, BIGINT/INTEGER ids, 0/1
//! flags, Unix-second timestamps). Backend quirks (connection pragmas, migrations) stay in this
//! file. The store returns domain records from `model`, never rows.
//!
//! Writes go through [`WriteTx`]: its first statement bumps the global revision, which takes the
//! write lock on both backends (SQLite's database lock, PostgreSQL's row lock on `revision`), so
//! revisions commit in order; its commit stamps the tenant's revision (or, for a write that
//! changes only one device's own row, that device's: `WriteTx::device_only`) and the change log
//! in the same transaction, then tells the in-process [`Revisions`].
//!
//! A write an admin rule guards takes the rule as a closure and runs it on its subject as the
//! transaction reads it (`WriteTx::checked`), after the revision bump: no other write can
//! change what the rule saw before this one commits.

mod audit;
mod bridges;
mod cluster;
mod devices;
mod directory;
mod extensions;
mod feed;
mod groups;
mod import;
mod licences;
mod lifecycle;
mod lists;
mod monitors;
mod numbers;
mod pickpark;
mod portal;
mod records;
mod reservations;
mod resync;
mod revisions;
mod rollout;
mod schedules;
mod server_facts;
mod tenants;
mod tokens;
mod users;
mod virtual_users;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, ConnectOptions, Executor, Row, Transaction};

pub use audit::{AuditEntry, AuditFilter};
pub use bridges::{LicenceFacts, MyRoomFacts, NewBridge};
pub use cluster::NonceKey;
pub use devices::{DeviceTrust, HandsetLines, LastSeen, LineLogin, NewDevice, Sighting};
pub use directory::NewDirectoryEntry;
pub use extensions::{ExtensionUse, NumberOwner, SharedEntry};
pub use feed::LISTEN_APPLICATION;
pub use groups::{GroupClaim, Membership, NewGroup};
pub use import::{
    Import, ImportDevice, ImportLine, ImportSpeedDial, ImportUser, BATCH as IMPORT_BATCH,
};
pub use licences::{LicencePool, Trunk};
pub use lifecycle::{SiteContents, SitePatch, TenantContents, TokenInfo};
pub use monitors::BlfGrant;
pub use numbers::{NewNumber, NumberPatch, NumberUse, PinCheck, ShownBy, PIN_ATTEMPTS};
pub use pickpark::{GroupWrite, ParkCheck, PickupSeat};
pub use portal::{PortalAccount, PortalSessionRow};
pub use reservations::{MacHolder, Reservation};
pub use resync::Changed;
pub use revisions::Revisions;
pub use rollout::{Activity, Failure, Refusal};
pub use schedules::{NightRecord, NightWrite, ScheduleWrite};
pub use tenants::NewSite;
pub use users::{FirstLine, NewUser, UserClaim, UserPatch};
pub use virtual_users::NewVirtualUser;

use crate::error::{Cause, Error, Result};
use crate::model::{AuditAction, AuditEntity, DeviceId, TenantId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    revisions: Arc<Revisions>,
    /// Who the writes of this handle are recorded as, in the audit trail.
    actor: Arc<str>,
    /// The URL it was opened with: the change feed opens a connection of its own from it.
    url: Arc<str>,
    /// Whether the change feed's LISTEN connection is up (see `feed`).
    listening: Arc<std::sync::atomic::AtomicBool>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// What opening a store does about its schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// Brings the schema up to date (SQLite on every start; `autoprov migrate`; `serve
    /// --migrate`).
    Migrate,
    /// Only checks that the schema is the one this build knows: on PostgreSQL other nodes may be
    /// running an older build, so a node never migrates there on its own start unless told.
    Check,
    /// Opens an older schema as it is, for `autoprov migrate` to report and then migrate.
    AsItIs,
}

/// The schema version a database is at (its highest applied migration) and the one this build
/// brings, as `autoprov migrate` reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SchemaVersions {
    pub database: i64,
    pub build: i64,
}

impl Store {
    /// Opens (creating if needed) the database at `url`, `sqlite://PATH` or `postgres://…`, and
    /// brings its schema up to date.
    pub async fn connect(url: &str) -> Result<Store> {
        Self::open(url, Schema::Migrate).await
    }

    /// Opens the database at `url`; `schema` says whether to migrate it or only check it. A
    /// schema newer than this build is refused either way (naming both versions): an older
    /// build would misread what a newer one writes.
    pub async fn open(url: &str, schema: Schema) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(Error::Config(format!(
                "database URL must start with sqlite:// or postgres:// (got {:?})",
                url.split(':').next().unwrap_or_default()
            )));
        };
        let url = match backend {
            // Create the file on first start.
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        if let Some(path) = sqlite_file(&url) {
            // The database holds every secret. A missing folder is made 0700 (an existing one is
            // the operator's: the data folder is tightened by `App`); the file is made 0600
            // before SQLite opens it, and SQLite gives -wal and -shm the database file's
            // permissions, so none of the three is ever readable by others. What an older
            // install left open (a crash leaves -wal and -shm behind) is tightened here.
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                crate::private::create_dirs(parent)?;
            }
            crate::private::file(&path, "database")?;
            for suffix in ["-wal", "-shm"] {
                let mut side = path.clone().into_os_string();
                side.push(suffix);
                crate::private::tighten(Path::new(&side), "database file")?;
            }
        }
        let options: AnyConnectOptions = url
            .parse::<AnyConnectOptions>()
            .map_err(|e| Error::Config(format!("database URL: {e}")))?
            .disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets phones read while an admin writes; a busy timeout makes a
                        // second process (the CLI) wait for the lock instead of failing.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| Error::store("cannot open the database", e))?;
        let store = Store {
            pool,
            backend,
            revisions: Arc::new(Revisions::default()),
            actor: Arc::from("system"),
            url: Arc::from(url.as_str()),
            listening: Arc::default(),
        };
        let versions = store.schema_versions().await?;
        if versions.database > versions.build {
            return Err(Error::Config(format!(
                "the database schema is at version {}, newer than this autoprov's {}: \
                 upgrade this node to the build that migrated it",
                versions.database, versions.build
            )));
        }
        match schema {
            Schema::Migrate => store.migrate().await?,
            Schema::Check if versions.database < versions.build => {
                return Err(Error::Config(format!(
                    "the database schema is at version {}, older than this autoprov's {}: \
                     run `autoprov migrate` once (from one node), or start with `--migrate` \
                     (store.migrate) when no other node is running",
                    versions.database, versions.build
                )))
            }
            Schema::Check => {}
            // An empty database has no revision to read yet.
            Schema::AsItIs => return Ok(store),
        }
        store.refresh_revisions().await?;
        Ok(store)
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// The schema version of the database (0 for an empty one) and of this build.
    pub async fn schema_versions(&self) -> Result<SchemaVersions> {
        let build = self.migrator().iter().map(|m| m.version).max().unwrap_or(0);
        // `_sqlx_migrations` is sqlx's own table; an empty database has none yet.
        let table = match self.backend {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let exists: i64 = sqlx::query_scalar(table).fetch_one(&self.pool).await?;
        let database: i64 = if exists > 0 {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE",
            )
            .fetch_one(&self.pool)
            .await?
            .unwrap_or(0)
        } else {
            0
        };
        Ok(SchemaVersions { database, build })
    }

    /// Applies the migrations this build has and the database lacks. On PostgreSQL sqlx holds an
    /// advisory lock meanwhile, so two nodes told to migrate at once do it one after the other.
    pub async fn migrate(&self) -> Result<()> {
        self.migrator()
            .run(&self.pool)
            .await
            .map_err(|e| Error::store("migrating the database", e))
    }

    /// The same store, with its writes recorded in the audit trail as done by `actor`.
    pub fn acting(&self, actor: &str) -> Store {
        Store {
            actor: Arc::from(actor),
            ..self.clone()
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The in-memory view of revisions, shared with the cache.
    pub fn revisions(&self) -> &Arc<Revisions> {
        &self.revisions
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Reads the global revision and, if it moved, every tenant revision past what this process
    /// has seen: how changes made by other processes (the CLI, other nodes) become visible.
    pub async fn refresh_revisions(&self) -> Result<()> {
        let global: i64 = sqlx::query_scalar("SELECT value FROM revision WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let seen = self.revisions.polled();
        if global <= seen {
            return Ok(());
        }
        let rows =
            sqlx::query("SELECT id, revision, directory_revision FROM tenants WHERE revision > $1")
                .bind(seen)
                .fetch_all(&self.pool)
                .await?;
        for row in rows {
            self.revisions.observe(
                TenantId(get(&row, "id")?),
                get(&row, "revision")?,
                Some(get(&row, "directory_revision")?),
            );
        }
        self.revisions.observe_global(global);
        self.revisions.set_polled(global);
        Ok(())
    }

    /// `T` as it is now, outside any write.
    async fn read_now<T: Fresh>(&self, tenant: TenantId, key: T::Key) -> Result<T> {
        let mut conn = self.pool.acquire().await?;
        T::read(&mut conn, tenant, key).await
    }

    /// Starts a write: the revision bump comes first so the transaction holds the write lock from
    /// its first statement (no lock upgrade that could fail under a concurrent writer).
    async fn begin_write(&self) -> Result<WriteTx<'_>> {
        let mut tx = self.pool.begin().await?;
        let revision: i64 = sqlx::query_scalar(
            "UPDATE revision SET value = value + 1 WHERE id = 1 RETURNING value",
        )
        .fetch_one(&mut *tx)
        .await?;
        Ok(WriteTx {
            tx,
            revision,
            store: self,
            before: None,
            after: None,
            also: None,
            device_only: None,
            directory: true,
        })
    }
}

/// The file of an SQLite URL (`sqlite://PATH` or `sqlite:PATH`, options after `?`), or `None`
/// for an in-memory database.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.split('&').any(|o| o == "mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// A value bound into a statement built at run time; `None` is SQL NULL of the column's type
/// (PostgreSQL will not put a text NULL into a BIGINT column).
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

/// The columns an `UPDATE` sets, with their values.
type Sets = Vec<(&'static str, Value)>;

/// An open write transaction that has already taken the next revision.
struct WriteTx<'s> {
    tx: Transaction<'static, Any>,
    revision: i64,
    store: &'s Store,
    /// The record as it was, for the audit trail.
    before: Option<String>,
    /// What the audit trail records as the result, when not the entity's record.
    after: Option<serde_json::Value>,
    /// A second tenant the change belongs to (a handset moved between tenants): it is stamped
    /// too, and its trail gets the same entry.
    also: Option<TenantId>,
    /// The write changes only this device's own row (see [`WriteTx::device_only`]).
    device_only: Option<DeviceId>,
    /// The write may change what the tenant's phone directory shows, so the commit moves the
    /// tenant's directory revision too (unless [`WriteTx::leaves_directory`] said otherwise).
    directory: bool,
}

impl WriteTx<'_> {
    /// On PostgreSQL, tells every node's change feed of this revision, at commit (see `feed`).
    async fn announce(&mut self) -> Result<()> {
        if self.store.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(feed::CHANNEL)
                .bind(self.revision.to_string())
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// `UPDATE table SET column = value, …, raw… WHERE id = id AND tenant_id = tenant`, built at
    /// run time from the fields a patch changes (so a concurrent change of other fields is kept).
    /// The rows changed; the sqlx error is the caller's to map (unique violations).
    async fn update(
        &mut self,
        table: &str,
        sets: &[(&str, Value)],
        raw: &[&str],
        id: i64,
        tenant: TenantId,
    ) -> std::result::Result<u64, sqlx::Error> {
        let mut assignments: Vec<String> = sets
            .iter()
            .enumerate()
            .map(|(i, (column, _))| format!("{column} = ${}", i + 1))
            .collect();
        assignments.extend(raw.iter().map(|r| (*r).to_owned()));
        let n = sets.len();
        let sql = format!(
            "UPDATE {table} SET {} WHERE id = ${} AND tenant_id = ${}",
            assignments.join(", "),
            n + 1,
            n + 2
        );
        let mut query = sqlx::query(&sql);
        for (_, value) in sets {
            query = match value {
                Value::Text(t) => query.bind(t.as_deref()),
                Value::Int(i) => query.bind(*i),
            };
        }
        let done = query.bind(id).bind(tenant.0).execute(&mut *self.tx).await?;
        Ok(done.rows_affected())
    }

    /// Sets what the audit trail records, for changes the entity's record does not show (a
    /// user's licences, a line's login): `before` and `after` as JSON, without secrets.
    fn record(&mut self, before: Option<serde_json::Value>, after: serde_json::Value) {
        self.before = before.map(|b| b.to_string());
        self.after = Some(after);
    }

    /// Records the change in `tenant`'s trail and revision too.
    fn also(&mut self, tenant: TenantId) {
        self.also = Some(tenant);
    }

    /// Marks the write as changing only `device`'s own row (its credentials, its first-contact
    /// window), which no other device's file and no directory shows: the commit stamps the
    /// device with the revision instead of its tenant, so nothing else cached goes stale.
    fn device_only(&mut self, device: DeviceId) {
        self.device_only = Some(device);
    }

    /// Marks the write as changing nothing the tenant's phone directory shows (users' names,
    /// numbers, extensions and hidden flags, numbers' labels, directory entries): the commit
    /// stamps the tenant's revision but not its directory revision, so no directory is
    /// reloaded. Every write that does not say so moves both: forgetting it costs a reload,
    /// never a stale directory.
    fn leaves_directory(&mut self) {
        self.directory = false;
    }

    /// Reads `T` again inside this transaction and checks the admin's `rule` on it: a rule that
    /// passes here still holds when the write commits.
    async fn checked<T: Fresh>(
        &mut self,
        tenant: TenantId,
        key: T::Key,
        rule: impl FnOnce(&T) -> Result<()>,
    ) -> Result<T> {
        let fresh = self.fresh(tenant, key).await?;
        rule(&fresh).map(|()| fresh)
    }

    /// Reads `T` inside this transaction.
    async fn fresh<T: Fresh>(&mut self, tenant: TenantId, key: T::Key) -> Result<T> {
        T::read(&mut self.tx, tenant, key).await
    }

    /// Keeps the record as it is now, before this transaction changes it, for the audit trail.
    async fn snapshot_before(&mut self, entity: AuditEntity, id: i64) -> Result<()> {
        self.before = audit::snapshot(&mut self.tx, entity, id).await?;
        Ok(())
    }

    /// Stamps the tenant with this revision, appends to the change log (the audit trail: who,
    /// what, the record before and after), commits, and only then publishes the revision in
    /// memory (a reader never sees a revision before its data).
    async fn commit(
        mut self,
        tenant: TenantId,
        entity: AuditEntity,
        entity_id: i64,
        action: AuditAction,
    ) -> Result<i64> {
        let after = match self.after.take() {
            Some(after) => Some(after.to_string()),
            None => audit::snapshot(&mut self.tx, entity, entity_id).await?,
        };
        let before = self.before.take();
        let tenants: Vec<TenantId> = std::iter::once(tenant).chain(self.also).collect();
        let (stamp, stamped) = match self.device_only {
            Some(device) => (
                "UPDATE devices SET revision = $1 WHERE id = $2",
                vec![device.0],
            ),
            None if self.directory => (
                "UPDATE tenants SET revision = $1, directory_revision = $1 WHERE id = $2",
                tenants.iter().map(|t| t.0).collect(),
            ),
            None => (
                "UPDATE tenants SET revision = $1 WHERE id = $2",
                tenants.iter().map(|t| t.0).collect(),
            ),
        };
        for id in stamped {
            sqlx::query(stamp)
                .bind(self.revision)
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
        }
        for t in &tenants {
            sqlx::query(
                "INSERT INTO change_log (revision, tenant_id, entity, entity_id, action, at, \
                 actor, before_json, after_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(self.revision)
            .bind(t.0)
            .bind(entity.as_str())
            .bind(entity_id)
            .bind(action.as_str())
            .bind(now())
            .bind(&*self.store.actor)
            .bind(before.clone())
            .bind(after.clone())
            .execute(&mut *self.tx)
            .await?;
        }
        self.announce().await?;
        self.tx.commit().await?;
        for t in tenants.into_iter().filter(|_| self.device_only.is_none()) {
            let directory = self.directory.then_some(self.revision);
            self.store.revisions.observe(t, self.revision, directory);
        }
        self.store.revisions.observe_global(self.revision);
        Ok(self.revision)
    }
}

/// A record a guarded write reads inside its transaction (see [`WriteTx::checked`]).
trait Fresh: Sized {
    /// What names the record within its tenant.
    type Key: Clone;

    async fn read(conn: &mut sqlx::AnyConnection, tenant: TenantId, key: Self::Key)
        -> Result<Self>;
}

/// Two records a rule looks at together (a number and the user it goes to).
impl<A: Fresh, B: Fresh> Fresh for (A, B) {
    type Key = (A::Key, B::Key);

    async fn read(
        conn: &mut sqlx::AnyConnection,
        tenant: TenantId,
        (a, b): Self::Key,
    ) -> Result<Self> {
        Ok((
            A::read(conn, tenant, a).await?,
            B::read(conn, tenant, b).await?,
        ))
    }
}

/// A record that may not be there to read (a new user without a number).
impl<T: Fresh> Fresh for Option<T> {
    type Key = Option<T::Key>;

    async fn read(
        conn: &mut sqlx::AnyConnection,
        tenant: TenantId,
        key: Self::Key,
    ) -> Result<Self> {
        match key {
            Some(key) => T::read(conn, tenant, key).await.map(Some),
            None => Ok(None),
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A database failure the caller cannot fix by changing its input; the sqlx error is kept as the
/// cause.
impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        Error::Store {
            context: "".into(),
            source: Some(Box::new(e)),
        }
    }
}

/// Maps a unique-constraint violation to a `Conflict` with `message`; anything else is a store
/// error. The admin layer checks first for a friendlier answer; this catches the race.
fn unique_or_store(e: sqlx::Error, message: impl FnOnce() -> String) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::conflict(message()),
        _ => Error::from(e),
    }
}

/// [`unique_or_store`] for a constraint on one input `field` (a name): the conflict names it.
fn unique_on(e: sqlx::Error, field: &'static str, message: impl FnOnce() -> String) -> Error {
    match unique_or_store(e, message) {
        Error::Conflict { message, code, .. } => Error::Conflict {
            field: Some(field.into()),
            message,
            code,
        },
        other => other,
    }
}

/// The row `sql` finds with `id` and `tenant` bound as `$1` and `$2`, read with `conn` (the
/// pool, or a write's transaction); none is `NotFound` for the record `what`.
async fn row_by_id<'c>(
    conn: impl Executor<'c, Database = Any>,
    sql: &str,
    (what, id): (&'static str, i64),
    tenant: TenantId,
) -> Result<AnyRow> {
    sqlx::query(sql)
        .bind(id)
        .bind(tenant.0)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::not_found(what, id))
}

fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get(column).map_err(Error::from)
}

/// A stored value that no longer parses: the database was edited behind our back. A `Store`
/// error, not a variant of its own: every boundary answers it as it answers a failing database
/// (a 500, a log line), and the operator looks in the same place.
fn corrupt(what: impl std::fmt::Display, e: impl Into<Cause>) -> Error {
    Error::store(format!("stored {what} is invalid"), e)
}
