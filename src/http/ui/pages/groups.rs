//! Groups and shared resources (issue 12's objects): the index page linking each kind, and
//! hunt groups and call centres (000, 001) — the list, adding and editing one (policy, agents
//! in order from a user picker with their weights, skip after N rings, where unanswered calls
//! go, voicemail; a call centre's queue and supervisors) and deleting one after a page that
//! asks. Every rule is `admin::groups`'s; its errors are shown by their field.

use std::collections::BTreeMap;

use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::super::{redirect_with, Form, TenantPage, UiError, View};
use super::forms::{self, all, given, int, one, Pairs};
use super::ADMINS;
use crate::admin::{AgentInput, GroupInput, QueueInput};
use crate::app::App;
use crate::model::{CallGroup, HuntPolicy, OwnerKind};

pub(super) const TEMPLATES: &[(&str, &str)] = &[
    (
        "groups/index.html",
        include_str!("../templates/groups/index.html"),
    ),
    (
        "groups/list.html",
        include_str!("../templates/groups/list.html"),
    ),
    (
        "groups/edit.html",
        include_str!("../templates/groups/edit.html"),
    ),
    (
        "groups/confirm.html",
        include_str!("../templates/groups/confirm.html"),
    ),
    (
        "groups/fields.html",
        include_str!("../templates/groups/fields.html"),
    ),
];

/// Agent rows the form shows empty below the current agents.
const EMPTY_AGENTS: usize = 3;

pub(super) fn routes(router: Router<App>) -> Router<App> {
    let mut router = router.route("/t/{tenant}/groups", get(index));
    for kind in [OwnerKind::HuntGroup, OwnerKind::CallCentre] {
        let base = format!("/t/{{tenant}}/{}", segment(kind));
        router = router
            .route(
                &base,
                get(move |v: View, p: TenantPage| list(v, p, kind))
                    .post(move |v: View, p: TenantPage, f: Form<Pairs>| add(v, p, f, kind)),
            )
            .route(
                &format!("{base}/new"),
                get(move |v: View, p: TenantPage| new(v, p, kind)),
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

/// The group of the path, by id or name.
#[derive(Deserialize)]
struct Key {
    group: String,
}

/// The path segment (and catalogue prefix) of a kind.
fn segment(kind: OwnerKind) -> &'static str {
    match kind {
        OwnerKind::CallCentre => "call-centres",
        _ => "hunt-groups",
    }
}

fn list_url(page: &TenantPage, kind: OwnerKind) -> String {
    format!("/t/{}/{}", page.tenant.id.0, segment(kind))
}

async fn index(view: View, page: TenantPage) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    Ok(view.render(
        Some(&page.session.0),
        "groups/index.html",
        minijinja::context! { tenant => forms::tenant_ctx(&page.tenant) },
    ))
}

async fn list(view: View, page: TenantPage, kind: OwnerKind) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let query = crate::model::ListQuery {
        limit: Some(crate::model::LIST_MAX),
        ..Default::default()
    };
    let listed = page
        .session
        .caller()
        .admin
        .group_page(page.tenant.id, kind, &query)
        .await?;
    let groups: Vec<_> = listed
        .items
        .iter()
        .map(|g| {
            minijinja::context! {
                id => g.id,
                name => g.name,
                number => g.number.as_ref().map(|n| n.as_str()),
                extension => g.extension,
                policy => g.policy.as_str(),
                agents => g.agents.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
            }
        })
        .collect();
    Ok(view.render(
        Some(&page.session.0),
        "groups/list.html",
        minijinja::context! {
            tenant => forms::tenant_ctx(&page.tenant),
            kind => segment(kind),
            k => segment(kind).replace('-', "_"),
            centre => kind == OwnerKind::CallCentre,
            base => list_url(&page, kind),
            groups => groups,
            total => listed.total,
        },
    ))
}

/// The form's values as text, from a group or from what was posted.
#[derive(Default)]
struct GroupForm {
    name: String,
    number: String,
    extension: String,
    policy: String,
    /// (user id, weight) in order.
    agents: Vec<(String, String)>,
    skip_after_rings: String,
    forward_to: String,
    voicemail: bool,
    voicemail_email: String,
    queue_length: String,
    queue_announcement: String,
    queue_max_wait_secs: String,
    supervisors: Vec<String>,
}

