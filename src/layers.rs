//! The layering of the crate, checked: imports only point down. The HTTP API sits
//! on the domain (accounts, content, webhooks), the domain on the shared state and `auth`,
//! and those on the leaves (errors, settings, the clock, wire formats). A test
//! reads every file under `src/` and fails when one names a module of its own
//! layer or above through `crate::` (test modules are exempt: they may drive the
//! whole app). A new top-level module must be given a layer here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each top-level module's layer: a module may import only modules of a lower
/// layer, except the [`SIBLINGS`] of one layer (the domain's).
const LAYERS: &[(&str, u8)] = &[
    ("clock", 0),
    ("demo", 0),
    ("digest", 0),
    ("etag", 0),
    ("client", 0),
    ("memory", 0),
    ("request_id", 0),
    ("site", 0),
    ("telemetry", 0),
    ("wire", 0),
    ("nullable", 1),
    ("config", 1),
    ("error", 1),
    ("auth", 2),
    ("media", 2),
    ("cors", 2),
    ("edge", 2),
    ("methods", 2),
    ("head", 3),
    ("metrics", 3),
    ("connections", 4),
    ("state", 3),
    ("accounts", 4),
    ("content", 4),
    ("webhooks", 4),
    ("api", 5),
    ("cache", 5),
    ("docs", 5),
    ("seed", 5),
    ("startup", 6),
    ("cli", 7),
    ("main", 8),
    ("lib", 8),
];

/// The pairs of one layer where the first may import the second: `accounts` and
/// `content` each other; `webhooks` the events, pages and texts of `content`, which
/// never names it.
const SIBLINGS: &[(&str, &str)] = &[
    ("accounts", "content"),
    ("content", "accounts"),
    ("webhooks", "content"),
];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `source` without line comments and without `#[cfg(test)]` modules.
fn production_code(source: &str) -> String {
    let mut code = String::new();
    let mut rest = source;
    while let Some(at) = rest.find("#[cfg(test)]") {
        code.push_str(&rest[..at]);
        let after = &rest[at..];
        // Skip the attributed item: up to its matching closing brace (or `;`).
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, c) in after.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    code.push_str(rest);
    code.lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules `code` names through `crate::` (`crate::x::…` and
/// `crate::{x, y::…}`).
fn named_modules(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.trim()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.insert(ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            names.insert(ident(&item));
        } else {
            let name = ident(rest);
            // `crate::name!` is a macro exported at the root, not a module.
            if !rest[name.len()..].starts_with('!') {
                names.insert(name);
            }
        }
    }
    names.retain(|n| !n.is_empty() && n != "self");
    names
}

/// Every import of `src/` that points sideways or up, as `file: module -> module`.
fn upward_imports(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("under src/");
        if relative == Path::new("layers.rs") {
            continue;
        }
        let first = relative.components().next().expect("a path");
        let module = first.as_os_str().to_string_lossy();
        let module = module.trim_end_matches(".rs").to_string();
        let source = std::fs::read_to_string(&file).expect("a readable source file");
        let Some(own) = layer(&module) else {
            found.push(format!(
                "{}: `{module}` has no layer in src/layers.rs",
                file.display()
            ));
            continue;
        };
        for named in named_modules(&production_code(&source)) {
            if named == module || SIBLINGS.contains(&(module.as_str(), named.as_str())) {
                continue;
            }
            match layer(&named) {
                Some(theirs) if theirs < own => {}
                _ => found.push(format!("{}: {module} -> {named}", file.display())),
            }
        }
    }
    found
}

#[test]
fn imports_only_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let upward = upward_imports(&src);
    assert!(
        upward.is_empty(),
        "imports that point sideways or up (see src/layers.rs):\n{}",
        upward.join("\n")
    );
}

#[test]
fn the_scanner_sees_every_form_of_import() {
    let code = production_code(
        "use crate::api::AppState; // crate::cli\n\
         use crate::{seed, config::Rate, auth::{Role, token}};\n\
         let x = crate::content::now();\n\
         crate::problem_responses!(E {});\n\
         #[cfg(test)]\nmod tests { use crate::startup; }\n\
         use crate::error::ApiError;",
    );
    let names: Vec<String> = named_modules(&code).into_iter().collect();
    assert_eq!(
        names,
        ["api", "auth", "config", "content", "error", "seed"].map(String::from)
    );
}
