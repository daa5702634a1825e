//! The phone directory's own entries (000): the list (searched, and filtered by the site whose
//! phones show them), adding, editing in place (issue 14) and deleting an entry, a CSV
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
use crate::model::{DirectoryEntry, ListQuery, Site};

pub(super) const TEMPLATES: &[(&str, &str)] = &[
    (
        "phonebook/list.html",
        include_str!("../templates/phonebook/list.html"),
    ),
    (
        "phonebook/edit.html",
        include_str!("../templates/phonebook/edit.html"),
    ),
    (
        "phonebook/form.html",
        include_str!("../templates/phonebook/form.html"),
    ),
];

/// Entries a page shows.
const PAGE_SIZE: u32 = 50;

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/t/{tenant}/directory", get(list).post(add))
        .route("/t/{tenant}/directory/import", post(upload))
        .route("/t/{tenant}/directory/export", get(download))
        .route("/t/{tenant}/directory/{entry}", get(edit).post(save))
        .route("/t/{tenant}/directory/{entry}/delete", post(delete))
}

#[derive(Deserialize, Default)]
struct Search {
    q: Option<String>,
    /// A site's name: the entries its phones show (its own and the tenant-wide ones).
    site: Option<String>,
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
    let input = input_of(&form.fields);
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

fn input_of(f: &Pairs) -> DirectoryEntryInput {
    DirectoryEntryInput {
        first_name: given(&one(f, "first_name")),
        last_name: given(&one(f, "last_name")),
        company: given(&one(f, "company")),
        number: one(f, "number"),
        site: given(&one(f, "site")),
    }
}

fn form_ctx(e: &DirectoryEntryInput) -> minijinja::Value {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    minijinja::context! {
        first_name => text(&e.first_name),
        last_name => text(&e.last_name),
        company => text(&e.company),
        number => e.number,
        site => text(&e.site),
    }
}

fn site_names(sites: &[Site]) -> Vec<String> {
    sites.iter().map(|s| s.name.clone()).collect()
}

async fn render_edit(
    view: &View,
    page: &TenantPage,
    current: &DirectoryEntry,
    form: &DirectoryEntryInput,
    errors: BTreeMap<String, String>,
) -> Result<Response, UiError> {
    let sites = page
        .session
        .caller()
        .admin
        .site_list(page.tenant.id)
        .await?;
    let base = list_url(page);
    Ok(view.render(
        Some(&page.session.0),
        "phonebook/edit.html",
        minijinja::context! {
            tenant => forms::tenant_ctx(&page.tenant),
            editing => current.name,
            base => base,
            action => format!("{base}/{}", current.id.0),
            sites => site_names(&sites),
            form => form_ctx(form),
            errors => errors,
        },
    ))
}

async fn edit(view: View, page: TenantPage, Path(key): Path<Key>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let current = admin.directory_entry(page.tenant.id, &key.entry).await?;
    let sites = admin.site_list(page.tenant.id).await?;
    let site = current
        .site_id
        .and_then(|id| sites.iter().find(|s| s.id == id))
        .map(|s| s.name.clone());
    let form = DirectoryEntryInput {
        first_name: current.first_name.clone(),
        last_name: current.last_name.clone(),
        company: current.company.clone(),
        number: current.number.clone(),
        site,
    };
    render_edit(&view, &page, &current, &form, BTreeMap::new()).await
}

async fn save(
    view: View,
    page: TenantPage,
    Path(key): Path<Key>,
    form: Form<Pairs>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let current = admin.directory_entry(page.tenant.id, &key.entry).await?;
    let input = input_of(&form.fields);
    match admin.directory_edit(page.tenant.id, &current, &input).await {
        Ok(_) => Ok(redirect_with(&list_url(&page), "phonebook.saved")),
        Err(e) => {
            let errors = forms::by_field(view.lang, e, |_| "number")?;
            let response = render_edit(&view, &page, &current, &input, errors).await?;
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
    let sites = admin.site_list(page.tenant.id).await?;
    // Only a site of the list filters: an unknown name (a stale link) shows every entry.
    let site = search
        .site
        .as_deref()
        .and_then(|name| sites.iter().find(|s| s.name == name));
    let site_key = site.map(|s| s.id.0.to_string());
    let listed = admin
        .directory_page(page.tenant.id, site_key.as_deref(), &query)
        .await?;
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
    let mut search_pairs: Vec<_> = q.iter().map(|q| ("q", q.clone())).collect();
    search_pairs.extend(site.map(|s| ("site", s.name.clone())));
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
            site => site.map(|s| s.name.clone()).unwrap_or_default(),
            prev => prev,
            next => next,
            sites => site_names(&sites),
            new => form_ctx(&input_of(new)),
            add_errors => parts.errors,
            ..parts.report.context()
        },
    ))
}
