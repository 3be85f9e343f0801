//! `register`, `login`, `logout`.

use expectrl::Expect;

use crate::{
    pty::{self, Terminal, expect, expect_exit},
    support::{Cli, TestServer, WAIT, assert_exit, assert_success, stderr, stdout},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_creates_an_account_that_can_log_in() {
    let server = TestServer::spawn().await;
    let cli = Cli::new(&server);
    let output = cli
        .run(&["register", "--username", "carol", "--display-name", "Carol C.", "--password-stdin"], "correct horse\n")
        .await;
    assert_success(&output);
    assert!(stdout(&output).contains("Registered carol"), "{}", stdout(&output));
    cli.login("carol", "correct horse").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_prompts_ask_again_until_the_answer_will_do() {
    let server = TestServer::spawn().await;
    let cli = Cli::new(&server);
    let scenario = tokio::task::spawn_blocking(move || {
        let mut register = pty::spawn(&cli, &["register", "--username", "erin"]);
        let mut shown = converse(
            &mut register,
            &[
                ("Password", Some("short")),
                ("a password has 8 to 1024 bytes", None),
                ("Password", Some("erin-secret")),
                ("Repeat password", Some("erin-secrte")),
                ("The passwords do not match", None),
                ("Password", Some("erin-secret")),
                ("Repeat password", Some("erin-secret")),
                ("Registered erin", None),
            ],
        );
        // An empty password is not taken: the prompt comes back.
        let mut login = pty::spawn(&cli, &["login", "--username", "erin"]);
        shown += &converse(&mut login, &[("Password", Some("")), ("Password", Some("erin-secret")), ("as erin", None)]);
        (shown, exit_status(register), exit_status(login))
    });
    let (shown, register, login) =
        tokio::time::timeout(WAIT * 2, scenario).await.expect("the scenario finishes").expect("no panic");
    assert!(!shown.contains("secr"), "a password was echoed: {shown:?}");
    assert!(register.ends_with(", 0)"), "{register}");
    assert!(login.ends_with(", 0)"), "{login}");
}

/// Waits for each text in turn, typing the line paired with it (if any) as
/// soon as it shows; returns all that was shown.
fn converse(terminal: &mut Terminal, steps: &[(&str, Option<&str>)]) -> String {
    let mut shown = String::new();
    for (text, typed) in steps {
        shown += &expect(terminal, "the client", text);
        if let Some(typed) = typed {
            terminal.send(format!("{typed}\r")).unwrap();
        }
    }
    shown
}

fn exit_status(mut terminal: Terminal) -> String {
    expect_exit(&mut terminal, "the client");
    format!("{:?}", terminal.get_process().wait().expect("the client's exit status"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_reports_the_servers_reason_and_fails() {
    let server = TestServer::spawn().await;
    let cli = Cli::new(&server);

    let taken = cli.run(&["register", "--username", "alice", "--password-stdin"], "whatever123\n").await;
    assert_exit(&taken, 4);
    assert!(stderr(&taken).to_lowercase().contains("taken"), "{}", stderr(&taken));

    let invalid = cli.run(&["register", "--username", "no spaces", "--password-stdin"], "whatever123\n").await;
    assert_exit(&invalid, 4);
    assert!(stderr(&invalid).contains("username"), "{}", stderr(&invalid));

    let short = cli.run(&["register", "--username", "dave", "--password-stdin"], "short\n").await;
    assert_exit(&short, 4);
    assert!(stderr(&short).contains("password"), "{}", stderr(&short));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_saves_a_private_token_and_logout_forgets_it() {
    let server = TestServer::spawn().await;
    let cli = Cli::new(&server);
    let output = cli.run(&["login", "--username", "alice", "--password-stdin"], "alice123\n").await;
    assert_success(&output);
    let said = stdout(&output);
    assert!(said.contains("as alice"), "{said}");

    let servers: Vec<_> =
        std::fs::read_dir(cli.config_dir().join("tokens")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(servers.len(), 1);
    let tokens: Vec<_> = std::fs::read_dir(&servers[0]).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(tokens.len(), 1);
    assert!(tokens[0].ends_with("alice.json"), "{}", tokens[0].display());
    assert!(said.contains(&tokens[0].display().to_string()), "says where: {said}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&tokens[0]).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // The saved token works for scripted commands.
    assert_success(&cli.run(&["rooms"], "").await);

    let output = cli.run(&["logout"], "").await;
    assert_success(&output);
    assert!(stdout(&output).contains("alice"), "{}", stdout(&output));
    let rooms = cli.run(&["rooms"], "").await;
    assert_exit(&rooms, 3);
    assert!(stderr(&rooms).contains("login"), "{}", stderr(&rooms));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_fails_with_the_authentication_exit_code() {
    let server = TestServer::spawn().await;
    let cli = Cli::new(&server);
    let output = cli.run(&["login", "--username", "alice", "--password-stdin"], "not-her-password\n").await;
    assert_exit(&output, 3);
    assert!(!stderr(&output).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_that_need_a_prompt_fail_without_a_terminal() {
    let server = TestServer::spawn().await;
    let cli = Cli::new(&server);

    let register = cli.run(&["register", "--username", "erin"], "").await;
    assert_exit(&register, 2);
    assert!(stderr(&register).contains("--password-stdin"), "{}", stderr(&register));

    let chat = cli.run(&["chat"], "").await;
    assert_exit(&chat, 2);
    assert!(stderr(&chat).contains("--token"), "{}", stderr(&chat));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_has_its_own_exit_code() {
    // Bind and drop a listener to find a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cli = Cli::for_url(&format!("http://127.0.0.1:{port}"));
    let output = cli.run(&["login", "--username", "alice", "--password-stdin"], "alice123\n").await;
    assert_exit(&output, 6);
    assert!(stderr(&output).contains("cannot reach"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_account_keeps_its_token_and_scripts_never_act_as_someone_else() {
    let server = TestServer::spawn().await;
    let cli = Cli::new(&server);
    assert_success(&cli.run(&["register", "--username", "carol", "--password-stdin"], "carol-secret\n").await);
    cli.login("carol", "carol-secret").await;
    cli.login("moderator", "mod123").await;
    cli.login("admin", "admin123").await;

    // Three accounts: a command without --user refuses and lists them.
    let unsure = cli.run(&["send", "--room", "general", "who am I?"], "").await;
    assert_exit(&unsure, 2);
    assert!(
        stderr(&unsure).contains("admin, carol, moderator") && stderr(&unsure).contains("--user"),
        "{}",
        stderr(&unsure)
    );
    let whoami = cli.run(&["whoami"], "").await;
    assert_exit(&whoami, 2);

    // With --user (or CHAT_USER) it acts as that account, and says so.
    let sent = cli.run(&["--user", "carol", "send", "--room", "general", "from carol"], "").await;
    assert_success(&sent);
    assert!(stderr(&sent).contains("as carol"), "{}", stderr(&sent));
    let whoami = cli.run(&["whoami", "--user", "carol"], "").await;
    assert_success(&whoami);
    let said = stdout(&whoami);
    assert!(said.contains("carol (user) on http://") && said.contains("valid until"), "{said}");
    let mut command = cli.command();
    command.args(["whoami"]).env("CHAT_USER", "moderator");
    let by_env = command.output().unwrap();
    assert!(String::from_utf8_lossy(&by_env.stdout).contains("moderator (moderator)"), "{by_env:?}");

    let history = cli.run(&["history", "--room", "general", "--user", "carol"], "").await;
    let text = stdout(&history);
    assert!(text.contains("<carol> from carol") && !text.contains("<admin> from carol"), "{text}");

    // Logging one account out leaves the others.
    assert_success(&cli.run(&["logout", "--user", "admin"], "").await);
    assert_exit(&cli.run(&["whoami", "--user", "admin"], "").await, 3);
    assert_success(&cli.run(&["whoami", "--user", "moderator"], "").await);
    assert_success(&cli.run(&["logout", "--user", "moderator"], "").await);
    // One account left: it is the one, unambiguously.
    let whoami = cli.run(&["whoami"], "").await;
    assert!(stdout(&whoami).starts_with("carol (user)"), "{}", stdout(&whoami));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_without_the_server_removes_the_token_locally_and_says_so() {
    let server = TestServer::spawn().await;
    let cli = Cli::new(&server);
    cli.login("alice", "alice123").await;
    server.stop().await;
    let output = cli.run(&["logout"], "").await;
    assert_success(&output);
    assert!(stderr(&output).contains("removed locally only"), "{}", stderr(&output));
    assert_exit(&cli.run(&["whoami"], "").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_token_on_the_server() {
    let server = TestServer::spawn().await;
    let cli = Cli::new(&server);
    cli.login("alice", "alice123").await;
    let saved = saved_tokens(&cli);
    assert_eq!(saved.len(), 1);
    let token = saved[0]["token"].as_str().unwrap().to_owned();

    let output = cli.run(&["logout"], "").await;
    assert_success(&output);
    assert!(stdout(&output).contains("revoked"), "{}", stdout(&output));
    assert!(saved_tokens(&cli).is_empty());

    let url = chat_client::ServerUrl::parse(&server.url).unwrap();
    let again = chat_client::Session::connect(url, token, chat_client::SessionOptions::default()).await;
    assert!(matches!(again, Err(chat_client::ConnectError::TokenRejected)), "{:?}", again.map(|_| ()));
}

/// The saved token files of `cli`, parsed.
fn saved_tokens(cli: &Cli) -> Vec<serde_json::Value> {
    let mut found = Vec::new();
    let Ok(servers) = std::fs::read_dir(cli.config_dir().join("tokens")) else { return found };
    for server in servers {
        for file in std::fs::read_dir(server.unwrap().path()).unwrap() {
            let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
            found.push(serde_json::from_str(&text).unwrap());
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_with_user_uses_that_accounts_saved_token() {
    let server = TestServer::spawn().await;
    let cli = Cli::new(&server);
    cli.login("alice", "alice123").await;
    cli.login("moderator", "mod123").await;
    let scenario = tokio::task::spawn_blocking(move || {
        let mut chat = pty::spawn(&cli, &["--user", "alice", "chat"]);
        // Straight in, without a menu, as alice rather than the moderator.
        expect(&mut chat, "the client", "as alice (user)");
        expect(&mut chat, "the client", "joined #general");
        chat.send("/quit\r").unwrap();
        exit_status(chat)
    });
    let status = tokio::time::timeout(WAIT * 2, scenario).await.expect("the scenario finishes").expect("no panic");
    assert!(status.ends_with(", 0)"), "{status}");
}
