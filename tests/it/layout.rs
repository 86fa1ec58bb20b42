//! The tree's layout rules (DESIGN §2, issue "one house"), checked on every test run so they
//! stay true: files small enough to read in one sitting, no import cycles between sibling
//! modules, no public type name meaning two different things in two crates.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

use crate::repo_root;

/// Longest a hand-written source file may be (lines).
const MAX_LINES: usize = 700;

/// The library crates and where their sources are (the root package last).
const CRATES: [(&str, &str); 6] = [
    ("trestle-light-client", "light-client/src"),
    ("trestle-circuits", "circuits/src"),
    ("trestle-api", "api/src"),
    ("trestle-node", "node/src"),
    ("trestle-relayer", "relayer/src"),
    ("trestle", "src"),
];

/// Type names every actor module defines for itself (commonware style) and that are always
/// used qualified by their module (`signatures::Config`, `relayer::Metrics`).
const PER_MODULE_NAMES: [&str; 3] = ["Config", "ConfigError", "Metrics"];

/// Directories that hold no hand-written sources of ours.
const SKIPPED_DIRS: [&str; 7] =
    ["target", "node_modules", ".git", "lib", "out", "cache", "broadcast"];

fn sources(dir: &Path, extensions: &[&str], found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_str()) {
                sources(&path, extensions, found);
            }
        } else if extensions.iter().any(|ext| name.ends_with(ext)) {
            found.push(path);
        }
    }
}

#[test]
fn no_source_file_is_longer_than_a_sitting() {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in [
        "src",
        "tests",
        "benches",
        "light-client",
        "circuits",
        "api",
        "node",
        "relayer",
        "solidity/src",
        "solidity/test",
        "solidity/script",
    ] {
        sources(&root.join(dir), &[".rs", ".sol"], &mut files);
    }
    assert!(files.len() > 50, "the walk found only {} files", files.len());
    let long: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let lines = fs::read_to_string(path).ok()?.lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", path.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:#?}");
}

/// A module path inside a crate (`[]` is the crate root).
type ModulePath = Vec<String>;

/// The module a file defines: `src/a/b.rs` and `src/a/b/mod.rs` are `[a, b]`.
fn module_of(src: &Path, file: &Path) -> ModulePath {
    let relative = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> =
        relative.iter().map(|part| part.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if !matches!(stem, "mod" | "lib" | "main") {
        parts.push(stem.to_owned());
    }
    parts
}

/// The code of a file without comment lines and without its `#[cfg(test)]` modules (tests and
/// doc links may reach anywhere).
fn without_tests(text: &str) -> String {
    let mut kept = String::new();
    let mut lines = text.lines().filter(|line| !line.trim_start().starts_with("//"));
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            let mut next = lines.next().unwrap_or_default();
            if next.trim_start().starts_with("mod ") && next.trim_end().ends_with('{') {
                let indent = next.len() - next.trim_start().len();
                // Skip to the module's closing brace at the same indentation.
                loop {
                    match lines.next() {
                        Some(l) if l.len() - l.trim_start().len() == indent && l.trim() == "}" => {
                            break;
                        }
                        Some(_) => {}
                        None => break,
                    }
                }
                next = "";
            }
            kept.push_str(next);
            kept.push('\n');
            continue;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path written after `prefix` (`crate::` or `super::`), expanded through `{…}` groups to
/// its first segment(s): `crate::{a::X, b}` gives `[a, X]` and `[b]`.
fn paths_after(text: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| is_ident_char(c) || c == ':' || c == '$') && prefix == "crate::" {
            continue; // `$crate::` or `other_crate::`
        }
        if before.is_some_and(is_ident_char) {
            continue;
        }
        paths.extend(expand(rest));
    }
    paths
}

/// The paths at the start of `text` (after a `::`): one path, or a `{…}` group of them.
fn expand(text: &str) -> Vec<Vec<String>> {
    let mut segments = Vec::new();
    let mut rest = text;
    loop {
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut end = group.len();
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            let inner = &group[..end];
            let mut items = Vec::new();
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(&inner[start..i]);
                        start = i + 1;
                    }
                    _ => {}
                }
            }
            items.push(&inner[start..]);
            return items
                .into_iter()
                .flat_map(|item| expand(item.trim_start()))
                .map(|tail| segments.iter().cloned().chain(tail).collect())
                .collect();
        }
        let ident: String = rest.chars().take_while(|&c| is_ident_char(c)).collect();
        if ident.is_empty() {
            return if segments.is_empty() { Vec::new() } else { vec![segments] };
        }
        rest = &rest[ident.len()..];
        segments.push(ident);
        match rest.strip_prefix("::") {
            Some(tail) => rest = tail,
            None => return vec![segments],
        }
    }
}

/// Whether `path` names a module of the crate whose sources are in `src`.
fn is_module(src: &Path, path: &[String]) -> bool {
    let relative: PathBuf = path.iter().collect();
    !path.is_empty()
        && (src.join(&relative).with_extension("rs").is_file()
            || src.join(&relative).join("mod.rs").is_file())
}

