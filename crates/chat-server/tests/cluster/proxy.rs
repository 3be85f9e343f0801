//! A TCP proxy between one node and PostgreSQL that the test can cut in
//! two ways and restore.

use std::net::SocketAddr;

use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

/// What the proxy does with its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forwards bytes both ways.
    Pass,
    /// A network partition: open connections stop moving bytes (without
    /// closing), new ones are accepted and never forwarded. Only timeouts
    /// get a client out.
    Blackhole,
    /// The database is gone: open connections are closed, new ones are
    /// closed as soon as they are accepted.
    Refuse,
}

pub struct Proxy {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, _) = watch::channel(Mode::Pass);
        let modes = mode.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, upstream, modes.subscribe()));
            }
        });
        Self { addr, mode, task }
    }

    /// Switches every connection, open or new, to `mode`. Connections held
    /// by a blackhole are closed when it ends (the partition lasted long
    /// enough for both sides to give up on them).
    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
        self.set(Mode::Refuse);
    }
}

async fn serve(mut client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    let initial = *mode.borrow_and_update();
    match initial {
        Mode::Refuse => return,
        Mode::Blackhole => {
            let _ = mode.changed().await;
            return;
        }
        Mode::Pass => {}
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
    let (mut client_read, mut client_write) = client.split();
    let (mut server_read, mut server_write) = server.split();
    let mut up = vec![0u8; 16 * 1024];
    let mut down = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            read = client_read.read(&mut up) => match read {
                Ok(n) if n > 0 => if server_write.write_all(&up[..n]).await.is_err() { return },
                _ => return,
            },
            read = server_read.read(&mut down) => match read {
                Ok(n) if n > 0 => if client_write.write_all(&down[..n]).await.is_err() { return },
                _ => return,
            },
            changed = mode.changed() => {
                if changed.is_err() {
                    return;
                }
                let now = *mode.borrow_and_update();
                match now {
                    Mode::Pass => {}
                    Mode::Refuse => return,
                    Mode::Blackhole => {
                        let _ = mode.changed().await;
                        return;
                    }
                }
            }
        }
    }
}
