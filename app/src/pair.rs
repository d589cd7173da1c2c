//! The pairs of tiers the artifact page compares and its sync dialog syncs.

/// A pair of tiers to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pair {
    /// Upstream ↔ collection.
    Uc,
    /// Collection ↔ project.
    Cp,
    /// Upstream ↔ project.
    Up,
}

impl Pair {
    pub const ALL: [Pair; 3] = [Pair::Uc, Pair::Cp, Pair::Up];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "uc" => Some(Self::Uc),
            "cp" => Some(Self::Cp),
            "up" => Some(Self::Up),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Uc => "uc",
            Self::Cp => "cp",
            Self::Up => "up",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Uc => "Upstream ↔ Collection",
            Self::Cp => "Collection ↔ Project",
            Self::Up => "Upstream ↔ Project",
        }
    }

    /// The diff's (lhs, rhs): the side it syncs from, then the side it syncs to.
    pub fn sides(self) -> (&'static str, &'static str) {
        match self {
            Self::Uc => ("upstream", "collection"),
            Self::Cp => ("collection", "project"),
            Self::Up => ("upstream", "project"),
        }
    }

    pub fn needs_project(self) -> bool {
        self != Self::Uc
    }
}
