//! Portal accounts and sessions (issue 14): who may log in to the web portal and as what. An
//! account has a role like an API token (a platform operator, a tenant's admin, a user of a
//! tenant) and yields the same `Principal`, so the portal's pages call the same operations
//! with the same checks. Passwords are argon2 hashes (`hashing.rs`, off the async workers); a
//! new or reset password must be changed at the next login (004). A session id is random and
//! only its SHA-256 is stored, with a CSRF token of its own; it ends when unused for
//! `idle` or `absolute` after its login. Failed logins are counted per address and per
//! account (the token checks' buckets): past the burst a login is refused without hashing.

use std::net::IpAddr;

use sha2::Digest as _;

use super::tokens::Failures;
use super::Admin;
use crate::config::SessionLimits;
use crate::error::{Error, Result};
use crate::model::{AuditAction, Principal, Role, Secret, TenantId, UserId};
use crate::store::PortalAccount;

/// Failed logins an address may make, and how many it earns back a minute.
const ADDRESS_BURST: f64 = 20.0;
const ADDRESS_PER_MINUTE: f64 = 10.0;
/// Failed logins for one account (from anywhere), and how many it earns back a minute.
const ACCOUNT_BURST: f64 = 5.0;
const ACCOUNT_PER_MINUTE: f64 = 1.0;
/// A password's least and greatest length (characters).
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 200;
/// A seen session's last use is written again only after this many seconds.
const TOUCH_EVERY: i64 = 60;

/// The login throttle's buckets, shared by the `Admin` handles.
#[derive(Clone)]
pub(crate) struct LoginFailures {
    by_address: Failures<IpAddr>,
    by_account: Failures<String>,
}

impl LoginFailures {
    pub(crate) fn new() -> LoginFailures {
        LoginFailures {
            by_address: Failures::with_limits(ADDRESS_BURST, ADDRESS_PER_MINUTE),
            by_account: Failures::with_limits(ACCOUNT_BURST, ACCOUNT_PER_MINUTE),
        }
    }
}

/// What a login attempt is worth.
#[derive(Debug)]
pub enum Login {
    /// Logged in: the new session's id (for the cookie only) and its account.
    Yes {
        session: Secret,
        account: PortalAccount,
    },
    /// Wrong login or password (the same answer for both).
    No,
    /// Too many failed logins from this address or for this account: retry in this many seconds.
    Throttled(u64),
}

/// A live session: who it is and its CSRF token.
#[derive(Clone, Debug)]
pub struct PortalSession {
    pub account: PortalAccount,
    pub csrf: String,
    /// The SHA-256 of the session id (what the store knows it by).
    pub key: String,
}

impl PortalSession {
    pub fn principal(&self) -> Principal {
        self.account.principal()
    }

    /// Who the audit trail says wrote: `portal:LOGIN ROLE`.
    pub fn actor(&self) -> String {
        format!("portal:{} {}", self.account.login, self.account.role)
    }
}

/// A login as stored: trimmed, lower-case; 1–254 characters of no spaces or controls.
pub fn parse_login(login: &str) -> Result<String> {
    let login = login.trim().to_lowercase();
    if login.is_empty() || login.chars().count() > 254 {
        return Err(
            Error::invalid("login", "a login is 1 to 254 characters").coded("login_length", [])
        );
    }
    if login.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            Error::invalid("login", "a login has no spaces or control characters")
                .coded("login_characters", []),
        );
    }
    Ok(login)
}

/// A new password's rule: `PASSWORD_MIN` to `PASSWORD_MAX` characters.
pub fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
        return Err(Error::invalid(
            "password",
            format!("a password is {PASSWORD_MIN} to {PASSWORD_MAX} characters"),
        )
        .coded(
            "password_length",
            [
                ("min", PASSWORD_MIN.to_string()),
                ("max", PASSWORD_MAX.to_string()),
            ],
        ));
    }
    Ok(())
}

