//! `skillmeat init`: the home and the `default` collection.

use std::path::Path;
use std::process::ExitCode;

use skillmeat_core::storage::home::{DEFAULT_COLLECTION, Home};

use crate::cli::output::print_json;
use crate::error::CommandError;

pub fn init(home: &Path, json: bool) -> Result<ExitCode, CommandError> {
    let dir = Home::new(home)
        .collection_dir(DEFAULT_COLLECTION)
        .map_err(|e| CommandError::failed(e.to_string()))?;
    for d in [dir.clone(), home.join("cache")] {
        std::fs::create_dir_all(&d)
            .map_err(|e| CommandError::failed(format!("cannot create {}: {e}", d.display())))?;
    }
    if json {
        print_json(&serde_json::json!({ "home": home, "collection": dir }))?;
    } else {
        println!("SkillMeat home ready at {}", home.display());
        println!("Default collection: {}", dir.display());
    }
    Ok(ExitCode::SUCCESS)
}
