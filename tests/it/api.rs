//! The REST API's first slice: tokens, roles, tenant isolation, problem+json.

use autoprov::model::Role;
use serde_json::{json, Value};

use crate::support::{walkthrough, TestServer};

pub struct Tokens {
    pub platform: String,
    pub acme_admin: String,
    pub other_admin: String,
    pub acme_user: String,
}

pub async fn setup(server: &TestServer) -> Tokens {
    walkthrough(&server.app).await;
    let admin = &server.app.admin;
    let acme = admin.tenant("Acme").await.unwrap();
    let other = admin.tenant_add("Other").await.unwrap();
    let ada = admin.user(acme.id, "Ada Lovelace").await.unwrap();
    let token = |role, tenant, user| async move {
        admin
            .token_create(role, tenant, user)
            .await
            .unwrap()
            .1
            .expose()
            .to_owned()
    };
    Tokens {
        platform: token(Role::PlatformAdmin, None, None).await,
        acme_admin: token(Role::TenantAdmin, Some(acme.id), None).await,
        other_admin: token(Role::TenantAdmin, Some(other.id), None).await,
        acme_user: token(Role::User, Some(acme.id), Some(ada.id)).await,
    }
}

/// The id of a token (for `token revoke`): not part of the token, found by its selector.
pub async fn token_id(server: &TestServer, token: &str) -> i64 {
    let selector = token.split('_').nth(1).expect("ap_<selector>_<secret>");
    let (_, principal) = server
        .app
        .store
        .token_by_selector(selector)
        .await
        .unwrap()
        .expect("a live token");
    principal.token_id
}

pub async fn call(
    server: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let url = server.admin_url(path);
    let mut req = server
        .admin_client
        .request(method.parse().expect("an HTTP method"), url);
    if let Some(t) = token {
        req = req.header("Authorization", format!("Bearer {t}"));
    }
    match body {
        // A JSON string is a CSV file (the import routes).
        Some(Value::String(csv)) => req = req.header("Content-Type", "text/csv").body(csv),
        Some(b) => {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string())
        }
        None => {}
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    if status >= 400 {
        assert_eq!(content_type, "application/problem+json", "{path}: {text}");
    }
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// What a role gets from a route: allowed (the role passes; the answer is 2xx or a rule's
/// 409/422/423), forbidden (403), or not found (404: another tenant's).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Gate {
    A,
    F,
    N,
}
use Gate::{A, F, N};

