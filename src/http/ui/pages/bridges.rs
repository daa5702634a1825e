//! Collaborate bridges (000): the list with an add form (a name, one of the tenant's available
//! numbers, an optional extension) and deleting one after a page that asks. The rules (the
//! number free, the last bridge kept while MyRoom licences are held) are `admin::bridges`'s.

use std::collections::BTreeMap;

use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::super::{redirect_with, Form, TenantPage, UiError, View};
use super::forms::{self, given, one, Pairs};
use super::ADMINS;
use crate::admin::BridgeInput;
use crate::app::App;
use crate::model::{ListQuery, LIST_MAX};

pub(super) const TEMPLATES: &[(&str, &str)] = &[(
    "bridges/list.html",
    include_str!("../templates/bridges/list.html"),
)];

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/t/{tenant}/bridges", get(list).post(add))
        .route("/t/{tenant}/bridges/{bridge}/delete", get(ask).post(delete))
}

#[derive(Deserialize)]
struct Key {
    bridge: String,
}

fn list_url(page: &TenantPage) -> String {
    format!("/t/{}/bridges", page.tenant.id.0)
}

async fn list(view: View, page: TenantPage) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    render(&view, &page, &BridgeInput::default(), BTreeMap::new()).await
}

async fn render(
    view: &View,
    page: &TenantPage,
    new: &BridgeInput,
    errors: BTreeMap<String, String>,
) -> Result<Response, UiError> {
    let query = ListQuery {
        limit: Some(LIST_MAX),
        ..Default::default()
    };
    let listed = page
        .session
        .caller()
        .admin
        .bridge_page(page.tenant.id, &query)
        .await?;
    let rows: Vec<_> = listed
        .items
        .iter()
        .map(|b| {
            minijinja::context! {
                id => b.id,
                name => b.name,
                number => b.number.as_str(),
                extension => b.extension,
            }
        })
        .collect();
    Ok(view.render(
        Some(&page.session.0),
        "bridges/list.html",
        minijinja::context! {
            tenant => forms::tenant_ctx(&page.tenant),
            base => list_url(page),
            rows => rows,
            form => minijinja::context! {
                name => new.name,
                number => new.number,
                extension => new.extension.clone().unwrap_or_default(),
            },
            errors => errors,
        },
    ))
}

async fn add(view: View, page: TenantPage, form: Form<Pairs>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let f = &form.fields;
    let input = BridgeInput {
        name: one(f, "name"),
        number: one(f, "number"),
        extension: given(&one(f, "extension")),
    };
    let admin = &page.session.caller().admin;
    match admin.bridge_add(page.tenant.id, &input).await {
        Ok(_) => Ok(redirect_with(&list_url(&page), "bridges.added")),
        Err(e) => {
            let field = |f: Option<&str>| match f {
                Some("extension") => "extension",
                _ => "number",
            };
            let errors = forms::by_field(view.lang, e, field)?;
            let response = render(&view, &page, &input, errors).await?;
            Ok(forms::unprocessable(response))
        }
    }
}

async fn ask(view: View, page: TenantPage, Path(key): Path<Key>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let bridge = admin.bridge(page.tenant.id, &key.bridge).await?;
    let base = list_url(&page);
    let action = format!("{base}/{}/delete", bridge.id);
    Ok(forms::confirm(
        &view,
        &page,
        "bridges",
        &bridge.name,
        &action,
        &base,
    ))
}

/// Deleting the last bridge while MyRoom licences are held is refused: that conflict is shown
/// on the list.
async fn delete(
    view: View,
    page: TenantPage,
    Path(key): Path<Key>,
    _form: Form<Pairs>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let bridge = admin.bridge(page.tenant.id, &key.bridge).await?;
    match admin.bridge_delete(page.tenant.id, &bridge).await {
        Ok(()) => Ok(redirect_with(&list_url(&page), "bridges.deleted")),
        Err(e) => {
            let errors = forms::by_field(view.lang, e, |_| "delete")?;
            let response = render(&view, &page, &BridgeInput::default(), errors).await?;
            Ok(forms::unprocessable(response))
        }
    }
}
