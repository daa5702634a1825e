//! Who may do what: the tenant-scoped extractor `Scoped<R, O>`, the role sets `R` it admits and
//! what else of the path `O` it finds first, and the explicit checks of the routes whose rule
//! is "an admin, or the user themselves" (or the number's holder).

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use super::{ApiError, Caller};
use crate::app::App;
use crate::error::Error;
use crate::model::{Bridge, CallGroup, Number, OwnerKind, Role, Tenant, User, UserId, VirtualUser};

/// A set of roles a route admits.
pub(super) trait Roles {
    const ROLES: &'static [Role];
}

/// The operator only.
pub(super) struct Platform;
/// The operator and tenant admins.
pub(super) struct Admins;
/// A `user` token only (what is the user's own, such as their PIN).
pub(super) struct Users;
/// Every role; the handler checks the rest itself (activation's rule).
pub(super) struct Anyone;
/// Admins, or the user the path names (self-service).
pub(super) struct AdminsOrSelf;
/// Admins, or the user the path's number is assigned to.
pub(super) struct AdminsOrHolder;

impl Roles for Platform {
    const ROLES: &'static [Role] = &[Role::PlatformAdmin];
}
impl Roles for Admins {
    const ROLES: &'static [Role] = &[Role::PlatformAdmin, Role::TenantAdmin];
}
impl Roles for Users {
    const ROLES: &'static [Role] = &[Role::User];
}
impl Roles for Anyone {
    const ROLES: &'static [Role] = Role::ALL;
}

