//! Imports (issue 13's bulk import): a CSV file of a kind is uploaded (`multipart/form-data`),
//! checked as a dry run that shows every bad row (line, field, message) or how many rows would
//! be written, then committed with the same file, carried in the dry run's page as a hidden
//! field and checked again by the import itself.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::super::{AnySession, TenantPage, UiError, View};
use super::ADMINS;
use crate::admin::import::{Encoding, ImportOptions, KindName};
use crate::app::App;
use crate::error::Error;
use crate::model::{constant_time_eq, Role};

pub(super) const TEMPLATES: &[(&str, &str)] = &[
    (
        "imports/import.html",
        include_str!("../templates/imports/import.html"),
    ),
    (
        "imports/report.html",
        include_str!("../templates/imports/report.html"),
    ),
    (
        "imports/encoding.html",
        include_str!("../templates/imports/encoding.html"),
    ),
];

/// The largest upload the page takes (the API and `autoprov import` take larger files).
const MAX_UPLOAD: usize = 8 << 20;

pub(super) fn routes(router: Router<App>) -> Router<App> {
    router.route("/t/{tenant}/import", get(page).post(upload))
}

/// The kinds the session may import (`KindName::may_import`).
fn kinds(role: Role) -> Vec<&'static str> {
    KindName::ALL
        .iter()
        .filter(|k| k.may_import(role))
        .map(|k| k.as_str())
        .collect()
}

async fn page(view: View, page: TenantPage) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    render(&view, &page, Outcome::default())
}

/// What the page shows below its form (the report partial, `imports/report.html`, which the
/// Directory page includes too).
#[derive(Default)]
pub(super) struct Outcome {
    kind: String,
    /// The file's text, carried to the commit button after a clean dry run.
    csv: Option<String>,
    rows: Option<u64>,
    committed: bool,
    /// The character set the file was read in (`Encoding::as_str`).
    encoding: &'static str,
    bad_rows: Vec<crate::error::RowError>,
    errors: BTreeMap<String, String>,
}

impl Outcome {
    /// 422 when the file (or the form) had errors.
    pub(super) fn status(&self) -> StatusCode {
        if self.bad_rows.is_empty() && self.errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }

    /// The report partial's variables (`kind`, `csv`, `rows`, `committed`, `bad_rows`,
    /// `errors`); the page adds `action`.
    pub(super) fn context(self) -> minijinja::Value {
        let bad: Vec<_> = self
            .bad_rows
            .iter()
            .map(|r| minijinja::context! { line => r.line, field => r.field, message => r.message })
            .collect();
        minijinja::context! {
            kind => self.kind,
            csv => self.csv,
            rows => self.rows,
            committed => self.committed,
            encoding => self.encoding,
            // UTF-8, or Windows-1252 (what older Excel saves as "CSV" on Windows).
            encodings => Encoding::ALL.map(Encoding::as_str),
            bad_rows => bad,
            errors => self.errors,
        }
    }
}

fn render(view: &View, page: &TenantPage, o: Outcome) -> Result<Response, UiError> {
    let status = o.status();
    let mut response = view.render(
        Some(&page.session.0),
        "imports/import.html",
        minijinja::context! {
            tenant => minijinja::context! { id => page.tenant.id.0, name => page.tenant.name },
            action => format!("/t/{}/import", page.tenant.id.0),
            kinds => kinds(page.session.role()),
            ..o.context()
        },
    );
    *response.status_mut() = status;
    Ok(response)
}

async fn upload(view: View, page: TenantPage, form: Upload) -> Result<Response, UiError> {
    page.session.require(ADMINS)?;
    let kind_text = form.text("kind");
    let kind: KindName = match kind_text.parse() {
        Ok(k) if kinds(page.session.role()).contains(&KindName::as_str(k)) => k,
        _ => {
            let mut outcome = Outcome {
                kind: kind_text,
                ..Outcome::default()
            };
            outcome.errors.insert("kind".into(), String::new());
            return render(&view, &page, outcome);
        }
    };
    let outcome = check_or_commit(&page, kind, &form).await?;
    render(&view, &page, outcome)
}

