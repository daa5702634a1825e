//! TFTP packets (RFC 1350, options RFC 2347): a pure codec, no IO. `parse` never panics, whatever
//! the bytes; every way a packet can be malformed is a [`ParseError`].

use std::fmt;

/// At most this many options in a request; RFC 2347 keeps requests within 512 bytes anyway.
pub const MAX_OPTIONS: usize = 16;
/// Option names and values longer than this are refused (no real option comes close).
pub const MAX_OPTION_LEN: usize = 64;
/// File names longer than this are refused.
pub const MAX_FILENAME: usize = 255;

pub const RRQ: u16 = 1;
pub const WRQ: u16 = 2;
pub const DATA: u16 = 3;
pub const ACK: u16 = 4;
pub const ERROR: u16 = 5;
pub const OACK: u16 = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Netascii,
    Octet,
    Mail,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub filename: String,
    pub mode: Mode,
    /// Option names lowercased, in the order sent; a repeated name keeps its first value.
    pub options: Vec<(String, String)>,
}

/// RFC 1350 error codes, and RFC 2347's 8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    NotDefined,
    FileNotFound,
    AccessViolation,
    DiskFull,
    IllegalOperation,
    UnknownTid,
    FileExists,
    NoSuchUser,
    OptionRefused,
    Other(u16),
}

impl ErrorCode {
    pub fn code(self) -> u16 {
        match self {
            ErrorCode::NotDefined => 0,
            ErrorCode::FileNotFound => 1,
            ErrorCode::AccessViolation => 2,
            ErrorCode::DiskFull => 3,
            ErrorCode::IllegalOperation => 4,
            ErrorCode::UnknownTid => 5,
            ErrorCode::FileExists => 6,
            ErrorCode::NoSuchUser => 7,
            ErrorCode::OptionRefused => 8,
            ErrorCode::Other(n) => n,
        }
    }

