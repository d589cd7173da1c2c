//! `skillmeat init`: the home and the `default` collection.

use std::path::Path;
use std::process::ExitCode;

use skillmeat_core::storage::home::{DEFAULT_COLLECTION, Home};

use crate::cli::output::OutputArgs;
use crate::error::CommandError;

pub fn init(home: &Path, out: OutputArgs) -> Result<ExitCode, CommandError> {
    let dir = Home::new(home)
        .collection_dir(DEFAULT_COLLECTION)
        .map_err(|e| CommandError::failed(e.to_string()))?;
    for d in [dir.clone(), home.join("cache")] {
        std::fs::create_dir_all(&d)
            .map_err(|e| CommandError::failed(format!("cannot create {}: {e}", d.display())))?;
    }
    out.emit(
        &serde_json::json!({ "home": home, "collection": dir }),
        |_| {
            println!("SkillMeat home ready at {}", home.display());
            println!("Default collection: {}", dir.display());
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
