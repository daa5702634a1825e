//! netascii (RFC 764) as a transfer sends it: line ends become CR LF and a bare CR becomes CR
//! NUL, converted while the file is read (`NetasciiStream`), so a transfer holds one read-ahead
//! chunk and one window whatever the file's size.

use bytes::Bytes;

use super::{Source, READ_AHEAD};

/// netascii (RFC 764) of a whole buffer: line ends become CR LF, a bare CR becomes CR NUL. The
/// reference for [`NetasciiEncoder`], which transfers use.
pub fn to_netascii(bytes: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 16);
    for &b in bytes {
        match b {
            b'\n' => out.extend_from_slice(b"\r\n"),
            b'\r' => out.extend_from_slice(b"\r\0"),
            _ => out.push(b),
        }
    }
    Bytes::from(out)
}

/// netascii as a stream: converts any input into output buffers of any size. Each input byte
/// becomes one or two output bytes; when only the first of two fits (a CR at the end of a block
/// or of a window), the second is kept and written first by the next call, so the output is
/// the same however input and output are cut.
#[derive(Debug, Default)]
pub struct NetasciiEncoder {
    /// The second byte of an expansion that did not fit.
    pending: Option<u8>,
}

impl NetasciiEncoder {
    /// Converts from `input` into `out` until one of them runs out: (input used, output written).
    pub fn encode(&mut self, input: &[u8], out: &mut [u8]) -> (usize, usize) {
        let (mut i, mut o) = (0, 0);
        if let Some(second) = self.pending {
            let Some(slot) = out.first_mut() else {
                return (0, 0);
            };
            *slot = second;
            o = 1;
            self.pending = None;
        }
        while i < input.len() && o < out.len() {
            // The run up to the next CR or LF goes out as it is.
            let room = (out.len() - o).min(input.len() - i);
            let run = input[i..i + room]
                .iter()
                .position(|&b| b == b'\r' || b == b'\n')
                .unwrap_or(room);
            out[o..o + run].copy_from_slice(&input[i..i + run]);
            i += run;
            o += run;
            if run == room {
                break;
            }
            // `input[i]` is a CR or a LF, and its first byte fits.
            let second = if input[i] == b'\n' { b'\n' } else { 0 };
            out[o] = b'\r';
            i += 1;
            o += 1;
            match out.get_mut(o) {
                Some(slot) => {
                    *slot = second;
                    o += 1;
                }
                None => self.pending = Some(second),
            }
        }
        (i, o)
    }

    /// Whether an expansion is half written.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }
}

/// A `Source` converted to netascii as it is read. Reads go forward (a window starts at or after
/// the previous one: blocks before the last ACK are never asked again), so it keeps only the
/// converted bytes of the current window and the rest of one read of the file — at most
/// `READ_AHEAD` plus the largest window asked, whatever the file's size.
pub(super) struct NetasciiStream<'a> {
    source: &'a Source,
    /// Where the next read of the source starts.
    raw_offset: u64,
    /// The last read of the source (at most `READ_AHEAD` bytes); `raw[raw_used..]` is not
    /// converted yet.
    raw: Bytes,
    raw_used: usize,
    encoder: NetasciiEncoder,
    /// Converted bytes `out[..filled]`, from offset `out_offset` of the netascii stream; `out`
    /// is as long as the largest read asked for (a window).
    out: Vec<u8>,
    filled: usize,
    out_offset: u64,
    /// As `ReadAhead::ahead`: the first read of the source is only as long as the first window
    /// (netascii only grows, so that converts to at least the window).
    ahead: bool,
}

impl<'a> NetasciiStream<'a> {
    pub(super) fn new(source: &'a Source) -> Self {
        NetasciiStream {
            source,
            raw_offset: 0,
            raw: Bytes::new(),
            raw_used: 0,
            encoder: NetasciiEncoder::default(),
            out: Vec::new(),
            filled: 0,
            out_offset: 0,
            ahead: false,
        }
    }

    /// The bytes this stream holds (the read buffer and the window buffer), for the bound.
    #[cfg(test)]
    pub(super) fn held(&self) -> usize {
        self.raw.len() + self.out.len()
    }

