//! Printing results: JSON, or an aligned table, and warnings on stderr.

use clap::Args;
use serde::Serialize;
use skillmeat_core::model::display::escaped;
use skillmeat_core::model::hash::ContentHash;

use crate::error::CommandError;

/// How a command prints its result: JSON for scripts with `--json`, else text for people. Every
/// command that prints a result takes this and prints through [`OutputArgs::emit`], so the
/// choice is made in one place and `--json` means the same everywhere: one JSON document on
/// stdout, warnings and progress on stderr.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct OutputArgs {
    /// Print machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl OutputArgs {
    /// Prints `value` as JSON with `--json`, else as `text` renders it.
    pub(crate) fn emit<T: Serialize>(
        &self,
        value: &T,
        text: impl FnOnce(&T),
    ) -> Result<(), CommandError> {
        if self.json {
            print_json(value)
        } else {
            text(value);
            Ok(())
        }
    }
}

impl OutputArgs {
    /// [`Self::emit`] for the commands that change tiers: the JSON carries the command's trace
    /// id (`trace_id`, the id its log lines and exported spans carry) on the document, or on
    /// each element when the document is a list, so a script can find what the run did.
    pub(crate) fn emit_traced<T: Serialize>(
        &self,
        value: &T,
        text: impl FnOnce(&T),
    ) -> Result<(), CommandError> {
        if !self.json {
            text(value);
            return Ok(());
        }
        let mut doc = serde_json::to_value(value)
            .map_err(|e| CommandError::failed(format!("cannot print JSON: {e}")))?;
        if let Some(id) = TRACE_ID.get() {
            let tag = |v: &mut serde_json::Value| {
                if let Some(object) = v.as_object_mut() {
                    object.insert("trace_id".to_owned(), id.as_str().into());
                }
            };
            match &mut doc {
                serde_json::Value::Array(items) => items.iter_mut().for_each(tag),
                other => tag(other),
            }
        }
        print_json(&doc)
    }
}

/// The trace this command runs in, once [`start_trace`] set it.
static TRACE_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Starts the command's trace on `span` and returns its id: under the caller's trace when
/// `TRACEPARENT` holds a W3C traceparent (the environment carrier of OpenTelemetry's
/// context propagation, which CI systems set), the exported span's trace when spans are
/// exported, else a new random id. Log lines inside `span` carry it as `trace_id`.
pub(crate) fn start_trace(span: &tracing::Span) -> String {
    let parent = std::env::var("TRACEPARENT")
        .ok()
        .and_then(|v| crate::api::trace::parse_traceparent(&v));
    let exported = crate::otel::link(span, parent.as_ref().map(|(t, s)| (&**t, &**s)));
    let id = match (exported, parent) {
        (Some((trace, _)), _) | (None, Some((trace, _))) => trace,
        (None, None) => crate::api::trace::new_trace_id(),
    };
    span.record("trace_id", tracing::field::display(&id));
    TRACE_ID.get_or_init(|| id).clone()
}

/// Writes `value` to stdout as it is serialised (a fleet's drift is megabytes of JSON: it is
/// not built in memory first). A reader that stops early (`| head`) ends the output quietly.
fn print_json<T: Serialize>(value: &T) -> Result<(), CommandError> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CommandError::failed(format!("cannot print JSON: {e}"))),
        Ok(()) => Ok(()),
    }
}

/// Prints rows as left-aligned columns under a header. Cells are escaped: a file name with a
/// newline or an ANSI escape cannot forge a row or recolour the terminal.
pub(crate) fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| escaped(c).into_owned()).collect())
        .collect();
    let rows = rows.as_slice();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    // The whole table in one write: stdout is line-buffered, and a write per row costs more
    // than the rest of a large table's printing.
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    line(&header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
    for row in rows {
        line(row);
    }
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
}

/// Prints warnings from an operation that succeeded, on stderr so JSON output stays clean.
pub(crate) fn print_warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A version as tables show it: its first 12 hex characters, or `-` when there is none.
pub fn short(hash: Option<ContentHash>) -> String {
    hash.map_or_else(|| "-".to_owned(), |h| h.short())
}