impl GroupForm {
    fn of(g: &CallGroup) -> GroupForm {
        GroupForm {
            name: g.name.clone(),
            number: g.number.as_ref().map(|n| n.to_string()).unwrap_or_default(),
            extension: g.extension.clone().unwrap_or_default(),
            policy: g.policy.as_str().to_owned(),
            agents: g
                .agents
                .iter()
                .map(|a| {
                    let weight = a.weight.map(|w| w.to_string()).unwrap_or_default();
                    (a.user_id.0.to_string(), weight)
                })
                .collect(),
            skip_after_rings: g.skip_after_rings.to_string(),
            forward_to: g
                .forward_to
                .as_ref()
                .map(|f| f.stored())
                .unwrap_or_default(),
            voicemail: g.voicemail,
            voicemail_email: g.voicemail_email.clone().unwrap_or_default(),
            queue_length: g
                .queue
                .as_ref()
                .map(|q| q.length.to_string())
                .unwrap_or_default(),
            queue_announcement: g
                .queue
                .as_ref()
                .and_then(|q| q.announcement.clone())
                .unwrap_or_default(),
            queue_max_wait_secs: g
                .queue
                .as_ref()
                .map(|q| q.max_wait_secs.to_string())
                .unwrap_or_default(),
            supervisors: g
                .supervisors
                .iter()
                .map(|s| s.user_id.0.to_string())
                .collect(),
        }
    }

    fn posted(p: &Pairs) -> GroupForm {
        let users = all(p, "agent");
        let weights = all(p, "weight");
        let agents = users
            .into_iter()
            .enumerate()
            .filter(|(_, u)| !u.is_empty())
            .map(|(i, u)| (u, weights.get(i).cloned().unwrap_or_default()))
            .collect();
        GroupForm {
            name: one(p, "name"),
            number: one(p, "number"),
            extension: one(p, "extension"),
            policy: one(p, "policy"),
            agents,
            skip_after_rings: one(p, "skip_after_rings"),
            forward_to: one(p, "forward_to"),
            voicemail: one(p, "voicemail") == "on",
            voicemail_email: one(p, "voicemail_email"),
            queue_length: one(p, "queue_length"),
            queue_announcement: one(p, "queue_announcement"),
            queue_max_wait_secs: one(p, "queue_max_wait_secs"),
            supervisors: all(p, "supervisor")
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect(),
        }
    }

    /// What the admin operation takes; a number that does not parse is an error by its field.
    fn input(&self, kind: OwnerKind) -> crate::error::Result<GroupInput> {
        let mut agents = Vec::with_capacity(self.agents.len());
        for (user, weight) in &self.agents {
            agents.push(AgentInput {
                user: user.clone(),
                weight: int("agents", weight)?,
            });
        }
        let centre = kind == OwnerKind::CallCentre;
        let queue = match centre {
            true => Some(QueueInput {
                length: int("queue.length", &self.queue_length)?,
                announcement: given(&self.queue_announcement),
                max_wait_secs: int("queue.max_wait_secs", &self.queue_max_wait_secs)?,
            }),
            false => None,
        };
        Ok(GroupInput {
            name: self.name.clone(),
            number: given(&self.number),
            extension: given(&self.extension),
            policy: given(&self.policy),
            agents,
            skip_after_rings: int("skip_after_rings", &self.skip_after_rings)?,
            forward_to: given(&self.forward_to),
            voicemail: self.voicemail,
            voicemail_email: given(&self.voicemail_email),
            queue,
            supervisors: if centre {
                self.supervisors.clone()
            } else {
                Vec::new()
            },
        })
    }

    /// The input a conflict is about, by the field the rule names: the number or extension,
    /// else the members (a pending agent or supervisor).
    fn conflict_field(&self, field: Option<&str>) -> &'static str {
        match field {
            Some("extension") => "extension",
            Some("number") => "number",
            _ => "agents",
        }
    }
}

async fn new(view: View, page: TenantPage, kind: OwnerKind) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let form = GroupForm {
        policy: "regular".into(),
        skip_after_rings: "3".into(),
        ..Default::default()
    };
    render(&view, &page, kind, None, &form, BTreeMap::new()).await
}

