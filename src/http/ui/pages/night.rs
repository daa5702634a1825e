//! Night forwarding (000): the tenant's schedules (opening hours by weekday, holiday lists)
//! with adding, editing (issue 14) and deleting one, and the night service of the tenant and of each site — its
//! status now (in force, until when, inherited from the tenant), setting it and clearing a
//! site's own. The calendar and every rule are `admin::schedules`'s.

use std::collections::BTreeMap;

use axum::extract::Path;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::super::{redirect_with, Form, TenantPage, UiError, View};
use super::forms::{self, given, one, Pairs};
use super::refusal::refusal;
use super::ADMINS;
use crate::admin::{NightServiceInput, ScheduleInput};
use crate::app::App;
use crate::model::{HolidayEntry, ListQuery, Schedule, WeeklyHours, LIST_MAX};

pub(super) const TEMPLATES: &[(&str, &str)] = &[
    (
        "night/night.html",
        include_str!("../templates/night/night.html"),
    ),
    (
        "night/schedule.html",
        include_str!("../templates/night/schedule.html"),
    ),
];

const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router
        .route("/t/{tenant}/night-service", get(page_get).post(set))
        .route("/t/{tenant}/night-service/clear", post(clear))
        .route("/t/{tenant}/night-service/schedules", post(add_schedule))
        .route(
            "/t/{tenant}/night-service/schedules/{schedule}",
            get(edit_schedule).post(save_schedule),
        )
        .route(
            "/t/{tenant}/night-service/schedules/{schedule}/delete",
            get(ask).post(delete),
        )
}

#[derive(Deserialize)]
struct Key {
    schedule: String,
}

fn url(page: &TenantPage) -> String {
    format!("/t/{}/night-service", page.tenant.id.0)
}

/// Which form an error belongs to, with what was typed into it.
#[derive(Default)]
struct Failed {
    form: String,
    typed: Pairs,
    errors: BTreeMap<String, String>,
}

async fn page_get(view: View, page: TenantPage) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    render(&view, &page, Failed::default()).await
}

/// A day's ranges as typed: `08:00-12:00, 13:00-17:00`.
fn ranges(text: &str) -> Vec<String> {
    text.split([',', ';'])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A holiday list as typed, a line each: `2026-12-24`, `2026-12-24 2026-12-26`, and
/// `yearly` at the end for every year.
fn holidays(text: &str) -> Vec<HolidayEntry> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut words: Vec<&str> = line.split_whitespace().collect();
            let every_year = words.last() == Some(&"yearly");
            if every_year {
                words.pop();
            }
            HolidayEntry {
                from: words.first().copied().unwrap_or_default().to_owned(),
                to: words.get(1).map(|w| (*w).to_owned()),
                every_year,
            }
        })
        .collect()
}

