//! The import's rows, read on a blocking thread and handed over a few chunks at a time: a file
//! or a request body streams through with only `CHUNKS_AHEAD` chunks of `CHUNK_ROWS` rows in
//! memory, whatever its size, and no async worker waits on a read.

use std::io::Read;

use tokio::sync::mpsc;

use super::{Column, Encoding, Reader, Row, RowError};
use crate::error::{Error, Result};

/// Rows per chunk: enough that handing a chunk over costs nothing next to checking it.
const CHUNK_ROWS: usize = 256;
/// Chunks read ahead of the checks.
const CHUNKS_AHEAD: usize = 4;

type Chunk = Vec<std::result::Result<Row, RowError>>;

/// The rows of an import file, as the reading thread gives them.
pub(super) struct Rows {
    chunks: mpsc::Receiver<Chunk>,
    /// The reading thread: the end of `chunks` is the end of the file only if it ended well.
    thread: Option<tokio::task::JoinHandle<()>>,
}

impl Rows {
    /// Starts reading `input` on a blocking thread and waits for its header: the header's
    /// problems come back here, all at once, before anything else is done.
    pub(super) async fn open<R: Read + Send + 'static>(
        input: R,
        columns: &'static [Column],
        header_optional: bool,
        encoding: Encoding,
    ) -> Result<Rows> {
        let (header_tx, header_rx) = tokio::sync::oneshot::channel();
        let (chunks_tx, chunks) = mpsc::channel(CHUNKS_AHEAD);
        let thread = tokio::task::spawn_blocking(move || {
            let reader = match header_optional {
                true => Reader::with_optional_header(input, columns, encoding),
                false => Reader::new(input, columns, encoding),
            };
            let reader = match reader {
                Ok(reader) => reader,
                Err(errors) => {
                    let _ = header_tx.send(Err(errors));
                    return;
                }
            };
            if header_tx.send(Ok(())).is_err() {
                return;
            }
            let mut chunk = Vec::with_capacity(CHUNK_ROWS);
            for row in reader {
                chunk.push(row);
                if chunk.len() == CHUNK_ROWS {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_ROWS));
                    if chunks_tx.blocking_send(full).is_err() {
                        return; // the import stopped: read no further
                    }
                }
            }
            if !chunk.is_empty() {
                let _ = chunks_tx.blocking_send(chunk);
            }
        });
        match header_rx.await {
            Ok(Ok(())) => Ok(Rows {
                chunks,
                thread: Some(thread),
            }),
            Ok(Err(errors)) => Err(Error::Rows(errors)),
            Err(_) => Err(stopped()),
        }
    }

    /// The next chunk of rows; `None` at the end of the file. A reading thread that died on
    /// the way is an error, never a short file.
    pub(super) async fn next(&mut self) -> Result<Option<Chunk>> {
        if let Some(chunk) = self.chunks.recv().await {
            return Ok(Some(chunk));
        }
        match self.thread.take() {
            Some(thread) => thread.await.map(|()| None).map_err(|_| stopped()),
            None => Ok(None),
        }
    }
}

/// The reading thread ended without a word: it panicked.
fn stopped() -> Error {
    Error::Io(std::io::Error::other("the import's reader stopped"))
}
