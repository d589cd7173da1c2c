//! `skillmeat config`: the settings in `$SKILLMEAT_HOME/config.toml`, and their overrides.

use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use skillmeat_core::storage::config::{Config, KEYS};
use skillmeat_core::storage::home::Home;

use crate::cli::output::{OutputArgs, print_table};
use crate::error::CommandError;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Every setting: its value, where it came from (default, config.toml, environment), the
    /// variable that overrides it, and what it does.
    List(OutputArgs),
    /// One setting's value (as used now, overrides included).
    Get(ConfigGetArgs),
    /// Writes one setting into config.toml, keeping the rest of the file as it was. A value
    /// that does not fit the key is refused, and nothing is written.
    Set(ConfigSetArgs),
}

#[derive(Debug, Args)]
pub struct ConfigGetArgs {
    /// The setting, `table.key` (see `skillmeat config list`).
    pub key: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ConfigSetArgs {
    /// The setting, `table.key` (see `skillmeat config list`).
    pub key: String,
    /// Its new value (true/false, a number, or a name).
    pub value: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn failed(e: impl std::fmt::Display) -> CommandError {
    CommandError::failed(e.to_string())
        .with_hint("`skillmeat config list` shows every setting and the file it reads")
}

pub fn config(home: &Path, cmd: ConfigCommand) -> Result<ExitCode, CommandError> {
    let home = Home::new(home);
    match cmd {
        ConfigCommand::List(output) => {
            let settings = Config::list(&home).map_err(failed)?;
            output.emit(&settings, |settings| {
                let rows: Vec<Vec<String>> = settings
                    .iter()
                    .map(|s| {
                        vec![
                            s.key.to_owned(),
                            s.value.clone(),
                            s.source.to_string(),
                            s.env.clone(),
                            s.help.to_owned(),
                        ]
                    })
                    .collect();
                print_table(&["KEY", "VALUE", "FROM", "OVERRIDE", "WHAT IT DOES"], &rows);
                println!("File: {}", Config::path(&home).display());
            })?;
        }
        ConfigCommand::Get(args) => {
            let config = Config::load(&home).map_err(failed)?;
            let value = config.get(&args.key).map_err(failed)?;
            args.output.emit(
                &serde_json::json!({ "key": args.key, "value": value }),
                |_| println!("{value}"),
            )?;
        }
        ConfigCommand::Set(args) => {
            let config = Config::set(&home, &args.key, &args.value).map_err(failed)?;
            let value = config.get(&args.key).map_err(failed)?;
            let overridden = KEYS
                .iter()
                .find(|k| k.name == args.key)
                .map(|k| k.env())
                .filter(|env| std::env::var_os(env).is_some());
            args.output.emit(
                &serde_json::json!({ "key": args.key, "value": value, "overridden_by": overridden }),
                |_| {
                    println!("{} = {value} (in {})", args.key, Config::path(&home).display());
                    if let Some(env) = &overridden {
                        println!("note: ${env} is set and wins over the file while it is");
                    }
                },
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
