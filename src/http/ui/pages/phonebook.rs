//! The phone directory's own entries (000): the list, adding and deleting an entry, a CSV
//! upload through the Import page's reader and its dry-run-then-commit flow (the `directory`
//! kind; bad rows shown against their lines) and the CSV download (`Admin::export`).

use std::collections::BTreeMap;

use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::super::{page_links, redirect_with, Form, TenantPage, UiError, View};
use super::forms::{self, given, one, Pairs};
use super::imports::{check_or_commit, Outcome, Upload};
use super::ADMINS;
use crate::admin::import::KindName;
use crate::admin::DirectoryEntryInput;
use crate::app::App;
use crate::model::ListQuery;

pub(super) const TEMPLATES: &[(&str, &str)] = &[(
    "phonebook/list.html",
    include_str!("../templates/phonebook/list.html"),
)];

/// Entries a page shows.
const PAGE_SIZE: u32 = 50;

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/t/{tenant}/directory", get(list).post(add))
        .route("/t/{tenant}/directory/import", post(upload))
        .route("/t/{tenant}/directory/export", get(download))
        .route("/t/{tenant}/directory/{entry}/delete", post(delete))
}

#[derive(Deserialize, Default)]
struct Search {
    q: Option<String>,
    offset: Option<u32>,
}

#[derive(Deserialize)]
struct Key {
    entry: String,
}

fn list_url(page: &TenantPage) -> String {
    format!("/t/{}/directory", page.tenant.id.0)
}

async fn list(
    view: View,
    page: TenantPage,
    Query(search): Query<Search>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let parts = Parts::default();
    render(&view, &page, &search, parts).await
}

/// What the page shows besides the list: the add form's values and errors, and an upload's
/// report.
#[derive(Default)]
struct Parts {
    new: Pairs,
    errors: BTreeMap<String, String>,
    report: Outcome,
}

async fn add(view: View, page: TenantPage, form: Form<Pairs>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let f = &form.fields;
    let input = DirectoryEntryInput {
        first_name: given(&one(f, "first_name")),
        last_name: given(&one(f, "last_name")),
        company: given(&one(f, "company")),
        number: one(f, "number"),
        site: given(&one(f, "site")),
    };
    let admin = &page.session.caller().admin;
    match admin.directory_add(page.tenant.id, &input).await {
        Ok(_) => Ok(redirect_with(&list_url(&page), "phonebook.added")),
        Err(e) => {
            let parts = Parts {
                new: form.fields.clone(),
                errors: forms::by_field(view.lang, e, |_| "number")?,
                report: Outcome::default(),
            };
            let response = render(&view, &page, &Search::default(), parts).await?;
            Ok(forms::unprocessable(response))
        }
    }
}

async fn delete(
    page: TenantPage,
    Path(key): Path<Key>,
    _form: Form<Pairs>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let entry = admin.directory_entry(page.tenant.id, &key.entry).await?;
    admin.directory_remove(page.tenant.id, &entry).await?;
    Ok(redirect_with(&list_url(&page), "phonebook.deleted"))
}

/// The upload: checked as a dry run, or committed from the dry run's page.
async fn upload(view: View, page: TenantPage, form: Upload) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let report = check_or_commit(&page, KindName::Directory, &form).await?;
    let status = report.status();
    let parts = Parts {
        report,
        ..Parts::default()
    };
    let mut response = render(&view, &page, &Search::default(), parts).await?;
    *response.status_mut() = status;
    Ok(response)
}

async fn download(page: TenantPage) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let mut csv = Vec::new();
    page.session
        .caller()
        .admin
        .export(KindName::Directory, page.tenant.id, &mut csv)
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"directory.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

async fn render(
    view: &View,
    page: &TenantPage,
    search: &Search,
    parts: Parts,
) -> Result<Response, UiError> {
    let admin = &page.session.caller().admin;
    let q = search.q.clone().filter(|q| !q.trim().is_empty());
    let offset = search.offset.unwrap_or(0);
    let query = ListQuery {
        limit: Some(PAGE_SIZE),
        offset: Some(offset),
        q: q.clone(),
    };
    let listed = admin.directory_page(page.tenant.id, None, &query).await?;
    let sites = admin.site_list(page.tenant.id).await?;
    let site_name = |id| sites.iter().find(|s| s.id == id).map(|s| s.name.clone());
    let entries: Vec<_> = listed
        .items
        .iter()
        .map(|e| {
            minijinja::context! {
                id => e.id.0,
                name => e.name,
                company => e.company,
                number => e.number,
                site => e.site_id.and_then(site_name),
            }
        })
        .collect();
    let base = list_url(page);
    let search_pairs: Vec<_> = q.iter().map(|q| ("q", q.clone())).collect();
    let (prev, next) = page_links(&base, &search_pairs, offset, PAGE_SIZE, listed.total);
    let new = &parts.new;
    Ok(view.render(
        Some(&page.session.0),
        "phonebook/list.html",
        minijinja::context! {
            tenant => forms::tenant_ctx(&page.tenant),
            base => base,
            action => format!("{base}/import"),
            entries => entries,
            total => listed.total,
            q => q.unwrap_or_default(),
            prev => prev,
            next => next,
            sites => sites.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            new => minijinja::context! {
                first_name => one(new, "first_name"),
                last_name => one(new, "last_name"),
                company => one(new, "company"),
                number => one(new, "number"),
                site => one(new, "site"),
            },
            add_errors => parts.errors,
            ..parts.report.context()
        },
    ))
}
