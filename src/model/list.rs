//! A page of a list: what the caller asks for (`ListQuery`) and what the store answers
//! (`Listed`). The store filters and pages in SQL; the limits live here, once.

use serde::Serialize;

use crate::error::{Error, Result};

/// Items on a page when the caller does not say.
pub const LIST_DEFAULT: u32 = 100;
/// Most items on one page.
pub const LIST_MAX: u32 = 1000;

/// Which part of a list: at most `limit` items (1–1000, default 100) from `offset`, of those
/// whose listed texts contain `q` (ignoring case; an empty `q` matches all).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    pub q: Option<String>,
}

impl ListQuery {
    /// The page size, refused when out of range (checked by the store, after what the list
    /// names — a tenant, a site — was found).
    pub fn limit(&self) -> Result<u32> {
        let limit = self.limit.unwrap_or(LIST_DEFAULT);
        if (1..=LIST_MAX).contains(&limit) {
            Ok(limit)
        } else {
            Err(
                Error::invalid("limit", format!("{limit} is not between 1 and {LIST_MAX}")).coded(
                    "list_limit",
                    [("limit", limit.to_string()), ("max", LIST_MAX.to_string())],
                ),
            )
        }
    }

    pub fn offset(&self) -> u32 {
        self.offset.unwrap_or(0)
    }

    /// The search text, trimmed and in lower case; `None` when there is none.
    pub fn search(&self) -> Option<String> {
        self.q
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_lowercase)
    }
}

/// One page of a list and how many items match in all (before paging).
#[derive(Clone, Debug, Serialize)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_search() {
        let q = |limit, q: Option<&str>| ListQuery {
            limit,
            offset: None,
            q: q.map(str::to_owned),
        };
        assert_eq!(q(None, None).limit().unwrap(), LIST_DEFAULT);
        assert_eq!(q(Some(1000), None).limit().unwrap(), 1000);
        for bad in [0, 1001] {
            let err = q(Some(bad), None).limit().unwrap_err().to_string();
            assert!(err.contains("is not between 1 and 1000"), "{err}");
        }
        assert_eq!(q(None, Some("  ")).search(), None);
        assert_eq!(
            q(None, Some(" Özdemir ")).search().as_deref(),
            Some("özdemir")
        );
    }
}
