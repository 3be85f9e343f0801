//! A minimal WebSocket client (RFC 6455), just enough for the load
//! generator: the HTTP upgrade with a bearer token, unfragmented text frames
//! out (masked, as clients must), and a zero-copy frame parser in.
//!
//! tungstenite allocates and UTF-8-checks every message; at a million
//! deliveries a second on one core that is the generator's bottleneck, so
//! receivers parse frames in place from one read buffer instead.

use std::net::{IpAddr, SocketAddr};

use anyhow::{Context, bail};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

/// Text frame opcode.
pub(crate) const OP_TEXT: u8 = 0x1;
/// Close frame opcode.
pub(crate) const OP_CLOSE: u8 = 0x8;
/// Ping frame opcode.
pub(crate) const OP_PING: u8 = 0x9;

const INITIAL_BUFFER: usize = 16 * 1024;
const LARGEST_BUFFER: usize = 256 * 1024;

/// Why an upgrade did not give a socket.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// The server answered with this HTTP status instead of 101.
    Refused(u16, String),
    /// Anything else (TCP, I/O, malformed answer).
    Io(anyhow::Error),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Refused(status, body) => write!(f, "upgrade refused with HTTP {status}: {body}"),
            ConnectError::Io(e) => write!(f, "{e:#}"),
        }
    }
}

/// Opens a TCP connection (from `source` when given) and upgrades it to a
/// WebSocket on `/ws` with the token in the `Authorization` header. Returns
/// the stream and whatever the server sent after its 101 answer.
pub(crate) async fn connect(
    server: SocketAddr,
    source: Option<IpAddr>,
    token: &str,
) -> Result<(TcpStream, FrameReader), ConnectError> {
    let stream = open_tcp(server, source).await.map_err(ConnectError::Io)?;
    upgrade(stream, server, token).await
}

async fn open_tcp(server: SocketAddr, source: Option<IpAddr>) -> anyhow::Result<TcpStream> {
    let socket = if server.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    if let Some(ip) = source {
        socket.bind(SocketAddr::new(ip, 0)).with_context(|| format!("cannot bind source address {ip}"))?;
    }
    let stream = socket.connect(server).await.with_context(|| format!("cannot connect to {server}"))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

async fn upgrade(
    mut stream: TcpStream,
    server: SocketAddr,
    token: &str,
) -> Result<(TcpStream, FrameReader), ConnectError> {
    // The key only has to be 16 base64-encoded bytes; we do not check the
    // accept hash (the server is ours and the 101 status is what matters).
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {server}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: YmlkaXJlY3Rpb25hbC1jaGE=\r\nSec-WebSocket-Version: 13\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    );
    let io = |e: std::io::Error| ConnectError::Io(e.into());
    stream.write_all(request.as_bytes()).await.map_err(io)?;
    let mut reader = FrameReader::new();
    loop {
        if let Some(end) = memchr::memmem::find(reader.pending(), b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&reader.pending()[..end]).into_owned();
            let status = head.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
            if status != 101 {
                // Error bodies are small JSON; take what already arrived.
                let body = String::from_utf8_lossy(&reader.pending()[end + 4..]).into_owned();
                return Err(ConnectError::Refused(status, body));
            }
            reader.consume(end + 4);
            return Ok((stream, reader));
        }
        if reader.fill(&mut stream).await.map_err(io)? == 0 {
            return Err(ConnectError::Io(anyhow::anyhow!("connection closed during the upgrade")));
        }
        if reader.pending().len() > 16 * 1024 {
            return Err(ConnectError::Io(anyhow::anyhow!("oversized upgrade answer")));
        }
    }
}

/// Appends one masked text frame holding `payload`. The masking key is
/// zero, which RFC 6455 allows, so the payload is copied unchanged and a
/// frame can be built with one copy.
pub(crate) fn encode_text(out: &mut Vec<u8>, payload: &[u8]) {
    encode(out, OP_TEXT, payload);
}

/// Appends one masked frame with the given opcode.
pub(crate) fn encode(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    out.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(payload);
}

