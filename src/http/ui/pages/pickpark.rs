//! Pickup groups and park groups (000): the list with an add form, editing the name and the
//! members (and a park group's slots, typed as a range `800-809` or a list), deleting after a
//! page that asks. The rules (one pickup group per user, slots free extensions) are
//! `admin::pickpark`'s.

use std::collections::BTreeMap;

use axum::extract::Path;
use axum::response::Response;
use axum::Router;
use serde::Deserialize;

use super::super::{redirect_with, Form, TenantPage, UiError, View};
use super::forms::{self, all, one, Pairs};
use super::ADMINS;
use crate::admin::{ParkGroupInput, PickupGroupInput, SlotsInput};
use crate::app::App;
use crate::model::{ListQuery, Member, LIST_MAX};

pub(super) const TEMPLATES: &[(&str, &str)] = &[
    (
        "pickpark/list.html",
        include_str!("../templates/pickpark/list.html"),
    ),
    (
        "pickpark/edit.html",
        include_str!("../templates/pickpark/edit.html"),
    ),
    (
        "pickpark/form.html",
        include_str!("../templates/pickpark/form.html"),
    ),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pickup,
    Park,
}

impl Kind {
    fn segment(self) -> &'static str {
        match self {
            Kind::Pickup => "pickup-groups",
            Kind::Park => "park-groups",
        }
    }
}

pub(super) fn routes(router: Router<App>) -> Router<App> {
    use axum::routing::get;
    let mut router = router;
    for kind in [Kind::Pickup, Kind::Park] {
        let base = format!("/t/{{tenant}}/{}", kind.segment());
        router = router
            .route(
                &base,
                get(move |v: View, p: TenantPage| list(v, p, kind))
                    .post(move |v: View, p: TenantPage, f: Form<Pairs>| add(v, p, f, kind)),
            )
            .route(
                &format!("{base}/{{group}}"),
                get(move |v: View, p: TenantPage, g: Path<Key>| edit(v, p, g, kind)).post(
                    move |v: View, p: TenantPage, g: Path<Key>, f: Form<Pairs>| {
                        save(v, p, g, f, kind)
                    },
                ),
            )
            .route(
                &format!("{base}/{{group}}/delete"),
                get(move |v: View, p: TenantPage, g: Path<Key>| ask(v, p, g, kind))
                    .post(move |p: TenantPage, g: Path<Key>, f: Form<Pairs>| delete(p, g, f, kind)),
            );
    }
    router
}

#[derive(Deserialize)]
struct Key {
    group: String,
}

/// A pickup or park group as the pages show it.
struct Group {
    id: i64,
    name: String,
    members: Vec<Member>,
    slots: Vec<String>,
}

fn list_url(page: &TenantPage, kind: Kind) -> String {
    format!("/t/{}/{}", page.tenant.id.0, kind.segment())
}

async fn find(page: &TenantPage, kind: Kind, key: &str) -> Result<Group, UiError> {
    let admin = &page.session.caller().admin;
    Ok(match kind {
        Kind::Pickup => {
            let g = admin.pickup_group(page.tenant.id, key).await?;
            Group {
                id: g.id,
                name: g.name,
                members: g.members,
                slots: Vec::new(),
            }
        }
        Kind::Park => {
            let g = admin.park_group(page.tenant.id, key).await?;
            Group {
                id: g.id,
                name: g.name,
                members: g.members,
                slots: g.slots,
            }
        }
    })
}

/// The form's values: name, member ids, slots as typed.
#[derive(Default)]
struct GroupForm {
    name: String,
    members: Vec<String>,
    slots: String,
}

impl GroupForm {
    fn of(g: &Group) -> GroupForm {
        GroupForm {
            name: g.name.clone(),
            members: g.members.iter().map(|m| m.user_id.0.to_string()).collect(),
            slots: g.slots.join(", "),
        }
    }

    fn posted(p: &Pairs) -> GroupForm {
        GroupForm {
            name: one(p, "name"),
            members: all(p, "member")
                .into_iter()
                .filter(|m| !m.is_empty())
                .collect(),
            slots: one(p, "slots"),
        }
    }

    /// The slots as the admin takes them: `from-to` a range, else a list split at commas or
    /// spaces.
    fn slots(&self) -> SlotsInput {
        match self.slots.split_once('-') {
            Some((from, to)) if !from.contains(',') => SlotsInput::Range {
                from: from.trim().to_owned(),
                to: to.trim().to_owned(),
            },
            _ => SlotsInput::List(
                self.slots
                    .split([',', ' ', ';'])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
        }
    }

    async fn write(
        &self,
        page: &TenantPage,
        kind: Kind,
        current: Option<&str>,
    ) -> crate::error::Result<()> {
        let admin = &page.session.caller().admin;
        let t = page.tenant.id;
        match kind {
            Kind::Pickup => {
                let input = PickupGroupInput {
                    name: self.name.clone(),
                    members: self.members.clone(),
                };
                match current {
                    None => admin.pickup_group_add(t, &input).await.map(drop),
                    Some(key) => {
                        let g = admin.pickup_group(t, key).await?;
                        admin.pickup_group_set(t, &g, &input).await.map(drop)
                    }
                }
            }
            Kind::Park => {
                let input = ParkGroupInput {
                    name: self.name.clone(),
                    members: self.members.clone(),
                    slots: self.slots(),
                };
                match current {
                    None => admin.park_group_add(t, &input).await.map(drop),
                    Some(key) => {
                        let g = admin.park_group(t, key).await?;
                        admin.park_group_set(t, &g, &input).await.map(drop)
                    }
                }
            }
        }
    }
}

/// A conflict's input, by the field the rule names: an extension (a slot) is the slots', a
/// taken name the name's, a
/// user's (or none) the members'.
fn conflict_field(field: Option<&str>) -> &'static str {
    match field {
        Some("extension") => "slots",
        Some("name") => "name",
        _ => "members",
    }
}

