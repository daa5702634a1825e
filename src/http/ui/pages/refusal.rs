//! A rule's refusal as the pages show it: by the field it names (`Invalid`), or a `Conflict`
//! under the field of the form that caused it, with the status the page answers. Anything else
//! is an error page.

use std::collections::BTreeMap;

use axum::http::StatusCode;

use super::super::templates::{in_lang, Lang};
use super::super::UiError;
use crate::error::Error;

/// The errors by field and the status for `e`, or the error page; a rule's text is in
/// `lang` where the portal's catalogue has it.
pub(super) fn refusal(
    lang: Lang,
    e: Error,
    conflict_field: &str,
) -> Result<(BTreeMap<String, String>, StatusCode), UiError> {
    let (field, message, status) = match in_lang(lang, e) {
        Error::Invalid(f) => (
            f.field.into_owned(),
            f.message,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Error::Conflict { message, .. } => {
            (conflict_field.to_owned(), message, StatusCode::CONFLICT)
        }
        e => return Err(e.into()),
    };
    Ok((BTreeMap::from([(field, message)]), status))
}

/// A text field as the admin operations take it: `None` when left empty.
pub(super) fn given(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// A list typed one per line (or separated by commas).
pub(super) fn lines(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}
