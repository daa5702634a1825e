//! Reading an import file: the CSV that spreadsheets write, streamed a record at a time.
//!
//! Accepts UTF-8 with or without a byte-order mark (or Windows-1252 when asked), `,` or `;`
//! (detected from the header line: German spreadsheets write `;`), quoted fields, CRLF, and a
//! header row whose column names may come in any order (`Phone ID`, `phone-id` and `phone_id`
//! are one column). It knows nothing of what a row means: a kind gives its [`Column`]s and reads
//! each [`Row`] by column name. Every problem is a [`RowError`] naming the line and the column;
//! a file that is not in the expected encoding stops the read at the first line that shows it.

use std::borrow::Cow;
use std::io::{BufReader, Chain, Cursor, Read};

use crate::error::FieldError;
pub use crate::error::RowError;

impl RowError {
    pub fn new(line: u64, field: impl Into<String>, message: impl Into<String>) -> RowError {
        RowError {
            line,
            field: field.into(),
            message: message.into(),
        }
    }

    /// A rule's error for the row on `line`.
    pub fn from_field(line: u64, e: FieldError) -> RowError {
        RowError::new(line, e.field, e.message)
    }
}

/// The text encoding of an import file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    #[default]
    Utf8,
    /// Windows-1252, what older Excel writes as "CSV" on a German or English Windows.
    Cp1252,
}

impl Encoding {
    pub const ALL: [Encoding; 2] = [Encoding::Utf8, Encoding::Cp1252];

    /// The name `from_str` takes first.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Cp1252 => "cp1252",
        }
    }

    /// A whole file as text in this encoding (a Windows-1252 file becomes UTF-8); `None`
    /// when it is not UTF-8 and said to be.
    pub fn text(self, raw: Vec<u8>) -> Option<String> {
        match self {
            Encoding::Utf8 => String::from_utf8(raw).ok(),
            Encoding::Cp1252 => decode(&raw, self).ok().map(Cow::into_owned),
        }
    }
}

impl std::str::FromStr for Encoding {
    type Err = crate::error::Error;
    fn from_str(s: &str) -> crate::error::Result<Encoding> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "cp1252" | "windows-1252" | "latin1" | "iso-8859-1" => Ok(Encoding::Cp1252),
            _ => Err(crate::error::Error::invalid(
                "encoding",
                format!("{s:?} is not one of: utf-8, cp1252"),
            )),
        }
    }
}

/// A column a kind reads.
#[derive(Clone, Copy, Debug)]
pub struct Column {
    /// Its name in the header, lowercase with `_` (as [`normalise`] makes a header cell).
    pub name: &'static str,
    pub required: bool,
}

impl Column {
    pub const fn required(name: &'static str) -> Column {
        Column {
            name,
            required: true,
        }
    }

    pub const fn optional(name: &'static str) -> Column {
        Column {
            name,
            required: false,
        }
    }
}

