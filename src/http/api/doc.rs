//! The OpenAPI document's frame (title, bearer security, the problem schemas), then what the
//! handlers' annotations leave out: the path's segments (a `Scoped` handler takes no `Path`
//! for utoipa to read them from) and the error answers every operation can give, all
//! `application/problem+json` with the `Problem` schema, so the document says what is sent.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, ObjectBuilder, OpenApi, Ref, RefOr, Required, Response, Type};
use utoipa::OpenApi as _;

use super::{FieldProblem, Problem};

/// The content type of every error answer (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "autoprov admin API",
        description = "Tenants, sites, numbers, users, handsets, BLF permissions, licences and \
                       the audit trail. Errors are application/problem+json (RFC 9457)."
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(Problem, FieldProblem))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document before the routes add their operations.
pub(super) fn frame() -> OpenApi {
    ApiDoc::openapi()
}

/// Completes every operation: its path segments, then its error answers.
pub(super) fn complete(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        // Each operation, and whether it writes.
        let operations = [
            (&mut item.get, false),
            (&mut item.put, true),
            (&mut item.post, true),
            (&mut item.delete, true),
            (&mut item.patch, true),
        ];
        for (operation, writes) in operations {
            let Some(operation) = operation else {
                continue;
            };
            declare_segments(operation, path);
            declare_errors(operation, path, writes);
        }
    }
}

/// Declares each `{segment}` of `path` the operation does not declare yet, with what it takes.
fn declare_segments(operation: &mut Operation, path: &str) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    let segments = path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'));
    for segment in segments {
        let declared = parameters
            .iter_mut()
            .find(|p| p.parameter_in == ParameterIn::Path && p.name == segment);
        if let Some(parameter) = declared {
            if parameter.description.is_none() {
                parameter.description = segment_text(segment).map(str::to_owned);
            }
        } else {
            let text = ObjectBuilder::new().schema_type(Type::String);
            parameters.push(
                ParameterBuilder::new()
                    .name(segment)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(segment_text(segment))
                    .schema(Some(text))
                    .build(),
            );
        }
    }
}

fn segment_text(segment: &str) -> Option<&'static str> {
    Some(match segment {
        "tenant" => "Tenant id or name",
        "user" | "watched" => "User id, e-mail, number or \"First Last\"",
        "number" => "Number id or E.164",
        "site" => "Site id or name",
        "device" => "MAC or Phone ID",
        "mac" => "MAC, in any notation",
        "grant" => "BLF grant id",
        "group" => "Group id or name",
        "schedule" => "Schedule id or name",
        "entry" => "Directory entry id",
        "kind" => "Licence kind: app, conference-room or e-fax",
        _ => return None,
    })
}

/// Adds to the operation the error answers it can give, and makes every error answer a
/// handler declared itself (403, 409, 423, …) problem+json:
/// - 401 (no valid token), 429 (the token throttle) and 500, everywhere: every route
///   authenticates;
/// - 400 and 422 where there is input (path, query or body): unreadable, or breaking a rule;
/// - 404 where the path names something; 415 where a JSON body is taken;
/// - 409 on every write: any may collide with the current state (a name taken, a wrong state);
/// - 403 on every route inside a tenant: each checks a role (or "admin or self").
fn declare_errors(operation: &mut Operation, path: &str, writes: bool) {
    let names = path.contains('{');
    let in_tenant = path.starts_with("/api/v1/tenants/{tenant}");
    let query = operation
        .parameters
        .iter()
        .flatten()
        .any(|p| p.parameter_in == ParameterIn::Query);
    let body = operation.request_body.is_some();
    let input = names || query || body;
    let statuses = [
        (400, input),
        (401, true),
        (403, in_tenant),
        (404, names),
        (409, writes),
        (415, body),
        (422, input),
        (429, true),
        (500, true),
    ];
    for (status, applies) in statuses {
        if applies {
            declare(operation, status);
        }
    }
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response {
            if status.starts_with('4') || status.starts_with('5') {
                as_problem(response, status);
            }
        }
    }
}

fn declare(operation: &mut Operation, status: u16) {
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::T(Response::new("")));
}

/// An error answer as sent: problem+json with the `Problem` schema, a description when the
/// handler gave none, and `Retry-After` on 429.
fn as_problem(response: &mut Response, status: &str) {
    response.content.clear();
    response.content.insert(
        PROBLEM_JSON.to_owned(),
        Content::new(Some(Ref::from_schema_name("Problem"))),
    );
    if response.description.is_empty() {
        response.description = describe(status).to_owned();
    }
    if status == "429" {
        let seconds = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0));
        response.headers.insert(
            "Retry-After".to_owned(),
            HeaderBuilder::new()
                .schema(seconds)
                .description(Some("Seconds until a token is checked again"))
                .build(),
        );
    }
}

fn describe(status: &str) -> &'static str {
    match status {
        "400" => "The body is not JSON, or the path or query cannot be read",
        "401" => "No valid bearer token",
        "403" => "The token's role may not do this",
        "404" => "The path names nothing the caller can see (another tenant's objects included)",
        "409" => "The request collides with the current state; `errors` names the field when it is about one (a name taken, an object in use)",
        "415" => "The body is not declared application/json",
        "422" => "Input breaks a rule; `errors` names the field",
        "423" => "Locked after too many failed attempts",
        "429" => "Too many failed token checks from this address",
        "500" => "The server could not complete the request (the cause is in its log)",
        _ => "An error",
    }
}