    /// Up to `len` bytes of the netascii stream from `offset`; fewer only at its end.
    pub(super) async fn read(&mut self, offset: u64, len: usize) -> std::io::Result<Bytes> {
        if offset < self.out_offset {
            return Err(std::io::Error::other(
                "netascii is converted once: a transfer cannot go back",
            ));
        }
        if self.out.len() < len {
            self.out.resize(len, 0);
        }
        loop {
            // What lies before `offset` has been acknowledged: drop it.
            let skip = usize::try_from(offset - self.out_offset)
                .unwrap_or(usize::MAX)
                .min(self.filled);
            if skip > 0 {
                self.out.copy_within(skip..self.filled, 0);
                self.filled -= skip;
                self.out_offset += skip as u64;
            }
            if self.out_offset == offset && self.filled >= len {
                break;
            }
            if self.raw_used == self.raw.len() && !self.encoder.is_pending() {
                if self.raw_offset >= self.source.len() {
                    break; // the end
                }
                self.raw = Bytes::new(); // one chunk at a time, never two
                let want = if self.ahead {
                    READ_AHEAD
                } else {
                    len.min(READ_AHEAD)
                };
                self.ahead = true;
                self.raw = self.source.read(self.raw_offset, want).await?;
                self.raw_used = 0;
                self.raw_offset += self.raw.len() as u64;
                if self.raw.is_empty() {
                    break;
                }
            }
            // There is room: below `offset` nothing is kept, and `filled < len <= out.len()`.
            let (used, written) = self
                .encoder
                .encode(&self.raw[self.raw_used..], &mut self.out[self.filled..]);
            self.raw_used += used;
            self.filled += written;
        }
        let n = if self.out_offset == offset {
            self.filled.min(len)
        } else {
            0
        };
        Ok(Bytes::copy_from_slice(&self.out[..n]))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn netascii_line_ends() {
        assert_eq!(&to_netascii(b"a\nb\rc")[..], b"a\r\nb\r\0c");
    }

    /// Encodes `input` cut into pieces of `cut_in` bytes, into outputs of `cut_out` bytes.
    fn encode_cut(input: &[u8], cut_in: usize, cut_out: usize) -> Vec<u8> {
        let mut encoder = NetasciiEncoder::default();
        let mut out = Vec::new();
        let mut buf = vec![0u8; cut_out];
        for piece in input.chunks(cut_in) {
            let mut piece = piece;
            while !piece.is_empty() {
                let (used, written) = encoder.encode(piece, &mut buf);
                out.extend_from_slice(&buf[..written]);
                piece = &piece[used..];
            }
        }
        while encoder.is_pending() {
            let (_, written) = encoder.encode(&[], &mut buf);
            out.extend_from_slice(&buf[..written]);
        }
        out
    }

    #[test]
    fn issue_10_netascii_state_carries_across_chunk_boundaries() {
        // A CR or LF as the last byte of an input chunk, and an expansion cut by the end of an
        // output buffer (a block): the same bytes as the whole-buffer conversion.
        for input in [
            &b"ab\n"[..],
            b"ab\r",
            b"\n\n\n\r\r\r",
            b"a\r\nb\n\rc\r",
            b"\r",
            b"",
        ] {
            let expected = to_netascii(input);
            for cut_in in 1..=input.len().max(1) {
                for cut_out in 1..=expected.len().max(1) + 1 {
                    assert_eq!(
                        encode_cut(input, cut_in, cut_out),
                        &expected[..],
                        "{input:?} in pieces of {cut_in}, out in {cut_out}"
                    );
                }
            }
        }
        // The expansion of a CR cut by a 1-byte output: CR now, NUL next call.
        let mut encoder = NetasciiEncoder::default();
        let mut one = [0u8; 1];
        assert_eq!(encoder.encode(b"\rx", &mut one), (1, 1));
        assert_eq!((one[0], encoder.is_pending()), (b'\r', true));
        assert_eq!(encoder.encode(b"x", &mut one), (0, 1));
        assert_eq!((one[0], encoder.is_pending()), (0, false));
        assert_eq!(encoder.encode(b"x", &mut one), (1, 1));
        assert_eq!(one[0], b'x');
    }

    /// Memory: a netascii transfer of a file of any size holds one read-ahead chunk and one
    /// window, and its bytes are the whole-buffer conversion's, also where an expansion straddles
    /// a block, a window or a read-ahead chunk, and when a window is read again from a block
    /// inside it (a partial ACK).
    #[tokio::test]
    async fn issue_10_netascii_stream_holds_one_chunk_and_one_window() {
        let mut body: Vec<u8> = (0..3 * READ_AHEAD + 777)
            .map(|i| match i % 37 {
                0 | 11 => b'\n',
                5 => b'\r',
                _ => b'a' + (i % 26) as u8,
            })
            .collect();
        // Line ends last in a read-ahead chunk, and a stretch of nothing but line ends.
        body[READ_AHEAD - 1] = b'\n';
        body[2 * READ_AHEAD - 1] = b'\r';
        body[2 * READ_AHEAD + 10..2 * READ_AHEAD + 10_000].fill(b'\n');
        let expected = to_netascii(&body);
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &body).unwrap();
        let source = Source::File {
            len: body.len() as u64,
            file: Arc::new(file),
        };
        for (blksize, windowsize) in [(512, 1), (1428, 16), (65464, 4)] {
            let window = blksize * windowsize;
            let mut stream = NetasciiStream::new(&source);
            let mut got = Vec::new();
            let mut offset = 0u64;
            let mut reads = 0;
            loop {
                let chunk = stream.read(offset, window).await.unwrap();
                assert!(
                    stream.held() <= READ_AHEAD + window,
                    "{} bytes held",
                    stream.held()
                );
                reads += 1;
                // Every third window, the peer acknowledges only its first block: the next read
                // starts inside this one.
                let advance = if reads % 3 == 0 && chunk.len() > blksize {
                    blksize
                } else {
                    chunk.len()
                };
                got.extend_from_slice(&chunk[..advance]);
                offset += advance as u64;
                if chunk.len() < window && advance == chunk.len() {
                    break;
                }
            }
            assert_eq!(got.len(), expected.len(), "blksize {blksize}");
            assert!(got == expected[..], "blksize {blksize}");
            assert!(
                stream.read(0, window).await.is_err(),
                "never back before the window"
            );
        }
    }
}
