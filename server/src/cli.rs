//! Command-line interface: argument parsing, home resolution and dispatch.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::error::CommandError;
use crate::serve::{self, ServeOptions};

/// Keep Claude Code skills, commands and agents in sync across an upstream git repository, your
/// collection and your projects' .claude/ folders.
///
/// Every artifact lives in three tiers: upstream (a git repository, optionally pinned to a tag or
/// commit), your collection (under $SKILLMEAT_HOME), and the projects you deploy it to. SkillMeat
/// tracks every version it sees, tells you what drifted, and merges with the real common ancestor.
#[derive(Debug, Parser)]
#[command(
    name = "skillmeat",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Where SkillMeat keeps collections, the version store and its database.
    ///
    /// Defaults to $SKILLMEAT_HOME, then ~/.skillmeat.
    #[arg(long, global = true, value_name = "DIR", env = "SKILLMEAT_HOME")]
    pub home: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web UI and API server.
    ///
    /// Binds to 127.0.0.1 unless told otherwise and prints the URL to open. Stop it with Ctrl-C.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything other than a loopback address exposes your home to the
    /// network.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST), value_name = "IP")]
    pub host: IpAddr,

    /// Port to listen on; 0 picks a free one (the printed URL shows which).
    #[arg(long, short, default_value_t = 3750, env = "SKILLMEAT_PORT")]
    pub port: u16,

    /// Folder holding the built web bundle (pkg/skillmeat.js, .wasm, .css and public files).
    ///
    /// Defaults to `site` beside the folder of the skillmeat executable, which is where
    /// `make build` (cargo leptos build) puts it.
    #[arg(long, value_name = "DIR", env = "SKILLMEAT_SITE_ROOT")]
    pub site_root: Option<PathBuf>,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout with exit 0, usage errors to stderr with 2.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_tracing();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{e}");
            e.exit_code()
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("SKILLMEAT_LOG")
        .unwrap_or_else(|_| EnvFilter::new("warn,skillmeat=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn run(cli: Cli) -> Result<(), CommandError> {
    let home = resolve_home(cli.global.home)?;
    match cli.command {
        Command::Serve(args) => {
            let site_root = match args.site_root {
                Some(dir) => dir,
                None => default_site_root()?,
            };
            serve::run(ServeOptions {
                home,
                host: args.host,
                port: args.port,
                site_root,
            })
        }
    }
}

/// `--home`/`$SKILLMEAT_HOME` if given, else `~/.skillmeat`.
fn resolve_home(given: Option<PathBuf>) -> Result<PathBuf, CommandError> {
    if let Some(home) = given.filter(|p| !p.as_os_str().is_empty()) {
        return Ok(home);
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(user_home) => Ok(PathBuf::from(user_home).join(".skillmeat")),
        None => Err(CommandError::usage(
            "cannot tell where the SkillMeat home is: $HOME is not set",
        )
        .with_hint("pass --home DIR or set SKILLMEAT_HOME")),
    }
}

fn default_site_root() -> Result<PathBuf, CommandError> {
    let exe = std::env::current_exe()
        .map_err(|e| CommandError::failed(format!("cannot find the skillmeat executable: {e}")))?;
    // cargo-leptos puts the binary in target/<profile>/ and the bundle in target/site/.
    let bin_dir = exe.parent().map(PathBuf::from).unwrap_or_default();
    let beside_parent = bin_dir.parent().map(|p| p.join("site"));
    Ok(beside_parent
        .filter(|p| p.is_dir())
        .unwrap_or_else(|| bin_dir.join("site")))
}
