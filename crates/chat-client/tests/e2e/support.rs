//! The harness: the real server in-process, the real binary as a child.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Output, Stdio},
    sync::Arc,
    time::Duration,
};

use chat_client::{RestClient, ServerUrl};
use chat_server::config::Config;
use tempfile::TempDir;
use tokio::{
    net::TcpListener,
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

/// Every wait in these tests is bounded by this, so a failure fails
/// instead of hanging.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// The path of the binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_bidirectional-chat-client");

/// A server running in this process.
pub(crate) struct TestServer {
    pub(crate) url: String,
    pub(crate) addr: SocketAddr,
    data: Arc<TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestServer {
    /// A fresh server on a free port with a fresh data directory.
    pub(crate) async fn spawn() -> Self {
        let data = Arc::new(tempfile::tempdir().expect("temporary data directory"));
        Self::start(data, "127.0.0.1:0".parse().expect("address")).await
    }

    /// A server on `addr` (port 0 for any) over `data`. The listener is bound
    /// before `run` starts, so the server is ready as soon as this returns.
    pub(crate) async fn start(data: Arc<TempDir>, addr: SocketAddr) -> Self {
        Self::start_with(data, addr, |_| {}).await
    }

    /// Like [`TestServer::start`], with changes to the test configuration.
    pub(crate) async fn start_with(data: Arc<TempDir>, addr: SocketAddr, tweak: impl FnOnce(&mut Config)) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind the test server");
        let addr = listener.local_addr().expect("local address");
        let mut config = Config::for_tests(data.path());
        tweak(&mut config);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(chat_server::run(listener, config, async move {
            stopped.await.ok();
        }));
        Self { url: format!("http://{addr}"), addr, data, stop: Some(stop), task: Some(task) }
    }

    /// Shuts the server down (closing sockets with 1001) and waits for it.
    /// Returns its data directory for a restart.
    pub(crate) async fn stop(mut self) -> Arc<TempDir> {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(WAIT, task).await.expect("the server stops in time");
            result.expect("the server task does not panic").expect("the server stops cleanly");
        }
        self.data.clone()
    }

    /// Logs in over REST and returns the token.
    pub(crate) async fn token(&self, username: &str, password: &str) -> String {
        let rest = RestClient::new(ServerUrl::parse(&self.url).expect("server URL"));
        rest.login(username, password).await.expect("demo login works").token
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
    }
}

/// The binary, pointed at one server with its own config directory, so
/// tests never touch the real home directory and users do not share tokens.
pub(crate) struct Cli {
    pub(crate) server: String,
    config: TempDir,
}

impl Cli {
    pub(crate) fn new(server: &TestServer) -> Self {
        Self::for_url(&server.url)
    }

    pub(crate) fn for_url(url: &str) -> Self {
        Self { server: url.to_owned(), config: tempfile::tempdir().expect("temporary config directory") }
    }

    pub(crate) fn config_dir(&self) -> PathBuf {
        self.config.path().to_path_buf()
    }

    /// The command with a clean environment for the client.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(BIN);
        command
            .env("CHAT_SERVER", &self.server)
            .env("CHAT_CONFIG_DIR", self.config.path())
            .env("NO_COLOR", "1")
            .env_remove("CHAT_TOKEN")
            .env_remove("HOME")
            .env_remove("XDG_CONFIG_HOME");
        command
    }

    /// Runs to completion with `stdin` as input.
    pub(crate) async fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut command = assert_cmd::Command::from_std(self.command());
        command.args(args).write_stdin(stdin.to_owned()).timeout(WAIT);
        tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("the command thread does not panic")
            .expect("the binary runs")
    }

    /// `login` with the password on stdin; panics on failure.
    pub(crate) async fn login(&self, username: &str, password: &str) {
        let output = self.run(&["login", "--username", username, "--password-stdin"], &format!("{password}\n")).await;
        assert_success(&output);
    }

    /// Starts a long-running command (e.g. `tail`) with its output read
    /// line by line.
    pub(crate) fn spawn(&self, args: &[&str]) -> Running {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdout = lines_of(child.stdout.take().expect("piped stdout"));
        let stderr = lines_of(child.stderr.take().expect("piped stderr"));
        Running { child: Some(child), stdout, stderr, seen_stdout: Vec::new(), seen_stderr: Vec::new() }
    }
}

fn lines_of(stream: impl std::io::Read + Send + 'static) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A child process whose output is read as lines.
pub(crate) struct Running {
    child: Option<Child>,
    stdout: mpsc::UnboundedReceiver<String>,
    stderr: mpsc::UnboundedReceiver<String>,
    pub(crate) seen_stdout: Vec<String>,
    pub(crate) seen_stderr: Vec<String>,
}

impl Running {
    /// Waits for a stdout line matching `wanted`; returns it.
    pub(crate) async fn stdout_line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            let line = tokio::time::timeout(WAIT, self.stdout.recv()).await;
            match line {
                Ok(Some(line)) => {
                    self.seen_stdout.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Ok(None) => {
                    let stderr = self.drain_stderr();
                    panic!("stdout ended; seen {:?}, stderr {stderr:?}", self.seen_stdout)
                }
                Err(_) => {
                    let stderr = self.drain_stderr();
                    panic!("timed out; stdout {:?}, stderr {stderr:?}", self.seen_stdout)
                }
            }
        }
    }

    /// Waits for a stderr line matching `wanted`; returns it.
    pub(crate) async fn stderr_line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            let line = tokio::time::timeout(WAIT, self.stderr.recv()).await;
            match line {
                Ok(Some(line)) => {
                    self.seen_stderr.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Ok(None) => panic!("stderr ended; seen {:?}, stdout {:?}", self.seen_stderr, self.seen_stdout),
                Err(_) => panic!("timed out; stderr {:?}, stdout {:?}", self.seen_stderr, self.seen_stdout),
            }
        }
    }

    fn drain_stderr(&mut self) -> Vec<String> {
        while let Ok(line) = self.stderr.try_recv() {
            self.seen_stderr.push(line);
        }
        self.seen_stderr.clone()
    }

    /// Waits for the process to exit by itself; returns its exit code.
    pub(crate) async fn exit_code(mut self) -> Option<i32> {
        let mut child = self.child.take().expect("the process was started");
        let status = tokio::time::timeout(WAIT, tokio::task::spawn_blocking(move || child.wait()))
            .await
            .expect("the process exits in time")
            .expect("wait thread")
            .expect("wait works");
        status.code()
    }

    /// Everything printed to stdout so far, after giving the process a
    /// moment to flush what is in flight.
    pub(crate) async fn stdout_so_far(&mut self, settle: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + settle;
        while let Ok(Some(line)) = tokio::time::timeout_at(deadline, self.stdout.recv()).await {
            self.seen_stdout.push(line);
        }
        self.seen_stdout.clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Ends a process a failed test left running.
        if let Some(child) = &mut self.child {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
pub(crate) fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        stdout(output),
        stderr(output)
    );
}

#[track_caller]
pub(crate) fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "stdout: {}\nstderr: {}", stdout(output), stderr(output));
}
