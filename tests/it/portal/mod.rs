//! The portal rules (seeds 000–004) through the REST API: one test per rule, each with its error
//! answer and, where a phone shows it, what reaches the phone's next fetch. Every test starts
//! from the same fixture: Acme's Berlin site with Ada Lovelace on `+4930123456`, logged in to her
//! Yealink, and a token for each role.

mod audit;
mod bodies;
mod directory;
mod features;
mod groups;
mod handsets;
mod lifecycle;
mod numbers;
mod pickpark;
mod pins;
mod users;

use serde_json::{json, Value};

use crate::api::{call, setup, Tokens};
use crate::support::{TestServer, UA};

const FILE: &str = "/001565a1b2c3.cfg";
const ADA: &str = "+4930123456";

/// Who calls: the platform operator, Acme's admin or Ada (a user of Acme).
#[derive(Clone, Copy)]
enum Who {
    Operator,
    Admin,
    Ada,
}
use Who::{Ada, Admin, Operator};

/// The fixture: the walkthrough's server and a token per role.
struct Portal {
    server: TestServer,
    t: Tokens,
}

/// An API answer: its status and JSON body.
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    /// Asserts the status and gives the body.
    #[track_caller]
    fn is(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.body);
        &self.body
    }

    /// Asserts a 422 that names `field` first.
    #[track_caller]
    fn invalid(&self, field: &str) -> &Value {
        assert_eq!(
            (self.status, self.body["errors"][0]["field"].as_str()),
            (422, Some(field)),
            "{}",
            self.body
        );
        &self.body
    }

    /// Asserts the status and that the problem's detail says `says`.
    #[track_caller]
    fn refused(&self, status: u16, says: &str) -> &Value {
        self.is(status);
        let detail = self.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{says:?} not in {}", self.body);
        &self.body
    }
}

/// A path under Acme: `users/Ada Lovelace` → `/api/v1/tenants/Acme/users/Ada Lovelace`; a path
/// starting with `/` is taken as it is.
fn path(rest: &str) -> String {
    if rest.starts_with('/') {
        rest.to_owned()
    } else {
        format!("/api/v1/tenants/Acme/{rest}")
    }
}

impl Portal {
    async fn new() -> Self {
        let server = TestServer::start().await;
        let t = setup(&server).await;
        Portal { server, t }
    }

    fn token(&self, who: Who) -> &str {
        match who {
            Operator => &self.t.platform,
            Admin => &self.t.acme_admin,
            Ada => &self.t.acme_user,
        }
    }

    async fn call(&self, who: Who, method: &str, rest: &str, body: Option<Value>) -> Answer {
        let (status, body) = call(
            &self.server,
            method,
            &path(rest),
            Some(self.token(who)),
            body,
        )
        .await;
        Answer { status, body }
    }

    async fn get(&self, who: Who, rest: &str) -> Answer {
        self.call(who, "GET", rest, None).await
    }

    async fn post(&self, who: Who, rest: &str, body: Value) -> Answer {
        self.call(who, "POST", rest, Some(body)).await
    }

    /// A POST without a body (the actions: reset-pin, logout, activate, …).
    async fn act(&self, who: Who, rest: &str) -> Answer {
        self.call(who, "POST", rest, None).await
    }

    async fn put(&self, who: Who, rest: &str, body: Value) -> Answer {
        self.call(who, "PUT", rest, Some(body)).await
    }

    async fn patch(&self, who: Who, rest: &str, body: Value) -> Answer {
        self.call(who, "PATCH", rest, Some(body)).await
    }

    async fn delete(&self, who: Who, rest: &str) -> Answer {
        self.call(who, "DELETE", rest, None).await
    }

    /// Adds numbers to Berlin as the operator, each with its status.
    async fn numbers(&self, list: &[(&str, &str)]) {
        for (number, status) in list {
            self.post(
                Operator,
                "numbers",
                json!({ "number": number, "status": status }),
            )
            .await
            .is(201);
        }
    }

    /// Adds a site of Acme's as its admin.
    async fn site(&self, name: &str) {
        self.post(
            Admin,
            "sites",
            json!({ "name": name, "sip_domain": "sip.example.com" }),
        )
        .await
        .is(201);
    }

    /// Adds a handset as Acme's admin; `site` None leaves the default.
    async fn device(&self, mac: &str, site: Option<&str>) {
        let mut body = json!({ "mac": mac, "model": "T54W" });
        if let Some(site) = site {
            body["site"] = json!(site);
        }
        self.post(Admin, "devices", body).await.is(201);
    }

    /// Adds Grace Hopper, pending, through the admin code (no number).
    async fn grace_pending(&self) {
        let admin = &self.server.app.admin;
        let acme = admin.tenant("Acme").await.unwrap();
        admin
            .user_add(
                acme.id,
                &autoprov::admin::UserInput {
                    first_name: "Grace".into(),
                    last_name: "Hopper".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }

    /// Ada's phone's file, as her phone fetches it.
    async fn phone_file(&self) -> String {
        let (status, _, body) = self.server.fetch(FILE, Some(UA)).await;
        assert_eq!(status, 200);
        body
    }
}