async fn list(view: View, page: TenantPage, kind: Kind) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    render_list(&view, &page, kind, &GroupForm::default(), BTreeMap::new()).await
}

async fn render_list(
    view: &View,
    page: &TenantPage,
    kind: Kind,
    new: &GroupForm,
    errors: BTreeMap<String, String>,
) -> Result<Response, UiError> {
    let admin = &page.session.caller().admin;
    let query = ListQuery {
        limit: Some(LIST_MAX),
        ..Default::default()
    };
    let t = page.tenant.id;
    let groups: Vec<Group> = match kind {
        Kind::Pickup => admin
            .pickup_group_page(t, &query)
            .await?
            .items
            .into_iter()
            .map(|g| Group {
                id: g.id,
                name: g.name,
                members: g.members,
                slots: Vec::new(),
            })
            .collect(),
        Kind::Park => admin
            .park_group_page(t, &query)
            .await?
            .items
            .into_iter()
            .map(|g| Group {
                id: g.id,
                name: g.name,
                members: g.members,
                slots: g.slots,
            })
            .collect(),
    };
    let rows: Vec<_> = groups
        .iter()
        .map(|g| {
            minijinja::context! {
                id => g.id,
                name => g.name,
                members => g.members.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
                slots => g.slots.join(", "),
            }
        })
        .collect();
    let base = list_url(page, kind);
    Ok(view.render(
        Some(&page.session.0),
        "pickpark/list.html",
        minijinja::context! {
            tenant => forms::tenant_ctx(&page.tenant),
            k => kind.segment().replace('-', "_"),
            park => kind == Kind::Park,
            base => base,
            groups => rows,
            users => forms::users(page).await?,
            form => form_ctx(new),
            errors => errors,
        },
    ))
}

fn form_ctx(f: &GroupForm) -> minijinja::Value {
    minijinja::context! { name => f.name, members => f.members, slots => f.slots }
}

async fn add(
    view: View,
    page: TenantPage,
    form: Form<Pairs>,
    kind: Kind,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let posted = GroupForm::posted(&form.fields);
    match posted.write(&page, kind, None).await {
        Ok(()) => Ok(redirect_with(&list_url(&page, kind), "pickpark.added")),
        Err(e) => {
            let errors = forms::by_field(view.lang, e, conflict_field)?;
            let response = render_list(&view, &page, kind, &posted, errors).await?;
            Ok(forms::unprocessable(response))
        }
    }
}

async fn edit(
    view: View,
    page: TenantPage,
    Path(key): Path<Key>,
    kind: Kind,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let group = find(&page, kind, &key.group).await?;
    let form = GroupForm::of(&group);
    render_edit(&view, &page, kind, &group, &form, BTreeMap::new()).await
}

async fn render_edit(
    view: &View,
    page: &TenantPage,
    kind: Kind,
    group: &Group,
    form: &GroupForm,
    errors: BTreeMap<String, String>,
) -> Result<Response, UiError> {
    let base = list_url(page, kind);
    Ok(view.render(
        Some(&page.session.0),
        "pickpark/edit.html",
        minijinja::context! {
            tenant => forms::tenant_ctx(&page.tenant),
            k => kind.segment().replace('-', "_"),
            park => kind == Kind::Park,
            editing => group.name,
            base => base,
            action => format!("{base}/{}", group.id),
            users => forms::users(page).await?,
            form => form_ctx(form),
            errors => errors,
        },
    ))
}

async fn save(
    view: View,
    page: TenantPage,
    Path(key): Path<Key>,
    form: Form<Pairs>,
    kind: Kind,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let group = find(&page, kind, &key.group).await?;
    let posted = GroupForm::posted(&form.fields);
    match posted.write(&page, kind, Some(&group.id.to_string())).await {
        Ok(()) => Ok(redirect_with(&list_url(&page, kind), "pickpark.saved")),
        Err(e) => {
            let errors = forms::by_field(view.lang, e, conflict_field)?;
            let response = render_edit(&view, &page, kind, &group, &posted, errors).await?;
            Ok(forms::unprocessable(response))
        }
    }
}

async fn ask(
    view: View,
    page: TenantPage,
    Path(key): Path<Key>,
    kind: Kind,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let group = find(&page, kind, &key.group).await?;
    let base = list_url(&page, kind);
    let action = format!("{base}/{}/delete", group.id);
    Ok(forms::confirm(
        &view,
        &page,
        "pickpark",
        &group.name,
        &action,
        &base,
    ))
}

async fn delete(
    page: TenantPage,
    Path(key): Path<Key>,
    _form: Form<Pairs>,
    kind: Kind,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let t = page.tenant.id;
    match kind {
        Kind::Pickup => {
            let g = admin.pickup_group(t, &key.group).await?;
            admin.pickup_group_delete(t, &g).await?;
        }
        Kind::Park => {
            let g = admin.park_group(t, &key.group).await?;
            admin.park_group_delete(t, &g).await?;
        }
    }
    Ok(redirect_with(&list_url(&page, kind), "pickpark.deleted"))
}
