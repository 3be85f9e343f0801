//! The command line.

use chat_api::{RoomName, UserName};
use chat_client::ServerUrl;
use clap::{Args, Parser, Subcommand};

/// Terminal client for bidirectional-chat.
#[derive(Debug, Parser)]
#[command(name = "bidirectional-chat-client", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// The server's base URL (https gives a TLS WebSocket).
    #[arg(long, global = true, env = "CHAT_SERVER", default_value = "http://localhost:3000", value_name = "URL")]
    pub(crate) server: ServerUrl,

    /// Act as this saved account (see `whoami`). Needed when several
    /// accounts are logged in to the server.
    #[arg(long, global = true, env = "CHAT_USER", value_name = "NAME")]
    pub(crate) user: Option<UserName>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create an account.
    Register {
        /// The username (3-32 of a-z, 0-9, '-', '_').
        #[arg(long)]
        username: String,
        /// A display name shown beside the username.
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of stdin instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Log in and save the token for this server and user (other accounts'
    /// tokens are kept).
    Login {
        /// The username.
        #[arg(long)]
        username: String,
        /// Read the password from the first line of stdin instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Revoke the token on the server and forget it (the `--user` account,
    /// or the only one logged in).
    Logout,
    /// Say which account commands act as on this server, and until when its
    /// token is valid.
    Whoami {
        #[command(flatten)]
        auth: TokenArg,
    },
    /// Chat interactively.
    Chat {
        /// Log in as this user (asks for the password).
        #[arg(long, conflicts_with = "token")]
        username: Option<UserName>,
        /// Use this token instead of logging in.
        #[arg(long, env = "CHAT_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// The room to join first.
        #[arg(long, default_value = "general", value_parser = room_name)]
        room: RoomName,
    },
    /// List the rooms.
    Rooms {
        #[command(flatten)]
        auth: TokenArg,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Send one message (the text, or stdin when no text is given).
    Send {
        #[command(flatten)]
        auth: TokenArg,
        /// The room to send to (`#room` works too).
        #[arg(long, value_parser = room_name)]
        room: RoomName,
        /// Create the room when it does not exist (otherwise that fails).
        #[arg(long)]
        create: bool,
        /// The message; several words are joined with spaces.
        text: Vec<String>,
    },
    /// Print a room's recent messages, oldest first.
    History {
        #[command(flatten)]
        auth: TokenArg,
        /// The room (`#room` works too); it must exist.
        #[arg(long, value_parser = room_name)]
        room: RoomName,
        /// How many messages.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Search messages, newest first: every word must appear, whole or as
    /// the start of a longer word.
    Search {
        #[command(flatten)]
        auth: TokenArg,
        /// Only this room (`#room` works too).
        #[arg(long, value_parser = room_name)]
        room: Option<RoomName>,
        /// How many results at most.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100))]
        limit: u32,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// What to look for; several words are joined with spaces.
        #[arg(required = true)]
        words: Vec<String>,
    },
    /// Print a room's messages and events as they arrive, until interrupted.
    Tail {
        #[command(flatten)]
        auth: TokenArg,
        /// The room (`#room` works too); it must exist.
        #[arg(long, value_parser = room_name)]
        room: RoomName,
        /// Print each notification as the JSON-RPC frame the server sent.
        #[arg(long)]
        json: bool,
    },
}

/// The token for scripted commands; without it the saved one is used.
#[derive(Debug, Args)]
pub(crate) struct TokenArg {
    /// Use this token instead of the saved one.
    #[arg(long, env = "CHAT_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
}

/// A room name, with or without the `#` of `/join #room`.
fn room_name(text: &str) -> Result<RoomName, String> {
    RoomName::parse(text.strip_prefix('#').unwrap_or(text)).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("bidirectional-chat-client").chain(args.iter().copied()))
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn server_is_global_and_normalised() {
        let cli = parse(&["rooms", "--server", "example.org:4000"]).unwrap();
        assert_eq!(cli.server.to_string(), "http://example.org:4000");
        assert!(parse(&["--server", "ftp://x", "rooms"]).is_err());
    }

    #[test]
    fn send_joins_words_and_validates_the_room() {
        let cli = parse(&["send", "--room", "general", "hello", "there"]).unwrap();
        match cli.command {
            Command::Send { room, text, .. } => {
                assert_eq!(room.as_str(), "general");
                assert_eq!(text, ["hello", "there"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["send", "--room", "no spaces allowed", "x"]).is_err());
        assert!(matches!(parse(&["send", "--room", "#Lobby", "x"]).unwrap().command,
            Command::Send { ref room, create: false, .. } if room.as_str() == "Lobby"));
        assert!(parse(&["history", "--room", "##x"]).is_err());
    }

    #[test]
    fn the_acting_user_is_global() {
        let cli = parse(&["history", "--room", "general", "--user", "carol"]).unwrap();
        assert_eq!(cli.user.as_ref().map(UserName::as_str), Some("carol"));
        let cli = parse(&["--user", "admin", "whoami"]).unwrap();
        assert_eq!(cli.user.as_ref().map(UserName::as_str), Some("admin"));
        assert!(parse(&["whoami", "--user", "not a name"]).is_err());
    }

    #[test]
    fn chat_takes_a_username_or_a_token_not_both() {
        assert!(parse(&["chat", "--username", "alice", "--token", "t"]).is_err());
        let cli = parse(&["chat"]).unwrap();
        assert!(matches!(cli.command, Command::Chat { ref room, .. } if room.as_str() == "general"));
        assert!(parse(&["chat", "--username", "a b"]).is_err());
    }

    #[test]
    fn search_needs_words_and_bounds_the_limit() {
        let cli = parse(&["search", "deploy", "plan", "--room", "#ops"]).unwrap();
        assert!(matches!(cli.command,
            Command::Search { ref words, room: Some(ref room), limit: 20, .. } if words.len() == 2 && room.as_str() == "ops"));
        assert!(parse(&["search"]).is_err());
        assert!(parse(&["search", "x", "--limit", "101"]).is_err());
    }

    #[test]
    fn history_limit_is_bounded() {
        assert!(parse(&["history", "--room", "general", "--limit", "0"]).is_err());
        let cli = parse(&["history", "--room", "general"]).unwrap();
        assert!(matches!(cli.command, Command::History { limit: 50, json: false, .. }));
    }
}
