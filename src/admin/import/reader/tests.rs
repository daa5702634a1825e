use super::*;

const COLUMNS: &[Column] = &[
    Column::required("mac"),
    Column::required("model"),
    Column::optional("phone_id"),
];

/// The rows of `file` as (line, mac, model, phone_id), or the errors.
fn read(file: &[u8], encoding: Encoding) -> Result<Vec<(u64, String)>, Vec<RowError>> {
    read_from(file, encoding)
}

fn read_from(file: impl Read, encoding: Encoding) -> Result<Vec<(u64, String)>, Vec<RowError>> {
    let reader = Reader::new(file, COLUMNS, encoding)?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for row in reader {
        match row {
            Ok(row) => rows.push((
                row.line,
                format!(
                    "{}|{}|{}",
                    row.get("mac").unwrap_or("-"),
                    row.get("model").unwrap_or("-"),
                    row.get("phone_id").unwrap_or("-")
                ),
            )),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[track_caller]
fn check(file: &[u8], expected: &[(u64, &str)]) {
    let rows = read(file, Encoding::Utf8).unwrap();
    let rows: Vec<(u64, &str)> = rows.iter().map(|(l, r)| (*l, r.as_str())).collect();
    assert_eq!(rows, expected);
}

#[track_caller]
fn errors(file: &[u8], encoding: Encoding) -> Vec<String> {
    read(file, encoding)
        .unwrap_err()
        .iter()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn comma_semicolon_crlf_bom_and_column_order() {
    check(
        b"mac,model\n0015651a2b3c,T54W\n",
        &[(2, "0015651a2b3c|T54W|-")],
    );
    check(
        b"Model;MAC;Phone ID\r\nT54W;0015651a2b3c;D1\r\n",
        &[(2, "0015651a2b3c|T54W|D1")],
    );
    check(b"\xEF\xBB\xBFmac;model\r\n a ; b \r\n", &[(2, "a|b|-")]);
    check(
        b"mac,model\r\n\"a\",\"b\"\r\n\"c\r\nd\",e\r\nf,g\r\n",
        &[(2, "a|b|-"), (3, "c\r\nd|e|-"), (5, "f|g|-")],
    );
}

#[test]
fn quoted_fields_keep_the_delimiter_and_newlines() {
    check(b"mac;model\n\"a;1\";\"T5\"\"4\"\n", &[(2, "a;1|T5\"4|-")]);
    // A quoted cell over two lines: the next row's line is still right.
    check(
        b"mac,model\n\"a\nb\",x\nc,y\n",
        &[(2, "a\nb|x|-"), (4, "c|y|-")],
    );
    // A comma inside quotes in the header does not count as the delimiter.
    check(b"mac;\"model\"\n\"1,2,3\";x\n", &[(2, "1,2,3|x|-")]);
}

#[test]
fn blank_lines_and_empty_cells() {
    check(b"mac,model,phone_id\n\n,,\na,b,\n", &[(4, "a|b|-")]);
}

#[test]
fn header_problems_are_all_named() {
    assert_eq!(
        errors(b"mac,colour,mac\n", Encoding::Utf8),
        [
            "line 1, colour: unknown column \"colour\"; the columns are: mac, model, phone_id",
            "line 1, mac: column appears twice in the header",
            "line 1, model: required column is missing",
        ]
    );
    assert_eq!(
        errors(b"", Encoding::Utf8),
        ["line 1, file: is empty (no header row)"]
    );
}

#[test]
fn too_many_cells_is_the_rows_error() {
    assert_eq!(
        errors(b"mac,model\na,b,c\nd,e\n", Encoding::Utf8),
        ["line 2, file: has 3 cells, the header has 2 columns"]
    );
}

#[test]
fn a_cp1252_file_is_refused_with_its_line_unless_asked_for() {
    let file = b"mac;model\na;b\nc;M\xfcller\nd;\xe4\n";
    assert_eq!(
        errors(file, Encoding::Utf8),
        [
            "line 3, model: the file is not UTF-8 (byte 0xfc here); save it as \"CSV UTF-8\", \
          or give --encoding cp1252 for a Windows-1252 file"
        ]
    );
    let rows = read(file, Encoding::Cp1252).unwrap();
    assert_eq!(rows[1], (3, "c|Müller|-".to_owned()));
    assert_eq!(rows[2], (4, "d|ä|-".to_owned()));
}

#[test]
fn encodings_by_name() {
    assert_eq!("CP1252".parse::<Encoding>().unwrap(), Encoding::Cp1252);
    assert_eq!("utf-8".parse::<Encoding>().unwrap(), Encoding::Utf8);
    assert_eq!(
        "ebcdic".parse::<Encoding>().unwrap_err().to_string(),
        "encoding: \"ebcdic\" is not one of: utf-8, cp1252"
    );
}

#[test]
fn a_required_cell_that_is_empty_names_its_column() {
    let mut reader = Reader::new(&b"mac,model\n,x\n"[..], COLUMNS, Encoding::Utf8).unwrap();
    let row = reader.next().unwrap().unwrap();
    let e = row.required("mac").unwrap_err();
    assert_eq!(row.error(e).to_string(), "line 2, mac: is empty");
}

const DIRECTORY: &[Column] = &[
    Column::required("name"),
    Column::required("number"),
    Column::optional("site"),
];

/// The rows of a directory file as "line|name|number", or the errors.
fn directory(file: &[u8]) -> Result<Vec<String>, Vec<RowError>> {
    let reader = Reader::with_optional_header(file, DIRECTORY, Encoding::Utf8)?;
    reader
        .map(|row| {
            row.map(|r| {
                let cell = |c| r.get(c).unwrap_or("-").to_owned();
                format!("{}|{}|{}", r.line, cell("name"), cell("number"))
            })
        })
        .collect::<Result<_, _>>()
        .map_err(|e| vec![e])
}

#[test]
fn a_directory_file_may_come_without_a_header() {
    let plain = directory(b"Ann Example, +4930123456\n\nPizza Roma, 1234\n").unwrap();
    assert_eq!(plain, ["1|Ann Example|+4930123456", "3|Pizza Roma|1234"]);
    let headed = directory(b"\xEF\xBB\xBFName;Number\r\n\"Roma; Pizza\";1234\r\n").unwrap();
    assert_eq!(headed, ["2|Roma; Pizza|1234"]);
    // A header with an unknown column is still a header, and says what is wrong.
    let e = directory(b"name,phone\nAnn,1234\n").unwrap_err();
    assert!(e.iter().any(|e| e.line == 1 && e.field == "phone"), "{e:?}");
}

/// A file that arrives `size` bytes a read, as a request body's parts may.
struct Parts<'a> {
    file: &'a [u8],
    size: usize,
}

impl Read for Parts<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.size.min(buf.len()).min(self.file.len());
        buf[..n].copy_from_slice(&self.file[..n]);
        self.file = &self.file[n..];
        Ok(n)
    }
}

/// However the reads are cut, even inside the BOM or the header's first cell, the delimiter,
/// the columns and the line numbers come out as from the whole file.
#[test]
fn a_file_read_in_small_parts_reads_as_the_whole_file() {
    let file =
        "\u{feff}Model;MAC;Phone ID\r\n\"T54W\";0015651a2b3c;D1\r\n\r\nT46U;0015651a2b3d;\r\n";
    let whole = read(file.as_bytes(), Encoding::Utf8).unwrap();
    assert_eq!(
        whole,
        [
            (2, "0015651a2b3c|T54W|D1".to_owned()),
            (4, "0015651a2b3d|T46U|-".to_owned())
        ]
    );
    for size in 1..8 {
        let parts = Parts {
            file: file.as_bytes(),
            size,
        };
        assert_eq!(read_from(parts, Encoding::Utf8).unwrap(), whole, "{size}");
    }
}
