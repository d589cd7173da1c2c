//! The model: what SkillMeat's things are, with no storage behind them.
//!
//! Nothing here touches `$SKILLMEAT_HOME`, a database or a repository; the layers above build on
//! these types, and this layer imports none of them.

pub mod artifact;
pub mod display;
pub mod error;
pub mod files;
pub mod fragment;
pub mod hash;
pub mod marketplace;
pub mod time;
pub mod upstream;
