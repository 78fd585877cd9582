//! Writing policy text in tests.

/// A TOML basic string holding exactly `s` (TOML 1.0 "String": `"` and `\` escaped,
/// control characters as `\uXXXX`).
pub fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
