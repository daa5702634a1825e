//! SIP messages over UDP (RFC 3261 §7): a pure codec, no IO. [`parse`] never panics, whatever
//! the bytes; every way a datagram can be malformed is a [`ParseError`]. Only what PnP and
//! check-sync need is understood: the start line, headers (compact forms mapped to their full
//! names, folded lines joined), `Content-Length` and the body; header values are kept as text
//! and read with [`params`] and [`Uri`].

use std::fmt;

/// Datagrams longer than this are refused: a SUBSCRIBE is a few hundred bytes, and UDP SIP
/// stays under the path MTU (RFC 3261 §18.1.1).
pub const MAX_DATAGRAM: usize = 4096;
/// At most this many header lines.
pub const MAX_HEADERS: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartLine {
    Request { method: String, uri: String },
    Response { code: u16, reason: String },
}

/// A parsed message: the start line, the headers in order (full names as sent, or the full name
/// of a compact form), and the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub start: StartLine,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    TooLong(usize),
    Empty,
    NotText,
    /// No blank line ends the headers.
    Unterminated,
    StartLine(String),
    Version(String),
    Header(String),
    TooManyHeaders,
    ContentLength(String),
    /// `Content-Length` says more than the datagram holds.
    Truncated {
        said: usize,
        got: usize,
    },
    /// A header every request needs (Via, From, To, Call-ID, CSeq) is missing.
    Missing(&'static str),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooLong(n) => write!(f, "datagram of {n} bytes is too long"),
            ParseError::Empty => write!(f, "empty datagram"),
            ParseError::NotText => write!(f, "start line or headers are not UTF-8"),
            ParseError::Unterminated => write!(f, "headers are not ended by a blank line"),
            ParseError::StartLine(l) => write!(f, "bad start line {l:?}"),
            ParseError::Version(v) => write!(f, "not SIP/2.0: {v:?}"),
            ParseError::Header(h) => write!(f, "bad header line {h:?}"),
            ParseError::TooManyHeaders => write!(f, "more than {MAX_HEADERS} headers"),
            ParseError::ContentLength(v) => write!(f, "bad Content-Length {v:?}"),
            ParseError::Truncated { said, got } => {
                write!(f, "Content-Length {said} but only {got} bytes of body")
            }
            ParseError::Missing(h) => write!(f, "no {h} header"),
        }
    }
}

impl std::error::Error for ParseError {}

/// The full name of a compact header form (RFC 3261 §7.3.3 and RFC 6665's `o`).
fn full_name(name: &str) -> &str {
    match name {
        "v" | "V" => "Via",
        "f" | "F" => "From",
        "t" | "T" => "To",
        "i" | "I" => "Call-ID",
        "m" | "M" => "Contact",
        "l" | "L" => "Content-Length",
        "c" | "C" => "Content-Type",
        "o" | "O" => "Event",
        "u" | "U" => "Allow-Events",
        "k" | "K" => "Supported",
        "s" | "S" => "Subject",
        "e" | "E" => "Content-Encoding",
        other => other,
    }
}

/// Parses one datagram. Requests must carry Via, From, To, Call-ID and CSeq.
pub fn parse(datagram: &[u8]) -> Result<Message, ParseError> {
    if datagram.len() > MAX_DATAGRAM {
        return Err(ParseError::TooLong(datagram.len()));
    }
    // Keep-alives (CRLF pings, RFC 5626) and padding before the start line are not messages.
    let start = datagram
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .ok_or(ParseError::Empty)?;
    let datagram = &datagram[start..];
    let (head, body) = split_head(datagram).ok_or(ParseError::Unterminated)?;
    let head = std::str::from_utf8(head).map_err(|_| ParseError::NotText)?;
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let start = start_line(lines.next().unwrap_or_default())?;
    let headers = header_lines(lines)?;
    let mut message = Message {
        start,
        headers,
        body: Vec::new(),
    };
    message.body = match message.header("Content-Length") {
        Some(value) => {
            let said: usize = value
                .trim()
                .parse()
                .map_err(|_| ParseError::ContentLength(value.to_owned()))?;
            // UDP: bytes past the length are ignored (RFC 3261 §18.3); fewer is a broken message.
            body.get(..said)
                .ok_or(ParseError::Truncated {
                    said,
                    got: body.len(),
                })?
                .to_vec()
        }
        None => body.to_vec(),
    };
    if let StartLine::Request { .. } = message.start {
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            if message.header(name).is_none() {
                return Err(ParseError::Missing(name));
            }
        }
    }
    Ok(message)
}

