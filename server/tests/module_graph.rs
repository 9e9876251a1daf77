//! The top-level modules of the server and of the app depend on each other
//! in one direction only: no module reaches, through any chain of `crate::`
//! paths, back to itself. A circle means two modules that can only be
//! understood (and changed) together; this test names the paths that make
//! one.
//!
//! The graph is read from the source text: every `crate::a::...` path, and
//! every item of a `crate::{a, b::c}` group, is an edge from the file's
//! top-level module to `a`. Comments are left out, so doc links do not count.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// `from -> to -> the files that make the edge`.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

fn rust_files(directory: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(directory).expect("read the source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/broker/outbox.rs` is in
/// `broker`, `src/clock.rs` in `clock`; `lib.rs` and `main.rs` are the root.
fn top_level_module(source_root: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(source_root).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_owned())
}

fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(start) => &line[..start],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn identifier_at(text: &str) -> Option<&str> {
    let end = text
        .find(|character: char| !(character.is_alphanumeric() || character == '_'))
        .unwrap_or(text.len());
    (end > 0).then(|| &text[..end])
}

/// The first path segment of each item of the brace group `text` starts
/// with: `{a, b::{c, d}, e::f}` gives `a`, `b`, `e`.
fn group_heads(text: &str) -> Vec<&str> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = None;
    for (index, character) in text.char_indices() {
        match character {
            '{' => {
                depth += 1;
                if depth == 1 {
                    item_start = Some(index + 1);
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => item_start = Some(index + 1),
            _ => {}
        }
        if let Some(start) = item_start {
            if depth == 1 && index >= start && !character.is_whitespace() && character != ',' {
                if let Some(head) = identifier_at(&text[index..]) {
                    heads.push(head);
                }
                item_start = None;
            }
        }
    }
    heads
}

/// The top-level modules the code names through `crate::`.
fn crate_paths(code: &str) -> Vec<&str> {
    let mut named = Vec::new();
    for (start, _) in code.match_indices("crate::") {
        let before = code[..start].chars().next_back();
        if before.is_some_and(|character| character.is_alphanumeric() || character == '_') {
            continue; // `$crate::`, `other_crate::`
        }
        let rest = &code[start + "crate::".len()..];
        if rest.starts_with('{') {
            named.extend(group_heads(rest));
        } else if let Some(head) = identifier_at(rest) {
            named.push(head);
        }
    }
    named
}

fn module_graph(source_root: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(source_root, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .filter_map(|file| top_level_module(source_root, file))
        .collect();
    let mut graph = Graph::new();
    for file in &files {
        let Some(from) = top_level_module(source_root, file) else {
            continue;
        };
        let code = without_comments(&std::fs::read_to_string(file).expect("read a source file"));
        for to in crate_paths(&code) {
            if to != from && modules.contains(to) {
                graph
                    .entry(from.clone())
                    .or_default()
                    .entry(to.to_owned())
                    .or_default()
                    .insert(file.display().to_string());
            }
        }
    }
    graph
}

/// The strongly connected components with more than one module (Tarjan).
fn circles(graph: &Graph) -> Vec<Vec<String>> {
    struct Search<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Search<'g> {
        fn visit(&mut self, module: &'g str) {
            let number = self.index.len();
            self.index.insert(module, number);
            self.low.insert(module, number);
            self.stack.push(module);
            self.on_stack.insert(module);
            for next in self
                .graph
                .get(module)
                .into_iter()
                .flat_map(|edges| edges.keys())
            {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[module].min(self.low[next]);
                    self.low.insert(module, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[module].min(self.index[next]);
                    self.low.insert(module, low);
                }
            }
            if self.low[module] == self.index[module] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.push(member.to_owned());
                    if member == module {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut search = Search {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for module in graph.keys() {
        if !search.index.contains_key(module.as_str()) {
            search.visit(module);
        }
    }
    search.found
}

/// Each circle with the edges inside it and the files that make them.
fn describe(graph: &Graph, circles: &[Vec<String>]) -> String {
    let mut text = String::new();
    for circle in circles {
        text.push_str(&format!("circle: {}\n", circle.join(", ")));
        for from in circle {
            for (to, files) in graph.get(from).into_iter().flatten() {
                if circle.contains(to) {
                    let files: Vec<_> = files.iter().map(String::as_str).collect();
                    text.push_str(&format!("  {from} -> {to}: {}\n", files.join(", ")));
                }
            }
        }
    }
    text
}

fn assert_no_circles(source_root: &Path) {
    let graph = module_graph(source_root);
    assert!(graph.len() > 3, "read too few modules from {source_root:?}");
    let circles = circles(&graph);
    assert!(circles.is_empty(), "{}", describe(&graph, &circles));
}

#[test]
fn the_servers_modules_depend_on_each_other_one_way() {
    assert_no_circles(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
}

#[test]
fn the_apps_modules_depend_on_each_other_one_way() {
    assert_no_circles(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/src"));
}

#[test]
fn paths_and_groups_are_read_as_edges_and_a_circle_is_found() {
    let code = without_comments(
        "use crate::{alpha::A, beta::{B, C},\n gamma};\n// crate::delta\nlet x = crate::epsilon::f();",
    );
    assert_eq!(crate_paths(&code), ["alpha", "beta", "gamma", "epsilon"]);

    let mut graph = Graph::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        graph
            .entry(from.to_owned())
            .or_default()
            .entry(to.to_owned())
            .or_default()
            .insert(format!("src/{from}.rs"));
    }
    assert_eq!(circles(&graph), [vec!["a", "b", "c"]]);
    graph.get_mut("c").unwrap().remove("a");
    assert!(circles(&graph).is_empty());
}
