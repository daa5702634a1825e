//! TFTP against the in-process server: our own test client (built on the crate's codec, so it can
//! misbehave on purpose), then the real clients where they are installed.

use std::net::SocketAddr;
use std::time::Duration;

use autoprov::tftp::packet::{self, ErrorCode, Mode, Packet, Request};
use tokio::net::UdpSocket;

use crate::support::{walkthrough, TestServer, UA};

/// What a fetch saw.
#[derive(Debug, Default)]
struct Fetched {
    data: Vec<u8>,
    oack: Option<Vec<(String, String)>>,
    /// DATA packets received, duplicates included.
    data_packets: usize,
}

#[derive(Default, Clone)]
struct Behaviour {
    /// ACKs (by block index from 1) to swallow once, as if lost.
    drop_acks: Vec<u64>,
    /// Send every ACK twice.
    duplicate_acks: bool,
    windowsize: u16,
}

async fn rrq(
    server: SocketAddr,
    name: &str,
    mode: Mode,
    options: &[(&str, &str)],
) -> (UdpSocket, Vec<u8>) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let request = Packet::Rrq(Request {
        filename: name.into(),
        mode,
        options: options
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    });
    socket.send_to(&request.to_bytes(), server).await.unwrap();
    (socket, request.to_bytes())
}

async fn recv(socket: &UdpSocket, buf: &mut [u8]) -> (usize, SocketAddr) {
    tokio::time::timeout(Duration::from_secs(10), socket.recv_from(buf))
        .await
        .expect("the server answers")
        .unwrap()
}