/// Edges `a → b` between sibling modules: some file in `a` (outside tests) names a path in `b`.
fn sibling_edges(src: &Path) -> BTreeSet<(ModulePath, ModulePath)> {
    let mut files = Vec::new();
    sources(src, &[".rs"], &mut files);
    let mut edges = BTreeSet::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else { continue };
        let text = without_tests(&text);
        let module = module_of(src, &file);
        let mut targets = paths_after(&text, "crate::");
        // `super::` from `[a, b]` is `[a]`; repeated `super::super::` is rare and read once.
        let parent: Vec<String> =
            module.iter().take(module.len().saturating_sub(1)).cloned().collect();
        for tail in paths_after(&text, "super::") {
            targets.push(
                parent.iter().cloned().chain(tail.into_iter().filter(|s| s != "super")).collect(),
            );
        }
        for target in targets {
            let common = module.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common >= module.len() || common >= target.len() {
                continue; // an ancestor or a descendant: not a sibling
            }
            let from: ModulePath = module[..=common].to_vec();
            let to: ModulePath = target[..=common].to_vec();
            if is_module(src, &to) {
                edges.insert((from, to));
            }
        }
    }
    edges
}

/// One cycle in the graph, if any.
fn find_cycle(edges: &BTreeSet<(ModulePath, ModulePath)>) -> Option<Vec<ModulePath>> {
    let mut graph: BTreeMap<&ModulePath, Vec<&ModulePath>> = BTreeMap::new();
    for (from, to) in edges {
        graph.entry(from).or_default().push(to);
    }
    fn visit<'a>(
        node: &'a ModulePath,
        graph: &BTreeMap<&'a ModulePath, Vec<&'a ModulePath>>,
        stack: &mut Vec<&'a ModulePath>,
        done: &mut BTreeSet<&'a ModulePath>,
    ) -> Option<Vec<ModulePath>> {
        if let Some(at) = stack.iter().position(|n| *n == node) {
            return Some(stack[at..].iter().map(|n| (*n).clone()).collect());
        }
        if !done.insert(node) {
            return None;
        }
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn sibling_modules_do_not_import_each_other_in_a_cycle() {
    let mut cycles = Vec::new();
    let mut total = 0;
    for (name, dir) in CRATES {
        let edges = sibling_edges(&repo_root().join(dir));
        total += edges.len();
        if let Some(cycle) = find_cycle(&edges) {
            let shown: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
            cycles.push(format!("{name}: {}", shown.join(" → ")));
        }
    }
    assert!(total > 50, "the scan found only {total} edges between modules");
    assert!(cycles.is_empty(), "import cycles between sibling modules: {cycles:#?}");
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let path = |s: &str| vec![s.to_owned()];
    let mut edges = BTreeSet::from([(path("a"), path("b")), (path("b"), path("c"))]);
    assert_eq!(find_cycle(&edges), None);
    edges.insert((path("c"), path("a")));
    assert_eq!(find_cycle(&edges).map(|c| c.len()), Some(3));
    assert_eq!(
        paths_after("use crate::{Fr, error::{InputError, X}, gadgets::bits};", "crate::"),
        vec![
            vec!["Fr".to_owned()],
            vec!["error".to_owned(), "InputError".to_owned()],
            vec!["error".to_owned(), "X".to_owned()],
            vec!["gadgets".to_owned(), "bits".to_owned()],
        ]
    );
    assert!(paths_after("$crate::x and other_crate::y", "crate::").is_empty());
    let text = "a\n/// [`x`](crate::x)\n#[cfg(test)]\nmod tests {\n    use crate::b;\n}\nc\n";
    assert_eq!(without_tests(text), "a\n\nc\n");
}

/// `pub struct|enum|trait|type NAME` declared in the crate's sources (not `pub(crate)`).
fn public_types(src: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut files = Vec::new();
    sources(src, &[".rs"], &mut files);
    let mut names: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else { continue };
        for line in text.lines() {
            let line = line.trim_start();
            for keyword in ["pub struct ", "pub enum ", "pub trait ", "pub type "] {
                if let Some(rest) = line.strip_prefix(keyword) {
                    let name: String = rest.chars().take_while(|&c| is_ident_char(c)).collect();
                    names.entry(name).or_default().push(file.clone());
                }
            }
        }
    }
    names
}

#[test]
fn no_public_type_name_means_two_things_across_crates() {
    let mut owners: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (name, dir) in CRATES {
        for ty in public_types(&repo_root().join(dir)).into_keys() {
            owners.entry(ty).or_default().push(name);
        }
    }
    assert!(owners.len() > 100, "the scan found only {} public types", owners.len());
    let shared: Vec<String> = owners
        .iter()
        .filter(|(ty, crates)| crates.len() > 1 && !PER_MODULE_NAMES.contains(&ty.as_str()))
        .map(|(ty, crates)| format!("{ty}: {}", crates.join(", ")))
        .collect();
    assert!(shared.is_empty(), "public type names declared in more than one crate: {shared:#?}");
}

#[test]
fn the_validator_is_assembled_in_one_place() {
    // Every validator (process, simulated cluster, local network, benchmark) is built by
    // `trestle_node::Validator`, the one place that fills in the engine's configuration.
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches", "node", "relayer"] {
        sources(&root.join(dir), &[".rs"], &mut files);
    }
    let this_file = root.join("tests/it/layout.rs");
    let builders: Vec<String> = files
        .iter()
        .filter(|path| **path != this_file)
        .filter(|path| {
            fs::read_to_string(path).is_ok_and(|text| {
                let text = without_tests(&text);
                text.contains("EngineConfig {") || text.contains("engine::Config {")
            })
        })
        .map(|path| path.strip_prefix(root).unwrap_or(path).display().to_string())
        .collect();
    assert_eq!(builders, ["node/src/validator.rs"], "engine configurations built in {builders:?}");
}
