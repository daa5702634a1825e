//! One read transfer: option negotiation (pure), then DATA blocks in windows of `windowsize`
//! (RFC 7440; 1 is RFC 1350's lock-step) from a port of its own, until the last block is
//! acknowledged, the peer gives up, or the retries run out. netascii is converted as it is sent
//! (`NetasciiStream`): a transfer holds one read-ahead chunk and one window, whatever the file's
//! size.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::packet::{self, ErrorCode, Packet};
use super::Limits;

mod netascii;

use netascii::NetasciiStream;
pub use netascii::{to_netascii, NetasciiEncoder};

/// Where the bytes come from.
#[derive(Clone, Debug)]
pub enum Source {
    Memory(Bytes),
    File { file: Arc<std::fs::File>, len: u64 },
}

impl Source {
    pub fn len(&self) -> u64 {
        match self {
            Source::Memory(b) => b.len() as u64,
            Source::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Up to `len` bytes from `offset`.
    async fn read(&self, offset: u64, len: usize) -> std::io::Result<Bytes> {
        match self {
            Source::Memory(b) => {
                let start = usize::try_from(offset).unwrap_or(usize::MAX).min(b.len());
                let end = start.saturating_add(len).min(b.len());
                Ok(b.slice(start..end))
            }
            Source::File { file, len: size } => {
                let file = file.clone();
                let want = usize::try_from((*size).saturating_sub(offset))
                    .unwrap_or(usize::MAX)
                    .min(len);
                tokio::task::spawn_blocking(move || {
                    let mut buf = vec![0u8; want];
                    let mut filled = 0;
                    while filled < want {
                        let n = read_at(&file, &mut buf[filled..], offset + filled as u64)?;
                        if n == 0 {
                            break;
                        }
                        filled += n;
                    }
                    if filled < want {
                        // The file shrank under us: never send a short block mid-file, which a
                        // phone would take for the end of a complete image.
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::UnexpectedEof,
                            "file changed during the transfer",
                        ));
                    }
                    Ok(Bytes::from(buf))
                })
                .await
                .map_err(std::io::Error::other)?
            }
        }
    }
}

/// Reads a `Source` ahead in large chunks, so a file is not read (and a blocking-pool thread not
/// woken) once per window; a window that lies inside the chunk is a slice of it.
struct ReadAhead<'a> {
    source: &'a Source,
    chunk: Bytes,
    chunk_offset: u64,
    /// Whether the peer has asked for more than the first window: until then nothing is read
    /// ahead, so a transfer nobody answers (a forged source) holds one window, not a chunk.
    ahead: bool,
}

/// How much of a file is read at once.
const READ_AHEAD: usize = 256 * 1024;

impl<'a> ReadAhead<'a> {
    fn new(source: &'a Source) -> Self {
        ReadAhead {
            source,
            chunk: Bytes::new(),
            chunk_offset: 0,
            ahead: false,
        }
    }

    async fn read(&mut self, offset: u64, len: usize) -> std::io::Result<Bytes> {
        let size = self.source.len();
        let end = (offset + len as u64).min(size);
        let chunk_end = self.chunk_offset + self.chunk.len() as u64;
        if offset < self.chunk_offset || end > chunk_end {
            let want = if self.ahead { len.max(READ_AHEAD) } else { len };
            self.ahead = true;
            self.chunk = Bytes::new(); // one chunk at a time, never two
            self.chunk = self.source.read(offset, want).await?;
            self.chunk_offset = offset;
        }
        let start = (offset - self.chunk_offset) as usize;
        let stop = ((end - self.chunk_offset) as usize).min(self.chunk.len());
        Ok(self.chunk.slice(start.min(stop)..stop))
    }
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// What a transfer reads its windows from.
enum Reader<'a> {
    Octet(ReadAhead<'a>),
    Netascii(NetasciiStream<'a>),
}

impl Reader<'_> {
    /// Up to `len` bytes from `offset`; fewer only at the end.
    async fn read(&mut self, offset: u64, len: usize) -> std::io::Result<Bytes> {
        match self {
            Reader::Octet(r) => r.read(offset, len).await,
            Reader::Netascii(r) => r.read(offset, len).await,
        }
    }
}

/// What was agreed for a transfer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub blksize: usize,
    pub windowsize: u16,
    pub timeout: Duration,
    /// The wait for the peer's first ACK (of the OACK or of DATA 1): the configured timeout, or
    /// the client's if shorter. Until that ACK the source may be forged, so a longer `timeout`
    /// option does not stretch the time a never-answering peer holds a slot.
    pub first_timeout: Duration,
    /// The OACK to send: only options the client asked for and we accept, with our values.
    /// Empty means no OACK: DATA 1 comes first (RFC 2347).
    pub oack: Vec<(String, String)>,
}

