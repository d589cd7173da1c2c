//! The CLI's one error type: sorts failures into exit codes and carries a hint for the user.

use std::fmt;
use std::process::ExitCode;

/// How a command failed, which decides its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Something went wrong doing what was asked (exit 1).
    Failed,
    /// The command line itself was wrong (exit 2).
    Usage,
}

/// A failed command: what went wrong, and optionally what to do about it.
#[derive(Debug)]
pub struct CommandError {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
}

impl CommandError {
    /// A failure doing what was asked.
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Failed,
            message: message.into(),
            hint: None,
        }
    }

    /// A wrong command line.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Usage,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds a hint saying what the user can do.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self.kind {
            ErrorKind::Failed => ExitCode::from(1),
            ErrorKind::Usage => ExitCode::from(2),
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}
