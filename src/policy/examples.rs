//! The example policies of `policies/`, built into the binary so that `sandgen new NAME
//! --from EXAMPLE` works from any installed copy, and the one edit `new` makes to a copy:
//! its `[service] name`, written with toml_edit so that the comments that explain every
//! setting stay where they are.

use toml_edit::{DocumentMut, Item, Table};

/// One example policy: its name (the file stem in `policies/`) and its text.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    /// The name `--from` takes: `policies/NAME.toml`.
    pub name: &'static str,
    /// The policy file as it is in the repository.
    pub text: &'static str,
}

macro_rules! examples {
    ($($name:literal),* $(,)?) => {
        /// Every policy in `policies/`, by name (a test checks the list matches the directory).
        pub const EXAMPLES: &[Example] = &[
            $(Example {
                name: $name,
                text: include_str!(concat!("../../policies/", $name, ".toml")),
            }),*
        ];
    };
}

examples!(
    "apparmor-confined",
    "busybox-container",
    "busybox-container-1",
    "busybox-container-2",
    "cpuset-heat-a",
    "cpuset-heat-b",
    "etc-backup",
    "heat",
    "io-limited",
    "localhost-only",
    "low-port-httpd",
    "memhog",
    "net-admin-ambient",
    "no-net-admin",
    "offline-worker",
    "seccomp-strict",
    "static-web",
    "tmp-clean",
);

impl Example {
    /// The example called `name`.
    pub fn named(name: &str) -> Option<Example> {
        EXAMPLES.iter().copied().find(|e| e.name == name)
    }

    /// Its one-line description: the first line of its header comment, `# NAME: what it is`.
    pub fn description(&self) -> &'static str {
        let first = self.text.lines().next().unwrap_or_default();
        let line = first.trim_start_matches('#').trim();
        line.strip_prefix(self.name)
            .and_then(|rest| rest.strip_prefix(':'))
            .map_or(line, str::trim)
    }
}

/// A policy text could not be renamed.
#[derive(Debug, thiserror::Error)]
pub enum RenameError {
    /// It is not TOML.
    #[error("{source_name} is not TOML: {message}")]
    NotToml {
        /// The file (or example) it came from.
        source_name: String,
        /// What the TOML parser said.
        message: String,
    },
    /// Its `[service]` is not a table.
    #[error("{0}: `service` is not a table")]
    ServiceNotATable(String),
}

/// `text` with `[service] name = "NAME"`: the key replaced where it is, or added to
/// `[service]` (created if missing). Everything else, comments included, is kept.
pub fn with_service_name(text: &str, source_name: &str, name: &str) -> Result<String, RenameError> {
    let mut doc: DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| RenameError::NotToml {
                source_name: source_name.to_owned(),
                message: e.message().to_owned(),
            })?;
    let service = doc
        .entry("service")
        .or_insert_with(|| Item::Table(Table::new()));
    let Some(table) = service.as_table_like_mut() else {
        return Err(RenameError::ServiceNotATable(source_name.to_owned()));
    };
    match table.get_mut("name") {
        Some(item) => {
            // Keep the comment and spacing around the old value.
            let decor = item.as_value().map(|v| v.decor().clone());
            *item = toml_edit::value(name);
            if let (Some(decor), Some(v)) = (decor, item.as_value_mut()) {
                *v.decor_mut() = decor;
            }
        }
        None => {
            table.insert("name", toml_edit::value(name));
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_examples_are_the_policies_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("policies/")
            .filter_map(|e| {
                let name = e.ok()?.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".toml").map(str::to_owned)
            })
            .collect();
        on_disk.sort();
        let built_in: Vec<&str> = EXAMPLES.iter().map(|e| e.name).collect();
        assert_eq!(
            built_in, on_disk,
            "add the new policy to examples! in src/policy/examples.rs"
        );
        for e in EXAMPLES {
            let file = std::fs::read_to_string(dir.join(format!("{}.toml", e.name))).expect("read");
            assert_eq!(e.text, file, "{}", e.name);
            let d = e.description();
            assert!(
                !d.is_empty() && !d.starts_with('#') && d.len() < 100,
                "policies/{}.toml: its first line is `# {}: what it is`, got {d:?}",
                e.name,
                e.name
            );
        }
    }

    #[test]
    fn descriptions_come_from_the_header_line() {
        let heat = Example::named("heat").expect("heat");
        assert_eq!(
            heat.description(),
            "a CPU heater run as a tightly sandboxed service."
        );
        assert!(Example::named("nope").is_none());
    }

    #[test]
    fn renaming_keeps_comments_and_replaces_or_adds_the_name() {
        let text = "# header\n[service]\n# the command\nexec = [\"/bin/true\"]\n\n[resources]\nmemory_max = \"1M\" # small\n";
        let renamed = with_service_name(text, "t.toml", "web").expect("renamed");
        assert_eq!(
            renamed,
            "# header\n[service]\n# the command\nexec = [\"/bin/true\"]\nname = \"web\"\n\n[resources]\nmemory_max = \"1M\" # small\n"
        );
        let again = with_service_name(&renamed, "t.toml", "api").expect("renamed");
        assert_eq!(again, renamed.replace("\"web\"", "\"api\""));
        let bare = with_service_name("", "e.toml", "x").expect("renamed");
        assert_eq!(bare, "[service]\nname = \"x\"\n");
        let err = with_service_name("service = 1\n", "s.toml", "x").expect_err("not a table");
        assert_eq!(err.to_string(), "s.toml: `service` is not a table");
        let err = with_service_name("[service\n", "b.toml", "x").expect_err("not toml");
        assert!(err.to_string().starts_with("b.toml is not TOML: "), "{err}");
    }
}