/// RFC 2347 negotiation: an option we do not know or whose value is out of range is left out of
/// the OACK (the client then uses the default), never refused. `size` is what `tsize` answers;
/// `None` (netascii, whose length on the wire is known only at its end) leaves `tsize` out, as
/// RFC 2349 allows.
pub fn negotiate(options: &[(String, String)], size: Option<u64>, limits: &Limits) -> Negotiated {
    let mut agreed = Negotiated {
        blksize: 512,
        windowsize: 1,
        timeout: limits.timeout,
        first_timeout: limits.timeout,
        oack: Vec::new(),
    };
    for (name, value) in options {
        match name.as_str() {
            "blksize" => {
                if let Ok(asked) = value.parse::<usize>() {
                    if (8..=65464).contains(&asked) {
                        agreed.blksize = asked.min(limits.max_blksize);
                        agreed.oack.push((name.clone(), agreed.blksize.to_string()));
                    }
                }
            }
            "windowsize" => {
                if let Ok(asked) = value.parse::<u16>() {
                    if asked >= 1 {
                        agreed.windowsize = asked.min(limits.max_windowsize);
                        // The value is filled in below, once the window is bounded.
                        agreed.oack.push((name.clone(), String::new()));
                    }
                }
            }
            "timeout" => {
                // Accepted up to our own longest wait, so a client cannot hold a slot for minutes.
                if let Ok(seconds) = value.parse::<u64>() {
                    if (1..=255).contains(&seconds)
                        && Duration::from_secs(seconds) <= MAX_TIMEOUT.max(limits.timeout)
                    {
                        agreed.timeout = Duration::from_secs(seconds);
                        agreed.oack.push((name.clone(), seconds.to_string()));
                    }
                }
            }
            // A read request sends 0; the answer is the size.
            "tsize" => {
                if let Some(size) = size {
                    agreed.oack.push((name.clone(), size.to_string()));
                }
            }
            _ => {}
        }
    }
    // A window holds at most WINDOW_BYTES, whatever blksize and windowsize were asked for: the
    // memory a transfer takes stays bounded.
    let most = u16::try_from((WINDOW_BYTES / agreed.blksize).max(1)).unwrap_or(u16::MAX);
    agreed.windowsize = agreed.windowsize.min(most);
    agreed.first_timeout = agreed.timeout.min(limits.timeout);
    for (name, value) in &mut agreed.oack {
        if name == "windowsize" {
            *value = agreed.windowsize.to_string();
        }
    }
    agreed
}

/// The most bytes in flight in one window.
const WINDOW_BYTES: usize = 1024 * 1024;
/// The longest wait for an ACK, before and after back-off.
const MAX_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a transfer ended without the last ACK.
#[derive(Debug)]
pub enum Failure {
    /// The peer stopped answering.
    TimedOut,
    /// The peer sent an ERROR.
    Aborted(String),
    Io(std::io::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::TimedOut => write!(f, "peer stopped answering"),
            Failure::Aborted(m) => write!(f, "peer aborted: {m}"),
            Failure::Io(e) => write!(f, "{e}"),
        }
    }
}

/// A transfer from its own socket (its TID) to `peer`.
pub struct Transfer<'a> {
    pub socket: &'a UdpSocket,
    pub peer: SocketAddr,
    pub source: Source,
    pub agreed: Negotiated,
    /// Send `source` converted to netascii.
    pub netascii: bool,
    /// Resends of one window before giving up, once the peer has acknowledged something.
    pub retries: u32,
    /// Resends of the first packet (OACK or DATA 1) before giving up, while the peer has
    /// acknowledged nothing: an RRQ from a forged source draws at most `1 + retries_before_ack`
    /// packets and holds its slot `first_timeout × (2^(retries_before_ack + 1) − 1)`.
    pub retries_before_ack: u32,
}

