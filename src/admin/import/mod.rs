//! Bulk import and export of a tenant's objects as CSV (`autoprov import KIND FILE`, `POST
//! …/import/{kind}`). `reader` turns a file into rows; each kind is a small module with its row
//! type, its validation (the same rule functions as the single writes, plus the checks across
//! the file) and its write.

mod reader;

pub use reader::{normalise, Column, Encoding, Reader, Row, RowError};
