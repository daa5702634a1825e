//! Collaborate bridges (000): the list with an add form (a name, one of the tenant's available
//! numbers, an optional extension), editing one in place (issue 14) and deleting one after a
//! page that asks. The rules (the number free, the last bridge kept while MyRoom licences are
//! held) are `admin::bridges`'s.

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
use crate::model::{Bridge, ListQuery, LIST_MAX};

pub(super) const TEMPLATES: &[(&str, &str)] = &[
    (
        "bridges/list.html",
        include_str!("../templates/bridges/list.html"),
    ),
    (
        "bridges/edit.html",
        include_str!("../templates/bridges/edit.html"),
    ),
    (
        "bridges/form.html",
        include_str!("../templates/bridges/form.html"),
    ),
];

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/t/{tenant}/bridges", get(list).post(add))
        .route("/t/{tenant}/bridges/{bridge}", get(edit).post(save))
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
            form => form_ctx(new),
            errors => errors,
        },
    ))
}

fn input_of(p: &Pairs) -> BridgeInput {
    BridgeInput {
        name: one(p, "name"),
        number: one(p, "number"),
        extension: given(&one(p, "extension")),
    }
}

fn form_ctx(b: &BridgeInput) -> minijinja::Value {
    minijinja::context! {
        name => b.name,
        number => b.number,
        extension => b.extension.clone().unwrap_or_default(),
    }
}

/// Where a refusal is shown: a name or extension by its own field, anything else (the number
/// taken, not active, a main number) by the number.
fn field_of(f: Option<&str>) -> &'static str {
    match f {
        Some("extension") => "extension",
        Some("name") => "name",
        _ => "number",
    }
}

async fn add(view: View, page: TenantPage, form: Form<Pairs>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let input = input_of(&form.fields);
    let admin = &page.session.caller().admin;
    match admin.bridge_add(page.tenant.id, &input).await {
        Ok(_) => Ok(redirect_with(&list_url(&page), "bridges.added")),
        Err(e) => {
            let errors = forms::by_field(view.lang, e, field_of)?;
            let response = render(&view, &page, &input, errors).await?;
            Ok(forms::unprocessable(response))
        }
    }
}

fn render_edit(
    view: &View,
    page: &TenantPage,
    current: &Bridge,
    form: &BridgeInput,
    errors: BTreeMap<String, String>,
) -> Response {
    let base = list_url(page);
    view.render(
        Some(&page.session.0),
        "bridges/edit.html",
        minijinja::context! {
            tenant => forms::tenant_ctx(&page.tenant),
            editing => current.name,
            base => base,
            action => format!("{base}/{}", current.id),
            form => form_ctx(form),
            errors => errors,
        },
    )
}

async fn edit(view: View, page: TenantPage, Path(key): Path<Key>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let current = admin.bridge(page.tenant.id, &key.bridge).await?;
    let form = BridgeInput {
        name: current.name.clone(),
        number: current.number.to_string(),
        extension: current.extension.clone(),
    };
    Ok(render_edit(&view, &page, &current, &form, BTreeMap::new()))
}

async fn save(
    view: View,
    page: TenantPage,
    Path(key): Path<Key>,
    form: Form<Pairs>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let current = admin.bridge(page.tenant.id, &key.bridge).await?;
    let input = input_of(&form.fields);
    match admin.bridge_set(page.tenant.id, &current, &input).await {
        Ok(_) => Ok(redirect_with(&list_url(&page), "bridges.saved")),
        Err(e) => {
            let errors = forms::by_field(view.lang, e, field_of)?;
            let response = render_edit(&view, &page, &current, &input, errors);
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