/// The bytes before the first blank line (CRLF CRLF, or bare LF LF) and those after it.
fn split_head(datagram: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut i = 0;
    while i < datagram.len() {
        if datagram[i] == b'\n' {
            let rest = &datagram[i + 1..];
            if rest.starts_with(b"\r\n") {
                return Some((&datagram[..i], &rest[2..]));
            }
            if rest.starts_with(b"\n") {
                return Some((&datagram[..i], &rest[1..]));
            }
        }
        i += 1;
    }
    None
}

fn start_line(line: &str) -> Result<StartLine, ParseError> {
    let bad = || ParseError::StartLine(line.chars().take(80).collect());
    let mut parts = line.splitn(3, ' ');
    let (a, b, c) = match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), Some(c)) if !a.is_empty() && !b.is_empty() => (a, b, c),
        _ => return Err(bad()),
    };
    if a == "SIP/2.0" {
        let code: u16 = b.parse().map_err(|_| bad())?;
        if !(100..=699).contains(&code) || b.len() != 3 {
            return Err(bad());
        }
        return Ok(StartLine::Response {
            code,
            reason: c.to_owned(),
        });
    }
    if !a.bytes().all(|x| x.is_ascii_uppercase()) {
        return Err(bad());
    }
    if c != "SIP/2.0" {
        return Err(ParseError::Version(c.chars().take(20).collect()));
    }
    if b.bytes().any(|x| x.is_ascii_control()) {
        return Err(bad());
    }
    Ok(StartLine::Request {
        method: a.to_owned(),
        uri: b.to_owned(),
    })
}

fn header_lines<'a>(
    lines: impl Iterator<Item = &'a str>,
) -> Result<Vec<(String, String)>, ParseError> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // A folded line continues the header before it (RFC 3261 §7.3.1).
            let (_, value) = headers
                .last_mut()
                .ok_or_else(|| ParseError::Header(line.chars().take(80).collect()))?;
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let bad = || ParseError::Header(line.chars().take(80).collect());
        let (name, value) = line.split_once(':').ok_or_else(bad)?;
        let name = name.trim_end();
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(bad());
        }
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(bad());
        }
        if headers.len() == MAX_HEADERS {
            return Err(ParseError::TooManyHeaders);
        }
        headers.push((full_name(name).to_owned(), value.trim().to_owned()));
    }
    Ok(headers)
}

/// RFC 3261's `token` characters.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

impl Message {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header of that name, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The method `CSeq` names (`CSeq: 2 NOTIFY`).
    pub fn cseq_method(&self) -> Option<&str> {
        self.header("CSeq")?.split_whitespace().nth(1)
    }
}

/// A header value's first part and its `;name=value` parameters (names lowercased, quotes taken
/// off values): `ua-profile;vendor="Snom";model="D785"` → (`ua-profile`, [(vendor, Snom), …]).
/// Semicolons inside quotes or `<…>` belong to the value.
pub fn params(value: &str) -> (String, Vec<(String, String)>) {
    let mut parts = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut angle, mut escaped) = (false, false, false);
    for c in value.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ';' if !quoted && !angle => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    let mut parts = parts.into_iter();
    let head = parts.next().unwrap_or_default().trim().to_owned();
    let params = parts
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((&p, ""));
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            (name.trim().to_ascii_lowercase(), value.to_owned())
        })
        .collect();
    (head, params)
}

/// The value of parameter `name` in `params`' output.
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The parts of a `sip:` URI PnP looks at: `sip:MAC%3a00135E874B49@host:5060;transport=udp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uri {
    /// The user part, percent-decoded.
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl Uri {
    /// Reads the URI in a header value (`"Name" <sip:…>;tag=…` or a bare `sip:…`), or a
    /// Request-URI. `None` when it is not a `sip:` URI with a host.
    pub fn find(value: &str) -> Option<Uri> {
        let inner = match (value.find('<'), value.find('>')) {
            (Some(a), Some(b)) if a < b => &value[a + 1..b],
            _ => value.split(';').next().unwrap_or_default(),
        };
        let rest = inner.trim();
        let rest = rest
            .strip_prefix("sip:")
            .or_else(|| rest.strip_prefix("SIP:"))?;
        let rest = rest.split([';', '?']).next().unwrap_or_default();
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((user, hostport)) => (Some(percent_decode(user)?), hostport),
            None => (None, rest),
        };
        let (host, port) = host_port(hostport)?;
        Some(Uri { user, host, port })
    }
}

fn host_port(hostport: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:".contains(&b))
    {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    Some((host.to_owned(), port))
}

/// `%3a` → `:`; `None` for a broken escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Writes a message: the start line, the headers as given, `Content-Length`, a blank line and the
/// body. Header values are the caller's; none may hold a line break (they come from parsed
/// headers, which cannot, or from our own text).
pub fn write(start: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(start.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        let value: String = value.chars().filter(|c| !c.is_control()).collect();
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
pub(crate) mod tests;