/// The upload's file of `kind` checked as a dry run (the `file` part), or committed (`commit`
/// 1, the file carried back in the `csv` part and checked again by the import).
pub(super) async fn check_or_commit(
    page: &TenantPage,
    kind: KindName,
    form: &Upload,
) -> Result<Outcome, UiError> {
    let mut outcome = Outcome {
        kind: kind.as_str().to_owned(),
        ..Outcome::default()
    };
    let commit = form.text("commit") == "1";
    // The dry run's file comes as the upload; the commit's as the hidden field.
    let bytes = match (form.fields.get("file"), form.fields.get("csv")) {
        (_, Some(csv)) if commit => csv.clone(),
        (Some(file), _) if !file.is_empty() => file.clone(),
        _ => {
            outcome.errors.insert("file".into(), String::new());
            return Ok(outcome);
        }
    };
    // The dry run's file in the character set chosen; the commit's is the text it became.
    let encoding = match commit {
        true => Encoding::Utf8,
        false => form.text("encoding").parse().unwrap_or_default(),
    };
    outcome.encoding = encoding.as_str();
    let Some(text) = encoding.text(bytes) else {
        outcome.errors.insert("encoding".into(), String::new());
        return Ok(outcome);
    };
    let options = ImportOptions {
        dry_run: !commit,
        ..ImportOptions::default()
    };
    let result = page
        .session
        .caller()
        .admin
        .import(
            kind,
            page.tenant.id,
            std::io::Cursor::new(text.clone().into_bytes()),
            options,
            &|_| {},
        )
        .await;
    match result {
        Ok(report) => {
            outcome.rows = Some(report.rows);
            outcome.committed = commit;
            if !commit {
                outcome.csv = Some(text);
            }
        }
        Err(Error::Rows(rows)) => outcome.bad_rows = rows,
        Err(Error::Invalid(f)) => {
            outcome
                .errors
                .insert("file_message".into(), format!("{}: {}", f.field, f.message));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(outcome)
}

/// A `multipart/form-data` POST of a session: its `csrf` part must be the session's token
/// (else 403 and nothing done); the parts by name.
pub(super) struct Upload {
    fields: HashMap<String, Vec<u8>>,
}

impl Upload {
    fn text(&self, name: &str) -> String {
        self.fields
            .get(name)
            .map(|v| String::from_utf8_lossy(v).trim().to_owned())
            .unwrap_or_default()
    }
}

impl FromRequest<App> for Upload {
    type Rejection = UiError;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = AnySession::from_request_parts(&mut parts, app).await?;
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = axum::body::to_bytes(body, MAX_UPLOAD)
            .await
            .map_err(|_| Error::invalid("file", "the file is too large"))?;
        let fields = multipart(&content_type, &bytes).ok_or(UiError::Csrf)?;
        let given = fields.get("csrf").map(Vec::as_slice).unwrap_or_default();
        if !constant_time_eq(given, session.session.csrf.as_bytes()) {
            return Err(UiError::Csrf);
        }
        Ok(Upload { fields })
    }
}

/// The parts of a `multipart/form-data` body by name (a browser's form: no nested parts).
fn multipart(content_type: &str, body: &[u8]) -> Option<HashMap<String, Vec<u8>>> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))?
        .trim_matches('"');
    if boundary.is_empty() {
        return None;
    }
    let delimiter = format!("\r\n--{boundary}");
    let first = format!("--{boundary}");
    let mut rest = &body[find(body, first.as_bytes())? + first.len()..];
    let mut fields = HashMap::new();
    loop {
        if rest.starts_with(b"--") {
            return Some(fields);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..head_end]).ok()?;
        let content = &rest[head_end + 4..];
        let end = find(content, delimiter.as_bytes())?;
        let name = head
            .split("\r\n")
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?
            .split(';')
            .find_map(|p| p.trim().strip_prefix("name="))?
            .trim_matches('"');
        fields.insert(name.to_owned(), content[..end].to_vec());
        rest = &content[end + delimiter.len()..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::multipart;

    #[test]
    fn issue_14_multipart_parts_by_name() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n\
            --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\
            Content-Type: text/csv\r\n\r\nmac,model\r\n1,2\r\n\r\n--XyZ--\r\n";
        let parts = multipart("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(parts["csrf"], b"abc");
        assert_eq!(parts["file"], b"mac,model\r\n1,2\r\n");
        assert!(multipart("application/x-www-form-urlencoded", body).is_none());
        assert!(multipart("multipart/form-data; boundary=XyZ", b"--XyZ\r\nbroken").is_none());
    }
}