impl Transfer<'_> {
    /// Runs to the end; returns the bytes sent in DATA payloads (each block counted once).
    pub async fn run(self) -> Result<u64, Failure> {
        let blksize = self.agreed.blksize;
        let want = blksize * usize::from(self.agreed.windowsize);
        let mut buf = vec![0u8; 65536];
        if !self.agreed.oack.is_empty() {
            // The OACK is "block 0": wait for ACK 0 as for a data block.
            let oack = Packet::Oack(self.agreed.oack.clone()).to_bytes();
            self.exchange(&mut buf, 0, 0, &[oack], self.before_ack())
                .await?;
        }
        // `base`: the first block not yet acknowledged (block indexes start at 1 and run past
        // 65535; on the wire they wrap to 0).
        let mut base: u64 = 1;
        let mut window: Vec<Vec<u8>> = Vec::new();
        let mut reader = if self.netascii {
            Reader::Netascii(NetasciiStream::new(&self.source))
        } else {
            Reader::Octet(ReadAhead::new(&self.source))
        };
        loop {
            let offset = (base - 1) * blksize as u64;
            let chunk = reader.read(offset, want).await.map_err(Failure::Io)?;
            // A short window holds the last block, which is always short: a stream whose length
            // is a multiple of blksize ends with an empty block.
            let ends = chunk.len() < want;
            let count = if ends {
                chunk.len() / blksize + 1
            } else {
                usize::from(self.agreed.windowsize)
            };
            let last = base + count as u64 - 1;
            window.resize_with(count, Vec::new);
            for (slot, index) in window.iter_mut().zip(base..=last) {
                let start = ((index - base) as usize * blksize).min(chunk.len());
                let end = (start + blksize).min(chunk.len());
                slot.clear();
                Packet::Data {
                    block: index as u16,
                    data: &chunk[start..end],
                }
                .encode(slot);
            }
            // Without an OACK, DATA 1 is the first packet: the peer has not answered yet.
            let schedule = if base == 1 && self.agreed.oack.is_empty() {
                self.before_ack()
            } else {
                (self.retries, self.agreed.timeout)
            };
            let acked = self
                .exchange(&mut buf, base, last, &window, schedule)
                .await?;
            if ends && acked == last {
                return Ok(offset + chunk.len() as u64);
            }
            base = acked + 1;
        }
    }

    /// Resends and first wait before the peer's first ACK.
    fn before_ack(&self) -> (u32, Duration) {
        (
            self.retries_before_ack.min(self.retries),
            self.agreed.first_timeout,
        )
    }

    /// Sends `datagrams`, then waits for an ACK of a block in `first..=last` (`first - 1` and
    /// older are duplicates). A duplicate ACK does not trigger a resend (RFC 1123: no Sorcerer's
    /// Apprentice); a timeout does, up to `retries` times, the wait starting at `wait` and
    /// doubling each time. Packets from another
    /// address or port get ERROR 5 and the transfer goes on. Returns the highest block acked.
    async fn exchange(
        &self,
        buf: &mut [u8],
        first: u64,
        last: u64,
        datagrams: &[Vec<u8>],
        (retries, mut wait): (u32, Duration),
    ) -> Result<u64, Failure> {
        let longest = MAX_TIMEOUT.max(self.agreed.timeout);
        let mut early = false;
        for _ in 0..=retries {
            for datagram in datagrams {
                self.socket
                    .send_to(datagram, self.peer)
                    .await
                    .map_err(Failure::Io)?;
            }
            let deadline = Instant::now() + wait;
            loop {
                let received = tokio::time::timeout_at(deadline, self.socket.recv_from(buf)).await;
                let Ok(received) = received else {
                    break; // timed out: resend
                };
                let (n, from) = match received {
                    Ok(r) => r,
                    // An ICMP error for an earlier datagram (e.g. our ERROR 5 to a stranger's
                    // closed port) can surface here on some systems: not this transfer's end.
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::ConnectionReset
                                | std::io::ErrorKind::ConnectionRefused
                        ) =>
                    {
                        continue
                    }
                    Err(e) => return Err(Failure::Io(e)),
                };
                if from != self.peer {
                    let error = Packet::Error {
                        code: ErrorCode::UnknownTid,
                        message: "unknown transfer ID".into(),
                    };
                    let _ = self.socket.send_to(&error.to_bytes(), from).await;
                    continue;
                }
                match packet::parse(&buf[..n]) {
                    Ok(Packet::Ack(block)) => {
                        // Which block in the window has this 16-bit number?
                        if let Some(index) = (first..=last).rev().find(|i| *i as u16 == block) {
                            return Ok(index);
                        }
                        // RFC 7440: a client that lost a window's first block acknowledges the block
                        // before it; resend the window at once, but only once per send, so
                        // duplicate ACKs still cannot start a Sorcerer's Apprentice cascade.
                        if datagrams.len() > 1 && first > 0 && (first - 1) as u16 == block && !early
                        {
                            early = true;
                            break;
                        }
                        // A duplicate or stale ACK: keep waiting, no resend.
                    }
                    Ok(Packet::Error { message, .. }) => return Err(Failure::Aborted(message)),
                    _ => {}
                }
            }
            if !std::mem::take(&mut early) {
                wait = (wait * 2).min(longest);
            }
        }
        Err(Failure::TimedOut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_blksize: 8192,
            max_windowsize: 16,
            timeout: Duration::from_secs(1),
            retries: 5,
            retries_before_ack: 1,
            max_transfers: 10,
            max_per_source: 2,
        }
    }

    fn opts(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn no_options_no_oack() {
        let n = negotiate(&[], Some(10), &limits());
        assert_eq!((n.blksize, n.windowsize), (512, 1));
        assert!(n.oack.is_empty());
    }

    #[test]
    fn oack_holds_only_what_was_asked_and_accepted() {
        let n = negotiate(
            &opts(&[
                ("blksize", "1428"),
                ("tsize", "0"),
                ("windowsize", "8"),
                ("multicast", ""),
            ]),
            Some(1000),
            &limits(),
        );
        assert_eq!(n.blksize, 1428);
        assert_eq!(n.windowsize, 8);
        assert_eq!(
            n.oack,
            opts(&[("blksize", "1428"), ("tsize", "1000"), ("windowsize", "8")])
        );
    }

    #[test]
    fn values_are_capped_or_ignored() {
        let n = negotiate(
            &opts(&[("blksize", "65464"), ("windowsize", "999")]),
            Some(0),
            &limits(),
        );
        assert_eq!(n.oack, opts(&[("blksize", "8192"), ("windowsize", "16")]));
        for bad in [
            ("blksize", "7"),
            ("blksize", "65465"),
            ("blksize", "x"),
            ("windowsize", "0"),
            ("timeout", "0"),
            ("timeout", "256"),
        ] {
            let n = negotiate(&opts(&[bad]), Some(0), &limits());
            assert!(n.oack.is_empty(), "{bad:?}");
        }
        let n = negotiate(&opts(&[("timeout", "3")]), Some(0), &limits());
        assert_eq!(n.timeout, Duration::from_secs(3));
        // Until the first ACK, the configured wait (1 s) holds: the source may be forged.
        assert_eq!(n.first_timeout, Duration::from_secs(1));
    }

    #[test]
    fn issue_10_tsize_is_not_answered_for_netascii() {
        let n = negotiate(
            &opts(&[("tsize", "0"), ("blksize", "1024")]),
            None,
            &limits(),
        );
        assert_eq!(n.oack, opts(&[("blksize", "1024")]));
        assert!(negotiate(&opts(&[("tsize", "0")]), None, &limits())
            .oack
            .is_empty());
    }

    #[tokio::test]
    async fn issue_10_nothing_is_read_ahead_before_the_first_ack() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("image.bin");
        std::fs::write(&path, vec![b'a'; 3 * READ_AHEAD]).unwrap();
        let source = Source::File {
            file: Arc::new(std::fs::File::open(&path).unwrap()),
            len: 3 * READ_AHEAD as u64,
        };
        // The first window of an octet transfer: only the window is read...
        let mut octet = ReadAhead::new(&source);
        assert_eq!(octet.read(0, 8 * 512).await.unwrap().len(), 8 * 512);
        assert_eq!(octet.chunk.len(), 8 * 512);
        // ...and once the peer asks for more, a whole chunk.
        octet.read(8 * 512, 8 * 512).await.unwrap();
        assert_eq!(octet.chunk.len(), READ_AHEAD);
        // The same for netascii.
        let mut ascii = NetasciiStream::new(&source);
        assert_eq!(ascii.read(0, 512).await.unwrap().len(), 512);
        assert!(ascii.held() <= 2 * 512, "{}", ascii.held());
    }
}
