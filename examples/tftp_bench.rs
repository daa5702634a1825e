//! TFTP load client for `benches/tftp.sh`: the same client against any server, so the figures
//! compare servers, not clients. Built on autoprov's codec; windowed (RFC 7440) when asked.
//!
//! `tftp_bench ADDR SMALL_FILE N_SMALL BIG_FILE N_BIG` prints
//! `small_files_per_s=… big_ms_median=… big_ms_min=…`.

#![allow(clippy::print_stdout)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use autoprov::tftp::packet::{self, Mode, Packet, Request};
use tokio::net::UdpSocket;

async fn fetch(
    server: SocketAddr,
    name: &str,
    blksize: usize,
    windowsize: u16,
) -> anyhow::Result<usize> {
    let socket = UdpSocket::bind("127.0.0.1:0").await?;
    let mut options = Vec::new();
    if blksize != 512 {
        options.push(("blksize".to_string(), blksize.to_string()));
    }
    if windowsize != 1 {
        options.push(("windowsize".to_string(), windowsize.to_string()));
    }
    let request = Packet::Rrq(Request {
        filename: name.into(),
        mode: Mode::Octet,
        options,
    });
    socket.send_to(&request.to_bytes(), server).await?;
    let mut buf = vec![0u8; 65536];
    let mut next: u64 = 1;
    let mut received = 0usize;
    let mut blksize = blksize;
    let mut window = u64::from(windowsize);
    loop {
        let (n, from) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
            .await
            .context("server stopped answering")??;
        match packet::parse(&buf[..n]).map_err(|e| anyhow::anyhow!("{e}"))? {
            Packet::Oack(agreed) => {
                // Use what the server agreed to.
                blksize = 512;
                window = 1;
                for (name, value) in agreed {
                    match name.as_str() {
                        "blksize" => blksize = value.parse()?,
                        "windowsize" => window = value.parse()?,
                        _ => {}
                    }
                }
                socket.send_to(&Packet::Ack(0).to_bytes(), from).await?;
            }
            Packet::Data { block, data } => {
                if block != next as u16 {
                    socket
                        .send_to(&Packet::Ack((next - 1) as u16).to_bytes(), from)
                        .await?;
                    continue;
                }
                received += data.len();
                let last = data.len() < blksize;
                if next % window == 0 || last {
                    socket.send_to(&Packet::Ack(block).to_bytes(), from).await?;
                }
                next += 1;
                if last {
                    return Ok(received);
                }
            }
            Packet::Error { message, .. } => bail!("server error: {message}"),
            other => bail!("unexpected {other:?}"),
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, small, n_small, big, n_big] = args.as_slice() else {
        bail!("usage: tftp_bench ADDR SMALL_FILE N_SMALL BIG_FILE N_BIG");
    };
    let server: SocketAddr = addr.parse()?;
    let n_small: u32 = n_small.parse()?;
    let n_big: u32 = n_big.parse()?;
    let started = Instant::now();
    for _ in 0..n_small {
        fetch(server, small, 512, 1).await?;
    }
    let small_per_s = f64::from(n_small) / started.elapsed().as_secs_f64();
    let mut times = Vec::new();
    for _ in 0..n_big {
        let t = Instant::now();
        let bytes = fetch(server, big, 1428, 8).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if bytes != 1024 * 1024 {
            bail!("big file: {bytes} bytes, expected 1 MiB");
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "small_files_per_s={small_per_s:.0} big_ms_median={:.2} big_ms_min={:.2}",
        times[times.len() / 2],
        times[0]
    );
    Ok(())
}
