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
    /// Log in and save the token for this server.
    Login {
        /// The username.
        #[arg(long)]
        username: String,
        /// Read the password from the first line of stdin instead of asking.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Forget the saved token for this server.
    Logout,
    /// Chat interactively.
    Chat {
        /// Log in as this user (asks for the password).
        #[arg(long, conflicts_with = "token")]
        username: Option<UserName>,
        /// Use this token instead of logging in.
        #[arg(long, env = "CHAT_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// The room to join first.
        #[arg(long, default_value = "general")]
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
        /// The room to send to.
        #[arg(long)]
        room: RoomName,
        /// The message; several words are joined with spaces.
        text: Vec<String>,
    },
    /// Print a room's recent messages, oldest first.
    History {
        #[command(flatten)]
        auth: TokenArg,
        /// The room.
        #[arg(long)]
        room: RoomName,
        /// How many messages.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        limit: u32,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Print a room's messages and events as they arrive, until interrupted.
    Tail {
        #[command(flatten)]
        auth: TokenArg,
        /// The room.
        #[arg(long)]
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
    }

    #[test]
    fn chat_takes_a_username_or_a_token_not_both() {
        assert!(parse(&["chat", "--username", "alice", "--token", "t"]).is_err());
        let cli = parse(&["chat"]).unwrap();
        assert!(matches!(cli.command, Command::Chat { ref room, .. } if room.as_str() == "general"));
        assert!(parse(&["chat", "--username", "a b"]).is_err());
    }

    #[test]
    fn history_limit_is_bounded() {
        assert!(parse(&["history", "--room", "general", "--limit", "0"]).is_err());
        let cli = parse(&["history", "--room", "general"]).unwrap();
        assert!(matches!(cli.command, Command::History { limit: 50, json: false, .. }));
    }
}