/// Whether a caller may use a route on `item`, what the path names: a role set, or a rule
/// that also looks at the item.
pub(super) trait Admits<O>: Send {
    fn admits(
        caller: &Caller,
        tenant: &Tenant,
        item: &O,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
}

impl<R: Roles + Send, O: Sync> Admits<O> for R {
    async fn admits(caller: &Caller, _: &Tenant, _: &O) -> Result<(), ApiError> {
        require(caller, R::ROLES)
    }
}

impl Admits<User> for AdminsOrSelf {
    async fn admits(caller: &Caller, _: &Tenant, user: &User) -> Result<(), ApiError> {
        require_admin_or_self(caller, user.id)
    }
}

impl Admits<Number> for AdminsOrHolder {
    async fn admits(caller: &Caller, tenant: &Tenant, number: &Number) -> Result<(), ApiError> {
        require_admin_or_holder(caller, tenant, number).await
    }
}

/// The path's segments by name.
type Segments = HashMap<String, String>;

/// What a route's path names in the tenant besides the tenant, found before the role is
/// checked (so a missing one is a 404 for every role): nothing, the `{user}`, the `{number}`,
/// the `{group}`, `{virtual_user}` or `{bridge}`.
pub(super) trait Named: Sized {
    fn find(
        caller: &Caller,
        tenant: &Tenant,
        path: &Segments,
    ) -> impl Future<Output = Result<Self, ApiError>> + Send;
}

impl Named for () {
    async fn find(_: &Caller, _: &Tenant, _: &Segments) -> Result<Self, ApiError> {
        Ok(())
    }
}

impl Named for User {
    async fn find(caller: &Caller, tenant: &Tenant, path: &Segments) -> Result<Self, ApiError> {
        Ok(caller.admin.user(tenant.id, segment(path, "user")?).await?)
    }
}

impl Named for Number {
    async fn find(caller: &Caller, tenant: &Tenant, path: &Segments) -> Result<Self, ApiError> {
        Ok(caller
            .admin
            .number(tenant.id, segment(path, "number")?)
            .await?)
    }
}

/// Which kind of group a route's `{group}` is.
pub(super) trait GroupKind: Send {
    const KIND: OwnerKind;
}
/// Hunt groups' routes.
pub(super) struct Hunt;
/// Call centres' routes.
pub(super) struct Centre;
impl GroupKind for Hunt {
    const KIND: OwnerKind = OwnerKind::HuntGroup;
}
impl GroupKind for Centre {
    const KIND: OwnerKind = OwnerKind::CallCentre;
}

/// The hunt group or call centre (`K`) the `{group}` names, by id or name.
pub(super) struct Group<K>(pub CallGroup, PhantomData<fn() -> K>);

impl<K: GroupKind> Named for Group<K> {
    async fn find(caller: &Caller, tenant: &Tenant, path: &Segments) -> Result<Self, ApiError> {
        let key = segment(path, "group")?;
        let group = caller.admin.group(tenant.id, K::KIND, key).await?;
        Ok(Group(group, PhantomData))
    }
}

impl Named for VirtualUser {
    async fn find(caller: &Caller, tenant: &Tenant, path: &Segments) -> Result<Self, ApiError> {
        let key = segment(path, "virtual_user")?;
        Ok(caller.admin.virtual_user(tenant.id, key).await?)
    }
}

impl Named for Bridge {
    async fn find(caller: &Caller, tenant: &Tenant, path: &Segments) -> Result<Self, ApiError> {
        Ok(caller
            .admin
            .bridge(tenant.id, segment(path, "bridge")?)
            .await?)
    }
}

fn segment<'a>(path: &'a Segments, name: &'static str) -> Result<&'a str, Error> {
    // Only a route declared without the segment lacks it: nothing is there to find.
    path.get(name)
        .map(String::as_str)
        .ok_or_else(|| Error::not_found(name, ""))
}

/// A caller inside the `{tenant}` of the path: the tenant resolved (another tenant's is 404,
/// as if it did not exist), then what else the path names (`O`), then the role checked against
/// `R` (403, see [`Admits`]) — in that order, once, for every tenant-scoped route.
pub(super) struct Scoped<R, O = ()> {
    pub caller: Caller,
    pub tenant: Tenant,
    pub item: O,
    roles: PhantomData<fn() -> R>,
}

impl<R: Admits<O>, O: Named + Send> FromRequestParts<App> for Scoped<R, O> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, app).await?;
        let Path(path) = Path::<Segments>::from_request_parts(parts, app)
            .await
            .map_err(|r| ApiError::rejected("path", r.status(), r.body_text()))?;
        let tenant = visible_tenant(&caller, segment(&path, "tenant")?).await?;
        let item = O::find(&caller, &tenant, &path).await?;
        R::admits(&caller, &tenant, &item).await?;
        Ok(Scoped {
            caller,
            tenant,
            item,
            roles: PhantomData,
        })
    }
}

/// The tenant named in the path, if the caller may see it (else "not found").
async fn visible_tenant(caller: &Caller, key: &str) -> Result<Tenant, ApiError> {
    let tenant = caller.admin.tenant(key).await?;
    if caller.principal.sees(tenant.id) {
        Ok(tenant)
    } else {
        Err(Error::not_found("tenant", key).into())
    }
}

/// The caller's role is one of `roles` (else 403).
pub(super) fn require(caller: &Caller, roles: &[Role]) -> Result<(), ApiError> {
    if roles.contains(&caller.principal.role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Admins, or the user themselves (self-service).
pub(super) fn require_admin_or_self(caller: &Caller, user: UserId) -> Result<(), ApiError> {
    if Admins::ROLES.contains(&caller.principal.role) || caller.principal.user == Some(user) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Admins, or the user the number is assigned to.
pub(super) async fn require_admin_or_holder(
    caller: &Caller,
    tenant: &Tenant,
    number: &Number,
) -> Result<(), ApiError> {
    if Admins::ROLES.contains(&caller.principal.role) {
        return Ok(());
    }
    if let Some(me) = caller.principal.user {
        let user = caller.admin.store().user_get(tenant.id, me).await?;
        if user.number_id == Some(number.id) {
            return Ok(());
        }
    }
    Err(ApiError::Forbidden)
}
