//! Small text helpers shared by pages and components: names, sizes, durations, query values.
//!
//! A leaf: it imports nothing of this crate, so any page or component can use it without
//! importing another page.

/// A project's folder name, from its path.
pub fn base_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned())
}

/// The first 12 characters of a version hash or commit id, as the UI shows them (by chars:
/// never a panic on a short or odd string).
pub fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}

/// A byte count for people: `812 bytes`, `3.4 KB`, `1.2 MB` (one decimal, rounded half up).
///
/// Integer arithmetic only: formatting an `f64` would pull Rust's float printing (tens of KB)
/// into the wasm bundle for three call sites.
pub fn human_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    let (scale, unit) = match bytes {
        b if b >= MB => (MB, "MB"),
        b if b >= KB => (KB, "KB"),
        b => return format!("{b} bytes"),
    };
    // Rounded tenths of `scale`, without overflow: whole units, then the rest.
    let tenths = bytes / scale * 10 + (bytes % scale * 10 + scale / 2) / scale;
    format!("{}.{} {unit}", tenths / 10, tenths % 10)
}

/// Milliseconds with one decimal (`0.4`, `12.0`), without float formatting (see [`human_size`]).
pub fn millis(ms: f64) -> String {
    // Saturating cast: NaN and negatives become 0, which a duration never is anyway.
    let tenths = (ms * 10.0).round() as u64;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// An age as people say it: `45 s`, `12 min`, `5 h`, `9 d` (whole units, rounded down).
pub fn age(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s} s"),
        s if s < 3_600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h", s / 3_600),
        s => format!("{} d", s / 86_400),
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_the_float_formatting_they_replace() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(1024), "1.0 KB");
        assert_eq!(human_size(1536), "1.5 KB");
        // 1.04 KB rounds down, 1.05 up; the largest KB value rounds to 1024.0, not "1.0 MB".
        assert_eq!(human_size(1065), "1.0 KB");
        assert_eq!(human_size(1076), "1.1 KB");
        assert_eq!(human_size(1024 * 1024 - 1), "1024.0 KB");
        assert_eq!(human_size(5 * 1024 * 1024 + 300 * 1024), "5.3 MB");
        assert_eq!(human_size(u64::MAX), "17592186044416.0 MB");
    }

    #[test]
    fn milliseconds_keep_one_decimal() {
        assert_eq!(millis(0.0), "0.0");
        assert_eq!(millis(0.44), "0.4");
        assert_eq!(millis(0.46), "0.5");
        assert_eq!(millis(12.0), "12.0");
        assert_eq!(millis(f64::NAN), "0.0");
    }
}
