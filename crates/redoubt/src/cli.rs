//! The command line, matching `node-red`'s:
//! `redoubt [-p PORT] [-u DIR] [-s FILE] [-D key=value]... [--safe] [FLOWS_FILE]`,
//! plus `redoubt admin <command>` (see [`crate::admin`]).

use crate::admin::AdminCommand;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// A Node-RED-compatible flow runtime, secure by default.
#[derive(Debug, Parser)]
#[command(name = "redoubt", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub(crate) struct Args {
    /// A command instead of running the runtime.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    /// Port to listen on (overrides uiPort in settings).
    #[arg(short = 'p', long = "port")]
    pub(crate) port: Option<u16>,

    /// User directory (default: ~/.redoubt).
    #[arg(short = 'u', long = "userDir", visible_alias = "userdir")]
    pub(crate) user_dir: Option<PathBuf>,

    /// Settings file (default: settings.js in the user directory).
    #[arg(short = 's', long = "settings")]
    pub(crate) settings: Option<PathBuf>,

    /// Override a setting: -D key=value (dotted keys, JSON values accepted).
    #[arg(short = 'D', long = "define", value_name = "KEY=VALUE")]
    pub(crate) define: Vec<String>,

    /// Start without running the flows (they are loaded, not started).
    #[arg(long = "safe")]
    pub(crate) safe: bool,

    /// Directory of the Node-RED editor assets (holding editor-client/ and
    /// nodes/); default: $REDOUBT_EDITOR_ASSETS, then the fetched cache.
    #[arg(long = "editor-assets", value_name = "DIR")]
    pub(crate) editor_assets: Option<PathBuf>,

    /// Enable verbose output.
    #[arg(short = 'v', long = "verbose")]
    pub(crate) verbose: bool,

    /// The flow file to use (relative to the user directory unless it exists in the working directory).
    #[arg(value_name = "FLOWS_FILE")]
    pub(crate) flows_file: Option<PathBuf>,
}

/// Commands besides running flows.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Administration: hash-pw, init, gen-cert, rotate-credential-secret.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
}

/// Splits `key=value`; the value is JSON when it parses as JSON, else a string.
pub(crate) fn parse_define(d: &str) -> Result<(String, serde_json::Value), String> {
    let (k, v) = d
        .split_once('=')
        .ok_or_else(|| format!("-D {d:?}: expected key=value"))?;
    if k.is_empty() {
        return Err(format!("-D {d:?}: empty key"));
    }
    let value =
        serde_json::from_str(v).unwrap_or_else(|_| serde_json::Value::String(v.to_string()));
    Ok((k.to_string(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defines_parse_json_or_text() {
        assert_eq!(
            parse_define("a.b=5").expect("ok"),
            ("a.b".into(), serde_json::json!(5))
        );
        assert_eq!(
            parse_define("x=hello").expect("ok"),
            ("x".into(), serde_json::json!("hello"))
        );
        assert!(parse_define("novalue").is_err());
    }

    #[test]
    fn command_line_matches_node_red() {
        let a = Args::parse_from([
            "redoubt", "-p", "1881", "-u", "/tmp/u", "-D", "x=1", "--safe", "my.json",
        ]);
        assert_eq!(a.port, Some(1881));
        assert_eq!(a.user_dir, Some(PathBuf::from("/tmp/u")));
        assert!(a.safe);
        assert_eq!(a.flows_file, Some(PathBuf::from("my.json")));
    }
}