fn show_holidays(list: &[HolidayEntry]) -> String {
    list.iter()
        .map(|h| {
            let mut line = h.from.clone();
            if let Some(to) = &h.to {
                line.push(' ');
                line.push_str(to);
            }
            if h.every_year {
                line.push_str(" yearly");
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A schedule's form as typed: `kind` says which (holidays, else opening hours).
fn schedule_input(f: &Pairs) -> ScheduleInput {
    let kind = one(f, "kind");
    if kind == "holidays" {
        ScheduleInput {
            name: one(f, "name"),
            kind: Some(kind.clone()),
            hours: None,
            holidays: holidays(&one(f, "holidays")),
        }
    } else {
        let day = |d: &str| ranges(&one(f, d));
        ScheduleInput {
            name: one(f, "name"),
            kind: Some("opening-hours".into()),
            hours: Some(WeeklyHours {
                monday: day("monday"),
                tuesday: day("tuesday"),
                wednesday: day("wednesday"),
                thursday: day("thursday"),
                friday: day("friday"),
                saturday: day("saturday"),
                sunday: day("sunday"),
            }),
            holidays: Vec::new(),
        }
    }
}

async fn add_schedule(
    view: View,
    page: TenantPage,
    form: Form<Pairs>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let f = &form.fields;
    let kind = one(f, "kind");
    let input = schedule_input(f);
    let admin = &page.session.caller().admin;
    match admin.schedule_add(page.tenant.id, &input).await {
        Ok(_) => Ok(redirect_with(&url(&page), "night.schedule_added")),
        Err(e) => {
            failed(
                &view,
                &page,
                &kind,
                f,
                forms::by_field(view.lang, e, |_| "name")?,
            )
            .await
        }
    }
}

async fn failed(
    view: &View,
    page: &TenantPage,
    form: &str,
    typed: &Pairs,
    errors: BTreeMap<String, String>,
) -> Result<Response, UiError> {
    let failed = Failed {
        form: form.to_owned(),
        typed: typed.clone(),
        errors,
    };
    Ok(forms::unprocessable(render(view, page, failed).await?))
}

/// Sets the night service of the tenant (`site` empty) or of a site.
async fn set(view: View, page: TenantPage, form: Form<Pairs>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let f = &form.fields;
    let admin = &page.session.caller().admin;
    let site_key = one(f, "site");
    let site = match given(&site_key) {
        Some(key) => Some(admin.site(page.tenant.id, Some(&key)).await?),
        None => None,
    };
    let input = NightServiceInput {
        mode: one(f, "mode"),
        hours: given(&one(f, "hours")),
        holidays: given(&one(f, "holidays")),
        target: given(&one(f, "target")),
        destination: given(&one(f, "destination")),
    };
    let now = jiff::Timestamp::now();
    match admin
        .night_service_set(page.tenant.id, site.as_ref(), &input, now)
        .await
    {
        Ok(_) => Ok(redirect_with(&url(&page), "night.set_done")),
        Err(e) => {
            let errors = forms::by_field(view.lang, e, |_| "destination")?;
            failed(&view, &page, &format!("night-{site_key}"), f, errors).await
        }
    }
}

async fn clear(page: TenantPage, form: Form<Pairs>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let admin = &page.session.caller().admin;
    let site = admin
        .site(page.tenant.id, Some(&one(&form.fields, "site")))
        .await?;
    admin.night_service_clear(page.tenant.id, &site).await?;
    Ok(redirect_with(&url(&page), "night.cleared"))
}

async fn find(page: &TenantPage, key: &str) -> Result<Schedule, UiError> {
    let admin = &page.session.caller().admin;
    Ok(admin.schedule(page.tenant.id, key).await?)
}

/// The edit page of a schedule: its name and contents as the add forms take them, prefilled
/// (or as typed, with the errors of a refused save).
fn render_schedule(
    view: &View,
    page: &TenantPage,
    schedule: &Schedule,
    typed: &Pairs,
    errors: BTreeMap<String, String>,
) -> Response {
    let base = url(page);
    let typed = |name: &str| one(typed, name);
    view.render(
        Some(&page.session.0),
        "night/schedule.html",
        minijinja::context! {
            tenant => forms::tenant_ctx(&page.tenant),
            editing => schedule.name,
            base => base,
            action => format!("{base}/schedules/{}", schedule.id),
            kind => schedule.kind.as_str(),
            days => DAYS,
            typed => DAYS.iter().chain(&["name", "holidays"]).map(|d| (d.to_string(), typed(d))).collect::<BTreeMap<_, _>>(),
            errors => errors,
        },
    )
}

/// A schedule as its edit form shows it: the ranges of a day joined by `, `, a holiday a line.
fn schedule_pairs(schedule: &Schedule) -> Pairs {
    let mut pairs = vec![
        ("name".to_owned(), schedule.name.clone()),
        ("holidays".to_owned(), show_holidays(&schedule.holidays)),
    ];
    if let Some(h) = &schedule.hours {
        let all = [
            &h.monday,
            &h.tuesday,
            &h.wednesday,
            &h.thursday,
            &h.friday,
            &h.saturday,
            &h.sunday,
        ];
        pairs.extend(
            DAYS.iter()
                .zip(all)
                .map(|(d, r)| (d.to_string(), r.join(", "))),
        );
    }
    pairs
}

async fn edit_schedule(
    view: View,
    page: TenantPage,
    Path(key): Path<Key>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let schedule = find(&page, &key.schedule).await?;
    let typed = schedule_pairs(&schedule);
    Ok(render_schedule(
        &view,
        &page,
        &schedule,
        &typed,
        BTreeMap::new(),
    ))
}

/// Saves a schedule's name and contents; its kind stays (the form sends it, the rule checks).
async fn save_schedule(
    view: View,
    page: TenantPage,
    Path(key): Path<Key>,
    form: Form<Pairs>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let schedule = find(&page, &key.schedule).await?;
    let input = schedule_input(&form.fields);
    let admin = &page.session.caller().admin;
    match admin.schedule_set(page.tenant.id, &schedule, &input).await {
        Ok(_) => Ok(redirect_with(&url(&page), "night.schedule_saved")),
        Err(e) => {
            let errors = forms::by_field(view.lang, e, |_| "name")?;
            let response = render_schedule(&view, &page, &schedule, &form.fields, errors);
            Ok(forms::unprocessable(response))
        }
    }
}

async fn ask(view: View, page: TenantPage, Path(key): Path<Key>) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let schedule = find(&page, &key.schedule).await?;
    let base = url(&page);
    let action = format!("{base}/schedules/{}/delete", schedule.id);
    Ok(forms::confirm(
        &view,
        &page,
        "night",
        &schedule.name,
        &action,
        &base,
    ))
}

/// Deletes a schedule; one in use is refused with the rule's message (the schedule and who
/// uses it) shown in the schedule's row, answered 409.
async fn delete(
    view: View,
    page: TenantPage,
    Path(key): Path<Key>,
    _form: Form<Pairs>,
) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let schedule = find(&page, &key.schedule).await?;
    let admin = &page.session.caller().admin;
    match admin.schedule_delete(page.tenant.id, &schedule).await {
        Ok(()) => Ok(redirect_with(&url(&page), "night.schedule_deleted")),
        Err(e) => {
            let (errors, status) = refusal(view.lang, e, "schedule")?;
            let failed = Failed {
                form: format!("schedule-{}", schedule.id),
                typed: Pairs::default(),
                errors,
            };
            let mut response = render(&view, &page, failed).await?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

async fn render(view: &View, page: &TenantPage, failed: Failed) -> Result<Response, UiError> {
    let admin = &page.session.caller().admin;
    let t = page.tenant.id;
    let query = ListQuery {
        limit: Some(LIST_MAX),
        ..Default::default()
    };
    let schedules = admin.schedule_page(t, &query).await?.items;
    let rows: Vec<_> = schedules
        .iter()
        .map(|s| {
            let days: Vec<_> = s
                .hours
                .as_ref()
                .map(|h| {
                    let all = [
                        &h.monday,
                        &h.tuesday,
                        &h.wednesday,
                        &h.thursday,
                        &h.friday,
                        &h.saturday,
                        &h.sunday,
                    ];
                    DAYS.iter()
                        .zip(all)
                        .map(|(d, r)| minijinja::context! { day => d, ranges => r.join(", ") })
                        .collect()
                })
                .unwrap_or_default();
            minijinja::context! {
                id => s.id,
                name => s.name,
                kind => s.kind.as_str(),
                days => days,
                holidays => show_holidays(&s.holidays),
            }
        })
        .collect();
    let now = jiff::Timestamp::now();
    let mut services = Vec::new();
    let tenant_status = admin.night_status(t, None, now).await?;
    services.push(status_ctx(None, &tenant_status));
    for site in admin.site_list(t).await? {
        let status = admin.night_status(t, Some(&site), now).await?;
        services.push(status_ctx(Some((site.id.0, &site.name)), &status));
    }
    let typed = |name: &str| one(&failed.typed, name);
    Ok(view.render(
        Some(&page.session.0),
        "night/night.html",
        minijinja::context! {
            tenant => forms::tenant_ctx(&page.tenant),
            base => url(page),
            schedules => rows,
            hours_names => schedules.iter().filter(|s| s.hours.is_some()).map(|s| s.name.clone()).collect::<Vec<_>>(),
            holiday_names => schedules.iter().filter(|s| s.hours.is_none()).map(|s| s.name.clone()).collect::<Vec<_>>(),
            services => services,
            days => DAYS,
            failed => failed.form,
            typed => DAYS.iter().chain(&["name", "holidays", "destination"]).map(|d| (d.to_string(), typed(d))).collect::<BTreeMap<_, _>>(),
            errors => failed.errors,
        },
    ))
}

fn status_ctx(site: Option<(i64, &str)>, s: &crate::admin::NightStatus) -> minijinja::Value {
    minijinja::context! {
        site_id => site.map(|(id, _)| id.to_string()).unwrap_or_default(),
        site => site.map(|(_, name)| name.to_owned()),
        mode => s.service.mode.as_str(),
        hours => s.service.hours,
        holidays => s.service.holidays,
        target => s.service.target.as_str(),
        destination => s.service.destination,
        inherited => s.inherited,
        in_force => s.in_force,
        until => s.until,
        time_zone => s.time_zone,
    }
}
