//! The README's map of the code matches the tree: every path it names
//! exists, and every top-level module of the server and the app is named.

use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The fenced block under `## Map of the code`.
fn map_of_the_code(readme: &str) -> &str {
    let section = readme
        .split("## Map of the code")
        .nth(1)
        .expect("README has a map of the code");
    section
        .split("```")
        .nth(1)
        .expect("the map is a fenced block")
}

/// The paths the map names: a top-level entry (`server/`) at the start of a
/// line, and indented entries (`  src/startup.rs`) under the last one.
fn named_paths(map: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut parent = String::new();
    for line in map.lines() {
        let Some(first) = line.split_whitespace().next() else {
            continue;
        };
        if !line.starts_with(' ') {
            parent = first.trim_end_matches('/').to_owned();
            paths.push(first.to_owned());
        } else if line.starts_with("  ") && !line.starts_with("   ") {
            paths.push(format!("{parent}/{first}"));
        }
    }
    paths
}

fn entries(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .expect("read a source directory")
        .map(|entry| {
            entry
                .expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_path_the_map_names_exists() {
    let readme = std::fs::read_to_string(repository().join("README.md")).expect("read README");
    let paths = named_paths(map_of_the_code(&readme));
    assert!(paths.len() > 30, "read too few paths: {paths:?}");
    let missing: Vec<_> = paths
        .iter()
        .filter(|path| !repository().join(path.trim_end_matches('/')).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "the map names paths that do not exist: {missing:?}"
    );
}

#[test]
fn the_map_names_every_top_level_module() {
    let readme = std::fs::read_to_string(repository().join("README.md")).expect("read README");
    let paths = named_paths(map_of_the_code(&readme));
    for crate_directory in ["server", "app"] {
        let unnamed: Vec<_> = entries(&repository().join(crate_directory).join("src"))
            .into_iter()
            .filter(|entry| {
                let file = format!("{crate_directory}/src/{entry}");
                !paths.contains(&file) && !paths.contains(&format!("{file}/"))
            })
            .collect();
        assert!(
            unnamed.is_empty(),
            "{crate_directory}/src has entries the map leaves out: {unnamed:?}"
        );
    }
}

#[test]
fn paths_are_read_under_their_top_level_entry() {
    let map = "server/   the binary\n  src/lib.rs   the library\n                 more words\nREADME.md  this\n";
    assert_eq!(
        named_paths(map),
        ["server/", "server/src/lib.rs", "README.md"]
    );
}