/// Each role × each route of the OpenAPI document (a route without a row fails the test), and
/// the tenant-isolation walk: another tenant's admin gets 404 on every tenant-scoped route.
#[tokio::test]
async fn role_matrix_covers_every_route() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let admin = &server.app.admin;
    let acme = admin.tenant("Acme").await.unwrap();
    admin
        .number_add(
            acme.id,
            &autoprov::admin::NumberInput {
                number: "+4930123401".into(),
                status: Some("active".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for n in ["+4930123470", "+4930123471"] {
        admin
            .number_add(
                acme.id,
                &autoprov::admin::NumberInput {
                    number: n.into(),
                    status: Some("active".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let ada = admin.user(acme.id, "Ada Lovelace").await.unwrap();
    let add_user = |first: String, active: bool| async move {
        let u = admin
            .user_add(
                acme.id,
                &autoprov::admin::UserInput {
                    first_name: first,
                    last_name: "Fixture".into(),
                    extension: None,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        if active {
            admin.user_activate(acme.id, &u).await.unwrap();
        }
        u
    };
    add_user("Pat".into(), false).await;
    let mut grants = Vec::new();
    for i in 0..4 {
        add_user(format!("Vic{i}"), true).await;
        let mon = add_user(format!("Mon{i}"), true).await;
        let extension = autoprov::admin::UserUpdate {
            extension: Some(format!("88{i}")),
            ..Default::default()
        };
        let mon = admin.user_update(acme.id, &mon, &extension).await.unwrap();
        admin.blf_grant(acme.id, &mon, Some(&ada)).await.unwrap();
        admin.monitor_add(acme.id, &ada, &mon).await.unwrap();
        grants.push(admin.blf_grant(acme.id, &ada, Some(&mon)).await.unwrap().id);
    }
    admin
        .device_add(
            acme.id,
            &autoprov::admin::DeviceInput {
                mac: "001565000777".into(),
                model: "T54W".into(),
                site: None,
            },
        )
        .await
        .unwrap();

    for i in 0..2 {
        let pickup = autoprov::admin::PickupGroupInput {
            name: format!("Front{i}"),
            members: vec![],
        };
        admin.pickup_group_add(acme.id, &pickup).await.unwrap();
        let park = autoprov::admin::ParkGroupInput {
            name: format!("Lot{i}"),
            members: vec![],
            slots: autoprov::admin::SlotsInput::List(vec![format!("70{i}")]),
        };
        admin.park_group_add(acme.id, &park).await.unwrap();
        let schedule = autoprov::admin::ScheduleInput {
            name: format!("Office{i}"),
            kind: Some("opening-hours".into()),
            ..Default::default()
        };
        admin.schedule_add(acme.id, &schedule).await.unwrap();
    }
    let mut entries = Vec::new();
    for i in 0..4 {
        let input = autoprov::admin::DirectoryEntryInput {
            company: Some(format!("Entry {i}")),
            number: "+4930999000".into(),
            ..Default::default()
        };
        entries.push(admin.directory_add(acme.id, &input).await.unwrap().id);
    }

    // (method, OpenAPI path, body, [platform, acme admin, other admin, acme user]); `{i}` in a
    // path or body is the role's index, for objects each role needs its own of.
    let ada_n = "+4930123456";
    let rows: Vec<(&str, &str, Value, [Gate; 4])> = vec![
        ("GET", "/api/v1/me", Value::Null, [A, A, A, A]),
        ("GET", "/api/v1/tenants", Value::Null, [A, A, A, A]),
        (
            "POST",
            "/api/v1/tenants",
            json!({ "name": "T{i}" }),
            [A, F, F, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/sites",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/sites",
            json!({ "name": "S{i}", "sip_domain": "sip.example.com" }),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/sites/{site}/trunks",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/sites/{site}/trunks",
            json!({ "name": "Tr{i}" }),
            [A, F, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/numbers",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/numbers/available",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/numbers",
            json!({ "number": "+49301239{i}0" }),
            [A, F, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/numbers/{number}",
            Value::Null,
            [A, A, N, A],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/numbers/{number}/status",
            json!({ "status": "active" }),
            [A, F, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/numbers/{number}/assign",
            json!({ "user": "Pat Fixture" }),
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/numbers/{number}/unassign",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/numbers/{number}/label",
            json!({ "first": "L{i}" }),
            [A, A, N, F],
        ),
        (
            "PATCH",
            "/api/v1/tenants/{tenant}/numbers/{number}/features",
            json!({ "voicemail": true }),
            [A, A, N, A],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/numbers/{number}/reset-pin",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/numbers/{number}/pin",
            json!({ "pin": "4711" }),
            [F, F, N, A],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/numbers/{number}/verify-pin",
            json!({ "pin": "4711" }),
            [A, A, N, A],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/numbers/{number}/login",
            json!({ "mac": "001565000777" }),
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/numbers/{number}/login-details",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/users",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/users",
            json!({ "first_name": "New{i}", "last_name": "Person" }),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/users/{user}",
            Value::Null,
            [A, A, N, A],
        ),
        (
            "PATCH",
            "/api/v1/tenants/{tenant}/users/{user}",
            json!({ "first_name": "Ada" }),
            [A, A, N, A],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/users/{user}/activate",
            Value::Null,
            [A, F, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/users/{user}/fail",
            Value::Null,
            [A, F, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/users/{user}/deactivate",
            json!({}),
            [A, A, N, F],
        ),
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/users/{user}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/users/{user}/app-registration",
            json!({ "login": "ada" }),
            [A, F, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/users/{user}/licences",
            Value::Null,
            [A, A, N, A],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/users/{user}/licences",
            json!({ "licences": [] }),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/users/{user}/monitors",
            Value::Null,
            [A, A, N, A],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/users/{user}/monitors",
            json!({ "user": "Pat Fixture" }),
            [A, A, N, A],
        ),
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/users/{user}/monitors/{watched}",
            Value::Null,
            [A, A, N, A],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/users/{user}/speed-dials",
            Value::Null,
            [A, A, N, A],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/users/{user}/speed-dials",
            json!([{ "label": "Desk {i}", "target": "+4930123401" }]),
            [A, A, N, A],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/users/device-passwords",
            json!({ "users": ["Ada Lovelace"] }),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/devices",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/devices",
            json!({ "mac": "00156500aa0{i}", "model": "T54W" }),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/devices/{device}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "PATCH",
            "/api/v1/tenants/{tenant}/devices/{device}",
            json!({ "site": "Berlin" }),
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/devices/{device}/login",
            json!({ "number": "+4930123401" }),
            [A, A, N, F],
        ),
        // Each admin replaces and then removes the handset it registered above (`{i}`).
        (
            "POST",
            "/api/v1/tenants/{tenant}/devices/{device}/replace",
            json!({ "mac": "00156500cc0{i}" }),
            [A, A, N, F],
        ),
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/devices/{device}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/rollout",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "PATCH",
            "/api/v1/tenants/{tenant}/sites/{site}",
            json!({ "ntp_server": "ntp{i}.example.com" }),
            [A, A, N, F],
        ),
        // Berlin holds numbers and devices: a 409 for whoever may ask.
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/sites/{site}",
            Value::Null,
            [A, A, N, F],
        ),
        // Acme is not empty: a 409 for the operator.
        (
            "DELETE",
            "/api/v1/tenants/{tenant}",
            Value::Null,
            [A, F, N, F],
        ),
        ("GET", "/api/v1/tokens", Value::Null, [A, F, F, F]),
        ("GET", "/api/v1/models", Value::Null, [A, A, A, A]),
        (
            "POST",
            "/api/v1/tenants/{tenant}/devices/{device}/resync",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/device-reservations",
            Value::Null,
            [A, F, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/device-reservations",
            json!({ "macs": ["00156500bb00"] }),
            [A, F, N, F],
        ),
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/device-reservations/{mac}",
            Value::Null,
            [A, F, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/blf-grants",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/blf-grants",
            json!({ "watched": "Ada Lovelace" }),
            [A, A, N, F],
        ),
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/blf-grants/{grant}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/licences",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/licences/{kind}",
            json!({ "total": 5 }),
            [A, F, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/hunt-groups",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/hunt-groups",
            json!({ "name": "HG{i}", "agents": [{ "user": "Ada Lovelace" }] }),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/hunt-groups/{group}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/hunt-groups/{group}",
            json!({ "name": "HG{i}", "policy": "simultaneous" }),
            [A, A, N, F],
        ),
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/hunt-groups/{group}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/call-centres",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/call-centres",
            json!({ "name": "CC{i}", "supervisors": ["Ada Lovelace"] }),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/call-centres/{group}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/call-centres/{group}",
            json!({ "name": "CC{i}", "queue": { "length": 3 } }),
            [A, A, N, F],
        ),
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/call-centres/{group}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/users/{user}/memberships",
            Value::Null,
            [A, A, N, A],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/virtual-users",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/virtual-users",
            json!({ "first_name": "V{i}", "last_name": "X", "number": "+4940123456", "extension": "6{i}" }),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/virtual-users/{virtual_user}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/virtual-users/{virtual_user}",
            json!({ "first_name": "V{i}", "last_name": "Y", "number": "+4940123457", "extension": "6{i}" }),
            [A, A, N, F],
        ),
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/virtual-users/{virtual_user}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/bridges",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/bridges",
            json!({ "name": "B{i}", "number": "+493012347{i}" }),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/bridges/{bridge}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/bridges/{bridge}",
            json!({ "name": "B{i}", "number": "+493012347{i}", "extension": "58{i}" }),
            [A, A, N, F],
        ),
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/bridges/{bridge}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/dialplan",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/audit",
            Value::Null,
            [A, A, N, F],
        ),
        ("GET", "/api/v1/audit", Value::Null, [A, F, F, F]),
        (
            "GET",
            "/api/v1/tenants/{tenant}/directory",
            Value::Null,
            [A, A, N, A],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/directory",
            json!({ "company": "C{i}", "number": "1234" }),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/directory/{entry}",
            Value::Null,
            [A, A, N, A],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/directory/{entry}",
            json!({ "company": "D{i}", "number": "1234" }),
            [A, A, N, F],
        ),
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/directory/{entry}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/import/{kind}",
            json!("mac,model\n00156500cc0{i},T54W\n"),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/export/{kind}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/numbers/{number}/logout",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/pickup-groups",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/pickup-groups",
            json!({ "name": "New{i}", "members": [] }),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/pickup-groups/{group}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/pickup-groups/{group}",
            json!({ "name": "Front{i}", "members": ["Ada Lovelace"] }),
            [A, A, N, F],
        ),
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/pickup-groups/{group}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/park-groups",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/park-groups",
            json!({ "name": "New{i}", "slots": ["71{i}"] }),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/park-groups/{group}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/park-groups/{group}",
            json!({ "name": "Lot{i}", "members": ["Ada Lovelace"], "slots": {"from": "72{i}0", "to": "72{i}3"} }),
            [A, A, N, F],
        ),
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/park-groups/{group}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/schedules",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "POST",
            "/api/v1/tenants/{tenant}/schedules",
            json!({ "name": "Hol{i}", "holidays": [{ "date": "2026-12-24", "every_year": true }] }),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/schedules/{schedule}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/schedules/{schedule}",
            json!({ "name": "Office{i}", "hours": { "monday": ["08:00-12:00"] } }),
            [A, A, N, F],
        ),
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/schedules/{schedule}",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/night-service",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/night-service",
            json!({ "mode": "on" }),
            [A, A, N, F],
        ),
        (
            "GET",
            "/api/v1/tenants/{tenant}/sites/{site}/night-service",
            Value::Null,
            [A, A, N, F],
        ),
        (
            "PUT",
            "/api/v1/tenants/{tenant}/sites/{site}/night-service",
            json!({ "mode": "off" }),
            [A, A, N, F],
        ),
        (
            "DELETE",
            "/api/v1/tenants/{tenant}/sites/{site}/night-service",
            Value::Null,
            [A, A, N, F],
        ),
        // Late: the number is logged in (a 409), or goes back to the operator.
        (
            "POST",
            "/api/v1/tenants/{tenant}/numbers/{number}/release",
            Value::Null,
            [A, F, N, F],
        ),
        // Last: the handset leaves Acme (to Other, which has no site yet: a 422).
        (
            "POST",
            "/api/v1/devices/{mac}/move",
            json!({ "tenant": "Other" }),
            [A, F, F, F],
        ),
    ];

    // Every route of the document has a row, and every row is a route.
    let doc = serde_json::to_value(autoprov::http::api::openapi()).unwrap();
    let mut routes: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    let mut covered: Vec<String> = rows.iter().map(|(m, p, _, _)| format!("{m} {p}")).collect();
    routes.sort();
    covered.sort();
    assert_eq!(
        routes, covered,
        "the matrix and the OpenAPI document disagree"
    );

    let tokens = [&t.platform, &t.acme_admin, &t.other_admin, &t.acme_user];
    // Refusals first, so they meet the state the allowed calls then change.
    let order = [2usize, 3, 1, 0];
    for (method, template, body, gates) in &rows {
        for &i in &order {
            let user = match *template {
                p if p.ends_with("/activate") || p.ends_with("/fail") => "Pat Fixture".to_owned(),
                p if p.ends_with("/deactivate")
                    || (*method == "DELETE" && p.ends_with("{user}")) =>
                {
                    format!("Vic{} Fixture", i.min(1))
                }
                _ => "Ada Lovelace".to_owned(),
            };
            let path = template
                .replace("{tenant}", "Acme")
                .replace("{site}", "Berlin")
                // Ada's own number where she may act; another for admin-only actions.
                .replace(
                    "{number}",
                    if gates[3] == A { ada_n } else { "+4930123401" },
                )
                .replace("{user}", &user)
                .replace("{watched}", &format!("Mon{i} Fixture"))
                .replace(
                    "{device}",
                    &match (*method, template.ends_with("/replace")) {
                        (_, true) => format!("00156500aa0{i}"),
                        ("DELETE", _) => format!("00156500cc0{i}"),
                        _ => "001565000777".to_owned(),
                    },
                )
                .replace(
                    "{mac}",
                    if names_a_handset(template) {
                        "001565000777"
                    } else {
                        "00156500bb00"
                    },
                )
                .replace("{grant}", &grants[i].to_string())
                // What the path names is found before the role is checked: the user role is
                // refused on Acme's admin's objects, which exist.
                .replace(
                    "{group}",
                    &if template.contains("pickup") {
                        format!("Front{}", i.min(1))
                    } else if template.contains("park-groups") {
                        format!("Lot{}", i.min(1))
                    } else if template.contains("call-centres") {
                        format!("CC{}", if i == 3 { 1 } else { i })
                    } else {
                        format!("HG{}", if i == 3 { 1 } else { i })
                    },
                )
                .replace("{schedule}", &format!("Office{}", i.min(1)))
                .replace(
                    "{virtual_user}",
                    &format!("6{}", if i == 3 { 1 } else { i }),
                )
                .replace("{bridge}", &format!("B{}", if i == 3 { 1 } else { i }))
                .replace("{entry}", &entries[i].to_string())
                .replace(
                    "{kind}",
                    if template.contains("port/") {
                        "devices"
                    } else {
                        "app"
                    },
                );
            let body = (!body.is_null()).then(|| {
                serde_json::from_str(&body.to_string().replace("{i}", &i.to_string())).unwrap()
            });
            let (status, reply) = call(&server, method, &path, Some(tokens[i]), body).await;
            let got = match status {
                403 => F,
                404 => N,
                200..=299 | 409 | 422 | 423 => A,
                other => panic!("{method} {path} as role {i}: {other} {reply}"),
            };
            assert_eq!(
                got, gates[i],
                "{method} {path} as role {i}: {status} {reply}"
            );
        }
    }

    // Isolation the other way round: Acme's objects under Other's own path are not found, and
    // Other's lists hold nothing of Acme's.
    let o = Some(t.other_admin.as_str());
    for path in [
        format!("/api/v1/tenants/Other/users/{}", ada.id),
        format!("/api/v1/tenants/Other/numbers/{ada_n}"),
        "/api/v1/tenants/Other/devices/001565a1b2c3".to_owned(),
        "/api/v1/tenants/Other/pickup-groups/New1".to_owned(),
        "/api/v1/tenants/Other/park-groups/New1".to_owned(),
        "/api/v1/tenants/Other/schedules/Hol1".to_owned(),
        format!("/api/v1/tenants/Other/users/{}/monitors", ada.id),
    ] {
        let (status, reply) = call(&server, "GET", &path, o, None).await;
        assert_eq!(status, 404, "{path}: {reply}");
    }
    let (status, _) = call(
        &server,
        "DELETE",
        &format!("/api/v1/tenants/Other/blf-grants/{}", grants[3]),
        o,
        None,
    )
    .await;
    assert_eq!(status, 404);
    for list in [
        "users",
        "devices",
        "numbers?site=all",
        "blf-grants",
        "pickup-groups",
        "park-groups",
        "schedules",
        "hunt-groups",
        "call-centres",
        "virtual-users",
        "bridges",
    ] {
        let (status, reply) = call(
            &server,
            "GET",
            &format!("/api/v1/tenants/Other/{list}"),
            o,
            None,
        )
        .await;
        assert_eq!(
            (status, reply.as_array().map(Vec::len)),
            (200, Some(0)),
            "{list}: {reply}"
        );
    }
    // Other's audit trail holds its own creation and its own token only.
    let other = admin.tenant("Other").await.unwrap();
    let (_, trail) = call(&server, "GET", "/api/v1/tenants/Other/audit", o, None).await;
    let mut what: Vec<(String, String)> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["entity"].to_string(), e["after"]["tenant_id"].to_string()))
        .collect();
    what.sort();
    let other_id = other.id.0.to_string();
    assert_eq!(
        what,
        [
            ("\"tenant\"".to_owned(), "null".to_owned()),
            ("\"token\"".to_owned(), other_id)
        ],
        "{trail}"
    );
    let (_, list) = call(&server, "GET", "/api/v1/tenants", Some(&t.acme_admin), None).await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Acme"]);
    let (_, list) = call(&server, "GET", "/api/v1/tenants", Some(&t.platform), None).await;
    assert!(list.as_array().unwrap().len() >= 3);
}

/// Platform-level routes name a handset by MAC; tenant-level ones a reservation.
fn names_a_handset(template: &str) -> bool {
    template.starts_with("/api/v1/devices/")
}

#[tokio::test]
async fn errors_are_problem_json_with_the_field() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    for token in [None, Some("ap_1_wrong"), Some("nonsense")] {
        let (status, body) = call(&server, "GET", "/api/v1/tenants", token, None).await;
        assert_eq!(status, 401, "{token:?}");
        assert_eq!(body["title"], "unauthorized");
    }
    let (status, body) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/users",
        Some(&t.acme_admin),
        Some(json!({ "first_name": "A".repeat(24), "last_name": "B" })),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "first_name");
    let (status, _) = call(
        &server,
        "GET",
        "/api/v1/tenants/Nobody/users",
        Some(&t.platform),
        None,
    )
    .await;
    assert_eq!(status, 404);
    // Ada is active already: activating her again conflicts.
    let (status, _) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/users/Ada Lovelace/activate",
        Some(&t.platform),
        None,
    )
    .await;
    assert_eq!(status, 409);
    // A revoked token is refused.
    let id = token_id(&server, &t.acme_admin).await;
    server.app.admin.token_revoke(id).await.unwrap();
    let (status, _) = call(&server, "GET", "/api/v1/tenants", Some(&t.acme_admin), None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn token_create_prints_the_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = crate::cli::autoprov(dir.path())
        .args(["tenant", "add", "Acme"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let out = crate::cli::autoprov(dir.path())
        .args([
            "--json",
            "token",
            "create",
            "--role",
            "tenant-admin",
            "--tenant",
            "Acme",
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(body["token"].as_str().unwrap().starts_with("ap_"));
    let out = crate::cli::autoprov(dir.path())
        .args(["token", "create", "--role", "user", "--tenant", "Acme"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --user"));
}

#[tokio::test]
async fn a_phone_set_up_through_the_api_gets_its_line() {
    let server = TestServer::start().await;
    let platform = server
        .app
        .admin
        .token_create(Role::PlatformAdmin, None, None)
        .await
        .unwrap()
        .1
        .expose()
        .to_owned();
    let p = Some(platform.as_str());
    let steps: Vec<(&str, Value, u16)> = vec![
        ("/api/v1/tenants", json!({ "name": "Beta" }), 201),
        (
            "/api/v1/tenants/Beta/sites",
            json!({ "name": "HQ", "sip_domain": "sip.beta.example", "time_zone": "Europe/Vienna", "allowed_networks": ["127.0.0.0/8"] }),
            201,
        ),
        (
            "/api/v1/tenants/Beta/numbers",
            json!({ "number": "+43101234567", "status": "active" }),
            201,
        ),
        (
            "/api/v1/tenants/Beta/users",
            json!({ "first_name": "Lise", "last_name": "Meitner", "number": "+43101234567" }),
            201,
        ),
        (
            "/api/v1/tenants/Beta/users/Lise Meitner/activate",
            Value::Null,
            200,
        ),
        (
            "/api/v1/tenants/Beta/devices",
            json!({ "mac": "00:15:65:be:ef:01", "model": "T46S" }),
            201,
        ),
        (
            "/api/v1/tenants/Beta/devices/001565beef01/login",
            json!({ "number": "+43101234567" }),
            200,
        ),
    ];
    for (path, body, expected) in steps {
        let body = (!body.is_null()).then_some(body);
        let (status, reply) = call(&server, "POST", path, p, body).await;
        assert_eq!(status, expected, "{path}: {reply}");
    }
    let (status, _, file) = server
        .fetch(
            "/001565beef01.cfg",
            Some("Yealink SIP-T46S 66.86.0.15 00:15:65:be:ef:01"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        file.lines()
            .any(|l| l == "account.1.display_name = Lise Meitner"),
        "{file}"
    );
    // Numbers are the operator's to allocate; a tenant admin sees but cannot add them.
    let acme_admin = server
        .app
        .admin
        .token_create(
            Role::TenantAdmin,
            Some(server.app.admin.tenant("Beta").await.unwrap().id),
            None,
        )
        .await
        .unwrap()
        .1
        .expose()
        .to_owned();
    let (status, list) = call(
        &server,
        "GET",
        "/api/v1/tenants/Beta/numbers",
        Some(&acme_admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, _) = call(
        &server,
        "POST",
        "/api/v1/tenants/Beta/numbers",
        Some(&acme_admin),
        Some(json!({ "number": "+43109999" })),
    )
    .await;
    assert_eq!(status, 403);
    let (status, devices) = call(
        &server,
        "GET",
        "/api/v1/tenants/Beta/devices",
        Some(&acme_admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(devices[0]["mac"], "001565beef01");
    assert!(
        devices[0].get("admin_password").is_none(),
        "no secret in the API"
    );
}

#[tokio::test]
async fn deactivate_and_delete_through_the_api() {
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let (status, _) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/users",
        Some(&t.acme_admin),
        Some(json!({ "first_name": "Pat", "last_name": "Pending" })),
    )
    .await;
    assert_eq!(status, 201);
    let delete = |path: &'static str, token: String| {
        let client = server.admin_client.clone();
        let url = server.admin_url(path);
        async move {
            let resp = client
                .delete(url)
                .header("Authorization", format!("Bearer {token}"))
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    let (status, body) = delete(
        "/api/v1/tenants/Acme/users/Pat Pending",
        t.acme_admin.clone(),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("pending"), "{body}");
    let (status, _) = delete(
        "/api/v1/tenants/Acme/users/Pat Pending",
        t.acme_user.clone(),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = delete(
        "/api/v1/tenants/Acme/users/Pat Pending",
        t.other_admin.clone(),
    )
    .await;
    assert_eq!(status, 404);
    let (status, user) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/users/Ada Lovelace/deactivate",
        Some(&t.acme_admin),
        Some(json!({ "announcement": "On leave", "transfer": "+4930999", "transfer_mode": "announced" })),
    )
    .await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["state"], "deactivated");
    let (status, _) = delete(
        "/api/v1/tenants/Acme/users/Ada Lovelace",
        t.acme_admin.clone(),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/users/Pat Pending/fail",
        Some(&t.acme_admin),
        None,
    )
    .await;
    assert_eq!(status, 403, "failing activation is the operator's");
    let (status, user) = call(
        &server,
        "POST",
        "/api/v1/tenants/Acme/users/Pat Pending/fail",
        Some(&t.platform),
        None,
    )
    .await;
    assert_eq!((status, user["state"].as_str()), (200, Some("failed")));
}

/// Issue 14: the API's user create takes the portal add form's desk phone, through the same
/// rule: a handset of another site, or one someone is logged in to, is refused and adds
/// nobody; a free one of the number's site gets the line, its login details in the answer.
#[tokio::test]
async fn issue_14_user_create_with_a_desk_phone() {
    use autoprov::admin::{DeviceInput, NumberInput, SiteInput};
    let server = TestServer::start().await;
    let t = setup(&server).await;
    let admin = &server.app.admin;
    let acme = admin.tenant("Acme").await.unwrap();
    admin
        .site_add(
            acme.id,
            &SiteInput {
                name: "Hamburg".into(),
                time_zone: Some("Europe/Berlin".into()),
                sip_domain: Some("hh.example.com".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    admin
        .number_add(
            acme.id,
            &NumberInput {
                number: "+4930123457".into(),
                site: Some("Berlin".into()),
                status: Some("active".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let device = |mac: &'static str, site: &'static str| DeviceInput {
        mac: mac.into(),
        model: "T54W".into(),
        site: Some(site.into()),
    };
    let berlin = admin
        .device_add(acme.id, &device("00:15:65:00:01:01", "Berlin"))
        .await
        .unwrap();
    let hamburg = admin
        .device_add(acme.id, &device("00:15:65:00:01:02", "Hamburg"))
        .await
        .unwrap();
    let create = |handset: String| {
        json!({ "first_name": "Grace", "last_name": "Hopper",
                "number": "+4930123457", "handset": handset })
    };
    let path = "/api/v1/tenants/Acme/users";
    // Ada's handset (by MAC): someone is logged in to it.
    let (status, body) = call(
        &server,
        "POST",
        path,
        Some(&t.acme_admin),
        Some(create(crate::support::MAC.into())),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("someone is already logged in"),
        "{body}"
    );
    // A handset of another site (by Phone ID).
    let (status, body) = call(
        &server,
        "POST",
        path,
        Some(&t.acme_admin),
        Some(create(hamburg.phone_id.clone())),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("at another site"),
        "{body}"
    );
    // Neither added Grace.
    assert!(admin.user(acme.id, "Grace Hopper").await.is_err());
    // A handset without a number is refused at the field.
    let (status, body) = call(
        &server,
        "POST",
        path,
        Some(&t.acme_admin),
        Some(json!({ "first_name": "Grace", "last_name": "Hopper", "handset": berlin.phone_id })),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "handset");
    // A free handset of the number's site, by Phone ID in lower case as typed.
    let (status, body) = call(
        &server,
        "POST",
        path,
        Some(&t.acme_admin),
        Some(create(berlin.phone_id.to_ascii_lowercase())),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["first_name"], "Grace");
    assert_eq!(body["state"], "pending");
    assert_eq!(body["desk_phone"]["phone_id"], berlin.phone_id.as_str());
    assert_eq!(body["desk_phone"]["number"], "+4930123457");
    assert!(!body["desk_phone"]["sip_password"]
        .as_str()
        .unwrap()
        .is_empty());
    let record = server.app.store.device_record(berlin.id).await.unwrap();
    assert_eq!(record.lines.len(), 1);
    // Without a handset the answer is the user alone, as before.
    let (status, body) = call(
        &server,
        "POST",
        path,
        Some(&t.acme_admin),
        Some(json!({ "first_name": "Alan", "last_name": "Turing" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(body.get("desk_phone").is_none(), "{body}");
}