/// A header cell as a column name: trimmed, lowercase, spaces and `-` as `_`.
pub fn normalise(cell: &str) -> String {
    cell.trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// One data row: its line and its cells, by the kind's columns.
#[derive(Debug)]
pub struct Row {
    pub line: u64,
    columns: &'static [Column],
    /// Indexed like `columns`; an empty or absent cell is `None`.
    cells: Vec<Option<String>>,
}

impl Row {
    /// The trimmed cell of `column`, `None` when empty or not in the file.
    pub fn get(&self, column: &str) -> Option<&str> {
        let i = self.columns.iter().position(|c| c.name == column)?;
        self.cells[i].as_deref()
    }

    /// The cell of a required column (the header check made sure the column is there).
    pub fn required(&self, column: &'static str) -> Result<&str, FieldError> {
        self.get(column).ok_or_else(|| FieldError {
            code: None,
            field: Cow::Borrowed(column),
            message: "is empty".into(),
        })
    }

    /// A row error on this row's line.
    pub fn error(&self, e: FieldError) -> RowError {
        RowError::from_field(self.line, e)
    }
}

/// What csv reads: the header line read ahead, then the rest, each noted by line.
type Input<R> = BufReader<Chain<Cursor<Vec<u8>>, Newlines<R>>>;

/// Streams an import file's rows. Iterate it; each item is a row or that line's problem.
pub struct Reader<R: Read> {
    records: csv::ByteRecordsIntoIter<Input<R>>,
    /// Where the file's lines end, for the line a record starts on.
    lines: std::sync::Arc<std::sync::Mutex<LineEnds>>,
    /// Bytes before what csv reads (a byte-order mark).
    skipped: u64,
    columns: &'static [Column],
    /// For each file column, the kind's column index.
    map: Vec<usize>,
    encoding: Encoding,
    /// Set after an encoding error: nothing after it is read.
    stopped: bool,
    /// The first record, when it was data rather than a header (see
    /// [`Reader::with_optional_header`]).
    pending: Option<csv::ByteRecord>,
}

/// The biggest header line looked at to detect the delimiter.
const SNIFF: usize = 64 * 1024;

impl<R: Read> Reader<R> {
    /// Reads the header of `input` and checks it against `columns`. All the header's problems
    /// (unknown, missing, repeated columns) come back at once.
    pub fn new(
        input: R,
        columns: &'static [Column],
        encoding: Encoding,
    ) -> Result<Reader<R>, Vec<RowError>> {
        Self::open(input, columns, encoding, false)
    }

    /// As [`Reader::new`], for a kind whose files may also come without a header (the portal's
    /// directory, `Name, Number` a line): a first row none of whose cells names a column is
    /// data, its cells in the order of `columns`.
    pub fn with_optional_header(
        input: R,
        columns: &'static [Column],
        encoding: Encoding,
    ) -> Result<Reader<R>, Vec<RowError>> {
        Self::open(input, columns, encoding, true)
    }

    fn open(
        input: R,
        columns: &'static [Column],
        encoding: Encoding,
        header_optional: bool,
    ) -> Result<Reader<R>, Vec<RowError>> {
        let lines = std::sync::Arc::new(std::sync::Mutex::new(LineEnds::default()));
        let mut input = Newlines {
            inner: input,
            ends: lines.clone(),
        };
        let head = read_head(&mut input).map_err(|e| vec![io_error(1, e)])?;
        let (delimiter, skipped) = sniff(&head);
        let mut head = Cursor::new(head);
        head.set_position(skipped);
        let input = BufReader::with_capacity(SNIFF, head.chain(input));
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            // `\n` ends a record and trimming drops a CRLF's `\r`: csv counts lines wrongly with
            // its CRLF terminator (the `\n` is counted with the next record).
            .terminator(csv::Terminator::Any(b'\n'))
            .trim(csv::Trim::All)
            .from_reader(input);
        let mut header = csv::ByteRecord::new();
        match csv.read_byte_record(&mut header) {
            Ok(true) => {}
            Ok(false) => return Err(vec![RowError::new(1, "file", "is empty (no header row)")]),
            Err(e) => return Err(vec![csv_error(1, e)]),
        }
        let data = header_optional && !names_a_column(&header, columns, encoding);
        let (map, pending) = if data {
            ((0..columns.len()).collect(), Some(header))
        } else {
            (header_map(&header, columns, encoding)?, None)
        };
        Ok(Reader {
            records: csv.into_byte_records(),
            columns,
            map,
            encoding,
            stopped: false,
            pending,
            lines,
            skipped,
        })
    }

    fn row(&mut self, record: csv::ByteRecord) -> Result<Option<Row>, RowError> {
        let line = record.position().map_or(0, |p| {
            let ends = self.lines.lock().unwrap_or_else(|e| e.into_inner());
            ends.line_at(p.byte() + self.skipped)
        });
        if record.iter().all(|cell| cell.is_empty()) {
            return Ok(None); // a blank line, or a spreadsheet's row of empty cells
        }
        if record.len() > self.map.len() {
            return Err(RowError::new(
                line,
                "file",
                format!(
                    "has {} cells, the header has {} columns",
                    record.len(),
                    self.map.len()
                ),
            ));
        }
        let mut cells = vec![None; self.columns.len()];
        for (i, raw) in record.iter().enumerate() {
            let column = self.columns[self.map[i]].name;
            let text = decode(raw, self.encoding).map_err(|m| RowError::new(line, column, m))?;
            cells[self.map[i]] = Some(text.into_owned()).filter(|t| !t.is_empty());
        }
        Ok(Some(Row {
            line,
            columns: self.columns,
            cells,
        }))
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<Row, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(first) = self.pending.take() {
            match self.row(first) {
                Ok(None) => {}
                Ok(Some(row)) => return Some(Ok(row)),
                Err(e) => return Some(Err(e)),
            }
        }
        while !self.stopped {
            let item = match self.records.next()? {
                Ok(record) => self.row(record),
                Err(e) => Err(csv_error(0, e)),
            };
            match item {
                Ok(None) => continue,
                Ok(Some(row)) => return Some(Ok(row)),
                Err(e) => {
                    // A wrong encoding shows on every later line too: one error says it.
                    self.stopped = e.message.contains("UTF-8");
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

/// The ends of a file's lines as it is read: csv's own line count leaves blank lines out, and
/// a bad row must be named by the line an editor shows.
#[derive(Default)]
struct LineEnds {
    /// The offset of every `\n`.
    ends: Vec<u64>,
    /// Whether the line each ends is blank (nothing but a `\r`).
    blank: Vec<bool>,
    /// Bytes read so far, and whether the current line has shown anything but `\r` yet.
    read: u64,
    filled: bool,
}

impl LineEnds {
    fn note(&mut self, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\n' => {
                    self.ends.push(self.read + i as u64);
                    self.blank.push(!self.filled);
                    self.filled = false;
                }
                b'\r' => {}
                _ => self.filled = true,
            }
        }
        self.read += bytes.len() as u64;
    }

    /// The line (1-based) of the first thing that is not a blank line at or after `byte`.
    fn line_at(&self, byte: u64) -> u64 {
        let mut i = self.ends.partition_point(|&end| end < byte);
        while self.blank.get(i) == Some(&true) {
            i += 1;
        }
        i as u64 + 1
    }
}

/// The input, noting where its lines end as csv reads it.
struct Newlines<R> {
    inner: R,
    ends: std::sync::Arc<std::sync::Mutex<LineEnds>>,
}

impl<R: Read> Read for Newlines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.ends
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .note(&buf[..n]);
        Ok(n)
    }
}

/// Reads ahead to the end of the header line (at most `SNIFF` bytes), however the input's
/// reads are cut: a request body's parts may end anywhere, even inside the first cell.
fn read_head<R: Read>(input: &mut R) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut quoted = false;
    let mut part = [0u8; 8192];
    while head.len() < SNIFF {
        let want = (SNIFF - head.len()).min(part.len());
        let n = match input.read(&mut part[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        head.extend_from_slice(&part[..n]);
        let ended = part[..n].iter().any(|&byte| {
            match byte {
                b'"' => quoted = !quoted,
                b'\n' if !quoted => return true,
                _ => {}
            }
            false
        });
        if ended {
            break;
        }
    }
    Ok(head)
}

/// Skips a UTF-8 byte-order mark and picks the delimiter: `;` when the header line has more
/// `;` than `,` outside quotes, else `,`. The bytes skipped.
fn sniff(head: &[u8]) -> (u8, u64) {
    let skipped = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let (mut commas, mut semicolons, mut quoted) = (0, 0, false);
    for &byte in &head[skipped as usize..] {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    (if semicolons > commas { b';' } else { b',' }, skipped)
}

/// Whether any cell of a first row is the name of one of `columns` (then the row is a header).
fn names_a_column(header: &csv::ByteRecord, columns: &[Column], encoding: Encoding) -> bool {
    header.iter().any(|raw| {
        decode(raw, encoding)
            .map(|text| columns.iter().any(|c| c.name == normalise(&text)))
            .unwrap_or(false)
    })
}

/// The kind's column of each file column; every unknown, missing or repeated column named.
fn header_map(
    header: &csv::ByteRecord,
    columns: &'static [Column],
    encoding: Encoding,
) -> Result<Vec<usize>, Vec<RowError>> {
    let known = || {
        columns
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut errors = Vec::new();
    let mut map = Vec::with_capacity(header.len());
    for raw in header {
        let name = match decode(raw, encoding) {
            Ok(text) => normalise(&text),
            Err(message) => return Err(vec![RowError::new(1, "header", message)]),
        };
        match columns.iter().position(|c| c.name == name) {
            Some(i) if map.contains(&i) => {
                errors.push(RowError::new(1, name, "column appears twice in the header"))
            }
            Some(i) => map.push(i),
            None => errors.push(RowError::new(
                1,
                if name.is_empty() {
                    "header".into()
                } else {
                    name.clone()
                },
                format!("unknown column {name:?}; the columns are: {}", known()),
            )),
        }
    }
    for (i, column) in columns.iter().enumerate() {
        if column.required && !map.contains(&i) {
            errors.push(RowError::new(1, column.name, "required column is missing"));
        }
    }
    if errors.is_empty() {
        Ok(map)
    } else {
        Err(errors)
    }
}

/// A cell's text in `encoding`.
fn decode(raw: &[u8], encoding: Encoding) -> Result<Cow<'_, str>, String> {
    match encoding {
        Encoding::Utf8 => std::str::from_utf8(raw).map(Cow::Borrowed).map_err(|e| {
            let byte = raw[e.valid_up_to()];
            format!(
                "the file is not UTF-8 (byte 0x{byte:02x} here); save it as \"CSV UTF-8\", \
                 or give --encoding cp1252 for a Windows-1252 file"
            )
        }),
        Encoding::Cp1252 => Ok(encoding_rs::WINDOWS_1252.decode_without_bom_handling(raw).0),
    }
}

fn csv_error(line: u64, e: csv::Error) -> RowError {
    let line = e.position().map_or(line, |p| p.line());
    match e.into_kind() {
        csv::ErrorKind::Io(e) => io_error(line, e),
        other => RowError::new(line, "file", format!("is not valid CSV: {other:?}")),
    }
}

fn io_error(line: u64, e: std::io::Error) -> RowError {
    RowError::new(line, "file", format!("cannot be read: {e}"))
}

#[cfg(test)]
mod tests;
