//! The audit trail: every admin change with who, when, what, and the record before and after,
//! newest first; filtered by who, what (the kind of object and the action) and a date range,
//! and paged in SQL (the admin operation bounds the page). A tenant's admin sees the tenant's
//! (`/t/{tenant}/audit`); the operator also the whole platform's (`/operator/audit`: every
//! tenant's entries and the platform's own — tenants, number allocation, portal accounts — with
//! a tenant column and a filter by tenant). Anyone else gets the 403 page.

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::super::{page_links, AnySession, Session, TenantPage, UiError, View};
use super::refusal::{given, refusal};
use super::ADMINS;
use crate::app::App;
use crate::error::{Error, Result};
use crate::model::{AuditAction, AuditEntity, Role};
use crate::store::{AuditEntry, AuditFilter};

pub(super) const TEMPLATES: &[(&str, &str)] = &[(
    "audit/list.html",
    include_str!("../templates/audit/list.html"),
)];

/// Entries a page shows.
const PAGE_SIZE: u32 = 50;

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/t/{tenant}/audit", get(list))
        .route("/operator/audit", get(platform))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Filters {
    actor: String,
    entity: String,
    action: String,
    /// `YYYY-MM-DD`, UTC, inclusive.
    from: String,
    to: String,
    /// The operator's page only: a tenant's id or name, `platform` for the platform's own
    /// entries, empty for all.
    tenant: String,
    offset: Option<u32>,
}

/// What the tenant filter of the operator's page asks for.
const PLATFORM: &str = "platform";

/// The first second (UTC) of a typed day, or the rule-style error by its field.
fn day_start(field: &'static str, text: &str) -> Result<Option<i64>> {
    let Some(text) = given(text) else {
        return Ok(None);
    };
    let date: jiff::civil::Date = text
        .parse()
        .map_err(|_| Error::invalid(field, format!("{text:?} is not a date like 2026-12-31")))?;
    let start = date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|_| Error::invalid(field, format!("{text:?} is out of range")))?;
    Ok(Some(start.timestamp().as_second()))
}

fn filter(f: &Filters, offset: u32) -> Result<AuditFilter> {
    Ok(AuditFilter {
        actor: given(&f.actor),
        entity: given(&f.entity),
        entity_id: None,
        action: given(&f.action),
        since: day_start("from", &f.from)?,
        until: day_start("to", &f.to)?.map(|s| s + 86_399),
        platform_only: false,
        limit: i64::from(PAGE_SIZE),
        offset: i64::from(offset),
    })
}

async fn list(view: View, page: TenantPage, Query(f): Query<Filters>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let found = match filter(&f, f.offset.unwrap_or(0)) {
        Ok(filter) => admin.audit(Some(page.tenant.id), &filter).await,
        Err(e) => Err(e),
    };
    let base = format!("/t/{}/audit", page.tenant.id.0);
    let tenant = minijinja::context! { id => page.tenant.id.0, name => page.tenant.name };
    answer(&view, &page.session.0, &f, found, &base, tenant, None)
}

/// The operator's view of the whole platform's trail, with its tenant column and filter.
async fn platform(
    view: View,
    session: Session,
    Query(f): Query<Filters>,
) -> Result<Response, UiError> {
    session.require(&[Role::PlatformAdmin])?;
    let admin = &session.caller().admin;
    let tenants = admin.tenant_list().await?;
    let names: BTreeMap<i64, String> = tenants.iter().map(|t| (t.id.0, t.name.clone())).collect();
    let scope = match f.tenant.trim() {
        "" => Ok((None, false)),
        PLATFORM => Ok((None, true)),
        key => tenants
            .iter()
            .find(|t| t.id.0.to_string() == key || t.name == key)
            .map(|t| (Some(t.id), false))
            .ok_or_else(|| Error::invalid("tenant", format!("there is no tenant {key:?}"))),
    };
    let found = match (scope, filter(&f, f.offset.unwrap_or(0))) {
        (Ok((tenant, platform_only)), Ok(filter)) => {
            let filter = AuditFilter {
                platform_only,
                ..filter
            };
            admin.audit(tenant, &filter).await
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let options: Vec<_> = tenants
        .iter()
        .map(|t| minijinja::context! { id => t.id.0.to_string(), name => t.name })
        .collect();
    let platform = Platform { names, options };
    answer(
        &view,
        &session.0,
        &f,
        found,
        "/operator/audit",
        (),
        Some(platform),
    )
}

/// The operator's page's extras: tenant names by id (for the column) and the filter's choices.
struct Platform {
    names: BTreeMap<i64, String>,
    options: Vec<minijinja::Value>,
}

/// The trail's page for what was `found` with the filters `f`: entries, counts, paging links
/// that keep the filters, or the filters' errors by field.
fn answer(
    view: &View,
    me: &AnySession,
    f: &Filters,
    found: Result<(Vec<AuditEntry>, i64)>,
    base: &str,
    tenant: impl serde::Serialize,
    platform: Option<Platform>,
) -> Result<Response, UiError> {
    let offset = f.offset.unwrap_or(0);
    let (entries, total, errors, status) = match found {
        Ok((entries, total)) => (entries, total, BTreeMap::new(), StatusCode::OK),
        Err(e) => {
            let (errors, status) = refusal(view.lang, e, "actor")?;
            (Vec::new(), 0, errors, status)
        }
    };
    let pairs: Vec<(&str, String)> = [
        ("tenant", &f.tenant),
        ("actor", &f.actor),
        ("entity", &f.entity),
        ("action", &f.action),
        ("from", &f.from),
        ("to", &f.to),
    ]
    .into_iter()
    .filter(|(k, v)| !v.trim().is_empty() && (platform.is_some() || *k != "tenant"))
    .map(|(k, v)| (k, v.clone()))
    .collect();
    let total = u64::try_from(total).unwrap_or(0);
    let (prev, next) = page_links(base, &pairs, offset, PAGE_SIZE, total);
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            let tenant = platform.as_ref().map(|p| match e.tenant_id {
                Some(id) => p.names.get(&id).cloned().unwrap_or_else(|| id.to_string()),
                None => String::new(),
            });
            entry(e, tenant)
        })
        .collect();
    let mut response = view.render(
        Some(me),
        "audit/list.html",
        minijinja::context! {
            tenant => tenant,
            platform => platform.is_some(),
            tenants => platform.map(|p| p.options).unwrap_or_default(),
            action => base,
            entries => rows,
            total => total,
            first => if total == 0 { 0 } else { u64::from(offset) + 1 },
            last => u64::from(offset) + entries.len() as u64,
            prev => prev,
            next => next,
            f => minijinja::context! {
                actor => f.actor, entity => f.entity, action => f.action,
                from => f.from, to => f.to, tenant => f.tenant.trim(),
            },
            entities => AuditEntity::ALL.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
            actions => AuditAction::ALL.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            errors => errors,
        },
    );
    *response.status_mut() = status;
    Ok(response)
}

/// One entry as the page shows it; `tenant` is the tenant column's text on the operator's page
/// (empty: the platform's own entry).
fn entry(e: &AuditEntry, tenant: Option<String>) -> minijinja::Value {
    let when = jiff::Timestamp::from_second(e.at)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let pretty = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .and_then(|v| serde_json::to_string_pretty(v).ok())
    };
    minijinja::context! {
        id => e.id,
        tenant => tenant,
        when => when,
        actor => e.actor,
        entity => e.entity,
        entity_id => e.entity_id,
        action => e.action,
        before => pretty(&e.before),
        after => pretty(&e.after),
    }
}