async fn add(
    view: View,
    page: TenantPage,
    form: Form<Pairs>,
    kind: OwnerKind,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let posted = GroupForm::posted(&form.fields);
    let admin = &page.session.caller().admin;
    let result = match posted.input(kind) {
        Ok(input) => admin
            .group_add(page.tenant.id, kind, &input)
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    answer(&view, &page, kind, None, &posted, result, "added").await
}

async fn edit(
    view: View,
    page: TenantPage,
    Path(key): Path<Key>,
    kind: OwnerKind,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let group = admin.group(page.tenant.id, kind, &key.group).await?;
    let form = GroupForm::of(&group);
    render(&view, &page, kind, Some(&group), &form, BTreeMap::new()).await
}

async fn save(
    view: View,
    page: TenantPage,
    Path(key): Path<Key>,
    form: Form<Pairs>,
    kind: OwnerKind,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let group = admin.group(page.tenant.id, kind, &key.group).await?;
    let posted = GroupForm::posted(&form.fields);
    let result = match posted.input(kind) {
        Ok(input) => admin
            .group_replace(page.tenant.id, &group, &input)
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    answer(&view, &page, kind, Some(&group), &posted, result, "saved").await
}

/// Back to the list with `flash`, or the form again with the error by its field.
async fn answer(
    view: &View,
    page: &TenantPage,
    kind: OwnerKind,
    group: Option<&CallGroup>,
    posted: &GroupForm,
    result: crate::error::Result<()>,
    flash: &str,
) -> Result<Response, UiError> {
    match result {
        Ok(()) => Ok(redirect_with(
            &list_url(page, kind),
            &format!("groups.{flash}"),
        )),
        Err(e) => {
            let errors = forms::by_field(view.lang, e, |m| posted.conflict_field(m))?;
            let response = render(view, page, kind, group, posted, errors).await?;
            Ok(forms::unprocessable(response))
        }
    }
}

async fn render(
    view: &View,
    page: &TenantPage,
    kind: OwnerKind,
    group: Option<&CallGroup>,
    form: &GroupForm,
    errors: BTreeMap<String, String>,
) -> Result<Response, UiError> {
    let users = forms::users(page).await?;
    let mut agents: Vec<_> = form
        .agents
        .iter()
        .map(|(user, weight)| minijinja::context! { user => user, weight => weight })
        .collect();
    agents.extend(std::iter::repeat_n(
        minijinja::context! { user => "", weight => "" },
        EMPTY_AGENTS,
    ));
    let base = list_url(page, kind);
    let action = match group {
        Some(g) => format!("{base}/{}", g.id),
        None => base.clone(),
    };
    Ok(view.render(
        Some(&page.session.0),
        "groups/edit.html",
        minijinja::context! {
            tenant => forms::tenant_ctx(&page.tenant),
            kind => segment(kind),
            k => segment(kind).replace('-', "_"),
            centre => kind == OwnerKind::CallCentre,
            editing => group.map(|g| g.name.clone()),
            base => base,
            action => action,
            users => users,
            policies => HuntPolicy::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            form => minijinja::context! {
                name => form.name,
                number => form.number,
                extension => form.extension,
                policy => form.policy,
                skip_after_rings => form.skip_after_rings,
                forward_to => form.forward_to,
                voicemail => form.voicemail,
                voicemail_email => form.voicemail_email,
                queue_length => form.queue_length,
                queue_announcement => form.queue_announcement,
                queue_max_wait_secs => form.queue_max_wait_secs,
                supervisors => form.supervisors,
            },
            agents => agents,
            errors => errors,
        },
    ))
}

async fn ask(
    view: View,
    page: TenantPage,
    Path(key): Path<Key>,
    kind: OwnerKind,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let group = admin.group(page.tenant.id, kind, &key.group).await?;
    let base = list_url(&page, kind);
    let action = format!("{base}/{}/delete", group.id);
    Ok(forms::confirm(
        &view,
        &page,
        "groups",
        &group.name,
        &action,
        &base,
    ))
}

async fn delete(
    page: TenantPage,
    Path(key): Path<Key>,
    _form: Form<Pairs>,
    kind: OwnerKind,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let group = admin.group(page.tenant.id, kind, &key.group).await?;
    admin.group_delete(page.tenant.id, &group).await?;
    Ok(redirect_with(&list_url(&page, kind), "groups.deleted"))
}
