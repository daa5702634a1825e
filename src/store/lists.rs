//! Lists searched and paged in SQL: a search over the texts a list is searched by, the number
//! of matches in all (a window count), and `LIMIT`/`OFFSET`. The search ignores case as Rust's
//! `to_lowercase` does, on both backends and whatever PostgreSQL's locale: each letter of the
//! search text becomes a class of its lower and upper case (`GLOB '*[aA]*'` in SQLite, a
//! regular expression in PostgreSQL), which also keeps `%`, `_` and `*` literal. A list may
//! also have one filter of its own, a text a column must equal (`ListSql::equals`).

use sqlx::any::AnyRow;

use super::{get, Backend, Store};
use crate::error::Result;
use crate::model::{ListQuery, Listed};

/// The statement of one list.
pub(super) struct ListSql<'a> {
    /// What to select, without the keyword.
    columns: &'a str,
    /// `FROM … WHERE …`: the list's rows, with `$1`… bound to `binds`.
    rows: &'a str,
    binds: &'a [i64],
    /// SQL expressions of the texts a search looks in; none: `q` is ignored.
    search: &'a [&'a str],
    /// A filter of the list's own (a select beside the search): the SQL expression and the
    /// text it must equal.
    equals: Option<(&'a str, &'a str)>,
    order: &'a str,
}

impl<'a> ListSql<'a> {
    /// `SELECT columns rows ORDER BY order`, with `binds` for `rows`' placeholders.
    pub(super) fn new(columns: &'a str, rows: &'a str, binds: &'a [i64], order: &'a str) -> Self {
        ListSql {
            columns,
            rows,
            binds,
            search: &[],
            equals: None,
            order,
        }
    }

    /// The same list, searched in `texts` (SQL expressions).
    pub(super) fn search(self, texts: &'a [&'a str]) -> Self {
        ListSql {
            search: texts,
            ..self
        }
    }

    /// The same list, only the rows whose `expr` is `value` (when given).
    pub(super) fn equals(self, expr: &'a str, value: Option<&'a str>) -> Self {
        ListSql {
            equals: value.map(|v| (expr, v)),
            ..self
        }
    }
}

impl Store {
    /// The page `query` asks for of the list `sql` selects, each row read by `item`.
    pub(super) async fn list<T>(
        &self,
        sql: &ListSql<'_>,
        query: &ListQuery,
        item: impl Fn(&AnyRow) -> Result<T>,
    ) -> Result<Listed<T>> {
        let limit = query.limit()?;
        let offset = query.offset();
        let pattern = query
            .search()
            .filter(|_| !sql.search.is_empty())
            .map(|q| contains_pattern(self.backend, &q));
        let mut next = sql.binds.len() + 1;
        let mut filter = String::new();
        if let Some((expr, _)) = sql.equals {
            filter = format!(" AND ({expr}) = ${next}");
            next += 1;
        }
        filter += &match pattern {
            Some(_) => {
                let op = match self.backend {
                    Backend::Sqlite => "GLOB",
                    Backend::Postgres => "~",
                };
                let any: Vec<String> = sql
                    .search
                    .iter()
                    .map(|text| format!("({text}) {op} ${next}"))
                    .collect();
                next += 1;
                format!(" AND ({})", any.join(" OR "))
            }
            None => String::new(),
        };
        let page = format!(
            "SELECT {}, COUNT(*) OVER () AS list_total {}{filter} ORDER BY {} LIMIT ${next} OFFSET ${}",
            sql.columns,
            sql.rows,
            sql.order,
            next + 1
        );
        let mut statement = sqlx::query(&page);
        for bind in sql.binds {
            statement = statement.bind(*bind);
        }
        if let Some((_, value)) = sql.equals {
            statement = statement.bind(value);
        }
        if let Some(p) = &pattern {
            statement = statement.bind(p.as_str());
        }
        let rows = statement
            .bind(i64::from(limit))
            .bind(i64::from(offset))
            .fetch_all(&self.pool)
            .await?;
        let total = match rows.first() {
            Some(row) => get::<i64>(row, "list_total")?,
            None if offset == 0 => 0,
            // Past the end: no row to carry the count.
            None => {
                let count = format!("SELECT COUNT(*) {}{filter}", sql.rows);
                let mut statement = sqlx::query_scalar::<_, i64>(&count);
                for bind in sql.binds {
                    statement = statement.bind(*bind);
                }
                if let Some((_, value)) = sql.equals {
                    statement = statement.bind(value);
                }
                if let Some(p) = &pattern {
                    statement = statement.bind(p.as_str());
                }
                statement.fetch_one(&self.pool).await?
            }
        };
        Ok(Listed {
            items: rows.iter().map(item).collect::<Result<_>>()?,
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}

/// A pattern that matches a text containing `q` (in lower case), whatever the case of the
/// text's letters.
fn contains_pattern(backend: Backend, q: &str) -> String {
    let mut out = String::from(match backend {
        Backend::Sqlite => "*",
        Backend::Postgres => "",
    });
    for c in q.chars() {
        let mut upper = c.to_uppercase();
        match (upper.next(), upper.next()) {
            (Some(u), None) if u != c => {
                out.push('[');
                out.push(c);
                out.push(u);
                out.push(']');
            }
            _ => match backend {
                Backend::Sqlite if matches!(c, '*' | '?' | '[') => {
                    out.push('[');
                    out.push(c);
                    out.push(']');
                }
                Backend::Postgres if c.is_ascii() && !c.is_ascii_alphanumeric() => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            },
        }
    }
    if backend == Backend::Sqlite {
        out.push('*');
    }
    out
}

/// `ORDER BY` of a name by its bytes on both backends (PostgreSQL's own collation follows the
/// locale, SQLite's is by bytes).
pub(super) fn by_bytes(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => column.to_owned(),
        Backend::Postgres => format!("{column} COLLATE \"C\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_fold_case_and_keep_wildcards_literal() {
        assert_eq!(contains_pattern(Backend::Sqlite, "öz"), "*[öÖ][zZ]*");
        assert_eq!(
            contains_pattern(Backend::Sqlite, "a*?[1%_"),
            "*[aA][*][?][[]1%_*"
        );
        assert_eq!(contains_pattern(Backend::Postgres, "öz"), "[öÖ][zZ]");
        assert_eq!(
            contains_pattern(Backend::Postgres, "+49 1.*(x)%_"),
            "\\+49\\ 1\\.\\*\\([xX]\\)\\%\\_"
        );
        // No single upper case: the letter as it is.
        assert_eq!(contains_pattern(Backend::Sqlite, "ß"), "*ß*");
    }
}
