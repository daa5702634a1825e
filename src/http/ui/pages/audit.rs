//! A tenant's audit trail: every admin change with who, when, what, and the record before and
//! after, newest first; filtered by who, what (the kind of object and the action) and a date
//! range, and paged (the admin operation bounds the page).

use std::collections::BTreeMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::super::{page_links, TenantPage, UiError, View};
use super::refusal::{given, refusal};
use super::ADMINS;
use crate::app::App;
use crate::error::{Error, Result};
use crate::model::{AuditAction, AuditEntity};
use crate::store::{AuditEntry, AuditFilter};

pub(super) const TEMPLATES: &[(&str, &str)] = &[(
    "audit/list.html",
    include_str!("../templates/audit/list.html"),
)];

/// Entries a page shows.
const PAGE_SIZE: u32 = 50;

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router.route("/t/{tenant}/audit", get(list))
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
    offset: Option<u32>,
}

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
        limit: i64::from(PAGE_SIZE),
        offset: i64::from(offset),
    })
}

async fn list(view: View, page: TenantPage, Query(f): Query<Filters>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let offset = f.offset.unwrap_or(0);
    let admin = &page.session.caller().admin;
    let found = match filter(&f, offset) {
        Ok(filter) => admin.audit(Some(page.tenant.id), &filter).await,
        Err(e) => Err(e),
    };
    let (entries, total, errors, status) = match found {
        Ok((entries, total)) => (entries, total, BTreeMap::new(), StatusCode::OK),
        Err(e) => {
            let (errors, status) = refusal(e, "actor")?;
            (Vec::new(), 0, errors, status)
        }
    };
    let base = format!("/t/{}/audit", page.tenant.id.0);
    let pairs: Vec<(&str, String)> = [
        ("actor", &f.actor),
        ("entity", &f.entity),
        ("action", &f.action),
        ("from", &f.from),
        ("to", &f.to),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| (k, v.clone()))
    .collect();
    let total = u64::try_from(total).unwrap_or(0);
    let (prev, next) = page_links(&base, &pairs, offset, PAGE_SIZE, total);
    let mut response = view.render(
        Some(&page.session.0),
        "audit/list.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            action => base,
            entries => entries.iter().map(entry).collect::<Vec<_>>(),
            total => total,
            first => if total == 0 { 0 } else { u64::from(offset) + 1 },
            last => u64::from(offset) + entries.len() as u64,
            prev => prev,
            next => next,
            f => minijinja::context! {
                actor => f.actor, entity => f.entity, action => f.action,
                from => f.from, to => f.to,
            },
            entities => AuditEntity::ALL.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
            actions => AuditAction::ALL.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            errors => errors,
        },
    );
    *response.status_mut() = status;
    Ok(response)
}

fn entry(e: &AuditEntry) -> minijinja::Value {
    let when = jiff::Timestamp::from_second(e.at)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let pretty = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .and_then(|v| serde_json::to_string_pretty(v).ok())
    };
    minijinja::context! {
        id => e.id,
        when => when,
        actor => e.actor,
        entity => e.entity,
        entity_id => e.entity_id,
        action => e.action,
        before => pretty(&e.before),
        after => pretty(&e.after),
    }
}