/// A read buffer that yields complete frames in place.
#[derive(Debug)]
pub(crate) struct FrameReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl FrameReader {
    pub(crate) fn new() -> Self {
        Self { buf: vec![0; INITIAL_BUFFER], start: 0, end: 0 }
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads once from `stream` into free space; returns the bytes read
    /// (0 at end of stream).
    pub(crate) async fn fill<R: AsyncRead + Unpin>(&mut self, stream: &mut R) -> std::io::Result<usize> {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let grown = self.buf.len() * 2;
                self.buf.resize(grown, 0);
            }
        } else if self.start > 0 && self.buf.len() - self.end < 1024 {
            // Keep reads large: move the partial frame to the front.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = stream.read(&mut self.buf[self.end..]).await?;
        self.end += n;
        // A busy connection earns a bigger buffer (fewer, larger reads).
        if self.end == self.buf.len() && self.start == 0 && self.buf.len() < LARGEST_BUFFER {
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        Ok(n)
    }

    /// Calls `each(opcode, payload)` for every complete frame buffered and
    /// consumes them. Errors on frames a server must not send (masked or
    /// fragmented).
    pub(crate) fn frames(&mut self, mut each: impl FnMut(u8, &[u8])) -> anyhow::Result<()> {
        loop {
            let data = &self.buf[self.start..self.end];
            let Some((opcode, header, len)) = parse_header(data)? else { return Ok(()) };
            if data.len() < header + len {
                return Ok(());
            }
            each(opcode, &data[header..header + len]);
            self.consume(header + len);
        }
    }
}

/// Parses a frame header: `(opcode, header length, payload length)`, or
/// `None` when more bytes are needed.
fn parse_header(data: &[u8]) -> anyhow::Result<Option<(u8, usize, usize)>> {
    let [b0, b1, rest @ ..] = data else { return Ok(None) };
    if b0 & 0x80 == 0 || b0 & 0x0f == 0 {
        bail!("fragmented frames are not supported by the load generator");
    }
    if b1 & 0x80 != 0 {
        bail!("the server sent a masked frame");
    }
    let opcode = b0 & 0x0f;
    match b1 & 0x7f {
        126 => match rest {
            [a, b, ..] => Ok(Some((opcode, 4, usize::from(u16::from_be_bytes([*a, *b]))))),
            _ => Ok(None),
        },
        127 => match rest.get(..8) {
            Some(bytes) => {
                let mut len = [0u8; 8];
                len.copy_from_slice(bytes);
                let len = usize::try_from(u64::from_be_bytes(len)).context("frame too large")?;
                Ok(Some((opcode, 10, len)))
            }
            None => Ok(None),
        },
        short => Ok(Some((opcode, 2, usize::from(short)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unmasked(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&mut out, opcode, payload);
        // Turn the client frame into a server frame: drop mask bit and key.
        out[1] &= 0x7f;
        let header = match out[1] {
            126 => 4,
            127 => 10,
            _ => 2,
        };
        out.drain(header..header + 4);
        out
    }

    #[tokio::test]
    async fn frames_of_every_length_class_parse_across_partial_reads() {
        let small = vec![b'a'; 10];
        let medium = vec![b'b'; 300];
        let large = vec![b'c'; 70_000];
        let mut wire = Vec::new();
        for p in [&small, &medium, &large] {
            wire.extend(unmasked(OP_TEXT, p));
        }
        let mut reader = FrameReader::new();
        let mut got = Vec::new();
        for chunk in wire.chunks(777) {
            let mut source: &[u8] = chunk;
            while reader.fill(&mut source).await.unwrap() > 0 {}
            reader.frames(|op, payload| got.push((op, payload.to_vec()))).unwrap();
        }
        assert_eq!(got, vec![(OP_TEXT, small), (OP_TEXT, medium), (OP_TEXT, large)]);
    }

    #[test]
    fn client_frames_are_masked_with_a_zero_key() {
        let mut out = Vec::new();
        encode_text(&mut out, b"hi");
        assert_eq!(out, vec![0x81, 0x82, 0, 0, 0, 0, b'h', b'i']);
    }
}