    fn from_code(code: u16) -> ErrorCode {
        match code {
            0 => ErrorCode::NotDefined,
            1 => ErrorCode::FileNotFound,
            2 => ErrorCode::AccessViolation,
            3 => ErrorCode::DiskFull,
            4 => ErrorCode::IllegalOperation,
            5 => ErrorCode::UnknownTid,
            6 => ErrorCode::FileExists,
            7 => ErrorCode::NoSuchUser,
            8 => ErrorCode::OptionRefused,
            n => ErrorCode::Other(n),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    Rrq(Request),
    Wrq(Request),
    Data { block: u16, data: &'a [u8] },
    Ack(u16),
    Error { code: ErrorCode, message: String },
    Oack(Vec<(String, String)>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    TooShort,
    UnknownOpcode(u16),
    /// A text field without its terminating NUL.
    Unterminated(&'static str),
    /// A text field that is not UTF-8, or holds control characters.
    NotText(&'static str),
    EmptyFilename,
    FilenameTooLong,
    UnknownMode(String),
    TooManyOptions,
    OptionTooLong,
    /// An option name with no value after it.
    OptionWithoutValue(String),
    /// Bytes after a packet that has a fixed size.
    TrailingBytes,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooShort => write!(f, "packet too short"),
            ParseError::UnknownOpcode(op) => write!(f, "unknown opcode {op}"),
            ParseError::Unterminated(what) => write!(f, "{what} is not NUL-terminated"),
            ParseError::NotText(what) => write!(f, "{what} is not printable text"),
            ParseError::EmptyFilename => write!(f, "empty file name"),
            ParseError::FilenameTooLong => write!(f, "file name longer than {MAX_FILENAME} bytes"),
            ParseError::UnknownMode(mode) => write!(f, "unknown transfer mode {mode:?}"),
            ParseError::TooManyOptions => write!(f, "more than {MAX_OPTIONS} options"),
            ParseError::OptionTooLong => {
                write!(f, "option name or value longer than {MAX_OPTION_LEN} bytes")
            }
            ParseError::OptionWithoutValue(name) => write!(f, "option {name:?} has no value"),
            ParseError::TrailingBytes => write!(f, "bytes after the end of the packet"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Splits off one NUL-terminated field.
fn field<'a>(buf: &'a [u8], what: &'static str) -> Result<(&'a [u8], &'a [u8]), ParseError> {
    let end = buf
        .iter()
        .position(|&b| b == 0)
        .ok_or(ParseError::Unterminated(what))?;
    Ok((&buf[..end], &buf[end + 1..]))
}

fn text(bytes: &[u8], what: &'static str) -> Result<String, ParseError> {
    let s = std::str::from_utf8(bytes).map_err(|_| ParseError::NotText(what))?;
    if s.chars().any(char::is_control) {
        return Err(ParseError::NotText(what));
    }
    Ok(s.to_owned())
}

/// `name\0value\0` pairs up to the end of `rest`. Trailing NULs after the last pair are accepted:
/// a Cisco 7940 ends its request with a stray extra NUL.
fn options(mut rest: &[u8]) -> Result<Vec<(String, String)>, ParseError> {
    let mut list: Vec<(String, String)> = Vec::new();
    loop {
        if rest.iter().all(|&b| b == 0) {
            return Ok(list);
        }
        if list.len() == MAX_OPTIONS {
            return Err(ParseError::TooManyOptions);
        }
        let (name, after) = field(rest, "option name")?;
        if name.is_empty() {
            // An empty name followed by more bytes: not a stray NUL but garbage.
            return Err(ParseError::NotText("option name"));
        }
        let name = text(name, "option name")?.to_ascii_lowercase();
        if after.is_empty() {
            return Err(ParseError::OptionWithoutValue(name));
        }
        let (value, after) = field(after, "option value")?;
        if name.len() > MAX_OPTION_LEN || value.len() > MAX_OPTION_LEN {
            return Err(ParseError::OptionTooLong);
        }
        let value = text(value, "option value")?;
        if !list.iter().any(|(n, _)| *n == name) {
            list.push((name, value));
        }
        rest = after;
    }
}

fn request(body: &[u8]) -> Result<Request, ParseError> {
    let (name, rest) = field(body, "file name")?;
    if name.is_empty() {
        return Err(ParseError::EmptyFilename);
    }
    if name.len() > MAX_FILENAME {
        return Err(ParseError::FilenameTooLong);
    }
    let filename = text(name, "file name")?;
    let (mode, rest) = field(rest, "mode")?;
    let mode = text(mode, "mode")?.to_ascii_lowercase();
    let mode = match mode.as_str() {
        "octet" => Mode::Octet,
        "netascii" => Mode::Netascii,
        "mail" => Mode::Mail,
        _ => return Err(ParseError::UnknownMode(mode)),
    };
    Ok(Request {
        filename,
        mode,
        options: options(rest)?,
    })
}

/// Parses one datagram.
pub fn parse(buf: &[u8]) -> Result<Packet<'_>, ParseError> {
    if buf.len() < 2 {
        return Err(ParseError::TooShort);
    }
    let opcode = u16::from_be_bytes([buf[0], buf[1]]);
    let body = &buf[2..];
    let number = || {
        if body.len() < 2 {
            Err(ParseError::TooShort)
        } else {
            Ok(u16::from_be_bytes([body[0], body[1]]))
        }
    };
    match opcode {
        RRQ => Ok(Packet::Rrq(request(body)?)),
        WRQ => Ok(Packet::Wrq(request(body)?)),
        DATA => Ok(Packet::Data {
            block: number()?,
            data: &body[2..],
        }),
        ACK => {
            let block = number()?;
            if body.len() > 2 {
                return Err(ParseError::TrailingBytes);
            }
            Ok(Packet::Ack(block))
        }
        ERROR => {
            let code = ErrorCode::from_code(number()?);
            // Be lenient with what peers say in their error text: it is only logged.
            let rest = &body[2..];
            let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let message = String::from_utf8_lossy(&rest[..end])
                .chars()
                .filter(|c| !c.is_control())
                .collect();
            Ok(Packet::Error { code, message })
        }
        OACK => Ok(Packet::Oack(options(body)?)),
        other => Err(ParseError::UnknownOpcode(other)),
    }
}

impl Packet<'_> {
    /// Appends the wire form to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        fn request(out: &mut Vec<u8>, op: u16, r: &Request) {
            out.extend_from_slice(&op.to_be_bytes());
            out.extend_from_slice(r.filename.as_bytes());
            out.push(0);
            out.extend_from_slice(match r.mode {
                Mode::Octet => b"octet",
                Mode::Netascii => b"netascii",
                Mode::Mail => b"mail",
            });
            out.push(0);
            pairs(out, &r.options);
        }
        fn pairs(out: &mut Vec<u8>, options: &[(String, String)]) {
            for (name, value) in options {
                out.extend_from_slice(name.as_bytes());
                out.push(0);
                out.extend_from_slice(value.as_bytes());
                out.push(0);
            }
        }
        match self {
            Packet::Rrq(r) => request(out, RRQ, r),
            Packet::Wrq(r) => request(out, WRQ, r),
            Packet::Data { block, data } => {
                out.extend_from_slice(&DATA.to_be_bytes());
                out.extend_from_slice(&block.to_be_bytes());
                out.extend_from_slice(data);
            }
            Packet::Ack(block) => {
                out.extend_from_slice(&ACK.to_be_bytes());
                out.extend_from_slice(&block.to_be_bytes());
            }
            Packet::Error { code, message } => {
                out.extend_from_slice(&ERROR.to_be_bytes());
                out.extend_from_slice(&code.code().to_be_bytes());
                out.extend_from_slice(message.as_bytes());
                out.push(0);
            }
            Packet::Oack(options) => {
                out.extend_from_slice(&OACK.to_be_bytes());
                pairs(out, options);
            }
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

#[cfg(test)]
mod tests;
