//! The processes of one cluster: a database of its own, a `nats-server` of
//! its own, and the real server binary started N times with the cluster
//! variables. Everything is killed (and the database dropped) when the
//! [`Cluster`] is dropped, also when a test panics; then the tail of each
//! log is printed.

use std::{
    fs::File,
    io::{Read as _, Seek as _, SeekFrom},
    net::{SocketAddr, TcpListener as StdListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use serde_json::{Value, json};
use tokio::{io::AsyncReadExt as _, net::TcpStream};
use tokio_postgres::NoTls;

use crate::client::{Client, ConnectError};

/// The server binary built by this package.
const BINARY: &str = env!("CARGO_BIN_EXE_bidirectional-chat-server");

/// Shared by every node, as cluster mode requires.
const JWT_SECRET: &str = "cluster-test-secret-0123456789-abcdefghijklmnop";

/// Password of every user the tests register.
pub const PASSWORD: &str = "cluster-test-password";

/// Presence timing for every node: short, so that the kill test is quick.
pub const HEARTBEAT_MS: u64 = 200;
pub const PRESENCE_TTL_MS: u64 = 1_000;

/// How long a node may take to answer `/health` after it was started.
const START_LIMIT: Duration = Duration::from_secs(60);

/// One test at a time: a cluster is four processes, and the timing
/// assertions (presence TTL, PostgreSQL timeouts) mean little when two
/// clusters share the CI machine's two cores. A tokio mutex, so that the
/// guard may live across awaits in any test's runtime.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A free TCP port on loopback (bound, read, released).
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// What differs between the nodes of one cluster.
#[derive(Default, Clone)]
pub struct NodeOptions {
    /// Variables added to (or overriding) this node's environment.
    pub env: Vec<(String, String)>,
    /// Reach PostgreSQL through this address (a proxy) instead.
    pub postgres_via: Option<SocketAddr>,
}

/// A running cluster. Field order matters for nothing: [`Drop`] kills the
/// nodes, then NATS, then drops the database, and only then lets the next
/// test take its turn.
pub struct Cluster {
    pub name: String,
    nodes: Vec<Node>,
    nats: Nats,
    db: Database,
    dir: tempfile::TempDir,
    http: reqwest::Client,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

struct Node {
    id: String,
    addr: SocketAddr,
    child: Option<Child>,
    log: PathBuf,
}

impl Cluster {
    /// `count` nodes with the same options.
    pub async fn start(name: &str, count: usize) -> Self {
        Self::start_with(name, vec![NodeOptions::default(); count]).await
    }

    /// One node per entry of `nodes`, started together, each waited for on
    /// `/health`.
    pub async fn start_with(name: &str, nodes: Vec<NodeOptions>) -> Self {
        let turn = TURN.lock().await;
        let dir = tempfile::Builder::new().prefix(&format!("cluster-{name}-")).tempdir().unwrap();
        let db = Database::create().await;
        let nats = Nats::start(dir.path()).await;
        let mut cluster = Self {
            name: name.to_owned(),
            nodes: Vec::new(),
            nats,
            db,
            dir,
            http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap(),
            _turn: turn,
        };
        for (i, options) in nodes.iter().enumerate() {
            let id = format!("node{}", i + 1);
            let log = cluster.dir.path().join(format!("{id}.log"));
            cluster.nodes.push(Node { id, addr: SocketAddr::from(([127, 0, 0, 1], 0)), child: None, log });
            cluster.spawn_node(i, options);
        }
        // A port picked by `free_port` may be taken before the child binds
        // it; a node that exits for that reason is retried on another port.
        for _attempt in 0..3 {
            let failed = cluster.wait_ready().await;
            if failed.is_empty() {
                return cluster;
            }
            for i in failed {
                let log = tail(&cluster.nodes[i].log, 20);
                assert!(
                    log.contains("in use"),
                    "{}: {} exited during start-up:\n{log}",
                    cluster.name,
                    cluster.nodes[i].id
                );
                eprintln!("{}: {}'s port was taken; retrying on another", cluster.name, cluster.nodes[i].id);
                cluster.spawn_node(i, &nodes[i]);
            }
        }
        panic!("{}: the nodes did not start", cluster.name);
    }

    fn spawn_node(&mut self, i: usize, options: &NodeOptions) {
        let port = free_port();
        let data = self.dir.path().join(format!("node{}-data", i + 1));
        let cwd = self.dir.path().join(format!("node{}-cwd", i + 1));
        std::fs::create_dir_all(&data).unwrap();
        std::fs::create_dir_all(&cwd).unwrap();
        let node = &mut self.nodes[i];
        if let Some(mut old) = node.child.take() {
            let _ = old.kill();
            let _ = old.wait();
        }
        let log = File::options().create(true).append(true).open(&node.log).unwrap();
        let rust_log = std::env::var("CHAT_TEST_CLUSTER_LOG").unwrap_or_else(|_| "info".to_owned());
        let mut command = Command::new(BINARY);
        command
            .env_clear()
            .current_dir(&cwd)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("CHAT_DATA_DIR", &data)
            .env("RUST_LOG", rust_log)
            .env("JWT_SECRET", JWT_SECRET)
            .env("CHAT__RATE_LIMIT__ENABLED", "false")
            .env("CHAT__LOGGING__FORMAT", "compact")
            .env("NO_COLOR", "1")
            .env("CHAT__STORAGE__BACKEND", "postgres")
            .env("CHAT__STORAGE__POSTGRES_URL", self.db.url_via(options.postgres_via))
            .env("CHAT__CLUSTER__NATS_URL", self.nats.url())
            .env("CHAT__CLUSTER__NODE_ID", &node.id)
            .env("CHAT__CLUSTER__HEARTBEAT_MS", HEARTBEAT_MS.to_string())
            .env("CHAT__CLUSTER__PRESENCE_TTL_MS", PRESENCE_TTL_MS.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (key, value) in &options.env {
            command.env(key, value);
        }
        node.child = Some(command.spawn().expect("spawn the server binary"));
        node.addr = SocketAddr::from(([127, 0, 0, 1], port));
    }

    /// Polls every starting node's `/health`; the indexes of those that
    /// exited instead. Panics (with the logs) if one neither answers nor
    /// exits in time.
    async fn wait_ready(&mut self) -> Vec<usize> {
        let deadline = Instant::now() + START_LIMIT;
        let mut waiting: Vec<usize> = (0..self.nodes.len()).collect();
        let mut failed = Vec::new();
        let quick = reqwest::Client::builder().timeout(Duration::from_secs(1)).build().unwrap();
        while !waiting.is_empty() {
            assert!(Instant::now() < deadline, "{}: nodes {waiting:?} did not answer /health in time", self.name);
            let mut still = Vec::new();
            for i in waiting {
                let node = &mut self.nodes[i];
                if let Ok(Some(status)) = node.child.as_mut().unwrap().try_wait() {
                    eprintln!("{}: {} exited during start-up ({status})", self.name, node.id);
                    failed.push(i);
                    continue;
                }
                let ready = matches!(
                    quick.get(format!("http://{}/health", node.addr)).send().await,
                    Ok(r) if r.status().is_success()
                );
                if !ready {
                    still.push(i);
                }
            }
            waiting = still;
            if !waiting.is_empty() {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
        failed
    }

    pub fn ws_url(&self, node: usize) -> String {
        format!("ws://{}/ws", self.nodes[node].addr)
    }

    /// Every node's `/ws` URL, by index (a killed node's stays listed: a
    /// client that tries it is refused, as a real one would be).
    pub fn ws_urls(&self) -> Vec<String> {
        (0..self.nodes.len()).map(|i| self.ws_url(i)).collect()
    }

    fn url(&self, node: usize, path: &str) -> String {
        format!("http://{}{}", self.nodes[node].addr, path)
    }

    /// SIGKILL to node `node`, then reap it.
    pub fn kill9(&mut self, node: usize) {
        if let Some(mut child) = self.nodes[node].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn nats(&mut self) -> &mut Nats {
        &mut self.nats
    }

    /// Registers `username` through node `node` (201, or 409 when it exists).
    pub async fn register(&self, node: usize, username: &str) {
        let body = json!({"username": username, "password": PASSWORD});
        let response = self.http.post(self.url(node, "/auth/register")).json(&body).send().await.unwrap();
        let status = response.status().as_u16();
        assert!(status == 201 || status == 409, "register {username} on node {}: {status}", node + 1);
    }

    /// Logs in through node `node`: the token, or the refusal's status and body.
    pub async fn login(&self, node: usize, username: &str, password: &str) -> Result<String, (u16, Value)> {
        let body = json!({"username": username, "password": password});
        let response = self.http.post(self.url(node, "/auth/login")).json(&body).send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status != 200 {
            return Err((status, body));
        }
        Ok(body["token"].as_str().unwrap().to_owned())
    }

    /// Registers each of `usernames` (through the nodes in turn) and logs
    /// it in through the next node, all at once; their tokens in order.
    pub async fn tokens(&self, usernames: &[&str]) -> Vec<String> {
        let n = self.nodes.len();
        let work = usernames.iter().enumerate().map(|(i, name)| async move {
            self.register(i % n, name).await;
            self.login((i + 1) % n, name, PASSWORD)
                .await
                .unwrap_or_else(|(status, body)| panic!("login {name}: {status} {body}"))
        });
        futures_util::future::join_all(work).await
    }

    /// A token for a demo account (`admin`/`admin123`, `moderator`/`mod123`).
    pub async fn demo_token(&self, username: &str, password: &str) -> String {
        self.login(0, username, password)
            .await
            .unwrap_or_else(|(status, body)| panic!("login {username}: {status} {body}"))
    }

    /// A client for `username` (with `token`) on node `node`.
    pub async fn connect(&self, node: usize, username: &str, token: &str) -> Client {
        Client::connect(&self.ws_url(node), node, username, token)
            .await
            .unwrap_or_else(|e| panic!("connect {username} to node {}: {e}", node + 1))
    }

    /// A client that has joined `room`, and the join's result.
    pub async fn connect_in(&self, node: usize, username: &str, token: &str, room: &str) -> (Client, Value) {
        let mut client = self.connect(node, username, token).await;
        let joined = client.join(room).await;
        (client, joined)
    }

    /// The handshake's refusal status on node `node`, or None if accepted.
    pub async fn refused_status(&self, node: usize, username: &str, token: &str) -> Option<u16> {
        match Client::connect(&self.ws_url(node), node, username, token).await {
            Ok(_) => None,
            Err(ConnectError::Refused(status)) => Some(status),
            Err(e) => panic!("connect {username} to node {}: {e}", node + 1),
        }
    }

    /// The last `lines` lines of every log, for a failure report.
    pub fn log_tails(&self, lines: usize) -> String {
        let mut out = String::new();
        for node in &self.nodes {
            out.push_str(&format!("---- {} ({}) log tail\n{}\n", node.id, node.addr, tail(&node.log, lines)));
        }
        out.push_str(&format!("---- nats-server log tail\n{}\n", tail(&self.nats.log, lines)));
        out
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill9(i);
        }
        self.nats.kill9();
        if std::thread::panicking() {
            eprintln!("{}: the test failed; logs in {}\n{}", self.name, self.dir.path().display(), self.log_tails(40));
        }
        if std::thread::panicking() || std::env::var_os("CHAT_TEST_KEEP_LOGS").is_some() {
            // Keep the logs for whoever investigates.
            let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
            eprintln!("{}: logs kept in {}", self.name, dir.keep().display());
        }
        self.db.drop_now();
    }
}

/// The last `lines` lines of a file (reading at most its last 64 KiB).
fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut file) = File::open(path) else { return String::from("(no log)") };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ---------------------------------------------------------------------------
// NATS

/// A `nats-server` child process on a loopback port of its own, which can
/// be killed and started again on the same port.
pub struct Nats {
    port: u16,
    child: Option<Child>,
    log: PathBuf,
}

impl Nats {
    async fn start(dir: &Path) -> Self {
        let mut nats = Self { port: 0, child: None, log: dir.join("nats.log") };
        for _ in 0..5 {
            nats.port = free_port();
            if nats.spawn().await {
                return nats;
            }
        }
        panic!("nats-server did not start:\n{}", tail(&nats.log, 20));
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, then reap.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    pub async fn restart(&mut self) {
        self.kill9();
        for _ in 0..20 {
            if self.spawn().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("nats-server did not restart on port {}:\n{}", self.port, tail(&self.log, 20));
    }

    /// Spawns on `self.port`; true once it accepts a client and greets it
    /// with INFO, false if it exited (the port was taken).
    async fn spawn(&mut self) -> bool {
        let log = File::options().create(true).append(true).open(&self.log).unwrap();
        let mut child = Command::new(nats_binary())
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn nats-server");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return false;
            }
            if let Ok(mut tcp) = TcpStream::connect(("127.0.0.1", self.port)).await {
                let mut greeting = [0u8; 4];
                let read = tokio::time::timeout(Duration::from_secs(2), tcp.read_exact(&mut greeting)).await;
                if matches!(read, Ok(Ok(_))) && &greeting == b"INFO" {
                    self.child = Some(child);
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `CHAT_TEST_NATS_SERVER`, else `nats-server` on `PATH`, else /usr/sbin's.
fn nats_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CHAT_TEST_NATS_SERVER") {
        return PathBuf::from(path);
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|p| p.join("nats-server")).find(|p| p.is_file()))
        .unwrap_or_default();
    on_path.unwrap_or_else(|| PathBuf::from("/usr/sbin/nats-server"))
}

// ---------------------------------------------------------------------------
// PostgreSQL

/// A fresh database for one cluster, named like the other suites' test
/// databases (`chat_test_<run>_<pid>_cluster<n>`) so that scripts/test.sh's
/// sweep of a crashed run's leftovers finds it too.
struct Database {
    server: String,
    name: String,
    dropped: bool,
}

impl Database {
    async fn create() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let server = std::env::var("CHAT_TEST_POSTGRES")
            .ok()
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".to_owned());
        let run = std::env::var("CHAT_TEST_RUN")
            .ok()
            .map(|run| {
                let run = run.to_lowercase();
                run.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(24).collect::<String>()
            })
            .filter(|run| !run.is_empty())
            .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()).to_string());
        let name = format!("chat_test_{run}_{}_cluster{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let (admin, connection) = tokio_postgres::connect(&with_database(&server, "postgres"), NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {server} (CHAT_TEST_POSTGRES): {e}"));
        let connection = tokio::spawn(connection);
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        drop(admin);
        let _ = connection.await;
        Self { server, name, dropped: false }
    }

    /// The database's URL; with `via`, its host and port replaced by that
    /// address.
    fn url_via(&self, via: Option<SocketAddr>) -> String {
        let server = match via {
            None => self.server.clone(),
            Some(via) => {
                let (scheme, rest) = self.server.split_once("://").unwrap_or(("postgres", &self.server));
                let end = rest.find(['/', '?']).unwrap_or(rest.len());
                let (authority, tail) = rest.split_at(end);
                let user = authority.rsplit_once('@').map_or(String::new(), |(user, _)| format!("{user}@"));
                format!("{scheme}://{user}{via}{tail}")
            }
        };
        with_database(&server, &self.name)
    }

    /// Drops the database on a thread and runtime of its own (this runs in
    /// `Drop`, inside a test's runtime or while it unwinds).
    fn drop_now(&mut self) {
        if std::mem::replace(&mut self.dropped, true) {
            return;
        }
        let (admin_url, name) = (with_database(&self.server, "postgres"), self.name.clone());
        let result = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let (admin, connection) = tokio_postgres::connect(&admin_url, NoTls).await?;
                tokio::spawn(connection);
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!("could not drop test database {}: the dropping thread panicked", self.name),
        }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        self.drop_now();
    }
}

/// `server` (a URL without a database, perhaps with `?options`) with
/// `database` in it.
fn with_database(server: &str, database: &str) -> String {
    match server.split_once('?') {
        Some((base, query)) => format!("{}/{database}?{query}", base.trim_end_matches('/')),
        None => format!("{server}/{database}"),
    }
}

/// The PostgreSQL server's address (from `CHAT_TEST_POSTGRES`), for a
/// proxy in front of it.
pub fn postgres_addr() -> SocketAddr {
    let server = std::env::var("CHAT_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let rest = server.split_once("://").map_or(server.as_str(), |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, "5432"));
    let host = if host == "localhost" { "127.0.0.1" } else { host };
    format!("{host}:{port}").parse().unwrap_or_else(|e| panic!("PostgreSQL address {host_port}: {e}"))
}