/// Fetches `name`; `Err` carries the server's ERROR.
async fn fetch(
    server: SocketAddr,
    name: &str,
    mode: Mode,
    options: &[(&str, &str)],
    behaviour: Behaviour,
) -> Result<Fetched, (ErrorCode, String)> {
    let (socket, _) = rrq(server, name, mode, options).await;
    let blksize: usize = options
        .iter()
        .find(|(n, _)| *n == "blksize")
        .map(|(_, v)| v.parse().unwrap())
        .unwrap_or(512);
    let window = u64::from(behaviour.windowsize.max(1));
    let mut dropped = behaviour.drop_acks.clone();
    let mut got = Fetched::default();
    let mut buf = vec![0u8; 70000];
    let mut next: u64 = 1; // next block index expected
    let mut tid: Option<SocketAddr> = None;
    loop {
        let (n, from) = recv(&socket, &mut buf).await;
        if let Some(t) = tid {
            assert_eq!(t, from, "the transfer keeps its port");
        }
        tid = Some(from);
        let ack = |index: u64| Packet::Ack(index as u16).to_bytes();
        match packet::parse(&buf[..n]).unwrap() {
            Packet::Oack(options) => {
                got.oack = Some(options);
                socket.send_to(&ack(0), from).await.unwrap();
            }
            Packet::Error { code, message } => return Err((code, message)),
            Packet::Data { block, data } => {
                got.data_packets += 1;
                let last = data.len() < blksize;
                if block == next as u16 {
                    got.data.extend_from_slice(data);
                    next += 1;
                } else {
                    // A resent or out-of-order block: ask again from the last good one.
                    socket.send_to(&ack(next - 1), from).await.unwrap();
                    continue;
                }
                let index = next - 1;
                if index % window == 0 || last {
                    if let Some(pos) = dropped.iter().position(|d| *d == index) {
                        dropped.remove(pos);
                        continue;
                    }
                    socket.send_to(&ack(index), from).await.unwrap();
                    if behaviour.duplicate_acks {
                        socket.send_to(&ack(index), from).await.unwrap();
                    }
                }
                if last {
                    return Ok(got);
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// A server for tests that lose nothing: its resend timer is long enough that a busy machine
/// never triggers it, so packet counts are exact. Tests of loss set their own.
async fn steady_server() -> TestServer {
    TestServer::start_with(&[("tftp.timeout_ms", "2000")]).await
}

fn write_static(server: &TestServer, name: &str, bytes: &[u8]) {
    let path = server.data_dir().join("files").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn a_device_file_is_byte_for_byte_the_http_one() {
    let server = steady_server().await;
    walkthrough(&server.app).await;
    let (_, _, http) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    let tftp = fetch(
        server.tftp_addr,
        "001565a1b2c3.cfg",
        Mode::Octet,
        &[],
        Behaviour::default(),
    )
    .await
    .unwrap();
    assert_eq!(tftp.oack, None, "no options asked, no OACK");
    assert_eq!(String::from_utf8(tftp.data).unwrap(), http);
    // Any case, any prefix, as over HTTP.
    let upper = fetch(
        server.tftp_addr,
        "/prov/001565A1B2C3.cfg",
        Mode::Octet,
        &[],
        Behaviour::default(),
    )
    .await
    .unwrap();
    assert_eq!(String::from_utf8(upper.data).unwrap(), http);
}

#[tokio::test]
async fn each_option_is_negotiated() {
    let server = steady_server().await;
    let body = pattern(10_000);
    write_static(&server, "fw/phone.rom", &body);
    let got = fetch(
        server.tftp_addr,
        "fw/phone.rom",
        Mode::Octet,
        &[
            ("blksize", "1428"),
            ("tsize", "0"),
            ("timeout", "2"),
            ("windowsize", "4"),
            ("unknown", "1"),
        ],
        Behaviour {
            windowsize: 4,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(got.data, body);
    let oack = got.oack.unwrap();
    let expected: Vec<(String, String)> = [
        ("blksize", "1428"),
        ("tsize", "10000"),
        ("timeout", "2"),
        ("windowsize", "4"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    assert_eq!(
        oack, expected,
        "only what was asked, unknown options left out"
    );
    // Only tsize asked: only tsize answered.
    let got = fetch(
        server.tftp_addr,
        "fw/phone.rom",
        Mode::Octet,
        &[("tsize", "0")],
        Behaviour::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        got.oack,
        Some(vec![("tsize".to_string(), "10000".to_string())])
    );
    assert_eq!(got.data, body);
}

#[tokio::test]
async fn a_file_of_whole_blocks_ends_with_an_empty_block() {
    let server = steady_server().await;
    write_static(&server, "exact.bin", &pattern(1024));
    let got = fetch(
        server.tftp_addr,
        "exact.bin",
        Mode::Octet,
        &[],
        Behaviour::default(),
    )
    .await
    .unwrap();
    assert_eq!(got.data.len(), 1024);
    assert_eq!(got.data_packets, 3, "two full blocks and an empty one");
    write_static(&server, "empty.bin", b"");
    let got = fetch(
        server.tftp_addr,
        "empty.bin",
        Mode::Octet,
        &[],
        Behaviour::default(),
    )
    .await
    .unwrap();
    assert_eq!((got.data.len(), got.data_packets), (0, 1));
}

#[tokio::test]
async fn block_numbers_roll_over_past_65535() {
    let server = steady_server().await;
    // 70,000 blocks of 8 bytes: block numbers wrap to 0 after 65535.
    let body = pattern(8 * 70_000 - 3);
    write_static(&server, "big.rom", &body);
    let got = fetch(
        server.tftp_addr,
        "big.rom",
        Mode::Octet,
        &[("blksize", "8"), ("windowsize", "64")],
        Behaviour {
            windowsize: 64,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(got.data.len(), body.len());
    assert!(got.data == body);
}

/// On paused time: the resend timer fires only once nothing else can run, so only the lost ACK
/// causes a resend, and the test waits no real second for it.
#[tokio::test(start_paused = true)]
async fn a_lost_ack_is_answered_by_a_retransmission() {
    let server = TestServer::start_paused_with(&[("tftp.timeout_ms", "1000")]).await;
    let body = pattern(3000);
    write_static(&server, "a.bin", &body);
    let got = fetch(
        server.tftp_addr,
        "a.bin",
        Mode::Octet,
        &[],
        Behaviour {
            drop_acks: vec![2],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(got.data, body);
    assert_eq!(got.data_packets, 7, "6 blocks and block 2 once more");
}

#[tokio::test(start_paused = true)]
async fn a_window_whose_first_block_is_lost_is_resent_at_once() {
    // A long timeout: the resend must come from the client's ACK of the previous block.
    let server = TestServer::start_paused_with(&[("tftp.timeout_ms", "5000")]).await;
    let body = pattern(512 * 8 + 100);
    write_static(&server, "w.bin", &body);
    let (socket, _) = rrq(
        server.tftp_addr,
        "w.bin",
        Mode::Octet,
        &[("windowsize", "4")],
    )
    .await;
    let mut buf = vec![0u8; 2000];
    let (n, tid) = recv(&socket, &mut buf).await;
    assert!(matches!(packet::parse(&buf[..n]), Ok(Packet::Oack(_))));
    socket
        .send_to(&Packet::Ack(0).to_bytes(), tid)
        .await
        .unwrap();
    for _ in 0..4 {
        recv(&socket, &mut buf).await; // blocks 1-4
    }
    socket
        .send_to(&Packet::Ack(4).to_bytes(), tid)
        .await
        .unwrap();
    for _ in 0..4 {
        recv(&socket, &mut buf).await; // blocks 5-8: as if block 5 were lost
    }
    socket
        .send_to(&Packet::Ack(4).to_bytes(), tid)
        .await
        .unwrap();
    // Paused time moves only when nothing else can run: a resend on the ACK comes before any
    // time passes, a resend on the timer (5 s) not within the second waited here.
    let (n, _) = tokio::time::timeout(Duration::from_secs(1), socket.recv_from(&mut buf))
        .await
        .expect("resent on the ACK, not on the timer")
        .unwrap();
    assert!(matches!(
        packet::parse(&buf[..n]),
        Ok(Packet::Data { block: 5, .. })
    ));
}

#[tokio::test]
async fn duplicate_acks_do_not_trigger_resends() {
    // A long timeout: any extra DATA would come from the duplicate ACKs, not from a timer.
    let server = TestServer::start_with(&[("tftp.timeout_ms", "5000")]).await;
    let body = pattern(5000);
    write_static(&server, "a.bin", &body);
    let got = fetch(
        server.tftp_addr,
        "a.bin",
        Mode::Octet,
        &[],
        Behaviour {
            duplicate_acks: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(got.data, body);
    assert_eq!(got.data_packets, 10, "each block exactly once");
}

#[tokio::test]
async fn netascii_converts_line_ends() {
    let server = steady_server().await;
    write_static(&server, "notes.txt", b"a\nb\rc\n");
    let got = fetch(
        server.tftp_addr,
        "notes.txt",
        Mode::Netascii,
        &[],
        Behaviour::default(),
    )
    .await
    .unwrap();
    assert_eq!(got.data, b"a\r\nb\r\0c\r\n");
}

#[tokio::test]
async fn traversal_and_unknown_files_get_file_not_found() {
    let server = steady_server().await;
    walkthrough(&server.app).await;
    std::fs::write(server.data_dir().join("secret.txt"), b"no").unwrap();
    write_static(&server, "ok.bin", b"ok");
    for name in [
        "../secret.txt",
        "/../secret.txt",
        "..\\secret.txt",
        "%2e%2e/secret.txt",
        "files/../../secret.txt",
        "/etc/passwd",
        "../autoprov.db",
        "001565ffffff.cfg",
        "nothing.bin",
    ] {
        let err = fetch(
            server.tftp_addr,
            name,
            Mode::Octet,
            &[],
            Behaviour::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(
            err,
            (ErrorCode::FileNotFound, "file not found".to_string()),
            "{name}"
        );
    }
    // An absolute path means the folder's root.
    let got = fetch(
        server.tftp_addr,
        "/ok.bin",
        Mode::Octet,
        &[],
        Behaviour::default(),
    )
    .await
    .unwrap();
    assert_eq!(got.data, b"ok");
}

#[tokio::test]
async fn write_requests_are_refused() {
    let server = steady_server().await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let wrq = Packet::Wrq(Request {
        filename: "001565a1b2c3.cfg".into(),
        mode: Mode::Octet,
        options: vec![],
    });
    socket
        .send_to(&wrq.to_bytes(), server.tftp_addr)
        .await
        .unwrap();
    let mut buf = [0u8; 600];
    let (n, _) = recv(&socket, &mut buf).await;
    assert!(matches!(
        packet::parse(&buf[..n]),
        Ok(Packet::Error {
            code: ErrorCode::AccessViolation,
            ..
        })
    ));
}

#[tokio::test]
async fn malformed_packets_get_no_answer_and_the_server_goes_on() {
    let server = steady_server().await;
    write_static(&server, "ok.bin", b"ok");
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut huge = b"\0\x01f\0octet\0".to_vec();
    for i in 0..100 {
        huge.extend_from_slice(format!("o{i}\x001\0").as_bytes());
    }
    let mut buf = [0u8; 600];
    // Malformed requests get no answer (an answer to a forged source would make the server a
    // reflector); they are counted, and the server goes on serving.
    for garbage in [
        b"\0\x01no-nul".to_vec(),
        b"\0\x01f\0octet".to_vec(),
        b"\0\x09xx".to_vec(),
        b"\0".to_vec(),
        huge,
    ] {
        socket.send_to(&garbage, server.tftp_addr).await.unwrap();
    }
    // Stray ACK/DATA on the listening port: ignored, no answer needed; the server still serves.
    socket
        .send_to(b"\0\x04\0\x01", server.tftp_addr)
        .await
        .unwrap();
    // The Cisco 7940's stray NUL.
    let got = {
        let (s, _) = (UdpSocket::bind("127.0.0.1:0").await.unwrap(), ());
        s.send_to(b"\0\x01ok.bin\0octet\0\0", server.tftp_addr)
            .await
            .unwrap();
        let (n, from) = recv(&s, &mut buf).await;
        let data = match packet::parse(&buf[..n]).unwrap() {
            Packet::Data { block: 1, data } => data.to_vec(),
            other => panic!("{other:?}"),
        };
        s.send_to(&Packet::Ack(1).to_bytes(), from).await.unwrap();
        data
    };
    assert_eq!(got, b"ok");
    // The listener handles datagrams in order: had any of the garbage been answered, the answer
    // would be here by now.
    assert!(
        socket.try_recv(&mut buf).is_err(),
        "malformed packets get no answer"
    );
    let metrics = &server.app.tftp_metrics;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while metrics.refused.load(std::sync::atomic::Ordering::Relaxed) < 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "malformed requests are counted"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_stray_tid_gets_error_5_and_the_transfer_goes_on() {
    let server = TestServer::start_with(&[("tftp.timeout_ms", "5000")]).await;
    write_static(&server, "a.bin", &pattern(1500));
    let (socket, _) = rrq(server.tftp_addr, "a.bin", Mode::Octet, &[]).await;
    let mut buf = [0u8; 600];
    let (n, tid) = recv(&socket, &mut buf).await;
    assert!(matches!(
        packet::parse(&buf[..n]),
        Ok(Packet::Data { block: 1, .. })
    ));
    let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    stranger
        .send_to(&Packet::Ack(1).to_bytes(), tid)
        .await
        .unwrap();
    let (n, _) = recv(&stranger, &mut buf).await;
    assert!(matches!(
        packet::parse(&buf[..n]),
        Ok(Packet::Error {
            code: ErrorCode::UnknownTid,
            ..
        })
    ));
    let mut received = 512;
    for block in 1..=3u16 {
        socket
            .send_to(&Packet::Ack(block).to_bytes(), tid)
            .await
            .unwrap();
        if block == 3 {
            break;
        }
        let (n, _) = recv(&socket, &mut buf).await;
        match packet::parse(&buf[..n]).unwrap() {
            Packet::Data { block: b, data } => {
                assert_eq!(b, block + 1);
                received += data.len();
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(received, 1500);
}

#[tokio::test]
async fn transfer_limits_answer_busy() {
    let server = TestServer::start_with(&[
        ("tftp.timeout_ms", "5000"),
        ("tftp.max_transfers", "2"),
        ("tftp.max_per_source", "1"),
    ])
    .await;
    write_static(&server, "a.bin", &pattern(2000));
    let mut buf = [0u8; 600];
    // First transfer from 127.0.0.1, left waiting for its ACK.
    let (first, _) = rrq(server.tftp_addr, "a.bin", Mode::Octet, &[]).await;
    recv(&first, &mut buf).await;
    // A second from the same address: the per-source limit.
    let (second, _) = rrq(server.tftp_addr, "a.bin", Mode::Octet, &[]).await;
    let (n, _) = recv(&second, &mut buf).await;
    assert!(matches!(
        packet::parse(&buf[..n]),
        Ok(Packet::Error { code: ErrorCode::NotDefined, ref message }) if message.contains("your network")
    ));
    // Another network still gets served, up to the global limit ...
    let other = UdpSocket::bind("127.0.1.1:0").await.unwrap();
    other
        .send_to(
            &Packet::Rrq(Request {
                filename: "a.bin".into(),
                mode: Mode::Octet,
                options: vec![],
            })
            .to_bytes(),
            server.tftp_addr,
        )
        .await
        .unwrap();
    let (n, _) = recv(&other, &mut buf).await;
    assert!(matches!(
        packet::parse(&buf[..n]),
        Ok(Packet::Data { block: 1, .. })
    ));
    // ... which is now reached.
    let third = UdpSocket::bind("127.0.2.1:0").await.unwrap();
    third
        .send_to(
            &Packet::Rrq(Request {
                filename: "a.bin".into(),
                mode: Mode::Octet,
                options: vec![],
            })
            .to_bytes(),
            server.tftp_addr,
        )
        .await
        .unwrap();
    let (n, _) = recv(&third, &mut buf).await;
    assert!(matches!(
        packet::parse(&buf[..n]),
        Ok(Packet::Error { code: ErrorCode::NotDefined, ref message }) if message.contains("busy")
    ));
}

#[tokio::test]
async fn the_device_is_seen_and_counted() {
    let server = steady_server().await;
    walkthrough(&server.app).await;
    fetch(
        server.tftp_addr,
        "001565a1b2c3.cfg",
        Mode::Octet,
        &[],
        Behaviour::default(),
    )
    .await
    .unwrap();
    let device = server
        .app
        .store
        .device_by_mac("001565a1b2c3".parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    // The last-seen write runs in the background; give it up to two seconds.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let seen = loop {
        if let Some(seen) = server.app.store.device_last_seen(device.id).await.unwrap() {
            break seen;
        }
        assert!(tokio::time::Instant::now() < deadline, "never recorded");
        tokio::task::yield_now().await;
    };
    assert_eq!(
        (seen.addr.as_str(), seen.protocol.as_str()),
        ("127.0.0.1", "tftp")
    );
    // The server counts the transfer once it has the final ACK, which may come after our fetch.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    let metrics = loop {
        let (_, _, metrics) = server.fetch("/metrics", None).await;
        if metrics.contains("autoprov_tftp_transfers_total{outcome=\"completed\"} 1") {
            break metrics;
        }
        assert!(tokio::time::Instant::now() < deadline, "{metrics}");
        tokio::task::yield_now().await;
    };
    assert!(metrics.contains("autoprov_tftp_bytes_total "), "{metrics}");
}

#[tokio::test]
async fn static_files_over_http_with_ranges() {
    let server = steady_server().await;
    let body = pattern(1000);
    write_static(&server, "fw/T54W-96.86.0.100.rom", &body);
    let url = server.url("/fw/T54W-96.86.0.100.rom");
    let full = server.client.get(&url).send().await.unwrap();
    assert_eq!(full.status().as_u16(), 200);
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    assert_eq!(full.bytes().await.unwrap().as_ref(), &body[..]);
    let part = server
        .client
        .get(&url)
        .header("Range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status().as_u16(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 10-19/1000");
    assert_eq!(part.bytes().await.unwrap().as_ref(), &body[10..20]);
    let tail = server
        .client
        .get(&url)
        .header("Range", "bytes=-5")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &body[995..]);
    let none = server
        .client
        .get(&url)
        .header("Range", "bytes=2000-")
        .send()
        .await
        .unwrap();
    assert_eq!(none.status().as_u16(), 416);
    // If-Range with an old validator: the whole (changed) file, not a piece of it.
    let stale = server
        .client
        .get(&url)
        .header("Range", "bytes=10-19")
        .header("If-Range", "\"old\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 200);
    for bad in [
        "/fw/../../autoprov.db",
        "/%2e%2e/autoprov.db",
        "/fw/%2e%2e/%2e%2e/autoprov.db",
    ] {
        let (status, _, body) = server.fetch(bad, None).await;
        assert_eq!((status, body.as_str()), (404, "not found\n"), "{bad}");
    }
}

/// Runs a real client if it is installed; says so plainly when it is not.
fn installed(tool: &str) -> bool {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        crate::support::say(&format!(
            "skipped: {tool} is not installed (Debian: apt-get install tftp-hpa atftp curl)"
        ));
    }
    found
}

async fn run(cmd: &mut tokio::process::Command) -> std::process::Output {
    tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .expect("client finishes")
        .expect("client runs")
}

#[tokio::test]
async fn real_clients_fetch_the_same_bytes() {
    let server = steady_server().await;
    walkthrough(&server.app).await;
    let (_, _, http) = server.fetch("/001565a1b2c3.cfg", Some(UA)).await;
    let firmware = pattern(1024 * 1024);
    write_static(&server, "T54W-96.86.0.100.rom", &firmware);
    let out = tempfile::tempdir().unwrap();
    let port = server.tftp_addr.port().to_string();

    if installed("tftp") {
        for (file, expected) in [
            ("001565a1b2c3.cfg", http.as_bytes()),
            ("T54W-96.86.0.100.rom", &firmware[..]),
        ] {
            let dest = out.path().join(format!("hpa-{file}"));
            let o = run(tokio::process::Command::new("tftp")
                .args(["127.0.0.1", &port, "-m", "binary", "-c", "get", file])
                .arg(&dest))
            .await;
            assert!(o.status.success(), "{o:?}");
            assert!(std::fs::read(&dest).unwrap() == expected, "tftp-hpa {file}");
        }
    }
    if installed("atftp") {
        let dest = out.path().join("atftp.rom");
        let o = run(tokio::process::Command::new("atftp")
            .args(["--get", "-r", "T54W-96.86.0.100.rom", "-l"])
            .arg(&dest)
            .args([
                "--option",
                "blksize 1428",
                "--option",
                "tsize",
                "--option",
                "windowsize 8",
            ])
            .args(["127.0.0.1", &port]))
        .await;
        assert!(o.status.success(), "{o:?}");
        assert!(std::fs::read(&dest).unwrap() == firmware, "atftp");
        let dest = out.path().join("atftp.cfg");
        let o = run(tokio::process::Command::new("atftp")
            .args(["--get", "-r", "001565a1b2c3.cfg", "-l"])
            .arg(&dest)
            .args(["127.0.0.1", &port]))
        .await;
        assert!(o.status.success(), "{o:?}");
        assert_eq!(std::fs::read(&dest).unwrap(), http.as_bytes());
    }
    if installed("curl") {
        let o = run(tokio::process::Command::new("curl")
            .args(["-sS", "--tftp-blksize", "1428"])
            .arg(format!("tftp://127.0.0.1:{port}/001565a1b2c3.cfg")))
        .await;
        assert!(o.status.success(), "{o:?}");
        assert_eq!(o.stdout, http.as_bytes());
    }
}

/// Sends one RRQ from `from`, never ACKs, and collects every datagram that comes back until the
/// server has been quiet for five minutes (paused time: longer than any resend schedule). Returns
/// the RRQ's length and what came back.
async fn unanswered(
    server: SocketAddr,
    from: &str,
    name: &str,
    options: &[(&str, &str)],
) -> (usize, Vec<Vec<u8>>) {
    let socket = UdpSocket::bind(from).await.unwrap();
    let request = Packet::Rrq(Request {
        filename: name.into(),
        mode: Mode::Octet,
        options: options
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    })
    .to_bytes();
    socket.send_to(&request, server).await.unwrap();
    let mut buf = vec![0u8; 70000];
    let mut back = Vec::new();
    while let Ok(received) =
        tokio::time::timeout(Duration::from_secs(300), socket.recv_from(&mut buf)).await
    {
        let (n, _) = received.unwrap();
        back.push(buf[..n].to_vec());
    }
    (request.len(), back)
}

fn failed(server: &TestServer) -> u64 {
    server
        .app
        .tftp_metrics
        .failed
        .load(std::sync::atomic::Ordering::Relaxed)
}

/// Attack: one small RRQ (possibly from a forged source) for a file of several blocks, never
/// acknowledged. What comes back is the first packet and one resend, no more: with no options,
/// DATA 1 twice (2 × 516 bytes); with options, the small OACK twice.
#[tokio::test(start_paused = true)]
async fn issue_10_an_unanswered_rrq_draws_two_packets_at_most() {
    let server = TestServer::start_paused_with(&[("tftp.timeout_ms", "1000")]).await;
    write_static(&server, "fw/phone.rom", &pattern(512 * 8 + 100));

    let (sent, back) = unanswered(server.tftp_addr, "127.0.0.1:0", "fw/phone.rom", &[]).await;
    let received: usize = back.iter().map(Vec::len).sum();
    let factor = received as f64 / sent as f64;
    eprintln!(
        "no options: RRQ {sent} bytes, {} packets, {received} bytes back: factor {factor:.1}",
        back.len()
    );
    assert_eq!(failed(&server), 1, "the transfer gave up");
    assert!(
        back.iter()
            .all(|p| matches!(packet::parse(p), Ok(Packet::Data { block: 1, .. }))),
        "only DATA 1 before the first ACK"
    );
    // The bound: the first DATA and one resend.
    let bound = 2.0 * 516.0 / sent as f64;
    assert!(factor <= bound, "amplification {factor:.1} > {bound:.1}");

    let options = [("blksize", "1428"), ("tsize", "0"), ("windowsize", "8")];
    let (sent, back) = unanswered(server.tftp_addr, "127.0.0.1:0", "fw/phone.rom", &options).await;
    let received: usize = back.iter().map(Vec::len).sum();
    let factor = received as f64 / sent as f64;
    eprintln!(
        "options: RRQ {sent} bytes, {} packets, {received} bytes back: factor {factor:.1}",
        back.len()
    );
    assert_eq!(failed(&server), 2, "the transfer gave up");
    assert!(
        back.iter()
            .all(|p| matches!(packet::parse(p), Ok(Packet::Oack(_)))),
        "only the OACK before ACK 0"
    );
    // The OACK echoes the options (tsize may grow a few digits): the OACK and one resend.
    let bound = 2.0 * back[0].len() as f64 / sent as f64;
    assert!(factor <= bound, "amplification {factor:.1} > {bound:.1}");
    assert!(factor <= 2.5, "amplification {factor:.1}");
}

/// Attack: fill every slot with never-ACKed RRQs, each from another /24. An unanswered
/// transfer gives up after the first timeout and one resend (1 s + 2 s), so a phone that asks
/// after that is served instead of being told "busy" for a minute.
#[tokio::test(start_paused = true)]
async fn issue_10_unanswered_transfers_free_their_slots_after_three_timeouts() {
    let server =
        TestServer::start_paused_with(&[("tftp.timeout_ms", "1000"), ("tftp.max_transfers", "8")])
            .await;
    write_static(&server, "a.bin", &pattern(512 * 8 + 100));
    let mut buf = vec![0u8; 2000];
    let mut attackers = Vec::new();
    for i in 1..=8u8 {
        let socket = UdpSocket::bind(format!("127.0.{i}.1:0")).await.unwrap();
        socket
            .send_to(
                &Packet::Rrq(Request {
                    filename: "a.bin".into(),
                    mode: Mode::Octet,
                    options: vec![],
                })
                .to_bytes(),
                server.tftp_addr,
            )
            .await
            .unwrap();
        let (n, _) = recv(&socket, &mut buf).await;
        assert!(matches!(
            packet::parse(&buf[..n]),
            Ok(Packet::Data { block: 1, .. })
        ));
        attackers.push(socket);
    }
    let refused = crate::support::tftp_get(server.tftp_addr, "127.0.200.1:0", "a.bin").await;
    assert!(
        matches!(&refused, Err(m) if m.contains("busy")),
        "every slot is taken: {refused:?}"
    );
    // Three timeouts (1 s, then 2 s after the resend) and a little.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(failed(&server), 8, "every unanswered transfer gave up");
    let got = crate::support::tftp_get(server.tftp_addr, "127.0.200.1:0", "a.bin").await;
    assert_eq!(got.unwrap(), pattern(512 * 8 + 100));
}

/// Attack: many addresses of one /24 (one host or one LAN) each taking their share of the
/// slots. The per-source limit counts the /24, not the address.
#[tokio::test]
async fn issue_10_one_slash_24_shares_one_per_source_limit() {
    let server = TestServer::start_with(&[
        ("tftp.timeout_ms", "5000"),
        ("tftp.max_transfers", "10"),
        ("tftp.max_per_source", "2"),
    ])
    .await;
    write_static(&server, "a.bin", &pattern(2000));
    let mut buf = [0u8; 600];
    let mut held = Vec::new();
    let ask = |from: &'static str| async move {
        let socket = UdpSocket::bind(from).await.unwrap();
        socket
            .send_to(
                &Packet::Rrq(Request {
                    filename: "a.bin".into(),
                    mode: Mode::Octet,
                    options: vec![],
                })
                .to_bytes(),
                server.tftp_addr,
            )
            .await
            .unwrap();
        socket
    };
    for from in ["127.0.0.1:0", "127.0.0.2:0"] {
        let socket = ask(from).await;
        let (n, _) = recv(&socket, &mut buf).await;
        assert!(
            matches!(packet::parse(&buf[..n]), Ok(Packet::Data { block: 1, .. })),
            "{from}"
        );
        held.push(socket);
    }
    // A third address of 127.0.0.0/24: the network's two slots are taken.
    let third = ask("127.0.0.3:0").await;
    let (n, _) = recv(&third, &mut buf).await;
    assert!(matches!(
        packet::parse(&buf[..n]),
        Ok(Packet::Error { code: ErrorCode::NotDefined, ref message }) if message.contains("your network")
    ));
    // The next /24 has its own.
    let other = ask("127.0.1.3:0").await;
    let (n, _) = recv(&other, &mut buf).await;
    assert!(matches!(
        packet::parse(&buf[..n]),
        Ok(Packet::Data { block: 1, .. })
    ));
}

/// The bound applies only until the peer's first ACK: a phone that has answered once keeps the
/// full `tftp.retries` (5 resends) for every later block.
#[tokio::test(start_paused = true)]
async fn issue_10_after_the_first_ack_the_usual_retries_apply() {
    let server = TestServer::start_paused_with(&[("tftp.timeout_ms", "1000")]).await;
    write_static(&server, "a.bin", &pattern(512 * 4));
    let (socket, _) = rrq(server.tftp_addr, "a.bin", Mode::Octet, &[]).await;
    let mut buf = vec![0u8; 2000];
    let (_, tid) = recv(&socket, &mut buf).await;
    socket
        .send_to(&Packet::Ack(1).to_bytes(), tid)
        .await
        .unwrap();
    let mut block_2 = 0;
    while let Ok(received) =
        tokio::time::timeout(Duration::from_secs(300), socket.recv_from(&mut buf)).await
    {
        let (n, _) = received.unwrap();
        assert!(matches!(
            packet::parse(&buf[..n]),
            Ok(Packet::Data { block: 2, .. })
        ));
        block_2 += 1;
    }
    assert_eq!(block_2, 6, "DATA 2 and five resends");
    assert_eq!(failed(&server), 1);
}

/// A text-like file: lines of different lengths, bare CRs, CR LF pairs, and CR or LF as the last
/// byte of the 256 KiB read-ahead chunks.
fn text_with_line_ends(len: usize) -> Vec<u8> {
    let mut body: Vec<u8> = (0..len)
        .map(|i| match (i % 61, i % 509) {
            (0, _) | (_, 0) => b'\n',
            (17, _) => b'\r',
            (_, 300) => b'\r',
            (_, 301) => b'\n',
            _ => b' ' + (i % 90) as u8,
        })
        .collect();
    let chunk = 256 * 1024;
    for (k, at) in (chunk - 1..len).step_by(chunk).enumerate() {
        body[at] = if k % 2 == 0 { b'\n' } else { b'\r' };
    }
    body
}

/// Attack: netascii RRQs of a large file made the server read and convert the whole file in
/// memory (15 MiB each); files over 16 MiB were refused. Now it is converted while sent: a file
/// larger than the old limit comes byte for byte as the whole-buffer conversion, lock-step and
/// windowed, with expansions straddling blocks; `tsize` is not answered for netascii.
#[tokio::test]
async fn issue_10_netascii_of_a_large_file_is_converted_while_sent() {
    use autoprov::tftp::transfer::to_netascii;
    let server = steady_server().await;
    let body = text_with_line_ends(17 * 1024 * 1024 + 333);
    write_static(&server, "fw/big.txt", &body);
    let expected = to_netascii(&body);
    let got = fetch(
        server.tftp_addr,
        "fw/big.txt",
        Mode::Netascii,
        &[("blksize", "1428"), ("tsize", "0"), ("windowsize", "16")],
        Behaviour {
            windowsize: 16,
            ..Default::default()
        },
    )
    .await
    .expect("no longer refused");
    assert_eq!(
        got.oack,
        Some(vec![
            ("blksize".to_string(), "1428".to_string()),
            ("windowsize".to_string(), "16".to_string()),
        ]),
        "tsize is not answered for netascii"
    );
    assert_eq!(got.data.len(), expected.len());
    assert!(got.data == expected[..], "netascii differs");

    // Lock-step, 512-byte blocks, a few MiB; and the octet transfer is still the file itself.
    let body = text_with_line_ends(3 * 1024 * 1024 + 5);
    write_static(&server, "notes.txt", &body);
    let got = fetch(
        server.tftp_addr,
        "notes.txt",
        Mode::Netascii,
        &[],
        Behaviour::default(),
    )
    .await
    .unwrap();
    let expected = to_netascii(&body);
    assert_eq!(got.data.len(), expected.len());
    assert!(got.data == expected[..], "netascii differs");
    let got = fetch(
        server.tftp_addr,
        "notes.txt",
        Mode::Octet,
        &[("tsize", "0")],
        Behaviour::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        got.oack,
        Some(vec![("tsize".to_string(), body.len().to_string())])
    );
    assert!(got.data == body);
}