fn digest(id: &str) -> String {
    hex::encode(sha2::Sha256::digest(id.as_bytes()))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Admin {
    /// Makes a portal account; its password is `password`, or a generated one returned once.
    /// Either way it must be changed at the first login.
    pub async fn portal_account_add(
        &self,
        login: &str,
        role: Role,
        tenant: Option<TenantId>,
        user: Option<UserId>,
        password: Option<Secret>,
    ) -> Result<(i64, Option<Secret>)> {
        let login = parse_login(login)?;
        self.role_binding("account", role, tenant, user).await?;
        let (password, shown) = match password {
            Some(p) => {
                check_password(p.expose())?;
                (p, None)
            }
            None => {
                let p = Secret::generate();
                (p.clone(), Some(p))
            }
        };
        let hash = self
            .hasher
            .hash("password", password.expose().to_owned())
            .await?;
        let id = self
            .store
            .portal_account_create(&login, role, tenant, user, &hash)
            .await?;
        Ok((id, shown))
    }

    /// A new generated password for `login` (returned once), to be changed at the next login;
    /// the account's sessions end.
    pub async fn portal_password_reset(&self, login: &str) -> Result<Secret> {
        let login = parse_login(login)?;
        let account = self
            .store
            .portal_account_by_login(&login)
            .await?
            .ok_or_else(|| Error::not_found("portal account", &login))?;
        let password = Secret::generate();
        let hash = self
            .hasher
            .hash("password", password.expose().to_owned())
            .await?;
        self.store
            .portal_password_set(account.id, &hash, true, None, AuditAction::PasswordReset)
            .await?;
        Ok(password)
    }

    /// Checks a login and password from `peer`; a right pair starts a session.
    pub async fn portal_login(
        &self,
        login: &str,
        password: &str,
        peer: Option<IpAddr>,
    ) -> Result<Login> {
        let Ok(login) = parse_login(login) else {
            return Ok(Login::No);
        };
        let throttle = &self.login_failures;
        let wait = peer
            .and_then(|ip| throttle.by_address.wait_ip(ip))
            .or_else(|| throttle.by_account.wait(&login));
        if let Some(wait) = wait {
            return Ok(Login::Throttled(wait));
        }
        let account = self.store.portal_account_by_login(&login).await?;
        let ok = match &account {
            Some(a) => self
                .hasher
                .verify("password", password.to_owned(), a.password_hash.clone())
                .await
                .unwrap_or(false),
            // An unknown account costs the same argon2 verification as a wrong password.
            None => self
                .hasher
                .verify_against_nothing(password.to_owned())
                .await
                .unwrap_or(false),
        };
        match account {
            Some(account) if ok => {
                let session = Secret::new(hex::encode(rand::random::<[u8; 32]>()));
                let csrf = hex::encode(rand::random::<[u8; 32]>());
                self.store
                    .portal_session_create(&digest(session.expose()), account.id, &csrf)
                    .await?;
                Ok(Login::Yes { session, account })
            }
            _ => {
                if let Some(ip) = peer {
                    throttle.by_address.fail_ip(ip);
                }
                throttle.by_account.fail(login);
                Ok(Login::No)
            }
        }
    }

    /// The live session a cookie's id names; an expired one is deleted and is `None`.
    pub async fn portal_session(
        &self,
        id: &str,
        limits: SessionLimits,
    ) -> Result<Option<PortalSession>> {
        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let key = digest(id);
        let Some(row) = self.store.portal_session_get(&key).await? else {
            return Ok(None);
        };
        let at = now();
        let idle = limits.idle.as_secs() as i64;
        let absolute = limits.absolute.as_secs() as i64;
        if at - row.seen_at >= idle || at - row.created_at >= absolute {
            self.store.portal_session_delete(&key).await?;
            return Ok(None);
        }
        if at - row.seen_at >= TOUCH_EVERY {
            self.store.portal_session_touch(&key).await?;
        }
        Ok(Some(PortalSession {
            account: row.account,
            csrf: row.csrf,
            key,
        }))
    }

    pub async fn portal_logout(&self, session: &PortalSession) -> Result<()> {
        self.store.portal_session_delete(&session.key).await
    }

    /// The session's own password change: the current password, then the new one (a
    /// different one, by the length rule); the account's other sessions end.
    pub async fn portal_password_change(
        &self,
        session: &PortalSession,
        current: &str,
        new: &str,
    ) -> Result<()> {
        let ok = self
            .hasher
            .verify(
                "password",
                current.to_owned(),
                session.account.password_hash.clone(),
            )
            .await
            .unwrap_or(false);
        if !ok {
            return Err(Error::invalid("current", "the current password is wrong")
                .coded("password_current_wrong", []));
        }
        check_password(new)?;
        if new == current {
            return Err(Error::invalid(
                "password",
                "the new password must differ from the current one",
            )
            .coded("password_unchanged", []));
        }
        let hash = self.hasher.hash("password", new.to_owned()).await?;
        self.store
            .portal_password_set(
                session.account.id,
                &hash,
                false,
                Some(&session.key),
                AuditAction::PasswordChange,
            )
            .await
    }
}
